//! Signing in and out, registering, confirming an email address, resetting a password.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

use crate::config::Config;
use crate::domain::role::Role;

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
