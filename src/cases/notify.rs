//! The email notices and webhook events a case change causes (DESIGN.md §7), queued in the
//! change's transaction.

use crate::cases::view::{explained_shop_in_tx, explanation};
use crate::db::cases::{self, CaseRow};
use crate::db::{DbError, Tx};
use crate::domain::case_state::{CaseState, NoticeEvent, PendingRemedy, Recipient};
use crate::domain::shop::Shop;
use crate::i18n::{Lang, format};
use crate::mail::{self, CaseNotice};

use super::MatchContext;

/// Facts that only some changes carry.
#[derive(Default)]
pub struct Extra {
    pub credit_date: Option<String>,
    pub credit_rrn: Option<String>,
    /// The words of the person acting: a reason, a question.
    pub reason: Option<String>,
    /// The desk approved a refund or reversal: the customer is told of the decision, not of
    /// the matcher's finding (which may say the merchant was asked).
    pub decided: bool,
}

/// Queues `events` for the case as it now stands; `occurrence` (the audit event's id) keeps a
/// repeated delivery of the same change from making a second notice.
pub async fn queue(
    tx: &mut Tx,
    ctx: &MatchContext<'_>,
    case_id: i64,
    events: &[NoticeEvent],
    occurrence: i64,
    extra: &Extra,
) -> Result<(), DbError> {
    let Some(case) = cases::get_in_tx(tx, case_id).await? else { return Ok(()) };
    let webhook_events: Vec<_> = events.iter().map(|n| n.event).collect();
    crate::webhooks::queue(tx, ctx.tz, &case, &webhook_events, occurrence).await?;
    let state = case.state;
    let shop = if events.is_empty() { None } else { explained_shop_in_tx(tx, &case).await? };
    for notice in events {
        for (email, lang) in recipients(tx, &case, notice.recipient).await? {
            let lang = lang.as_deref().and_then(Lang::parse).unwrap_or(Lang::ZhCn);
            let facts = facts(ctx, &case, shop.as_ref(), state, lang, extra);
            mail::queue_case(tx, notice.event, occurrence, &email, lang, &facts).await?;
        }
    }
    Ok(())
}

fn facts(
    ctx: &MatchContext<'_>,
    case: &CaseRow,
    shop: Option<&Shop>,
    state: CaseState,
    lang: Lang,
    extra: &Extra,
) -> CaseNotice {
    CaseNotice {
        case_url: mail::case_url(ctx.base_url, case.id),
        amount: Some(format::money(case.amount(), lang)),
        explanation: if extra.decided {
            Some(decision_words(case, lang, extra))
        } else {
            explanation(case, lang, ctx.tz, shop).map(|(_, text)| text)
        },
        decided: extra.decided,
        remedy: PendingRemedy::parse(case.remedy_kind.as_str()),
        remedy_amount: case.remedy_amount().map(|m| format::money(m, lang)),
        deadline: case.deadline_at.map(|t| format::unix_deadline(t, ctx.tz, lang)),
        credit_date: extra.credit_date.as_deref().map(|d| format::fact("credit_date", d, ctx.tz, lang)),
        credit_rrn: extra.credit_rrn.clone(),
        reason: extra.reason.clone(),
        ..CaseNotice::new(case.id, case.kind.as_str(), state)
    }
}

/// The desk's decision in words: what comes back to the card, then the desk's own reason.
fn decision_words(case: &CaseRow, lang: Lang, extra: &Extra) -> String {
    let remedy = match case.remedy_kind.as_str() {
        "reversal" => lang.t("email.remedy.reversal"),
        _ => lang.t("email.remedy.refund"),
    };
    let amount = case.remedy_amount().map(|m| format::money(m, lang)).unwrap_or_default();
    let mut text = lang.t_args("reading.email.decided.explain", &[("remedy", remedy.to_owned()), ("amount", amount)]);
    if let Some(reason) = extra.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        text.push_str("\n\n");
        text.push_str(reason);
    }
    text
}

/// Email addresses and languages for one kind of recipient.
async fn recipients(tx: &mut Tx, case: &CaseRow, who: Recipient) -> Result<Vec<(String, Option<String>)>, DbError> {
    Ok(match who {
        // An address nobody has confirmed gets only the link that confirms it (sent on filing).
        Recipient::Customer if case.email_confirmed_at.is_some() => {
            vec![(case.contact_email.clone(), Some(case.lang.clone()))]
        }
        Recipient::Customer => Vec::new(),
        Recipient::MerchantStaff => match &case.matched_merchant_id {
            Some(mid) => cases::merchant_staff_emails(tx, mid).await?,
            None => Vec::new(),
        },
        Recipient::Agents => cases::agent_emails(tx).await?,
    })
}
