//! Email notices (DESIGN §7): what each event says, rendered in the recipient's language, queued
//! in the outbox in the caller's transaction, and delivered later by [`sender`].
//!
//! # Sending a case notice
//!
//! A case transition already knows which notices it causes
//! ([`crate::domain::case_state::notices`] gives `(event, recipient role)` pairs). For every
//! person those resolve to, inside the transition's database transaction:
//!
//! ```ignore
//! let notice = CaseNotice {
//!     case_url: mail::case_url(&state.config.base_url, case.id),
//!     explanation: Some(finding_text_in(lang)),       // already in the recipient's language
//!     amount: Some(format_amount(case.amount, lang)),
//!     ..CaseNotice::new(case.id, case.kind.as_str(), new_state)
//! };
//! mail::queue_case(&mut tx, n.event, audit_event_id, &person.email, person.lang, &notice).await?;
//! ```
//!
//! [`queue_case`] renders the notice and writes it to the outbox under a key made of the event,
//! the case, the audit event that caused it and the recipient, so running the same transition
//! twice (a retry after a lost response) never queues a second email. Rendering happens at
//! queue time: the outbox holds exactly what will be sent, and `/admin/outbox` shows it.
//!
//! [`render`] alone gives subject, text and HTML without queueing (previews, tests).

use askama::Template;
use url::Url;

use crate::db::outbox::{self, NewNotice};
use crate::db::{DbError, Tx};
use crate::domain::case_state::{CaseState, PendingRemedy};
use crate::i18n::Lang;

pub mod sender;
pub mod smtp;
mod templates;

/// The case events of §7, as the state machine names them.
pub use crate::domain::case_state::Event;

/// Every event name a notice in the outbox can carry: the nine case events and the two
/// account events. The name is also the template's file name under `templates/email/`
/// (`claim_received` has a second set, `claim_received_link`, for [`claim_link`]).
pub const EVENT_NAMES: [&str; 11] = [
    "claim_received",
    "finding",
    "merchant_action_required",
    "customer_action_required",
    "remedy_executed",
    "money_arrived",
    "case_resolved",
    "case_rejected",
    "deadline_missed",
    VERIFY_EMAIL,
    PASSWORD_RESET,
];

pub const VERIFY_EMAIL: &str = "verify_email";
pub const PASSWORD_RESET: &str = "password_reset";

/// A notice ready to send: subject, plain text and HTML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What a case notice says, for one recipient language.
///
/// Codes (`kind`, `state`, `remedy`) are translated by the templates; the free texts are
/// passed already written in the recipient's language, because only the caller knows how to
/// word a finding or format money and dates (DESIGN §8). Fill in what the event needs; the
/// templates leave out any fact that is `None`:
///
/// | event | uses |
/// |---|---|
/// | `claim_received` | `kind`, `amount` |
/// | `finding` | `explanation` (the plain-language finding), `state`, `amount`, `deadline`, `remedy_amount` |
/// | `merchant_action_required` | `explanation`, `remedy` + `remedy_amount` (or none: records are missing), `deadline` |
/// | `customer_action_required` | `reason` (what is asked), `deadline` |
/// | `remedy_executed` | `remedy`, `remedy_amount` |
/// | `money_arrived` | `remedy_amount` (the credited sum), `credit_date`, `credit_rrn` |
/// | `case_resolved` | `explanation` and/or `reason`, `amount` |
/// | `case_rejected` | `reason` |
/// | `deadline_missed` | `reason` (which deadline), `state`, `deadline` |
///
/// Merchants receive notices built from the same struct: it must carry nothing that names the
/// customer (DESIGN §1). Where `remedy_amount` is `None`, `amount` stands in for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseNotice {
    pub case_id: i64,
    /// Absolute link to the case: [`case_url`].
    pub case_url: String,
    /// The claim kind code of DESIGN §4: `no_receipt`, `duplicate_charge`, `wrong_amount`,
    /// `refund_not_received`.
    pub kind: String,
    /// The case's state after the change that causes the notice.
    pub state: CaseState,
    /// The disputed debit, formatted for the language (e.g. `¥128.50`).
    pub amount: Option<String>,
    /// The plain-language explanation of the finding; blank lines separate paragraphs.
    pub explanation: Option<String>,
    pub remedy: Option<PendingRemedy>,
    /// The sum the remedy returns, formatted.
    pub remedy_amount: Option<String>,
    /// When the awaited action is due, formatted (date and time in the deployment's zone).
    pub deadline: Option<String>,
    /// Words of a person or the system: the agent's reason or question, the missed deadline.
    pub reason: Option<String>,
    /// When the credit was settled (`settled_on`), formatted.
    pub credit_date: Option<String>,
    /// The RRN of the settlement credit, so the customer can find it on a statement.
    pub credit_rrn: Option<String>,
    /// A person at the desk decided (a `finding` notice after an approval), not the matcher:
    /// the email says so instead of "what we found" (issue 15 item 4).
    pub decided: bool,
}

