//! Imports: the real importer against a raw batched insert of the same rows, in the same run.
//!
//! For each backend (SQLite on a fresh temp file; PostgreSQL in a fresh schema when
//! REDRESS_TEST_POSTGRES_URL is set) and each record kind, on a freshly migrated database each:
//! - (a) plain insert: the already-parsed rows (parsing not timed), one transaction, multi-row
//!   `INSERT … VALUES (…), (…)` of `BATCH_ROWS` rows with the importer's columns, placeholders and
//!   bind order, but no `ON CONFLICT` / `RETURNING`: the baseline every ratio divides by;
//! - (a) + ON CONFLICT: the plain insert with the importer's `ON CONFLICT … DO NOTHING`, no
//!   `RETURNING` (splits the cost of the importer's statement into its two clauses);
//! - (a') records fn: the same rows through `db::records::insert_*_batch` (the importer's own
//!   statements: a savepoint, the plain `ON CONFLICT DO NOTHING`, and `RETURNING key` only for a
//!   batch that was partly new);
//! - (b) importer: `import::import` reading the CSV file: parse + validate + hash + insert +
//!   idempotency + import log, as the command line and the API run it;
//! - (b) importer on a tenth of the file, to show its peak memory does not grow with the file;
//! - SQLite only: (a) and (b) again with the 0009 browse indexes dropped, for the trade-off.
//!
//! Peak memory: before each import the high-water mark is reset (`5` into /proc/self/clear_refs)
//! and the printed figure is VmHWM after the import minus VmRSS before it.
//!
//! Run: `nice -n 10 cargo bench --bench import` (IMPORT_BENCH_ROWS, default 1,000,000;
//! IMPORT_BENCH_ONLY=sqlite|postgres). `-- memory`: the importer alone on a tenth, the full and
//! twice the row count, for its peak memory. `-- profiles`: for each built-in import profile
//! (§3.4), the generator's rows in that profile's layout (`redress gen --profile`) through the
//! importer against the same rows as `redress-csv`, same run, fresh database each, and the
//! profile import of a tenth of the file for its peak memory.
//! `-- copy [indexes]` (PostgreSQL): the importer against a raw binary `COPY` of the same parsed
//! rows into the same table and indexes, fresh database each, alternating (IMPORT_BENCH_ROUNDS,
//! default 3; IMPORT_BENCH_KIND=journal|settlement); `indexes` adds a raw COPY without each
//! secondary index in turn, for what each costs.
//! Without `--bench` (`cargo test --benches`) it imports 2,000 rows of each kind into SQLite and
//! checks the counts, untimed.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use redress::db::records::{self, BATCH_ROWS, RecordTable};
use redress::db::{Backend, Db, Tx};
use redress::domain::records::{JournalRow, SettlementEntry};
use redress::import::parse::{JournalReader, SettlementReader};
use redress::import::profile::{Profile, builtin, write as profile_write};
use redress::import::{self, ImportRequest, Kind, generate};
use redress::secret::SecretUrl;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// The baseline's raw insert binds each value itself, on whichever backend the transaction is
/// (the application's own database macros are private to the crate).
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

const JOURNAL_COLUMNS: &str = "merchant_id, terminal_id, batch_no, trace_no, rrn, auth_code, txn_type, status, \
    receipt_printed, card, card_last4, amount_minor, currency, local_time, local_offset, orig_trace_no, orig_batch_no, \
    response_code, terminal_event, import_id";
const SETTLEMENT_COLUMNS: &str = "entry_id, merchant_id, terminal_id, trace_no, rrn, card, card_last4, direction, \
    amount_minor, currency, txn_time, txn_offset, settled_on, orig_rrn, import_id";

/// The 0009 browse indexes (migrations/*/0009_browse_indexes.sql).
const BROWSE_INDEXES: &[&str] = &[
    "journal_by_time",
    "journal_by_merchant_time",
    "journal_by_terminal",
    "journal_by_card",
    "settlement_by_time",
    "settlement_by_terminal",
    "settlement_by_card",
];

/// Plain multi-row INSERT, same placeholders as `db::records` (`?` on SQLite, `$N` on PostgreSQL).
fn plain_sql(table: &str, columns: &str, per_row: usize, rows: usize, backend: Backend) -> String {
    let mut values = String::with_capacity(rows * per_row * 5);
    for r in 0..rows {
        values.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..per_row {
            if c > 0 {
                values.push_str(", ");
            }
            match backend {
                Backend::Sqlite => values.push('?'),
                Backend::Postgres => values.push_str(&format!("${}", r * per_row + c + 1)),
            }
        }
        values.push(')');
    }
    format!("INSERT INTO {table} ({columns}) VALUES {values}")
}

