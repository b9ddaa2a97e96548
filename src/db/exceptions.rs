//! Exceptions, the records detection reads, the watch list of waits that end with time, and
//! terminal health counts (DESIGN.md §10).
//!
//! Detection runs inside one transaction (`Tx`): the imports it takes, the exceptions it finds
//! and the notices they cause land together or not at all.

use sqlx::FromRow;

use super::assemble::{Sql, fetch_assembled};
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

// ---- the records around one record ----

/// The journal rows that may be a debit's own (§3.2) or cancel its sale.
///
/// In the lookups by RRN, `merchant_id || ''` keeps SQLite (which plans without statistics) off
/// the (merchant, terminal) prefix of the trace index, which would read every row of a busy
/// terminal; the RRN index finds the one or two rows at once. PostgreSQL plans the same either way.
pub async fn journal_around(tx: &mut Tx, debit: &SettlementEntry) -> Result<Vec<Journal>, DbError> {
    let sql = format!(
        "SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE rrn = $1 AND merchant_id || '' = $2 AND terminal_id || '' = $3
         UNION
         SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE merchant_id = $2 AND terminal_id = $3 AND trace_no = $4
         UNION
         SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE merchant_id = $2 AND terminal_id = $3 AND orig_trace_no = $4"
    );
    journal(db_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(debit.rrn.as_str())
        .bind(debit.merchant_id.as_str())
        .bind(debit.terminal_id.as_str())
        .bind(&debit.trace_no)
        .fetch_all(c)
        .await)?)
}

/// Journal rows at the probe's terminal with its trace (the sale a cancellation names).
pub async fn journal_around_trace(tx: &mut Tx, probe: &JournalRow) -> Result<Vec<Journal>, DbError> {
    let sql = format!(
        "SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE merchant_id = $1 AND terminal_id = $2 AND trace_no = $3"
    );
    journal(db_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(probe.merchant_id.as_str())
        .bind(probe.terminal_id.as_str())
        .bind(&probe.trace_no)
        .fetch_all(c)
        .await)?)
}

/// Journal rows that point at the sale with this trace (its voids, refunds, reversals).
pub async fn cancellations_of(tx: &mut Tx, sale: &JournalRow) -> Result<Vec<Journal>, DbError> {
    let sql = format!(
        "SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE merchant_id = $1 AND terminal_id = $2 AND orig_trace_no = $3"
    );
    journal(db_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(sale.merchant_id.as_str())
        .bind(sale.terminal_id.as_str())
        .bind(&sale.trace_no)
        .fetch_all(c)
        .await)?)
}

/// Credits of the debit's merchant returning its RRN.
pub async fn credits_for(tx: &mut Tx, debit: &SettlementEntry) -> Result<Vec<Settlement>, DbError> {
    let sql = format!(
        "SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries WHERE orig_rrn = $1 AND merchant_id || '' = $2 ORDER BY txn_time, id"
    );
    settlement(db_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(debit.rrn.as_str())
        .bind(debit.merchant_id.as_str())
        .fetch_all(c)
        .await)?)
}

/// The debits a credit may return (its `orig_rrn`, its merchant).
pub async fn debits_returned_by(tx: &mut Tx, credit: &SettlementEntry) -> Result<Vec<Settlement>, DbError> {
    let Some(orig) = &credit.orig_rrn else { return Ok(Vec::new()) };
    let sql = format!(
        "SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries WHERE rrn = $1 AND merchant_id || '' = $2 AND direction = 'debit'"
    );
    settlement(db_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(orig.as_str())
        .bind(credit.merchant_id.as_str())
        .fetch_all(c)
        .await)?)
}

/// The settlement debits that may be this journal row's (§3.2: by RRN, or by trace at its terminal).
pub async fn debits_of_journal(tx: &mut Tx, row: &JournalRow) -> Result<Vec<Settlement>, DbError> {
    let sql = format!(
        "SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries
         WHERE rrn = $1 AND merchant_id || '' = $2 AND terminal_id || '' = $3 AND direction = 'debit'
         UNION
         SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries
         WHERE merchant_id = $2 AND terminal_id = $3 AND trace_no = $4 AND direction = 'debit'"
    );
    settlement(db_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(row.rrn.as_ref().map_or("", |r| r.as_str()))
        .bind(row.merchant_id.as_str())
        .bind(row.terminal_id.as_str())
        .bind(&row.trace_no)
        .fetch_all(c)
        .await)?)
}

/// Debits on the same card's last 4, amount, merchant and terminal within `from..=to` (Unix
/// seconds): the neighbours a duplicate cluster is made of.
pub async fn neighbour_debits(
    tx: &mut Tx,
    debit: &SettlementEntry,
    from: i64,
    to: i64,
) -> Result<Vec<Settlement>, DbError> {
    let sql = format!(
        "SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries
         WHERE card_last4 = $1 AND amount_minor = $2 AND txn_time >= $3 AND txn_time <= $4 AND direction = 'debit'
           AND merchant_id = $5 AND terminal_id = $6 AND currency = $7
         ORDER BY txn_time, id"
    );
    settlement(db_tx!(tx, |c| sqlx::query_as(&sql)
        .bind(debit.card.last4())
        .bind(debit.amount.minor)
        .bind(from)
        .bind(to)
        .bind(debit.merchant_id.as_str())
        .bind(debit.terminal_id.as_str())
        .bind(debit.amount.currency.code())
        .fetch_all(c)
        .await)?)
}

