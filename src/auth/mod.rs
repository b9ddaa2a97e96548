//! Authentication mechanics: password hashing, secret tokens, login throttling, abuse limits.

pub mod limits;
pub mod password;
pub mod throttle;
pub mod token;
