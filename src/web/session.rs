//! Browser sessions: the session cookie every visitor carries and the keys that sign CSRF tokens.
//!
//! Every visitor gets a random session token in an HttpOnly cookie, so forms can carry a CSRF
//! token bound to it before anyone signs in; nothing is written to the database for anonymous
//! visitors. Signing in issues a new token (no session fixation).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{AppError, AppState};
use crate::db::users;
use crate::domain::access::Viewer;
use crate::domain::role::Role;
use crate::i18n::Lang;

type HmacSha256 = Hmac<Sha256>;

/// Keys derived from the deployment's secret.
pub struct Keys {
    secret: Vec<u8>,
}

impl Keys {
    pub fn new(secret: &[u8]) -> Keys {
        Keys { secret: secret.to_vec() }
    }

    fn mac(&self, purpose: &str, data: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        mac
    }

    /// The CSRF token for forms shown to the holder of `session`. URL-safe base64 rather than
    /// hex: a form field goes through the screen like any other, and 64 hex characters hold a
    /// run of 13+ decimal digits that passes Luhn often enough (about one token in a hundred)
    /// to be refused as a card number.
    pub fn csrf_token(&self, session: &SessionToken) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.mac("csrf", &session.0).finalize().into_bytes())
    }

    /// The signature of a status link to case `case_id` that works until the Unix second
    /// `until`: it shows that one case to whoever holds it, without signing in (issue 15).
    pub fn case_status_sig(&self, case_id: i64, until: i64) -> String {
        let data = format!("{case_id}:{until}");
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.mac("case_status", &data).finalize().into_bytes())
    }

    /// Checks a status link's signature in constant time (the expiry is the caller's to check).
    pub fn verify_case_status(&self, case_id: i64, until: i64, given: &str) -> bool {
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(given) else { return false };
        self.mac("case_status", &format!("{case_id}:{until}")).verify_slice(&bytes).is_ok()
    }

    /// The signature of a flash (`web::flash`) for the holder of `session` only.
    pub fn flash_sig(&self, session: &SessionToken, body: &str) -> String {
        let data = format!("{}:{body}", session.0);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.mac("flash", &data).finalize().into_bytes())
    }

    /// Checks a flash's signature in constant time.
    pub fn verify_flash(&self, session: &SessionToken, body: &str, given: &str) -> bool {
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(given) else { return false };
        self.mac("flash", &format!("{}:{body}", session.0)).verify_slice(&bytes).is_ok()
    }

    /// Checks a submitted CSRF token in constant time.
    pub fn verify_csrf(&self, session: &SessionToken, given: &str) -> bool {
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(given) else { return false };
        self.mac("csrf", &session.0).verify_slice(&bytes).is_ok()
    }
}

/// The visitor's session token (from the cookie, or freshly made), as a request extension.
#[derive(Clone, Debug)]
pub struct SessionToken(pub String);

impl SessionToken {
    pub fn generate() -> SessionToken {
        let bytes: [u8; 32] = rand::random();
        SessionToken(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    fn is_well_formed(text: &str) -> bool {
        text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }
}

/// `__Host-` pins the cookie to this exact origin, but browsers accept it only over https.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-redress_session" } else { "redress_session" }
}

pub fn session_cookie(token: &SessionToken, secure: bool) -> HeaderValue {
    let secure_attr = if secure { "; Secure" } else { "" };
    let value = format!("{}={}; Path=/; HttpOnly; SameSite=Lax{secure_attr}", cookie_name(secure), token.0);
    HeaderValue::from_str(&value).expect("token and name are ASCII")
}

/// The value of cookie `name` from the request's `Cookie` headers.
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The signed-in person, as a request extension (absent for anonymous visitors).
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub lang: Option<Lang>,
    /// The merchants a merchant user works for (empty for other roles).
    pub merchants: Vec<String>,
}

impl CurrentUser {
    /// This person, as the access policy sees them.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer { role: self.role, user_id: Some(self.id), token_id: None, merchants: &self.merchants }
    }
}

/// A session ends after this long without a request…
pub const IDLE_TIMEOUT_SECS: i64 = 2 * 60 * 60;
/// …and after this long in any case.
pub const ABSOLUTE_TIMEOUT_SECS: i64 = 12 * 60 * 60;

