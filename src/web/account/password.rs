//! Forgotten passwords: an emailed single-use link to choose a new one.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{ClientIp, link};
use crate::auth::limits::EmailingForm;
use crate::auth::{password, token};
use crate::db::email_tokens::{self, NewEmailToken};
use crate::db::users;
use crate::domain::account::{EmailAddress, check_new_password};
use crate::i18n::Lang;
use crate::mail;
use crate::web::forms::FieldErrors;
use crate::web::pages::message::MessagePage;
use crate::web::screen::Refused;
use crate::web::{AppError, AppState, PageContext};

const RESET_PURPOSE: &str = "password_reset";
const RESET_VALID_SECS: i64 = 60 * 60;

#[derive(Template, WebTemplate)]
#[template(path = "account/forgot.html")]
pub struct ForgotPage {
    ctx: PageContext,
    email: String,
    errors: FieldErrors,
}

pub async fn show_forgot(ctx: PageContext) -> ForgotPage {
    ForgotPage { ctx, email: String::new(), errors: FieldErrors::default() }
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
}

pub async fn submit_forgot(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ctx: PageContext,
    refused: Refused,
    Form(form): Form<ForgotForm>,
) -> Result<Response, AppError> {
    let email = match EmailAddress::parse(&form.email) {
        Ok(email) if refused.is_empty() => email,
        parsed => {
            let mut errors = FieldErrors::default();
            if let Err(e) = parsed {
                errors.add_code(ctx.lang, "email", e.code(), &e.args());
            }
            refused.explain(&mut errors, ctx.lang);
            return Ok(
                (StatusCode::UNPROCESSABLE_ENTITY, ForgotPage { ctx, email: form.email, errors }).into_response()
            );
        }
    };
    // Reset emails cost the recipient attention (DESIGN.md §12); asked whether or not the account
    // exists, so the answer does not tell.
    state.limits.admit_emailing(&state.db, EmailingForm::ForgotPassword, client, &email).await??;
    if let Some(user) = users::find_by_email(&state.db, email.normalized()).await?.filter(|u| u.disabled_at.is_none()) {
        let lang = user.lang.as_deref().and_then(Lang::parse).unwrap_or(ctx.lang);
        let secret = token::generate();
        let token_hash = token::digest(&secret);
        let mut tx = state.db.begin().await?;
        email_tokens::create(
            &mut tx,
            &NewEmailToken {
                token_hash: &token_hash,
                purpose: RESET_PURPOSE,
                user_id: Some(user.id),
                email: &user.email,
                subject_id: None,
                valid_for_secs: RESET_VALID_SECS,
            },
        )
        .await?;
        let notice = mail::password_reset(lang, &link(&state.config, &format!("/password/reset?token={secret}")));
        mail::queue(
            &mut tx,
            &format!("password_reset:{token_hash}"),
            "password_reset",
            &user.email,
            lang,
            None,
            &notice,
        )
        .await?;
        tx.commit().await?;
    }
    // The same answer whether or not the account exists.
    Ok(MessagePage::new(ctx, "account.forgot_sent.title", "account.forgot_sent.body")
        .with_detail(email.as_str())
        .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "account/reset.html")]
pub struct ResetPage {
    ctx: PageContext,
    token: String,
    errors: FieldErrors,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

pub async fn show_reset(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    if email_tokens::peek(&state.db, &token::digest(&q.token), RESET_PURPOSE).await?.is_none() {
        return Ok(MessagePage::link_invalid(ctx).into_response());
    }
    Ok(ResetPage { ctx, token: q.token, errors: FieldErrors::default() }.into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn submit_reset(
    State(state): State<AppState>,
    ctx: PageContext,
    refused: Refused,
    Form(form): Form<ResetForm>,
) -> Result<Response, AppError> {
    if !refused.is_empty() {
        let mut errors = FieldErrors::default();
        refused.explain(&mut errors, ctx.lang);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, ResetPage { ctx, token: form.token, errors }).into_response());
    }
    let token_hash = token::digest(&form.token);
    let Some(row) = email_tokens::peek(&state.db, &token_hash, RESET_PURPOSE).await? else {
        return Ok(MessagePage::link_invalid(ctx).into_response());
    };
    let email = EmailAddress::parse(&row.email).map_err(|_| anyhow::anyhow!("stored email does not parse"))?;
    if let Err(e) = check_new_password(&form.password, &form.confirm, &email) {
        let mut errors = FieldErrors::default();
        let field = if e.code() == "passwords_differ" { "confirm" } else { "password" };
        errors.add_code(ctx.lang, field, e.code(), &e.args());
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, ResetPage { ctx, token: form.token, errors }).into_response());
    }
    let hash = password::hash(form.password).await?;
    let mut tx = state.db.begin().await?;
    // Consumed inside the transaction: two submissions of one link cannot both succeed.
    let Some(row) = email_tokens::consume(&mut tx, &token_hash, RESET_PURPOSE).await? else {
        return Ok(MessagePage::link_invalid(ctx).into_response());
    };
    let user_id = row.user_id.ok_or_else(|| anyhow::anyhow!("reset token without user"))?;
    users::set_password(&mut tx, user_id, &hash).await?;
    // Receiving the link proves the address.
    users::mark_verified(&mut tx, user_id).await?;
    // Whoever knew the old password is signed out everywhere.
    users::delete_sessions_of(&mut tx, user_id).await?;
    tx.commit().await?;
    Ok(Redirect::to("/login?notice=password_changed").into_response())
}
