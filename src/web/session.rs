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

use super::AppState;

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

    /// The CSRF token for forms shown to the holder of `session`.
    pub fn csrf_token(&self, session: &SessionToken) -> String {
        hex::encode(self.mac("csrf", &session.0).finalize().into_bytes())
    }

    /// Checks a submitted CSRF token in constant time.
    pub fn verify_csrf(&self, session: &SessionToken, given: &str) -> bool {
        let Ok(bytes) = hex::decode(given) else { return false };
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

/// Middleware: makes sure every request has a session token and the response sets it if new.
pub async fn load(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let secure = state.config.secure_cookies();
    let name = cookie_name(secure);
    let existing = read_cookie(req.headers(), name).filter(|t| SessionToken::is_well_formed(t));
    let fresh = existing.is_none();
    let token = existing.map(SessionToken).unwrap_or_else(SessionToken::generate);
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
    response
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
