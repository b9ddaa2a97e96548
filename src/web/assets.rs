//! The static files (`static/`), built into the binary so that it serves styled pages from any
//! directory. Names carry a version query (`?v=…`, see `AppState::static_version`), so a file
//! may be cached for a year; the ETag answers a revalidation without the body.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

/// Every built-in file's name and content, in name order (for the version hash).
pub fn all() -> Vec<(String, Vec<u8>)> {
    let mut names: Vec<String> = Static::iter().map(|n| n.into_owned()).collect();
    names.sort();
    names.into_iter().filter_map(|n| Static::get(&n).map(|f| (n, f.data.into_owned()))).collect()
}

pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(file) = Static::get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    let etag_header = (header::ETAG, HeaderValue::from_str(&etag).expect("hex is a valid header value"));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, [cache, etag_header]).into_response();
    }
    let mime =
        HeaderValue::from_str(file.metadata.mimetype()).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // Compression is the router's CompressionLayer: it picks gzip when the client asks for it.
    ([(header::CONTENT_TYPE, mime), cache, etag_header], file.data.into_owned()).into_response()
}
