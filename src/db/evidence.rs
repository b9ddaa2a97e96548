//! Files attached to cases.

use sqlx::FromRow;

use super::cases::{self, NewEvent};
use super::{Db, DbError, now_unix};
use crate::db::{db_read, db_tx};

#[derive(Clone, Debug, FromRow)]
pub struct EvidenceRow {
    pub id: i64,
    pub case_id: i64,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: i64,
}

pub enum Added {
    Yes(i64),
    /// The case has its maximum of files already.
    TooMany,
    NoSuchCase,
}

/// Attaches a file, keeping at most `max_files` per case even with uploads at the same moment.
pub async fn add(
    db: &Db,
    case_id: i64,
    file_name: &str,
    content_type: &str,
    data: &[u8],
    user_id: Option<i64>,
    max_files: i64,
) -> Result<Added, DbError> {
    let now = now_unix();
    let mut tx = db.begin().await?;
    // Touching the case row first locks it (PostgreSQL), so concurrent uploads count in turn.
    let state: Option<(String,)> =
        db_tx!(&mut tx, |c| sqlx::query_as("UPDATE cases SET updated_at = $1 WHERE id = $2 RETURNING state")
            .bind(now)
            .bind(case_id)
            .fetch_optional(c)
            .await)?;
    let Some((state,)) = state else { return Ok(Added::NoSuchCase) };
    let (count,): (i64,) =
        db_tx!(&mut tx, |c| sqlx::query_as("SELECT COUNT(*) FROM case_evidence WHERE case_id = $1")
            .bind(case_id)
            .fetch_one(c)
            .await)?;
    if count >= max_files {
        return Ok(Added::TooMany);
    }
    let (id,): (i64,) = db_tx!(&mut tx, |c| sqlx::query_as(
        "INSERT INTO case_evidence (case_id, file_name, content_type, size_bytes, data, uploaded_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(case_id)
    .bind(file_name)
    .bind(content_type)
    .bind(data.len() as i64)
    .bind(data)
    .bind(user_id)
    .bind(now)
    .fetch_one(c)
    .await)?;
    cases::add_event(
        &mut tx,
        case_id,
        &NewEvent {
            actor: "customer",
            actor_user_id: user_id,
            action: "evidence",
            from_state: Some(&state),
            to_state: &state,
            note: Some(file_name),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Added::Yes(id))
}

pub async fn of_case(db: &Db, case_id: i64) -> Result<Vec<EvidenceRow>, DbError> {
    Ok(db_read!(db, |c| {
        sqlx::query_as(
        "SELECT id, case_id, file_name, content_type, size_bytes, created_at FROM case_evidence WHERE case_id = $1 ORDER BY id"
    )
    .bind(case_id)
    .fetch_all(c)
    .await
    })?)
}

/// A file of a case with its bytes.
pub async fn get(db: &Db, case_id: i64, id: i64) -> Result<Option<(EvidenceRow, Vec<u8>)>, DbError> {
    #[derive(FromRow)]
    struct Full {
        #[sqlx(flatten)]
        row: EvidenceRow,
        data: Vec<u8>,
    }
    let full: Option<Full> = db_read!(db, |c| sqlx::query_as(
        "SELECT id, case_id, file_name, content_type, size_bytes, created_at, data FROM case_evidence
         WHERE case_id = $1 AND id = $2"
    )
    .bind(case_id)
    .bind(id)
    .fetch_optional(c)
    .await)?;
    Ok(full.map(|f| (f.row, f.data)))
}
