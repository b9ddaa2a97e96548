//! An upload's report as its page shows it, kept so that the page after an upload is a GET.

use super::{Db, DbError, db_read, db_write};

/// Keeps the report of import `import_id` (as JSON).
pub async fn save(db: &Db, import_id: i64, report: &str) -> Result<(), DbError> {
    db_write!(db, |c| sqlx::query(
        "INSERT INTO import_reports (import_id, report) VALUES ($1, $2) ON CONFLICT (import_id) DO NOTHING"
    )
    .bind(import_id)
    .bind(report)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The report of import `import_id` and who uploaded it, if it was kept.
pub async fn get(db: &Db, import_id: i64) -> Result<Option<(String, Option<i64>)>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT r.report, i.user_id FROM import_reports r JOIN imports i ON i.id = r.import_id WHERE r.import_id = $1"
    )
    .bind(import_id)
    .fetch_optional(c)
    .await)?)
}
