//! Getting terminal journals and settlement files into the system.

pub mod parse;
