//! Matching latency (issue 5): `cases::candidates` + `finding::decide` for one claim, in process,
//! against N journal and N settlement transactions, with a trivial indexed point lookup through
//! the same pool as the baseline, timed in the same run.
//!
//! For each backend (SQLite on a file; PostgreSQL in a fresh schema when REDRESS_TEST_POSTGRES_URL
//! is set), on a freshly migrated database:
//! - setup, not measured: N journal and N settlement transactions from `import::generate` (seed 1;
//!   the settlement file has no entry for declined or voided transactions, so fewer rows),
//!   streamed generator → pipe → parser → 500-row batches (memory stays flat in N). The secondary
//!   indexes (everything but the primary and unique keys) are dropped first and re-created from
//!   their own stored definitions after the load, then checked to be the same set. SQLite inserts
//!   through `db::records::insert_*_batch`; PostgreSQL uses `COPY … FROM STDIN` (and `VACUUM
//!   ANALYZE`, as autovacuum would). The SQLite file is kept under `<target>/matching-bench/` and reused
//!   when its row counts match (MATCH_BENCH_FRESH=1 rebuilds it);
//! - a claim mix drawn from the data (seed 5): MATCH_BENCH_CLAIMS (5,000) claims, 90% hits built
//!   from random settlement debits (their last4, amount, currency; `occurred_at` the debit's time
//!   ± 10 min, or its local date for 30%; merchant id given for 30%, first6 for 20%, terminal id
//!   for 10%; kinds in turn: no_receipt, duplicate_charge, wrong_amount with expected_amount below
//!   amount, refund_not_received) and 10% misses (amounts above any generated one);
//! - 200 other claims and lookups to warm up, then, per claim, one baseline lookup
//!   (`SELECT id FROM settlement_entries WHERE id = $1`, a random id) and one match, alternating,
//!   so both see the same machine.
//!
//! Every match is checked: a hit must find its own debit among the candidates and never end in
//! `no_debit_found`; a miss must find nothing and end in `no_debit_found`. Any failure panics.
//!
//! Run: `nice -n 10 cargo bench --bench matching` (MATCH_BENCH_ROWS, default 10,000,000;
//! MATCH_BENCH_ONLY=sqlite|postgres; MATCH_BENCH_KEEP=1 keeps the PostgreSQL schema for EXPLAIN or a
//! re-run with MATCH_BENCH_PG_SCHEMA=<schema>, which reuses it when its row counts match).
//! Without `--bench` (`cargo test --benches`): 2,000 rows, 50 claims, SQLite only, untimed,
//! counts and findings checked.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use redress::cases::candidates;
use redress::db::records::{self, BATCH_ROWS, STORED_SETTLEMENT_COLUMNS, StoredSettlement};
use redress::db::{self, Backend, Db, Tx};
use redress::domain::claim::{Claim, ClaimKind, Occurred};
use redress::domain::finding::{Candidate, Finding, decide};
use redress::domain::money::Money;
use redress::domain::records::{Direction, JournalRow, SettlementEntry};
use redress::import::parse::{JournalReader, SettlementReader};
use redress::import::{Kind, generate};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};

/// The data's seed (as `benches/import.rs`), and the claim mix's.
const DATA_SEED: u64 = 1;
const CLAIM_SEED: u64 = 5;
const WARMUP: usize = 200;
/// Rows per SQLite load transaction: keeps the WAL file from growing to the size of the database.
const COMMIT_ROWS: u64 = 250_000;
/// Above every generated amount (`import::generate`: 1.00 to 4,999.99): a claim no debit fits.
const MISS_AMOUNT_MIN: i64 = 500_000;

/// The pool the matching queries read through: the same one the `Db` holds.
enum Pool {
    /// The read pool (matching reads through it), and the write pool for maintenance.
    Sqlite(SqlitePool, SqlitePool),
    Postgres(PgPool),
}

macro_rules! on {
    ($pool:expr, |$c:ident| $body:expr) => {
        match $pool {
            Pool::Sqlite(p, _) => {
                let $c = p;
                $body
            }
            Pool::Postgres(p) => {
                let $c = p;
                $body
            }
        }
    };
}

