//! Merchants and their terminals.

use super::{Db, DbError, now_unix};
use crate::db::db_write;

pub struct NewMerchant<'a> {
    pub merchant_id: &'a str,
    pub name_zh: &'a str,
    pub name_en: &'a str,
}

/// Registers a merchant, or renames it if it exists.
pub async fn upsert_merchant(db: &Db, m: &NewMerchant<'_>) -> Result<(), DbError> {
    db_write!(db, |c| sqlx::query(
        "INSERT INTO merchants (merchant_id, name_zh, name_en, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (merchant_id) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en"
    )
    .bind(m.merchant_id)
    .bind(m.name_zh)
    .bind(m.name_en)
    .bind(now_unix())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Registers a terminal of a merchant; an existing one keeps its data.
pub async fn upsert_terminal(db: &Db, merchant_id: &str, terminal_id: &str, location: &str) -> Result<(), DbError> {
    db_write!(db, |c| sqlx::query(
        "INSERT INTO terminals (merchant_id, terminal_id, location, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (merchant_id, terminal_id) DO UPDATE SET location = excluded.location"
    )
    .bind(merchant_id)
    .bind(terminal_id)
    .bind(location)
    .bind(now_unix())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn count_merchants(db: &Db) -> Result<i64, DbError> {
    let (n,): (i64,) =
        crate::db::db_read!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM merchants").fetch_one(c).await)?;
    Ok(n)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MerchantRow {
    pub merchant_id: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TerminalRow {
    pub merchant_id: String,
    pub terminal_id: String,
    pub location: String,
}

pub async fn list_merchants(db: &Db) -> Result<Vec<MerchantRow>, DbError> {
    Ok(crate::db::db_read!(db, |c| sqlx::query_as(
        "SELECT merchant_id, name_zh, name_en FROM merchants ORDER BY merchant_id"
    )
    .fetch_all(c)
    .await)?)
}

pub async fn get_merchant(db: &Db, merchant_id: &str) -> Result<Option<MerchantRow>, DbError> {
    Ok(crate::db::db_read!(db, |c| sqlx::query_as(
        "SELECT merchant_id, name_zh, name_en FROM merchants WHERE merchant_id = $1"
    )
    .bind(merchant_id)
    .fetch_optional(c)
    .await)?)
}

pub async fn terminals_of(db: &Db, merchant_id: &str) -> Result<Vec<TerminalRow>, DbError> {
    Ok(crate::db::db_read!(db, |c| sqlx::query_as(
        "SELECT merchant_id, terminal_id, location FROM terminals WHERE merchant_id = $1 ORDER BY terminal_id"
    )
    .bind(merchant_id)
    .fetch_all(c)
    .await)?)
}

/// The ids among `merchant_ids` that are not registered.
pub async fn unknown_merchants(db: &Db, merchant_ids: &[String]) -> Result<Vec<String>, DbError> {
    let mut unknown = Vec::new();
    for id in merchant_ids {
        if get_merchant(db, id).await?.is_none() {
            unknown.push(id.clone());
        }
    }
    Ok(unknown)
}
