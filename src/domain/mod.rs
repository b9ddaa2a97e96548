//! The rules of the business as pure types and functions: no I/O, no clock, no database.

pub mod account;
pub mod calendar;
pub mod case_state;
pub mod role;
