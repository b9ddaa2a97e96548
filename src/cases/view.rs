//! How a case is shown: the JSON of DESIGN.md §9 and the plain-language explanation.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use serde_json::Value;

use crate::db::cases::CaseRow;
use crate::db::{Db, DbError, Tx};
use crate::domain::records::SettlementEntry;
use crate::domain::shop::Shop;
use crate::i18n::Lang;

/// RFC 3339 in the offset the record was written with.
pub fn rfc3339(at: Timestamp, offset: Offset) -> String {
    at.to_zoned(TimeZone::fixed(offset)).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The case as the API returns it (DESIGN.md §9), typed so that the OpenAPI document is
/// generated from the very struct that is serialised.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CaseJson {
    pub id: i64,
    /// The case state (`submitted`, `awaiting_merchant`, `refund_pending`, `resolved`, …).
    pub state: String,
    /// The claim kind (`no_receipt`, `duplicate_charge`, `wrong_amount`, `refund_not_received`).
    pub kind: String,
    /// The finding code, once matched.
    pub finding: Option<String>,
    pub remedy: RemedyJson,
    /// The settlement debits the finding rests on.
    pub matched: Vec<MatchedJson>,
    /// When the party the case waits for must act (RFC 3339, the deployment's zone).
    pub deadline: Option<String>,
    /// The customer's address: for the desk and the bank channel that filed the case, never for
    /// merchant staff (DESIGN.md §1). Only the case list carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RemedyJson {
    /// `refund`, `reversal`, `receipt` or `none`.
    pub kind: String,
    /// Decimal string in major units (`"128.50"`); `null` where there is no sum to pay back.
    pub amount: Option<String>,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct MatchedJson {
    pub rrn: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub trace_no: String,
    /// Decimal string in major units.
    pub amount: String,
    /// RFC 3339 with the offset the record was written with.
    pub txn_time: String,
}

/// The case as the API returns it (DESIGN.md §9).
pub fn case_view(case: &CaseRow, matched: &[SettlementEntry], tz: &TimeZone) -> CaseJson {
    let deadline = case
        .deadline_at
        .and_then(|t| Timestamp::from_second(t).ok())
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string());
    CaseJson {
        id: case.id,
        state: case.state.as_str().to_owned(),
        kind: case.kind.as_str().to_owned(),
        finding: case.finding.map(|f| f.as_str().to_owned()),
        remedy: RemedyJson {
            kind: case.remedy_kind.as_str().to_owned(),
            amount: case.remedy_amount().map(|m| m.major_string()),
        },
        matched: matched
            .iter()
            .map(|d| MatchedJson {
                rrn: d.rrn.to_string(),
                merchant_id: d.merchant_id.to_string(),
                terminal_id: d.terminal_id.to_string(),
                trace_no: d.trace_no.to_string(),
                amount: d.amount.major_string(),
                txn_time: rfc3339(d.txn_time, d.txn_offset),
            })
            .collect(),
        deadline,
        contact_email: None,
    }
}

/// [`case_view`] as a JSON value.
pub fn case_json(case: &CaseRow, matched: &[SettlementEntry], tz: &TimeZone) -> Value {
    serde_json::to_value(case_view(case, matched, tz)).expect("a case serialises")
}

/// The facts kept with the case's finding, as stored.
fn facts(case: &CaseRow) -> serde_json::Map<String, Value> {
    serde_json::from_str(&case.explanation_args).unwrap_or_default()
}

/// The merchant id and terminal id of the debit the explanation is about, if it names one.
fn explained_terminal(case: &CaseRow) -> Option<(String, String)> {
    let facts = facts(case);
    let fact = |k: &str| facts.get(k).and_then(Value::as_str).map(str::to_owned);
    Some((fact("merchant_id")?, fact("terminal_id")?))
}

/// The shop the explanation names (issue 15: people know a shop by its name, not its ids).
pub async fn explained_shop(db: &Db, case: &CaseRow) -> Result<Option<Shop>, DbError> {
    match explained_terminal(case) {
        Some((merchant, terminal)) => Ok(Some(crate::db::merchants::shop(db, &merchant, &terminal).await?)),
        None => Ok(None),
    }
}

/// [`explained_shop`] inside the transaction that queues a notice.
pub async fn explained_shop_in_tx(tx: &mut Tx, case: &CaseRow) -> Result<Option<Shop>, DbError> {
    match explained_terminal(case) {
        Some((merchant, terminal)) => Ok(Some(crate::db::merchants::shop_in_tx(tx, &merchant, &terminal).await?)),
        None => Ok(None),
    }
}

/// The finding's title and explanation in `lang`, from the facts captured when deciding. Times
/// (`*_time` facts) are written in the deployment's zone `tz`, the way `lang` writes them; the
/// shop ([`explained_shop`]) fills `{shop}`, by its merchant id when it was not looked up.
pub fn explanation(case: &CaseRow, lang: Lang, tz: &TimeZone, shop: Option<&Shop>) -> Option<(String, String)> {
    let finding = case.finding?.as_str();
    let facts = facts(case);
    let named = match (shop, facts.get("merchant_id").and_then(Value::as_str)) {
        (Some(shop), _) => Some(crate::i18n::format::shop(shop, lang)),
        (None, Some(merchant)) => Some(crate::i18n::format::shop(&Shop::unregistered(merchant), lang)),
        (None, None) => None,
    };
    let args: Vec<(String, String)> = facts
        .into_iter()
        .map(|(k, v)| {
            // Facts are kept in canonical form (RFC 3339, `954.82 CNY`); the reader gets §8's.
            let shown = crate::i18n::format::fact(&k, v.as_str().unwrap_or_default(), tz, lang);
            (k, shown)
        })
        .chain(named.map(|n| (crate::domain::finding::SHOP_FACT.to_owned(), n)))
        .collect();
    let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let key = match &case.review_reason {
        Some(reason) => format!("review.{}.explain", reason.as_str()),
        None => format!("finding.{finding}.explain"),
    };
    Some((lang.t_args(&format!("finding.{finding}.title"), &args), lang.t_args(&key, &args)))
}
