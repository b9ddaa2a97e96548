//! Terminal journal rows, settlement entries and the log of imports.
//!
//! On SQLite, rows are inserted in multi-row statements (hundreds per round trip) inside the
//! importer's transaction with `ON CONFLICT DO NOTHING`; the count of rows written, or for a
//! batch that was only partly new `RETURNING`, tells which rows were new, and only the others
//! are read back to tell "unchanged" from "conflict". PostgreSQL imports go through `db::copy`.

use std::collections::HashSet;
use std::hash::Hash;

use jiff::Timestamp;
use jiff::tz::Offset;
use sqlx::FromRow;

use super::{Backend, Db, DbError, Tx, corrupt, now_unix};
use crate::db::{db_tx, db_write};
use crate::domain::card::MaskedCard;
use crate::domain::ids::{MerchantId, Rrn, TerminalId};
use crate::domain::money::{Currency, Money};
use crate::domain::records::{Direction, JournalRow, SettlementEntry, TerminalEvent, TxnStatus, TxnType};

/// Rows per INSERT statement: 20 columns × 500 rows stays well under both engines' parameter limits.
pub const BATCH_ROWS: usize = 500;

const JOURNAL_COLUMNS: &str = "merchant_id, terminal_id, batch_no, trace_no, rrn, auth_code, txn_type, status, \
    receipt_printed, card, card_last4, amount_minor, currency, local_time, local_offset, orig_trace_no, orig_batch_no, \
    response_code, terminal_event, import_id";
const JOURNAL_PARAMS: usize = 20;

const SETTLEMENT_COLUMNS: &str = "entry_id, merchant_id, terminal_id, trace_no, rrn, card, card_last4, direction, \
    amount_minor, currency, txn_time, txn_offset, settled_on, orig_rrn, import_id";
const SETTLEMENT_PARAMS: usize = 15;

/// `($1, …, $k), ($k+1, …)` for `rows` rows of `per_row` parameters — or, on SQLite, `(?, …)`:
/// sqlx looks each `$N` up by name, and SQLite's name look-up is linear in the number of
/// parameters, which made a 10,000-parameter INSERT quadratic (79% of import time, measured
/// with perf). Anonymous `?` parameters are bound by position with no look-up.
fn values_list(rows: usize, per_row: usize, backend: Backend) -> String {
    let mut out = String::with_capacity(rows * per_row * 5);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..per_row {
            if c > 0 {
                out.push_str(", ");
            }
            match backend {
                Backend::Sqlite => out.push('?'),
                Backend::Postgres => {
                    out.push('$');
                    out.push_str(&(r * per_row + c + 1).to_string());
                }
            }
        }
        out.push(')');
    }
    out
}

/// The INSERT for `rows` journal rows (a full batch, or a shorter last one).
pub fn journal_insert_sql(rows: usize, backend: Backend) -> String {
    format!(
        "INSERT INTO journal_rows ({JOURNAL_COLUMNS}) VALUES {} \
         ON CONFLICT (merchant_id, terminal_id, batch_no, trace_no) DO NOTHING \
         RETURNING merchant_id, terminal_id, batch_no, trace_no",
        values_list(rows, JOURNAL_PARAMS, backend)
    )
}

pub fn settlement_insert_sql(rows: usize, backend: Backend) -> String {
    format!(
        "INSERT INTO settlement_entries ({SETTLEMENT_COLUMNS}) VALUES {} ON CONFLICT (entry_id) DO NOTHING RETURNING entry_id",
        values_list(rows, SETTLEMENT_PARAMS, backend)
    )
}

/// Binds one journal row's values in `JOURNAL_COLUMNS` order.
macro_rules! bind_journal {
    ($q:expr, $r:expr, $import_id:expr) => {
        $q.bind($r.merchant_id.as_str())
            .bind($r.terminal_id.as_str())
            .bind(&$r.batch_no)
            .bind(&$r.trace_no)
            .bind($r.rrn.as_ref().map(|r| r.as_str()))
            .bind($r.auth_code.as_deref())
            .bind($r.txn_type.as_str())
            .bind($r.status.as_str())
            .bind($r.receipt_printed)
            .bind($r.card.as_str())
            .bind($r.card.last4())
            .bind($r.amount.minor)
            .bind($r.amount.currency.code())
            .bind($r.local_time.as_second())
            .bind($r.local_offset.seconds())
            .bind($r.orig_trace_no.as_deref())
            .bind($r.orig_batch_no.as_deref())
            .bind($r.response_code.as_deref())
            .bind($r.terminal_event.map(|e| e.as_str()))
            .bind($import_id)
    };
}

