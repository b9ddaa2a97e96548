//! The JSON API under `/api/v1`, authenticated by bearer tokens (DESIGN.md §9).

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use crate::auth::token;
use crate::db::api_tokens;
use crate::domain::access::Viewer;
use crate::domain::role::Role;
use crate::web::{AppError, AppState};

pub mod cases;
pub mod claims;
pub mod exceptions;
pub mod imports;
pub mod openapi;

/// Who is calling: the token's role and, for merchant tokens, its merchants.
#[derive(Clone, Debug)]
pub struct ApiPrincipal {
    pub token_id: i64,
    pub name: String,
    pub role: Role,
    pub merchants: Vec<String>,
}

impl ApiPrincipal {
    /// This token, as the access policy sees it.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer { role: self.role, user_id: None, token_id: Some(self.token_id), merchants: &self.merchants }
    }
}

fn unauthorized() -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, "unauthorized", "error.http.unauthorized")
}

impl FromRequestParts<AppState> for ApiPrincipal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let secret = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(unauthorized)?;
        let (row, merchants) =
            api_tokens::find_active(&state.db, &token::digest(secret)).await?.ok_or_else(unauthorized)?;
        let role = Role::parse(&row.role).ok_or_else(unauthorized)?;
        Ok(ApiPrincipal { token_id: row.id, name: row.name, role, merchants })
    }
}

/// What the token may do.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    name: String,
    /// `customer`, `merchant`, `agent` or `admin`.
    role: String,
    /// The merchants a merchant token acts for.
    merchants: Vec<String>,
}

/// What the token may do: lets integrators check a token before using it.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "meta",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The token's name, role and merchants", body = Me),
        (status = 401, description = "No valid bearer token", body = openapi::ApiError),
        (status = 422, description = "A refused value in the query or a header (a full card number, control characters)", body = openapi::ApiError),
        (status = 429, description = "Too many requests", body = openapi::ApiError),
    )
)]
pub async fn me(principal: ApiPrincipal) -> Json<Value> {
    Json(json!({"name": principal.name, "role": principal.role.as_str(), "merchants": principal.merchants}))
}
