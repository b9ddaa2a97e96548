//! Webhook endpoints and their deliveries: written with the change like the email outbox, leased
//! and retried the same way (see `outbox`).

use sqlx::FromRow;

use super::{Db, DbError, Tx, now_unix};
use crate::db::assemble::{Sql, fetch_assembled};
use crate::db::{db_read, db_tx, db_write};

#[derive(Clone, Debug, FromRow)]
pub struct EndpointRow {
    pub id: i64,
    pub url: String,
    pub events: String,
    pub role: String,
    pub allow_private: bool,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub events: &'a str,
    pub role: &'a str,
    pub merchant_ids: &'a [String],
    pub secret: &'a str,
    pub allow_private: bool,
    pub created_by: Option<i64>,
}

pub async fn create(db: &Db, e: &NewEndpoint<'_>) -> Result<i64, DbError> {
    let mut tx = db.begin().await?;
    let (id,): (i64,) = db_tx!(&mut tx, |c| sqlx::query_as(
        "INSERT INTO webhook_endpoints (url, events, role, secret, allow_private, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(e.url)
    .bind(e.events)
    .bind(e.role)
    .bind(e.secret)
    .bind(e.allow_private)
    .bind(e.created_by)
    .bind(now_unix())
    .fetch_one(c)
    .await)?;
    for merchant_id in e.merchant_ids {
        db_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO webhook_endpoint_merchants (endpoint_id, merchant_id) VALUES ($1, $2)"
        )
        .bind(id)
        .bind(merchant_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Every endpoint, newest first, with its merchants.
pub async fn list(db: &Db) -> Result<Vec<(EndpointRow, Vec<String>)>, DbError> {
    let rows: Vec<EndpointRow> = db_read!(db, |c| {
        sqlx::query_as(
        "SELECT id, url, events, role, allow_private, created_at, disabled_at FROM webhook_endpoints ORDER BY id DESC"
    )
    .fetch_all(c)
    .await
    })?;
    let bindings: Vec<(i64, String)> = db_read!(db, |c| sqlx::query_as(
        "SELECT endpoint_id, merchant_id FROM webhook_endpoint_merchants ORDER BY merchant_id"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let merchants = bindings.iter().filter(|(id, _)| *id == row.id).map(|(_, m)| m.clone()).collect();
            (row, merchants)
        })
        .collect())
}

/// An active endpoint as the event writer needs it: who it is for and what it takes.
#[derive(Clone, Debug)]
pub struct Subscriber {
    pub id: i64,
    pub events: String,
    pub role: String,
    pub merchants: Vec<String>,
}

/// The endpoints not disabled, read in the change's transaction.
pub async fn active_in_tx(tx: &mut Tx) -> Result<Vec<Subscriber>, DbError> {
    let rows: Vec<(i64, String, String)> = db_tx!(tx, |c| sqlx::query_as(
        "SELECT id, events, role FROM webhook_endpoints WHERE disabled_at IS NULL ORDER BY id"
    )
    .fetch_all(c)
    .await)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let bindings: Vec<(i64, String)> = db_tx!(tx, |c| sqlx::query_as(
        "SELECT m.endpoint_id, m.merchant_id FROM webhook_endpoint_merchants m
         JOIN webhook_endpoints e ON e.id = m.endpoint_id WHERE e.disabled_at IS NULL"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, events, role)| Subscriber {
            id,
            events,
            role,
            merchants: bindings.iter().filter(|(e, _)| *e == id).map(|(_, m)| m.clone()).collect(),
        })
        .collect())
}

/// Stops deliveries to an endpoint (pending ones stay, and go nowhere, until it is deleted).
pub async fn disable(db: &Db, id: i64) -> Result<bool, DbError> {
    let n = db_write!(db, |c| sqlx::query(
        "UPDATE webhook_endpoints SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL"
    )
    .bind(id)
    .bind(now_unix())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Deletes an endpoint with its deliveries.
pub async fn delete(db: &Db, id: i64) -> Result<bool, DbError> {
    let mut tx = db.begin().await?;
    // SQLite enforces ON DELETE CASCADE; saying it keeps both engines alike whatever the pragma.
    for sql in [
        "DELETE FROM webhook_deliveries WHERE endpoint_id = $1",
        "DELETE FROM webhook_endpoint_merchants WHERE endpoint_id = $1",
        "DELETE FROM webhook_endpoints WHERE id = $1",
    ] {
        let n = db_tx!(&mut tx, |c| sqlx::query(sql).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
        if sql.starts_with("DELETE FROM webhook_endpoints ") && n == 0 {
            return Ok(false);
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// Queues one event for one endpoint in the caller's transaction; the same event twice is one.
pub async fn enqueue(
    tx: &mut Tx,
    endpoint_id: i64,
    event_id: &str,
    event: &str,
    case_id: Option<i64>,
    body: &str,
) -> Result<bool, DbError> {
    let now = now_unix();
    let n = db_tx!(tx, |c| sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, event_id, event, case_id, body, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (endpoint_id, event_id) DO NOTHING"
    )
    .bind(endpoint_id)
    .bind(event_id)
    .bind(event)
    .bind(case_id)
    .bind(body)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

#[derive(Clone, Debug, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub endpoint_id: i64,
    pub url: String,
    pub event: String,
    pub case_id: Option<i64>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
    pub next_attempt_at: i64,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

pub async fn recent_deliveries(db: &Db, limit: i64) -> Result<Vec<DeliveryRow>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT d.id, d.endpoint_id, e.url, d.event, d.case_id, d.status, d.attempts, d.last_error, d.last_status,
                d.next_attempt_at, d.created_at, d.delivered_at
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         ORDER BY d.id DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// A delivery the sender has leased, with what it needs to send it.
#[derive(Clone, Debug, FromRow)]
pub struct Leased {
    pub id: i64,
    pub event_id: String,
    pub body: String,
    pub attempts: i32,
    pub url: String,
    pub secret: String,
    pub allow_private: bool,
}

/// Leases up to `limit` due deliveries of active endpoints until `lease_until`, longest waiting
/// first. One statement picks and leases, as in [`super::outbox::claim_due`]: `FOR UPDATE SKIP
/// LOCKED` on PostgreSQL, SQLite's single writer otherwise; so two servers never lease the same
/// delivery, and a lease that ran out (its server died) makes it due again.
pub async fn lease_due(db: &Db, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Leased>, DbError> {
    let pick = |lock: &str| {
        format!(
            "UPDATE webhook_deliveries SET lease_until = $1
             WHERE id IN (SELECT d.id FROM webhook_deliveries d
                          WHERE d.status = 'pending' AND d.next_attempt_at <= $2
                            AND (d.lease_until IS NULL OR d.lease_until < $2)
                            AND d.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE disabled_at IS NULL)
                          ORDER BY d.next_attempt_at, d.id LIMIT $3 {lock})
             RETURNING id"
        )
    };
    let ids: Vec<(i64,)> = match db {
        Db::Sqlite(s) => sqlx::query_as(&pick("")).bind(lease_until).bind(now).bind(limit).fetch_all(&s.write).await?,
        Db::Postgres(p) => {
            sqlx::query_as(&pick("FOR UPDATE OF d SKIP LOCKED"))
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(p)
                .await?
        }
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // The leases are ours now: reading the rest in a second statement is safe.
    let mut q = Sql::default();
    let list = ids.iter().map(|(id,)| q.int(*id)).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT d.id, d.event_id, d.body, d.attempts, e.url, e.secret, e.allow_private
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id IN ({list})"
    );
    let mut leased: Vec<Leased> = fetch_assembled!(db, &sql, &q.args)?;
    leased.sort_by_key(|d| d.id);
    Ok(leased)
}

/// Records a delivery the endpoint answered with 2xx; the same statement ends the lease.
pub async fn mark_delivered(db: &Db, id: i64, status: u16, now: i64) -> Result<bool, DbError> {
    let n = db_write!(db, |c| sqlx::query(
        "UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $2, last_status = $3,
                attempts = attempts + 1, lease_until = NULL, last_error = NULL
         WHERE id = $1 AND status = 'pending'"
    )
    .bind(id)
    .bind(now)
    .bind(i32::from(status))
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records a failed attempt and ends the lease: due again at `next_attempt_at`, or `failed` for
/// good when `give_up` (an admin can still retry it).
pub async fn record_failure(
    db: &Db,
    id: i64,
    error: &str,
    status: Option<u16>,
    next_attempt_at: i64,
    give_up: bool,
) -> Result<bool, DbError> {
    let n = db_write!(db, |c| sqlx::query(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $2, last_status = $3,
                next_attempt_at = $4, status = $5, lease_until = NULL
         WHERE id = $1 AND status = 'pending'"
    )
    .bind(id)
    .bind(error)
    .bind(status.map(i32::from))
    .bind(next_attempt_at)
    .bind(if give_up { "failed" } else { "pending" })
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Gives a leased delivery back untried (the server is stopping).
pub async fn release(db: &Db, id: i64) -> Result<(), DbError> {
    db_write!(db, |c| sqlx::query(
        "UPDATE webhook_deliveries SET lease_until = NULL WHERE id = $1 AND status = 'pending'"
    )
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Makes a failed delivery due now for one more attempt.
pub async fn retry_failed(db: &Db, id: i64, now: i64) -> Result<bool, DbError> {
    let n = db_write!(db, |c| sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, lease_until = NULL
         WHERE status = 'failed' AND id = $2"
    )
    .bind(now)
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}
