//! The exceptions pages (DESIGN.md §10): `/merchant/exceptions` (the merchant's own), and
//! `/agent/exceptions` (every merchant, the most money at stake first), with filters, the ranked
//! flagged terminals, and dismissal with a written reason.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router, middleware};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use crate::db::exceptions::{self as store, ExceptionRow, Filter, FlagRow};
use crate::domain::exceptions::{ExceptionKind, ExceptionState};
use crate::exceptions::health::parse_reasons;
use crate::exceptions::notices;
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext, guard};

/// The routes of this page and of terminal health, each behind its guard.
pub fn routes() -> Router<AppState> {
    let merchant = Router::new()
        .route("/merchant/exceptions", get(merchant_list))
        .route_layer(middleware::from_fn(|r, n| guard::require(guard::MERCHANT, r, n)));
    let desk = Router::new()
        .route("/agent/exceptions", get(desk_list))
        .route_layer(middleware::from_fn(|r, n| guard::require(guard::STAFF, r, n)));
    let both = Router::new()
        .route("/exceptions/{id}/dismiss", post(dismiss))
        .route("/merchant/terminals/{terminal_id}", get(super::terminal_health::show))
        .route_layer(middleware::from_fn(|r, n| guard::require(guard::IMPORTERS, r, n)));
    merchant.merge(desk).merge(both)
}

const PAGE: i64 = 200;
/// Flags shown in the ranked list: the last week's.
pub const FLAG_WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    pub kind: String,
    pub state: String,
    pub terminal: String,
    /// Found more than this many days ago.
    pub age: String,
    /// A banner after a dismissal: `done` or `gone`.
    pub dismissed: String,
}

/// One exception as a row of the table.
pub struct RowView {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub state_code: &'static str,
    pub merchant_id: String,
    pub terminal_id: String,
    pub trace_no: String,
    pub rrn: String,
    pub amount: String,
    /// For `amount_mismatch`: what the journal says.
    pub journal_amount: Option<String>,
    pub time: String,
    pub found: String,
    pub case_id: Option<i64>,
    pub reason: Option<String>,
    pub journal_link: String,
    pub settlement_link: Option<String>,
    pub may_dismiss: bool,
}

pub struct FlagView {
    pub merchant_id: String,
    pub terminal_id: String,
    pub day: String,
    pub reasons: Vec<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "exceptions/list.html")]