/// Middleware: makes sure every request has a session token, resolves the signed-in user, and
/// sets the cookie on the response when the token is new.
pub async fn load(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, AppError> {
    // Machines and static files need no session (and the API must not ride on cookies).
    let path = req.uri().path();
    if path.starts_with("/api/") || path.starts_with("/static/") || path == "/healthz" || path == "/readyz" {
        return Ok(next.run(req).await);
    }
    let secure = state.config.secure_cookies();
    let name = cookie_name(secure);
    let mut token = read_cookie(req.headers(), name).filter(|t| SessionToken::is_well_formed(t)).map(SessionToken);
    if let Some(t) = &token {
        match signed_in_user(&state, t).await? {
            SessionState::SignedIn(user) => {
                req.extensions_mut().insert(user);
            }
            SessionState::Anonymous => {}
            // An ended session's token is never reused, even for anonymous browsing.
            SessionState::Ended => token = None,
        }
    }
    let fresh = token.is_none();
    let token = token.unwrap_or_else(SessionToken::generate);
    req.extensions_mut().insert(token.clone());

    let mut response = next.run(req).await;
    let already_set = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(&format!("{name}="))));
    if fresh && !already_set {
        response.headers_mut().append(header::SET_COOKIE, session_cookie(&token, secure));
    }
    Ok(response)
}

enum SessionState {
    SignedIn(CurrentUser),
    Anonymous,
    Ended,
}

async fn signed_in_user(state: &AppState, token: &SessionToken) -> Result<SessionState, AppError> {
    let hash = crate::auth::token::digest(&token.0);
    let Some(session) = users::find_session(&state.db, &hash).await? else { return Ok(SessionState::Anonymous) };
    let now = crate::db::now_unix();
    let expired = now - session.last_seen_at > IDLE_TIMEOUT_SECS || now - session.created_at > ABSOLUTE_TIMEOUT_SECS;
    let Some(role) = Role::parse(&session.user.role) else { return Ok(SessionState::Ended) };
    if expired || session.user.disabled_at.is_some() {
        users::delete_session(&state.db, &hash).await?;
        return Ok(SessionState::Ended);
    }
    // Recording activity is a write; once a minute is precise enough for a two-hour idle limit.
    if now - session.last_seen_at > 60 {
        users::touch_session(&state.db, &hash).await?;
    }
    Ok(SessionState::SignedIn(CurrentUser {
        id: session.user.id,
        email: session.user.email,
        role,
        lang: session.user.lang.as_deref().and_then(Lang::parse),
        merchants: session.merchants,
    }))
}

/// Starts a signed-in session under a new token (the old token, possibly planted by someone
/// else, is not upgraded) and returns the cookie that carries it.
pub async fn sign_in(state: &AppState, user_id: i64) -> Result<HeaderValue, AppError> {
    let token = SessionToken::generate();
    users::create_session(&state.db, &crate::auth::token::digest(&token.0), user_id).await?;
    Ok(session_cookie(&token, state.config.secure_cookies()))
}

/// Ends the session server-side and returns a cookie with a fresh anonymous token.
pub async fn sign_out(state: &AppState, token: &SessionToken) -> Result<HeaderValue, AppError> {
    users::delete_session(&state.db, &crate::auth::token::digest(&token.0)).await?;
    Ok(session_cookie(&SessionToken::generate(), state.config.secure_cookies()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_are_bound_to_the_session() {
        let keys = Keys::new(b"a secret that is long enough for tests");
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        let token = keys.csrf_token(&a);
        assert!(keys.verify_csrf(&a, &token));
        assert!(!keys.verify_csrf(&b, &token));
        assert!(!keys.verify_csrf(&a, "not-hex"));
        assert!(!keys.verify_csrf(&a, ""));
        let other_keys = Keys::new(b"another secret that is long enough too");
        assert!(!other_keys.verify_csrf(&a, &token));
    }

    #[test]
    fn csrf_tokens_pass_the_screen_every_form_field_goes_through() {
        // Hex tokens were refused as card numbers about once in a hundred.
        let keys = Keys::new(b"a secret that is long enough for tests");
        for _ in 0..20_000 {
            let token = keys.csrf_token(&SessionToken::generate());
            assert_eq!(crate::domain::screen::screen(&token, crate::domain::screen::Shape::Line), Ok(()), "{token}");
        }
    }

    #[test]
    fn generated_tokens_are_well_formed_and_distinct() {
        let a = SessionToken::generate();
        assert!(SessionToken::is_well_formed(&a.0));
        assert_ne!(a.0, SessionToken::generate().0);
        assert!(!SessionToken::is_well_formed("short"));
    }

    #[test]
    fn cookies_are_read_by_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; redress_session=xyz; b=2"));
        assert_eq!(read_cookie(&h, "redress_session").as_deref(), Some("xyz"));
        assert_eq!(read_cookie(&h, "missing"), None);
    }
}
