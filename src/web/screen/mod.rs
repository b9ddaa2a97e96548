//! Screening at the door: one middleware, [`guard`], runs every text a request brings — path segments, query values, form fields, JSON strings, multipart field names, file names and text fields, the headers whose text is kept — through `domain::screen` before any handler, query or log line sees it.
//!
//! A refused value is emptied before the request goes any further, so no handler can store,
//! log or echo it: the one rule for echoing is that a value that held a card number (or a
//! control character) is never shown again. What happens next depends on the route:
//! - a form whose page shows its fields again (the routes in `web::FORMS_SHOWN_AGAIN`) gets
//!   the request with the value emptied and the [`Refused`] fields as an extension; the handler
//!   puts the message next to each field ([`Refused::explain`]) and shows the form again with
//!   the other values kept. The guard checks that such a handler did answer 4xx;
//! - anything else is answered by the guard itself: 422 (400 for a path) with the message in
//!   the visitor's language, as a page or, under `/api/`, as JSON naming the fields.
//!
//! Multipart bodies stream (journal files run to a gigabyte), so they are screened on the way
//! through ([`multipart`]); a refusal there replaces whatever the handler answered.
//! CSV bodies are the importer's to screen, field by field (§3.1).

use std::borrow::Cow;
use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::context::negotiate;
use super::forms::FieldErrors;
use super::{AppError, AppState};
use crate::domain::screen::{Refusal, Shape, screen};
use crate::i18n::Lang;

pub mod multipart;

/// The longest text field a multipart body may carry (the same as a whole form body).
const TEXT_PART_LIMIT: usize = super::BODY_LIMIT;

/// How much of a refused request's body is read (and dropped) before the answer goes out: a
/// client still sending its body when the server answers and closes sees a broken connection
/// rather than the answer. Bigger bodies are cut off.
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;

/// Reads and drops what is left of a refused request's body, up to [`DRAIN_LIMIT`].
async fn drain(mut body: axum::body::BodyDataStream) {
    use futures_util::StreamExt;
    let mut read = 0;
    while let Some(Ok(chunk)) = body.next().await {
        read += chunk.len();
        if read > DRAIN_LIMIT {
            break;
        }
    }
}

/// What the screen lets through in a field, by the field's name (form fields, JSON keys,
/// query parameters and path parameters use the same names).
pub fn shape_of(field: &str) -> Shape {
    match field {
        // Text areas: a claim's description, the reason or note on a case action.
        "description" | "reason" => Shape::Text,
        // One merchant id (claims, searches, the admin's merchant and terminal forms) or a list
        // of them (the merchants a user or token works for).
        "merchant_id" | "merchants" => Shape::MerchantIds,
        _ => Shape::Line,
    }
}

/// One refused field: its name (empty when the name itself was refused) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedField {
    pub field: String,
    pub refusal: Refusal,
}

/// The fields of this request the guard refused and emptied. Handlers of the forms that are
/// shown again take it as an extractor (empty for every other request).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refused(Vec<RefusedField>);

impl Refused {
    fn push(&mut self, field: &str, refusal: Refusal) {
        self.0.push(RefusedField { field: field.to_owned(), refusal });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn fields(&self) -> &[RefusedField] {
        &self.0
    }

    /// The refusal to name when one message must speak for all: a card number first.
    pub fn first(&self) -> Option<Refusal> {
        let any = |r| self.0.iter().any(|f| f.refusal == r);
        Refusal::ALL.into_iter().find(|r| any(*r))
    }

    /// Puts each refusal's message on its field, in place of whatever validation said about the
    /// emptied value ("required", "not a valid amount"…); a refused field name goes to `form`.
    /// Afterwards `errors` is not empty, so a handler that acts only on an error-free form
    /// cannot act on this one.
    pub fn explain(&self, errors: &mut FieldErrors, lang: Lang) {
        for f in &self.0 {
            let field = if f.field.is_empty() { "form" } else { f.field.as_str() };
            errors.replace(field, lang.t(f.refusal.message_key()));
        }
    }

    /// The field names, for the log line that says something was refused (names passed the
    /// screen themselves; a refused name is logged as empty).
    fn names(&self) -> String {
        self.0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>().join(",")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Refused {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Refused>().cloned().unwrap_or_default())
    }
}

/// Middleware: screens everything the request carries; see the module documentation.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let api = parts.uri.path().starts_with("/api/");
    let lang = negotiate(&parts.headers, state.config.default_lang);
    let answer = |status: StatusCode, refused: &Refused| refusal_response(api, lang, status, refused);

