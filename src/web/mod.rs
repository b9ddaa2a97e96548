//! The web layer: one route table, the middleware stack, and thin handlers per audience.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::db::Db;

pub mod account;
pub mod admin;
pub mod api;
pub mod assets;
pub mod case;
pub mod charts;
pub mod claims;
pub mod context;
pub mod csrf_field;
pub mod dashboard;
pub mod day_charts;
pub mod error;
pub mod evidence;
pub mod exceptions;
pub mod flash;
pub mod forms;
pub mod guard;
pub mod health;
pub mod imports;
pub mod metrics;
pub mod pages;
pub mod queue;
pub mod records;
pub mod roles;
pub mod screen;
pub mod security;
pub mod session;
pub mod status;
pub mod terminal_health;

pub use context::PageContext;
pub use error::AppError;

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub keys: Arc<session::Keys>,
    /// Abuse limits (DESIGN.md §12); their counts are in the database, shared by every server.
    pub limits: Arc<crate::auth::limits::Limits>,
    /// Changes whenever a static file changes, so browsers may cache static files forever.
    pub static_version: Arc<str>,
}

impl AppState {
    /// What matching and notices need from the application's configuration.
    pub fn match_context(&self) -> crate::cases::MatchContext<'_> {
        crate::cases::MatchContext::new(&self.config)
    }
}

/// The forms whose pages show them again when a field is refused at the door (`screen::guard`):
/// their handlers take `screen::Refused` and answer 4xx with the refused fields emptied, the
/// others kept. A refused value on any other route is answered by the guard itself.
pub const FORMS_SHOWN_AGAIN: &[(&str, &str)] = &[
    ("POST", "/login"),
    ("POST", "/register"),
    ("POST", "/password/forgot"),
    ("POST", "/password/reset"),
    ("POST", "/claims/new/{kind}"),
    ("POST", "/cases/{id}/act/{action}"),
    ("POST", "/cases/{id}/assign"),
    ("GET", "/merchant/cases"),
    ("GET", "/agent/cases"),
    ("GET", "/records"),
    ("POST", "/admin/users"),
    ("POST", "/admin/merchants"),
    ("POST", "/admin/terminals"),
    ("POST", "/admin/tokens"),
    ("POST", "/admin/webhooks"),
];

/// Form bodies are small; file uploads raise this on their own routes.
const BODY_LIMIT: usize = 256 * 1024;
/// One evidence file (5 MiB) and its multipart envelope.
/// Far above the 5 MiB a file may have: a photo straight from a phone (10–20 MB) is read to the
/// end and answered with "too large, the limit is 5 MB" instead of a reset connection.
const EVIDENCE_LIMIT: usize = 64 * 1024 * 1024;
/// Uploaded record files: about 7 million journal rows.
const UPLOAD_LIMIT: usize = 1 << 30;