macro_rules! bind_settlement {
    ($q:expr, $r:expr, $import_id:expr) => {
        $q.bind(&$r.entry_id)
            .bind($r.merchant_id.as_str())
            .bind($r.terminal_id.as_str())
            .bind(&$r.trace_no)
            .bind($r.rrn.as_str())
            .bind($r.card.as_str())
            .bind($r.card.last4())
            .bind($r.direction.as_str())
            .bind($r.amount.minor)
            .bind($r.amount.currency.code())
            .bind($r.txn_time.as_second())
            .bind($r.txn_offset.seconds())
            .bind($r.settled_on.to_string())
            .bind($r.orig_rrn.as_ref().map(|r| r.as_str()))
            .bind($import_id)
    };
}

/// The two forms of one batch's INSERT: plain, and with `RETURNING` the keys of the rows written.
pub struct InsertSql {
    pub plain: String,
    pub returning: String,
}

impl InsertSql {
    /// Both forms, from the one with `RETURNING`.
    fn from_returning(returning: String) -> InsertSql {
        let plain = returning[..returning.rfind(" RETURNING ").expect("the statement returns keys")].to_owned();
        InsertSql { plain, returning }
    }
}

pub fn journal_insert(rows: usize, backend: Backend) -> InsertSql {
    InsertSql::from_returning(journal_insert_sql(rows, backend))
}

pub fn settlement_insert(rows: usize, backend: Backend) -> InsertSql {
    InsertSql::from_returning(settlement_insert_sql(rows, backend))
}

/// Inserts one batch and tells, per row, whether it was new. `plain` runs the INSERT without
/// `RETURNING` and gives the count of rows written; inside a savepoint, so that a batch that
/// wrote every row or none is settled by the count alone (most batches of a new file, and every
/// batch of a file imported again), and one that wrote only some is undone and run again as
/// `returning`, which gives the keys of the rows it wrote. Decoding the keys of every new row
/// back cost about a quarter of a journal import on SQLite. `keys` are the batch's keys in
/// order; a key repeated within the batch was inserted once, by its first occurrence.
async fn insert_new<K: Eq + Hash>(
    tx: &mut Tx,
    plain: impl AsyncFnOnce(&mut Tx) -> Result<u64, sqlx::Error>,
    returning: impl AsyncFnOnce(&mut Tx) -> Result<Vec<K>, sqlx::Error>,
    keys: impl ExactSizeIterator<Item = K>,
) -> Result<Vec<bool>, DbError> {
    let rows = keys.len();
    db_tx!(tx, |c| sqlx::query("SAVEPOINT import_batch").execute(c).await.map(|_| ()))?;
    let written = plain(tx).await?;
    let all_or_none = written as usize == rows || written == 0;
    if !all_or_none {
        db_tx!(tx, |c| sqlx::query("ROLLBACK TO SAVEPOINT import_batch").execute(c).await.map(|_| ()))?;
    }
    db_tx!(tx, |c| sqlx::query("RELEASE SAVEPOINT import_batch").execute(c).await.map(|_| ()))?;
    if all_or_none {
        return Ok(vec![written != 0; rows]);
    }
    let new: HashSet<K> = returning(tx).await?.into_iter().collect();
    let mut seen = HashSet::new();
    Ok(keys.map(|key| new.contains(&key) && seen.insert(key)).collect())
}

/// Binds each of `$rows`, in order, to the query `$q` with `$bind`.
macro_rules! bind_rows {
    ($bind:ident, $q:expr, $rows:expr, $import_id:expr) => {{
        let mut q = $q;
        for r in $rows {
            q = $bind!(q, r, $import_id);
        }
        q
    }};
}