impl CaseNotice {
    /// A notice with only the required facts; add the rest with struct update syntax.
    pub fn new(case_id: i64, kind: &str, state: CaseState) -> CaseNotice {
        CaseNotice {
            case_id,
            case_url: String::new(),
            kind: kind.to_owned(),
            state,
            amount: None,
            explanation: None,
            remedy: None,
            remedy_amount: None,
            deadline: None,
            reason: None,
            credit_date: None,
            credit_rrn: None,
            decided: false,
        }
    }
}

/// The link to a case in emails: `{REDRESS_BASE_URL}/cases/{id}`. The web layer sends each
/// role from there to its own view of the case.
pub fn case_url(base_url: &Url, case_id: i64) -> String {
    format!("{}/cases/{case_id}", base_url.as_str().trim_end_matches('/'))
}

/// Subject, text and HTML of a case event's notice in `lang`.
pub fn render(event: Event, lang: Lang, notice: &CaseNotice) -> Rendered {
    let view = templates::CaseView::new(lang, event, notice);
    let (text, html) = templates::case_bodies(event, &view).expect("case templates only print strings");
    Rendered { subject: view.subject, text: templates::tidy_text(&text), html }
}

/// The email that confirms a new account's address; `link` is the one-time confirmation URL.
pub fn verify_email(lang: Lang, link: &str) -> Rendered {
    let v = templates::AccountView {
        lang,
        subject: lang.t("email.verify_email.subject").to_owned(),
        link,
        action: lang.t("email.verify_email.action").to_owned(),
    };
    let text = templates::VerifyEmailText { v: &v }.render().expect("account templates only print strings");
    let html = templates::VerifyEmailHtml { v: &v }.render().expect("account templates only print strings");
    Rendered { subject: v.subject, text: templates::tidy_text(&text), html }
}

/// The email with a one-time link to choose a new password.
pub fn password_reset(lang: Lang, link: &str) -> Rendered {
    let v = templates::AccountView {
        lang,
        subject: lang.t("email.password_reset.subject").to_owned(),
        link,
        action: lang.t("email.password_reset.action").to_owned(),
    };
    let text = templates::PasswordResetText { v: &v }.render().expect("account templates only print strings");
    let html = templates::PasswordResetHtml { v: &v }.render().expect("account templates only print strings");
    Rendered { subject: v.subject, text: templates::tidy_text(&text), html }
}

/// `claim_received` for a claim filed without an account: the link that proves the address
/// and opens the case.
pub fn claim_link(lang: Lang, case_id: i64, link: &str) -> Rendered {
    let case = templates::case_number(lang, case_id);
    let v = templates::ClaimLinkView {
        lang,
        subject: lang.t_args("email.claim_received.link_subject", &[("case", case.clone())]),
        link,
        action: lang.t("email.claim_received.link_action").to_owned(),
        case,
    };
    let text = templates::ClaimLinkText { v: &v }.render().expect("the claim link templates only print strings");
    let html = templates::ClaimLinkHtml { v: &v }.render().expect("the claim link templates only print strings");
    Rendered { subject: v.subject, text: templates::tidy_text(&text), html }
}

