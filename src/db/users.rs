//! Users, their merchant bindings and their sessions.

use sqlx::FromRow;

use super::{Db, DbError, Tx, is_unique_violation, now_unix};
use crate::db::{db_read, db_tx, db_write};

#[derive(Clone, Debug, FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub role: String,
    pub lang: Option<String>,
    pub email_verified_at: Option<i64>,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
}

const USER_COLUMNS: &str = "id, email, role, lang, email_verified_at, disabled_at, created_at";

pub struct NewUser<'a> {
    pub email: &'a str,
    pub email_norm: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub lang: Option<&'a str>,
    pub verified: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with this email exists")]
    EmailTaken,
    #[error(transparent)]
    Db(#[from] DbError),
}

pub async fn create(tx: &mut Tx, user: &NewUser<'_>) -> Result<i64, CreateUserError> {
    let now = now_unix();
    let result: Result<(i64,), sqlx::Error> = db_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO users (email, email_norm, password_hash, role, lang, email_verified_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id"
    )
    .bind(user.email)
    .bind(user.email_norm)
    .bind(user.password_hash)
    .bind(user.role)
    .bind(user.lang)
    .bind(user.verified.then_some(now))
    .bind(now)
    .fetch_one(c)
    .await);
    match result {
        Ok((id,)) => Ok(id),
        Err(e) if is_unique_violation(&e) => Err(CreateUserError::EmailTaken),
        Err(e) => Err(DbError::from(e).into()),
    }
}

pub async fn get(db: &Db, id: i64) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    Ok(db_read!(db, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?)
}

pub async fn find_by_email(db: &Db, email_norm: &str) -> Result<Option<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email_norm = $1");
    Ok(db_read!(db, |c| sqlx::query_as(&sql).bind(email_norm).fetch_optional(c).await)?)
}

/// The user and password hash for a sign-in attempt.
pub async fn find_login(db: &Db, email_norm: &str) -> Result<Option<(UserRow, String)>, DbError> {
    #[derive(FromRow)]
    struct Login {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email_norm = $1");
    let row: Option<Login> = db_read!(db, |c| sqlx::query_as(&sql).bind(email_norm).fetch_optional(c).await)?;
    Ok(row.map(|l| (l.user, l.password_hash)))
}

pub async fn list(db: &Db) -> Result<Vec<UserRow>, DbError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY role, email_norm");
    Ok(db_read!(db, |c| sqlx::query_as(&sql).fetch_all(c).await)?)
}

pub async fn merchants_of(db: &Db, user_id: i64) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> = db_read!(db, |c| sqlx::query_as(
        "SELECT merchant_id FROM user_merchants WHERE user_id = $1 ORDER BY merchant_id"
    )
    .bind(user_id)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(m,)| m).collect())
}

/// Replaces a user's merchant bindings.
pub async fn set_merchants(tx: &mut Tx, user_id: i64, merchant_ids: &[String]) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("DELETE FROM user_merchants WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    for merchant_id in merchant_ids {
        db_tx!(tx, |c| sqlx::query("INSERT INTO user_merchants (user_id, merchant_id) VALUES ($1, $2)")
            .bind(user_id)
            .bind(merchant_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}

pub async fn set_lang(db: &Db, user_id: i64, lang: &str) -> Result<(), DbError> {
    db_write!(db, |c| sqlx::query("UPDATE users SET lang = $1 WHERE id = $2")
        .bind(lang)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_password(tx: &mut Tx, user_id: i64, password_hash: &str) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn mark_verified(tx: &mut Tx, user_id: i64) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email_verified_at IS NULL")
        .bind(now_unix())
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Disables (or re-enables) an account; disabling also ends its sessions.
pub async fn set_disabled(db: &Db, user_id: i64, disabled: bool) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    db_tx!(&mut tx, |c| sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
        .bind(disabled.then(now_unix))
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if disabled {
        delete_sessions_of(&mut tx, user_id).await?;
    }
    tx.commit().await
}

// ---- sessions ----

#[derive(Clone, Debug, FromRow)]
pub struct SessionRow {
    pub created_at: i64,
    pub last_seen_at: i64,
    #[sqlx(flatten)]
    pub user: UserRow,
    /// The merchants a merchant user works for, read in the same statement (every page asks).
    #[sqlx(skip)]
    pub merchants: Vec<String>,
}

pub async fn create_session(db: &Db, token_hash: &str, user_id: i64) -> Result<(), DbError> {
    let now = now_unix();
    db_write!(db, |c| sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)"
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find_session(db: &Db, token_hash: &str) -> Result<Option<SessionRow>, DbError> {
    // One row per merchant the user works for (one row, merchant NULL, for everyone else): the
    // session, its user and their merchants in one round trip on every signed-in request.
    let sql = "SELECT s.created_at, s.last_seen_at, u.id, u.email, u.role, u.lang, u.email_verified_at,
                      u.disabled_at, u.created_at AS user_created_at, um.merchant_id
               FROM sessions s JOIN users u ON u.id = s.user_id
               LEFT JOIN user_merchants um ON um.user_id = u.id AND u.role = 'merchant'
               WHERE s.id_hash = $1 ORDER BY um.merchant_id";
    // The user's created_at is aliased to keep the two created_at columns apart.
    #[derive(FromRow)]
    struct Joined {
        created_at: i64,
        last_seen_at: i64,
        id: i64,
        email: String,
        role: String,
        lang: Option<String>,
        email_verified_at: Option<i64>,
        disabled_at: Option<i64>,
        user_created_at: i64,
        merchant_id: Option<String>,
    }
    let rows: Vec<Joined> = db_read!(db, |c| sqlx::query_as(sql).bind(token_hash).fetch_all(c).await)?;
    let merchants: Vec<String> = rows.iter().filter_map(|j| j.merchant_id.clone()).collect();
    Ok(rows.into_iter().next().map(|j| SessionRow {
        merchants,
        created_at: j.created_at,
        last_seen_at: j.last_seen_at,
        user: UserRow {
            id: j.id,
            email: j.email,
            role: j.role,
            lang: j.lang,
            email_verified_at: j.email_verified_at,
            disabled_at: j.disabled_at,
            created_at: j.user_created_at,
        },
    }))
}

pub async fn touch_session(db: &Db, token_hash: &str) -> Result<(), DbError> {
    db_write!(db, |c| sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
        .bind(now_unix())
        .bind(token_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_session(db: &Db, token_hash: &str) -> Result<(), DbError> {
    db_write!(db, |c| sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(token_hash)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn delete_sessions_of(tx: &mut Tx, user_id: i64) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes sessions idle or older than the limits (a periodic job).
pub async fn delete_expired_sessions(db: &Db, idle_before: i64, created_before: i64) -> Result<u64, DbError> {
    Ok(db_write!(db, |c| sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(idle_before)
        .bind(created_before)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?)
}
