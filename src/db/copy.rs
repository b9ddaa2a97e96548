//! PostgreSQL ingest through `COPY`: a file's rows are streamed with `COPY … FROM STDIN` (binary
//! format: no escaping, no text parsing on the server) into a temporary table with no indexes,
//! then moved into the records table by one set-based `INSERT … SELECT … ON CONFLICT DO NOTHING`.
//! The results are those of the batched path in `db::records` (SQLite keeps that path): the
//! first occurrence of a key in the file wins, a row equal to the stored one is unchanged, any
//! other is a conflict reported with its line and never written.

use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnection, PgCopyIn};

use super::records::{STORED_JOURNAL_COLUMNS, STORED_SETTLEMENT_COLUMNS, StoredJournal, StoredSettlement};
use super::{DbError, Tx};
use crate::domain::records::{JournalRow, SettlementEntry};

/// A record kind that can be staged: its tables, the columns it stages, and how one row is
/// written in `COPY`'s binary format.
pub trait Staged: Sized {
    /// The records table.
    const TABLE: &'static str;
    /// The temporary table the file's rows are copied into (dropped when the import commits).
    const STAGE: &'static str;
    /// The stage's columns after `line`, with their types: the records table's columns but
    /// `id` and `import_id`.
    const STAGE_COLUMNS: &'static [(&'static str, &'static str)];
    /// The unique key the importer's `ON CONFLICT` names.
    const KEY: &'static [&'static str];
    /// Columns a stored row is compared on (the stage's but the key and what derives from
    /// `card`): the fields of the domain row.
    const COMPARED: &'static [&'static str];
    /// The key as [`crate::import`] reports a conflict (`ImportRow::key_text`), in SQL over the stage.
    const KEY_TEXT: &'static str;
    /// Writes the row's fields in `STAGE_COLUMNS` order.
    fn encode(&self, t: &mut Tuple<'_>);
    /// Reads back the rows one import added, streamed, until `each` returns false.
    fn new_rows(
        tx: &mut Tx,
        import_id: i64,
        each: impl FnMut(Self) -> bool + Send,
    ) -> impl Future<Output = Result<(), DbError>> + Send;
}

/// One tuple being written in `COPY`'s binary format: each field a big-endian length (-1 for
/// NULL) and the value's binary form (`int8`/`int4` big-endian, `bool` one byte, text as UTF-8).
pub struct Tuple<'b>(&'b mut Vec<u8>);

