//! Process-wide settings kept in the database, such as the generated signing key.

use super::{Db, DbError};
use crate::db::{db_read, db_write};

/// Returns the stored value for `key`, inserting `make()` first if there is none. Several
/// processes starting at once agree on one value: the first insert wins, the others read it.
pub async fn get_or_insert(db: &Db, key: &str, make: impl FnOnce() -> String) -> Result<String, DbError> {
    let value = make();
    db_write!(db, |c| sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(&value)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    let (stored,): (String,) =
        db_read!(db, |c| sqlx::query_as("SELECT value FROM settings WHERE key = $1").bind(key).fetch_one(c).await)?;
    Ok(stored)
}
