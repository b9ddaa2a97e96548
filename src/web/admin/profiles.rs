//! Admin: import profiles (§3.4). Built-in ones are listed; an admin uploads others as TOML,
//! checked completely before they are stored, and deletes them.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use crate::db::profiles::{self, StoredProfile};
use crate::import::profile::{MAX_PROFILE_BYTES, Profile, builtin};
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

pub struct BuiltinRow {
    pub name: &'static str,
    pub kind: Option<&'static str>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/profiles.html")]
pub struct ProfilesPage {
    ctx: PageContext,
    builtins: Vec<BuiltinRow>,
    uploaded: Vec<StoredProfile>,
    /// What went wrong with an upload, in words.
    error: Option<String>,
    /// What went right, in words.
    notice: Option<String>,
}

async fn page(
    state: &AppState,
    ctx: PageContext,
    error: Option<String>,
    notice: Option<String>,
) -> Result<ProfilesPage, AppError> {
    let builtins =
        builtin::list().into_iter().map(|p| BuiltinRow { name: p.name, kind: p.kind.map(|k| k.as_str()) }).collect();
    Ok(ProfilesPage { ctx, builtins, uploaded: profiles::list(&state.db).await?, error, notice })
}

pub async fn list(State(state): State<AppState>, ctx: PageContext) -> Result<ProfilesPage, AppError> {
    page(&state, ctx, None, None).await
}

/// The form sends one `file`: the profile's TOML.
pub async fn upload(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(me): Extension<CurrentUser>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let mut text = None;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Ok(Some(chunk)) = field.chunk().await {
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_PROFILE_BYTES {
                break;
            }
        }
        text = Some(bytes);
    }
    let refuse = |message: String| async {
        let page = page(&state, ctx.clone(), Some(message), None).await?;
        Ok::<_, AppError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
    };
    let Some(bytes) = text.filter(|b| !b.is_empty()) else {
        return refuse(ctx.t("profiles.no_file").to_owned()).await;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return refuse(ctx.t("profiles.not_text").to_owned()).await;
    };
    let profile = match Profile::parse(&text) {
        Ok(p) => p,
        Err(e) => return refuse(e.message(ctx.lang)).await,
    };
    let name_args = [("name", profile.name.clone())];
    if builtin::text(&profile.name).is_some() || profile.name == crate::import::profile::DEFAULT {
        return refuse(ctx.t_args("profiles.exists", &name_args)).await;
    }
    let stored =
        profiles::insert(&state.db, &profile.name, profile.kind.as_str(), &profile.comment, &text, Some(me.id)).await?;
    if stored.is_none() {
        return refuse(ctx.t_args("profiles.exists", &name_args)).await;
    }
    let notice = ctx.t_args("profiles.saved", &name_args);
    Ok(page(&state, ctx, None, Some(notice)).await?.into_response())
}

pub async fn delete(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Response, AppError> {
    if !profiles::delete(&state.db, id).await? {
        return Err(AppError::not_found());
    }
    Ok(Redirect::to("/admin/profiles").into_response())
}
