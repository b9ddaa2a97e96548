//! Permission layers: each role's router is wrapped in one, so no handler can forget the check.

use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::AppError;
use super::session::CurrentUser;
use crate::domain::role::Role;

/// Lets a request through when the signed-in user has one of `roles`; sends anonymous
/// visitors to sign in first (and back afterwards).
pub async fn require(roles: &'static [Role], req: Request, next: Next) -> Response {
    match req.extensions().get::<CurrentUser>() {
        Some(user) if roles.contains(&user.role) => next.run(req).await,
        Some(_) => AppError::forbidden().into_response(),
        None if req.method() == Method::GET => {
            let next_path = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
            let target = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next_path.as_bytes()).collect::<String>()
            );
            Redirect::to(&target).into_response()
        }
        None => AppError::forbidden().into_response(),
    }
}

pub const CUSTOMER: &[Role] = &[Role::Customer];
pub const MERCHANT: &[Role] = &[Role::Merchant];
pub const STAFF: &[Role] = &[Role::Agent, Role::Admin];
pub const ADMIN: &[Role] = &[Role::Admin];
pub const IMPORTERS: &[Role] = &[Role::Merchant, Role::Agent, Role::Admin];
pub const SIGNED_IN: &[Role] = &[Role::Customer, Role::Merchant, Role::Agent, Role::Admin];
