//! The rules of the business as pure types and functions: no I/O, no clock, no database.

pub mod account;
pub mod role;
