//! Typed configuration, read once from `REDRESS_*` environment variables (and `.env`).

use std::net::SocketAddr;
use std::path::PathBuf;

use url::Url;

use crate::domain::calendar::Calendar;
use crate::domain::case_state::Deadlines;
use crate::domain::exceptions::{FlagThresholds, Waits};
use crate::i18n::Lang;
use crate::secret::{Secret, SecretUrl};

/// Everything the application reads from its environment. Secrets (database and SMTP
/// passwords, the signing key) are wrapped so that `Debug` never prints them.
#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: SecretUrl,
    pub addr: SocketAddr,
    pub base_url: Url,
    pub smtp_url: Option<SecretUrl>,
    pub mail_from: String,
    /// How notices are delivered: the parsed mail server and the retry policy.
    pub mail: MailSettings,
    pub default_lang: Lang,
    pub timezone_name: String,
    pub timezone: jiff::tz::TimeZone,
    /// A folder served at `/static` instead of the files built into the binary
    /// (`REDRESS_STATIC_DIR`, for trying out a stylesheet without rebuilding).
    pub static_dir: Option<PathBuf>,
    /// Trust `X-Forwarded-For` for the client address (only behind a proxy you run).
    pub trust_proxy: bool,
    /// Key for signing CSRF tokens; when unset one is generated and kept in the database.
    pub secret_key: Option<Secret>,
    /// Business days and holidays for deadlines: mainland China's, or `REDRESS_HOLIDAYS_FILE`.
    pub calendar: Calendar,
    /// Business days each party has (`REDRESS_DEADLINE_*_DAYS`).
    pub deadlines: Deadlines,
    /// The bearer token `/metrics` asks for; unset, `/metrics` does not exist (`REDRESS_METRICS_TOKEN`).
    pub metrics_token: Option<Secret>,
    /// Business days before a one-sided debit or an unsettled sale is an exception
    /// (`REDRESS_ORPHAN_DAYS`, `REDRESS_UNSETTLED_DAYS`).
    pub exception_waits: Waits,
    /// When a terminal is flagged (`REDRESS_TERMINAL_*`).
    pub terminal_flags: FlagThresholds,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl Config {
    /// Reads the process environment, after loading `.env` when one is present.
    pub fn from_env() -> Result<Config, ConfigError> {
        // A missing .env is normal; a malformed one is not worth failing start-up for,
        // every value it would set can still be given in the environment.
        let _ = dotenvy::dotenv();
        Config::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Builds the configuration from any variable source, so tests need no process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let err = |var: &'static str, problem: String| ConfigError { var, problem };

        let database_url = get("REDRESS_DATABASE_URL").unwrap_or_else(|| "sqlite://data/redress.db".into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(err(
                "REDRESS_DATABASE_URL",
                format!("must start with sqlite:// or postgres:// (got {})", SecretUrl::new(database_url.clone())),
            ));
        }

        let addr_text = get("REDRESS_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
        let addr: SocketAddr = addr_text.parse().map_err(|_| {
            err("REDRESS_ADDR", format!("expected host:port such as 127.0.0.1:8080, got {addr_text:?}"))
        })?;

        let base_text = get("REDRESS_BASE_URL").unwrap_or_else(|| format!("http://{addr}"));
        let base_url = Url::parse(&base_text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .ok_or_else(|| err("REDRESS_BASE_URL", format!("expected an http(s) URL, got {base_text:?}")))?;

        let smtp_url = match get("REDRESS_SMTP_URL") {
            None => None,
            Some(text) => {
                let url = Url::parse(&text).map_err(|e| err("REDRESS_SMTP_URL", e.to_string()))?;
                if !matches!(url.scheme(), "smtp" | "smtps") {
                    return Err(err("REDRESS_SMTP_URL", "must start with smtp:// or smtps://".into()));
                }
                Some(SecretUrl::new(text))
            }
        };

        let mail_from = get("REDRESS_MAIL_FROM")
            .unwrap_or_else(|| format!("Redress <no-reply@{}>", base_url.host_str().unwrap_or("localhost")));
        let mail = MailSettings::from_lookup(&get, smtp_url.as_ref(), &mail_from)?;

        let lang_text = get("REDRESS_DEFAULT_LANG").unwrap_or_else(|| "zh-CN".into());
        let default_lang = Lang::parse(&lang_text)
            .ok_or_else(|| err("REDRESS_DEFAULT_LANG", format!("expected zh-CN or en, got {lang_text:?}")))?;

        let timezone_name = get("REDRESS_TIMEZONE").unwrap_or_else(|| "Asia/Shanghai".into());
        let timezone = jiff::tz::TimeZone::get(&timezone_name)
            .map_err(|_| err("REDRESS_TIMEZONE", format!("unknown time zone {timezone_name:?}, e.g. Asia/Shanghai")))?;

        let static_dir = get("REDRESS_STATIC_DIR").map(PathBuf::from);

        let trust_proxy = match get("REDRESS_TRUST_PROXY").as_deref() {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => return Err(err("REDRESS_TRUST_PROXY", format!("expected true or false, got {other:?}"))),
        };

        let secret_key = get("REDRESS_SECRET_KEY").map(Secret::new);
        if secret_key.as_ref().is_some_and(|k| k.expose().len() < 32) {
            return Err(err("REDRESS_SECRET_KEY", "must be at least 32 characters".into()));
        }

        let calendar = match get("REDRESS_HOLIDAYS_FILE") {
            None => Calendar::china(),
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| err("REDRESS_HOLIDAYS_FILE", format!("cannot read {path}: {e}")))?;
                Calendar::from_toml(&text).map_err(|e| err("REDRESS_HOLIDAYS_FILE", format!("{path}: {e}")))?
            }
        };
        let days = |var: &'static str, default: u64| whole_number(&get, var, default, 1, 60).map(|n| n as u32);
        let deadlines = Deadlines {
            merchant_response: days("REDRESS_DEADLINE_MERCHANT_DAYS", 2)?,
            remedy_executed: days("REDRESS_DEADLINE_REMEDY_DAYS", 5)?,
            agent_decision: days("REDRESS_DEADLINE_AGENT_DAYS", 5)?,
        };

        let metrics_token = get("REDRESS_METRICS_TOKEN").map(Secret::new);
        if metrics_token.as_ref().is_some_and(|t| t.expose().len() < 16) {
            return Err(err("REDRESS_METRICS_TOKEN", "must be at least 16 characters".into()));
        }
        let exception_waits =
            Waits { orphan_days: days("REDRESS_ORPHAN_DAYS", 1)?, unsettled_days: days("REDRESS_UNSETTLED_DAYS", 2)? };
        let count = |var: &'static str, default: u64| whole_number(&get, var, default, 1, 1_000_000).map(|n| n as i64);
        let terminal_flags = FlagThresholds {
            printer_events: count("REDRESS_TERMINAL_PRINTER_EVENTS", 3)?,
            no_response_percent: whole_number(&get, "REDRESS_TERMINAL_NO_RESPONSE_PERCENT", 2, 1, 100)? as i64,
            min_transactions: count("REDRESS_TERMINAL_MIN_TRANSACTIONS", 50)?,
            no_receipt_claims: count("REDRESS_TERMINAL_NO_RECEIPT_CLAIMS", 2)?,
        };

        Ok(Config {
            metrics_token,
            calendar,
            deadlines,
            exception_waits,
            terminal_flags,
            database_url: SecretUrl::new(database_url),
            addr,
            base_url,
            smtp_url,
            mail_from,
            mail,
            default_lang,
            timezone_name,
            timezone,
            static_dir,
            trust_proxy,
            secret_key,
        })
    }

    /// Cookies get the `Secure` attribute and the `__Host-` prefix only over https.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.scheme() == "https"
    }
}

