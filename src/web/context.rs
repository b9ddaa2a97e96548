//! What every page needs besides its own data: language, CSRF token, where it is, who is looking.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::AppState;
use super::session::{CurrentUser, SessionToken, read_cookie};
use crate::i18n::Lang;

/// The cookie that remembers a visitor's language choice.
pub const LANG_COOKIE: &str = "lang";

#[derive(Clone, Debug)]
pub struct PageContext {
    pub lang: Lang,
    pub csrf: String,
    /// The path of this page, so the language switch can come back to it.
    pub path: String,
    pub static_version: Arc<str>,
    pub user: Option<CurrentUser>,
    /// The id of a form the language switch submits instead of its own, so that switching
    /// language keeps what was typed into it (the claim form, issue 15 item 6).
    pub lang_form: Option<&'static str>,
}

impl PageContext {
    pub fn new(parts: &Parts, state: &AppState) -> PageContext {
        let csrf = parts.extensions.get::<SessionToken>().map(|s| state.keys.csrf_token(s)).unwrap_or_default();
        // Never a refused value: error pages are built from the request as it arrived.
        let query = if parts.method == axum::http::Method::GET { parts.uri.query() } else { None };
        let path = super::screen::echoable_path(parts.uri.path(), query);
        let user = parts.extensions.get::<CurrentUser>().cloned();
        let lang =
            user.as_ref().and_then(|u| u.lang).unwrap_or_else(|| negotiate(&parts.headers, state.config.default_lang));
        PageContext { lang, csrf, path, static_version: state.static_version.clone(), user, lang_form: None }
    }

    pub fn t(&self, key: &str) -> &'static str {
        self.lang.t(key)
    }

    pub fn t_args(&self, key: &str, args: &[(&str, String)]) -> String {
        self.lang.t_args(key, args)
    }

    /// The signed-in user's id; 0 (no account has it) for a visitor.
    pub fn user_id(&self) -> i64 {
        self.user.as_ref().map_or(0, |u| u.id)
    }

    /// The records browser and uploads are for merchant staff and the desk (the access policy).
    pub fn works_with_records(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.viewer().works_with_records())
    }

    pub fn role(&self) -> &'static str {
        self.user.as_ref().map_or("", |u| u.role.as_str())
    }

    pub fn langs(&self) -> [Lang; 2] {
        Lang::ALL
    }
}

/// An anonymous visitor's language: their explicit choice, else what the browser asks for, else the default.
pub fn negotiate(headers: &HeaderMap, default: Lang) -> Lang {
    read_cookie(headers, LANG_COOKIE)
        .and_then(|c| Lang::parse(&c))
        .or_else(|| {
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language)
        })
        .unwrap_or(default)
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(PageContext::new(parts, state))
    }
}
