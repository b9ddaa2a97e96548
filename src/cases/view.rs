//! How a case is shown: the JSON of DESIGN.md §9 and the plain-language explanation.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use serde_json::{Value, json};

use crate::db::cases::CaseRow;
use crate::domain::records::SettlementEntry;
use crate::i18n::Lang;

/// RFC 3339 in the offset the record was written with.
pub fn rfc3339(at: Timestamp, offset: Offset) -> String {
    at.to_zoned(TimeZone::fixed(offset)).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// The case as the API returns it (DESIGN.md §9).
pub fn case_json(case: &CaseRow, matched: &[SettlementEntry], tz: &TimeZone) -> Value {
    let remedy_amount = case.remedy_amount().map(|m| m.major_string());
    let deadline = case
        .deadline_at
        .and_then(|t| Timestamp::from_second(t).ok())
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string());
    json!({
        "id": case.id,
        "state": case.state.as_str(),
        "kind": case.kind.as_str(),
        "finding": case.finding.map(|f| f.as_str()),
        "remedy": {"kind": case.remedy_kind.as_str(), "amount": remedy_amount},
        "matched": matched.iter().map(|d| json!({
            "rrn": d.rrn,
            "merchant_id": d.merchant_id,
            "terminal_id": d.terminal_id,
            "trace_no": d.trace_no,
            "amount": d.amount.major_string(),
            "txn_time": rfc3339(d.txn_time, d.txn_offset),
        })).collect::<Vec<_>>(),
        "deadline": deadline,
    })
}

/// The finding's title and explanation in `lang`, from the facts captured when deciding. Times
/// (`*_time` facts) are written in the deployment's zone `tz`, the way `lang` writes them.
pub fn explanation(case: &CaseRow, lang: Lang, tz: &TimeZone) -> Option<(String, String)> {
    let finding = case.finding?.as_str();
    let args: Vec<(String, String)> = serde_json::from_str::<serde_json::Map<String, Value>>(&case.explanation_args)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            // Facts are kept in canonical form (RFC 3339, `954.82 CNY`); the reader gets §8's.
            let shown = crate::i18n::format::fact(&k, v.as_str().unwrap_or_default(), tz, lang);
            (k, shown)
        })
        .collect();
    let args: Vec<(&str, String)> = args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let key = match &case.review_reason {
        Some(reason) => format!("review.{}.explain", reason.as_str()),
        None => format!("finding.{finding}.explain"),
    };
    Some((lang.t_args(&format!("finding.{finding}.title"), &args), lang.t_args(&key, &args)))
}
