//! The rules of the business as pure types and functions: no I/O, no clock, no database.

pub mod access;
pub mod account;
pub mod calendar;
pub mod card;
pub mod case_input;
pub mod case_state;
pub mod claim;
pub mod codes;
pub mod evidence;
pub mod exceptions;
pub mod finding;
pub mod ids;
pub mod limits;
pub mod money;
pub mod profile;
pub mod progress;
pub mod records;
pub mod role;
pub mod screen;
pub mod shop;
pub mod webhook;