/// One record kind: how to stream it from the generator and load it.
trait Record: Sized + Send + 'static {
    const KIND: Kind;
    const TABLE: &str;
    /// The insert columns of `db::records`, for COPY.
    const COLUMNS: &str;
    fn parse(r: impl Read + Send + 'static) -> impl Iterator<Item = Self>;
    fn insert_sql(rows: usize, backend: Backend) -> records::InsertSql;
    async fn insert(tx: &mut Tx, sql: &records::InsertSql, rows: &[Self], import_id: i64) -> usize;
    /// One line of PostgreSQL's COPY text format, in `COLUMNS` order.
    fn copy_line(&self, import_id: i64, out: &mut String);
}

impl Record for JournalRow {
    const KIND: Kind = Kind::Journal;
    const TABLE: &str = "journal_rows";
    const COLUMNS: &str = "merchant_id, terminal_id, batch_no, trace_no, rrn, auth_code, txn_type, status, \
        receipt_printed, card, card_last4, amount_minor, currency, local_time, local_offset, orig_trace_no, \
        orig_batch_no, response_code, terminal_event, import_id";
    fn parse(r: impl Read + Send + 'static) -> impl Iterator<Item = Self> {
        JournalReader::new(r).expect("header").map(|i| i.expect("valid row").1)
    }
    fn insert_sql(rows: usize, backend: Backend) -> records::InsertSql {
        records::journal_insert(rows, backend)
    }
    async fn insert(tx: &mut Tx, sql: &records::InsertSql, rows: &[Self], import_id: i64) -> usize {
        let new = records::insert_journal_batch(tx, sql, rows, import_id).await.expect("insert journal");
        new.into_iter().filter(|n| *n).count()
    }
    fn copy_line(&self, import_id: i64, out: &mut String) {
        let r = self;
        let fields: [Option<&str>; 10] = [
            Some(&r.merchant_id),
            Some(&r.terminal_id),
            Some(&r.batch_no),
            Some(&r.trace_no),
            r.rrn.as_deref(),
            r.auth_code.as_deref(),
            Some(r.txn_type.as_str()),
            Some(r.status.as_str()),
            Some(if r.receipt_printed { "t" } else { "f" }),
            Some(r.card.as_str()),
        ];
        copy_fields(out, &fields);
        out.push('\t');
        copy_fields(out, &[Some(r.card.last4())]);
        let _ = write!(
            out,
            "\t{}\t{}\t{}\t{}\t",
            r.amount.minor,
            r.amount.currency.code(),
            r.local_time.as_second(),
            r.local_offset.seconds()
        );
        copy_fields(
            out,
            &[
                r.orig_trace_no.as_deref(),
                r.orig_batch_no.as_deref(),
                r.response_code.as_deref(),
                r.terminal_event.map(|e| e.as_str()),
            ],
        );
        let _ = writeln!(out, "\t{import_id}");
    }
}

impl Record for SettlementEntry {
    const KIND: Kind = Kind::Settlement;
    const TABLE: &str = "settlement_entries";
    const COLUMNS: &str = "entry_id, merchant_id, terminal_id, trace_no, rrn, card, card_last4, direction, \
        amount_minor, currency, txn_time, txn_offset, settled_on, orig_rrn, import_id";
    fn parse(r: impl Read + Send + 'static) -> impl Iterator<Item = Self> {
        SettlementReader::new(r).expect("header").map(|i| i.expect("valid row").1)
    }
    fn insert_sql(rows: usize, backend: Backend) -> records::InsertSql {
        records::settlement_insert(rows, backend)
    }
    async fn insert(tx: &mut Tx, sql: &records::InsertSql, rows: &[Self], import_id: i64) -> usize {
        let new = records::insert_settlement_batch(tx, sql, rows, import_id).await.expect("insert settlement");
        new.into_iter().filter(|n| *n).count()
    }
    fn copy_line(&self, import_id: i64, out: &mut String) {
        let r = self;
        copy_fields(
            out,
            &[
                Some(&r.entry_id),
                Some(&r.merchant_id),
                Some(&r.terminal_id),
                Some(&r.trace_no),
                Some(&r.rrn),
                Some(r.card.as_str()),
                Some(r.card.last4()),
                Some(r.direction.as_str()),
            ],
        );
        let _ = write!(
            out,
            "\t{}\t{}\t{}\t{}\t{}\t",
            r.amount.minor,
            r.amount.currency.code(),
            r.txn_time.as_second(),
            r.txn_offset.seconds(),
            r.settled_on
        );
        copy_fields(out, &[r.orig_rrn.as_deref()]);
        let _ = writeln!(out, "\t{import_id}");
    }
}

