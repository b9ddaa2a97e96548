//! `GET /api/v1/exceptions` (DESIGN.md §9, §10): the exceptions a token may see, newest first.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::ApiPrincipal;
use crate::db::exceptions::{self as store, ExceptionRow, Filter};
use crate::domain::exceptions::{ExceptionKind, ExceptionState};
use crate::domain::money::{Currency, Money};
use crate::domain::role::Role;
use crate::web::{AppError, AppState};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

/// The query string, checked below so a bad value gets the API's own error.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ListParams {
    /// Only this kind (`orphan_debit`, `duplicate_suspect`, `unsettled_sale`, `amount_mismatch`).
    pub exception: Option<String>,
    /// Only this state (`open`, `resolved`, `dismissed`, `linked`).
    pub state: Option<String>,
    /// Only this merchant's.
    pub merchant_id: Option<String>,
    /// Only this terminal's.
    pub terminal_id: Option<String>,
    /// Exceptions per page, 1–500 (default 50).
    pub limit: Option<String>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

/// One exception (DESIGN.md §10) in the §9 shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExceptionJson {
    id: i64,
    /// `orphan_debit`, `duplicate_suspect`, `unsettled_sale` or `amount_mismatch`.
    exception: &'static str,
    /// `open`, `resolved`, `dismissed` or `linked`.
    state: &'static str,
    merchant_id: String,
    terminal_id: String,
    trace_no: String,
    rrn: Option<String>,
    /// Decimal in major units (`"128.50"`).
    amount: Option<String>,
    currency: String,
    /// RFC 3339.
    txn_time: Option<String>,
    /// RFC 3339: when Redress found it.
    found_at: Option<String>,
    /// The customer's case resting on the same debit, when there is one.
    case_id: Option<i64>,
}

/// One page of exceptions, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExceptionList {
    exceptions: Vec<ExceptionJson>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    next: Option<String>,
}

fn bad(message_key: &'static str) -> AppError {
    AppError::new(StatusCode::BAD_REQUEST, "invalid_filter", message_key)
}

#[utoipa::path(
    get,
    path = "/api/v1/exceptions",
    tag = "records",
    params(ListParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The exceptions the token may see, newest first", body = ExceptionList),
        (status = 400, description = "A filter, limit or cursor is not valid", body = super::openapi::ApiError),
        (status = 401, description = "No valid bearer token", body = super::openapi::ApiError),
        (status = 403, description = "A customer token: exceptions are for merchants and the desk", body = super::openapi::ApiError),
        (status = 422, description = "A refused value in the query or a header (a full card number, control characters)", body = super::openapi::ApiError),
        (status = 429, description = "Too many requests", body = super::openapi::ApiError),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Query(p): Query<ListParams>,
) -> Result<Json<ExceptionList>, AppError> {
    let merchants = match principal.role {
        Role::Merchant => Some(principal.merchants.clone()),
        r if r.is_staff() => None,
        _ => return Err(AppError::forbidden()),
    };
    let kind = match p.exception.as_deref().filter(|s| !s.is_empty()) {
        Some(k) => Some(ExceptionKind::parse(k).ok_or_else(|| bad("exceptions.api.bad_filter"))?),
        None => None,
    };
    let state_filter = match p.state.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(ExceptionState::parse(s).ok_or_else(|| bad("exceptions.api.bad_filter"))?),
        None => None,
    };
    let limit = match p.limit.as_deref() {
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| bad("exceptions.api.bad_filter"))?,
        None => DEFAULT_LIMIT,
    };
    let before_id = match p.cursor.as_deref().filter(|s| !s.is_empty()) {
        Some(c) => Some(super::cases::decode_cursor(c).ok_or_else(|| bad("exceptions.api.bad_filter"))?),
        None => None,
    };
    let filter = Filter {
        merchants,
        kind,
        state: state_filter,
        merchant_id: p.merchant_id.filter(|s| !s.is_empty()),
        terminal_id: p.terminal_id.filter(|s| !s.is_empty()),
        before_id,
        // One more than asked tells whether another page follows.
        limit: limit + 1,
        ..Filter::default()
    };
    let mut rows = store::list(&state.db, &filter).await?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|e| super::cases::encode_cursor(e.stored.id))
    } else {
        None
    };
    Ok(Json(ExceptionList { exceptions: rows.iter().map(as_json).collect(), next }))
}

fn instant(t: i64) -> Option<String> {
    jiff::Timestamp::from_second(t).ok().map(|t| t.to_string())
}

/// One exception in the §9 shape.
pub fn as_json(e: &ExceptionRow) -> ExceptionJson {
    let s = &e.stored;
    ExceptionJson {
        id: s.id,
        exception: e.kind.as_str(),
        state: e.state.as_str(),
        merchant_id: s.merchant_id.clone(),
        terminal_id: s.terminal_id.clone(),
        trace_no: s.trace_no.clone(),
        rrn: s.rrn.clone(),
        amount: Currency::from_code(&s.currency).map(|c| Money::new(s.amount_minor, c).major_string()),
        currency: s.currency.clone(),
        txn_time: instant(s.txn_time),
        found_at: instant(s.found_at),
        case_id: s.case_id,
    }
}