/// [`insert_new`] for `$rows`, each bound with `$bind` (`bind_journal` or `bind_settlement`) and
/// known by `$key`. Both statements are written once and compiled for each backend by `db_tx!`.
macro_rules! insert_rows {
    ($tx:expr, $sql:expr, $rows:expr, $import_id:expr, $bind:ident, $key:expr) => {{
        let (sql, rows, import_id): (&InsertSql, &[_], i64) = ($sql, $rows, $import_id);
        insert_new(
            $tx,
            async |tx: &mut Tx| {
                db_tx!(tx, |c| bind_rows!($bind, sqlx::query(&sql.plain), rows, import_id)
                    .execute(c)
                    .await
                    .map(|r| r.rows_affected()))
            },
            async |tx: &mut Tx| {
                db_tx!(tx, |c| bind_rows!($bind, sqlx::query_as(&sql.returning), rows, import_id).fetch_all(c).await)
            },
            rows.iter().map($key),
        )
        .await
    }};
}

/// Inserts the journal rows that are new; returns, per row, whether it was inserted.
pub async fn insert_journal_batch(
    tx: &mut Tx,
    sql: &InsertSql,
    rows: &[JournalRow],
    import_id: i64,
) -> Result<Vec<bool>, DbError> {
    insert_rows!(tx, sql, rows, import_id, bind_journal, |r| (
        r.merchant_id.to_string(),
        r.terminal_id.to_string(),
        r.batch_no.clone(),
        r.trace_no.clone()
    ))
}

/// Inserts the settlement entries that are new; returns, per entry, whether it was inserted.
pub async fn insert_settlement_batch(
    tx: &mut Tx,
    sql: &InsertSql,
    rows: &[SettlementEntry],
    import_id: i64,
) -> Result<Vec<bool>, DbError> {
    insert_rows!(tx, sql, rows, import_id, bind_settlement, |r| (r.entry_id.clone(),))
}

// ---- reading rows back ----

#[derive(Debug, FromRow)]
pub struct StoredJournal {
    pub id: i64,
    pub merchant_id: String,
    pub terminal_id: String,
    pub batch_no: String,
    pub trace_no: String,
    pub rrn: Option<String>,
    pub auth_code: Option<String>,
    pub txn_type: String,
    pub status: String,
    pub receipt_printed: bool,
    pub card: String,
    pub amount_minor: i64,
    pub currency: String,
    pub local_time: i64,
    pub local_offset: i32,
    pub orig_trace_no: Option<String>,
    pub orig_batch_no: Option<String>,
    pub response_code: Option<String>,
    pub terminal_event: Option<String>,
}

pub const STORED_JOURNAL_COLUMNS: &str = "id, merchant_id, terminal_id, batch_no, trace_no, rrn, auth_code, txn_type, \
    status, receipt_printed, card, amount_minor, currency, local_time, local_offset, orig_trace_no, orig_batch_no, \
    response_code, terminal_event";

impl StoredJournal {
    pub fn into_domain(self) -> Result<JournalRow, DbError> {
        let currency = Currency::from_code(&self.currency).ok_or_else(|| corrupt("currency"))?;
        Ok(JournalRow {
            merchant_id: MerchantId::parse(&self.merchant_id).ok_or_else(|| corrupt("merchant_id"))?,
            terminal_id: TerminalId::parse(&self.terminal_id).ok_or_else(|| corrupt("terminal_id"))?,
            batch_no: self.batch_no,
            trace_no: self.trace_no,
            rrn: self.rrn.map(|r| Rrn::parse(&r).ok_or_else(|| corrupt("rrn"))).transpose()?,
            auth_code: self.auth_code,
            txn_type: TxnType::parse(&self.txn_type).ok_or_else(|| corrupt("txn_type"))?,
            status: TxnStatus::parse(&self.status).ok_or_else(|| corrupt("status"))?,
            receipt_printed: self.receipt_printed,
            card: MaskedCard::parse(&self.card).map_err(|_| corrupt("card"))?,
            amount: Money::new(self.amount_minor, currency),
            local_time: Timestamp::from_second(self.local_time).map_err(|_| corrupt("local_time"))?,
            local_offset: Offset::from_seconds(self.local_offset).map_err(|_| corrupt("local_offset"))?,
            orig_trace_no: self.orig_trace_no,
            orig_batch_no: self.orig_batch_no,
            response_code: self.response_code,
            terminal_event: match self.terminal_event {
                Some(e) => Some(TerminalEvent::parse(&e).ok_or_else(|| corrupt("terminal_event"))?),
                None => None,
            },
        })
    }
}

