//! Signing in and out, registering, confirming an email address, resetting a password.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::config::Config;
use crate::domain::role::Role;
use crate::web::{AppError, AppState};

pub mod login;
pub mod password;
pub mod register;

/// The client's address: the socket peer, unless a trusted proxy in front says otherwise.
/// `X-Forwarded-For` is trivially spoofed, so it is believed only when configured.
pub fn client_ip(config: &Config, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    if config.trust_proxy
        && let Some(ip) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
    {
        return ip;
    }
    peer.ip()
}

/// The client's address ([`client_ip`]) as an extractor, for handlers that limit by it.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<ClientIp, AppError> {
        let ConnectInfo(peer) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied().ok_or_else(|| {
            anyhow::anyhow!("served without the peer's address (into_make_service_with_connect_info)")
        })?;
        Ok(ClientIp(client_ip(&state.config, peer, &parts.headers)))
    }
}

/// Where each role starts after signing in.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Customer => "/my",
        Role::Merchant => "/merchant",
        Role::Agent => "/agent",
        Role::Admin => "/admin",
    }
}

/// An absolute link into this deployment, for emails.
pub fn link(config: &Config, path_and_query: &str) -> String {
    format!("{}{}", config.base_url.as_str().trim_end_matches('/'), path_and_query)
}