impl Tuple<'_> {
    pub fn text(&mut self, v: &str) {
        self.0.extend_from_slice(&(v.len() as i32).to_be_bytes());
        self.0.extend_from_slice(v.as_bytes());
    }
    pub fn opt_text(&mut self, v: Option<&str>) {
        match v {
            Some(v) => self.text(v),
            None => self.0.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    pub fn int8(&mut self, v: i64) {
        self.0.extend_from_slice(&8i32.to_be_bytes());
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub fn int4(&mut self, v: i32) {
        self.0.extend_from_slice(&4i32.to_be_bytes());
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub fn bool(&mut self, v: bool) {
        self.0.extend_from_slice(&1i32.to_be_bytes());
        self.0.push(v as u8);
    }
}

/// The binary `COPY` header: signature, flags (none), header extension length (none).
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// A field count of -1 ends the data.
const TRAILER: &[u8] = &(-1i16).to_be_bytes();

/// Appends one row, after the file line it came from, to a binary `COPY` buffer.
fn encode_row<T: Staged>(buf: &mut Vec<u8>, line: u64, row: &T) {
    buf.extend_from_slice(&(1 + T::STAGE_COLUMNS.len() as i16).to_be_bytes());
    let mut t = Tuple(buf);
    t.int8(line as i64);
    row.encode(&mut t);
}

fn names<T: Staged>() -> String {
    T::STAGE_COLUMNS.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
}

/// A `COPY … FROM STDIN` in progress on the import's transaction.
pub struct Stage<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    buf: Vec<u8>,
}

/// Sends once this much is buffered: a few hundred rows per message.
const SEND_BYTES: usize = 64 * 1024;

impl<'c> Stage<'c> {
    /// Creates the stage table in `tx` (PostgreSQL's: SQLite keeps the batched path) and starts
    /// copying into it.
    pub async fn begin<T: Staged>(tx: &'c mut Tx) -> Result<Stage<'c>, DbError> {
        let Tx::Postgres(t) = tx else {
            unreachable!("only PostgreSQL stages rows");
        };
        let conn: &'c mut PgConnection = t;
        let columns = T::STAGE_COLUMNS.iter().map(|(n, ty)| format!("{n} {ty}")).collect::<Vec<_>>().join(", ");
        let create = format!("CREATE TEMPORARY TABLE {} (line BIGINT NOT NULL, {columns}) ON COMMIT DROP", T::STAGE);
        sqlx::query(&create).execute(&mut *conn).await?;
        // The whole file is one COPY statement: a role's statement_timeout, set for short queries,
        // would cut a large or slow upload that the batches (short statements) would finish.
        sqlx::query("SET LOCAL statement_timeout = 0").execute(&mut *conn).await?;
        let copy =
            conn.copy_in_raw(&format!("COPY {} (line, {}) FROM STDIN (FORMAT binary)", T::STAGE, names::<T>())).await?;
        let mut buf = Vec::with_capacity(SEND_BYTES * 2);
        buf.extend_from_slice(HEADER);
        Ok(Stage { copy, buf })
    }

    /// Streams rows with their line numbers.
    pub async fn push<T: Staged>(&mut self, lines: &[u64], rows: &[T]) -> Result<(), DbError> {
        for (line, row) in lines.iter().zip(rows) {
            encode_row(&mut self.buf, *line, row);
            if self.buf.len() >= SEND_BYTES {
                self.copy.send(self.buf.as_slice()).await?;
                self.buf.clear();
            }
        }
        Ok(())
    }

    /// Ends the copy; returns the number of rows staged.
    pub async fn finish(mut self) -> Result<u64, DbError> {
        self.buf.extend_from_slice(TRAILER);
        self.copy.send(self.buf.as_slice()).await?;
        Ok(self.copy.finish().await?)
    }

    /// Abandons the copy (the file is refused; its transaction is rolled back).
    pub async fn abort(self) -> Result<(), DbError> {
        Ok(self.copy.abort("the file was refused").await?)
    }
}

/// What the set-based insert did with the staged rows.
#[derive(Debug, Default)]
pub struct Settled {
    pub inserted: u64,
    /// Every row that differs from the stored row of its key, as (line, key), in file order.
    pub conflicts: Vec<(u64, String)>,
    pub conflicting: u64,
}

/// Moves the staged rows into the records table. `staged` is the count [`Stage::finish`] gave;
/// at most `max_listed` conflicts are listed (the count stays exact).
pub async fn settle<T: Staged>(
    tx: &mut Tx,
    import_id: i64,
    staged: u64,
    max_listed: usize,
) -> Result<Settled, DbError> {
    let Tx::Postgres(t) = tx else {
        unreachable!("only PostgreSQL stages rows");
    };
    let conn: &mut PgConnection = t;
    let columns = names::<T>();
    let key = T::KEY.join(", ");
    // The stage has no index, so this reads it in the order COPY wrote it (a temporary table is
    // never scanned in parallel or from the middle, and one created in this transaction is only
    // appended to): the first row of a key repeated in the file is the one inserted, as in the
    // batched path. A stage kept or truncated between imports would lose that guarantee. Sorting by line instead cost an
    // external sort of the whole file.
    let insert = format!(
        "INSERT INTO {table} ({columns}, import_id) SELECT {columns}, $1 FROM {stage} \
         ON CONFLICT ({key}) DO NOTHING",
        table = T::TABLE,
        stage = T::STAGE
    );
    let inserted = sqlx::query(&insert).bind(import_id).execute(&mut *conn).await?.rows_affected();
    let mut settled = Settled { inserted, ..Settled::default() };
    if inserted == staged {
        // Every row was new: nothing to compare.
        return Ok(settled);
    }
    // A row whose key was already stored, or repeated in the file, is unchanged when it equals
    // the stored row (the first occurrence of a repeated key always does) and a conflict when not.
    let on_key = T::KEY.iter().map(|k| format!("r.{k} = s.{k}")).collect::<Vec<_>>().join(" AND ");
    let compared = |side: &str| T::COMPARED.iter().map(|c| format!("{side}.{c}")).collect::<Vec<_>>().join(", ");
    let conflicts = format!(
        "SELECT s.line, {key_text} FROM {stage} s JOIN {table} r ON {on_key} \
         WHERE ({stored}) IS DISTINCT FROM ({file}) ORDER BY s.line",
        key_text = T::KEY_TEXT,
        stage = T::STAGE,
        table = T::TABLE,
        stored = compared("r"),
        file = compared("s"),
    );
    let mut rows = sqlx::query_as::<_, (i64, String)>(&conflicts).fetch(&mut *conn);
    while let Some((line, key)) = rows.try_next().await? {
        settled.conflicting += 1;
        if settled.conflicts.len() < max_listed {
            settled.conflicts.push((line as u64, key));
        }
    }
    Ok(settled)
}

impl Staged for JournalRow {
    const TABLE: &'static str = "journal_rows";
    const STAGE: &'static str = "import_journal";
    const STAGE_COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("merchant_id", "TEXT"),
        ("terminal_id", "TEXT"),
        ("batch_no", "TEXT"),
        ("trace_no", "TEXT"),
        ("rrn", "TEXT"),
        ("auth_code", "TEXT"),
        ("txn_type", "TEXT"),
        ("status", "TEXT"),
        ("receipt_printed", "BOOLEAN"),
        ("card", "TEXT"),
        ("card_last4", "TEXT"),
        ("amount_minor", "BIGINT"),
        ("currency", "TEXT"),
        ("local_time", "BIGINT"),
        ("local_offset", "INTEGER"),
        ("orig_trace_no", "TEXT"),
        ("orig_batch_no", "TEXT"),
        ("response_code", "TEXT"),
        ("terminal_event", "TEXT"),
    ];
    const KEY: &'static [&'static str] = &["merchant_id", "terminal_id", "batch_no", "trace_no"];
    const COMPARED: &'static [&'static str] = &[
        "rrn",
        "auth_code",
        "txn_type",
        "status",
        "receipt_printed",
        "card",
        "amount_minor",
        "currency",
        "local_time",
        "local_offset",
        "orig_trace_no",
        "orig_batch_no",
        "response_code",
        "terminal_event",
    ];
    const KEY_TEXT: &'static str = "s.merchant_id || '/' || s.terminal_id || '/' || s.batch_no || '/' || s.trace_no";

    fn encode(&self, t: &mut Tuple<'_>) {
        t.text(self.merchant_id.as_str());
        t.text(self.terminal_id.as_str());
        t.text(&self.batch_no);
        t.text(&self.trace_no);
        t.opt_text(self.rrn.as_ref().map(|r| r.as_str()));
        t.opt_text(self.auth_code.as_deref());
        t.text(self.txn_type.as_str());
        t.text(self.status.as_str());
        t.bool(self.receipt_printed);
        t.text(self.card.as_str());
        t.text(self.card.last4());
        t.int8(self.amount.minor);
        t.text(self.amount.currency.code());
        t.int8(self.local_time.as_second());
        t.int4(self.local_offset.seconds());
        t.opt_text(self.orig_trace_no.as_deref());
        t.opt_text(self.orig_batch_no.as_deref());
        t.opt_text(self.response_code.as_deref());
        t.opt_text(self.terminal_event.map(|e| e.as_str()));
    }

    async fn new_rows(tx: &mut Tx, import_id: i64, mut each: impl FnMut(Self) -> bool + Send) -> Result<(), DbError> {
        let Tx::Postgres(t) = tx else {
            unreachable!("only PostgreSQL stages rows");
        };
        let sql = format!("SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE import_id = $1");
        let mut rows = sqlx::query_as::<_, StoredJournal>(&sql).bind(import_id).fetch(&mut **t);
        while let Some(row) = rows.try_next().await? {
            if !each(row.into_domain()?) {
                break;
            }
        }
        Ok(())
    }
}

