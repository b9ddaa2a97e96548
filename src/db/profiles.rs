//! Import profiles an admin uploaded (§3.4), and which profile an import was read with.

use sqlx::FromRow;

use super::{Db, DbError, Tx, now_unix};
use crate::db::{db_read, db_tx, db_write};

#[derive(Clone, Debug, FromRow)]
pub struct StoredProfile {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub comment: String,
    pub source: String,
    pub created_at: i64,
}

/// Stores a checked profile; `Ok(None)` when a profile of that name exists.
pub async fn insert(
    db: &Db,
    name: &str,
    kind: &str,
    comment: &str,
    source: &str,
    created_by: Option<i64>,
) -> Result<Option<i64>, DbError> {
    let row: Option<(i64,)> = db_write!(db, |c| sqlx::query_as(
        "INSERT INTO import_profiles (name, kind, comment, source, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING RETURNING id"
    )
    .bind(name)
    .bind(kind)
    .bind(comment)
    .bind(source)
    .bind(created_by)
    .bind(now_unix())
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|(id,)| id))
}

pub async fn list(db: &Db) -> Result<Vec<StoredProfile>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT id, name, kind, comment, source, created_at FROM import_profiles ORDER BY name"
    )
    .fetch_all(c)
    .await)?)
}

pub async fn by_name(db: &Db, name: &str) -> Result<Option<StoredProfile>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT id, name, kind, comment, source, created_at FROM import_profiles WHERE name = $1"
    )
    .bind(name)
    .fetch_optional(c)
    .await)?)
}

/// Deletes a profile; imports read with it keep its name.
pub async fn delete(db: &Db, id: i64) -> Result<bool, DbError> {
    let done = db_write!(db, |c| sqlx::query("DELETE FROM import_profiles WHERE id = $1")
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// Keeps the profile's name with the import, in the import's transaction.
pub async fn set_import_profile(tx: &mut Tx, import_id: i64, name: &str) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("UPDATE imports SET profile = $1 WHERE id = $2")
        .bind(name)
        .bind(import_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The profile an import was read with; `None` for `redress-csv`.
pub async fn import_profile(db: &Db, import_id: i64) -> Result<Option<String>, DbError> {
    let row: Option<(Option<String>,)> = db_read!(db, |c| sqlx::query_as("SELECT profile FROM imports WHERE id = $1")
        .bind(import_id)
        .fetch_optional(c)
        .await)?;
    Ok(row.and_then(|(p,)| p))
}
