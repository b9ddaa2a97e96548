//! Authentication mechanics: password hashing, secret tokens, abuse limits.

pub mod limits;
pub mod password;
pub mod token;
