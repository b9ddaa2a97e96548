//! What new records change for open cases: re-matching and money that arrived.
//!
//! Run after every accepted import (the command line, the upload page and the API alike).

use jiff::Timestamp;

use super::notify::{self, Extra};
use super::{MatchContext, apply_decision, candidates};
use crate::db::Db;
use crate::db::cases::{self, CaseRow, NewEvent};
use crate::domain::case_state::{Action, Actor, CaseState, GuardContext, notices, transition};
use crate::domain::claim::{Claim, Occurred};
use crate::domain::finding::decide;
use crate::import::Imported;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Cases whose finding changed with the new records.
    pub rematched: u64,
    /// Pending refunds and reversals whose money arrived.
    pub resolved: u64,
}

/// The claim a case was filed with.
pub fn stored_claim(case: &CaseRow) -> Option<Claim> {
    Some(Claim {
        kind: case.kind,
        card_last4: case.card_last4.clone(),
        card_first6: case.card_first6.clone(),
        amount: case.amount(),
        expected_amount: case.expected_amount(),
        occurred: Occurred::parse(&case.occurred_at)?,
        merchant_id: case.merchant_id.clone(),
        terminal_id: case.terminal_id.clone(),
        merchant_name: case.merchant_name.clone(),
        description: case.description.clone(),
    })
}

/// The one step after an accepted import: matches again the waiting cases the import's new rows
/// can change, and resolves the pending remedies whose credit arrived. Only those cases are read
/// (through indexes, by the keys in `imported`), so the work follows the import, not the number of
/// cases waiting; `Imported::everything()` reads every waiting case.
pub async fn after_import(db: &Db, ctx: &MatchContext<'_>, imported: &Imported) -> anyhow::Result<Refreshed> {
    let mut done = Refreshed::default();
    // Trouble in the new records nobody has complained about yet (DESIGN.md §10). First, and
    // whatever the import changed for cases: an accepted import that adds no case key (credits
    // without `orig_rrn`, rows all unchanged) is still checked once.
    crate::exceptions::after_import(db, ctx).await?;
    if imported.is_empty() {
        return Ok(done);
    }
    let (waiting, pending) = if imported.everything {
        (cases::awaiting_records(db).await?, cases::pending_remedies(db).await?)
    } else {
        let debits: Vec<_> = imported.debits.iter().cloned().collect();
        // A credit's `orig_rrn` is a debit's RRN: a case waiting on that debit's journal may now
        // find it credited back (already refunded / reversed), as the full scan would have.
        let rrns: Vec<_> = imported.journal_rrns.iter().chain(&imported.credited_rrns).cloned().collect();
        let traces: Vec<_> = imported.journal_traces.iter().cloned().collect();
        let credited: Vec<_> = imported.credited_rrns.iter().cloned().collect();
        let mut waiting = cases::awaiting_debits(db, &debits).await?;
        waiting.extend(cases::awaiting_journal(db, &rrns, &traces).await?);
        (waiting, cases::pending_remedies_on(db, &credited).await?)
    };
    for case in by_id(waiting) {
        if rematch(db, ctx, &case).await? {
            done.rematched += 1;
        }
    }
    for case in by_id(pending) {
        if resolve_if_credited(db, ctx, &case).await? {
            done.resolved += 1;
        }
    }
    Ok(done)
}

/// Each case once, oldest first (as the full scan read them).
fn by_id(mut list: Vec<CaseRow>) -> Vec<CaseRow> {
    list.sort_by_key(|c| c.id);
    list.dedup_by_key(|c| c.id);
    list
}

/// The case's state and where `action`, taken by the system now, moves it.
fn system_transition(case: &CaseRow, action: &Action) -> anyhow::Result<(CaseState, CaseState)> {
    let from = case.state;
    let now = Timestamp::now();
    let entered = Timestamp::from_second(case.state_entered_at)?;
    let to = transition(from, action, Actor::System, &GuardContext::new(now, entered, now))
        .map_err(|e| anyhow::anyhow!("case {}: {} refused: {}", case.id, action.kind().as_str(), e.code()))?;
    Ok((from, to))
}

/// Matches a case again; records a new finding only when it differs (no repeated notices).
async fn rematch(db: &Db, ctx: &MatchContext<'_>, case: &CaseRow) -> anyhow::Result<bool> {
    let Some(claim) = stored_claim(case) else { return Ok(false) };
    let matching = std::time::Instant::now();
    let found = candidates(db, &claim, ctx.tz).await?;
    let list: Vec<_> = found.iter().map(|(_, c)| c.clone()).collect();
    let decision = decide(&claim, &list);
    crate::metrics::matching(matching.elapsed());
    if case.finding == Some(decision.finding) {
        return Ok(false);
    }
    let (from, to) = system_transition(case, &Action::Rematch)?;
    let mut tx = db.begin().await?;
    // Step to `submitted`, then let the new finding move it on: both in this transaction.
    if !cases::set_state(&mut tx, case.id, case.version, to, None).await? {
        return Ok(false); // someone acted on the case meanwhile; the next import tries again
    }
    cases::add_event(
        &mut tx,
        case.id,
        &NewEvent {
            actor: "system",
            actor_user_id: None,
            action: "rematch",
            from_state: Some(from.as_str()),
            to_state: to.as_str(),
            note: None,
        },
    )
    .await?;
    apply_decision(&mut tx, ctx, case.id, case.version + 1, &decision, &found).await?;
    tx.commit().await?;
    Ok(true)
}

/// Resolves a pending refund or reversal once a settlement credit returns its amount for its debit.
async fn resolve_if_credited(db: &Db, ctx: &MatchContext<'_>, case: &CaseRow) -> anyhow::Result<bool> {
    let (Some(rrn), Some(merchant), Some(owed)) =
        (case.remedy_rrn.as_deref(), case.matched_merchant_id.as_deref(), case.remedy_minor)
    else {
        return Ok(false);
    };
    let credits = cases::credits_for(db, merchant, rrn).await?;
    let Some(credit) = credits.iter().find(|c| c.amount.minor == owed && c.amount.currency == case.currency) else {
        return Ok(false);
    };
    let (from, to) = system_transition(case, &Action::CreditImported)?;
    let mut tx = db.begin().await?;
    if !cases::set_state(&mut tx, case.id, case.version, to, None).await? {
        return Ok(false);
    }
    // §6: one credit settles one case; a second case waiting on the same debit stays open.
    if !cases::settle_with_credit(&mut tx, case.id, &credit.entry_id).await? {
        return Ok(false);
    }
    let note = format!("{} {}", credit.settled_on, credit.rrn);
    let event = cases::add_event(
        &mut tx,
        case.id,
        &NewEvent {
            actor: "system",
            actor_user_id: None,
            action: "credit_imported",
            from_state: Some(from.as_str()),
            to_state: to.as_str(),
            note: Some(&note),
        },
    )
    .await?;
    let extra = Extra {
        credit_date: Some(credit.settled_on.to_string()),
        credit_rrn: Some(credit.rrn.to_string()),
        ..Extra::default()
    };
    notify::queue(&mut tx, ctx, case.id, &notices(&Action::CreditImported, to), event, &extra).await?;
    tx.commit().await?;
    Ok(true)
}
