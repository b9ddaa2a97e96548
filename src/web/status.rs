//! The status page a claim filed without an account leads to (issue 15 item 5): the case
//! number, the finding in words, the progress and, while money is on its way, when it should
//! arrive. It opens through a signed, expiring link, without signing in, and shows that one
//! case and nothing of its contact or of any other case.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::cases::view::explanation;
use crate::db::cases;
use crate::domain::account::EmailAddress;
use crate::domain::case_state::CaseState;
use crate::domain::progress;
use crate::domain::role::Role;
use crate::i18n::format;
use crate::web::case::page::{TrackerStep, next_step_key, tracker_view};
use crate::web::pages::message::MessagePage;
use crate::web::session::{self, Keys};
use crate::web::{AppError, AppState, PageContext};

/// How long a status link works: long enough to see the money arrive (§6 remedy deadlines are
/// days), short enough that a forwarded link does not show the case for ever.
pub const LINK_LIFETIME_SECS: i64 = 30 * 86_400;

/// The path of the status link to `case_id`, valid for `LINK_LIFETIME_SECS` from `now`.
pub fn link(keys: &Keys, case_id: i64, now: i64) -> String {
    let until = now + LINK_LIFETIME_SECS;
    format!("/claims/status/{case_id}?until={until}&sig={}", keys.case_status_sig(case_id, until))
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    until: i64,
    #[serde(default)]
    sig: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "claims/status.html")]
pub struct StatusPage {
    ctx: PageContext,
    case_id: i64,
    kind: String,
    state: String,
    title: String,
    explanation: String,
    tracker: Vec<TrackerStep>,
    next_step: String,
    expected_by: Option<String>,
    /// The address the confirmation link went to, when this browser just filed the claim.
    sent_to: Option<String>,
    /// This very page, to keep: the link works again until it expires.
    here: String,
}

/// The cookie the filing form leaves for the page after it (see `claims::submit`).
pub const SENT_TO_COOKIE: &str = "claim_sent_to";

pub async fn show(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<LinkQuery>,
) -> Result<Response, AppError> {
    let now = jiff::Timestamp::now().as_second();
    // A wrong or old link learns nothing, not even whether the case exists.
    if q.until < now || !state.keys.verify_case_status(id, q.until, &q.sig) {
        return Ok(MessagePage::new(ctx, "reading.status_link.invalid.title", "reading.status_link.invalid.body")
            .into_response());
    }
    let case = cases::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let tz = &state.config.timezone;
    let visited: Vec<CaseState> = cases::audit(&state.db, id)
        .await?
        .iter()
        .flat_map(|e| [Some(e.to_state.as_str()), e.from_state.as_deref()])
        .flatten()
        .filter_map(CaseState::parse)
        .collect();
    let shop = crate::cases::view::explained_shop(&state.db, &case).await?;
    let (title, text) = explanation(&case, ctx.lang, tz, shop.as_ref()).unwrap_or_default();
    let sent_to = session::read_cookie(&headers, SENT_TO_COOKIE)
        .and_then(|e| EmailAddress::parse(&e).ok())
        .map(|e| e.as_str().to_owned());
    let page = StatusPage {
        case_id: case.id,
        kind: format!("kind.{}", case.kind.as_str()),
        state: format!("state.{}", case.state.as_str()),
        title,
        explanation: text,
        tracker: tracker_view(&case, &visited),
        next_step: next_step_key(case.state, Role::Customer),
        expected_by: progress::awaits_money(case.state)
            .then(|| case.deadline_at.map(|t| format::unix_deadline(t, tz, ctx.lang)))
            .flatten(),
        sent_to,
        here: format!("/claims/status/{id}?until={}&sig={}", q.until, q.sig),
        ctx,
    };
    Ok(page.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_opens_its_own_case_only_and_until_it_expires() {
        let keys = Keys::new(b"a secret that is long enough for tests");
        let path = link(&keys, 42, 1_000);
        let query = path.split_once('?').unwrap().1;
        let until: i64 = query.split('&').next().unwrap().trim_start_matches("until=").parse().unwrap();
        let sig = query.split_once("sig=").unwrap().1;
        assert_eq!(until, 1_000 + LINK_LIFETIME_SECS);
        assert!(keys.verify_case_status(42, until, sig));
        // Another case, a longer life, another key: all refused.
        assert!(!keys.verify_case_status(43, until, sig));
        assert!(!keys.verify_case_status(42, until + 1, sig));
        assert!(!Keys::new(b"another secret that is long enough too").verify_case_status(42, until, sig));
        assert!(!keys.verify_case_status(42, until, "not base64!"));
    }
}
