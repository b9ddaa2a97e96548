//! `GET /cases/{id}/pack.pdf`: the evidence pack (DESIGN.md §11) for the case's customer and
//! the desk, in the reader's language. Merchant staff have their own records and the case page;
//! the pack is the customer's to take to their bank.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::page::{may_see, note_visible};
use crate::db::{self, cases};
use crate::domain::role::Role;
use crate::i18n::{Lang, format};
use crate::pack::{PackInput, PackRecord, TimelineEntry};
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

pub async fn download(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let case = cases::get(&state.db, id).await?.filter(|c| may_see(&user, c)).ok_or_else(AppError::not_found)?;
    if user.role == Role::Merchant {
        return Err(AppError::forbidden());
    }
    let lang = ctx.lang;
    let mut records = Vec::new();
    for debit in cases::matched_debits(&state.db, id).await? {
        // The journal row joined as matching joins it (§3.2): by RRN, or for a payment that got
        // no answer, by trace, card, amount and time.
        let around = cases::journal_around(&state.db, &debit).await?;
        let journal = crate::domain::finding::find_journal(&debit, &around).cloned();
        let shop = db::merchants::shop(&state.db, debit.merchant_id.as_str(), debit.terminal_id.as_str()).await?;
        let merchant_name = shop.name(lang == Lang::En).map(|_| format::shop(&shop, lang));
        records.push(PackRecord { debit, journal, merchant_name });
    }
    let timeline = cases::audit(&state.db, id)
        .await?
        .into_iter()
        .filter_map(|e| {
            let at = jiff::Timestamp::from_second(e.at).ok()?;
            Some(TimelineEntry {
                at,
                // The system's notes are codes (the finding it recorded); the pack says the
                // finding in words above.
                // Notes are kept in canonical form (amounts, batch/trace/RRN): in words, as on the page (§8).
                note: e
                    .note
                    .filter(|_| e.actor != "system" && note_visible(user.role, &e.actor, &e.action))
                    .map(|n| super::notes::in_words(&e.action, &n, &state.config.timezone, lang)),
                actor: e.actor,
                action: e.action,
                to_state: e.to_state,
            })
        })
        .collect();
    let evidence = if user.viewer().may_see_evidence(&case.scope()) {
        db::evidence::of_case(&state.db, id).await?
    } else {
        Vec::new()
    };
    let case_url = state.config.base_url.join(&format!("cases/{id}")).map(|u| u.to_string()).unwrap_or_default();
    let shop = crate::cases::view::explained_shop(&state.db, &case).await?;
    let input = PackInput {
        case: &case,
        shop,
        records,
        timeline,
        evidence,
        lang,
        tz: &state.config.timezone,
        now: jiff::Timestamp::now(),
        case_url,
    };
    let document = crate::pack::content::document(&input);
    // Laying out and drawing a few pages is CPU work of some milliseconds: off the async threads.
    let bytes = tokio::task::spawn_blocking(move || crate::pack::render::pdf(&document)).await??;
    let file_name = format!("redress-case-{id}.pdf");
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{file_name}\"")),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
