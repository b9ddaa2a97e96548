//! The email outbox: notices written with the change that causes them, delivered later.

use sqlx::FromRow;

use super::{Db, DbError, Tx, now_unix};
use crate::db::{db_read, db_tx, db_write};

pub struct NewNotice<'a> {
    /// Unique per event occurrence: the same event never yields two notices.
    pub notice_key: &'a str,
    pub event: &'a str,
    pub recipient: &'a str,
    pub lang: &'a str,
    pub case_id: Option<i64>,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
}

/// Queues a notice in the caller's transaction; a repeat of the same key is ignored.
pub async fn enqueue(tx: &mut Tx, n: &NewNotice<'_>) -> Result<bool, DbError> {
    let now = now_unix();
    let inserted = db_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO outbox (notice_key, event, recipient, lang, case_id, subject, body_text, body_html, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (notice_key) DO NOTHING"
    )
    .bind(n.notice_key)
    .bind(n.event)
    .bind(n.recipient)
    .bind(n.lang)
    .bind(n.case_id)
    .bind(n.subject)
    .bind(n.body_text)
    .bind(n.body_html)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(inserted == 1)
}

#[derive(Clone, Debug, FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub event: String,
    pub recipient: String,
    pub lang: String,
    pub case_id: Option<i64>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

pub async fn recent(db: &Db, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
    older_than(db, i64::MAX, limit).await
}

/// Up to `limit` notices older than notice `before`, newest first: one page of the outbox,
/// found through the primary key however deep the page (keyset paging).
pub async fn older_than(db: &Db, before: i64, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT id, event, recipient, lang, case_id, subject, body_text, body_html, status, attempts, last_error,
                next_attempt_at, created_at, sent_at
         FROM outbox WHERE id < $1 ORDER BY id DESC LIMIT $2"
    )
    .bind(before)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<OutboxRow>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT id, event, recipient, lang, case_id, subject, body_text, body_html, status, attempts, last_error,
                next_attempt_at, created_at, sent_at
         FROM outbox WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// A notice the sender has leased: nobody else may try it until `lease_until`.
#[derive(Clone, Debug, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub notice_key: String,
    pub event: String,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// Attempts made before this one.
    pub attempts: i32,
}

/// Leases up to `limit` due notices until `lease_until`, the longest waiting first.
///
/// One statement both picks and leases, so two senders can never lease the same notice: on
/// PostgreSQL `FOR UPDATE SKIP LOCKED` makes a concurrent sender skip rows another is leasing
/// (instead of waiting for them or taking them too); on SQLite every write holds the database's
/// single write lock, so the statement is atomic as it stands — even across processes.
/// A lease that ran out (its sender died) makes the notice due again.
///
/// Ordered by `next_attempt_at` (the `outbox_due` index), not by id: by id, the first notices
/// of a backlog that kept failing within the retry interval came back ahead of the rest every
/// time, and the later ones waited for the whole outage.
pub async fn claim_due(db: &Db, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Claimed>, DbError> {
    const RETURNING: &str = "RETURNING id, notice_key, event, recipient, subject, body_text, body_html, attempts";
    let mut rows: Vec<Claimed> = match db {
        Db::Sqlite(s) => {
            sqlx::query_as(&format!(
                "UPDATE outbox SET lease_until = $1
                 WHERE id IN (SELECT id FROM outbox
                              WHERE status = 'pending' AND next_attempt_at <= $2
                                AND (lease_until IS NULL OR lease_until < $2)
                              ORDER BY next_attempt_at, id LIMIT $3)
                 {RETURNING}"
            ))
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&s.write)
            .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(&format!(
                "UPDATE outbox SET lease_until = $1
                 WHERE id IN (SELECT id FROM outbox
                              WHERE status = 'pending' AND next_attempt_at <= $2
                                AND (lease_until IS NULL OR lease_until < $2)
                              ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
                 {RETURNING}"
            ))
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(p)
            .await?
        }
    };
    // RETURNING follows no particular order; deliver oldest first.
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// Records a delivery; the same statement ends the lease.
pub async fn mark_sent(db: &Db, id: i64, now: i64) -> Result<bool, DbError> {
    let n = db_write!(db, |c| sqlx::query(
        "UPDATE outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, lease_until = NULL
         WHERE id = $1 AND status = 'pending'"
    )
    .bind(id)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records a failed attempt and ends the lease: the notice is due again at `next_attempt_at`,
/// or, when `give_up`, it is `failed` for good (an admin can still retry it).
pub async fn record_failure(
    db: &Db,
    id: i64,
    error: &str,
    next_attempt_at: i64,
    give_up: bool,
) -> Result<bool, DbError> {
    let status = if give_up { "failed" } else { "pending" };
    let n = db_write!(db, |c| sqlx::query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3, status = $4,
                lease_until = NULL
         WHERE id = $1 AND status = 'pending'"
    )
    .bind(id)
    .bind(error)
    .bind(next_attempt_at)
    .bind(status)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Gives a leased notice back untried (the sender is stopping), so another process may send it
/// at once instead of waiting for the lease to run out.
pub async fn release(db: &Db, id: i64) -> Result<(), DbError> {
    db_write!(db, |c| sqlx::query("UPDATE outbox SET lease_until = NULL WHERE id = $1 AND status = 'pending'")
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Makes failed notices due now (all of them, or the one with `id`), each for one more attempt.
pub async fn retry_failed(db: &Db, id: Option<i64>, now: i64) -> Result<u64, DbError> {
    Ok(db_write!(db, |c| sqlx::query(
        "UPDATE outbox SET status = 'pending', next_attempt_at = $1, lease_until = NULL
         WHERE status = 'failed' AND ($2 IS NULL OR id = $2)"
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?)
}

/// How many notices are pending, sent and failed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

pub async fn counts(db: &Db) -> Result<Counts, DbError> {
    let rows: Vec<(String, i64)> =
        db_read!(db, |c| sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetch_all(c).await)?;
    let mut counts = Counts::default();
    for (status, n) in rows {
        match status.as_str() {
            "pending" => counts.pending = n,
            "sent" => counts.sent = n,
            _ => counts.failed += n,
        }
    }
    Ok(counts)
}
