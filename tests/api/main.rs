//! Integration tests: the real server over HTTP, on SQLite or (with REDRESS_TEST_POSTGRES_URL) PostgreSQL.

mod access;
mod accounts;
mod case_list;
mod claims;
mod cli;
mod deadlines;
mod evidence;
mod exceptions;
mod filing;
mod foundation;
mod helpers;
mod imports;
mod integrity;
mod limits;
mod mail;
mod one_case;
mod operations;
mod queues;
mod reading;
mod records_browser;
mod refresh;
mod screening;
mod smtp_server;
mod translations;
mod webhooks;
mod workflow;
