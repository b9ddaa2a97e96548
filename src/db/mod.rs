//! The database: one handle over SQLite or PostgreSQL, chosen by the URL, and all SQL behind it.
//!
//! Each query is written once, in SQL both engines accept (`$1` placeholders, `RETURNING`,
//! `ON CONFLICT`, integers for money and Unix seconds for instants), and compiled for both
//! drivers by the `db_read!`, `db_write!` and `db_tx!` macros (crate-internal). Native drivers keep each backend
//! fast; one text keeps the two from drifting apart.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::secret::SecretUrl;

pub mod api_tokens;
pub(crate) mod assemble;
pub mod browse;
pub mod case_list;
pub mod cases;
pub mod copy;
pub mod email_tokens;
pub mod evidence;
pub mod exceptions;
pub mod import_reports;
pub mod limits;
pub mod merchants;
pub mod outbox;
pub mod profiles;
pub mod queue;
pub mod records;
pub mod settings;
pub mod stats;
pub mod users;
pub mod webhooks;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// SQLite allows one writer at a time. Giving writes a pool of exactly one connection queues them
/// in-process instead of letting them fight over the file lock (SQLITE_BUSY), while readers use
/// their own pool and, under WAL, never wait for the writer.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub(crate) read: SqlitePool,
    pub(crate) write: SqlitePool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
}

/// Runs `$body` with `$conn` bound to a pool that may only read.
macro_rules! db_read {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(s) => {
                let $conn = &s.read;
                $body
            }
            $crate::db::Db::Postgres(p) => {
                let $conn = p;
                $body
            }
        }
    };
}

/// Runs `$body` with `$conn` bound to a pool that may write (one statement, its own transaction).
macro_rules! db_write {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(s) => {
                let $conn = &s.write;
                $body
            }
            $crate::db::Db::Postgres(p) => {
                let $conn = p;
                $body
            }
        }
    };
}

/// Runs `$body` with `$conn` bound to the open transaction's connection.
macro_rules! db_tx {
    ($tx:expr, |$conn:ident| $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

// Crate-internal: outside `db` nobody writes SQL (and a `write!` of ours must not shadow std's).
pub(crate) use {db_read, db_tx, db_write};

/// A transaction on either backend. Dropping it without `commit` rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Runs one statement without parameters (schema changes in benchmarks and tests); the
    /// application's own queries live in this module's children.
    pub async fn execute_sql(&mut self, sql: &str) -> Result<u64, DbError> {
        Ok(db_tx!(self, |c| sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()))?)
    }

    pub async fn commit(self) -> Result<(), DbError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

impl Db {
    /// Opens the database named by `url`, creating a SQLite file (and its folder) on first use.
    pub async fn connect(url: &SecretUrl) -> Result<Db, DbError> {
        let text = url.expose();
        let fail = |reason: String| DbError::Connect { url: url.to_string(), reason };
        if text.starts_with("sqlite:") {
            Self::connect_sqlite(text).await.map_err(|e| fail(one_line(&e)))
        } else if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(text).map_err(|e| fail(one_line(&e)))?;
            Self::connect_postgres(options).await.map_err(|e| fail(one_line(&e)))
        } else {
            Err(fail("the URL must start with sqlite:// or postgres://".into()))
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Db, sqlx::Error> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
            let path = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
        }
        let options = sqlite_connect_options(url)?;
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        if in_memory {
            // Each in-memory connection is its own database: one connection must do everything.
            return Ok(Db::Sqlite(SqliteDb { read: write.clone(), write }));
        }
        let read = sqlite_read_pool_options().connect_with(options.read_only(true)).await?;
        Ok(Db::Sqlite(SqliteDb { read, write }))
    }

    /// Wraps a read pool and a one-connection write pool over the same SQLite file
    /// (`benches/http_pages.rs` uses this to compare pool settings through the real `read!` path).
    pub fn from_sqlite_pools(read: SqlitePool, write: SqlitePool) -> Db {
        Db::Sqlite(SqliteDb { read, write })
    }

    async fn connect_postgres(options: PgConnectOptions) -> Result<Db, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Db::Postgres(pool))
    }

    /// Wraps an existing PostgreSQL pool (tests use this to pin a schema).
    pub fn from_pg_pool(pool: PgPool) -> Db {
        Db::Postgres(pool)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations for this backend; they are embedded in the binary.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(s) => {
                sqlx::migrate!("migrations/sqlite").run(&s.write).await?;
                // A migration that builds an index over a big table leaves it in the WAL. Under
                // steady reads a checkpoint never finds a moment to restart the log, so every
                // page read would search hundreds of MB of frames (seen at a million cases: a
                // 767 MB WAL, the dashboard's counts 4x slower). Before serving, nobody reads.
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&s.write).await?;
            }
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Proves the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), DbError> {
        db_read!(self, |c| sqlx::query("SELECT 1").execute(c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn begin(&self) -> Result<Tx, DbError> {
        Ok(match self {
            Db::Sqlite(s) => Tx::Sqlite(s.write.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(s) => {
                s.read.close().await;
                s.write.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

/// How every SQLite connection (writer and readers) is opened.
pub fn sqlite_connect_options(url: &str) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL under WAL loses at most the last transactions on power failure, never integrity.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        // Memory is bounded per process, not per database size: 8 MiB of page cache on each of
        // the five connections and a 64 MiB mapped window (mapped pages count as resident). At
        // 32 MiB and 256 MiB the server sat at 182-384 MB under the scale bench (issue #19's
        // budget is 200 MB); BENCHMARKS.md "Scale" has the figures with these.
        .pragma("cache_size", "-8192")
        .pragma("temp_store", "memory")
        .pragma("mmap_size", "67108864")
        // Without it, the page in benches/http_pages.rs cost 54–57 → 68–73 µs of CPU per request.
        .statement_cache_capacity(256))
}

/// The read pool's settings.
///
/// Measured with `benches/http_pages.rs` (BENCHMARKS.md): each sqlx SQLite call is a round trip
/// to the connection's own worker thread, and sqlx 0.8 makes three per query: a ping before
/// acquire, the query, and a ping on release. The ping on release already checks every connection
/// going back into the pool, and a local file has no network to fail in between, so the test
/// before acquire only costs time. Dropping it took a page with one query from 65–72 to 56–59 µs
/// of server CPU per request (4.2–5.0 to 2.9–3.4 context switches), i.e. from 15–17% to 19–20% of
/// a bare handler's requests per CPU-second. Fewer than 4 readers cost more (1 reader: 100–160 µs);
/// 8 or 16 saved at most 2 µs, not worth twice the threads and page caches.
pub fn sqlite_read_pool_options() -> SqlitePoolOptions {
    let readers = std::thread::available_parallelism().map_or(4, |n| n.get() * 2).max(4) as u32;
    SqlitePoolOptions::new()
        .max_connections(readers)
        .min_connections(1)
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
}

/// sqlx errors can span lines (PostgreSQL details); operators want one line.
fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Stored values were validated on the way in; failing to read them back means the database
/// was changed behind the application's back.
pub(crate) fn corrupt(what: &str) -> DbError {
    DbError::Sqlx(sqlx::Error::Decode(format!("stored record has an invalid {what}").into()))
}

/// Now, as Unix seconds: how every instant is stored.
pub fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// True when the error is a violated unique constraint (a duplicate key) on either backend.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
