//! The evidence pack (DESIGN.md §11): what a customer takes to their bank, as a PDF in the
//! reader's language.
//!
//! Three steps, each its own module: `content` words the case for the reader (pure), `layout`
//! breaks those words into lines and pages (pure, given a way to measure text), `render` draws
//! the pages with the fonts built into the binary (krilla: only the glyphs used are embedded).

pub mod content;
pub mod layout;
pub mod render;

pub use content::{Document, PackInput, PackRecord, TimelineEntry};
