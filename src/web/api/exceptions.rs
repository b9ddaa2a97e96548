//! `GET /api/v1/exceptions` (DESIGN.md §9, §10): the exceptions a token may see, newest first.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiPrincipal;
use crate::db::exceptions::{self as store, ExceptionRow, Filter};
use crate::domain::exceptions::{ExceptionKind, ExceptionState};
use crate::domain::money::{Currency, Money};
use crate::domain::role::Role;
use crate::web::{AppError, AppState};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListParams {
    pub exception: Option<String>,
    pub state: Option<String>,
    pub merchant_id: Option<String>,
    pub terminal_id: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

fn bad(message_key: &'static str) -> AppError {
    AppError::new(StatusCode::BAD_REQUEST, "invalid_filter", message_key)
}

pub async fn list(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Query(p): Query<ListParams>,
) -> Result<Json<Value>, AppError> {
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
        Some(c) => Some(c.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| bad("exceptions.api.bad_filter"))?),
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
        rows.last().map(|e| e.stored.id.to_string())
    } else {
        None
    };
    Ok(Json(json!({"exceptions": rows.iter().map(as_json).collect::<Vec<_>>(), "next": next})))
}

fn instant(t: i64) -> Value {
    jiff::Timestamp::from_second(t).map(|t| Value::String(t.to_string())).unwrap_or(Value::Null)
}

/// One exception in the §9 shape.
pub fn as_json(e: &ExceptionRow) -> Value {
    let s = &e.stored;
    let currency = Currency::from_code(&s.currency);
    json!({
        "id": s.id,
        "exception": e.kind.as_str(),
        "state": e.state.as_str(),
        "merchant_id": s.merchant_id,
        "terminal_id": s.terminal_id,
        "trace_no": s.trace_no,
        "rrn": s.rrn,
        "amount": currency.map(|c| Money::new(s.amount_minor, c).major_string()),
        "currency": s.currency,
        "txn_time": instant(s.txn_time),
        "found_at": instant(s.found_at),
        "case_id": s.case_id,
    })
}
