//! Evidence on a case: the customer attaches files; the customer and the desk download them.
//!
//! Merchant staff see the case but not its evidence: statements and screenshots usually show
//! the cardholder's name, which DESIGN.md §1 keeps from merchants.

use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::db::cases;
use crate::db::evidence::{self, Added};
use crate::domain::evidence::{EvidenceType, MAX_BYTES, MAX_FILES_PER_CASE, safe_file_name};
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState};

pub async fn upload(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(case_id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let viewer = user.viewer();
    let case =
        cases::get(&state.db, case_id).await?.filter(|c| viewer.owns(&c.scope())).ok_or_else(AppError::not_found)?;
    let back = |outcome: &str| Redirect::to(&format!("/cases/{}?evidence={outcome}#evidence", case.id)).into_response();
    // The page offers no upload on a closed case; a request made anyway is refused the same way.
    if !viewer.may_add_evidence(&case.scope()) {
        return Ok(back("closed"));
    }
    let mut field = loop {
        match multipart.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => break f,
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return Ok(back("missing")),
        }
    };
    let given_name = field.file_name().unwrap_or_default().to_owned();
    let mut data = Vec::new();
    let mut too_large = false;
    loop {
        match field.chunk().await {
            // Past the limit the rest is read and dropped rather than left unread: answering while
            // the browser is still sending makes it show a connection reset instead of our page.
            Ok(Some(chunk)) if too_large || data.len() + chunk.len() > MAX_BYTES => {
                too_large = true;
                data.clear();
            }
            Ok(Some(chunk)) => data.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(_) => return Ok(back("too_large")),
        }
    }
    if too_large {
        return Ok(back("too_large"));
    }
    if data.is_empty() {
        return Ok(back("missing"));
    }
    let Some(kind) = EvidenceType::sniff(&data) else { return Ok(back("wrong_type")) };
    let name = safe_file_name(&given_name, kind);
    Ok(
        match evidence::add(&state.db, case.id, &name, kind.content_type(), &data, Some(user.id), MAX_FILES_PER_CASE)
            .await?
        {
            Added::Yes(_) => back("added"),
            Added::TooMany => back("too_many"),
            Added::NoSuchCase => return Err(AppError::not_found()),
        },
    )
}

/// Sends a file as an attachment: it is never displayed inside this site's pages.
pub async fn download(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((case_id, id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let case = cases::get(&state.db, case_id)
        .await?
        .filter(|c| user.viewer().may_see_evidence(&c.scope()))
        .ok_or_else(AppError::not_found)?;
    let (row, data) = evidence::get(&state.db, case.id, id).await?.ok_or_else(AppError::not_found)?;
    let encoded: String =
        url::form_urlencoded::byte_serialize(row.file_name.as_bytes()).collect::<String>().replace('+', "%20");
    let disposition = format!("attachment; filename=\"evidence-{id}\"; filename*=UTF-8''{encoded}");
    let mut response = data.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(&row.content_type)?);
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition)?);
    Ok(response)
}
