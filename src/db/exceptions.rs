//! Exceptions, the records detection reads, the watch list of waits that end with time, and
//! terminal health counts (DESIGN.md §10).
//!
//! Detection runs inside one transaction (`Tx`): the imports it takes, the exceptions it finds
//! and the notices they cause land together or not at all.

use sqlx::FromRow;

use super::assemble::{Arg, Sql, bind_assembled, fetch_assembled};
use super::records::{STORED_JOURNAL_COLUMNS, STORED_SETTLEMENT_COLUMNS, StoredJournal, StoredSettlement};
use super::{Db, DbError, Tx, db_read, db_tx, now_unix};
use crate::domain::exceptions::{ExceptionKind, ExceptionState};
use crate::domain::records::{JournalRow, SettlementEntry};

/// A record with its row id.
pub type Journal = (i64, JournalRow);
pub type Settlement = (i64, SettlementEntry);

fn journal(rows: Vec<StoredJournal>) -> Result<Vec<Journal>, DbError> {
    rows.into_iter().map(|r| Ok((r.id, r.into_domain()?))).collect()
}

fn settlement(rows: Vec<StoredSettlement>) -> Result<Vec<Settlement>, DbError> {
    rows.into_iter().map(|r| Ok((r.id, r.into_domain()?))).collect()
}

// ---- what an import brought ----