/// Tab-separated COPY text fields: `\N` for NULL, backslash escapes for the few special bytes.
fn copy_fields(out: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        match f {
            None => out.push_str("\\N"),
            Some(s) => {
                for ch in s.chars() {
                    match ch {
                        '\\' => out.push_str("\\\\"),
                        '\t' => out.push_str("\\t"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        c => out.push(c),
                    }
                }
            }
        }
    }
}

/// The generated rows of one kind in 500-row batches: generator → pipe → parser on two threads,
/// at most a few batches in flight, so memory does not grow with the row count.
fn stream<T: Record>(transactions: u64) -> tokio::sync::mpsc::Receiver<Vec<T>> {
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    std::thread::spawn(move || {
        let (reader, writer) = std::io::pipe().expect("pipe");
        let generator = std::thread::spawn(move || {
            generate::write(T::KIND, transactions, DATA_SEED, BufWriter::with_capacity(1 << 16, writer))
        });
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        for row in T::parse(reader) {
            batch.push(row);
            if batch.len() == BATCH_ROWS && tx.blocking_send(std::mem::take(&mut batch)).is_err() {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        generator.join().expect("generator thread").expect("generate");
    });
    rx
}

/// Inserts one kind through `db::records::insert_*_batch`; returns the rows inserted.
async fn load_insert<T: Record>(db: &Db, transactions: u64) -> u64 {
    let backend = db.backend();
    let full = T::insert_sql(BATCH_ROWS, backend);
    let mut rx = stream::<T>(transactions);
    let mut tx = db.begin().await.expect("begin");
    let import_id =
        records::begin_import(&mut tx, T::KIND.as_str(), "matching-bench", "cli", None, None).await.expect("log");
    let (mut total, mut in_tx) = (0u64, 0u64);
    while let Some(batch) = rx.recv().await {
        let short;
        let sql = if batch.len() == BATCH_ROWS {
            &full
        } else {
            short = T::insert_sql(batch.len(), backend);
            &short
        };
        assert_eq!(T::insert(&mut tx, sql, &batch, import_id).await, batch.len(), "every generated row is new");
        total += batch.len() as u64;
        in_tx += batch.len() as u64;
        if in_tx >= COMMIT_ROWS {
            tx.commit().await.expect("commit");
            tx = db.begin().await.expect("begin");
            in_tx = 0;
        }
    }
    tx.commit().await.expect("commit");
    total
}

/// Loads one kind into PostgreSQL with one `COPY … FROM STDIN`; returns the rows copied.
async fn load_copy<T: Record>(db: &Db, pool: &PgPool, transactions: u64) -> u64 {
    let mut tx = db.begin().await.expect("begin");
    let import_id =
        records::begin_import(&mut tx, T::KIND.as_str(), "matching-bench", "cli", None, None).await.expect("log");
    tx.commit().await.expect("commit");
    let mut rx = stream::<T>(transactions);
    let mut conn = pool.acquire().await.expect("connection");
    let mut copy = conn.copy_in_raw(&format!("COPY {} ({}) FROM STDIN", T::TABLE, T::COLUMNS)).await.expect("copy in");
    let mut buf = String::with_capacity(1 << 21);
    let mut total = 0u64;
    while let Some(batch) = rx.recv().await {
        for row in &batch {
            row.copy_line(import_id, &mut buf);
        }
        total += batch.len() as u64;
        if buf.len() >= 1 << 20 {
            copy.send(buf.as_bytes()).await.expect("copy send");
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await.expect("copy send");
    }
    let copied = copy.finish().await.expect("copy finish");
    assert_eq!(copied, total);
    total
}

/// Runs statements one after the other in one transaction on the write path.
async fn execute_all(db: &Db, statements: &[String]) {
    let mut tx = db.begin().await.expect("begin");
    for sql in statements {
        tx.execute_sql(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    tx.commit().await.expect("commit");
}

/// The record tables' indexes other than primary and unique keys: (name, definition).
async fn secondary_indexes(pool: &Pool) -> Vec<(String, String)> {
    match pool {
        Pool::Sqlite(p, _) => sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
               AND tbl_name IN ('journal_rows', 'settlement_entries') ORDER BY name",
        )
        .fetch_all(p)
        .await
        .expect("indexes"),
        Pool::Postgres(p) => sqlx::query_as(
            "SELECT indexname::text, indexdef FROM pg_indexes i
             WHERE schemaname = current_schema() AND tablename IN ('journal_rows', 'settlement_entries')
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname
                               AND c.connamespace = current_schema()::regnamespace)
             ORDER BY indexname",
        )
        .fetch_all(p)
        .await
        .expect("indexes"),
    }
}

async fn count(pool: &Pool, table: &str) -> u64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let (n,): (i64,) = on!(pool, |c| sqlx::query_as(&sql).fetch_one(c).await).expect("count");
    n as u64
}

/// Loads both kinds with the secondary indexes dropped, then re-creates them. Returns the row
/// counts (journal, settlement) and the seconds of (inserts, index builds).
async fn load(db: &Db, pool: &Pool, transactions: u64) -> ((u64, u64), (f64, f64)) {
    let indexes = secondary_indexes(pool).await;
    assert!(indexes.iter().any(|(n, _)| n == "settlement_candidates"), "the matching index exists: {indexes:?}");
    execute_all(db, &indexes.iter().map(|(name, _)| format!("DROP INDEX {name}")).collect::<Vec<_>>()).await;
    let started = Instant::now();
    let counts = match pool {
        Pool::Sqlite(..) => {
            (load_insert::<JournalRow>(db, transactions).await, load_insert::<SettlementEntry>(db, transactions).await)
        }
        Pool::Postgres(p) => (
            load_copy::<JournalRow>(db, p, transactions).await,
            load_copy::<SettlementEntry>(db, p, transactions).await,
        ),
    };
    let inserts = started.elapsed().as_secs_f64();
    println!("  {:?}: rows loaded in {inserts:.1} s; peak RSS so far {:.0} MiB", db.backend(), peak_mib());
    let started = Instant::now();
    let mut create: Vec<String> = Vec::new();
    if matches!(pool, Pool::Postgres(_)) {
        create.push("SET LOCAL maintenance_work_mem = '256MB'".into());
    }
    create.extend(indexes.iter().map(|(_, sql)| sql.clone()));
    // `sqlite_connect_options` sets `temp_store = memory`, so SQLite's CREATE INDEX would keep its
    // sort runs in memory, growing with the table. Sort in temp files for the builds (on the
    // writer's one connection). What the builds still add to RSS is the mmap window over the
    // scanned file (`mmap_size`, 256 MiB) and the page cache (`cache_size`, 32 MiB): bounded.
    if let Pool::Sqlite(_, write) = pool {
        sqlx::query("PRAGMA temp_store = FILE").execute(write).await.expect("temp_store");
    }
    execute_all(db, &create).await;
    if let Pool::Sqlite(_, write) = pool {
        sqlx::query("PRAGMA temp_store = MEMORY").execute(write).await.expect("temp_store");
    }
    match pool {
        Pool::Sqlite(_, write) => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(write).await.expect("checkpoint");
        }
        Pool::Postgres(p) => {
            // As autovacuum would have by the time anyone files a claim: without it, its insert-triggered
            // vacuum of the fresh 10M-row tables (and the hint bits the first reads set) run during the
            // measurement.
            sqlx::raw_sql("VACUUM (ANALYZE) journal_rows").execute(p).await.expect("vacuum");
            sqlx::raw_sql("VACUUM (ANALYZE) settlement_entries").execute(p).await.expect("vacuum");
        }
    }
    let builds = started.elapsed().as_secs_f64();
    println!("  {:?}: indexes re-created in {builds:.1} s; peak RSS so far {:.0} MiB", db.backend(), peak_mib());
    assert_eq!(secondary_indexes(pool).await, indexes, "the same indexes after the load as the migrations made");
    (counts, (inserts, builds))
}

/// A SQLite database: the `Db` (opened as `Db::connect` opens it) and its read pool.
async fn open_sqlite(path: &Path) -> (Db, Pool) {
    let url = format!("sqlite://{}", path.display());
    let options = db::sqlite_connect_options(&url).expect("url");
    let write = SqlitePoolOptions::new().max_connections(1).min_connections(1).connect_with(options.clone()).await;
    let write = write.expect("writer");
    let read = db::sqlite_read_pool_options().connect_with(options.read_only(true)).await.expect("read pool");
    (Db::from_sqlite_pools(read.clone(), write.clone()), Pool::Sqlite(read, write))
}

fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Where the loaded SQLite database is kept: `<target>/matching-bench/`, the target directory
/// being three levels above this executable (`<target>/release/deps/matching-…`).
fn kept_sqlite_path(transactions: u64) -> PathBuf {
    let exe = std::env::current_exe().expect("this executable");
    let target = exe.ancestors().nth(3).expect("target directory").to_path_buf();
    target.join("matching-bench").join(format!("sqlite-seed{DATA_SEED}-{transactions}.db"))
}

/// Row counts recorded after a complete load, to tell a reusable file from a half-loaded one.
async fn recorded_counts(pool: &Pool, transactions: u64) -> Option<(u64, u64)> {
    let row: Option<(i64, i64, i64)> =
        on!(pool, |c| sqlx::query_as("SELECT transactions, journal, settlement FROM matching_bench_load")
            .fetch_optional(c)
            .await)
        .ok()?;
    let (t, j, s) = row?;
    if t as u64 != transactions {
        return None;
    }
    let actual = (count(pool, "journal_rows").await, count(pool, "settlement_entries").await);
    (actual == (j as u64, s as u64)).then_some(actual)
}

/// Marks a complete load with its row counts.
async fn record_counts(db: &Db, transactions: u64, journal: u64, settlement: u64) {
    execute_all(
        db,
        &[
            "CREATE TABLE matching_bench_load (transactions BIGINT, journal BIGINT, settlement BIGINT)".into(),
            format!("INSERT INTO matching_bench_load VALUES ({transactions}, {journal}, {settlement})"),
        ],
    )
    .await;
}

struct Loaded {
    db: Db,
    pool: Pool,
    journal: u64,
    settlement: u64,
    how: String,
    pg_schema: Option<(String, String)>,
}

async fn prepare_sqlite(transactions: u64, timed: bool, tmp: &Path) -> Loaded {
    let path = if timed { kept_sqlite_path(transactions) } else { tmp.join("matching.db") };
    std::fs::create_dir_all(path.parent().unwrap()).expect("folder");
    let fresh = std::env::var("MATCH_BENCH_FRESH").is_ok_and(|v| v == "1");
    if timed && !fresh && path.exists() {
        let (db, pool) = open_sqlite(&path).await;
        if db.migrate().await.is_ok()
            && let Some((journal, settlement)) = recorded_counts(&pool, transactions).await
        {
            let how = format!("reused {} (row counts match; MATCH_BENCH_FRESH=1 reloads)", path.display());
            return Loaded { db, pool, journal, settlement, how, pg_schema: None };
        }
        db.close().await;
    }
    remove_sqlite(&path);
    let (db, pool) = open_sqlite(&path).await;
    db.migrate().await.expect("migrate");
    let ((journal, settlement), (inserts, builds)) = load(&db, &pool, transactions).await;
    record_counts(&db, transactions, journal, settlement).await;
    let size = std::fs::metadata(&path).map_or(0, |m| m.len()) as f64 / (1u64 << 30) as f64;
    let how = format!(
        "loaded in {inserts:.1} s (records::insert_*_batch, secondary indexes dropped) + {builds:.1} s index builds, \
         {size:.2} GiB at {}; peak RSS {:.0} MiB",
        path.display(),
        peak_mib()
    );
    Loaded { db, pool, journal, settlement, how, pg_schema: None }
}

async fn prepare_postgres(url: &str, transactions: u64) -> Loaded {
    // MATCH_BENCH_PG_SCHEMA: a schema an earlier run kept (MATCH_BENCH_KEEP=1), reused when its
    // row counts match; it is kept again afterwards.
    let reuse = std::env::var("MATCH_BENCH_PG_SCHEMA").ok().filter(|s| !s.is_empty());
    let schema = reuse.clone().unwrap_or_else(|| format!("bench_match_{:016x}", rand::random::<u64>()));
    if reuse.is_none() {
        let admin = PgPoolOptions::new().max_connections(1).connect(url).await.expect("PostgreSQL reachable");
        sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.expect("create schema");
        admin.close().await;
    }
    let options = PgConnectOptions::from_str(url).expect("url").options([("search_path", schema.as_str())]);
    // Db::connect's pool size.
    let pool = PgPoolOptions::new().max_connections(16).connect_with(options).await.expect("pool");
    let db = Db::from_pg_pool(pool.clone());
    db.migrate().await.expect("migrate");
    let pool = Pool::Postgres(pool);
    if reuse.is_some() {
        let (journal, settlement) = recorded_counts(&pool, transactions)
            .await
            .unwrap_or_else(|| panic!("schema {schema} does not hold a complete load of {transactions} transactions"));
        let how = format!("reused schema {schema} (row counts match)");
        return Loaded { db, pool, journal, settlement, how, pg_schema: None };
    }
    let ((journal, settlement), (inserts, builds)) = load(&db, &pool, transactions).await;
    record_counts(&db, transactions, journal, settlement).await;
    let how = format!(
        "loaded in {inserts:.1} s (COPY, secondary indexes dropped) + {builds:.1} s index builds and VACUUM ANALYZE, \
         schema {schema}; peak RSS {:.0} MiB",
        peak_mib()
    );
    Loaded { db, pool, journal, settlement, how, pg_schema: Some((url.to_owned(), schema)) }
}

async fn discard(loaded: Loaded) {
    loaded.db.close().await;
    if let Some((url, schema)) = loaded.pg_schema {
        if std::env::var("MATCH_BENCH_KEEP").is_ok_and(|v| v == "1") {
            println!("  kept schema {schema} (MATCH_BENCH_KEEP=1): DROP SCHEMA {schema} CASCADE when done");
            return;
        }
        let admin = PgPoolOptions::new().max_connections(1).connect(&url).await.expect("PostgreSQL reachable");
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.expect("drop schema");
        admin.close().await;
    }
}

/// One claim of the mix, and the debit it was drawn from (`None` for a miss).
struct Sample {
    claim: Claim,
    debit_id: Option<i64>,
}

async fn settlement_by_id(pool: &Pool, id: i64) -> Option<SettlementEntry> {
    let sql = format!("SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries WHERE id = $1");
    let row: Option<StoredSettlement> =
        on!(pool, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await).expect("settlement row");
    row.map(|r| r.into_domain().expect("stored row"))
}

/// A random settlement debit: (id, entry).
async fn random_debit(pool: &Pool, rng: &mut StdRng, max_id: i64) -> (i64, SettlementEntry) {
    loop {
        let id = rng.random_range(1..=max_id);
        if let Some(e) = settlement_by_id(pool, id).await.filter(|e| e.direction == Direction::Debit) {
            return (id, e);
        }
    }
}

async fn claim_mix(pool: &Pool, rng: &mut StdRng, n: usize, max_id: i64, tz: &jiff::tz::TimeZone) -> Vec<Sample> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (id, debit) = random_debit(pool, rng, max_id).await;
        let kind = ClaimKind::ALL[i % ClaimKind::ALL.len()];
        let miss = rng.random_bool(0.1);
        let currency = debit.amount.currency;
        let amount =
            if miss { Money::new(MISS_AMOUNT_MIN + rng.random_range(0..100_000), currency) } else { debit.amount };
        let occurred = if rng.random_bool(0.3) {
            Occurred::Day(debit.txn_time.to_zoned(tz.clone()).date())
        } else {
            let shift = jiff::SignedDuration::from_secs(rng.random_range(-600..=600));
            Occurred::At(debit.txn_time.checked_add(shift).expect("in range"))
        };
        let expected_amount = (kind == ClaimKind::WrongAmount)
            .then(|| Money::new(amount.minor - rng.random_range(1..=amount.minor / 2), currency));
        let claim = Claim {
            kind,
            card_last4: debit.card.last4().to_owned(),
            card_first6: rng.random_bool(0.2).then(|| debit.card.first6().to_owned()),
            amount,
            expected_amount,
            occurred,
            merchant_id: rng.random_bool(0.3).then(|| debit.merchant_id.to_string()),
            terminal_id: rng.random_bool(0.1).then(|| debit.terminal_id.to_string()),
            merchant_name: None,
            description: None,
        };
        out.push(Sample { claim, debit_id: (!miss).then_some(id) });
    }
    out
}

