//! The language switch: remembers the choice in a cookie and returns to the page it came from.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::db::users;
use crate::i18n::Lang;
use crate::web::context::LANG_COOKIE;
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState};

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
    #[serde(default)]
    next: String,
}

pub async fn switch(
    State(state): State<AppState>,
    user: Option<Extension<CurrentUser>>,
    Form(form): Form<LangForm>,
) -> Result<Response, AppError> {
    let lang = Lang::parse(&form.lang).ok_or_else(|| {
        AppError::new(axum::http::StatusCode::BAD_REQUEST, "unknown_language", "error.http.bad_request")
    })?;
    let cookie = remember(&state, user.as_ref().map(|Extension(u)| u), lang).await?;
    let mut response = Redirect::to(safe_next(&form.next)).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// Remembers a language choice: the cookie to set, and a signed-in person's setting, which
/// follows them to other devices and into emails.
pub async fn remember(state: &AppState, user: Option<&CurrentUser>, lang: Lang) -> Result<HeaderValue, AppError> {
    if let Some(user) = user {
        users::set_lang(&state.db, user.id, lang.code()).await?;
    }
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    let cookie = format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}", lang.code());
    Ok(HeaderValue::from_str(&cookie)?)
}

/// Only paths on this site: an absolute or protocol-relative URL would make this an open redirect.
pub fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
    if local && !next.chars().any(char::is_control) { next } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn redirects_stay_on_site() {
        assert_eq!(safe_next("/cases/12?x=1"), "/cases/12?x=1");
        assert_eq!(safe_next("https://evil.example/"), "/");
        assert_eq!(safe_next("//evil.example/"), "/");
        assert_eq!(safe_next("/\\evil.example/"), "/");
        assert_eq!(safe_next(""), "/");
        assert_eq!(safe_next("/a\r\nSet-Cookie: x"), "/");
    }
}
