//! Signing in and out.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{ClientIp, home_of};
use crate::auth::password;
use crate::db::users;
use crate::domain::role::Role;
use crate::web::error::{refusal_message, retry_after_header};
use crate::web::forms::FieldErrors;
use crate::web::pages::lang::safe_next;
use crate::web::screen::Refused;
use crate::web::session::{self, SessionToken};
use crate::web::{AppError, AppState, PageContext};

#[derive(Template, WebTemplate)]
#[template(path = "account/login.html")]
pub struct LoginPage {
    ctx: PageContext,
    email: String,
    next: String,
    errors: FieldErrors,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    notice: String,
}

pub async fn show(ctx: PageContext, Query(q): Query<LoginQuery>) -> LoginPage {
    let notice = match q.notice.as_str() {
        "verified" => Some("account.notice.verified"),
        "password_changed" => Some("account.notice.password_changed"),
        "signed_out" => Some("account.notice.signed_out"),
        _ => None,
    };
    LoginPage { ctx, email: String::new(), next: q.next, errors: FieldErrors::default(), notice }
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn submit(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ctx: PageContext,
    refused: Refused,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let email_norm = form.email.trim().to_lowercase();
    let page_with = |message: String| {
        let mut errors = FieldErrors::default();
        errors.add("form", message);
        LoginPage { ctx: ctx.clone(), email: form.email.clone(), next: form.next.clone(), errors, notice: None }
    };
    let refuse = |status: StatusCode, key: &str| Ok((status, page_with(ctx.t(key).to_owned())).into_response());

    // Refused at the door and emptied: said before any look-up.
    if let Some(refusal) = refused.first() {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, refusal.message_key());
    }
    // Checked before the password, so a refused guess learns nothing; only failures are recorded,
    // after the password is checked, so signing in successfully never uses up anything.
    let limits = state.limits.sign_in(&state.db, &email_norm, client).await?;
    if let Err(refused) = limits.check() {
        let page = page_with(refusal_message(ctx.lang, &refused));
        return Ok((StatusCode::TOO_MANY_REQUESTS, [retry_after_header(refused.retry_after())], page).into_response());
    }
    let found = users::find_login(&state.db, &email_norm).await?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    // Always verify, against a dummy hash when there is no such user: equal time either way.
    let password_ok = password::verify(form.password.clone(), hash).await;
    let user = match user {
        Some(user) if password_ok && user.disabled_at.is_none() => user,
        _ => {
            limits.failed(&state.db).await?;
            return refuse(StatusCode::UNAUTHORIZED, "account.error.wrong_credentials");
        }
    };
    let role = Role::parse(&user.role).ok_or_else(|| anyhow::anyhow!("user {} has unknown role", user.id))?;
    if role == Role::Customer && user.email_verified_at.is_none() {
        return refuse(StatusCode::FORBIDDEN, "account.error.unverified");
    }

    let cookie = session::sign_in(&state, user.id).await?;
    tracing::info!(user_id = user.id, role = role.as_str(), "signed in");
    let target = if form.next.is_empty() { home_of(role) } else { safe_next(&form.next) };
    let mut response = Redirect::to(target).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

pub async fn logout(
    State(state): State<AppState>,
    axum::Extension(token): axum::Extension<SessionToken>,
) -> Result<Response, AppError> {
    let cookie = session::sign_out(&state, &token).await?;
    let mut response = Redirect::to("/login?notice=signed_out").into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}
