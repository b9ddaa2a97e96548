//! Single-use, expiring links sent by email (verify an address, reset a password, confirm a claim).

use sqlx::FromRow;

use super::{Db, DbError, Tx, now_unix};
use crate::db::{db_read, db_tx};

#[derive(Clone, Debug, FromRow)]
pub struct EmailTokenRow {
    pub user_id: Option<i64>,
    pub email: String,
    pub subject_id: Option<i64>,
}

pub struct NewEmailToken<'a> {
    pub token_hash: &'a str,
    pub purpose: &'a str,
    pub user_id: Option<i64>,
    pub email: &'a str,
    pub subject_id: Option<i64>,
    pub valid_for_secs: i64,
}

pub async fn create(tx: &mut Tx, t: &NewEmailToken<'_>) -> Result<(), DbError> {
    let now = now_unix();
    db_tx!(tx, |c| sqlx::query(
        "INSERT INTO email_tokens (token_hash, purpose, user_id, email, subject_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(t.token_hash)
    .bind(t.purpose)
    .bind(t.user_id)
    .bind(t.email)
    .bind(t.subject_id)
    .bind(now)
    .bind(now + t.valid_for_secs)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The token's data if it is unused and unexpired, without using it (to show its form).
pub async fn peek(db: &Db, token_hash: &str, purpose: &str) -> Result<Option<EmailTokenRow>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT user_id, email, subject_id FROM email_tokens
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3"
    )
    .bind(token_hash)
    .bind(purpose)
    .bind(now_unix())
    .fetch_optional(c)
    .await)?)
}

/// Uses the token: succeeds once, atomically, while it is unexpired.
pub async fn consume(tx: &mut Tx, token_hash: &str, purpose: &str) -> Result<Option<EmailTokenRow>, DbError> {
    let now = now_unix();
    Ok(db_tx!(tx, |c| sqlx::query_as(
        "UPDATE email_tokens SET used_at = $1
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
         RETURNING user_id, email, subject_id"
    )
    .bind(now)
    .bind(token_hash)
    .bind(purpose)
    .fetch_optional(c)
    .await)?)
}
