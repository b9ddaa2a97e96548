//! One-read messages across a redirect (Post/Redirect/Get): a form's handler sets a flash and
//! redirects; the page it lands on shows the flash once and clears it, so a reload neither
//! submits the form again nor shows the message twice.
//!
//! The flash travels in a short-lived HttpOnly cookie signed for the visitor's session, never
//! in the URL (logs, history, referrers) and never in the database: a new API token's secret is
//! shown once and stored nowhere but as its hash.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::session::{Keys, SessionToken, read_cookie};
use crate::i18n::Lang;

const COOKIE: &str = "redress_flash";
/// Long enough for the redirect that follows the form, short enough not to linger if it fails.
const MAX_AGE_SECS: i64 = 120;

/// A confirmation for the next page: a catalog key, its arguments, and at most one secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub key: String,
    #[serde(default)]
    pub args: Vec<(String, String)>,
    /// Shown once, verbatim (a new API token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// When the cookie was made (Unix seconds), inside what is signed: the cookie's `Max-Age`
    /// is the browser's to honour, this limit is the server's.
    #[serde(default)]
    at: i64,
}

impl Flash {
    pub fn new(key: &str) -> Flash {
        Flash { key: key.to_owned(), ..Flash::default() }
    }

    pub fn arg(mut self, name: &str, value: impl Into<String>) -> Flash {
        self.args.push((name.to_owned(), value.into()));
        self
    }

    pub fn secret(mut self, secret: String) -> Flash {
        self.secret = Some(secret);
        self
    }

    /// The message in the reader's language.
    pub fn text(&self, lang: Lang) -> String {
        let args: Vec<(&str, String)> = self.args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        lang.t_args(&self.key, &args)
    }

    /// The `Set-Cookie` that carries this flash to the page at `path` (and below).
    pub fn cookie(&self, keys: &Keys, session: &SessionToken, path: &str, secure: bool) -> HeaderValue {
        let stamped = Flash { at: crate::db::now_unix(), ..self.clone() };
        let body = serde_json::to_vec(&stamped).expect("a flash serialises");
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(body);
        let value = format!("{body}.{}", keys.flash_sig(session, &body));
        header(&value, path, MAX_AGE_SECS, secure)
    }

    /// The flash the request carries, if it is this session's and well formed.
    pub fn read(headers: &HeaderMap, keys: &Keys, session: &SessionToken) -> Option<Flash> {
        let value = read_cookie(headers, COOKIE)?;
        let (body, sig) = value.split_once('.')?;
        if !keys.verify_flash(session, body, sig) {
            return None;
        }
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body).ok()?;
        let flash: Flash = serde_json::from_slice(&json).ok()?;
        let age = crate::db::now_unix() - flash.at;
        (-5..=MAX_AGE_SECS).contains(&age).then_some(flash)
    }

    /// The `Set-Cookie` that removes the flash once it was read.
    pub fn clear(path: &str, secure: bool) -> HeaderValue {
        header("", path, 0, secure)
    }

    /// Whether the request carries a flash cookie at all (to clear it even when it is invalid).
    pub fn present(headers: &HeaderMap) -> bool {
        read_cookie(headers, COOKIE).is_some()
    }
}

/// The flash a page was sent with, taken from the request; [`Incoming::finish`] clears it.
pub struct Incoming {
    pub flash: Option<Flash>,
    present: bool,
    secure: bool,
}

impl FromRequestParts<AppState> for Incoming {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let flash = parts.extensions.get::<SessionToken>().and_then(|s| Flash::read(&parts.headers, &state.keys, s));
        Ok(Incoming { flash, present: Flash::present(&parts.headers), secure: state.config.secure_cookies() })
    }
}

impl Incoming {
    /// The page's response, clearing the flash (set for `path`) so that a reload shows it no more.
    pub fn finish(self, path: &str, page: impl IntoResponse) -> Response {
        let mut response = page.into_response();
        if self.present {
            response.headers_mut().append(SET_COOKIE, Flash::clear(path, self.secure));
        }
        response
    }
}

/// Post/Redirect/Get: a redirect (303) to `to` carrying `flash` for the pages under `path`.
pub fn redirect(state: &AppState, session: &SessionToken, to: &str, path: &str, flash: &Flash) -> Response {
    let mut response = Redirect::to(to).into_response();
    let cookie = flash.cookie(&state.keys, session, path, state.config.secure_cookies());
    response.headers_mut().append(SET_COOKIE, cookie);
    response
}

fn header(value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!("{COOKIE}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    HeaderValue::from_str(&text).expect("base64 and ASCII paths make a valid header")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(cookie: &HeaderValue) -> HeaderMap {
        let pair = cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
        let mut headers = HeaderMap::new();
        headers.insert(axum::http::header::COOKIE, HeaderValue::from_str(&pair).unwrap());
        headers
    }

    #[test]
    fn a_flash_reads_back_only_in_the_session_it_was_made_for() {
        let keys = Keys::new(b"secret");
        let mine = SessionToken::generate();
        let flash = Flash::new("admin.users.created").arg("email", "a@example.com").secret("s3cret".into());
        let headers = request_with(&flash.cookie(&keys, &mine, "/admin", false));
        let read = Flash::read(&headers, &keys, &mine).expect("its own session reads it");
        assert_eq!((read.key, read.args, read.secret), (flash.key, flash.args, flash.secret));
        assert_eq!(Flash::read(&headers, &keys, &SessionToken::generate()), None);
        assert_eq!(Flash::read(&headers, &Keys::new(b"other"), &mine), None);
    }

    #[test]
    fn a_flash_older_than_its_limit_is_not_read_whatever_the_browser_kept() {
        let keys = Keys::new(b"secret");
        let mine = SessionToken::generate();
        let signed = |at: i64| {
            let flash = Flash { at, ..Flash::new("admin.tokens.created").secret("s3cret".into()) };
            let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&flash).unwrap());
            let value = format!("{COOKIE}={body}.{}", keys.flash_sig(&mine, &body));
            request_with(&HeaderValue::from_str(&value).unwrap())
        };
        let now = crate::db::now_unix();
        assert!(Flash::read(&signed(now - 10), &keys, &mine).is_some());
        assert_eq!(Flash::read(&signed(now - MAX_AGE_SECS - 1), &keys, &mine), None);
        assert_eq!(Flash::read(&signed(0), &keys, &mine), None, "a cookie from before the limit existed");
    }

    #[test]
    fn clearing_expires_the_cookie() {
        let clear = Flash::clear("/admin", true);
        let text = clear.to_str().unwrap();
        assert!(text.contains("Max-Age=0") && text.contains("Secure") && text.starts_with("redress_flash=;"));
    }
}
