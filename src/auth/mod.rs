//! Authentication mechanics: password hashing, secret tokens, login throttling.

pub mod password;
pub mod throttle;
pub mod token;
