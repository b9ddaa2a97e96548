//! Customer self-registration and email confirmation.

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
use crate::db::users::{self, CreateUserError, NewUser};
use crate::domain::account::{EmailAddress, check_new_password};
use crate::domain::role::Role;
use crate::mail;
use crate::web::forms::FieldErrors;
use crate::web::pages::message::MessagePage;
use crate::web::screen::Refused;
use crate::web::{AppError, AppState, PageContext};

pub const VERIFY_PURPOSE: &str = "verify_email";
const VERIFY_VALID_SECS: i64 = 24 * 60 * 60;

#[derive(Template, WebTemplate)]
#[template(path = "account/register.html")]
pub struct RegisterPage {
    ctx: PageContext,
    email: String,
    errors: FieldErrors,
}

pub async fn show(ctx: PageContext) -> RegisterPage {
    RegisterPage { ctx, email: String::new(), errors: FieldErrors::default() }
}

#[derive(Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ctx: PageContext,
    refused: Refused,
    Form(form): Form<RegisterForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let email = EmailAddress::parse(&form.email);
    match &email {
        Err(e) => errors.add_code(ctx.lang, "email", e.code(), &e.args()),
        Ok(email) => {
            if let Err(e) = check_new_password(&form.password, &form.confirm, email) {
                let field = if e.code() == "passwords_differ" { "confirm" } else { "password" };
                errors.add_code(ctx.lang, field, e.code(), &e.args());
            }
        }
    }
    refused.explain(&mut errors, ctx.lang);
    let email = match email {
        Ok(email) if errors.is_empty() => email,
        _ => {
            let page = RegisterPage { ctx, email: form.email, errors };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };

    // Before the costly hash; asked for taken addresses too, so the answer does not tell.
    state.limits.admit_emailing(&state.db, EmailingForm::Register, client, &email).await??;
    let hash = password::hash(form.password).await?;
    let mut tx = state.db.begin().await?;
    let new_user = NewUser {
        email: email.as_str(),
        email_norm: email.normalized(),
        password_hash: &hash,
        role: Role::Customer.as_str(),
        lang: Some(ctx.lang.code()),
        verified: false,
    };
    match users::create(&mut tx, &new_user).await {
        Ok(user_id) => {
            let secret = token::generate();
            let token_hash = token::digest(&secret);
            email_tokens::create(
                &mut tx,
                &NewEmailToken {
                    token_hash: &token_hash,
                    purpose: VERIFY_PURPOSE,
                    user_id: Some(user_id),
                    email: email.as_str(),
                    subject_id: None,
                    valid_for_secs: VERIFY_VALID_SECS,
                },
            )
            .await?;
            let url = link(&state.config, &format!("/verify-email?token={secret}"));
            let notice = mail::verify_email(ctx.lang, &url);
            mail::queue(
                &mut tx,
                &format!("verify_email:{token_hash}"),
                "verify_email",
                email.as_str(),
                ctx.lang,
                None,
                &notice,
            )
            .await?;
            tx.commit().await?;
        }
        // Saying "this email is taken" would tell anyone who has an account. The owner gets
        // the same page and can sign in or reset the password.
        Err(CreateUserError::EmailTaken) => {}
        Err(CreateUserError::Db(e)) => return Err(e.into()),
    }
    Ok(MessagePage::new(ctx, "account.registered.title", "account.registered.body")
        .with_detail(email.as_str())
        .into_response())
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account/verify.html")]
pub struct VerifyPage {
    ctx: PageContext,
    token: String,
    email: String,
}

/// Shows a confirm button: mail scanners follow links, so the token is used only by a POST.
pub async fn show_verify(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    match email_tokens::peek(&state.db, &token::digest(&q.token), VERIFY_PURPOSE).await? {
        Some(row) => Ok(VerifyPage { ctx, token: q.token, email: row.email }.into_response()),
        None => Ok(MessagePage::link_invalid(ctx).into_response()),
    }
}

pub async fn confirm_verify(
    State(state): State<AppState>,
    ctx: PageContext,
    Form(q): Form<TokenQuery>,
) -> Result<Response, AppError> {
    let mut tx = state.db.begin().await?;
    let Some(row) = email_tokens::consume(&mut tx, &token::digest(&q.token), VERIFY_PURPOSE).await? else {
        return Ok(MessagePage::link_invalid(ctx).into_response());
    };
    if let Some(user_id) = row.user_id {
        users::mark_verified(&mut tx, user_id).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to("/login?notice=verified").into_response())
}
