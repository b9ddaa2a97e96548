//! One error type for handlers, rendered as a page for browsers and as JSON under `/api`.
//!
//! Handlers return [`AppError`]; it carries a status, a stable code and a catalog key, but no
//! language. The [`render_errors`] middleware knows the request's language and audience and
//! writes the body, so every error (ours, axum's rejections, timeouts) looks the same.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use super::{AppState, PageContext};
use crate::auth::limits::Refused;
use crate::i18n::Lang;

#[derive(Debug)]
pub struct AppError {
    status: StatusCode,
    detail: ErrorDetail,
    source: Option<anyhow::Error>,
}

/// What the renderer needs, passed along as a response extension.
#[derive(Clone, Debug)]
pub struct ErrorDetail {
    pub code: &'static str,
    pub message_key: &'static str,
    pub args: Vec<(&'static str, String)>,
    /// For refusals by an abuse limit: seconds until a retry may succeed. Sent as `Retry-After`
    /// and, in the reader's language, as the message's `{wait}`.
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message_key: &'static str) -> AppError {
        AppError {
            status,
            detail: ErrorDetail { code, message_key, args: Vec::new(), retry_after: None },
            source: None,
        }
    }

    pub fn with_args(mut self, args: Vec<(&'static str, String)>) -> AppError {
        self.detail.args = args;
        self
    }

    pub fn not_found() -> AppError {
        AppError::new(StatusCode::NOT_FOUND, "not_found", "error.http.not_found")
    }

    pub fn forbidden() -> AppError {
        AppError::new(StatusCode::FORBIDDEN, "forbidden", "error.http.forbidden")
    }

    pub fn csrf() -> AppError {
        AppError::new(StatusCode::FORBIDDEN, "csrf_failed", "error.http.csrf")
    }

    pub fn payload_too_large() -> AppError {
        AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "error.http.too_large")
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.detail.code
    }
}

/// A refusal by an abuse limit: `429`, saying when to try again.
impl From<Refused> for AppError {
    fn from(refused: Refused) -> AppError {
        let mut error = AppError::new(StatusCode::TOO_MANY_REQUESTS, refused.code(), refused.message_key())
            .with_args(refused.args());
        error.detail.retry_after = Some(refused.retry_after());
        error
    }
}

/// A refusal's message in `lang`, for handlers that show it on their own page (the sign-in form).
pub fn refusal_message(lang: Lang, refused: &Refused) -> String {
    let mut args = refused.args();
    args.push(("wait", lang.wait(refused.retry_after())));
    lang.t_args(refused.message_key(), &args)
}

/// The `Retry-After` header for a wait of `secs`.
pub fn retry_after_header(secs: u64) -> (header::HeaderName, header::HeaderValue) {
    (header::RETRY_AFTER, header::HeaderValue::from(secs))
}

/// Anything unexpected becomes a 500 whose details go to the log, never to the user.
impl<E: Into<anyhow::Error>> From<E> for AppError {
    fn from(e: E) -> AppError {
        AppError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail: ErrorDetail {
                code: "internal",
                message_key: "error.http.internal",
                args: Vec::new(),
                retry_after: None,
            },
            source: Some(e.into()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(error = ?source, "request failed");
        }
        let mut response = self.status.into_response();
        if let Some(secs) = self.detail.retry_after {
            let (name, value) = retry_after_header(secs);
            response.headers_mut().insert(name, value);
        }
        response.extensions_mut().insert(self.detail);
        response
    }
}

/// The router's fallback: no such page.
pub async fn not_found() -> AppError {
    AppError::not_found()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: PageContext,
    status: u16,
    title: &'static str,
    message: String,
}

/// Middleware: gives every error response a body in the request's language — JSON
/// `{"error", "message"}` under `/api`, an HTML page elsewhere. Bodies a handler already
/// rendered (a form shown again with its errors, a JSON error) are left alone.
pub async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let (parts, body) = req.into_parts();
    let ctx = PageContext::new(&parts, &state);
    let response = next.run(Request::from_parts(parts, body)).await;

    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let detail = response.extensions().get::<ErrorDetail>().cloned();
    if detail.is_none() && (content_type.starts_with("text/html") || content_type.starts_with("application/json")) {
        return response;
    }
    let detail = detail.unwrap_or_else(|| default_detail(status));
    let mut args = detail.args.clone();
    if let Some(secs) = detail.retry_after {
        args.push(("wait", ctx.lang.wait(secs)));
    }
    let message = ctx.lang.t_args(detail.message_key, &args);
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);

    if is_api {
        let body = json!({"error": detail.code, "message": message}).to_string();
        parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
        return Response::from_parts(parts, body.into());
    }
    let page = ErrorPage { title: ctx.lang.t(title_key(status)), ctx, status: status.as_u16(), message };
    match page.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            for (name, value) in parts.headers.iter().filter(|(n, _)| *n != header::CONTENT_TYPE) {
                response.headers_mut().append(name, value.clone());
            }
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "error page failed to render");
            status.into_response()
        }
    }
}

/// For errors raised outside our handlers (axum rejections, timeouts, body limits).
fn default_detail(status: StatusCode) -> ErrorDetail {
    let (code, message_key) = match status {
        StatusCode::NOT_FOUND => ("not_found", "error.http.not_found"),
        StatusCode::FORBIDDEN => ("forbidden", "error.http.forbidden"),
        StatusCode::UNAUTHORIZED => ("unauthorized", "error.http.unauthorized"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "error.http.method_not_allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "error.http.too_large"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "error.http.timeout"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "error.http.bad_request"),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "error.http.too_many_requests"),
        s if s.is_client_error() => ("bad_request", "error.http.bad_request"),
        _ => ("internal", "error.http.internal"),
    };
    ErrorDetail { code, message_key, args: Vec::new(), retry_after: None }
}

fn title_key(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "error.title.not_found",
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => "error.title.forbidden",
        StatusCode::TOO_MANY_REQUESTS => "error.title.too_many_requests",
        s if s.is_client_error() => "error.title.bad_request",
        _ => "error.title.internal",
    }
}
