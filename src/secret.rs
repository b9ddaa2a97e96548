//! Values that must never reach a log, an error message or a page: passwords, keys, and URLs
//! that may carry a password. Both types keep their text private; `expose` is the one way to it,
//! so each place that needs the real value says so.

use std::fmt;

use url::Url;

/// A secret string (a password, a signing key) that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: String) -> Secret {
        Secret(text)
    }

    /// The secret itself, for the one place that has to use it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A URL that may carry a password; shown with the password replaced.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: String) -> SecretUrl {
        SecretUrl(url)
    }

    /// The URL with its password, for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                write!(f, "{url}")
            }
            Ok(_) => write!(f, "{}", self.0),
            // An unparsable URL might still hold a password: show the scheme only.
            Err(_) => write!(f, "{}…", self.0.split(':').next().unwrap_or("")),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prints_as_stars_and_is_exposed_on_request() {
        let s = Secret::new("hunter2".into());
        assert_eq!((format!("{s:?}"), s.to_string()), ("\"***\"".to_owned(), "***".to_owned()));
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn a_url_prints_without_its_password() {
        let u = SecretUrl::new("postgres://app:hunter2@db/redress".into());
        assert_eq!(u.to_string(), "postgres://app:***@db/redress");
        assert_eq!(format!("{u:?}"), "\"postgres://app:***@db/redress\"");
        assert_eq!(u.expose(), "postgres://app:hunter2@db/redress");
        assert_eq!(SecretUrl::new("sqlite://data/redress.db".into()).to_string(), "sqlite://data/redress.db");
        let unparsable = SecretUrl::new("mysql//u:pw@h/d".into());
        assert!(!unparsable.to_string().contains("pw"), "{unparsable}");
    }
}
