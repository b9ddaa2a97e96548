//! Admin: webhook endpoints (DESIGN.md §7) — add (the signing secret is shown once), disable,
//! delete — and their recent deliveries, with a second chance for those that failed for good.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};

use super::split_ids;
use crate::db::now_unix;
use crate::db::webhooks::{self as store, DeliveryRow, EndpointRow};
use crate::domain::case_state::Event;
use crate::web::forms::FieldErrors;
use crate::web::screen::Refused;
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};
use crate::webhooks::{self, AddError, Request};

pub struct EndpointView {
    pub row: EndpointRow,
    pub merchants: Vec<String>,
    /// The events in words, joined for the reader's language.
    pub events: String,
}

pub struct DeliveryView {
    pub row: DeliveryRow,
    pub created: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/webhooks.html")]
pub struct WebhooksPage {
    ctx: PageContext,
    endpoints: Vec<EndpointView>,
    deliveries: Vec<DeliveryView>,
    events: Vec<&'static str>,
    errors: FieldErrors,
    /// The secret of the endpoint just added: the only time anyone sees it.
    created: Option<String>,
}

/// An event code in the reader's words.
fn event_words(ctx: &PageContext, code: &str) -> String {
    ctx.t(&format!("webhooks.event.{code}")).to_owned()
}

async fn page(
    state: &AppState,
    ctx: PageContext,
    errors: FieldErrors,
    created: Option<String>,
) -> Result<WebhooksPage, AppError> {
    let endpoints = store::list(&state.db)
        .await?
        .into_iter()
        .map(|(row, merchants)| {
            let events = row.events.split(' ').map(|e| event_words(&ctx, e)).collect::<Vec<_>>().join(", ");
            EndpointView { row, merchants, events }
        })
        .collect();
    let tz = &state.config.timezone;
    let deliveries = store::recent_deliveries(&state.db, 200)
        .await?
        .into_iter()
        .map(|row| {
            let created =
                jiff::Timestamp::from_second(row.created_at).map(|t| ctx.lang.datetime(t, tz)).unwrap_or_default();
            DeliveryView { row, created }
        })
        .collect();
    let events = Event::ALL.iter().map(|e| e.as_str()).collect();
    Ok(WebhooksPage { ctx, endpoints, deliveries, events, errors, created })
}

pub async fn list(State(state): State<AppState>, ctx: PageContext) -> Result<WebhooksPage, AppError> {
    page(&state, ctx, FieldErrors::default(), None).await
}

/// The form's fields: `url`, `merchants`, `allow_private`, and one `events` per box ticked
/// (a list of pairs, because a key may repeat).
pub async fn create(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(me): Extension<CurrentUser>,
    refused: Refused,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let value = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_default();
    let events: Vec<String> = fields.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.clone()).collect();
    let merchants = split_ids(value("merchants"));
    let request = Request {
        url: value("url"),
        events: &events,
        merchants: &merchants,
        allow_private: value("allow_private") == "on",
        created_by: Some(me.id),
    };
    let mut errors = FieldErrors::default();
    if let Some(refusal) = refused.first() {
        errors.add("form", ctx.t(refusal.message_key()));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, ctx, errors, None).await?).into_response());
    }
    match webhooks::add(&state.db, &request).await {
        Ok((id, secret)) => {
            tracing::info!(endpoint_id = id, admin = me.id, "webhook endpoint added");
            Ok(page(&state, ctx, FieldErrors::default(), Some(secret)).await?.into_response())
        }
        Err(AddError::Db(e)) => Err(e.into()),
        Err(e) => {
            let (key, args) = e.message();
            errors.add("form", ctx.t_args(key, &args));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, ctx, errors, None).await?).into_response())
        }
    }
}

pub async fn disable(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    if !store::disable(&state.db, id).await? {
        return Err(AppError::not_found());
    }
    Ok(Redirect::to("/admin/webhooks").into_response())
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    if !store::delete(&state.db, id).await? {
        return Err(AppError::not_found());
    }
    Ok(Redirect::to("/admin/webhooks").into_response())
}

/// Makes one failed delivery due now, for one more attempt (after the receiver was fixed).
pub async fn retry(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    if !store::retry_failed(&state.db, id, now_unix()).await? {
        return Err(AppError::not_found());
    }
    Ok(Redirect::to("/admin/webhooks").into_response())
}