/// The baseline: a trivial indexed point lookup through the same pool.
async fn point_lookup(pool: &Pool, id: i64) -> Option<i64> {
    let row: Option<(i64,)> = on!(pool, |c| sqlx::query_as("SELECT id FROM settlement_entries WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await)
    .expect("point lookup");
    row.map(|(id,)| id)
}

/// What one match found, checked against what the claim was drawn from.
#[derive(Default)]
struct Tally {
    hits: usize,
    misses: usize,
    candidates: usize,
    findings: BTreeMap<&'static str, usize>,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, sample: &Sample, found: &[(i64, Candidate)], finding: Finding) {
        *self.findings.entry(finding.as_str()).or_default() += 1;
        self.candidates += found.len();
        let claim = &sample.claim;
        let problem = match sample.debit_id {
            Some(id) => {
                self.hits += 1;
                if !found.iter().any(|(f, _)| *f == id) {
                    Some(format!("hit: debit {id} not among {} candidates", found.len()))
                } else if finding == Finding::NoDebitFound {
                    Some(format!("hit: debit {id} found but the finding is no_debit_found"))
                } else {
                    None
                }
            }
            None => {
                self.misses += 1;
                (!found.is_empty() || finding != Finding::NoDebitFound)
                    .then(|| format!("miss: {} candidates, finding {}", found.len(), finding.as_str()))
            }
        };
        if let Some(p) = problem {
            self.failures.push(format!(
                "{p} ({} last4 {} amount {} occurred {:?})",
                claim.kind.as_str(),
                claim.card_last4,
                claim.amount.minor,
                claim.occurred
            ));
        }
    }

    fn assert_sane(&self, what: &str) {
        assert!(
            self.failures.is_empty(),
            "{what}: {} of {} matches are wrong, e.g.:\n  {}",
            self.failures.len(),
            self.hits + self.misses,
            self.failures.iter().take(5).cloned().collect::<Vec<_>>().join("\n  ")
        );
        assert!(self.hits > 0 && self.misses > 0, "{what}: the mix has hits and misses");
        let hit_findings: usize = self.findings.iter().filter(|(f, _)| **f != "no_debit_found").map(|(_, n)| n).sum();
        assert_eq!(
            hit_findings, self.hits,
            "{what}: every hit, and only hits, ends in a finding other than no_debit_found"
        );
        assert!(self.findings.len() >= 4, "{what}: a varied mix of findings: {:?}", self.findings);
    }
}

async fn match_one(db: &Db, sample: &Sample, tz: &jiff::tz::TimeZone) -> (Vec<(i64, Candidate)>, Finding) {
    let found = candidates(db, &sample.claim, tz).await.expect("candidates");
    // As `cases::file` does.
    let list: Vec<Candidate> = found.iter().map(|(_, c)| c.clone()).collect();
    let decision = decide(&sample.claim, &list);
    (found, decision.finding)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

/// The process's peak resident memory so far (VmHWM), in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn loadavg() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

async fn bench(loaded: &Loaded, name: &str, transactions: u64, claims: usize, timed: bool) {
    let tz = jiff::tz::TimeZone::fixed(jiff::tz::offset(8)); // the generator's terminals: UTC+8
    let pool = &loaded.pool;
    let (max_id,): (i64,) =
        on!(pool, |c| sqlx::query_as("SELECT MAX(id) FROM settlement_entries").fetch_one(c).await).expect("max id");
    let mut rng = StdRng::seed_from_u64(CLAIM_SEED);
    let warm = if timed { WARMUP } else { 0 };
    let warmup = claim_mix(pool, &mut rng, warm, max_id, &tz).await;
    let mix = claim_mix(pool, &mut rng, claims, max_id, &tz).await;
    let lookups: Vec<i64> = (0..warm + claims).map(|_| rng.random_range(1..=max_id)).collect();

    let mut tally = Tally::default();
    for (sample, id) in warmup.iter().zip(&lookups) {
        assert_eq!(point_lookup(pool, *id).await, Some(*id));
        let (found, finding) = match_one(&loaded.db, sample, &tz).await;
        tally.check(sample, &found, finding);
    }
    let load_before = loadavg();
    let mut tally = Tally::default();
    let (mut matching, mut baseline) = (Vec::with_capacity(claims), Vec::with_capacity(claims));
    let started = Instant::now();
    for (sample, id) in mix.iter().zip(&lookups[warm..]) {
        let t = Instant::now();
        let got = point_lookup(pool, *id).await;
        baseline.push(t.elapsed());
        assert_eq!(got, Some(*id), "baseline lookup found its row");
        let t = Instant::now();
        let (found, finding) = match_one(&loaded.db, sample, &tz).await;
        matching.push(t.elapsed());
        tally.check(sample, &found, finding);
    }
    let wall = started.elapsed().as_secs_f64();
    tally.assert_sane(name);
    if !timed {
        println!(
            "matching: {name}: {} journal + {} settlement rows, {claims} claims ({} hits, {} misses) checked, untimed",
            loaded.journal, loaded.settlement, tally.hits, tally.misses
        );
        return;
    }
    matching.sort();
    baseline.sort();
    let (m50, m90, m99, mmax) =
        (percentile(&matching, 0.5), percentile(&matching, 0.9), percentile(&matching, 0.99), matching[claims - 1]);
    let (b50, b99) = (percentile(&baseline, 0.5), percentile(&baseline, 0.99));
    println!(
        "  {name}: {transactions} transactions: {} journal + {} settlement rows; {}",
        loaded.journal, loaded.settlement, loaded.how
    );
    println!(
        "  claims {claims} ({} hits, {} misses; {:.2} candidates per claim), {wall:.1} s for lookups + matches; \
         load average {load_before} → {}",
        tally.hits,
        tally.misses,
        tally.candidates as f64 / claims as f64,
        loadavg()
    );
    println!("  findings: {:?}", tally.findings);
    println!(
        "  matching  ms: p50 {} p90 {} p99 {} max {}   (target p99 ≤ 5 ms: {})",
        ms(m50),
        ms(m90),
        ms(m99),
        ms(mmax),
        if m99 <= Duration::from_millis(5) { "met" } else { "MISSED" }
    );
    println!(
        "  baseline  ms: p50 {} p99 {}   ratio matching ÷ baseline: p50 {:.1} p99 {:.1}",
        ms(b50),
        ms(b99),
        m50.as_secs_f64() / b50.as_secs_f64(),
        m99.as_secs_f64() / b99.as_secs_f64()
    );
    println!(
        "  | {name} | {} / {} | {} | {} | {} | {} | {} | {} | {:.1} / {:.1} | {load_before} → {} |",
        group(loaded.journal),
        group(loaded.settlement),
        ms(m50),
        ms(m90),
        ms(m99),
        ms(mmax),
        ms(b50),
        ms(b99),
        m50.as_secs_f64() / b50.as_secs_f64(),
        m99.as_secs_f64() / b99.as_secs_f64(),
        loadavg()
    );
}

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn main() {
    let timed = std::env::args().any(|a| a == "--bench");
    let env_num = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (transactions, claims) = if timed {
        (env_num("MATCH_BENCH_ROWS", 10_000_000), env_num("MATCH_BENCH_CLAIMS", 5_000) as usize)
    } else {
        (2_000, 50)
    };
    let pg_url = std::env::var("REDRESS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty() && timed);
    let only = std::env::var("MATCH_BENCH_ONLY").ok().map(|o| o.to_ascii_lowercase());
    let want = |b: &str| only.as_deref().is_none_or(|o| o == b);
    let tmp = tempfile::tempdir().expect("tempdir");
    // Like `#[tokio::main]` in src/main.rs: one worker thread per core.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    if timed {
        println!(
            "matching: {transactions} journal and settlement transactions (seed {DATA_SEED}), {claims} claims \
             (seed {CLAIM_SEED}), {WARMUP} to warm up; load average {}",
            loadavg()
        );
        println!(
            "  matching = cases::candidates + finding::decide; baseline = SELECT id FROM settlement_entries WHERE id = $1"
        );
    }
    if want("sqlite") {
        rt.block_on(async {
            let loaded = prepare_sqlite(transactions, timed, tmp.path()).await;
            if !timed {
                assert_eq!(loaded.journal, transactions);
                assert!(loaded.settlement > transactions * 9 / 10 && loaded.settlement < transactions);
            }
            assert_eq!(count(&loaded.pool, "journal_rows").await, loaded.journal);
            assert_eq!(count(&loaded.pool, "settlement_entries").await, loaded.settlement);
            bench(&loaded, "SQLite", transactions, claims, timed).await;
            discard(loaded).await;
        });
    }
    if let Some(url) = pg_url.as_deref().filter(|_| want("postgres")) {
        rt.block_on(async {
            let loaded = prepare_postgres(url, transactions).await;
            assert_eq!(count(&loaded.pool, "journal_rows").await, loaded.journal);
            assert_eq!(count(&loaded.pool, "settlement_entries").await, loaded.settlement);
            bench(&loaded, "PostgreSQL", transactions, claims, timed).await;
            discard(loaded).await;
        });
    }
}
