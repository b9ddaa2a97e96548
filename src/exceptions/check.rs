//! The periodic check in every `redress serve` (DESIGN.md §10): waits that end with time alone
//! (`REDRESS_ORPHAN_DAYS`, `REDRESS_UNSETTLED_DAYS`) become exceptions without any import, and
//! terminals with recent `no_receipt` claims are looked at for a flag.
//!
//! Several servers may share one database: each leases the waits it handles
//! (`db::exceptions::lease_due`, as the deadline sweep leases cases), and every exception and
//! notice has a unique key, so each is found and told once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::records::ids;
use super::{Detected, Run, health, notices};
use crate::cases::MatchContext;
use crate::config::Config;
use crate::db::Db;
use crate::db::exceptions::{self as store, Lookup};
use crate::domain::exceptions::ExceptionKind;
use crate::domain::records::{JournalRow, SettlementEntry};

/// Waits are business days: a minute late is on time.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// How long a server holds the waits it leased; longer than one batch ever takes.
const LEASE: SignedDuration = SignedDuration::from_mins(5);
const BATCH: i64 = 100;
/// `no_receipt` claims count over this long (§10).
const CLAIM_WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Handles every wait due at `now`, then the terminals with recent claims.
pub async fn run_once(db: &Db, ctx: &MatchContext<'_>, now: Timestamp) -> anyhow::Result<Detected> {
    let mut done = Detected::default();
    let lease_until = (now + LEASE).as_second();
    loop {
        let due = store::lease_due(db, now.as_second(), lease_until, BATCH).await?;
        let mut tx = db.begin().await?;
        let mut run = Run::new(ctx, now, None);
        // Each wait's record, read for the whole batch at once.
        let debit_ids =
            ids(due.iter().filter(|w| w.kind == ExceptionKind::OrphanDebit.as_str()).filter_map(|w| w.settlement_id));
        let sale_ids =
            ids(due.iter().filter(|w| w.kind == ExceptionKind::UnsettledSale.as_str()).filter_map(|w| w.journal_id));
        let debits: HashMap<i64, SettlementEntry> =
            store::settlement_lookup(&mut tx, Lookup::SettlementById, debit_ids).await?.into_iter().collect();
        let sales: HashMap<i64, JournalRow> =
            store::journal_lookup(&mut tx, Lookup::JournalById, sale_ids).await?.into_iter().collect();
        let (mut to_debits, mut to_sales) = (Vec::new(), Vec::new());
        for w in &due {
            match (ExceptionKind::parse(&w.kind), w.settlement_id, w.journal_id) {
                (Some(ExceptionKind::OrphanDebit), Some(id), _) if debits.contains_key(&id) => {
                    to_debits.push((id, debits[&id].clone()))
                }
                (Some(ExceptionKind::UnsettledSale), _, Some(id)) if sales.contains_key(&id) => {
                    to_sales.push((id, sales[&id].clone()))
                }
                // A wait whose record is gone (or of no kind this check knows) ends.
                _ => store::unwatch(&mut tx, &w.watch_key).await?,
            }
        }
        run.sales(&mut tx, to_sales).await?;
        run.debits(&mut tx, to_debits).await?;
        run.flush(&mut tx).await?;
        if let Some(first) = run.new_ids.first() {
            notices::exceptions_found(&mut tx, ctx, &run.new_ids, &format!("check:{first}")).await?;
        }
        done.found += run.new_ids.len() as u64;
        done.resolved += run.resolved;
        tx.commit().await?;
        // Leased waits are not leased again before `lease_until`, so this ends.
        if (due.len() as i64) < BATCH {
            break;
        }
    }
    let terminals = store::terminals_with_claims(db, (now - CLAIM_WINDOW).as_second()).await?;
    if !terminals.is_empty() {
        let mut tx = db.begin().await?;
        done.alerts += health::check_terminals(&mut tx, ctx, terminals.iter(), now).await?;
        tx.commit().await?;
    }
    Ok(done)
}

/// Checks every [`INTERVAL`] until `stop` is cancelled.
pub fn spawn(db: Db, config: Arc<Config>, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let ctx = MatchContext::new(&config);
            let done = tokio::select! {
                _ = stop.cancelled() => return,
                done = async {
                    tick.tick().await;
                    run_once(&db, &ctx, Timestamp::now()).await
                } => done,
            };
            match done {
                Ok(d) if d != Detected::default() => {
                    tracing::info!(found = d.found, resolved = d.resolved, alerts = d.alerts, "exceptions check");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "exceptions check failed"),
            }
        }
    })
}
