//! Admin: merchants and their terminals.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::db::merchants::{self, Location, MerchantRow, NewMerchant, TerminalRow};
use crate::domain::records::{is_merchant_id, is_terminal_id};
use crate::web::flash::{self, Flash, Incoming};
use crate::web::forms::FieldErrors;
use crate::web::screen::Refused;
use crate::web::session::SessionToken;
use crate::web::{AppError, AppState, PageContext};

pub struct MerchantView {
    pub merchant: MerchantRow,
    pub terminals: Vec<TerminalRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/merchants.html")]
pub struct MerchantsPage {
    ctx: PageContext,
    merchants: Vec<MerchantView>,
    errors: FieldErrors,
    /// What the last action did (a merchant or terminal registered), shown once.
    done: Option<String>,
}

const PATH: &str = "/admin/merchants";

async fn page(state: &AppState, ctx: PageContext, errors: FieldErrors) -> Result<MerchantsPage, AppError> {
    let mut views = Vec::new();
    for merchant in merchants::list_merchants(&state.db).await? {
        let terminals = merchants::terminals_of(&state.db, &merchant.merchant_id).await?;
        views.push(MerchantView { merchant, terminals });
    }
    Ok(MerchantsPage { ctx, merchants: views, errors, done: None })
}

pub async fn list(State(state): State<AppState>, ctx: PageContext, flash: Incoming) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let mut page = page(&state, ctx, FieldErrors::default()).await?;
    page.done = flash.flash.as_ref().map(|f| f.text(lang));
    Ok(flash.finish(PATH, page))
}

#[derive(Deserialize)]
pub struct MerchantForm {
    #[serde(default)]
    merchant_id: String,
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
}

pub async fn create(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(session): Extension<SessionToken>,
    refused: Refused,
    Form(form): Form<MerchantForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let id = form.merchant_id.trim();
    if !is_merchant_id(id) {
        errors.add("merchant_id", ctx.t("admin.error.merchant_id"));
    }
    let (name_zh, name_en) = (form.name_zh.trim(), form.name_en.trim());
    if name_zh.is_empty() || name_en.is_empty() || name_zh.chars().count() > 100 || name_en.chars().count() > 100 {
        errors.add("name", ctx.t("admin.error.merchant_names"));
    }
    refused.explain(&mut errors, ctx.lang);
    if !errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, ctx, errors).await?).into_response());
    }
    merchants::upsert_merchant(&state.db, &NewMerchant { merchant_id: id, name_zh, name_en }).await?;
    let name = if ctx.lang == crate::i18n::Lang::En { name_en } else { name_zh };
    let done = Flash::new("reading.admin.merchant_saved").arg("name", name).arg("merchant_id", id);
    Ok(flash::redirect(&state, &session, PATH, PATH, &done))
}

#[derive(Deserialize)]
pub struct TerminalForm {
    #[serde(default)]
    merchant_id: String,
    #[serde(default)]
    terminal_id: String,
    #[serde(default)]
    location: String,
    /// Where it stands, for English readers (optional).
    #[serde(default)]
    location_en: String,
}

pub async fn add_terminal(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(session): Extension<SessionToken>,
    refused: Refused,
    Form(form): Form<TerminalForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let (mid, tid) = (form.merchant_id.trim(), form.terminal_id.trim());
    if merchants::get_merchant(&state.db, mid).await?.is_none() {
        errors.add("terminal", ctx.t("admin.error.merchant_unknown"));
    } else if !is_terminal_id(tid) {
        errors.add("terminal", ctx.t("admin.error.terminal_id"));
    }
    refused.explain(&mut errors, ctx.lang);
    if !errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, ctx, errors).await?).into_response());
    }
    let location: String = form.location.trim().chars().take(100).collect();
    let location_en: String = form.location_en.trim().chars().take(100).collect();
    merchants::upsert_terminal(&state.db, mid, tid, &Location { text: &location, en: &location_en }).await?;
    let done = Flash::new("reading.admin.terminal_saved").arg("terminal_id", tid).arg("merchant_id", mid);
    Ok(flash::redirect(&state, &session, PATH, PATH, &done))
}