/// The rows of one kind, parsed, with the two ways of inserting them raw.
trait Rows: Sized + Send + Sync {
    const KIND: Kind;
    const CONFLICT_KEY: &str;
    const TABLE: RecordTable;
    fn parse(path: &Path) -> Vec<Self>;
    fn plain_sql(rows: usize, backend: Backend) -> String;
    async fn plain_insert(tx: &mut Tx, sql: &str, rows: &[Self], import_id: i64);
    fn records_sql(rows: usize, backend: Backend) -> String;
    async fn records_insert(tx: &mut Tx, sql: &str, rows: &[Self], import_id: i64) -> usize;
}

impl Rows for JournalRow {
    const KIND: Kind = Kind::Journal;
    const CONFLICT_KEY: &str = "merchant_id, terminal_id, batch_no, trace_no";
    const TABLE: RecordTable = RecordTable::Journal;
    fn parse(path: &Path) -> Vec<Self> {
        JournalReader::new(File::open(path).expect("open")).expect("header").map(|i| i.expect("valid row").1).collect()
    }
    fn plain_sql(rows: usize, backend: Backend) -> String {
        plain_sql("journal_rows", JOURNAL_COLUMNS, 20, rows, backend)
    }
    async fn plain_insert(tx: &mut Tx, sql: &str, rows: &[Self], import_id: i64) {
        on_tx!(tx, |c| {
            let mut q = sqlx::query(sql);
            for r in rows {
                q = q
                    .bind(r.merchant_id.as_str())
                    .bind(r.terminal_id.as_str())
                    .bind(&r.batch_no)
                    .bind(&r.trace_no)
                    .bind(r.rrn.as_deref())
                    .bind(r.auth_code.as_deref())
                    .bind(r.txn_type.as_str())
                    .bind(r.status.as_str())
                    .bind(r.receipt_printed)
                    .bind(r.card.as_str())
                    .bind(r.card.last4())
                    .bind(r.amount.minor)
                    .bind(r.amount.currency.code())
                    .bind(r.local_time.as_second())
                    .bind(r.local_offset.seconds())
                    .bind(r.orig_trace_no.as_deref())
                    .bind(r.orig_batch_no.as_deref())
                    .bind(r.response_code.as_deref())
                    .bind(r.terminal_event.map(|e| e.as_str()))
                    .bind(import_id);
            }
            q.execute(c).await.expect("plain insert");
        });
    }
    fn records_sql(rows: usize, backend: Backend) -> String {
        records::journal_insert_sql(rows, backend)
    }
    async fn records_insert(tx: &mut Tx, _sql: &str, rows: &[Self], import_id: i64) -> usize {
        // The importer's own pair of statements (plain, then RETURNING for a partly new batch).
        let sql = records::journal_insert(rows.len(), backend_of(tx));
        let new = records::insert_journal_batch(tx, &sql, rows, import_id).await.expect("records insert");
        new.into_iter().filter(|n| *n).count()
    }
}

impl Rows for SettlementEntry {
    const KIND: Kind = Kind::Settlement;
    const CONFLICT_KEY: &str = "entry_id";
    const TABLE: RecordTable = RecordTable::Settlement;
    fn parse(path: &Path) -> Vec<Self> {
        SettlementReader::new(File::open(path).expect("open"))
            .expect("header")
            .map(|i| i.expect("valid row").1)
            .collect()
    }
    fn plain_sql(rows: usize, backend: Backend) -> String {
        plain_sql("settlement_entries", SETTLEMENT_COLUMNS, 15, rows, backend)
    }
    async fn plain_insert(tx: &mut Tx, sql: &str, rows: &[Self], import_id: i64) {
        on_tx!(tx, |c| {
            let mut q = sqlx::query(sql);
            for r in rows {
                q = q
                    .bind(&r.entry_id)
                    .bind(r.merchant_id.as_str())
                    .bind(r.terminal_id.as_str())
                    .bind(&r.trace_no)
                    .bind(r.rrn.as_str())
                    .bind(r.card.as_str())
                    .bind(r.card.last4())
                    .bind(r.direction.as_str())
                    .bind(r.amount.minor)
                    .bind(r.amount.currency.code())
                    .bind(r.txn_time.as_second())
                    .bind(r.txn_offset.seconds())
                    .bind(r.settled_on.to_string())
                    .bind(r.orig_rrn.as_deref())
                    .bind(import_id);
            }
            q.execute(c).await.expect("plain insert");
        });
    }
    fn records_sql(rows: usize, backend: Backend) -> String {
        records::settlement_insert_sql(rows, backend)
    }
    async fn records_insert(tx: &mut Tx, _sql: &str, rows: &[Self], import_id: i64) -> usize {
        let sql = records::settlement_insert(rows.len(), backend_of(tx));
        let new = records::insert_settlement_batch(tx, &sql, rows, import_id).await.expect("records insert");
        new.into_iter().filter(|n| *n).count()
    }
}