#[derive(Debug, FromRow)]
pub struct StoredSettlement {
    pub id: i64,
    pub entry_id: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub trace_no: String,
    pub rrn: String,
    pub card: String,
    pub direction: String,
    pub amount_minor: i64,
    pub currency: String,
    pub txn_time: i64,
    pub txn_offset: i32,
    pub settled_on: String,
    pub orig_rrn: Option<String>,
}

pub const STORED_SETTLEMENT_COLUMNS: &str = "id, entry_id, merchant_id, terminal_id, trace_no, rrn, card, direction, \
    amount_minor, currency, txn_time, txn_offset, settled_on, orig_rrn";

impl StoredSettlement {
    pub fn into_domain(self) -> Result<SettlementEntry, DbError> {
        let currency = Currency::from_code(&self.currency).ok_or_else(|| corrupt("currency"))?;
        Ok(SettlementEntry {
            entry_id: self.entry_id,
            merchant_id: MerchantId::parse(&self.merchant_id).ok_or_else(|| corrupt("merchant_id"))?,
            terminal_id: TerminalId::parse(&self.terminal_id).ok_or_else(|| corrupt("terminal_id"))?,
            trace_no: self.trace_no,
            rrn: Rrn::parse(&self.rrn).ok_or_else(|| corrupt("rrn"))?,
            card: MaskedCard::parse(&self.card).map_err(|_| corrupt("card"))?,
            direction: Direction::parse(&self.direction).ok_or_else(|| corrupt("direction"))?,
            amount: Money::new(self.amount_minor, currency),
            txn_time: Timestamp::from_second(self.txn_time).map_err(|_| corrupt("txn_time"))?,
            txn_offset: Offset::from_seconds(self.txn_offset).map_err(|_| corrupt("txn_offset"))?,
            settled_on: self.settled_on.parse().map_err(|_| corrupt("settled_on"))?,
            orig_rrn: self.orig_rrn.map(|r| Rrn::parse(&r).ok_or_else(|| corrupt("orig_rrn"))).transpose()?,
        })
    }
}

pub async fn journal_by_key(tx: &mut Tx, key: (&str, &str, &str, &str)) -> Result<Option<JournalRow>, DbError> {
    let sql = format!(
        "SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows
         WHERE merchant_id = $1 AND terminal_id = $2 AND batch_no = $3 AND trace_no = $4"
    );
    let row: Option<StoredJournal> =
        db_tx!(tx, |c| sqlx::query_as(&sql).bind(key.0).bind(key.1).bind(key.2).bind(key.3).fetch_optional(c).await)?;
    row.map(StoredJournal::into_domain).transpose()
}

pub async fn settlement_by_entry_id(tx: &mut Tx, entry_id: &str) -> Result<Option<SettlementEntry>, DbError> {
    let sql = format!("SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries WHERE entry_id = $1");
    let row: Option<StoredSettlement> = db_tx!(tx, |c| sqlx::query_as(&sql).bind(entry_id).fetch_optional(c).await)?;
    row.map(StoredSettlement::into_domain).transpose()
}

/// The RRN of the latest settlement debit of `merchant_id` with this trace number at this instant
/// (Unix seconds): the sale a credit names by trace and time (import profiles, §3.4). Found
/// through `settlement_by_time` (0009): few records share one second.
pub async fn debit_rrn_by_trace_time(
    tx: &mut Tx,
    merchant_id: &str,
    trace_no: &str,
    txn_time: i64,
) -> Result<Option<String>, DbError> {
    let sql = "SELECT rrn FROM settlement_entries
               WHERE txn_time = $1 AND merchant_id = $2 AND trace_no = $3 AND direction = 'debit'
               ORDER BY id DESC LIMIT 1";
    let rrn: Option<(String,)> =
        db_tx!(tx, |c| sqlx::query_as(sql).bind(txn_time).bind(merchant_id).bind(trace_no).fetch_optional(c).await)?;
    Ok(rrn.map(|(r,)| r))
}