/// Delivery of email notices (REDRESS_SMTP_*, REDRESS_MAIL_*).
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// The mail server; `None` keeps every notice in the outbox.
    pub smtp: Option<crate::mail::smtp::SmtpSettings>,
    /// Attempts before a notice is marked `failed`.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles with each further one…
    pub retry_base_secs: u64,
    /// …up to this.
    pub retry_max_secs: u64,
}

impl MailSettings {
    fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        smtp_url: Option<&SecretUrl>,
        mail_from: &str,
    ) -> Result<MailSettings, ConfigError> {
        let err = |var: &'static str, problem: String| ConfigError { var, problem };
        let smtp = smtp_url
            .map(|url| {
                crate::mail::smtp::SmtpSettings::parse(
                    url.expose(),
                    get("REDRESS_SMTP_USERNAME"),
                    get("REDRESS_SMTP_PASSWORD"),
                )
                .map_err(|problem| err("REDRESS_SMTP_URL", problem))
            })
            .transpose()?;
        if let Err(e) = mail_from.parse::<lettre::message::Mailbox>() {
            return Err(err(
                "REDRESS_MAIL_FROM",
                format!("expected a sender such as Redress <no-reply@example.com>: {e}"),
            ));
        }
        let number = |var: &'static str, default: u64, min: u64, max: u64| whole_number(&get, var, default, min, max);
        let max_attempts = number("REDRESS_MAIL_MAX_ATTEMPTS", 10, 1, 1000)? as u32;
        let retry_base_secs = number("REDRESS_MAIL_RETRY_BASE_SECS", 30, 1, 86_400)?;
        let retry_max_secs =
            number("REDRESS_MAIL_RETRY_MAX_SECS", 3600.max(retry_base_secs), retry_base_secs, 7 * 86_400)?;
        Ok(MailSettings { smtp, max_attempts, retry_base_secs, retry_max_secs })
    }
}

