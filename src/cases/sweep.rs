//! The clock's part in a case's life (DESIGN.md §6): a passed deadline sends the case to the desk
//! and tells the agents; a `resolved`, `rejected` or `withdrawn` case quiet for 30 days closes.
//!
//! Every server runs [`spawn`]; several may share one database. Each sweeper leases the cases it
//! handles (`db::cases::lease_due`), and each change is still written only at the version the
//! sweeper read, so a case is moved, and its agents told, exactly once.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::MatchContext;
use super::act::guard_context;
use super::notify::{self, Extra};
use crate::config::Config;
use crate::db::Db;
use crate::db::cases::{self, CaseRow, NewEvent};
use crate::domain::case_state::{Action, Actor, QUIET_PERIOD, notices, transition};

/// How often a server looks for due cases. Deadlines are business days: a minute late is on time.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// How long a sweeper holds a case it leased; longer than handling one batch ever takes.
const LEASE: SignedDuration = SignedDuration::from_mins(5);
const BATCH: i64 = 100;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Cases whose deadline passed: moved to `under_review`, or reported again from there.
    pub missed: u64,
    /// Quiet cases closed.
    pub closed: u64,
}

/// Handles every case due at `now`.
pub async fn run_once(db: &Db, ctx: &MatchContext<'_>, now: Timestamp) -> anyhow::Result<Swept> {
    run_in_batches(db, ctx, now, BATCH).await
}

/// [`run_once`], leasing `batch` cases at a time (tests use small batches to make several
/// sweepers interleave).
pub async fn run_in_batches(db: &Db, ctx: &MatchContext<'_>, now: Timestamp, batch: i64) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    let quiet_before = (now - QUIET_PERIOD).as_second();
    let lease_until = (now + LEASE).as_second();
    loop {
        let due = cases::lease_due(db, now.as_second(), quiet_before, lease_until, batch).await?;
        for case in &due {
            match handle(db, ctx, case, now).await {
                Ok(Some(Action::Close)) => swept.closed += 1,
                Ok(Some(_)) => swept.missed += 1,
                Ok(None) => {}
                // One bad case must not stop the others; its lease runs out and it is tried again.
                Err(e) => tracing::warn!(case = case.id, error = %e, "deadline sweep could not handle a case"),
            }
        }
        // Leased cases are not leased again before `lease_until`, so this ends.
        if (due.len() as i64) < batch {
            return Ok(swept);
        }
    }
}

/// Takes the clock's action on one case; `None` when the case no longer needs it (someone acted
/// on it after it was leased, or another sweeper got there first).
async fn handle(db: &Db, ctx: &MatchContext<'_>, case: &CaseRow, now: Timestamp) -> anyhow::Result<Option<Action>> {
    let from = case.state;
    let action = if from.is_open() { Action::DeadlinePassed } else { Action::Close };
    let Ok(to) = transition(from, &action, Actor::System, &guard_context(case, now)) else { return Ok(None) };

    let mut tx = db.begin().await?;
    let written = if to != from {
        cases::set_state(&mut tx, case.id, case.version, to, ctx.deadline_for(to, now)).await?
    } else {
        // Still waiting for the desk: tell the agents once for this deadline.
        cases::mark_deadline_missed(&mut tx, case.id, case.version, now.as_second()).await?
    };
    if !written {
        return Ok(None);
    }
    let event = cases::add_event(
        &mut tx,
        case.id,
        &NewEvent {
            actor: Actor::System.as_str(),
            actor_user_id: None,
            action: action.kind().as_str(),
            from_state: Some(from.as_str()),
            to_state: to.as_str(),
            note: None,
        },
    )
    .await?;
    notify::queue(&mut tx, ctx, case.id, &notices(&action, to), event, &Extra::default()).await?;
    tx.commit().await?;
    Ok(Some(action))
}

/// Sweeps every [`INTERVAL`] until `stop` is cancelled. Needs only the database and the
/// configuration the notices and deadlines are computed from, not the web layer's state.
pub fn spawn(db: Db, config: Arc<Config>, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let ctx = MatchContext::new(&config);
            // A sweep stopped mid-case leaves nothing half-written (one transaction per case).
            let swept = tokio::select! {
                _ = stop.cancelled() => return,
                swept = async {
                    tick.tick().await;
                    run_once(&db, &ctx, Timestamp::now()).await
                } => swept,
            };
            match swept {
                Ok(s) if s != Swept::default() => {
                    tracing::info!(missed = s.missed, closed = s.closed, "deadline sweep");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deadline sweep failed"),
            }
        }
    })
}