impl Staged for SettlementEntry {
    const TABLE: &'static str = "settlement_entries";
    const STAGE: &'static str = "import_settlement";
    const STAGE_COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("entry_id", "TEXT"),
        ("merchant_id", "TEXT"),
        ("terminal_id", "TEXT"),
        ("trace_no", "TEXT"),
        ("rrn", "TEXT"),
        ("card", "TEXT"),
        ("card_last4", "TEXT"),
        ("direction", "TEXT"),
        ("amount_minor", "BIGINT"),
        ("currency", "TEXT"),
        ("txn_time", "BIGINT"),
        ("txn_offset", "INTEGER"),
        ("settled_on", "TEXT"),
        ("orig_rrn", "TEXT"),
    ];
    const KEY: &'static [&'static str] = &["entry_id"];
    const COMPARED: &'static [&'static str] = &[
        "merchant_id",
        "terminal_id",
        "trace_no",
        "rrn",
        "card",
        "direction",
        "amount_minor",
        "currency",
        "txn_time",
        "txn_offset",
        "settled_on",
        "orig_rrn",
    ];
    const KEY_TEXT: &'static str = "s.entry_id";

    fn encode(&self, t: &mut Tuple<'_>) {
        t.text(&self.entry_id);
        t.text(self.merchant_id.as_str());
        t.text(self.terminal_id.as_str());
        t.text(&self.trace_no);
        t.text(self.rrn.as_str());
        t.text(self.card.as_str());
        t.text(self.card.last4());
        t.text(self.direction.as_str());
        t.int8(self.amount.minor);
        t.text(self.amount.currency.code());
        t.int8(self.txn_time.as_second());
        t.int4(self.txn_offset.seconds());
        t.text(&self.settled_on.to_string());
        t.opt_text(self.orig_rrn.as_ref().map(|r| r.as_str()));
    }

    async fn new_rows(tx: &mut Tx, import_id: i64, mut each: impl FnMut(Self) -> bool + Send) -> Result<(), DbError> {
        let Tx::Postgres(t) = tx else {
            unreachable!("only PostgreSQL stages rows");
        };
        let sql = format!("SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries WHERE import_id = $1");
        let mut rows = sqlx::query_as::<_, StoredSettlement>(&sql).bind(import_id).fetch(&mut **t);
        while let Some(row) = rows.try_next().await? {
            if !each(row.into_domain()?) {
                break;
            }
        }
        Ok(())
    }
}

/// Raw `COPY` of already-parsed rows straight into the records table (benchmarks' baseline:
/// the database's own ingest speed, with no stage, no conflict handling and no import log).
pub async fn copy_into_table<T: Staged>(tx: &mut Tx, rows: &[T], import_id: i64) -> Result<u64, DbError> {
    let Tx::Postgres(t) = tx else {
        unreachable!("COPY is PostgreSQL's");
    };
    let sql = format!("COPY {} ({}, import_id) FROM STDIN (FORMAT binary)", T::TABLE, names::<T>());
    let mut copy = t.copy_in_raw(&sql).await?;
    let mut buf = Vec::with_capacity(SEND_BYTES * 2);
    buf.extend_from_slice(HEADER);
    for row in rows {
        buf.extend_from_slice(&((T::STAGE_COLUMNS.len() + 1) as i16).to_be_bytes());
        let mut t = Tuple(&mut buf);
        row.encode(&mut t);
        t.int8(import_id);
        if buf.len() >= SEND_BYTES {
            copy.send(buf.as_slice()).await?;
            buf.clear();
        }
    }
    buf.extend_from_slice(TRAILER);
    copy.send(buf.as_slice()).await?;
    Ok(copy.finish().await?)
}
