//! Pages anyone may see.

pub mod home;
pub mod lang;
pub mod message;