pub async fn journal_by_id(tx: &mut Tx, id: i64) -> Result<Option<JournalRow>, DbError> {
    let sql = format!("SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE id = $1");
    let row: Option<StoredJournal> = db_tx!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
    row.map(StoredJournal::into_domain).transpose()
}

pub async fn settlement_by_id(tx: &mut Tx, id: i64) -> Result<Option<SettlementEntry>, DbError> {
    let sql = format!("SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries WHERE id = $1");
    let row: Option<StoredSettlement> = db_tx!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
    row.map(StoredSettlement::into_domain).transpose()
}

// ---- exceptions ----

/// An exception as found, before it has an id.
pub struct NewException<'a> {
    pub key: &'a str,
    pub kind: ExceptionKind,
    pub merchant_id: &'a str,
    pub terminal_id: &'a str,
    pub trace_no: &'a str,
    pub rrn: Option<&'a str>,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub other_minor: Option<i64>,
    pub txn_time: i64,
    pub settlement_id: Option<i64>,
    pub journal_id: Option<i64>,
    pub import_id: Option<i64>,
}

/// Records an exception unless one with its key exists; its id when new.
pub async fn insert(tx: &mut Tx, e: &NewException<'_>) -> Result<Option<i64>, DbError> {
    let now = now_unix();
    let row: Option<(i64,)> = db_tx!(tx, |c| {
        sqlx::query_as(
        "INSERT INTO exceptions (exception_key, kind, merchant_id, terminal_id, trace_no, rrn, amount_minor, currency,
                                 other_minor, txn_time, settlement_id, journal_id, import_id, found_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (exception_key) DO NOTHING RETURNING id"
    )
    .bind(e.key)
    .bind(e.kind.as_str())
    .bind(e.merchant_id)
    .bind(e.terminal_id)
    .bind(e.trace_no)
    .bind(e.rrn)
    .bind(e.amount_minor)
    .bind(e.currency)
    .bind(e.other_minor)
    .bind(e.txn_time)
    .bind(e.settlement_id)
    .bind(e.journal_id)
    .bind(e.import_id)
    .bind(now)
    .fetch_optional(c)
    .await
    })?;
    Ok(row.map(|(id,)| id))
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

/// A new exception on a debit an open case already holds is linked to it at once.
pub async fn link_if_held(tx: &mut Tx, exception_id: i64, settlement_id: i64) -> Result<(), DbError> {
    let now = now_unix();
    db_tx!(tx, |c| sqlx::query(
        "UPDATE exceptions SET state = 'linked', linked_at = $1,
                case_id = (SELECT case_id FROM debit_holders WHERE settlement_id = $2)
         WHERE id = $3 AND state = 'open' AND EXISTS (SELECT 1 FROM debit_holders WHERE settlement_id = $2)"
    )
    .bind(now)
    .bind(settlement_id)
    .bind(exception_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
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

pub async fn by_ids(tx: &mut Tx, ids: &[i64]) -> Result<Vec<ExceptionRow>, DbError> {
    let mut out = Vec::new();
    let sql = format!("SELECT {COLUMNS} FROM exceptions WHERE id = $1");
    for id in ids {
        let rows: Vec<StoredException> = db_tx!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_all(c).await)?;
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

/// Records many waits at once (detection batches them: one statement per hundred).
pub async fn watch_many(tx: &mut Tx, watches: &[NewWatch]) -> Result<(), DbError> {
    for chunk in watches.chunks(100) {
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

pub async fn terminal_activity(
    db: &Db,
    merchant_id: &str,
    terminal_id: &str,
    since: i64,
) -> Result<Vec<Activity>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT local_time, status, terminal_event FROM journal_rows
         WHERE merchant_id = $1 AND terminal_id = $2 AND local_time >= $3"
    )
    .bind(merchant_id)
    .bind(terminal_id)
    .bind(since)
    .fetch_all(c)
    .await)?)
}

pub async fn terminal_activity_tx(
    tx: &mut Tx,
    merchant_id: &str,
    terminal_id: &str,
    since: i64,
) -> Result<Vec<Activity>, DbError> {
    Ok(db_tx!(tx, |c| sqlx::query_as(
        "SELECT local_time, status, terminal_event FROM journal_rows
         WHERE merchant_id = $1 AND terminal_id = $2 AND local_time >= $3"
    )
    .bind(merchant_id)
    .bind(terminal_id)
    .bind(since)
    .fetch_all(c)
    .await)?)
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