fn backend_of(tx: &Tx) -> Backend {
    match tx {
        Tx::Sqlite(_) => Backend::Sqlite,
        Tx::Postgres(_) => Backend::Postgres,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Raw {
    Plain,
    /// The plain insert with the importer's `ON CONFLICT … DO NOTHING`, without `RETURNING`.
    OnConflict,
    RecordsFn,
}

/// Inserts `rows` in one transaction, `BATCH_ROWS` per statement; returns the seconds taken.
async fn raw_insert<T: Rows>(db: &Db, rows: &[T], how: Raw) -> f64 {
    let backend = db.backend();
    let sql = |n: usize| match how {
        Raw::Plain => T::plain_sql(n, backend),
        Raw::OnConflict => format!("{} ON CONFLICT ({}) DO NOTHING", T::plain_sql(n, backend), T::CONFLICT_KEY),
        Raw::RecordsFn => T::records_sql(n, backend),
    };
    let full = sql(BATCH_ROWS);
    let started = Instant::now();
    let mut tx = db.begin().await.expect("begin");
    let import_id = records::begin_import(&mut tx, T::KIND.as_str(), "raw", "cli", None, None).await.expect("log");
    let mut inserted = 0;
    for chunk in rows.chunks(BATCH_ROWS) {
        let short;
        let sql = if chunk.len() == BATCH_ROWS {
            &full
        } else {
            short = sql(chunk.len());
            &short
        };
        match how {
            Raw::Plain | Raw::OnConflict => {
                T::plain_insert(&mut tx, sql, chunk, import_id).await;
                inserted += chunk.len();
            }
            Raw::RecordsFn => inserted += T::records_insert(&mut tx, sql, chunk, import_id).await,
        }
    }
    tx.commit().await.expect("commit");
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(inserted, rows.len());
    assert_eq!(records::count_rows(db, T::TABLE).await.expect("count") as usize, rows.len());
    secs
}

/// Seconds, and the peak memory increase in bytes, of importing `path` (`rows` rows).
async fn run_import(db: &Db, kind: Kind, path: &Path, rows: u64) -> (f64, u64) {
    run_profiled(db, kind, None, path, rows).await
}

/// `run_import` through an import profile (`None`: `redress-csv`).
async fn run_profiled(
    db: &Db,
    kind: Kind,
    profile: Option<std::sync::Arc<Profile>>,
    path: &Path,
    rows: u64,
) -> (f64, u64) {
    let request = ImportRequest {
        kind,
        file_name: path.file_name().unwrap().to_string_lossy().into_owned(),
        via: "cli",
        user_id: None,
        token_id: None,
        merchant_scope: None,
    };
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kb("VmRSS");
    let started = Instant::now();
    let report =
        import::import_profiled(db, &request, profile, File::open(path).expect("open"), None).await.expect("import");
    let secs = started.elapsed().as_secs_f64();
    let peak = status_kb("VmHWM");
    assert!(report.accepted, "{:?} {:?}", report.file_problem, report.problems.first());
    assert_eq!((report.rows, report.inserted), (rows, rows));
    let table = match kind {
        Kind::Journal => RecordTable::Journal,
        Kind::Settlement => RecordTable::Settlement,
    };
    assert_eq!(records::count_rows(db, table).await.expect("count") as u64, rows);
    let increase = if reset { peak.saturating_sub(before) * 1024 } else { 0 };
    (secs, increase)
}

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field).and_then(|v| v.trim_start_matches(':').split_whitespace().next()))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// A freshly migrated database of one backend, and how to throw it away.
struct Fresh {
    db: Db,
    pg_schema: Option<(String, String)>,
}