    // A path or a header has no form to show again.
    let template = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_owned());
    if let Some(refusal) = refused_in_path(parts.uri.path(), template.as_deref()) {
        drain(body.into_data_stream()).await;
        return answer(StatusCode::BAD_REQUEST, &Refused(vec![RefusedField { field: String::new(), refusal }]));
    }
    if let Some(refused) = refused_in_headers(&parts.headers) {
        drain(body.into_data_stream()).await;
        return answer(StatusCode::UNPROCESSABLE_ENTITY, &refused);
    }

    let mut refused = Refused::default();
    if let Some(query) = parts.uri.query()
        && let Some(clean) = screen_pairs(query.as_bytes(), &mut refused)
    {
        parts.uri = with_query(&parts.uri, &clean);
    }

    let mut streamed = None;
    let body = match BodyKind::of(&parts.headers) {
        BodyKind::Form => {
            let Ok(bytes) = axum::body::to_bytes(body, super::BODY_LIMIT).await else {
                return AppError::payload_too_large().into_response();
            };
            match screen_pairs(&bytes, &mut refused) {
                Some(clean) => Body::from(clean),
                None => Body::from(bytes),
            }
        }
        BodyKind::Json => {
            let Ok(bytes) = axum::body::to_bytes(body, super::BODY_LIMIT).await else {
                return AppError::payload_too_large().into_response();
            };
            screen_json(&bytes, &mut refused);
            // A JSON client has no page to show again: it is told which fields, and why.
            if !refused.is_empty() {
                return answer(StatusCode::UNPROCESSABLE_ENTITY, &refused);
            }
            Body::from(bytes)
        }
        BodyKind::Multipart(boundary) => {
            let (body, verdict) = multipart::screened(body, &boundary);
            streamed = Some(verdict);
            body
        }
        BodyKind::Other => body,
    };

    if !refused.is_empty() {
        if !shown_again(&parts) {
            drain(body.into_data_stream()).await;
            return answer(StatusCode::UNPROCESSABLE_ENTITY, &refused);
        }
        parts.extensions.insert(refused.clone());
    }
    let response = next.run(Request::from_parts(parts, body)).await;

    if let Some(stop) = streamed.and_then(|verdict| verdict.take()) {
        return match stop {
            multipart::Stop::Refused(refused) => answer(StatusCode::UNPROCESSABLE_ENTITY, &refused),
            multipart::Stop::TooLarge => AppError::payload_too_large().into_response(),
        };
    }
    if !refused.is_empty() && !response.status().is_client_error() {
        // The form's handler acted on a form with emptied fields: a bug in that handler.
        tracing::error!(status = %response.status(), fields = %refused.names(), "a refused form was acted on");
        debug_assert!(false, "a handler in FORMS_SHOWN_AGAIN acted on a refused form");
    }
    response
}

/// Whether the matched route's handler shows its form again with [`Refused`] explained.
fn shown_again(parts: &Parts) -> bool {
    let Some(template) = parts.extensions.get::<MatchedPath>() else { return false };
    super::FORMS_SHOWN_AGAIN.iter().any(|(method, path)| *method == parts.method.as_str() && *path == template.as_str())
}

/// The guard's own answer: the message in the visitor's language, nothing of what was sent.
fn refusal_response(api: bool, lang: Lang, status: StatusCode, refused: &Refused) -> Response {
    let first = refused.first().unwrap_or(Refusal::CardNumber);
    tracing::info!(code = first.code(), fields = %refused.names(), "refused at the door");
    if api {
        let fields: Vec<Value> = refused
            .fields()
            .iter()
            .map(|f| json!({"field": f.field, "code": f.refusal.code(), "message": lang.t(f.refusal.message_key())}))
            .collect();
        let body = json!({"error": first.code(), "message": lang.t(first.message_key()), "fields": fields});
        return (status, axum::Json(body)).into_response();
    }
    // Rendered as a page in the visitor's language by `error::render_errors`.
    AppError::new(status, first.code(), first.message_key()).into_response()
}

enum BodyKind {
    Form,
    Json,
    Multipart(String),
    Other,
}

impl BodyKind {
    fn of(headers: &HeaderMap) -> BodyKind {
        let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
            return BodyKind::Other;
        };
        let lower = content_type.to_ascii_lowercase();
        let essence = lower.split(';').next().unwrap_or("").trim();
        match essence {
            "application/x-www-form-urlencoded" => BodyKind::Form,
            // What axum's `Json` accepts: application/json and any `+json` type.
            e if e.starts_with("application/") && (e.ends_with("/json") || e.ends_with("+json")) => BodyKind::Json,
            "multipart/form-data" => match multipart::boundary(content_type) {
                Some(boundary) => BodyKind::Multipart(boundary),
                None => BodyKind::Other,
            },
            _ => BodyKind::Other,
        }
    }
}

