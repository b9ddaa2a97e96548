//! Security middleware: strict response headers and the CSRF guard on every state-changing form.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use super::session::SessionToken;
use super::{AppError, AppState};

/// No inline script or style anywhere, so the policy can forbid both.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Middleware: adds the security headers to every response that does not set its own.
pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    let mut set = |name: &'static str, value: &'static str| {
        if !h.contains_key(name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set("content-security-policy", CSP);
    set("x-content-type-options", "nosniff");
    set("x-frame-options", "DENY");
    set("referrer-policy", "same-origin");
    set("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()");
    set("cross-origin-opener-policy", "same-origin");
    set("cross-origin-resource-policy", "same-origin");
    // Case pages hold personal data: keep them out of shared and back-button caches.
    set("cache-control", "no-store");
    if state.config.secure_cookies() {
        set("strict-transport-security", "max-age=63072000; includeSubDomains");
    }
    response
}

/// The form field, query parameter or header that carries the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
const CSRF_HEADER: &str = "x-csrf-token";

/// Middleware: refuses a state-changing request from another site or without this session's token.
///
/// The token is looked for in the `x-csrf-token` header, the `_csrf` query parameter (programs
/// may send it so), the `_csrf` field of a URL-encoded form body, or the first field of a
/// multipart upload (upload forms start with it, so no token is in any URL).
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Result<Response, AppError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.run(req).await);
    }
    if !same_origin(&req, &state) {
        return Err(AppError::csrf());
    }
    let session = req.extensions().get::<SessionToken>().cloned().ok_or_else(AppError::csrf)?;

    let header_token = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let query_token = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned())
    });
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));

    let boundary =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(super::csrf_field::boundary);

    let (req, body_token) = if is_form && header_token.is_none() && query_token.is_none() {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, super::BODY_LIMIT).await.map_err(|_| AppError::payload_too_large())?;
        let token = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
        (Request::from_parts(parts, Body::from(bytes)), token)
    } else if let (Some(boundary), None, None) = (boundary, &header_token, &query_token) {
        // An upload: the token is the form's first field. Only the body's start is read; the
        // file streams on to the handler.
        multipart_token(req, &boundary).await?
    } else {
        (req, None)
    };

    let given = header_token.or(query_token).or(body_token).unwrap_or_default();
    if !state.keys.verify_csrf(&session, &given) {
        return Err(AppError::csrf());
    }
    Ok(next.run(req).await)
}

/// Reads the `_csrf` field that starts a multipart body, and gives back the request with its
/// body whole (the part read, then the rest as it streams).
async fn multipart_token(req: Request, boundary: &str) -> Result<(Request, Option<String>), AppError> {
    use super::csrf_field::{FirstField, first_field};
    use futures_util::StreamExt;
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut head = Vec::new();
    let token = loop {
        match first_field(&head, boundary, CSRF_FIELD) {
            FirstField::Value(token) => break Some(token),
            FirstField::Absent => break None,
            FirstField::NeedMore => match stream.next().await {
                Some(Ok(chunk)) => head.extend_from_slice(&chunk),
                Some(Err(_)) | None => break None,
            },
        }
    };
    let head = futures_util::stream::once(async move { Ok::<_, axum::Error>(bytes::Bytes::from(head)) });
    let body = Body::from_stream(head.chain(stream));
    Ok((Request::from_parts(parts, body), token))
}

/// Browsers say where a request comes from in `Origin` (or at least `Sec-Fetch-Site`).
/// Requests that send neither come from non-browser clients and still need the token.
fn same_origin(req: &Request, state: &AppState) -> bool {
    let headers = req.headers();
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let configured = state.config.base_url.origin().ascii_serialization();
        if origin == configured {
            return true;
        }
        // Also accept the host the browser addressed (e.g. localhost vs 127.0.0.1 in a trial run).
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin_host = origin.split_once("://").map(|(_, h)| h);
        return host.is_some() && origin_host == host;
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}
