//! `GET /api/v1/cases` (DESIGN.md §9): the cases a token may see, newest first, a page at a time.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::ApiPrincipal;
use crate::cases::view::{self, CaseJson};
use crate::db::case_list::{self, Filters, Scope};
use crate::db::cases as case_db;
use crate::domain::case_state::CaseState;
use crate::domain::claim::ClaimKind;
use crate::domain::finding::Finding;
use crate::domain::role::Role;
use crate::web::{AppError, AppState};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

/// The query string. Everything is text here and checked below, so a bad value gets the API's
/// own error rather than the extractor's.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only cases in this state (`submitted`, `awaiting_merchant`, `resolved`, …).
    state: Option<String>,
    /// Only claims of this kind (`no_receipt`, `duplicate_charge`, `wrong_amount`, `refund_not_received`).
    kind: Option<String>,
    /// Only cases with this finding (`reversal_due`, `duplicate_confirmed`, …).
    finding: Option<String>,
    /// Only cases resting on this merchant's records.
    merchant_id: Option<String>,
    /// Only cases changed at or after this instant (RFC 3339).
    updated_since: Option<String>,
    /// Cases per page, 1–200 (default 50).
    limit: Option<String>,
    /// The `next` of the previous page.
    cursor: Option<String>,
}

/// One page of cases, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CaseList {
    cases: Vec<CaseJson>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    next: Option<String>,
}

fn bad_filter(field: &str) -> AppError {
    AppError::new(StatusCode::BAD_REQUEST, "invalid_filter", "error.api.filter")
        .with_args(vec![("field", field.to_owned())])
}

/// A cursor is the last id shown, opaque to callers so the keyset can change.
pub(super) fn encode_cursor(id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("c{id}"))
}

pub(super) fn decode_cursor(text: &str) -> Option<i64> {
    let raw = URL_SAFE_NO_PAD.decode(text).ok()?;
    let digits = std::str::from_utf8(&raw).ok()?.strip_prefix('c')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

/// Checks each given filter against the codes it may hold.
fn filters(q: &ListQuery) -> Result<(Filters, i64), AppError> {
    let code = |value: &Option<String>, field: &str, known: fn(&str) -> bool| match value.as_deref() {
        None | Some("") => Ok(None),
        Some(v) if known(v) => Ok(Some(v.to_owned())),
        Some(_) => Err(bad_filter(field)),
    };
    let merchant_id = match q.merchant_id.as_deref() {
        None | Some("") => None,
        Some(m) if (1..=15).contains(&m.len()) && m.bytes().all(|b| b.is_ascii_alphanumeric()) => Some(m.to_owned()),
        Some(_) => return Err(bad_filter("merchant_id")),
    };
    let updated_since = match q.updated_since.as_deref() {
        None | Some("") => None,
        Some(t) => Some(t.parse::<jiff::Timestamp>().map_err(|_| bad_filter("updated_since"))?.as_second()),
    };
    let limit = match q.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n) && !l.starts_with('+'))
            .ok_or_else(|| AppError::new(StatusCode::BAD_REQUEST, "invalid_limit", "error.api.limit"))?,
    };
    let before_id = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            decode_cursor(c)
                .ok_or_else(|| AppError::new(StatusCode::BAD_REQUEST, "invalid_cursor", "error.api.cursor"))?,
        ),
    };
    let f = Filters {
        state: code(&q.state, "state", |v| CaseState::parse(v).is_some())?,
        kind: code(&q.kind, "kind", |v| ClaimKind::parse(v).is_some())?,
        finding: code(&q.finding, "finding", |v| Finding::parse(v).is_some())?,
        merchant_id,
        updated_since,
        before_id,
    };
    Ok((f, limit))
}

/// The policy of `domain::access` (`Viewer::may_see_case`) as a query scope.
fn scope(principal: &ApiPrincipal) -> Scope {
    match principal.role {
        Role::Customer => Scope::FiledBy(principal.token_id),
        Role::Merchant => Scope::Merchants(principal.merchants.clone()),
        Role::Agent | Role::Admin => Scope::Every,
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/cases",
    tag = "cases",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The cases the token may see, newest first", body = CaseList),
        (status = 400, description = "A filter, limit or cursor is not valid", body = super::openapi::ApiError),
        (status = 401, description = "No valid bearer token", body = super::openapi::ApiError),
        (status = 422, description = "A refused value in the query or a header (a full card number, control characters)", body = super::openapi::ApiError),
        (status = 429, description = "Too many requests", body = super::openapi::ApiError),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Query(q): Query<ListQuery>,
) -> Result<Json<CaseList>, AppError> {
    let (f, limit) = filters(&q)?;
    let (rows, next) = case_list::page(&state.db, &scope(&principal), &f, limit).await?;
    let viewer = principal.viewer();
    // The query is the scope; the policy still has the last word on each case.
    let rows: Vec<_> = rows.into_iter().filter(|case| viewer.may_see_case(&case.scope())).collect();
    let ids: Vec<i64> = rows.iter().map(|case| case.id).collect();
    let mut matched = case_db::matched_debits_of(&state.db, &ids).await?;
    let mut cases = Vec::with_capacity(rows.len());
    for case in rows {
        let matched = matched.remove(&case.id).unwrap_or_default();
        let mut shown = view::case_view(&case, &matched, &state.config.timezone);
        // §1: merchant staff never learn who the customer is.
        if viewer.may_see_contact() {
            shown.contact_email = Some(case.contact_email.clone());
        }
        cases.push(shown);
    }
    Ok(Json(CaseList { cases, next: next.map(encode_cursor) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        for bad in ["", "42", "YzA", "Yy00Mg", "!!", "YzQyeA"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }

    #[test]
    fn filters_take_known_codes_only() {
        let q = ListQuery { state: Some("resolved".into()), limit: Some("10".into()), ..ListQuery::default() };
        let (f, limit) = filters(&q).unwrap();
        assert_eq!((f.state.as_deref(), limit), (Some("resolved"), 10));
        for q in [
            ListQuery { state: Some("lost".into()), ..ListQuery::default() },
            ListQuery { kind: Some("x".into()), ..ListQuery::default() },
            ListQuery { finding: Some("x".into()), ..ListQuery::default() },
            ListQuery { merchant_id: Some("bad id".into()), ..ListQuery::default() },
            ListQuery { updated_since: Some("yesterday".into()), ..ListQuery::default() },
            ListQuery { limit: Some("0".into()), ..ListQuery::default() },
            ListQuery { limit: Some("201".into()), ..ListQuery::default() },
            ListQuery { cursor: Some("x".into()), ..ListQuery::default() },
        ] {
            assert_eq!(filters(&q).unwrap_err().status(), StatusCode::BAD_REQUEST);
        }
    }
}
