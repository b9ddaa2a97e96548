//! Prometheus metrics (DESIGN.md §9): the names Redress records under, the one recorder they go
//! to, and the text `/metrics` serves.
//!
//! Counters and histograms are recorded where things happen (requests, imports, matching)
//! through the `metrics` facade. Gauges that are database counts (outbox depth, open cases) are
//! not kept in the process at all: each scrape counts them (`db::stats`) and writes them
//! beside the recorder's text, so every server behind a proxy reports the same shared truth.
//!
//! Other parts add their own scrape-time counts in [`scrape_gauges`] (one `Gauge` family each):
//! webhook deliveries by status, exceptions by kind.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::db::{self, Db};
use crate::domain::case_state::CaseState;

pub const HTTP_REQUESTS: &str = "redress_http_requests_total";
pub const HTTP_DURATION: &str = "redress_http_request_duration_seconds";
pub const IMPORT_FILES: &str = "redress_import_files_total";
pub const IMPORT_ROWS: &str = "redress_import_rows_total";
pub const IMPORT_DURATION: &str = "redress_import_duration_seconds";
pub const MATCHING_DURATION: &str = "redress_matching_duration_seconds";
pub const OUTBOX_DEPTH: &str = "redress_outbox_notices";
pub const OPEN_CASES: &str = "redress_open_cases";
pub const WEBHOOK_DEPTH: &str = "redress_webhook_deliveries";
pub const OPEN_EXCEPTIONS: &str = "redress_open_exceptions";

/// Request and matching latencies: 1 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Imports run from milliseconds (a few rows) to many minutes (millions).
const IMPORT_BUCKETS: &[f64] = &[0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder (once; later calls return the same handle). Until it is
/// installed, recording is a no-op: a server without `REDRESS_METRICS_TOKEN` pays nothing.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(metrics_exporter_prometheus::Matcher::Full(IMPORT_DURATION.into()), IMPORT_BUCKETS)
            .and_then(|b| b.set_buckets(LATENCY_BUCKETS))
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder was installed first; /metrics will miss its samples");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests answered, by route template and status");
    metrics::describe_histogram!(HTTP_DURATION, metrics::Unit::Seconds, "Time to answer an HTTP request");
    metrics::describe_counter!(IMPORT_FILES, "Record files imported, by kind and whether accepted");
    metrics::describe_counter!(IMPORT_ROWS, "Rows of imported files, by kind and outcome");
    metrics::describe_histogram!(IMPORT_DURATION, metrics::Unit::Seconds, "Time to import one file");
    metrics::describe_histogram!(MATCHING_DURATION, metrics::Unit::Seconds, "Time to match one claim");
}

/// One answered request. `route` is the route template (`/cases/{id}`), never the raw path:
/// paths carry ids (unbounded label values) and could carry what a visitor mistyped.
pub fn request(method: &str, route: &str, status: u16, took: Duration) {
    let (method, route) = (method.to_owned(), route.to_owned());
    metrics::counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route).record(took.as_secs_f64());
}

/// One imported file and its row counts.
pub fn import(report: &crate::import::ImportReport, took: Duration) {
    let kind = report.kind.as_str();
    let accepted = if report.accepted { "true" } else { "false" };
    metrics::counter!(IMPORT_FILES, "kind" => kind, "accepted" => accepted).increment(1);
    for (outcome, n) in [
        ("inserted", report.inserted),
        ("unchanged", report.unchanged),
        ("conflicting", report.conflicting),
        ("bad", report.bad_rows),
    ] {
        metrics::counter!(IMPORT_ROWS, "kind" => kind, "outcome" => outcome).increment(n);
    }
    metrics::histogram!(IMPORT_DURATION, "kind" => kind).record(took.as_secs_f64());
}

/// Finding the candidates for one claim and deciding.
pub fn matching(took: Duration) {
    metrics::histogram!(MATCHING_DURATION).record(took.as_secs_f64());
}

/// The whole exposition: the recorder's families, then the counts taken now.
pub async fn render(db: &Db) -> Result<String, db::DbError> {
    let mut text = install().render();
    text.push_str(&scrape_gauges(db).await?);
    Ok(text)
}

/// Gauges counted in the database at scrape time.
async fn scrape_gauges(db: &Db) -> Result<String, db::DbError> {
    let mut out = String::new();
    let outbox = db::stats::outbox_depth(db).await?;
    let statuses = ["pending", "failed"].map(|s| (s.to_owned(), count_of(&outbox, s)));
    gauge(&mut out, OUTBOX_DEPTH, "Notices waiting in the outbox, by status", "status", &statuses);
    let webhooks = db::stats::webhook_depth(db).await?;
    let statuses = ["pending", "failed"].map(|s| (s.to_owned(), count_of(&webhooks, s)));
    gauge(&mut out, WEBHOOK_DEPTH, "Webhook deliveries waiting or given up on, by status", "status", &statuses);
    let open = db::stats::open_cases(db).await?;
    let states: Vec<(String, i64)> = CaseState::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| (s.as_str().to_owned(), count_of(&open, s.as_str())))
        .collect();
    gauge(&mut out, OPEN_CASES, "Open cases, by state", "state", &states);
    let exceptions = db::stats::open_exceptions(db).await?;
    let kinds: Vec<(String, i64)> = crate::domain::exceptions::ExceptionKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), count_of(&exceptions, k.as_str())))
        .collect();
    gauge(&mut out, OPEN_EXCEPTIONS, "Open exceptions, by kind", "exception", &kinds);
    Ok(out)
}

fn count_of(counts: &[(String, i64)], key: &str) -> i64 {
    counts.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
}

/// One gauge family in the Prometheus text format. Label values are our own codes (no quoting
/// needed), and every value is written, zeros too, so a dashboard sees a state drain to 0.
fn gauge(out: &mut String, name: &str, help: &str, label: &str, values: &[(String, i64)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (value, n) in values {
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_are_written_in_the_text_format_with_zeros() {
        let mut out = String::new();
        gauge(&mut out, "x_total", "Things", "state", &[("a".into(), 2), ("b".into(), 0)]);
        assert_eq!(
            out,
            "# HELP x_total Things\n# TYPE x_total gauge\nx_total{state=\"a\"} 2\nx_total{state=\"b\"} 0\n"
        );
    }
}
