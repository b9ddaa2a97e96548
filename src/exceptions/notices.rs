//! The notices exceptions cause (DESIGN.md §7): `exceptions_found`, one digest per import (or
//! per periodic check) per merchant, to the merchant's staff and the desk; `terminal_alert`, one
//! per flagged terminal per day, to the merchant's staff. Queued in the detecting transaction.

use askama::Template;
use jiff::Timestamp;

use crate::cases::MatchContext;
use crate::db::cases::{agent_emails, merchant_staff_emails};
use crate::db::exceptions::{self as store, ExceptionRow};
use crate::db::{DbError, Tx};
use crate::domain::exceptions::{FlagReason, TerminalCounts, per_mille};
use crate::domain::money::{Currency, Money};
use crate::i18n::{Lang, format};
use crate::mail::{self, Rendered};

pub const EXCEPTIONS_FOUND: &str = "exceptions_found";
pub const TERMINAL_ALERT: &str = "terminal_alert";

/// One exception as a line of a digest.
pub struct Item {
    pub kind: String,
    pub amount: String,
    pub terminal_id: String,
    pub trace_no: String,
    pub time: String,
}

/// What the two notices' templates see.
pub struct View {
    pub lang: Lang,
    pub subject: String,
    pub link: String,
    pub action: String,
    pub intro: String,
    pub items: Vec<Item>,
    /// Facts as (label, value), already in words.
    pub facts: Vec<(String, String)>,
}

impl View {
    pub fn action_line(&self) -> String {
        self.lang.t_args("email.action_line", &[("action", self.action.clone())])
    }

    pub fn fact_line(&self, label: &str, value: &str) -> String {
        self.lang.t_args("email.fact.line", &[("label", label.to_owned()), ("value", value.to_owned())])
    }

    pub fn item_line(&self, i: &Item) -> String {
        self.lang.t_args(
            "exceptions.email.item",
            &[
                ("kind", i.kind.clone()),
                ("amount", i.amount.clone()),
                ("terminal", i.terminal_id.clone()),
                ("trace", i.trace_no.clone()),
                ("time", i.time.clone()),
            ],
        )
    }
}

#[derive(Template)]
#[template(path = "email/exceptions_found.txt")]
struct FoundText<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "email/exceptions_found.html")]
struct FoundHtml<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "email/terminal_alert.txt")]
struct AlertText<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "email/terminal_alert.html")]
struct AlertHtml<'a> {
    v: &'a View,
}

/// Keeps single blank lines between paragraphs and nothing at line ends (as the case notices do).
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        out.push_str(line);
    }
    out.push('\n');
    out
}

/// An exception's amount, in the reader's language.
pub fn amount(e: &ExceptionRow, lang: Lang) -> String {
    let currency = Currency::from_code(&e.stored.currency).unwrap_or(Currency::CNY);
    format::money(Money::new(e.stored.amount_minor, currency), lang)
}

pub fn item(e: &ExceptionRow, lang: Lang, tz: &jiff::tz::TimeZone) -> Item {
    Item {
        kind: lang.t(&format!("exceptions.kind.{}", e.kind.as_str())).to_owned(),
        amount: amount(e, lang),
        terminal_id: e.stored.terminal_id.clone(),
        trace_no: e.stored.trace_no.clone(),
        time: Timestamp::from_second(e.stored.txn_time).map(|t| lang.datetime(t, tz)).unwrap_or_default(),
    }
}

/// Renders the `exceptions_found` digest of `found` (one merchant's) for a reader at `link`.
pub fn render_found(
    lang: Lang,
    tz: &jiff::tz::TimeZone,
    merchant_id: &str,
    found: &[ExceptionRow],
    link: String,
) -> Rendered {
    let n = found.len().to_string();
    let v = View {
        lang,
        subject: lang
            .t_args("exceptions.email.found.subject", &[("n", n.clone()), ("merchant", merchant_id.to_owned())]),
        link,
        action: lang.t("exceptions.email.found.action").to_owned(),
        intro: lang.t_args("exceptions.email.found.intro", &[("n", n), ("merchant", merchant_id.to_owned())]),
        items: found.iter().map(|e| item(e, lang, tz)).collect(),
        facts: Vec::new(),
    };
    let text = FoundText { v: &v }.render().expect("the exception templates only print strings");
    let html = FoundHtml { v: &v }.render().expect("the exception templates only print strings");
    Rendered { subject: v.subject.clone(), text: tidy(&text), html }
}

/// Queues one digest per merchant among `new_ids`, to its staff and to the desk.
/// `occasion` (the import, or the check) makes the notice key unique per occasion.
pub async fn exceptions_found(
    tx: &mut Tx,
    ctx: &MatchContext<'_>,
    new_ids: &[i64],
    occasion: &str,
) -> Result<(), DbError> {
    if new_ids.is_empty() {
        return Ok(());
    }
    let rows = store::by_ids(tx, new_ids).await?;
    let mut merchants: Vec<&str> = rows.iter().map(|e| e.stored.merchant_id.as_str()).collect();
    merchants.sort_unstable();
    merchants.dedup();
    let agents = agent_emails(tx).await?;
    for merchant in merchants {
        let found: Vec<ExceptionRow> = rows.iter().filter(|e| e.stored.merchant_id == merchant).cloned().collect();
        let staff = merchant_staff_emails(tx, merchant).await?;
        let readers =
            staff.iter().map(|r| (r, "/merchant/exceptions")).chain(agents.iter().map(|r| (r, "/agent/exceptions")));
        for ((email, lang), path) in readers {
            let lang = lang.as_deref().and_then(Lang::parse).unwrap_or(Lang::ZhCn);
            let link = ctx.base_url.join(path).map(|u| u.to_string()).unwrap_or_default();
            let rendered = render_found(lang, ctx.tz, merchant, &found, link);
            let key = format!("{EXCEPTIONS_FOUND}:{occasion}:{merchant}:{}", email.trim().to_lowercase());
            mail::queue(tx, &key, EXCEPTIONS_FOUND, email, lang, None, &rendered).await?;
        }
    }
    Ok(())
}

