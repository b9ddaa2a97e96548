//! Exception detection (DESIGN.md §10, issue 17): what detection adds to an import into a big
//! database, against the same kind of import with detection off, in the same run.
//!
//! For each backend (SQLite on a temp file; PostgreSQL in a fresh schema when
//! REDRESS_TEST_POSTGRES_URL is set), the database is first filled straight in SQL with
//! EXC_BENCH_BIG journal rows and as many settlement rows (default 10,000,000; untimed). Then, in
//! alternating rounds, a generated pair of files (EXC_BENCH_ROWS journal rows, default 10,000,
//! and their settlement rows; each round its own seed, so every round's rows are new) is
//! imported:
//! - off: `import::import` of the settlement file, then of the journal (the baseline);
//! - on: the same, each import followed by `exceptions::after_import` (detection alone, not the
//!   cases' re-matching, which runs either way).
//!
//! Printed: the median of each over EXC_BENCH_ROUNDS rounds (default 3) and on/off.
//! Run: `nice -n 10 cargo bench --bench exceptions` (EXC_BENCH_ONLY=sqlite|postgres).

use std::str::FromStr;
use std::time::Instant;

use redress::cases::MatchContext;
use redress::config::Config;
use redress::db::{Backend, Db};
use redress::import::{ImportRequest, Kind, generate, import};
use redress::secret::SecretUrl;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// N journal rows and N settlement debits that join them, on 1,000 merchants and 5,000
/// terminals, in one statement each.
fn fill_sql(backend: Backend, n: u64) -> Vec<String> {
    let import = "INSERT INTO imports (id, kind, file_name, sha256, via, accepted, row_count, inserted, unchanged, \
                  conflicting, bad_rows, created_at, exceptions_checked) \
                  VALUES (1, 'journal', 'big', 'x', 'cli', TRUE, 0, 0, 0, 0, 0, 0, TRUE)"
        .to_owned();
    match backend {
        Backend::Sqlite => vec![
            import,
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
                 INSERT INTO journal_rows (merchant_id, terminal_id, batch_no, trace_no, rrn, txn_type, status,
                     receipt_printed, card, card_last4, amount_minor, currency, local_time, local_offset, import_id)
                 SELECT printf('9%014d', i % 1000), printf('%08d', i % 5000), printf('%06d', i / 1000000),
                        printf('%06d', i % 1000000), printf('B%011d', i), 'sale', 'approved', 1,
                        printf('622848******%04d', i % 10000), printf('%04d', i % 10000), 1000 + i % 5000, 'CNY',
                        1780000000 + i, 28800, 1 FROM n"
            ),
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
                 INSERT INTO settlement_entries (entry_id, merchant_id, terminal_id, trace_no, rrn, card, card_last4,
                     direction, amount_minor, currency, txn_time, txn_offset, settled_on, import_id)
                 SELECT printf('B%011d', i), printf('9%014d', i % 1000), printf('%08d', i % 5000),
                        printf('%06d', i % 1000000), printf('B%011d', i), printf('622848******%04d', i % 10000),
                        printf('%04d', i % 10000), 'debit', 1000 + i % 5000, 'CNY', 1780000000 + i, 0, '2026-05-30', 1
                 FROM n"
            ),
        ],
        Backend::Postgres => vec![
            import,
            // An explicit id does not move the identity on: the importer's first id must be 2.
            "SELECT setval(pg_get_serial_sequence('imports', 'id'), 1)".to_owned(),
            format!(
                "INSERT INTO journal_rows (merchant_id, terminal_id, batch_no, trace_no, rrn, txn_type, status,
                     receipt_printed, card, card_last4, amount_minor, currency, local_time, local_offset, import_id)
                 SELECT '9' || lpad((i % 1000)::text, 14, '0'), lpad((i % 5000)::text, 8, '0'),
                        lpad((i / 1000000)::text, 6, '0'), lpad((i % 1000000)::text, 6, '0'),
                        'B' || lpad(i::text, 11, '0'), 'sale', 'approved', TRUE,
                        '622848******' || lpad((i % 10000)::text, 4, '0'), lpad((i % 10000)::text, 4, '0'),
                        1000 + i % 5000, 'CNY', 1780000000 + i, 28800, 1
                 FROM generate_series(1, {n}::bigint) AS i"
            ),
            format!(
                "INSERT INTO settlement_entries (entry_id, merchant_id, terminal_id, trace_no, rrn, card, card_last4,
                     direction, amount_minor, currency, txn_time, txn_offset, settled_on, import_id)
                 SELECT 'B' || lpad(i::text, 11, '0'), '9' || lpad((i % 1000)::text, 14, '0'),
                        lpad((i % 5000)::text, 8, '0'), lpad((i % 1000000)::text, 6, '0'), 'B' || lpad(i::text, 11, '0'),
                        '622848******' || lpad((i % 10000)::text, 4, '0'), lpad((i % 10000)::text, 4, '0'), 'debit',
                        1000 + i % 5000, 'CNY', 1780000000 + i, 0, '2026-05-30', 1
                 FROM generate_series(1, {n}::bigint) AS i"
            ),
            "ANALYZE".to_owned(),
        ],
    }
}