async fn fresh(backend: Backend, dir: &Path, n: &mut u32, pg_url: Option<&str>, browse_indexes: bool) -> Fresh {
    *n += 1;
    let fresh = match backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", dir.join(format!("bench{n}.db")).display());
            Fresh { db: Db::connect(&SecretUrl::new(url)).await.expect("connect"), pg_schema: None }
        }
        Backend::Postgres => {
            let url = pg_url.expect("postgres url");
            let schema = format!("bench_import_{:016x}", rand::random::<u64>());
            let admin = PgPoolOptions::new().max_connections(1).connect(url).await.expect("PostgreSQL reachable");
            sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create schema");
            admin.close().await;
            let options = PgConnectOptions::from_str(url).expect("url").options([("search_path", schema.as_str())]);
            let pool = PgPoolOptions::new().max_connections(4).connect_with(options).await.expect("pool");
            Fresh { db: Db::from_pg_pool(pool), pg_schema: Some((url.to_owned(), schema)) }
        }
    };
    fresh.db.migrate().await.expect("migrate");
    if !browse_indexes {
        let mut tx = fresh.db.begin().await.expect("begin");
        for index in BROWSE_INDEXES {
            tx.execute_sql(&format!("DROP INDEX {index}")).await.expect("drop index");
        }
        tx.commit().await.expect("commit");
    }
    fresh
}