/// Renders a `terminal_alert`.
pub fn render_alert(
    lang: Lang,
    terminal_id: &str,
    reasons: &[FlagReason],
    day: &TerminalCounts,
    claims: i64,
    link: String,
) -> Rendered {
    let rate = per_mille(day.no_response, day.transactions);
    let v = View {
        lang,
        subject: lang.t_args("exceptions.email.alert.subject", &[("terminal", terminal_id.to_owned())]),
        link,
        action: lang.t("exceptions.email.alert.action").to_owned(),
        intro: lang.t_args("exceptions.email.alert.intro", &[("terminal", terminal_id.to_owned())]),
        items: Vec::new(),
        facts: reasons
            .iter()
            .map(|r| {
                let args = [
                    ("printer", (day.paper_out + day.printer_fault).to_string()),
                    ("rate", format!("{}.{}", rate / 10, rate % 10)),
                    ("transactions", day.transactions.to_string()),
                    ("claims", claims.to_string()),
                ];
                (
                    lang.t(&format!("health.reason.{}", r.as_str())).to_owned(),
                    lang.t_args(&format!("health.reason.{}.detail", r.as_str()), &args),
                )
            })
            .collect(),
    };
    let text = AlertText { v: &v }.render().expect("the exception templates only print strings");
    let html = AlertHtml { v: &v }.render().expect("the exception templates only print strings");
    Rendered { subject: v.subject.clone(), text: tidy(&text), html }
}

/// Queues the day's `terminal_alert` for the merchant's staff.
#[allow(clippy::too_many_arguments)]
pub async fn terminal_alert(
    tx: &mut Tx,
    ctx: &MatchContext<'_>,
    merchant_id: &str,
    terminal_id: &str,
    date: &str,
    reasons: &[FlagReason],
    day: &TerminalCounts,
    claims: i64,
) -> Result<(), DbError> {
    let path = format!("/merchant/terminals/{terminal_id}?merchant={merchant_id}");
    let link = ctx.base_url.join(&path).map(|u| u.to_string()).unwrap_or_default();
    for (email, lang) in merchant_staff_emails(tx, merchant_id).await? {
        let lang = lang.as_deref().and_then(Lang::parse).unwrap_or(Lang::ZhCn);
        let rendered = render_alert(lang, terminal_id, reasons, day, claims, link.clone());
        let key = format!("{TERMINAL_ALERT}:{merchant_id}:{terminal_id}:{date}:{}", email.trim().to_lowercase());
        mail::queue(tx, &key, TERMINAL_ALERT, &email, lang, None, &rendered).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::exceptions::StoredException;
    use crate::domain::exceptions::{ExceptionKind, ExceptionState};

    fn orphan() -> ExceptionRow {
        ExceptionRow {
            kind: ExceptionKind::OrphanDebit,
            state: ExceptionState::Open,
            stored: StoredException {
                id: 7,
                kind: "orphan_debit".into(),
                state: "open".into(),
                merchant_id: "806276126745394".into(),
                terminal_id: "27161971".into(),
                trace_no: "000101".into(),
                rrn: Some("000004267530".into()),
                amount_minor: 95482,
                currency: "CNY".into(),
                other_minor: None,
                txn_time: 1_794_800_000,
                settlement_id: Some(1),
                journal_id: None,
                found_at: 1_794_900_000,
                import_id: Some(3),
                case_id: None,
                linked_at: None,
                closed_at: None,
                closed_by: None,
                reason: None,
            },
        }
    }

    #[test]
    fn the_digest_lists_each_exception_with_amount_and_terminal_in_both_languages() {
        let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        for lang in Lang::ALL {
            let r =
                render_found(lang, &tz, "806276126745394", &[orphan()], "https://r.example/merchant/exceptions".into());
            assert!(r.subject.contains("806276126745394"), "{}", r.subject);
            for fact in ["27161971", "000101", "954.82", "https://r.example/merchant/exceptions"] {
                assert!(r.text.contains(fact), "{lang:?} text lacks {fact}:\n{}", r.text);
                assert!(r.html.contains(fact), "{lang:?} html lacks {fact}");
            }
            assert!(r.text.contains(lang.t("exceptions.kind.orphan_debit")));
            assert!(!r.text.contains("orphan_debit"), "codes never reach a person");
        }
    }

    #[test]
    fn the_alert_says_why_the_terminal_was_flagged() {
        let day =
            TerminalCounts { transactions: 60, no_response: 3, paper_out: 2, printer_fault: 1, ..Default::default() };
        for lang in Lang::ALL {
            let r = render_alert(
                lang,
                "27161971",
                &[FlagReason::Printer, FlagReason::NoResponse],
                &day,
                0,
                "https://r.example/t".into(),
            );
            assert!(r.subject.contains("27161971"));
            assert!(r.text.contains("5.0"), "the no-response rate: {}", r.text);
            assert!(r.text.contains(lang.t("health.reason.printer")));
            assert!(r.html.contains("https://r.example/t"));
        }
    }
}
