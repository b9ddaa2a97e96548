//! The email outbox: notices written with the change that causes them, delivered later.

use sqlx::FromRow;

use super::{Db, DbError, Tx, now_unix};
use crate::{in_tx, read};

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
    let inserted = in_tx!(tx, |c| {
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
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

pub async fn recent(db: &Db, limit: i64) -> Result<Vec<OutboxRow>, DbError> {
    Ok(read!(db, |c| sqlx::query_as(
        "SELECT id, event, recipient, lang, case_id, subject, body_text, body_html, status, attempts, last_error,
                created_at, sent_at
         FROM outbox ORDER BY id DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<OutboxRow>, DbError> {
    Ok(read!(db, |c| sqlx::query_as(
        "SELECT id, event, recipient, lang, case_id, subject, body_text, body_html, status, attempts, last_error,
                created_at, sent_at
         FROM outbox WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}