async fn discard(fresh: Fresh, dir: &Path) {
    fresh.db.close().await;
    if let Some((url, schema)) = fresh.pg_schema {
        let admin = PgPoolOptions::new().max_connections(1).connect(&url).await.expect("PostgreSQL reachable");
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.expect("drop schema");
        admin.close().await;
    } else {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.file_name().to_string_lossy().starts_with("bench") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

fn write_file(kind: Kind, rows: u64, path: &Path) {
    let out = BufWriter::new(File::create(path).expect("create"));
    generate::write(kind, rows, 1, out).expect("generate");
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

struct Setup<'a> {
    dir: &'a Path,
    n: u32,
    pg_url: Option<&'a str>,
    timed: bool,
}

/// (a) on a fresh database, with or without the 0009 browse indexes.
async fn plain<T: Rows>(s: &mut Setup<'_>, backend: Backend, parsed: &[T], browse: bool) -> f64 {
    let f = fresh(backend, s.dir, &mut s.n, s.pg_url, browse).await;
    let secs = raw_insert(&f.db, parsed, Raw::Plain).await;
    discard(f, s.dir).await;
    secs
}

async fn bench_kind<T: Rows>(s: &mut Setup<'_>, backend: Backend, big: &Path, small: &Path) {
    let kind = T::KIND;
    // A settlement file has no entry for declined or unanswered transactions: fewer rows.
    let small_rows = T::parse(small).len() as u64;
    let parsed = T::parse(big);
    let rows = parsed.len() as u64;
    let rate = |secs: f64, n: u64| n as f64 / secs;
    let name = format!("{backend:?} {}", kind.as_str());

    let a = plain(s, backend, &parsed, true).await;

    let f = fresh(backend, s.dir, &mut s.n, s.pg_url, true).await;
    let (b, b_mem) = run_import(&f.db, kind, big, rows).await;
    discard(f, s.dir).await;

    let f = fresh(backend, s.dir, &mut s.n, s.pg_url, true).await;
    let a2 = raw_insert(&f.db, &parsed, Raw::RecordsFn).await;
    discard(f, s.dir).await;

    let f = fresh(backend, s.dir, &mut s.n, s.pg_url, true).await;
    let a1 = raw_insert(&f.db, &parsed, Raw::OnConflict).await;
    discard(f, s.dir).await;

    let f = fresh(backend, s.dir, &mut s.n, s.pg_url, true).await;
    let (b_small, b_small_mem) = run_import(&f.db, kind, small, small_rows).await;
    discard(f, s.dir).await;

    let no_idx = if backend == Backend::Sqlite && s.timed {
        let a = plain(s, backend, &parsed, false).await;
        let f = fresh(backend, s.dir, &mut s.n, s.pg_url, false).await;
        let (b, _) = run_import(&f.db, kind, big, rows).await;
        discard(f, s.dir).await;
        Some((a, b))
    } else {
        None
    };

    if !s.timed {
        println!("import: {name}: {rows} rows through every path, counts checked");
        return;
    }
    let line = |label: &str, secs: f64, n: u64, ratio: Option<f64>, mem: Option<u64>| {
        println!(
            "  {name:<20} {label:<40} {n:>9} rows {secs:>7.2} s {:>9.0} rows/s  {:>10}  {:>14}",
            rate(secs, n),
            ratio.map_or(String::new(), |r| format!("ratio {r:.2}")),
            mem.map_or(String::new(), |m| format!("peak +{:.1} MiB", mib(m)))
        );
    };
    line("(a) plain insert [baseline]", a, rows, Some(1.0), None);
    line("(a) + ON CONFLICT DO NOTHING", a1, rows, Some(a / a1), None);
    line("(a') records::insert_*_batch", a2, rows, Some(a / a2), None);
    line("(b) importer", b, rows, Some(a / b), Some(b_mem));
    line(
        "(b) importer, a tenth of the file",
        b_small,
        small_rows,
        Some(a * small_rows as f64 / rows as f64 / b_small),
        Some(b_small_mem),
    );
    println!("  {name:<20} {:<40} (b)/(a') = {:.2}", "", a2 / b);
    if let Some((a0, b0)) = no_idx {
        line("(a) plain insert, no 0009 indexes", a0, rows, Some(a / a0), None);
        line("(b) importer, no 0009 indexes", b0, rows, Some(a / b0), None);
    }
}

/// `-- profiles`: each built-in profile against `redress-csv` on the same rows, same run.
async fn bench_profiles(s: &mut Setup<'_>, backend: Backend, rows: u64) {
    println!("ratio = rows/s through the profile ÷ rows/s of the same rows as redress-csv (target ≥ 0.80)");
    // `IMPORT_BENCH_PROFILES=cups-acom-settlement,…` runs only those (a long run on a busy machine).
    let chosen = std::env::var("IMPORT_BENCH_PROFILES").ok().filter(|v| !v.is_empty());
    for listed in builtin::list().into_iter().skip(1) {
        let name = listed.name;
        if chosen.as_deref().is_some_and(|c| !c.split(',').any(|n| n.trim() == name)) {
            continue;
        }
        let profile = std::sync::Arc::new(builtin::get(name).expect("built-in"));
        let kind = profile.kind;
        let foreign = |n: u64| {
            let path = s.dir.join(format!("{name}-{n}"));
            let mut out = BufWriter::new(File::create(&path).expect("create"));
            let written = profile_write::generated(name, n, 1, &mut out).expect("generate");
            drop(out);
            (path, written)
        };
        let (path, written) = foreign(rows);
        let (small, small_written) = foreign(rows / 10);
        // The same rows as redress-csv: the profile's file read back, written in our CSV.
        let csv = s.dir.join(format!("{name}-{rows}.csv"));
        same_rows_as_csv(&profile, &path, &csv);
        let f = fresh(backend, s.dir, &mut s.n, s.pg_url, true).await;
        let (c, c_mem) = run_profiled(&f.db, kind, None, &csv, written).await;
        discard(f, s.dir).await;
        let f = fresh(backend, s.dir, &mut s.n, s.pg_url, true).await;
        let (p, p_mem) = run_profiled(&f.db, kind, Some(profile.clone()), &path, written).await;
        discard(f, s.dir).await;
        let f = fresh(backend, s.dir, &mut s.n, s.pg_url, true).await;
        let (_, p_small_mem) = run_profiled(&f.db, kind, Some(profile.clone()), &small, small_written).await;
        discard(f, s.dir).await;
        if !s.timed {
            println!(
                "import: {backend:?} {name}: {written} rows through the profile and as redress-csv, counts checked"
            );
            continue;
        }
        let rate = |secs: f64| written as f64 / secs;
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load = load.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
        println!(
            "  {:<9} {name:<24} {written:>9} rows  redress-csv {:>9.0} rows/s (peak +{:.1} MiB)  profile {:>9.0} rows/s (peak +{:.1} MiB; a tenth: +{:.1} MiB)  ratio {:.2}  load {load}",
            format!("{backend:?}"),
            rate(c),
            mib(c_mem),
            rate(p),
            mib(p_mem),
            mib(p_small_mem),
            c / p
        );
        for file in [&path, &small, &csv] {
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Writes the rows a profile reads from `foreign` as our own CSV (the `redress-csv` side).
fn same_rows_as_csv(profile: &std::sync::Arc<Profile>, foreign: &Path, csv_path: &Path) {
    use redress::import::profile::reader::ProfileReader;
    let mut w = csv::Writer::from_writer(BufWriter::new(File::create(csv_path).expect("create")));
    let input = std::io::BufReader::new(File::open(foreign).expect("open"));
    let text = |t: jiff::Timestamp, o: jiff::tz::Offset| t.display_with_offset(o).to_string();
    match profile.kind {
        Kind::Journal => {
            w.write_record(redress::import::parse::JOURNAL_COLUMNS).unwrap();
            for item in ProfileReader::<_, JournalRow>::new(profile.clone(), input).expect("header") {
                let (_, r) = item.expect("generated rows are valid");
                w.write_record([
                    r.merchant_id.to_string(),
                    r.terminal_id.to_string(),
                    r.batch_no,
                    r.trace_no,
                    r.rrn.map(|x| x.to_string()).unwrap_or_default(),
                    r.auth_code.unwrap_or_default(),
                    r.txn_type.as_str().to_owned(),
                    r.status.as_str().to_owned(),
                    r.receipt_printed.to_string(),
                    r.card.as_str().to_owned(),
                    r.amount.major_string(),
                    r.amount.currency.code().to_owned(),
                    text(r.local_time, r.local_offset),
                    r.orig_trace_no.unwrap_or_default(),
                    r.orig_batch_no.unwrap_or_default(),
                    r.response_code.unwrap_or_default(),
                    r.terminal_event.map(|e| e.as_str().to_owned()).unwrap_or_default(),
                ])
                .unwrap();
            }
        }
        Kind::Settlement => {
            w.write_record(redress::import::parse::SETTLEMENT_COLUMNS).unwrap();
            for item in ProfileReader::<_, SettlementEntry>::new(profile.clone(), input).expect("header") {
                let (_, e) = item.expect("generated rows are valid");
                w.write_record([
                    e.entry_id,
                    e.merchant_id.to_string(),
                    e.terminal_id.to_string(),
                    e.trace_no,
                    e.rrn.to_string(),
                    e.card.as_str().to_owned(),
                    e.direction.as_str().to_owned(),
                    e.amount.major_string(),
                    e.amount.currency.code().to_owned(),
                    text(e.txn_time, e.txn_offset),
                    e.settled_on.to_string(),
                    e.orig_rrn.map(|x| x.to_string()).unwrap_or_default(),
                ])
                .unwrap();
            }
        }
    }
    w.flush().unwrap();
}

/// `-- memory`: the importer alone on files of a tenth, the full and twice the row count, each in
/// a process of its own (this executable again), so no allocator or page cache is left over from
/// an earlier run; prints the process's peak resident memory (VmHWM) after the import.
fn memory(dir: &Path, rows: u64, pg_url: Option<&str>, only: Option<&str>) {
    let mut backends = vec!["sqlite"];
    if pg_url.is_some() {
        backends.push("postgres");
    }
    if let Some(only) = only {
        backends.retain(|b| b.eq_ignore_ascii_case(only));
    }
    let exe = std::env::current_exe().expect("this executable");
    for kind in [Kind::Journal, Kind::Settlement] {
        for count in [rows / 10, rows, rows * 2] {
            let path = dir.join(format!("memory-{}-{count}.csv", kind.as_str()));
            write_file(kind, count, &path);
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            for backend in &backends {
                let out = std::process::Command::new(&exe)
                    .args(["--bench", "memory-child", kind.as_str(), &path.display().to_string(), backend])
                    .output()
                    .expect("run child");
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                println!(
                    "  {backend:<8} {:<10} {:>4.0} MiB file  {}",
                    kind.as_str(),
                    mib(size),
                    String::from_utf8_lossy(&out.stdout).trim()
                );
            }
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// One import in a fresh process: rows, seconds, and VmHWM before and after.
async fn memory_child(kind: &str, path: &Path, backend: &str, pg_url: Option<&str>) {
    let kind = Kind::parse(kind).expect("kind");
    let backend = if backend == "postgres" { Backend::Postgres } else { Backend::Sqlite };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut n = 0;
    let f = fresh(backend, dir.path(), &mut n, pg_url, true).await;
    let request = ImportRequest {
        kind,
        file_name: "memory.csv".into(),
        via: "cli",
        user_id: None,
        token_id: None,
        merchant_scope: None,
    };
    let before = status_kb("VmHWM");
    let started = Instant::now();
    let report = import::import(&f.db, &request, File::open(path).expect("open"), None).await.expect("import");
    let secs = started.elapsed().as_secs_f64();
    let after = status_kb("VmHWM");
    assert!(report.accepted && report.inserted == report.rows);
    discard(f, dir.path()).await;
    println!(
        "{:>9} rows {secs:>6.2} s  VmHWM {:.0} MiB before the import, {:.0} MiB after",
        report.rows,
        before as f64 / 1024.0,
        after as f64 / 1024.0
    );
}

fn main() {
    let timed = std::env::args().any(|a| a == "--bench");
    let rows: u64 = if timed {
        std::env::var("IMPORT_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
    } else {
        2_000
    };
    let pg_url = std::env::var("REDRESS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty() && timed);
    let only: Option<String> = std::env::var("IMPORT_BENCH_ONLY").ok(); // "sqlite" or "postgres"

    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "memory-child") {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(memory_child(&args[i + 1], Path::new(&args[i + 2]), &args[i + 3], pg_url.as_deref()));
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    if let (true, Some(url), Some(i)) = (timed, pg_url.as_deref(), args.iter().position(|a| a == "copy")) {
        let kind = std::env::var("IMPORT_BENCH_KIND").ok();
        copy_mode(dir.path(), rows, url, args.get(i + 1).is_some_and(|a| a == "indexes"), kind.as_deref());
        return;
    }
    if timed && args.iter().any(|a| a == "memory") {
        memory(dir.path(), rows, pg_url.as_deref(), only.as_deref());
        return;
    }
    if args.iter().any(|a| a == "profiles") || !timed {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let mut backends = vec![Backend::Sqlite];
        if pg_url.is_some() {
            backends.push(Backend::Postgres);
        }
        if let Some(only) = &only {
            backends.retain(|b| format!("{b:?}").eq_ignore_ascii_case(only));
        }
        let mut setup = Setup { dir: dir.path(), n: 0, pg_url: pg_url.as_deref(), timed };
        for backend in backends {
            rt.block_on(bench_profiles(&mut setup, backend, rows));
        }
        if timed {
            return;
        }
    }
    let files = |kind: Kind| {
        let big = dir.path().join(format!("{}-{rows}.csv", kind.as_str()));
        let small = dir.path().join(format!("{}-{}.csv", kind.as_str(), rows / 10));
        write_file(kind, rows, &big);
        write_file(kind, rows / 10, &small);
        (big, small)
    };
    let (journal, journal_small) = files(Kind::Journal);
    let (settlement, settlement_small) = files(Kind::Settlement);
    if timed {
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!(
            "import: {rows} transactions per kind (seed 1), journal file {:.0} MiB, settlement {:.0} MiB; load average {}",
            mib(std::fs::metadata(&journal).map_or(0, |m| m.len())),
            mib(std::fs::metadata(&settlement).map_or(0, |m| m.len())),
            load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
        );
        println!("ratio = seconds of (a) plain insert ÷ seconds of this path, per row (≥ 0.70 is the target for (b))");
    }

    // Like `#[tokio::main]` in src/main.rs: one worker thread per core.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut backends = vec![Backend::Sqlite];
    if pg_url.is_some() {
        backends.push(Backend::Postgres);
    }
    if let Some(only) = &only {
        backends.retain(|b| format!("{b:?}").eq_ignore_ascii_case(only));
    }
    let mut setup = Setup { dir: dir.path(), n: 0, pg_url: pg_url.as_deref(), timed };
    for backend in backends {
        rt.block_on(bench_kind::<JournalRow>(&mut setup, backend, &journal, &journal_small));
        rt.block_on(bench_kind::<SettlementEntry>(&mut setup, backend, &settlement, &settlement_small));
        if timed {
            let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
            println!("  (load average now {})", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
        }
    }
}

// ---- `-- copy`: PostgreSQL ingest through COPY against a raw COPY (issue 19) ----

/// The record kinds as `-- copy` uses them: parsed rows for the raw COPY, and the table's
/// secondary indexes (all but the primary key and the importer's unique key).
trait Copied: Rows + redress::db::copy::Staged {
    const INDEXES: &[&str];
}

impl Copied for JournalRow {
    const INDEXES: &[&str] = &[
        "journal_by_rrn",
        "journal_by_terminal_trace",
        "journal_by_orig_trace",
        "journal_by_time",
        "journal_by_merchant_time",
        "journal_by_terminal",
        "journal_by_card",
        "journal_by_import",
    ];
}

impl Copied for SettlementEntry {
    const INDEXES: &[&str] = &[
        "settlement_candidates",
        "settlement_by_rrn",
        "settlement_by_orig_rrn",
        "settlement_by_time",
        "settlement_by_terminal",
        "settlement_by_card",
        "settlement_by_import",
        "settlement_by_terminal_trace",
    ];
}

/// Seconds of a raw binary `COPY` of `rows` straight into the records table (one transaction,
/// after opening an import log entry for the rows to refer to), on a fresh database with the
/// indexes `dropped` dropped first.
async fn raw_copy<T: Copied>(s: &mut Setup<'_>, rows: &[T], dropped: &[&str]) -> f64 {
    let f = fresh(Backend::Postgres, s.dir, &mut s.n, s.pg_url, true).await;
    if !dropped.is_empty() {
        let mut tx = f.db.begin().await.expect("begin");
        for index in dropped {
            tx.execute_sql(&format!("DROP INDEX {index}")).await.expect("drop index");
        }
        tx.commit().await.expect("commit");
    }
    let started = Instant::now();
    let mut tx = f.db.begin().await.expect("begin");
    let import_id = records::begin_import(&mut tx, T::KIND.as_str(), "raw", "cli", None, None).await.expect("log");
    let copied = redress::db::copy::copy_into_table(&mut tx, rows, import_id).await.expect("copy");
    tx.commit().await.expect("commit");
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(copied as usize, rows.len());
    discard(f, s.dir).await;
    secs
}

/// Seconds of the importer (`redress import`'s path: parse, hash, stage, settle) on a fresh database.
async fn importer<T: Copied>(s: &mut Setup<'_>, path: &Path, rows: u64) -> f64 {
    let f = fresh(Backend::Postgres, s.dir, &mut s.n, s.pg_url, true).await;
    let (secs, _) = run_import(&f.db, T::KIND, path, rows).await;
    discard(f, s.dir).await;
    secs
}

fn load() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Raw COPY and the importer alternating, `rounds` times each; with `indexes`, then a raw COPY
/// without each secondary index in turn and without all of them: what each costs on ingest.
async fn bench_copy<T: Copied>(s: &mut Setup<'_>, path: &Path, rounds: usize, indexes: bool) {
    let parsed = T::parse(path);
    let rows = parsed.len() as u64;
    let kind = T::KIND.as_str();
    let (mut raw, mut imp) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which goes first, so neither always gets the quieter moment.
        if round % 2 == 0 {
            raw.push(raw_copy(s, &parsed, &[]).await);
            imp.push(importer::<T>(s, path, rows).await);
        } else {
            imp.push(importer::<T>(s, path, rows).await);
            raw.push(raw_copy(s, &parsed, &[]).await);
        }
        let (r, i) = (raw[round], imp[round]);
        println!(
            "  {kind:<10} round {round}: raw COPY {r:>6.2} s ({:>7.0} rows/s)  importer {i:>6.2} s ({:>7.0} rows/s)  ratio {:.2}  [load {}]",
            rows as f64 / r,
            rows as f64 / i,
            r / i,
            load()
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (r, i) = (median(&mut raw), median(&mut imp));
    println!(
        "  {kind:<10} median of {rounds}: raw COPY {r:.2} s, importer {i:.2} s, ratio {:.2} (target ≥ 0.80)",
        r / i
    );
    if !indexes {
        return;
    }
    let base = raw_copy(s, &parsed, &[]).await;
    println!("  {kind:<10} raw COPY, every index          {base:>6.2} s  [load {}]", load());
    for index in T::INDEXES {
        let without = raw_copy(s, &parsed, &[index]).await;
        println!(
            "  {kind:<10} raw COPY without {index:<30} {without:>6.2} s  saves {:>5.2} s ({:>4.1} %)",
            base - without,
            100.0 * (base - without) / base
        );
    }
    let none = raw_copy(s, &parsed, T::INDEXES).await;
    println!("  {kind:<10} raw COPY without all {} secondary {none:>6.2} s  [load {}]", T::INDEXES.len(), load());
}

/// `-- copy [indexes]` (PostgreSQL only): see [`bench_copy`]. IMPORT_BENCH_ROUNDS (default 3).
fn copy_mode(dir: &Path, rows: u64, pg_url: &str, indexes: bool, only: Option<&str>) {
    let rounds = std::env::var("IMPORT_BENCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut s = Setup { dir, n: 0, pg_url: Some(pg_url), timed: true };
    println!(
        "copy: {rows} transactions per kind (seed 1); ratio = raw COPY seconds ÷ importer seconds; load {}",
        load()
    );
    for kind in [Kind::Journal, Kind::Settlement] {
        if only.is_some_and(|o| o != kind.as_str()) {
            continue;
        }
        let path = dir.join(format!("copy-{}-{rows}.csv", kind.as_str()));
        write_file(kind, rows, &path);
        match kind {
            Kind::Journal => rt.block_on(bench_copy::<JournalRow>(&mut s, &path, rounds, indexes)),
            Kind::Settlement => rt.block_on(bench_copy::<SettlementEntry>(&mut s, &path, rounds, indexes)),
        }
        let _ = std::fs::remove_file(&path);
    }
}
