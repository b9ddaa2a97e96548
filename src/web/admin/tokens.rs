//! Admin: API tokens, shown once at creation and stored only hashed.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::split_ids;
use crate::accounts::{BindingProblem, binding_problem};
use crate::auth::token;
use crate::db::api_tokens::{self, ApiTokenRow};
use crate::domain::role::Role;
use crate::web::forms::FieldErrors;
use crate::web::screen::Refused;
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

#[derive(Template, WebTemplate)]
#[template(path = "admin/tokens.html")]
pub struct TokensPage {
    ctx: PageContext,
    tokens: Vec<ApiTokenRow>,
    roles: [Role; 4],
    errors: FieldErrors,
    /// The token just created: the only time anyone sees it.
    created: Option<String>,
}

async fn page(
    state: &AppState,
    ctx: PageContext,
    errors: FieldErrors,
    created: Option<String>,
) -> Result<TokensPage, AppError> {
    Ok(TokensPage { ctx, tokens: api_tokens::list(&state.db).await?, roles: Role::ALL, errors, created })
}

pub async fn list(State(state): State<AppState>, ctx: PageContext) -> Result<TokensPage, AppError> {
    page(&state, ctx, FieldErrors::default(), None).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    merchants: String,
}

/// Why a token request is refused: a catalog key and its arguments.
async fn token_request_problem(
    db: &crate::db::Db,
    name: &str,
    role: Option<Role>,
    merchant_ids: &[String],
) -> Result<Option<BindingProblem>, AppError> {
    let problem = |key| Some(BindingProblem { key, args: Vec::new() });
    Ok(match role {
        _ if name.trim().is_empty() || name.chars().count() > 100 => problem("admin.error.token_name"),
        None => problem("admin.error.role"),
        Some(role) => binding_problem(db, role, merchant_ids).await?,
    })
}

pub async fn create(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(me): Extension<CurrentUser>,
    refused: Refused,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    let role = Role::parse(&form.role);
    let merchant_ids = split_ids(&form.merchants);
    let problem = token_request_problem(&state.db, &form.name, role, &merchant_ids).await?;
    if problem.is_some() || !refused.is_empty() {
        let mut errors = FieldErrors::default();
        if let Some(p) = problem {
            errors.add("form", ctx.t_args(p.key, &p.args));
        }
        // The page shows one message for the whole form.
        if let Some(refusal) = refused.first() {
            errors.replace("form", ctx.t(refusal.message_key()));
        }
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, ctx, errors, None).await?).into_response());
    }
    let role = role.expect("checked above");
    let secret = token::generate();
    api_tokens::create(&state.db, form.name.trim(), &token::digest(&secret), role.as_str(), &merchant_ids, Some(me.id))
        .await?;
    Ok(page(&state, ctx, FieldErrors::default(), Some(secret)).await?.into_response())
}

pub async fn revoke(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    if !api_tokens::revoke(&state.db, id).await? {
        return Err(AppError::not_found());
    }
    Ok(Redirect::to("/admin/tokens").into_response())
}
