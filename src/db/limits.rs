//! Abuse-limit buckets (DESIGN.md §12), shared by every server on the database.
//!
//! One row per bucket holds its usage as text (`domain::limits::Usage`) and a version. A change is
//! a compare-and-set: read the row, work out the new usage, write it only if the version is still
//! the one read. That is atomic on both backends without locks held across round trips, so two
//! servers admitting the same bucket at once cannot both spend its last allowance.

use sqlx::FromRow;

use super::{Db, DbError};
use crate::db::{db_read, db_write};

/// A bucket as stored.
#[derive(Clone, Debug, FromRow)]
pub struct Bucket {
    pub bucket: String,
    pub usage: String,
    pub version: i64,
}

/// The stored bucket, if it has one.
pub async fn get(db: &Db, bucket: &str) -> Result<Option<Bucket>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as("SELECT bucket, usage, version FROM rate_limits WHERE bucket = $1")
        .bind(bucket)
        .fetch_optional(c)
        .await)?)
}

/// The stored ones among three buckets (a sign-in reads its three in one query).
pub async fn get_three(db: &Db, buckets: [&str; 3]) -> Result<Vec<Bucket>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as("SELECT bucket, usage, version FROM rate_limits WHERE bucket IN ($1, $2, $3)")
        .bind(buckets[0])
        .bind(buckets[1])
        .bind(buckets[2])
        .fetch_all(c)
        .await)?)
}

/// Stores `usage` for `bucket` if its version is still `read_version` (0: there was no row).
/// False when someone changed it in between; the caller reads again and decides again.
///
/// A row deleted by [`prune`] after it was read is simply inserted again: pruning only removes
/// usages that no longer decide anything.
pub async fn put(db: &Db, bucket: &str, usage: &str, forget_at: i64, read_version: i64) -> Result<bool, DbError> {
    let written = db_write!(db, |c| sqlx::query(
        "INSERT INTO rate_limits (bucket, usage, version, forget_at) VALUES ($1, $2, 1, $3)
         ON CONFLICT (bucket) DO UPDATE
         SET usage = excluded.usage, version = rate_limits.version + 1, forget_at = excluded.forget_at
         WHERE rate_limits.version = $4"
    )
    .bind(bucket)
    .bind(usage)
    .bind(forget_at)
    .bind(read_version)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(written == 1)
}

/// Deletes buckets whose usage no longer decides anything; returns how many.
pub async fn prune(db: &Db, now: i64) -> Result<u64, DbError> {
    Ok(db_write!(db, |c| sqlx::query("DELETE FROM rate_limits WHERE forget_at <= $1")
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
}
