//! Form plumbing: field errors that pages show next to the field they belong to.

use crate::i18n::Lang;

/// Messages keyed by field name, already translated.
#[derive(Clone, Debug, Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }

    /// Adds the catalog message `error.<code>` in `lang`.
    pub fn add_code(&mut self, lang: Lang, field: &str, code: &str, args: &[(&str, String)]) {
        self.add(field, lang.t_args(&format!("error.{code}"), args));
    }

    /// Sets the field's only message, dropping any other it had.
    pub fn replace(&mut self, field: &str, message: impl Into<String>) {
        self.0.retain(|(f, _)| f != field);
        self.add(field, message);
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn all(&self) -> &[(String, String)] {
        &self.0
    }
}
