//! Integration tests: the real server over HTTP, on SQLite or (with REDRESS_TEST_POSTGRES_URL) PostgreSQL.

mod access;
mod accounts;
mod cli;
mod foundation;
mod helpers;
mod mail;
mod smtp_server;
