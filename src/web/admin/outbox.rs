//! Admin: the email outbox — every notice with its rendered text, so a trial without SMTP shows all
//! mail — and a second chance for notices whose delivery failed for good.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::db::now_unix;
use crate::db::outbox::{self, Counts, OutboxRow};
use crate::i18n::{Lang, format};
use crate::web::{AppError, AppState, PageContext};

pub struct NoticeView {
    pub row: OutboxRow,
    /// What kind of notice, in words (never the event's code), the language's own name, and
    /// when it was queued, as the reader writes times.
    pub event: String,
    pub lang: &'static str,
    pub created: String,
    /// When a pending notice that already failed will be tried again, in the deployment's zone.
    pub next_attempt: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/outbox.html")]
pub struct OutboxPage {
    ctx: PageContext,
    notices: Vec<NoticeView>,
    counts: Counts,
    smtp_configured: bool,
    /// The next (older) page, when there is one.
    older: Option<String>,
    /// Whether this is a later page (then "newest" leads back to the first).
    paged: bool,
}

/// Notices per page: a page reads in a few screens, not 12,800 px.
const PAGE_SIZE: i64 = 20;

#[derive(serde::Deserialize)]
pub struct PageQuery {
    /// Show notices older than this one (the last of the previous page).
    #[serde(default)]
    before: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<PageQuery>,
) -> Result<OutboxPage, AppError> {
    let tz = &state.config.timezone;
    let lang = ctx.lang;
    let mut rows = outbox::older_than(&state.db, q.before.unwrap_or(i64::MAX), PAGE_SIZE + 1).await?;
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let older = rows.last().filter(|_| more).map(|r| format!("/admin/outbox?before={}", r.id));
    let notices = rows
        .into_iter()
        .map(|row| {
            let next_attempt = (row.status == "pending" && row.attempts > 0)
                .then(|| jiff::Timestamp::from_second(row.next_attempt_at).ok())
                .flatten()
                .map(|t| format::datetime(t, tz, lang));
            let event = event_words(&row.event, lang);
            let created = format::unix_datetime(row.created_at, tz, lang);
            let notice_lang = Lang::parse(&row.lang).map_or("", Lang::native_name);
            NoticeView { row, next_attempt, event, lang: notice_lang, created }
        })
        .collect();
    Ok(OutboxPage {
        ctx,
        notices,
        counts: outbox::counts(&state.db).await?,
        smtp_configured: state.config.smtp_url.is_some(),
        older,
        paged: q.before.is_some(),
    })
}

/// A notice's event (`money_arrived`, `verify_email`, …) in words; an event this page has no
/// words for yet is called a notice, never shown as its code.
fn event_words(event: &str, lang: Lang) -> String {
    let key = format!("reading.event.{event}");
    if crate::i18n::catalog().contains(&key) { lang.t(&key) } else { lang.t("reading.event.other") }.to_owned()
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

/// Makes one failed notice due now, for one more attempt (after the mail server was fixed).
pub async fn retry(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    if outbox::retry_failed(&state.db, Some(id), now_unix()).await? == 0 {
        // Unknown, or not failed (sent meanwhile, or already retried): nothing to do.
        return Err(AppError::not_found());
    }
    Ok(Redirect::to("/admin/outbox").into_response())
}

/// Makes every failed notice due now.
pub async fn retry_all(State(state): State<AppState>) -> Result<Response, AppError> {
    let n = outbox::retry_failed(&state.db, None, now_unix()).await?;
    tracing::info!(notices = n, "admin retried failed notices");
    Ok(Redirect::to("/admin/outbox").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_notice_event_has_words_and_unknown_ones_no_code() {
        use crate::domain::case_state::Event;
        let events =
            Event::ALL.iter().map(|e| e.as_str()).chain([crate::mail::VERIFY_EMAIL, crate::mail::PASSWORD_RESET]);
        for event in events.chain(["exceptions_found", "terminal_alert"]) {
            for lang in Lang::ALL {
                let words = event_words(event, lang);
                assert_ne!(words, lang.t("reading.event.other"), "{event} has no words");
                assert!(!words.contains('_'), "{event}: {words}");
            }
        }
        assert_eq!(event_words("some_new_event", Lang::En), Lang::En.t("reading.event.other"));
    }
}
