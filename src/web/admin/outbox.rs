//! Admin: the email outbox — every notice with its rendered text, so a trial without SMTP shows all mail.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use crate::db::outbox::{self, OutboxRow};
use crate::web::{AppError, AppState, PageContext};

#[derive(Template, WebTemplate)]
#[template(path = "admin/outbox.html")]
pub struct OutboxPage {
    ctx: PageContext,
    notices: Vec<OutboxRow>,
    smtp_configured: bool,
}

pub async fn list(State(state): State<AppState>, ctx: PageContext) -> Result<OutboxPage, AppError> {
    Ok(OutboxPage {
        ctx,
        notices: outbox::recent(&state.db, 200).await?,
        smtp_configured: state.config.smtp_url.is_some(),
    })
}

/// One notice's HTML as the recipient would see it, sandboxed: it may not run script or
/// reach this site with the admin's cookies.
pub async fn html(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    let notice = outbox::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let mut response = Html(notice.body_html).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'; style-src 'unsafe-inline'"),
    );
    Ok(response)
}