/// Screens URL-encoded pairs (a query string or a form body). `Some(pairs)` when something was
/// refused: the same pairs with each refused value emptied and each refused name dropped.
fn screen_pairs(encoded: &[u8], refused: &mut Refused) -> Option<String> {
    let before = refused.0.len();
    let mut kept = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(encoded) {
        if let Err(refusal) = screen(&name, Shape::Line) {
            refused.push("", refusal);
            continue;
        }
        match screen(&value, shape_of(&name)) {
            Ok(()) => kept.append_pair(&name, &value),
            Err(refusal) => {
                refused.push(&name, refusal);
                kept.append_pair(&name, "")
            }
        };
    }
    (refused.0.len() > before).then(|| kept.finish())
}

fn with_query(uri: &Uri, query: &str) -> Uri {
    let path = uri.path();
    let path_and_query = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
    let mut parts = uri.clone().into_parts();
    // Built from a path that parsed and a query the serializer encoded: it parses again.
    parts.path_and_query = path_and_query.parse().ok();
    Uri::from_parts(parts).unwrap_or_else(|_| Uri::from_static("/"))
}

/// Screens every string (and every number: a card number need not be quoted) of a JSON body,
/// by the key it sits under. A body that is not JSON is screened as one text: the handler will
/// refuse it, but not before it has been kept out of the logs.
fn screen_json(bytes: &[u8], refused: &mut Refused) {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => screen_value(&value, "", refused),
        Err(_) => {
            if let Err(refusal) = screen(&String::from_utf8_lossy(bytes), Shape::Text) {
                refused.push("", refusal);
            }
        }
    }
}