pub fn router(state: AppState) -> Router {
    // Built into the binary, so it runs from any directory; REDRESS_STATIC_DIR overrides.
    let static_files: Router<AppState> = match &state.config.static_dir {
        Some(dir) => Router::new().nest_service(
            "/static",
            ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ))
                .service(ServeDir::new(dir)),
        ),
        None => Router::new().route("/static/{*path}", get(assets::serve)),
    };

    let customer = Router::new()
        .route("/my", get(case::page::my_cases))
        .route_layer(middleware::from_fn(|r, n| guard::require(guard::CUSTOMER, r, n)));
    let merchant = Router::new()
        .route("/merchant", get(roles::merchant_home))
        .route("/merchant/m/{merchant_id}", get(roles::merchant_terminals))
        .route("/merchant/cases", get(queue::merchant_queue))
        .route_layer(middleware::from_fn(|r, n| guard::require(guard::MERCHANT, r, n)));
    let agent = Router::new()
        .route("/agent", get(roles::agent_home))
        .route("/agent/cases", get(queue::desk_console))
        .route("/agent/dashboard", get(dashboard::show))
        .route_layer(middleware::from_fn(|r, n| guard::require(guard::STAFF, r, n)));
    let admin = Router::new()
        .route("/admin", get(roles::admin_home))
        .route("/admin/users", get(admin::users::list).post(admin::users::create))
        .route("/admin/users/{id}/disabled", post(admin::users::set_disabled))
        .route("/admin/users/{id}/disable", get(admin::users::confirm_disable))
        .route("/admin/users/{id}/merchants", post(admin::users::set_merchants))
        .route("/admin/merchants", get(admin::merchants::list).post(admin::merchants::create))
        .route("/admin/terminals", post(admin::merchants::add_terminal))
        .route("/admin/tokens", get(admin::tokens::list).post(admin::tokens::create))
        .route("/admin/tokens/{id}/revoke", post(admin::tokens::revoke))
        .route("/admin/tokens/{id}/revoke", get(admin::tokens::confirm_revoke))
        .route("/admin/outbox", get(admin::outbox::list))
        .route("/admin/outbox/{id}/html", get(admin::outbox::html))
        .route("/admin/outbox/{id}/retry", post(admin::outbox::retry))
        .route("/admin/outbox/retry", post(admin::outbox::retry_all))
        .route("/admin/webhooks", get(admin::webhooks::list).post(admin::webhooks::create))
        .route("/admin/webhooks/{id}/disable", post(admin::webhooks::disable))
        .route("/admin/webhooks/{id}/delete", post(admin::webhooks::delete))
        .route("/admin/webhooks/deliveries/{id}/retry", post(admin::webhooks::retry))
        .route("/admin/profiles", get(admin::profiles::list).post(admin::profiles::upload))
        .route("/admin/profiles/{id}/delete", post(admin::profiles::delete))
        .route_layer(middleware::from_fn(|r, n| guard::require(guard::ADMIN, r, n)));

    // Files of millions of rows: no small body limit, no short time limit.
    let uploads = Router::new()
        .route("/imports", get(imports::show).post(imports::upload))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
        .layer(time_limit(BULK_TIME_LIMIT))
        .route_layer(middleware::from_fn(|r, n| guard::require(guard::IMPORTERS, r, n)));

    let signed_in = Router::new()
        .route("/cases/{id}", get(case::page::show))
        .route("/cases/{id}/act/{action}", post(case::actions::act))
        .route("/cases/{id}/assign", post(case::actions::assign))
        .route("/cases/{id}/pack.pdf", get(case::pack::download))
        .route("/cases/{id}/evidence", post(evidence::upload).layer(DefaultBodyLimit::max(EVIDENCE_LIMIT)))
        .route("/cases/{id}/evidence/{evidence_id}", get(evidence::download))
        .route_layer(middleware::from_fn(|r, n| guard::require(guard::SIGNED_IN, r, n)));
    let records = Router::new()
        .route("/records", get(records::browse))
        .route_layer(middleware::from_fn(|r, n| guard::require(records::READERS, r, n)));

    let pages = Router::new()
        .route("/", get(pages::home::show))
        .route("/lang", post(pages::lang::switch))
        .route("/login", get(account::login::show).post(account::login::submit))
        .route("/logout", post(account::login::logout))
        .route("/register", get(account::register::show).post(account::register::submit))
        .route("/verify-email", get(account::register::show_verify).post(account::register::confirm_verify))
        .route("/password/forgot", get(account::password::show_forgot).post(account::password::submit_forgot))
        .route("/password/reset", get(account::password::show_reset).post(account::password::submit_reset))
        .route("/claims/new", get(claims::choose))
        .route("/claims/new/{kind}", get(claims::show_form).post(claims::submit))
        .route("/claims/sent", get(claims::show_sent))
        .route("/claims/status/{id}", get(status::show))
        .route("/claims/confirm", get(claims::show_confirm).post(claims::confirm))
        .merge(signed_in)
        .merge(customer)
        .merge(merchant)
        .merge(agent)
        .merge(admin)
        .merge(records)
        .merge(exceptions::routes())
        .layer(time_limit(TIME_LIMIT))
        .merge(uploads)
        .layer(middleware::from_fn_with_state(state.clone(), security::csrf_guard));

    // Bearer tokens, not cookies: no CSRF exposure, so no CSRF guard.
    let api_imports = Router::new()
        .route("/api/v1/journal", post(api::imports::journal))
        .route("/api/v1/settlement", post(api::imports::settlement))
        .layer(time_limit(BULK_TIME_LIMIT));
    let api = Router::new()
        .route("/api/v1/me", get(api::me))
        .route("/api/v1/openapi.json", get(api::openapi::document))
        .route("/api/v1/claims", post(api::claims::file))
        .route("/api/v1/cases", get(api::cases::list))
        .route("/api/v1/cases/{id}", get(api::claims::show))
        .route("/api/v1/exceptions", get(api::exceptions::list))
        .layer(time_limit(TIME_LIMIT))
        .merge(api_imports);

    Router::new()
        .merge(pages)
        .merge(api)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::show))
        .merge(static_files)
        .fallback(error::not_found)
        // Inside the error renderer, so a refusal is a page in the visitor's language.
        .layer(middleware::from_fn_with_state(state.clone(), screen::guard))
        .layer(middleware::from_fn_with_state(state.clone(), error::render_errors))
        // Outside the error renderer, so error pages know the visitor (language, CSRF token, user).
        .layer(middleware::from_fn_with_state(state.clone(), session::load))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(
            ServiceBuilder::new()
                .map_request(screen::scrub_request_id::<axum::body::Body>)
                .layer(SetRequestIdLayer::x_request_id(RandomRequestId))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    // The path only: query strings can carry one-time tokens. A path holding a
                    // card number is logged as the route it matched.
                    tracing::info_span!("request", method = %req.method(), path = %screen::path_for_log(req), id)
                }))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::new())
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn_with_state(state.clone(), security::headers)),
        )
        // Outermost, so the time is the whole answer's and every status is counted.
        .layer(middleware::from_fn(metrics::track))
        .with_state(state)
}

/// Every page and API call answers within this…
const TIME_LIMIT: Duration = Duration::from_secs(30);
/// …except uploads of whole journal or settlement files, which may take minutes. Each route
/// carries its own limit, so a new upload route cannot be forgotten in a list of paths.
const BULK_TIME_LIMIT: Duration = Duration::from_secs(3600);

fn time_limit(limit: Duration) -> TimeoutLayer {
    TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limit)
}

/// Request ids are random rather than sequential so they reveal nothing about traffic.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id: u64 = rand::random();
        HeaderValue::from_str(&format!("{id:016x}")).ok().map(RequestId::new)
    }
}
