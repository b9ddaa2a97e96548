//! `/metrics` for Prometheus, behind a bearer token, and the middleware that counts requests.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::AppState;

/// Counts and times every request under its route template. Requests that matched no route
/// (404s, probes) share one label, so a scanner cannot mint new series.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map(|p| route_label(p.as_str()));
    let response = next.run(request).await;
    let route = route.unwrap_or("unmatched".into());
    crate::metrics::request(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

/// The route template as a label; nested services (`/static`) carry axum's tail parameter,
/// which is written as `*`.
fn route_label(template: &str) -> String {
    match template.split_once("/{*") {
        Some((prefix, _)) => format!("{prefix}/*"),
        None => template.to_owned(),
    }
}

/// The exposition. Without `REDRESS_METRICS_TOKEN` there are no metrics (404, like any unknown
/// path); with it, only that bearer token reads them.
pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = &state.config.metrics_token else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .unwrap_or("");
    // Comparing digests, not the tokens, takes the same time however much of a guess is right.
    if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.expose().as_bytes()) {
        return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a metrics token is needed\n")
            .into_response();
    }
    match crate::metrics::render(&state.db).await {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not count for /metrics");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_tails_become_a_star() {
        assert_eq!(route_label("/static/{*__private__axum_nest_tail_param}"), "/static/*");
        assert_eq!(route_label("/cases/{id}"), "/cases/{id}");
    }
}