fn screen_value(value: &Value, key: &str, refused: &mut Refused) {
    match value {
        Value::String(text) => {
            if let Err(refusal) = screen(text, shape_of(key)) {
                refused.push(key, refusal);
            }
        }
        Value::Number(n) => {
            if let Err(refusal) = screen(&n.to_string(), shape_of(key)) {
                refused.push(key, refusal);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| screen_value(item, key, refused)),
        Value::Object(map) => {
            for (name, item) in map {
                match screen(name, Shape::Line) {
                    Ok(()) => screen_value(item, name, refused),
                    Err(refusal) => refused.push("", refusal),
                }
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// The headers whose text is kept: the name an API import is stored under, and the key an API
/// client files a claim under (§6: stored with the case to make filing idempotent).
const KEPT_HEADERS: &[&str] = &["x-file-name", "idempotency-key"];

fn refused_in_headers(headers: &HeaderMap) -> Option<Refused> {
    let mut refused = Refused::default();
    for name in KEPT_HEADERS {
        for value in headers.get_all(*name) {
            let text = String::from_utf8_lossy(value.as_bytes());
            if let Some(refusal) = refused_in_text(&text, Shape::Line) {
                refused.push(name, refusal);
            }
        }
    }
    (!refused.is_empty()).then_some(refused)
}

/// Screens a text as sent and, when it holds `%XX` escapes, as decoded: clients escape file
/// names, and the escaped form must not carry a card number past the screen.
fn refused_in_text(text: &str, shape: Shape) -> Option<Refusal> {
    screen(text, shape).err().or_else(|| match percent_decode(text) {
        Cow::Owned(decoded) => screen(&decoded, shape).err(),
        Cow::Borrowed(_) => None,
    })
}

/// The first refusal among the segments of a path, each percent-decoded. A segment that is a
/// `{merchant_id}` parameter of the matched route is screened as a merchant id.
fn refused_in_path(path: &str, template: Option<&str>) -> Option<Refusal> {
    let mut params = template.map(|t| t.split('/'));
    for segment in path.split('/') {
        let param = params.as_mut().and_then(Iterator::next).unwrap_or("");
        let name = param.strip_prefix('{').and_then(|p| p.strip_suffix('}')).unwrap_or("");
        if let Err(refusal) = screen(&percent_decode(segment), shape_of(name)) {
            return Some(refusal);
        }
    }
    None
}

/// `%XX` escapes decoded (`+` is left alone: it means a space only in forms, which
/// `form_urlencoded` decodes itself); bytes that are not UTF-8 become U+FFFD.
fn percent_decode(text: &str) -> Cow<'_, str> {
    if !text.contains('%') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) =
                (bytes.get(i + 1).and_then(|b| hex(*b)), bytes.get(i + 2).and_then(|b| hex(*b)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The path the request log records: the path itself when it passes the screen (it says which
/// case or page was asked for), else the route it matched (`/claims/new/{kind}`), else a
/// placeholder. A card number in a URL never reaches the log.
pub fn path_for_log<B>(req: &axum::http::Request<B>) -> String {
    let template = req.extensions().get::<MatchedPath>().map(MatchedPath::as_str);
    match (refused_in_path(req.uri().path(), None), template) {
        (None, _) => req.uri().path().to_owned(),
        (Some(_), Some(template)) => template.to_owned(),
        (Some(_), None) => "[refused]".to_owned(),
    }
}

/// The address a page may repeat (the language switch sends the visitor back to it): the path
/// and query when both pass the screen, the path alone when only it does, else the home page.
pub fn echoable_path(path: &str, query: Option<&str>) -> String {
    if refused_in_path(path, None).is_some() {
        return "/".to_owned();
    }
    match query {
        Some(q) if screen_pairs(q.as_bytes(), &mut Refused::default()).is_none() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}

/// Request ids a client or proxy sends are logged and sent back: one that does not pass the
/// screen is dropped, and a fresh one is made in its place.
pub fn scrub_request_id<B>(mut req: axum::http::Request<B>) -> axum::http::Request<B> {
    let refused = req
        .headers()
        .get_all("x-request-id")
        .iter()
        .any(|v| refused_in_text(&String::from_utf8_lossy(v.as_bytes()), Shape::Line).is_some());
    if refused {
        req.headers_mut().remove("x-request-id");
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(encoded: &str) -> (Option<String>, Refused) {
        let mut refused = Refused::default();
        let clean = screen_pairs(encoded.as_bytes(), &mut refused);
        (clean, refused)
    }

    #[test]
    fn a_clean_form_passes_untouched() {
        assert_eq!(pairs("card_last4=1111&amount=12.50&description=a%0D%0Ab"), (None, Refused::default()));
        assert_eq!(pairs("merchant_id=835883278854443"), (None, Refused::default()));
    }

    #[test]
    fn a_refused_value_is_emptied_and_the_others_kept() {
        let (clean, refused) =
            pairs("merchant_name=Good+Shop&time=4111+1111+1111+1111&contact_email=%00a%40b.example&date=2026-11-05");
        assert_eq!(clean.as_deref(), Some("merchant_name=Good+Shop&time=&contact_email=&date=2026-11-05"));
        assert_eq!(
            refused.fields(),
            [
                RefusedField { field: "time".into(), refusal: Refusal::CardNumber },
                RefusedField { field: "contact_email".into(), refusal: Refusal::ControlCharacter },
            ]
        );
        assert_eq!(refused.first(), Some(Refusal::CardNumber));
    }

    #[test]
    fn every_typing_is_refused_and_a_refused_name_is_dropped() {
        for typed in [
            "4111111111111111",
            "4111%201111%201111%201111",
            "4111-1111-1111-1111",
            "4111.1111.1111.1111",
            "%EF%BC%94%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91",
        ] {
            let (clean, refused) = pairs(&format!("description=card+{typed}&amount=1"));
            assert_eq!(clean.as_deref(), Some("description=&amount=1"), "{typed}");
            assert_eq!(refused.first(), Some(Refusal::CardNumber));
        }
        let (clean, refused) = pairs("4111111111111111=x&amount=1");
        assert_eq!(clean.as_deref(), Some("amount=1"));
        assert_eq!(refused.fields(), [RefusedField { field: String::new(), refusal: Refusal::CardNumber }]);
    }

    #[test]
    fn free_text_keeps_line_breaks_other_fields_do_not() {
        assert!(pairs("description=one%0D%0Atwo%09three").0.is_none());
        assert!(pairs("reason=one%0Atwo").0.is_none());
        assert_eq!(pairs("merchant_name=one%0Atwo").1.first(), Some(Refusal::ControlCharacter));
    }

    #[test]
    fn explained_refusals_replace_what_validation_said() {
        let (_, refused) = pairs("amount=4111111111111111&x%00=1");
        let mut errors = FieldErrors::default();
        errors.add("amount", "required");
        errors.add("date", "a date, please");
        refused.explain(&mut errors, Lang::En);
        assert_eq!(errors.get("amount"), Some(Lang::En.t("screen.card_number")));
        assert_eq!(errors.get("form"), Some(Lang::En.t("screen.control_character")));
        assert_eq!(errors.get("date"), Some("a date, please"));
        assert_eq!(errors.all().iter().filter(|(f, _)| f == "amount").count(), 1);
    }

    #[test]
    fn json_strings_numbers_and_keys_are_screened_by_their_key() {
        let screened = |body: &str| {
            let mut refused = Refused::default();
            screen_json(body.as_bytes(), &mut refused);
            refused.fields().iter().map(|f| (f.field.clone(), f.refusal)).collect::<Vec<_>>()
        };
        assert!(screened(r#"{"merchant_id": "835883278854443", "description": "a\nb", "amount": "1.00"}"#).is_empty());
        assert_eq!(
            screened(
                r#"{"contact_email": "4111111111111111@x.test", "nested": [{"note": "\u0000"}], "n": 4111111111111111}"#
            ),
            // Keys in order (serde_json sorts them).
            [
                ("contact_email".into(), Refusal::CardNumber),
                ("n".into(), Refusal::CardNumber),
                ("note".into(), Refusal::ControlCharacter),
            ]
        );
        assert_eq!(screened(r#"{"4111111111111111": 1}"#), [(String::new(), Refusal::CardNumber)]);
        assert_eq!(screened(r#"{"description": "4111 1111 1111 1111"#), [(String::new(), Refusal::CardNumber)]);
    }

    #[test]
    fn paths_are_screened_segment_by_segment_decoded() {
        assert_eq!(refused_in_path("/claims/new/no_receipt", None), None);
        assert_eq!(refused_in_path("/claims/new/4081136700579747", None), Some(Refusal::CardNumber));
        assert_eq!(refused_in_path("/claims/new/4111%201111%201111%201111", None), Some(Refusal::CardNumber));
        assert_eq!(refused_in_path("/claims/new/a%00b", None), Some(Refusal::ControlCharacter));
        // A MID that passes Luhn is fine where the route says it is a merchant id.
        let mid = "/merchant/m/835883278854443";
        assert_eq!(refused_in_path(mid, Some("/merchant/m/{merchant_id}")), None);
        assert_eq!(refused_in_path(mid, None), Some(Refusal::CardNumber));
        assert_eq!(refused_in_path("/cases/835883278854443", Some("/cases/{id}")), Some(Refusal::CardNumber));
    }

    #[test]
    fn logged_and_echoed_paths_never_carry_a_refused_value() {
        let req = |uri: &str| axum::http::Request::builder().uri(uri).body(()).unwrap();
        assert_eq!(path_for_log(&req("/cases/12")), "/cases/12");
        // Outside a router there is no matched route to fall back on (the integration tests
        // see `/claims/new/{kind}` in the log): the placeholder.
        assert_eq!(path_for_log(&req("/claims/new/4081136700579747")), "[refused]");
        assert_eq!(echoable_path("/records", Some("last4=1234")), "/records?last4=1234");
        assert_eq!(echoable_path("/records", Some("last4=4111111111111111")), "/records");
        assert_eq!(echoable_path("/x/4111-1111-1111-1111", Some("a=1")), "/");
    }

    #[test]
    fn kept_headers_and_request_ids_are_screened_escaped_or_not() {
        let mut headers = HeaderMap::new();
        headers.insert("x-file-name", "journal-2026-11.csv".parse().unwrap());
        assert_eq!(refused_in_headers(&headers), None);
        for name in ["4111 1111 1111 1111.csv", "4111%201111%201111%201111.csv", "%EF%BC%94111111111111111.csv"] {
            headers.insert("x-file-name", name.parse().unwrap());
            assert!(refused_in_headers(&headers).is_some(), "{name}");
        }
        headers.clear();
        headers.insert("idempotency-key", "order-4111-1111-1111-1111".parse().unwrap());
        assert!(refused_in_headers(&headers).is_some());
        let req = axum::http::Request::builder().header("x-request-id", "4111-1111-1111-1111").body(()).unwrap();
        assert!(scrub_request_id(req).headers().get("x-request-id").is_none());
        let req = axum::http::Request::builder().header("x-request-id", "0123abcd").body(()).unwrap();
        assert!(scrub_request_id(req).headers().get("x-request-id").is_some());
    }

    #[test]
    fn percent_decoding_is_forgiving() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%FF"), "\u{fffd}");
        assert_eq!(percent_decode("a+b"), "a+b");
    }

    #[test]
    fn shapes_follow_the_field_names() {
        assert_eq!(shape_of("description"), Shape::Text);
        assert_eq!(shape_of("reason"), Shape::Text);
        assert_eq!(shape_of("merchant_id"), Shape::MerchantIds);
        assert_eq!(shape_of("merchants"), Shape::MerchantIds);
        assert_eq!(shape_of("merchant_name"), Shape::Line);
        assert_eq!(shape_of("contact_email"), Shape::Line);
    }
}
