//! Counts read when `/metrics` is scraped: small grouped counts over indexed columns, so a
//! scrape every few seconds costs the database little.

use crate::db::{Db, DbError, db_read};
use crate::domain::case_state::CaseState;

/// Notices still in the outbox, by status (`pending`, `failed`). Sent notices are history, not
/// queue depth, and are not counted (the table keeps every notice ever sent).
pub async fn outbox_depth(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT status, COUNT(*) FROM outbox WHERE status <> 'sent' GROUP BY status ORDER BY status"
    )
    .fetch_all(c)
    .await)?)
}

/// Webhook deliveries still to make or given up on, by status (`pending`, `failed`); delivered
/// ones are history. Served by the `(status, next_attempt_at)` index.
pub async fn webhook_depth(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(db_read!(db, |c| {
        sqlx::query_as(
        "SELECT status, COUNT(*) FROM webhook_deliveries WHERE status IN ('pending', 'failed') GROUP BY status ORDER BY status"
    )
    .fetch_all(c)
    .await
    })?)
}

/// Exceptions still open, by kind (DESIGN.md §10); through the `(state, id)` index.
pub async fn open_exceptions(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as("SELECT kind, COUNT(*) FROM exceptions WHERE state = 'open' GROUP BY kind")
        .fetch_all(c)
        .await)?)
}

/// Open cases by state, from the counts the `cases` triggers keep (migration 0016), so a scrape
/// costs the same with a million cases as with ten; states with no case are absent (the caller
/// writes them as 0).
pub async fn open_cases(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    let open: Vec<String> =
        CaseState::ALL.iter().filter(|s| s.is_open()).map(|s| format!("'{}'", s.as_str())).collect();
    // The states are our own codes, not input: inlining them keeps one statement for both engines.
    let sql = format!(
        "SELECT state, CAST(SUM(n) AS BIGINT) FROM case_counts WHERE state IN ({}) GROUP BY state",
        open.join(", ")
    );
    Ok(db_read!(db, |c| sqlx::query_as(&sql).fetch_all(c).await)?)
}
