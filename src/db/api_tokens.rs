//! API tokens: bearer credentials for `/api/v1`, with a role and, for merchants, a merchant scope.

use sqlx::FromRow;

use super::{Db, DbError, now_unix};
use crate::db::{db_read, db_tx, db_write};

#[derive(Clone, Debug, FromRow)]
pub struct ApiTokenRow {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn create(
    db: &Db,
    name: &str,
    token_hash: &str,
    role: &str,
    merchant_ids: &[String],
    created_by: Option<i64>,
) -> Result<i64, DbError> {
    let mut tx = db.begin().await?;
    let (id,): (i64,) = db_tx!(&mut tx, |c| {
        sqlx::query_as(
        "INSERT INTO api_tokens (name, token_hash, role, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id"
    )
    .bind(name)
    .bind(token_hash)
    .bind(role)
    .bind(created_by)
    .bind(now_unix())
    .fetch_one(c)
    .await
    })?;
    for merchant_id in merchant_ids {
        db_tx!(&mut tx, |c| sqlx::query("INSERT INTO api_token_merchants (token_id, merchant_id) VALUES ($1, $2)")
            .bind(id)
            .bind(merchant_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The live (unrevoked) token with this hash, and its merchant scope.
pub async fn find_active(db: &Db, token_hash: &str) -> Result<Option<(ApiTokenRow, Vec<String>)>, DbError> {
    let token: Option<ApiTokenRow> = db_read!(db, |c| sqlx::query_as(
        "SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens
         WHERE token_hash = $1 AND revoked_at IS NULL"
    )
    .bind(token_hash)
    .fetch_optional(c)
    .await)?;
    let Some(token) = token else { return Ok(None) };
    let merchants = merchants_of(db, token.id).await?;
    // Recording use is bookkeeping: at most once a minute, so busy clients do not write per call.
    let now = now_unix();
    if token.last_used_at.is_none_or(|t| now - t > 60) {
        db_write!(db, |c| sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(token.id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(Some((token, merchants)))
}

pub async fn merchants_of(db: &Db, token_id: i64) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> = db_read!(db, |c| sqlx::query_as(
        "SELECT merchant_id FROM api_token_merchants WHERE token_id = $1 ORDER BY merchant_id"
    )
    .bind(token_id)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(m,)| m).collect())
}

pub async fn list(db: &Db) -> Result<Vec<ApiTokenRow>, DbError> {
    Ok(db_read!(db, |c| {
        sqlx::query_as(
        "SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY revoked_at IS NOT NULL, id DESC"
    )
    .fetch_all(c)
    .await
    })?)
}

/// One token, revoked or not.
pub async fn get(db: &Db, id: i64) -> Result<Option<ApiTokenRow>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

pub async fn revoke(db: &Db, id: i64) -> Result<bool, DbError> {
    let n =
        db_write!(db, |c| sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_unix())
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
