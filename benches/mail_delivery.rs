//! How many notices per second the outbox sender delivers to a local SMTP server (aiosmtpd).
//!
//!     cargo bench --bench mail_delivery                 # 2,000 notices, SQLite, 1/2/4/8 connections
//!     cargo bench --bench mail_delivery -- --notices 5000
//!     REDRESS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench mail_delivery
//!
//! Each run queues the notices in one transaction, then times a sender from its first lease
//! until the last notice is recorded `sent`, and checks that the server received each once.
//! It also reports the CPU time per notice of this process (sender and database; the
//! PostgreSQL server's own work is not counted) and of aiosmtpd, from /proc (Linux): on a busy
//! machine the rate swings with the load, the CPU cost per notice much less.
//! Under `cargo test` (no `--bench` argument) it runs once with 50 notices as a smoke test.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::{Duration, Instant};

use redress::db::{Db, outbox};
use redress::domain::case_state::{CaseState, Event};
use redress::i18n::Lang;
use redress::mail::sender::{Sender, SenderSettings};
use redress::mail::smtp::SmtpSettings;
use redress::mail::{self, CaseNotice};
use redress::secret::SecretUrl;

#[allow(dead_code)]
#[path = "../tests/api/smtp_server.rs"]
mod smtp_server;

use smtp_server::SmtpServer;

struct Run {
    backend: &'static str,
    connections: u32,
    notices: usize,
    elapsed: Duration,
    /// CPU seconds used by this process and by the SMTP server while delivering.
    cpu_sender: f64,
    cpu_smtp: f64,
}

/// CPU time (user + system) of a process so far, in seconds; `None` is this process.
fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".into(),
    };
    let Ok(stat) = std::fs::read_to_string(path) else { return 0.0 };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks: u64 = fields.get(11..13).map_or(0, |f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum());
    // USER_HZ is 100 on every Linux this runs on.
    ticks as f64 / 100.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let measuring = args.iter().any(|a| a == "--bench");
    let notices = args
        .iter()
        .position(|a| a == "--notices")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse().expect("--notices takes a number"))
        .unwrap_or(if measuring { 2000 } else { 50 });
    let connections: &[u32] = if measuring { &[1, 2, 4, 8] } else { &[4] };

    let mut runs = Vec::new();
    for &c in connections {
        runs.push(run("sqlite", c, notices).await);
    }
    if let Some(url) = std::env::var("REDRESS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        for &c in connections {
            runs.push(run_pg(&url, c, notices).await);
        }
    }
    println!(
        "{:<10} {:>11} {:>8} {:>9} {:>10} {:>17} {:>16}",
        "database", "connections", "notices", "seconds", "notices/s", "sender CPU ms/n", "aiosmtpd CPU ms/n"
    );
    for r in &runs {
        let secs = r.elapsed.as_secs_f64();
        let per = |cpu: f64| cpu * 1000.0 / r.notices as f64;
        println!(
            "{:<10} {:>11} {:>8} {:>9.2} {:>10.0} {:>17.2} {:>16.2}",
            r.backend,
            r.connections,
            r.notices,
            secs,
            r.notices as f64 / secs,
            per(r.cpu_sender),
            per(r.cpu_smtp)
        );
    }
}

async fn run(backend: &'static str, connections: u32, notices: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = Db::connect(&SecretUrl::new(url)).await.unwrap();
    let r = measure(backend, &db, connections, notices).await;
    db.close().await;
    r
}

async fn run_pg(url: &str, connections: u32, notices: usize) -> Run {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let schema = format!("bench_{:016x}", rand::random::<u64>());
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.unwrap();
    let options = PgConnectOptions::from_str(url).unwrap().options([("search_path", schema.as_str())]);
    let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
    let db = Db::from_pg_pool(pool);
    let r = measure("postgres", &db, connections, notices).await;
    db.close().await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.unwrap();
    r
}

async fn measure(backend: &'static str, db: &Db, connections: u32, notices: usize) -> Run {
    db.migrate().await.unwrap();
    let smtp = SmtpServer::start();
    let base = url::Url::parse("https://redress.example").unwrap();
    let notice = CaseNotice {
        case_url: mail::case_url(&base, 42),
        amount: Some("¥128.50".into()),
        explanation: Some("The terminal got no answer from the bank, so the sale is to be reversed.".into()),
        ..CaseNotice::new(42, "no_receipt", CaseState::ReversalPending)
    };
    let rendered = mail::render(Event::Finding, Lang::ZhCn, &notice);
    let mut tx = db.begin().await.unwrap();
    for i in 0..notices {
        let key = format!("bench:{i}");
        let to = format!("r{i}@example.com");
        mail::queue(&mut tx, &key, "finding", &to, Lang::ZhCn, Some(42), &rendered).await.unwrap();
    }
    tx.commit().await.unwrap();

    let settings = SenderSettings {
        smtp: SmtpSettings::parse(&smtp.url(), None, None).unwrap(),
        from: "Redress <no-reply@redress.example>".parse().unwrap(),
        message_id_domain: "redress.example".into(),
        max_attempts: 10,
        retry_base: Duration::from_secs(1),
        retry_max: Duration::from_secs(1),
        batch: 32,
        connections,
        poll: Duration::from_millis(100),
    };
    let sender = Sender::new(db.clone(), settings);
    let stop = tokio_util::sync::CancellationToken::new();
    let (cpu_sender, cpu_smtp) = (cpu_seconds(None), cpu_seconds(smtp.pid()));
    let started = Instant::now();
    loop {
        let round = sender.deliver_due(&stop).await.unwrap();
        assert_eq!(round.failed, 0, "a delivery failed");
        if round.leased == 0 {
            break;
        }
    }
    let elapsed = started.elapsed();
    let (cpu_sender, cpu_smtp) = (cpu_seconds(None) - cpu_sender, cpu_seconds(smtp.pid()) - cpu_smtp);
    assert_eq!(outbox::counts(db).await.unwrap().sent, notices as i64);
    let mails = smtp.wait_for(notices, Duration::from_secs(10)).await;
    let ids: HashSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!((mails.len(), ids.len()), (notices, notices), "each notice arrived once");
    Run { backend, connections, notices, elapsed, cpu_sender, cpu_smtp }
}
