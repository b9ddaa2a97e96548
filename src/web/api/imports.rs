//! `POST /api/v1/journal` and `POST /api/v1/settlement`: CSV bodies in, JSON reports out.

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde_json::{Value, json};
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::ApiPrincipal;
use crate::domain::role::Role;
use crate::i18n::Lang;
use crate::import::profile::choose::{ChoiceError, by_name};
use crate::import::report::problem_line;
use crate::import::{ImportReport, ImportRequest, Kind, import_profiled};
use crate::web::context::negotiate;
use crate::web::{AppError, AppState};

/// `?profile=NAME`: the body is a file in that profile's layout (§3.4), as it is, any encoding.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfileQuery {
    /// An import profile's name (`redress profiles`, or one an admin uploaded); default `redress-csv`.
    profile: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/journal",
    tag = "records",
    request_body(content = String, content_type = "text/csv", description = "The journal file (DESIGN.md §3.1); with `?profile=` the file as the profile describes it, any encoding (§3.4)"),
    params(ProfileQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Imported: the report", body = Object),
        (status = 400, description = "A refused value (a full card number, control characters)", body = super::openapi::ApiError),
        (status = 401, description = "No valid bearer token", body = super::openapi::ApiError),
        (status = 403, description = "Only a merchant token (its own merchants) or the desk", body = super::openapi::ApiError),
        (status = 413, description = "The file is too large", body = super::openapi::ApiError),
        (status = 415, description = "The body is not text/csv", body = super::openapi::ApiError),
        (status = 422, description = "Rejected as a whole (nothing imported): the report says why; or `profile` names no profile", body = Object),
        (status = 429, description = "Too many requests", body = super::openapi::ApiError),
    )
)]
pub async fn journal(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Query(query): Query<ProfileQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    // Merchant tokens import their own merchants' journals; the desk imports any.
    let scope = match principal.role {
        Role::Merchant => Some(principal.merchants.clone()),
        r if r.is_staff() => None,
        _ => return Err(AppError::forbidden()),
    };
    run(state, principal, query, headers, body, Kind::Journal, scope).await
}

#[utoipa::path(
    post,
    path = "/api/v1/settlement",
    tag = "records",
    request_body(content = String, content_type = "text/csv", description = "The settlement file (DESIGN.md §3.2); with `?profile=` the file as the profile describes it, any encoding (§3.4)"),
    params(ProfileQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Imported: the report", body = Object),
        (status = 400, description = "A refused value (a full card number, control characters)", body = super::openapi::ApiError),
        (status = 401, description = "No valid bearer token", body = super::openapi::ApiError),
        (status = 403, description = "Only the desk (agent or admin token)", body = super::openapi::ApiError),
        (status = 413, description = "The file is too large", body = super::openapi::ApiError),
        (status = 415, description = "The body is not text/csv", body = super::openapi::ApiError),
        (status = 422, description = "Rejected as a whole (nothing imported): the report says why; or `profile` names no profile", body = Object),
        (status = 429, description = "Too many requests", body = super::openapi::ApiError),
    )
)]
pub async fn settlement(
    State(state): State<AppState>,
    principal: ApiPrincipal,
    Query(query): Query<ProfileQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    if !principal.role.is_staff() {
        return Err(AppError::forbidden());
    }
    run(state, principal, query, headers, body, Kind::Settlement, None).await
}

async fn run(
    state: AppState,
    principal: ApiPrincipal,
    query: ProfileQuery,
    headers: HeaderMap,
    body: Body,
    kind: Kind,
    merchant_scope: Option<Vec<String>>,
) -> Result<Response, AppError> {
    let lang = negotiate(&headers, state.config.default_lang);
    let profile_name = query.profile.unwrap_or_default();
    let profile = match by_name(&state.db, &profile_name, &state.config.timezone).await? {
        Ok(profile) => profile,
        Err(e) => {
            let code = match e {
                ChoiceError::Unknown(_) => "unknown_profile",
                ChoiceError::Invalid(_) => "invalid_profile",
            };
            let body = json!({"error": code, "message": e.message(lang)});
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
        }
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // Through a profile the body is the file as the acquirer wrote it, whatever its type says.
    if profile.is_none() && !content_type.starts_with("text/csv") {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "import.error.content_type",
        ));
    }
    let file_name = headers
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .map(|n| n.chars().take(200).collect())
        .unwrap_or_else(|| format!("{}.csv", kind.as_str()));
    let request = ImportRequest {
        kind,
        file_name,
        via: "api",
        user_id: None,
        token_id: Some(principal.token_id),
        merchant_scope,
    };
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let reader = SyncIoBridge::new(StreamReader::new(stream));
    let report = import_profiled(&state.db, &request, profile, reader, None).await?;
    if report.accepted {
        crate::web::imports::refresh_cases(&state, &report.imported).await?;
    }
    let status = if report.accepted { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, Json(report_json(lang, &report))).into_response())
}

/// The report with every problem also in words, in the caller's language.
pub fn report_json(lang: Lang, r: &ImportReport) -> Value {
    let problem = |p: &crate::import::Problem| {
        // Read through a profile: the field as the file names it.
        let source = p.args.iter().find(|(k, _)| *k == "source").map(|(_, v)| v.as_str());
        json!({"line": p.line, "column": p.column, "source": source, "code": p.code, "message": problem_line(lang, p)})
    };
    json!({
        "import_id": r.import_id,
        "kind": r.kind,
        "file_name": r.file_name,
        "profile": r.profile,
        "sha256": r.sha256,
        "accepted": r.accepted,
        "rows": r.rows,
        "inserted": r.inserted,
        "unchanged": r.unchanged,
        "conflicting": r.conflicting,
        "bad_rows": r.bad_rows,
        "file_problem": r.file_problem.as_ref().map(problem),
        "problems": r.problems.iter().map(problem).collect::<Vec<_>>(),
        "conflicts": r.conflicts,
    })
}