/// Takes every accepted import detection has not looked at; each is taken by one caller only.
pub async fn take_unchecked_imports(tx: &mut Tx) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> = db_tx!(tx, |c| sqlx::query_as(
        "UPDATE imports SET exceptions_checked = TRUE
         WHERE accepted = TRUE AND exceptions_checked = FALSE RETURNING id"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

pub async fn journal_of_import(tx: &mut Tx, import_id: i64) -> Result<Vec<Journal>, DbError> {
    let sql = format!("SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE import_id = $1 ORDER BY id");
    journal(db_tx!(tx, |c| sqlx::query_as(&sql).bind(import_id).fetch_all(c).await)?)
}

pub async fn settlement_of_import(tx: &mut Tx, import_id: i64) -> Result<Vec<Settlement>, DbError> {
    let sql = format!("SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries WHERE import_id = $1 ORDER BY id");
    settlement(db_tx!(tx, |c| sqlx::query_as(&sql).bind(import_id).fetch_all(c).await)?)
}

// ---- the records around many records ----

/// Keys per statement: the partners of this many rows are read with one statement.
pub const CHUNK: usize = 500;

/// The look-ups detection makes, each for many keys at once: a row of `VALUES` per key, joined
/// to the table through the index the condition names. `CROSS JOIN` makes SQLite (which plans
/// without statistics) walk the keys and look each one up, rather than scan the table against
/// them; PostgreSQL plans the join freely. In the look-ups by RRN, `merchant_id || ''` keeps
/// SQLite off the (merchant, terminal) prefix of the trace index, which would read every row of
/// a busy terminal per key; the RRN index finds the one or two rows at once. For debits by RRN or
/// trace, `direction || ''` likewise keeps PostgreSQL from walking the whole partial index of debits
/// (`settlement_candidates`) and testing each against the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Journal rows by (merchant, terminal, RRN).
    JournalByRrn,
    /// Journal rows by (merchant, terminal, trace): a debit's row, or the sale a cancellation names.
    JournalByTrace,
    /// Journal rows by (merchant, terminal, `orig_trace_no`): a sale's voids, refunds, reversals.
    JournalByOrigTrace,
    /// Settlement debits by (merchant, RRN).
    DebitsByRrn,
    /// Settlement debits by (merchant, terminal, trace).
    DebitsByTrace,
    /// Settlement rows by (merchant, `orig_rrn`): the credits returning a debit.
    CreditsByOrigRrn,
    /// Settlement debits by (card last 4, amount, currency, merchant, terminal, from, to): the
    /// neighbours a duplicate cluster is made of.
    Neighbours,
    /// Journal rows by id.
    JournalById,
    /// Settlement rows by id.
    SettlementById,
}

impl Lookup {
    pub const ALL: [Lookup; 9] = [
        Lookup::JournalByRrn,
        Lookup::JournalByTrace,
        Lookup::JournalByOrigTrace,
        Lookup::DebitsByRrn,
        Lookup::DebitsByTrace,
        Lookup::CreditsByOrigRrn,
        Lookup::Neighbours,
        Lookup::JournalById,
        Lookup::SettlementById,
    ];

    /// The table, how many values a key has, and the condition on `v.column1…`.
    fn parts(self) -> (&'static str, usize, &'static str) {
        const JOURNAL: &str = "journal_rows";
        const SETTLEMENT: &str = "settlement_entries";
        match self {
            Lookup::JournalByRrn => (
                JOURNAL,
                3,
                "rrn = v.column3 AND merchant_id || '' = v.column1 AND terminal_id || '' = v.column2",
            ),
            Lookup::JournalByTrace => {
                (JOURNAL, 3, "merchant_id = v.column1 AND terminal_id = v.column2 AND trace_no = v.column3")
            }
            Lookup::JournalByOrigTrace => {
                (JOURNAL, 3, "merchant_id = v.column1 AND terminal_id = v.column2 AND orig_trace_no = v.column3")
            }
            Lookup::DebitsByRrn => {
                (SETTLEMENT, 2, "rrn = v.column2 AND merchant_id || '' = v.column1 AND direction || '' = 'debit'")
            }
            Lookup::DebitsByTrace => (
                SETTLEMENT,
                3,
                "merchant_id = v.column1 AND terminal_id = v.column2 AND trace_no = v.column3 AND direction || '' = 'debit'",
            ),
            Lookup::CreditsByOrigRrn => (SETTLEMENT, 2, "orig_rrn = v.column2 AND merchant_id || '' = v.column1"),
            Lookup::Neighbours => (
                SETTLEMENT,
                7,
                "card_last4 = v.column1 AND amount_minor = v.column2 AND txn_time >= v.column6 AND txn_time <= v.column7
                 AND direction = 'debit' AND merchant_id = v.column4 AND terminal_id = v.column5 AND currency = v.column3",
            ),
            Lookup::JournalById => (JOURNAL, 1, "id = v.column1"),
            Lookup::SettlementById => (SETTLEMENT, 1, "id = v.column1"),
        }
    }

    /// The statement for `keys` keys.
    fn sql(self, keys: usize) -> String {
        let (table, width, condition) = self.parts();
        let columns = if table == "journal_rows" { STORED_JOURNAL_COLUMNS } else { STORED_SETTLEMENT_COLUMNS };
        let rows: Vec<String> = (0..keys)
            .map(|k| {
                let values: Vec<String> = (1..=width).map(|i| format!("${}", k * width + i)).collect();
                format!("({})", values.join(", "))
            })
            .collect();
        format!("SELECT {columns} FROM (VALUES {}) AS v CROSS JOIN {table} WHERE {condition}", rows.join(", "))
    }

    /// The statements for `keys`, [`CHUNK`] keys each, with their arguments in order.
    fn statements(self, keys: Vec<Vec<Arg>>) -> Vec<(String, Vec<Arg>)> {
        let mut out = Vec::new();
        let mut keys = keys.into_iter().peekable();
        while keys.peek().is_some() {
            let chunk: Vec<Vec<Arg>> = keys.by_ref().take(CHUNK).collect();
            out.push((self.sql(chunk.len()), chunk.into_iter().flatten().collect()));
        }
        out
    }

    /// Two keys of the right shape, for [`explain_lookups`].
    fn sample_keys(self) -> Vec<Arg> {
        let (_, width, _) = self.parts();
        (0..2)
            .flat_map(|k| {
                (1..=width).map(move |i| match (self, i) {
                    (Lookup::Neighbours, 2 | 6 | 7) | (Lookup::JournalById | Lookup::SettlementById, _) => {
                        Arg::Int(k * 1000 + i as i64)
                    }
                    _ => Arg::Text(format!("{k}{i}")),
                })
            })
            .collect()
    }
}

/// Journal rows matching any of `keys` (each [`Lookup`]'s width of values), [`CHUNK`] keys a statement.
pub(crate) async fn journal_lookup(tx: &mut Tx, lookup: Lookup, keys: Vec<Vec<Arg>>) -> Result<Vec<Journal>, DbError> {
    let mut out = Vec::new();
    for (sql, args) in lookup.statements(keys) {
        let rows: Vec<StoredJournal> = db_tx!(tx, |c| bind_assembled!(sqlx::query_as(&sql), &args).fetch_all(c).await)?;
        out.extend(journal(rows)?);
    }
    Ok(out)
}

/// Settlement rows matching any of `keys`, [`CHUNK`] keys a statement.
pub(crate) async fn settlement_lookup(
    tx: &mut Tx,
    lookup: Lookup,
    keys: Vec<Vec<Arg>>,
) -> Result<Vec<Settlement>, DbError> {
    let mut out = Vec::new();
    for (sql, args) in lookup.statements(keys) {
        let rows: Vec<StoredSettlement> =
            db_tx!(tx, |c| bind_assembled!(sqlx::query_as(&sql), &args).fetch_all(c).await)?;
        out.extend(settlement(rows)?);
    }
    Ok(out)
}

/// Each look-up's plan for two keys (the plan tests check that every key is an index search).
pub async fn explain_lookups(db: &Db) -> Result<Vec<(Lookup, Vec<String>)>, DbError> {
    let mut out = Vec::new();
    for lookup in Lookup::ALL {
        out.push((lookup, super::assemble::explain(db, &lookup.sql(2), &lookup.sample_keys()).await?));
    }
    Ok(out)
}

// ---- exceptions ----

/// An exception as found, before it has an id.
#[derive(Clone, Debug)]
pub struct NewException {
    pub key: String,
    pub kind: ExceptionKind,
    pub merchant_id: String,
    pub terminal_id: String,
    pub trace_no: String,
    pub rrn: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub other_minor: Option<i64>,
    pub txn_time: i64,
    pub settlement_id: Option<i64>,
    pub journal_id: Option<i64>,
    pub import_id: Option<i64>,
}

/// Records the exceptions whose key is not recorded yet, 100 a statement, and links each new one
/// on a debit an open case already holds to that case. Returns the new ids, in order.
pub async fn insert_many(tx: &mut Tx, found: &[NewException]) -> Result<Vec<i64>, DbError> {
    const WIDTH: usize = 14;
    let now = now_unix();
    let mut ids = Vec::new();
    for chunk in found.chunks(100) {
        let values: Vec<String> = (0..chunk.len())
            .map(|k| {
                let params: Vec<String> = (1..=WIDTH).map(|i| format!("${}", k * WIDTH + i)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO exceptions (exception_key, kind, merchant_id, terminal_id, trace_no, rrn, amount_minor, currency,
                                     other_minor, txn_time, settlement_id, journal_id, import_id, found_at)
             VALUES {} ON CONFLICT (exception_key) DO NOTHING RETURNING id",
            values.join(", ")
        );
        let rows: Vec<(i64,)> = db_tx!(tx, |c| {
            let mut q = sqlx::query_as(&sql);
            for e in chunk {
                q = q
                    .bind(&e.key)
                    .bind(e.kind.as_str())
                    .bind(&e.merchant_id)
                    .bind(&e.terminal_id)
                    .bind(&e.trace_no)
                    .bind(&e.rrn)
                    .bind(e.amount_minor)
                    .bind(&e.currency)
                    .bind(e.other_minor)
                    .bind(e.txn_time)
                    .bind(e.settlement_id)
                    .bind(e.journal_id)
                    .bind(e.import_id)
                    .bind(now);
            }
            q.fetch_all(c).await
        })?;
        ids.extend(rows.into_iter().map(|(id,)| id));
    }
    // Neither engine promises RETURNING's order; ids are given in insertion order.
    ids.sort_unstable();
    link_if_held(tx, &ids).await?;
    Ok(ids)
}

/// New exceptions on a debit an open case already holds are linked to it at once.
async fn link_if_held(tx: &mut Tx, exception_ids: &[i64]) -> Result<(), DbError> {
    let now = now_unix();
    for chunk in exception_ids.chunks(CHUNK) {
        let params: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "UPDATE exceptions SET state = 'linked', linked_at = $1,
                    case_id = (SELECT h.case_id FROM debit_holders h WHERE h.settlement_id = exceptions.settlement_id)
             WHERE id IN ({}) AND state = 'open'
               AND EXISTS (SELECT 1 FROM debit_holders h WHERE h.settlement_id = exceptions.settlement_id)",
            params.join(", ")
        );
        db_tx!(tx, |c| {
            let mut q = sqlx::query(&sql).bind(now);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Links the open exceptions on these debits to the case that now holds them (§10 `linked`).
pub async fn link_to_case(tx: &mut Tx, case_id: i64, settlement_ids: &[i64]) -> Result<u64, DbError> {
    let now = now_unix();
    let mut linked = 0;
    for id in settlement_ids {
        linked += db_tx!(tx, |c| sqlx::query(
            "UPDATE exceptions SET state = 'linked', case_id = $1, linked_at = $2
             WHERE settlement_id = $3 AND state = 'open'"
        )
        .bind(case_id)
        .bind(now)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    Ok(linked)
}

/// The case the exceptions are linked to was settled by its remedy: they are resolved.
pub async fn resolve_by_case(tx: &mut Tx, case_id: i64) -> Result<u64, DbError> {
    let now = now_unix();
    Ok(db_tx!(tx, |c| sqlx::query(
        "UPDATE exceptions SET state = 'resolved', closed_at = $1, closed_by = 'case'
         WHERE case_id = $2 AND state = 'linked'"
    )
    .bind(now)
    .bind(case_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?)
}

/// A person dismisses an open exception with a written reason; false when it is not open.
pub async fn dismiss(db: &Db, id: i64, user_id: i64, reason: &str) -> Result<bool, DbError> {
    let now = now_unix();
    let n = super::db_write!(db, |c| {
        sqlx::query(
        "UPDATE exceptions SET state = 'dismissed', closed_at = $1, closed_by = 'person', closed_by_user = $2, reason = $3
         WHERE id = $4 AND state = 'open'"
    )
    .bind(now)
    .bind(user_id)
    .bind(reason)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

#[derive(Clone, Debug, FromRow)]
pub struct StoredException {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub trace_no: String,
    pub rrn: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub other_minor: Option<i64>,
    pub txn_time: i64,
    pub settlement_id: Option<i64>,
    pub journal_id: Option<i64>,
    pub found_at: i64,
    pub import_id: Option<i64>,
    pub case_id: Option<i64>,
    pub linked_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub closed_by: Option<String>,
    pub reason: Option<String>,
}

/// An exception as the pages, the API and the notices read it.
#[derive(Clone, Debug)]
pub struct ExceptionRow {
    pub kind: ExceptionKind,
    pub state: ExceptionState,
    pub stored: StoredException,
}

const COLUMNS: &str = "id, kind, state, merchant_id, terminal_id, trace_no, rrn, amount_minor, currency, other_minor, \
    txn_time, settlement_id, journal_id, found_at, import_id, case_id, linked_at, closed_at, closed_by, reason";

fn typed(rows: Vec<StoredException>) -> Result<Vec<ExceptionRow>, DbError> {
    rows.into_iter()
        .map(|s| {
            Ok(ExceptionRow {
                kind: ExceptionKind::parse(&s.kind).ok_or_else(|| super::corrupt("exception kind"))?,
                state: ExceptionState::parse(&s.state).ok_or_else(|| super::corrupt("exception state"))?,
                stored: s,
            })
        })
        .collect()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<ExceptionRow>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM exceptions WHERE id = $1");
    let rows: Vec<StoredException> = db_read!(db, |c| sqlx::query_as(&sql).bind(id).fetch_all(c).await)?;
    Ok(typed(rows)?.pop())
}

/// The exceptions with these ids, in id order.
pub async fn by_ids(tx: &mut Tx, ids: &[i64]) -> Result<Vec<ExceptionRow>, DbError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT {COLUMNS} FROM exceptions WHERE id IN ({}) ORDER BY id", params.join(", "));
        let rows: Vec<StoredException> = db_tx!(tx, |c| {
            let mut q = sqlx::query_as(&sql);
            for id in chunk {
                q = q.bind(id);
            }
            q.fetch_all(c).await
        })?;
        out.extend(typed(rows)?);
    }
    Ok(out)
}

/// The exceptions linked to a case (for its page).
pub async fn of_case(db: &Db, case_id: i64) -> Result<Vec<ExceptionRow>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM exceptions WHERE case_id = $1 ORDER BY found_at, id");
    typed(db_read!(db, |c| sqlx::query_as(&sql).bind(case_id).fetch_all(c).await)?)
}

/// What a list asks for. `merchants`: `None` for the desk, else only these.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub merchants: Option<Vec<String>>,
    pub kind: Option<ExceptionKind>,
    pub state: Option<ExceptionState>,
    pub merchant_id: Option<String>,
    pub terminal_id: Option<String>,
    /// Found at or before this instant (an age filter).
    pub found_before: Option<i64>,
    /// Ids below this one (the API's cursor: newest first).
    pub before_id: Option<i64>,
    /// Order by money at stake, largest first (the desk's page).
    pub by_amount: bool,
    pub limit: i64,
}

pub async fn list(db: &Db, f: &Filter) -> Result<Vec<ExceptionRow>, DbError> {
    let mut q = Sql::default();
    if let Some(merchants) = &f.merchants {
        if merchants.is_empty() {
            return Ok(Vec::new());
        }
        q.one_of("merchant_id", merchants);
    }
    if let Some(kind) = f.kind {
        let p = q.text(kind.as_str());
        q.conditions.push(format!("kind = {p}"));
    }
    if let Some(state) = f.state {
        let p = q.text(state.as_str());
        q.conditions.push(format!("state = {p}"));
    }
    if let Some(m) = &f.merchant_id {
        let p = q.text(m);
        q.conditions.push(format!("merchant_id = {p}"));
    }
    if let Some(t) = &f.terminal_id {
        let p = q.text(t);
        q.conditions.push(format!("terminal_id = {p}"));
    }
    if let Some(before) = f.found_before {
        let p = q.int(before);
        q.conditions.push(format!("found_at <= {p}"));
    }
    if let Some(id) = f.before_id {
        let p = q.int(id);
        q.conditions.push(format!("id < {p}"));
    }
    let order = if f.by_amount { "amount_minor DESC, id DESC" } else { "id DESC" };
    let limit = q.int(f.limit);
    let sql = format!("SELECT {COLUMNS} FROM exceptions{} ORDER BY {order} LIMIT {limit}", q.where_clause());
    let rows: Vec<StoredException> = fetch_assembled!(db, &sql, &q.args)?;
    typed(rows)
}

/// Open exceptions per kind, for these merchants (`None`: all).
pub async fn open_counts(db: &Db, merchants: Option<&[String]>) -> Result<Vec<(String, i64)>, DbError> {
    let mut q = Sql::default();
    q.conditions.push("state = 'open'".into());
    if let Some(m) = merchants {
        if m.is_empty() {
            return Ok(Vec::new());
        }
        q.one_of("merchant_id", m);
    }
    let sql = format!("SELECT kind, COUNT(*) FROM exceptions{} GROUP BY kind ORDER BY kind", q.where_clause());
    Ok(fetch_assembled!(db, &sql, &q.args)?)
}

// ---- waits that end with time ----

/// A wait to record: key, kind, settlement row, journal row, due at.
pub type NewWatch = (String, ExceptionKind, Option<i64>, Option<i64>, i64);

/// Records many waits at once (detection batches them: one statement per [`CHUNK`]).
pub async fn watch_many(tx: &mut Tx, watches: &[NewWatch]) -> Result<(), DbError> {
    for chunk in watches.chunks(CHUNK) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${}, ${}, ${})", i * 5 + 1, i * 5 + 2, i * 5 + 3, i * 5 + 4, i * 5 + 5))
            .collect();
        let sql = format!(
            "INSERT INTO exception_watch (watch_key, kind, settlement_id, journal_id, due_at) VALUES {}
             ON CONFLICT (watch_key) DO UPDATE SET due_at = excluded.due_at",
            values.join(", ")
        );
        db_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for (key, kind, sid, jid, due) in chunk {
                q = q.bind(key).bind(kind.as_str()).bind(sid).bind(jid).bind(due);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// Ends the waits and resolves the open (or linked) exceptions with these keys: the records now
/// say the problem is gone. Returns how many exceptions resolved.
pub async fn clear_many(tx: &mut Tx, keys: &[String]) -> Result<u64, DbError> {
    let now = now_unix();
    let mut resolved = 0;
    for chunk in keys.chunks(400) {
        let params = |from: usize| (0..chunk.len()).map(|i| format!("${}", i + from)).collect::<Vec<_>>().join(", ");
        let unwatch = format!("DELETE FROM exception_watch WHERE watch_key IN ({})", params(1));
        let resolve = format!(
            "UPDATE exceptions SET state = 'resolved', closed_at = $1, closed_by = 'records'
             WHERE exception_key IN ({}) AND state IN ('open', 'linked')",
            params(2)
        );
        db_tx!(tx, |c| {
            let mut q = sqlx::query(&unwatch);
            for key in chunk {
                q = q.bind(key);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
        resolved += db_tx!(tx, |c| {
            let mut q = sqlx::query(&resolve).bind(now);
            for key in chunk {
                q = q.bind(key);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(resolved)
}

/// Ends these waits.
pub async fn unwatch_many(tx: &mut Tx, keys: &[String]) -> Result<(), DbError> {
    for chunk in keys.chunks(400) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("DELETE FROM exception_watch WHERE watch_key IN ({})", params.join(", "));
        db_tx!(tx, |c| {
            let mut q = sqlx::query(&sql);
            for key in chunk {
                q = q.bind(key);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

pub async fn unwatch(tx: &mut Tx, key: &str) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("DELETE FROM exception_watch WHERE watch_key = $1")
        .bind(key)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

#[derive(Clone, Debug, FromRow)]
pub struct Watched {
    pub watch_key: String,
    pub kind: String,
    pub settlement_id: Option<i64>,
    pub journal_id: Option<i64>,
}

/// Leases up to `limit` waits due at `now` until `lease_until`, as the deadline sweep leases
/// cases: one statement picks and leases, so two servers never take the same wait.
pub async fn lease_due(db: &Db, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Watched>, DbError> {
    const PICK: &str = "SELECT watch_key FROM exception_watch
                        WHERE due_at <= $2 AND (lease_until IS NULL OR lease_until < $2)
                        ORDER BY due_at LIMIT $3";
    let rows = match db {
        Db::Sqlite(s) => {
            sqlx::query_as(&format!(
                "UPDATE exception_watch SET lease_until = $1 WHERE watch_key IN ({PICK})
                 RETURNING watch_key, kind, settlement_id, journal_id"
            ))
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&s.write)
            .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(&format!(
                "UPDATE exception_watch SET lease_until = $1 WHERE watch_key IN ({PICK} FOR UPDATE SKIP LOCKED)
                 RETURNING watch_key, kind, settlement_id, journal_id"
            ))
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await?
        }
    };
    Ok(rows)
}

// ---- terminal health ----

/// One journal row, as health counts need it.
#[derive(Clone, Debug, FromRow)]
pub struct Activity {
    pub local_time: i64,
    pub status: String,
    pub terminal_event: Option<String>,
}

/// The journal rows of a terminal since a time, for the page (a read) and for the check that
/// flags the terminal (inside detection's transaction): one statement, bound by a macro because
/// the query's type differs per backend.
macro_rules! terminal_activity {
    ($conn:expr, $merchant_id:expr, $terminal_id:expr, $since:expr) => {
        sqlx::query_as(
            "SELECT local_time, status, terminal_event FROM journal_rows
             WHERE merchant_id = $1 AND terminal_id = $2 AND local_time >= $3",
        )
        .bind($merchant_id)
        .bind($terminal_id)
        .bind($since)
        .fetch_all($conn)
        .await
    };
}

pub async fn terminal_activity(
    db: &Db,
    merchant_id: &str,
    terminal_id: &str,
    since: i64,
) -> Result<Vec<Activity>, DbError> {
    Ok(db_read!(db, |c| terminal_activity!(c, merchant_id, terminal_id, since))?)
}

pub async fn terminal_activity_tx(
    tx: &mut Tx,
    merchant_id: &str,
    terminal_id: &str,
    since: i64,
) -> Result<Vec<Activity>, DbError> {
    Ok(db_tx!(tx, |c| terminal_activity!(c, merchant_id, terminal_id, since))?)
}

/// Claims on a terminal since `since`: (filed at, kind).
pub async fn terminal_claims(
    db: &Db,
    merchant_id: &str,
    terminal_id: &str,
    since: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(db_read!(db, |c| {
        sqlx::query_as(
        "SELECT created_at, kind FROM cases WHERE matched_merchant_id = $1 AND matched_terminal_id = $2 AND created_at >= $3"
    )
    .bind(merchant_id)
    .bind(terminal_id)
    .bind(since)
    .fetch_all(c)
    .await
    })?)
}

pub async fn no_receipt_claims_tx(
    tx: &mut Tx,
    merchant_id: &str,
    terminal_id: &str,
    since: i64,
) -> Result<i64, DbError> {
    let (n,): (i64,) = db_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT COUNT(*) FROM cases WHERE matched_merchant_id = $1 AND matched_terminal_id = $2 AND created_at >= $3
           AND kind = 'no_receipt'"
    )
    .bind(merchant_id)
    .bind(terminal_id)
    .bind(since)
    .fetch_one(c)
    .await
    })?;
    Ok(n)
}

/// Terminals with a `no_receipt` claim filed since `since` (the periodic check looks at them).
pub async fn terminals_with_claims(db: &Db, since: i64) -> Result<Vec<(String, String)>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT DISTINCT matched_merchant_id, matched_terminal_id FROM cases
         WHERE kind = 'no_receipt' AND created_at >= $1
           AND matched_merchant_id IS NOT NULL AND matched_terminal_id IS NOT NULL"
    )
    .bind(since)
    .fetch_all(c)
    .await)?)
}

/// Exceptions on a terminal found since `since`: (found at, state).
pub async fn terminal_exceptions(
    db: &Db,
    merchant_id: &str,
    terminal_id: &str,
    since: i64,
) -> Result<Vec<(i64, String)>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT found_at, state FROM exceptions WHERE merchant_id = $1 AND terminal_id = $2 AND found_at >= $3"
    )
    .bind(merchant_id)
    .bind(terminal_id)
    .bind(since)
    .fetch_all(c)
    .await)?)
}

/// Records the flag of a terminal on a day; true only the first time that day.
pub async fn flag(
    tx: &mut Tx,
    merchant_id: &str,
    terminal_id: &str,
    day: &str,
    reasons: &str,
) -> Result<bool, DbError> {
    let now = now_unix();
    let n = db_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO terminal_flags (merchant_id, terminal_id, day, reasons, flagged_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (merchant_id, terminal_id, day) DO NOTHING"
    )
    .bind(merchant_id)
    .bind(terminal_id)
    .bind(day)
    .bind(reasons)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

#[derive(Clone, Debug, FromRow)]
pub struct FlagRow {
    pub merchant_id: String,
    pub terminal_id: String,
    pub day: String,
    pub reasons: String,
    pub flagged_at: i64,
}

/// Terminals flagged since `since`, the latest flag of each, most reasons first
/// (`merchants`: `None` for the desk).
pub async fn flagged(db: &Db, merchants: Option<&[String]>, since: i64) -> Result<Vec<FlagRow>, DbError> {
    let mut q = Sql::default();
    let p = q.int(since);
    q.conditions.push(format!("flagged_at >= {p}"));
    if let Some(m) = merchants {
        if m.is_empty() {
            return Ok(Vec::new());
        }
        q.one_of("merchant_id", m);
    }
    let sql = format!(
        "SELECT merchant_id, terminal_id, day, reasons, flagged_at FROM terminal_flags{} ORDER BY flagged_at DESC",
        q.where_clause()
    );
    let rows: Vec<FlagRow> = fetch_assembled!(db, &sql, &q.args)?;
    let mut latest: Vec<FlagRow> = Vec::new();
    for r in rows {
        if !latest.iter().any(|l| l.merchant_id == r.merchant_id && l.terminal_id == r.terminal_id) {
            latest.push(r);
        }
    }
    // Ranked: more reasons first, then the most recent.
    latest.sort_by_key(|r| (std::cmp::Reverse(r.reasons.split(',').count()), std::cmp::Reverse(r.flagged_at)));
    Ok(latest)
}

/// The latest flag of one terminal since `since`.
pub async fn flag_of(db: &Db, merchant_id: &str, terminal_id: &str, since: i64) -> Result<Option<FlagRow>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT merchant_id, terminal_id, day, reasons, flagged_at FROM terminal_flags
         WHERE merchant_id = $1 AND terminal_id = $2 AND flagged_at >= $3 ORDER BY flagged_at DESC LIMIT 1"
    )
    .bind(merchant_id)
    .bind(terminal_id)
    .bind(since)
    .fetch_optional(c)
    .await)?)
}

/// The merchants a terminal id is registered or flagged under.
pub async fn merchants_of_terminal(db: &Db, terminal_id: &str) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> = db_read!(db, |c| sqlx::query_as(
        "SELECT merchant_id FROM terminals WHERE terminal_id = $1
         UNION SELECT merchant_id FROM terminal_flags WHERE terminal_id = $1"
    )
    .bind(terminal_id)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(m,)| m).collect())
}
