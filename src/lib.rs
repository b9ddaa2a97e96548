//! Redress: point-of-sale card disputes, from the cardholder's claim to the money arriving.
//!
//! Layers (see README.md): `domain` holds the rules as pure functions, `db` all SQL,
//! `web` the thin HTTP handlers; `cli`, `startup` and `demo` wire them together.

pub mod accounts;
pub mod auth;
pub mod cases;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod exceptions;
pub mod i18n;
pub mod import;
pub mod mail;
pub mod metrics;
pub mod pack;
pub mod secret;
pub mod startup;
pub mod telemetry;
pub mod web;
pub mod webhooks;