/// A whole number from `min` to `max` in `var`, or `default` when it is unset.
fn whole_number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(text) => text.trim().parse::<u64>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| ConfigError {
            var,
            problem: format!("expected a whole number from {min} to {max}, got {text:?}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_follow_the_design() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url.expose(), "sqlite://data/redress.db");
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.base_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(c.default_lang, Lang::ZhCn);
        assert_eq!(c.timezone_name, "Asia/Shanghai");
        assert!(c.smtp_url.is_none());
        assert!(!c.secure_cookies());
    }

    #[test]
    fn passwords_never_print() {
        let c = config(&[
            ("REDRESS_DATABASE_URL", "postgres://app:hunter2@db/redress"),
            ("REDRESS_SMTP_URL", "smtp://mailer:s3cret@mail:587"),
            ("REDRESS_SECRET_KEY", "0123456789abcdef0123456789abcdef-very-secret"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("s3cret") && !shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("postgres://app:***@db/redress"), "{shown}");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = config(&[("REDRESS_DATABASE_URL", "mysql://u:pw@h/d")]).unwrap_err();
        assert_eq!(e.var, "REDRESS_DATABASE_URL");
        assert!(!e.problem.contains("pw"), "{}", e.problem);
        assert_eq!(config(&[("REDRESS_ADDR", "nowhere")]).unwrap_err().var, "REDRESS_ADDR");
        assert_eq!(config(&[("REDRESS_TIMEZONE", "Mars/Olympus")]).unwrap_err().var, "REDRESS_TIMEZONE");
        assert_eq!(config(&[("REDRESS_DEFAULT_LANG", "fr")]).unwrap_err().var, "REDRESS_DEFAULT_LANG");
        assert_eq!(config(&[("REDRESS_SMTP_URL", "http://x")]).unwrap_err().var, "REDRESS_SMTP_URL");
        assert_eq!(config(&[("REDRESS_BASE_URL", "ftp://x")]).unwrap_err().var, "REDRESS_BASE_URL");
    }

    #[test]
    fn mail_settings() {
        let c = config(&[]).unwrap();
        assert!(c.mail.smtp.is_none());
        assert_eq!((c.mail.max_attempts, c.mail.retry_base_secs, c.mail.retry_max_secs), (10, 30, 3600));
        let c = config(&[
            ("REDRESS_SMTP_URL", "smtps://smtp.example.com"),
            ("REDRESS_SMTP_USERNAME", "mailer"),
            ("REDRESS_SMTP_PASSWORD", "pa55word"),
            ("REDRESS_MAIL_MAX_ATTEMPTS", "3"),
            ("REDRESS_MAIL_RETRY_BASE_SECS", "1"),
            ("REDRESS_MAIL_RETRY_MAX_SECS", "2"),
        ])
        .unwrap();
        let smtp = c.mail.smtp.as_ref().unwrap();
        assert_eq!((smtp.port, smtp.username.as_deref()), (465, Some("mailer")));
        assert_eq!((c.mail.max_attempts, c.mail.retry_base_secs, c.mail.retry_max_secs), (3, 1, 2));
        assert!(!format!("{c:?}").contains("pa55word"));
        for (var, value) in [
            ("REDRESS_MAIL_MAX_ATTEMPTS", "0"),
            ("REDRESS_MAIL_RETRY_BASE_SECS", "soon"),
            ("REDRESS_MAIL_FROM", "not an address"),
        ] {
            assert_eq!(config(&[(var, value)]).unwrap_err().var, var);
        }
        let e = config(&[("REDRESS_SMTP_URL", "smtp://u:hunter2@smtp.example.com")]).unwrap_err();
        assert_eq!(e.var, "REDRESS_SMTP_URL");
        assert!(!e.problem.contains("hunter2"), "{}", e.problem);
        // The cap may not be below the first wait.
        let e = config(&[("REDRESS_MAIL_RETRY_BASE_SECS", "60"), ("REDRESS_MAIL_RETRY_MAX_SECS", "30")]).unwrap_err();
        assert_eq!(e.var, "REDRESS_MAIL_RETRY_MAX_SECS");
    }

    #[test]
    fn https_base_url_means_secure_cookies() {
        assert!(config(&[("REDRESS_BASE_URL", "https://disputes.example.cn")]).unwrap().secure_cookies());
    }

    #[test]
    fn deadlines_and_holidays_are_configurable() {
        let c = config(&[]).unwrap();
        assert_eq!(c.deadlines, Deadlines::default());
        assert_eq!(c.calendar, Calendar::china());
        let c = config(&[("REDRESS_DEADLINE_MERCHANT_DAYS", "3"), ("REDRESS_DEADLINE_AGENT_DAYS", " 10 ")]).unwrap();
        assert_eq!(c.deadlines, Deadlines { merchant_response: 3, remedy_executed: 5, agent_decision: 10 });
        for (var, value) in [("REDRESS_DEADLINE_REMEDY_DAYS", "0"), ("REDRESS_DEADLINE_AGENT_DAYS", "five")] {
            assert_eq!(config(&[(var, value)]).unwrap_err().var, var);
        }

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("holidays.toml");
        std::fs::write(&file, "[2026]\nnot valid").unwrap();
        let e = config(&[("REDRESS_HOLIDAYS_FILE", file.to_str().unwrap())]).unwrap_err();
        assert_eq!(e.var, "REDRESS_HOLIDAYS_FILE");
        assert!(e.problem.contains("line 2"), "{}", e.problem);
        let missing = dir.path().join("none.toml");
        assert_eq!(
            config(&[("REDRESS_HOLIDAYS_FILE", missing.to_str().unwrap())]).unwrap_err().var,
            "REDRESS_HOLIDAYS_FILE"
        );
        std::fs::write(&file, "").unwrap();
        let plain = config(&[("REDRESS_HOLIDAYS_FILE", file.to_str().unwrap())]).unwrap();
        assert_eq!(plain.calendar, Calendar::weekends_only(), "an empty file: weekends only");
    }
}