/// Queues `rendered` for `recipient` in the caller's transaction. `notice_key` must be unique
/// per occurrence of the event and recipient: a second notice with the same key is dropped
/// (returns `false`), which is what makes a repeated transition send nothing twice.
pub async fn queue(
    tx: &mut Tx,
    notice_key: &str,
    event: &str,
    recipient: &str,
    lang: Lang,
    case_id: Option<i64>,
    rendered: &Rendered,
) -> Result<bool, DbError> {
    outbox::enqueue(
        tx,
        &NewNotice {
            notice_key,
            event,
            recipient,
            lang: lang.code(),
            case_id,
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: &rendered.html,
        },
    )
    .await
}

/// Renders a case notice and queues it in the caller's transaction, keyed by
/// [`case_notice_key`]. `occurrence` identifies what caused it (the audit event's id).
pub async fn queue_case(
    tx: &mut Tx,
    event: Event,
    occurrence: i64,
    recipient: &str,
    lang: Lang,
    notice: &CaseNotice,
) -> Result<bool, DbError> {
    let key = case_notice_key(event, notice.case_id, occurrence, recipient);
    let rendered = render(event, lang, notice);
    queue(tx, &key, event.as_str(), recipient, lang, Some(notice.case_id), &rendered).await
}

/// `event:case:occurrence:recipient`, the recipient compared without case.
pub fn case_notice_key(event: Event, case_id: i64, occurrence: i64, recipient: &str) -> String {
    format!("{}:{case_id}:{occurrence}:{}", event.as_str(), recipient.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_notice() -> CaseNotice {
        CaseNotice {
            case_url: "https://redress.example/cases/42".into(),
            amount: Some("¥128.50".into()),
            explanation: Some("The terminal got no answer from the bank.\n\nSo the sale is to be reversed.".into()),
            remedy: Some(PendingRemedy::Reversal),
            remedy_amount: Some("¥128.50".into()),
            deadline: Some("2026-12-01 18:00".into()),
            reason: Some("Please send <b>the SMS</b> from your bank.".into()),
            credit_date: Some("2026-12-03".into()),
            credit_rrn: Some("123456789012".into()),
            ..CaseNotice::new(42, "no_receipt", CaseState::ReversalPending)
        }
    }

    #[test]
    fn account_notices_render_in_both_languages_with_the_link_escaped_in_html() {
        let link = "https://redress.example/verify-email?token=a&b";
        let en = verify_email(Lang::En, link);
        assert!(en.text.contains(link));
        assert!(en.html.contains("https://redress.example/verify-email?token=a&#38;b"));
        assert!(en.html.contains(r#"lang="en""#));
        let zh = verify_email(Lang::ZhCn, link);
        assert_ne!(zh.subject, en.subject);
        assert!(zh.html.contains(r#"lang="zh-CN""#));
        let reset = password_reset(Lang::En, link);
        assert_eq!(reset.subject, "Reset your Redress password");
        assert!(reset.text.contains("Choose a new password:\nhttps://redress.example/verify-email?token=a&b"));
    }

    #[test]
    fn every_case_event_names_the_case_links_to_it_and_differs_per_language() {
        let notice = full_notice();
        for event in Event::ALL {
            let en = render(event, Lang::En, &notice);
            let zh = render(event, Lang::ZhCn, &notice);
            for (lang, r) in [("en", &en), ("zh-CN", &zh)] {
                assert!(r.subject.contains("#42"), "{event:?} {lang}: {}", r.subject);
                assert!(r.text.contains("#42") && r.html.contains("#42"), "{event:?} {lang}");
                assert!(r.text.contains("https://redress.example/cases/42"), "{event:?} {lang}:\n{}", r.text);
                assert!(r.html.contains(r#"href="https://redress.example/cases/42""#), "{event:?} {lang}");
                assert!(r.html.contains(&format!(r#"<html lang="{lang}">"#)), "{event:?} {lang}");
                assert!(!r.text.contains("⟨missing text⟩") && !r.html.contains("⟨missing text⟩"), "{event:?} {lang}");
                assert!(!r.text.contains('{') && !r.subject.contains('{'), "unfilled placeholder: {event:?} {lang}");
                assert!(!r.text.contains("\n\n\n") && !r.text.contains(" \n"), "{event:?} {lang}:\n{}", r.text);
            }
            assert_ne!(en.subject, zh.subject, "{event:?}");
            assert!(zh.subject.contains("案件"), "{event:?}: {}", zh.subject);
        }
    }

    #[test]
    fn events_show_their_own_facts() {
        let n = full_notice();
        let finding = render(Event::Finding, Lang::En, &n);
        assert!(finding.text.contains("The terminal got no answer from the bank.\n\nSo the sale"), "{}", finding.text);
        let state = Lang::En.t("state.reversal_pending");
        assert!(finding.text.contains(&format!("Status: {state}")), "{}", finding.text);
        assert!(finding.text.contains("Deadline: 2026-12-01 18:00"), "{}", finding.text);
        let arrived = render(Event::MoneyArrived, Lang::ZhCn, &n);
        assert!(arrived.text.contains("参考号（RRN）：123456789012"), "{}", arrived.text);
        assert!(arrived.text.contains("2026-12-03"));
        let executed = render(Event::RemedyExecuted, Lang::En, &n);
        assert_eq!(executed.subject, "Case #42: the reversal has been made");
        let asked = render(Event::CustomerActionRequired, Lang::En, &n);
        // A person's words are escaped in HTML and kept verbatim in text.
        assert!(asked.html.contains("&#60;b&#62;the SMS&#60;/b&#62;"), "{}", asked.html);
        assert!(asked.text.contains("Please send <b>the SMS</b>"));
        assert!(asked.text.contains("2026-12-01 18:00"));
    }

    #[test]
    fn missing_facts_are_left_out_not_printed_empty() {
        let bare = CaseNotice {
            case_url: "https://redress.example/cases/7".into(),
            ..CaseNotice::new(7, "duplicate_charge", CaseState::AwaitingMerchant)
        };
        for event in Event::ALL {
            let r = render(event, Lang::En, &bare);
            assert!(!r.text.contains("Deadline:"), "{event:?}:\n{}", r.text);
            assert!(!r.text.contains("Reference number"), "{event:?}");
            assert!(!r.text.lines().any(|l| l.trim_end().ends_with(':') && l.starts_with("Amount")), "{event:?}");
        }
        let merchant = render(Event::MerchantActionRequired, Lang::En, &bare);
        assert!(merchant.text.contains("upload the terminal journal"), "{}", merchant.text);
        assert!(merchant.text.contains("Claim: Charged twice"), "{}", merchant.text);
    }

    #[test]
    fn a_claim_filed_without_an_account_gets_its_link_in_both_languages() {
        let link = "https://redress.example/claims/confirm?token=abc";
        let en = claim_link(Lang::En, 42, link);
        assert_eq!(en.subject, "Case #42: confirm your email to see what we found");
        assert!(en.text.contains("See my case:\nhttps://redress.example/claims/confirm?token=abc"), "{}", en.text);
        assert!(en.html.contains(r#"href="https://redress.example/claims/confirm?token=abc""#));
        let zh = claim_link(Lang::ZhCn, 42, link);
        assert!(zh.subject.contains("#42") && zh.html.contains(r#"lang="zh-CN""#), "{}", zh.subject);
        assert!(zh.text.contains("7 天后失效"), "{}", zh.text);
    }

    #[test]
    fn case_keys_and_links() {
        let base = Url::parse("https://disputes.example.cn/").unwrap();
        assert_eq!(case_url(&base, 9), "https://disputes.example.cn/cases/9");
        assert_eq!(case_notice_key(Event::Finding, 9, 31, " Ann@Example.com"), "finding:9:31:ann@example.com");
        let names: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(&EVENT_NAMES[..9], names.as_slice());
    }

    #[test]
    fn every_event_has_both_template_files() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/email");
        for name in EVENT_NAMES {
            for ext in ["txt", "html"] {
                assert!(dir.join(format!("{name}.{ext}")).is_file(), "templates/email/{name}.{ext} is missing");
            }
        }
    }
}
