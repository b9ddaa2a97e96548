//! Logging: lines on stderr, filtered by `RUST_LOG` (default `info`), written as text for people
//! or, with `REDRESS_LOG_FORMAT=json`, as one JSON object a line for log collectors.

use tracing_subscriber::EnvFilter;

/// How log lines are written (`REDRESS_LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// `text` (the default) or `json`; anything else is refused so a typo does not silently
    /// leave a collector parsing text.
    pub fn parse(value: Option<&str>) -> Result<LogFormat, String> {
        match value.map(str::trim) {
            None | Some("") | Some("text") => Ok(LogFormat::Text),
            Some("json") => Ok(LogFormat::Json),
            Some(other) => Err(format!("REDRESS_LOG_FORMAT: expected text or json, got {other:?}")),
        }
    }
}

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let format = LogFormat::parse(std::env::var("REDRESS_LOG_FORMAT").ok().as_deref()).unwrap_or_else(|e| {
        eprintln!("{e}; writing text");
        LogFormat::Text
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second call (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        // The request span's fields (method, path, request id) go on every line logged inside
        // it, so one request's lines can be gathered by `span.id`.
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).try_init(),
    };
}

/// For tests: log lines go through the test harness, shown only for failing tests.
pub fn init_for_tests() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn,redress=info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_the_default_and_json_is_asked_for() {
        assert_eq!(LogFormat::parse(None), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("text")), Ok(LogFormat::Text));
        assert_eq!(LogFormat::parse(Some("json")), Ok(LogFormat::Json));
        assert!(LogFormat::parse(Some("yaml")).unwrap_err().contains("REDRESS_LOG_FORMAT"));
    }
}
