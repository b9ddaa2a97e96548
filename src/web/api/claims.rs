//! `POST /api/v1/claims` (a bank's channel files for its cardholder) and `GET /api/v1/cases/{id}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::ApiPrincipal;
use crate::cases::{self, Contact, Filed, Filing, view};
use crate::db::cases as case_db;
use crate::domain::account::EmailAddress;
use crate::domain::claim::ClaimInput;
use crate::domain::money::Currency;
use crate::domain::role::Role;
use crate::web::context::negotiate;
use crate::web::{AppError, AppState};

#[derive(Deserialize)]
pub struct ClaimBody {
    #[serde(flatten)]
    claim: ClaimInput,
    #[serde(default)]
    contact_email: Option<String>,
}

/// The claim a bank channel files (DESIGN.md §4), with the cardholder's address.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes the body for the OpenAPI document; `ClaimBody` reads it.
pub struct ClaimRequest {
    /// `no_receipt`, `duplicate_charge`, `wrong_amount` or `refund_not_received`.
    #[schema(pattern = "^(no_receipt|duplicate_charge|wrong_amount|refund_not_received)$")]
    kind: String,
    /// The card's last 4 digits.
    #[schema(pattern = "^[0-9]{4}$")]
    card_last4: String,
    /// The card's first 6 digits.
    #[schema(pattern = "^[0-9]{6}$")]
    card_first6: Option<String>,
    /// The debit as the bank statement shows it (`128.50`, `¥1,234.50`).
    #[schema(example = "128.50")]
    amount: String,
    /// Defaults to CNY.
    currency: Option<String>,
    /// What the terminal showed (`wrong_amount` only; below `amount`).
    expected_amount: Option<String>,
    /// RFC 3339, or a date `YYYY-MM-DD` (the whole local day).
    #[schema(example = "2026-11-12T13:20:00+08:00")]
    occurred_at: String,
    merchant_id: Option<String>,
    terminal_id: Option<String>,
    merchant_name: Option<String>,
    description: Option<String>,
    /// Where the cardholder is told about the case.
    #[schema(format = Email)]
    contact_email: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/claims",
    tag = "cases",
    request_body = ClaimRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key files one case however often the request is sent")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Filed and matched: the new case", body = crate::cases::view::CaseJson),
        (status = 200, description = "The same payment is already in this customer's open case (or the same Idempotency-Key): that case", body = crate::cases::view::CaseJson),
        (status = 400, description = "Malformed JSON, a refused value (a full card number, control characters) or a bad Idempotency-Key", body = super::openapi::ApiError),
        (status = 401, description = "No valid bearer token", body = super::openapi::ApiError),
        (status = 403, description = "Not a customer (bank channel) token", body = super::openapi::ApiError),
        (status = 413, description = "The body is too large", body = super::openapi::ApiError),
        (status = 415, description = "The body is not JSON", body = super::openapi::ApiError),
        (status = 422, description = "A field is missing or not valid; `fields` says which", body = super::openapi::ApiError),
        (status = 429, description = "Too many requests", body = super::openapi::ApiError),
    )
)]
pub async fn file(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    headers: HeaderMap,
    Json(body): Json<ClaimBody>,
) -> Result<Response, AppError> {
    if principal.role != Role::Customer {
        return Err(AppError::forbidden());
    }
    let lang = negotiate(&headers, state.config.default_lang);
    let mut fields = Vec::new();
    let email = EmailAddress::parse(body.contact_email.as_deref().unwrap_or_default());
    if let Err(e) = &email {
        fields.push(
            json!({"field": "contact_email", "code": e.code(), "message": lang.t(&format!("error.{}", e.code()))}),
        );
    }
    let claim = body.claim.validate(Currency::CNY, jiff::Timestamp::now());
    if let Err(errors) = &claim {
        for e in errors {
            fields.push(json!({"field": e.field.as_str(), "code": e.code(), "message": lang.t_args(&e.message_key(), &e.args())}));
        }
    }
    let (Ok(email), Ok(claim)) = (email, claim) else {
        let message = fields.first().and_then(|f| f["message"].as_str()).unwrap_or_default().to_owned();
        let body = json!({"error": "invalid_claim", "message": message, "fields": fields});
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    };
    let contact = Contact { email: email.as_str().to_owned(), user_id: None, confirmed: true, lang };
    let ctx = state.match_context();
    // Keys are the caller's own: two channels may both use "1".
    let filing_key = idempotency_key(&headers)?.map(|key| format!("api:{}:{key}", principal.token_id));
    let filing = Filing {
        claim: &claim,
        occurred_text: body.claim.occurred_at.as_deref().unwrap_or_default(),
        contact: &contact,
        via: "api",
        token_id: Some(principal.token_id),
        filing_key: filing_key.as_deref(),
    };
    let filed = cases::file(&state.db, &ctx, &filing).await?;
    let status = match filed {
        Filed::New(_) => StatusCode::CREATED,
        Filed::Existing(_) => StatusCode::OK,
    };
    let id = filed.case_id();
    let case = case_db::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let matched = case_db::matched_debits(&state.db, id).await?;
    Ok((status, Json(view::case_json(&case, &matched, &state.config.timezone))).into_response())
}

/// `Idempotency-Key` (§6): the same key files one case however often the request is repeated.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, AppError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    match value.to_str() {
        Ok(key) if (1..=200).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(key)),
        _ => Err(AppError::new(StatusCode::BAD_REQUEST, "invalid_idempotency_key", "error.idempotency_key")),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/cases/{id}",
    tag = "cases",
    params(("id" = i64, Path, description = "The case number")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The case", body = crate::cases::view::CaseJson),
        (status = 400, description = "The id is not a number", body = super::openapi::ApiError),
        (status = 401, description = "No valid bearer token", body = super::openapi::ApiError),
        (status = 404, description = "No such case, or not one this token may see", body = super::openapi::ApiError),
        (status = 422, description = "A refused value in the query or a header (a full card number, control characters)", body = super::openapi::ApiError),
        (status = 429, description = "Too many requests", body = super::openapi::ApiError),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let case = case_db::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    // Someone else's case does not exist for the caller.
    if !principal.viewer().may_see_case(&case.scope()) {
        return Err(AppError::not_found());
    }
    let matched = case_db::matched_debits(&state.db, id).await?;
    Ok(Json(view::case_json(&case, &matched, &state.config.timezone)).into_response())
}
