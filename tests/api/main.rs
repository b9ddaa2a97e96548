//! Integration tests: the real server over HTTP, on SQLite or (with REDRESS_TEST_POSTGRES_URL) PostgreSQL.

mod access;
mod accounts;
mod claims;
mod cli;
mod deadlines;
mod evidence;
mod filing;
mod foundation;
mod helpers;
mod imports;
mod integrity;
mod limits;
mod mail;
mod one_case;
mod profiles;
mod queues;
mod records_browser;
mod refresh;
mod screening;
mod smtp_server;
mod translations;
mod workflow;