// ---- the import log ----

pub struct ImportRecord<'a> {
    pub kind: &'a str,
    pub file_name: &'a str,
    pub sha256: &'a str,
    pub via: &'a str,
    pub user_id: Option<i64>,
    pub token_id: Option<i64>,
    pub accepted: bool,
    pub row_count: i64,
    pub inserted: i64,
    pub unchanged: i64,
    pub conflicting: i64,
    pub bad_rows: i64,
}

/// Opens the log entry of an import in its transaction, so the rows can refer to it.
pub async fn begin_import(
    tx: &mut Tx,
    kind: &str,
    file_name: &str,
    via: &str,
    user_id: Option<i64>,
    token_id: Option<i64>,
) -> Result<i64, DbError> {
    let (id,): (i64,) = db_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO imports (kind, file_name, sha256, via, user_id, token_id, accepted, row_count, inserted, unchanged,
                              conflicting, bad_rows, created_at)
         VALUES ($1, $2, '', $3, $4, $5, FALSE, 0, 0, 0, 0, 0, $6) RETURNING id"
    )
    .bind(kind)
    .bind(file_name)
    .bind(via)
    .bind(user_id)
    .bind(token_id)
    .bind(now_unix())
    .fetch_one(c)
    .await
    })?;
    Ok(id)
}

/// Completes the log entry of an accepted import.
pub async fn finish_import(tx: &mut Tx, id: i64, r: &ImportRecord<'_>) -> Result<(), DbError> {
    db_tx!(tx, |c| {
        sqlx::query(
        "UPDATE imports SET sha256 = $1, accepted = $2, row_count = $3, inserted = $4, unchanged = $5, conflicting = $6,
                            bad_rows = $7 WHERE id = $8"
    )
    .bind(r.sha256)
    .bind(r.accepted)
    .bind(r.row_count)
    .bind(r.inserted)
    .bind(r.unchanged)
    .bind(r.conflicting)
    .bind(r.bad_rows)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Logs a rejected import (its rows were rolled back with the transaction that held them).
pub async fn log_rejected_import(db: &Db, r: &ImportRecord<'_>) -> Result<i64, DbError> {
    let (id,): (i64,) = db_write!(db, |c| {
        sqlx::query_as(
        "INSERT INTO imports (kind, file_name, sha256, via, user_id, token_id, accepted, row_count, inserted, unchanged,
                              conflicting, bad_rows, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, 0, 0, 0, $8, $9) RETURNING id"
    )
    .bind(r.kind)
    .bind(r.file_name)
    .bind(r.sha256)
    .bind(r.via)
    .bind(r.user_id)
    .bind(r.token_id)
    .bind(r.row_count)
    .bind(r.bad_rows)
    .bind(now_unix())
    .fetch_one(c)
    .await
    })?;
    Ok(id)
}

pub async fn count_rows(db: &Db, table: RecordTable) -> Result<i64, DbError> {
    let sql = match table {
        RecordTable::Journal => "SELECT COUNT(*) FROM journal_rows",
        RecordTable::Settlement => "SELECT COUNT(*) FROM settlement_entries",
    };
    let (n,): (i64,) = crate::db::db_read!(db, |c| sqlx::query_as(sql).fetch_one(c).await)?;
    Ok(n)
}

#[derive(Clone, Copy, Debug)]
pub enum RecordTable {
    Journal,
    Settlement,
}

#[derive(Clone, Debug, FromRow)]
pub struct ImportRow {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub via: String,
    pub accepted: bool,
    pub row_count: i64,
    pub inserted: i64,
    pub unchanged: i64,
    pub conflicting: i64,
    pub bad_rows: i64,
    pub created_at: i64,
}

/// The latest imports; only one user's when `user_id` is given (merchant staff see their own).
pub async fn recent_imports(db: &Db, user_id: Option<i64>, limit: i64) -> Result<Vec<ImportRow>, DbError> {
    Ok(crate::db::db_read!(db, |c| sqlx::query_as(
        "SELECT id, kind, file_name, via, accepted, row_count, inserted, unchanged, conflicting, bad_rows, created_at
         FROM imports WHERE ($1 IS NULL OR user_id = $1) ORDER BY id DESC LIMIT $2"
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}