async fn connect(backend: Backend, dir: &std::path::Path, pg_url: Option<&str>) -> (Db, Option<String>) {
    match backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", dir.join("bench-exceptions.db").display());
            (Db::connect(&SecretUrl::new(url)).await.expect("connect"), None)
        }
        Backend::Postgres => {
            let url = pg_url.expect("postgres url");
            let schema = format!("bench_exc_{:016x}", rand::random::<u64>());
            let admin = PgPoolOptions::new().max_connections(1).connect(url).await.expect("PostgreSQL reachable");
            sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create schema");
            admin.close().await;
            let options = PgConnectOptions::from_str(url).expect("url").options([("search_path", schema.as_str())]);
            let pool = PgPoolOptions::new().max_connections(4).connect_with(options).await.expect("pool");
            (Db::from_pg_pool(pool), Some(schema))
        }
    }
}

async fn import_file(db: &Db, kind: Kind, path: &std::path::Path) {
    let request = ImportRequest {
        kind,
        file_name: "bench.csv".into(),
        via: "cli",
        user_id: None,
        token_id: None,
        merchant_scope: None,
    };
    let report = import(db, &request, std::fs::File::open(path).unwrap(), None).await.expect("import");
    assert!(report.accepted && report.inserted > 0, "{:?}", report.problems);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

async fn bench(backend: Backend, big: u64, rows: u64, rounds: u64, pg_url: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let (db, schema) = connect(backend, dir.path(), pg_url).await;
    db.migrate().await.expect("migrate");
    let started = Instant::now();
    for sql in fill_sql(backend, big) {
        let mut tx = db.begin().await.unwrap();
        tx.execute_sql(&sql).await.expect("fill");
        tx.commit().await.unwrap();
    }
    println!("{backend:?}: filled {big} journal + {big} settlement rows in {:.0} s", started.elapsed().as_secs_f64());

    let config = Config::from_lookup(|_| None).unwrap();
    let ctx = MatchContext::new(&config);
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for round in 0..rounds * 2 {
        let detect = round % 2 == 1;
        let seed = 1000 + round;
        let journal = dir.path().join("j.csv");
        let settlement = dir.path().join("s.csv");
        generate::write(Kind::Journal, rows, seed, std::io::BufWriter::new(std::fs::File::create(&journal).unwrap()))
            .unwrap();
        generate::write(
            Kind::Settlement,
            rows,
            seed,
            std::io::BufWriter::new(std::fs::File::create(&settlement).unwrap()),
        )
        .unwrap();
        let t = Instant::now();
        let mut found = 0;
        // Settlement first: the steady state, where a sale's debit is there when its journal
        // arrives (journal first, every sale of the past would be an `unsettled_sale` until the
        // settlement file resolves it).
        for (kind, path) in [(Kind::Settlement, &settlement), (Kind::Journal, &journal)] {
            import_file(&db, kind, path).await;
            if detect {
                found += redress::exceptions::after_import(&db, &ctx).await.expect("detect").found;
            }
        }
        let secs = t.elapsed().as_secs_f64();
        if detect {
            on.push(secs);
        } else {
            off.push(secs);
            // Not timed: the baseline's imports are not left for the next detection run.
            let mut tx = db.begin().await.unwrap();
            tx.execute_sql("UPDATE imports SET exceptions_checked = TRUE").await.unwrap();
            tx.commit().await.unwrap();
        }
        println!(
            "  round {round}: detection {}: {secs:.2} s{}",
            if detect { "on " } else { "off" },
            if detect { format!(" ({found} found)") } else { String::new() }
        );
    }
    let (off, on) = (median(off), median(on));
    println!(
        "{backend:?}: import of {rows} journal + {rows} settlement rows into {big}+{big}: off {off:.2} s, on {on:.2} s, on/off {:.2}x",
        on / off
    );
    db.close().await;
    if let (Some(schema), Some(url)) = (schema, pg_url) {
        let admin = PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.unwrap();
    }
}

fn main() {
    let timed = std::env::args().any(|a| a == "--bench");
    let (big, rows, rounds) = if timed {
        (env_u64("EXC_BENCH_BIG", 10_000_000), env_u64("EXC_BENCH_ROWS", 10_000), env_u64("EXC_BENCH_ROUNDS", 3))
    } else {
        // `cargo test --benches`: a smoke run.
        (2_000, 200, 1)
    };
    let only = std::env::var("EXC_BENCH_ONLY").ok();
    let pg_url = std::env::var("REDRESS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        if only.as_deref() != Some("postgres") {
            bench(Backend::Sqlite, big, rows, rounds, None).await;
        }
        if only.as_deref() != Some("sqlite")
            && let Some(url) = pg_url.as_deref()
        {
            bench(Backend::Postgres, big, rows, rounds, Some(url)).await;
        }
    });
}
