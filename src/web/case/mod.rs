//! One case in the browser: the page (`page`), the forms on it (`forms`) and the actions they
//! post (`actions`), and its evidence pack as a PDF (`pack`).

pub mod actions;
pub mod forms;
pub mod notes;
pub mod pack;
pub mod page;
