//! Admin: API tokens, shown once at creation and stored only hashed.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};

use super::ConfirmPage;
use super::{FormPairs, MerchantChoice, chosen_merchants, field, merchant_choices};
use crate::accounts::{BindingProblem, binding_problem};
use crate::auth::token;
use crate::db::api_tokens::{self, ApiTokenRow};
use crate::domain::role::Role;
use crate::web::flash::{self, Flash, Incoming};
use crate::web::forms::FieldErrors;
use crate::web::screen::Refused;
use crate::web::session::{CurrentUser, SessionToken};
use crate::web::{AppError, AppState, PageContext};

#[derive(Template, WebTemplate)]
#[template(path = "admin/tokens.html")]
pub struct TokensPage {
    ctx: PageContext,
    tokens: Vec<ApiTokenRow>,
    roles: [Role; 4],
    /// The merchants a merchant token may be bound to, those in the form ticked.
    choices: Vec<MerchantChoice>,
    errors: FieldErrors,
    /// The token just created: the only time anyone sees it.
    created: Option<String>,
    /// What the last action did (a token created or revoked), shown once.
    done: Option<String>,
}

const PATH: &str = "/admin/tokens";

async fn page(
    state: &AppState,
    ctx: PageContext,
    errors: FieldErrors,
    created: Option<String>,
    chosen: &[String],
) -> Result<TokensPage, AppError> {
    let choices = merchant_choices(&state.db, ctx.lang, chosen).await?;
    let tokens = api_tokens::list(&state.db).await?;
    Ok(TokensPage { ctx, tokens, roles: Role::ALL, choices, errors, created, done: None })
}

/// The list; after creating a token, the one time its secret is shown (the flash is cleared as
/// it is read, so a reload shows it no more and submits nothing again).
pub async fn list(State(state): State<AppState>, ctx: PageContext, flash: Incoming) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let secret = flash.flash.as_ref().and_then(|f| f.secret.clone());
    let mut page = page(&state, ctx, FieldErrors::default(), secret, &[]).await?;
    page.done = flash.flash.as_ref().filter(|f| f.secret.is_none()).map(|f| f.text(lang));
    Ok(flash.finish(PATH, page))
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
    Extension(session): Extension<SessionToken>,
    refused: Refused,
    Form(pairs): Form<FormPairs>,
) -> Result<Response, AppError> {
    let name = field(&pairs, "name");
    let role = Role::parse(&field(&pairs, "role"));
    let merchant_ids = chosen_merchants(&pairs);
    let problem = token_request_problem(&state.db, &name, role, &merchant_ids).await?;
    if problem.is_some() || !refused.is_empty() {
        let mut errors = FieldErrors::default();
        if let Some(p) = problem {
            errors.add("form", ctx.t_args(p.key, &p.args));
        }
        // The page shows one message for the whole form.
        if let Some(refusal) = refused.first() {
            errors.replace("form", ctx.t(refusal.message_key()));
        }
        let page = page(&state, ctx, errors, None, &merchant_ids).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let role = role.expect("checked above");
    let secret = token::generate();
    api_tokens::create(&state.db, name.trim(), &token::digest(&secret), role.as_str(), &merchant_ids, Some(me.id))
        .await?;
    // Post/Redirect/Get: the secret rides to the list in a one-read flash, never in a URL.
    let created = Flash::new("admin.tokens.created").secret(secret);
    Ok(flash::redirect(&state, &session, PATH, PATH, &created))
}

/// Asks before revoking: whatever uses the token is refused from then on, and it cannot be undone.
pub async fn confirm_revoke(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let token =
        api_tokens::get(&state.db, id).await?.filter(|t| t.revoked_at.is_none()).ok_or_else(AppError::not_found)?;
    let page = ConfirmPage {
        title: ctx.t("reading.admin.revoke.title").to_owned(),
        subject: format!("{} · {}", token.name, ctx.t(&format!("role.{}", token.role))),
        consequence: ctx.t("reading.admin.revoke.consequence").to_owned(),
        action: format!("/admin/tokens/{id}/revoke"),
        fields: Vec::new(),
        confirm: ctx.t("admin.action.revoke").to_owned(),
        cancel: PATH,
        ctx,
    };
    Ok(page.into_response())
}

pub async fn revoke(
    State(state): State<AppState>,
    Extension(session): Extension<SessionToken>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let token = api_tokens::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    if !api_tokens::revoke(&state.db, id).await? {
        return Err(AppError::not_found());
    }
    let done = Flash::new("reading.admin.token_revoked").arg("name", token.name);
    Ok(flash::redirect(&state, &session, PATH, PATH, &done))
}