pub struct ListPage {
    ctx: PageContext,
    desk: bool,
    action: &'static str,
    rows: Vec<RowView>,
    counts: Vec<(String, i64)>,
    flags: Vec<FlagView>,
    q: ListQuery,
    kinds: Vec<(&'static str, &'static str)>,
    states: Vec<(&'static str, &'static str)>,
    notice: Option<(&'static str, bool)>,
    error: Option<(i64, &'static str)>,
}

fn records_link(kind: &str, e: &ExceptionRow, by_rrn: bool) -> String {
    let s = &e.stored;
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("kind", kind).append_pair("merchant_id", &s.merchant_id).append_pair("terminal_id", &s.terminal_id);
    match (&s.rrn, by_rrn) {
        (Some(rrn), true) => q.append_pair("rrn", rrn),
        _ => q.append_pair("trace_no", &s.trace_no),
    };
    format!("/records?{}", q.finish())
}

pub fn row_view(ctx: &PageContext, tz: &jiff::tz::TimeZone, e: &ExceptionRow) -> RowView {
    let lang = ctx.lang;
    let s = &e.stored;
    let at = |t: i64| Timestamp::from_second(t).map(|t| lang.datetime(t, tz)).unwrap_or_default();
    let currency =
        crate::domain::money::Currency::from_code(&s.currency).unwrap_or(crate::domain::money::Currency::CNY);
    RowView {
        id: s.id,
        kind: ctx.t(&format!("exceptions.kind.{}", e.kind.as_str())).to_owned(),
        state: ctx.t(&format!("exceptions.state.{}", e.state.as_str())).to_owned(),
        state_code: e.state.as_str(),
        merchant_id: s.merchant_id.clone(),
        terminal_id: s.terminal_id.clone(),
        trace_no: s.trace_no.clone(),
        rrn: s.rrn.clone().unwrap_or_default(),
        amount: notices::amount(e, lang),
        journal_amount: s
            .other_minor
            .map(|m| crate::i18n::format::money(crate::domain::money::Money::new(m, currency), lang)),
        time: at(s.txn_time),
        found: at(s.found_at),
        case_id: s.case_id,
        reason: s.reason.clone(),
        journal_link: records_link("journal", e, e.kind != ExceptionKind::OrphanDebit),
        settlement_link: s.settlement_id.map(|_| records_link("settlement", e, true)),
        may_dismiss: e.state == ExceptionState::Open,
    }
}

pub fn flag_view(f: FlagRow) -> FlagView {
    FlagView {
        reasons: parse_reasons(&f.reasons).into_iter().map(|r| r.as_str()).collect(),
        merchant_id: f.merchant_id,
        terminal_id: f.terminal_id,
        day: f.day,
    }
}

async fn merchant_list(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    list(state, ctx, Some(user.merchants.clone()), q, None).await
}

async fn desk_list(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    list(state, ctx, None, q, None).await
}

async fn list(
    state: AppState,
    ctx: PageContext,
    merchants: Option<Vec<String>>,
    q: ListQuery,
    error: Option<(i64, &'static str)>,
) -> Result<Response, AppError> {
    let desk = merchants.is_none();
    let now = Timestamp::now();
    let days: Option<i64> = q.age.parse().ok().filter(|d| [1, 7, 30].contains(d));
    let filter = Filter {
        merchants: merchants.clone(),
        kind: ExceptionKind::parse(&q.kind),
        state: ExceptionState::parse(&q.state),
        terminal_id: Some(q.terminal.trim().to_owned()).filter(|t| !t.is_empty()),
        found_before: days.map(|d| (now - SignedDuration::from_hours(24 * d)).as_second()),
        by_amount: desk,
        limit: PAGE,
        ..Filter::default()
    };
    let tz = &state.config.timezone;
    let rows = store::list(&state.db, &filter).await?.iter().map(|e| row_view(&ctx, tz, e)).collect();
    let counts = store::open_counts(&state.db, merchants.as_deref())
        .await?
        .into_iter()
        .map(|(k, n)| (ctx.t(&format!("exceptions.kind.{k}")).to_owned(), n))
        .collect();
    let since = (now - FLAG_WINDOW).as_second();
    let flags = store::flagged(&state.db, merchants.as_deref(), since).await?.into_iter().map(flag_view).collect();
    let notice = match q.dismissed.as_str() {
        "done" => Some(("exceptions.dismiss.done", true)),
        "gone" => Some(("exceptions.dismiss.gone", false)),
        _ => None,
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = ListPage {
        desk,
        action: if desk { "/agent/exceptions" } else { "/merchant/exceptions" },
        rows,
        counts,
        flags,
        kinds: ExceptionKind::ALL
            .iter()
            .map(|k| (k.as_str(), ctx.t(&format!("exceptions.kind.{}", k.as_str()))))
            .collect(),
        states: ExceptionState::ALL
            .iter()
            .map(|s| (s.as_str(), ctx.t(&format!("exceptions.state.{}", s.as_str()))))
            .collect(),
        q,
        notice,
        error,
        ctx,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, Deserialize)]
pub struct DismissForm {
    #[serde(default)]
    pub reason: String,
}

/// Dismisses an open exception the person may see, with their written reason.
async fn dismiss(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    Form(form): Form<DismissForm>,
) -> Result<Response, AppError> {
    let e = store::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    // Someone else's exception does not exist for this viewer (the access policy).
    if !user.viewer().may_see_merchant(&e.stored.merchant_id) {
        return Err(AppError::not_found());
    }
    let desk = user.role.is_staff();
    let back = if desk { "/agent/exceptions" } else { "/merchant/exceptions" };
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        let merchants = (!desk).then(|| user.merchants.clone());
        return list(state, ctx, merchants, ListQuery::default(), Some((id, "exceptions.dismiss.required"))).await;
    }
    let done = store::dismiss(&state.db, id, user.id, reason).await?;
    let outcome = if done { "done" } else { "gone" };
    Ok(Redirect::to(&format!("{back}?dismissed={outcome}")).into_response())
}

/// Open exceptions of these merchants (`None`: all), for the home pages.
pub async fn open_count(state: &AppState, merchants: Option<&[String]>) -> Result<i64, AppError> {
    Ok(store::open_counts(&state.db, merchants).await?.iter().map(|(_, n)| n).sum())
}

impl ListPage {
    fn reason_key(&self, code: &str) -> String {
        format!("health.reason.{code}")
    }

    fn age_key(&self, days: &str) -> String {
        format!("exceptions.filter.age.{days}")
    }

    fn error_for(&self, id: i64) -> Option<&'static str> {
        self.error.filter(|(e, _)| *e == id).map(|(_, key)| key)
    }
}

/// An exception linked to a case, as the case page tells it (`templates/cases/known_problem.html`).
pub struct KnownProblem {
    pub kind: String,
    pub found: String,
}

/// The problems the records showed before this case was filed.
pub async fn known_problems(state: &AppState, ctx: &PageContext, case_id: i64) -> Result<Vec<KnownProblem>, AppError> {
    let tz = &state.config.timezone;
    Ok(store::of_case(&state.db, case_id)
        .await?
        .iter()
        .map(|e| KnownProblem {
            kind: ctx.t(&format!("exceptions.kind.{}", e.kind.as_str())).to_owned(),
            found: Timestamp::from_second(e.stored.found_at).map(|t| ctx.lang.datetime(t, tz)).unwrap_or_default(),
        })
        .collect())
}
