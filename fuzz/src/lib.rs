//! Helpers the fuzz targets share: a slow, obviously-right card-number oracle, the writer that
//! turns parsed records back into CSV text, and the checks every reader output must pass.
//!
//! They live here rather than in the targets so each target reads as "input → invariants".

pub mod card_oracle;
pub mod reader_checks;
pub mod record_text;
