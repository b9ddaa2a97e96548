//! Merchants and their terminals.

use super::{Db, DbError, Tx, now_unix};
use crate::db::db_write;
use crate::domain::shop::Shop;

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

/// Where a terminal stands: as first registered (often Chinese), and for English readers
/// (empty: the first is shown to everyone).
pub struct Location<'a> {
    pub text: &'a str,
    pub en: &'a str,
}

/// Registers a terminal of a merchant, or updates where it stands.
pub async fn upsert_terminal(
    db: &Db,
    merchant_id: &str,
    terminal_id: &str,
    location: &Location<'_>,
) -> Result<(), DbError> {
    db_write!(db, |c| {
        sqlx::query(
        "INSERT INTO terminals (merchant_id, terminal_id, location, location_en, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (merchant_id, terminal_id) DO UPDATE SET location = excluded.location, location_en = excluded.location_en"
    )
    .bind(merchant_id)
    .bind(terminal_id)
    .bind(location.text)
    .bind(location.en)
    .bind(now_unix())
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
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
    pub location_en: String,
}

impl TerminalRow {
    /// Where the terminal stands, for an English reader (`en`) or a Chinese one.
    pub fn location_for(&self, en: bool) -> &str {
        if en && !self.location_en.trim().is_empty() { &self.location_en } else { &self.location }
    }
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
    Ok(crate::db::db_read!(db, |c| {
        sqlx::query_as(
        "SELECT merchant_id, terminal_id, location, location_en FROM terminals WHERE merchant_id = $1 ORDER BY terminal_id"
    )
    .bind(merchant_id)
    .fetch_all(c)
    .await
    })?)
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

/// The names of the merchant and the location of its terminal, for a reader; one statement
/// whether it runs on its own or inside a change's transaction.
const SHOP: &str = "SELECT m.merchant_id, m.name_zh, m.name_en, COALESCE(t.location, '') AS location,
            COALESCE(t.location_en, '') AS location_en
     FROM merchants m LEFT JOIN terminals t ON t.merchant_id = m.merchant_id AND t.terminal_id = $2
     WHERE m.merchant_id = $1";

#[derive(sqlx::FromRow)]
struct ShopRow {
    merchant_id: String,
    name_zh: String,
    name_en: String,
    location: String,
    location_en: String,
}

impl From<ShopRow> for Shop {
    fn from(r: ShopRow) -> Shop {
        Shop {
            merchant_id: r.merchant_id,
            name_zh: r.name_zh,
            name_en: r.name_en,
            location: r.location,
            location_en: r.location_en,
        }
    }
}

/// The shop behind a merchant id and terminal id; an unregistered merchant is named by its id.
pub async fn shop(db: &Db, merchant_id: &str, terminal_id: &str) -> Result<Shop, DbError> {
    let row: Option<ShopRow> =
        crate::db::db_read!(db, |c| sqlx::query_as(SHOP).bind(merchant_id).bind(terminal_id).fetch_optional(c).await)?;
    Ok(row.map(Shop::from).unwrap_or_else(|| Shop::unregistered(merchant_id)))
}

/// [`shop`] inside an open transaction (notices are written in the change's transaction).
pub async fn shop_in_tx(tx: &mut Tx, merchant_id: &str, terminal_id: &str) -> Result<Shop, DbError> {
    let row: Option<ShopRow> =
        crate::db::db_tx!(tx, |c| sqlx::query_as(SHOP).bind(merchant_id).bind(terminal_id).fetch_optional(c).await)?;
    Ok(row.map(Shop::from).unwrap_or_else(|| Shop::unregistered(merchant_id)))
}
