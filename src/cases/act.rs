//! What people do to a case (DESIGN.md §6): the customer, the merchant's staff and the desk.
//!
//! Each action is one transaction: the case is read again, the pure transition table decides
//! whether the action may happen and where it leads, the new state (or, for actions that keep
//! the state, a new version) is written only if nobody changed the case since the person
//! looked at it, then the facts the action carries, the audit event and the notices it causes.
//! Whoever comes second is told the case changed: nothing they did is half-applied.

use jiff::Timestamp;

use super::notify::{self, Extra};
use super::refresh::stored_claim;
use super::{MatchContext, apply_decision, candidates};
use crate::db::cases::{self, CaseRow, ClaimUpdate, NewEvent};
use crate::db::{Db, DbError, Tx};
use crate::domain::case_input::ActionInput;
use crate::domain::case_state::{
    Action, ActionKind, Actor, CaseState, GuardContext, PendingRemedy, TransitionError, notices, transition,
};
use crate::domain::claim::Claim;
use crate::domain::finding::{Candidate, Decision, Finding, decide, narrow_to_pick};

/// The person acting.
#[derive(Clone, Copy, Debug)]
pub struct Who {
    pub actor: Actor,
    pub user_id: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ActError {
    /// Someone else changed the case after the person loaded it.
    #[error("the case changed meanwhile")]
    Changed,
    /// The transition table refuses the action (state, role or guard).
    #[error("refused: {}", .0.code())]
    Refused(TransitionError),
    /// The action exists in this state but does not fit this case (e.g. confirming a remedy
    /// the finding does not call for, picking a debit on a case that is not ambiguous).
    #[error("not applicable: {0}")]
    NotApplicable(&'static str),
    /// §6: this refund or reversal (batch and trace, or RRN) was already recorded on another
    /// case; one execution settles one case.
    #[error("the execution is recorded on another case")]
    ExecutionElsewhere,
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<DbError> for ActError {
    fn from(e: DbError) -> Self {
        ActError::Other(e.into())
    }
}

/// The facts the guards read, taken from the case row.
pub fn guard_context(case: &CaseRow, now: Timestamp) -> GuardContext {
    let at = |unix: i64| Timestamp::from_second(unix).unwrap_or(now);
    GuardContext {
        now,
        entered_state_at: at(case.state_entered_at),
        last_activity_at: at(case.updated_at),
        outcome_accepted: case.outcome_accepted_at.is_some(),
        remedy_marked_executed: case.remedy_executed_at.is_some(),
    }
}

/// The remedy the merchant confirms: the one the finding (or the desk) set.
pub fn pending_remedy(case: &CaseRow) -> Option<PendingRemedy> {
    PendingRemedy::parse(case.remedy_kind.as_str())
}

/// Whether an action offered by the table also fits this case's data. The web page offers only
/// these; [`act`] refuses the rest.
pub fn applicable(case: &CaseRow, kind: ActionKind, matched: usize) -> Result<(), &'static str> {
    match kind {
        ActionKind::MerchantConfirm if pending_remedy(case).is_none() => Err("no_remedy_to_confirm"),
        ActionKind::PickDebit if case.finding != Some(Finding::Ambiguous) || matched < 2 => Err("not_ambiguous"),
        // Under review, the customer adds information only to narrow an ambiguous match.
        ActionKind::AddInfo if case.state == CaseState::UnderReview && !narrowable(case) => Err("not_ambiguous"),
        _ => Ok(()),
    }
}

/// Several payments fit the claim and nobody else's case is involved: the customer can tell
/// which (first six digits, exact time, terminal or shop) and the claim is matched again.
pub fn narrowable(case: &CaseRow) -> bool {
    case.finding == Some(Finding::Ambiguous) && case.review_reason.is_none()
}

/// `wrong_amount` keyed wrong: the refund waits for the merchant to state the right amount.
pub fn remedy_needs_stated_amount(case: &CaseRow) -> bool {
    case.finding == Some(Finding::AmountKeyedWrong)
}

/// The new claim for "customer adds information", already validated.
pub struct NewClaim<'a> {
    pub claim: &'a Claim,
    pub occurred_text: &'a str,
}

/// One person's action on a case, as they asked for it.
pub struct Step<'a> {
    pub case_id: i64,
    /// The case version the person saw when they chose the action.
    pub expected_version: i64,
    pub who: Who,
    pub kind: ActionKind,
    pub input: &'a ActionInput,
    pub new_claim: Option<NewClaim<'a>>,
}

/// Takes the step on the case as the person saw it. Returns the state the case is in afterwards.
pub async fn act(db: &Db, ctx: &MatchContext<'_>, step: Step<'_>) -> Result<CaseState, ActError> {
    let Step { case_id, expected_version, who, kind, input, new_claim } = step;
    let seen = cases::get(db, case_id).await?.ok_or(ActError::Changed)?;
    if seen.version != expected_version {
        return Err(ActError::Changed);
    }
    let matched_ids = cases::matched_ids(db, case_id).await?;
    applicable(&seen, kind, matched_ids.len()).map_err(ActError::NotApplicable)?;

    // Matching reads many records: done before the transaction, from the claim as it will be.
    let rematch = match kind {
        ActionKind::AddInfo => {
            let new = new_claim.as_ref().ok_or(ActError::NotApplicable("claim_missing"))?;
            Some(decide_on(db, ctx, new.claim, None).await?)
        }
        ActionKind::PickDebit => {
            let claim = stored_claim(&seen).ok_or(ActError::NotApplicable("claim_unreadable"))?;
            let picked = input.debit.ok_or(ActError::NotApplicable("debit_missing"))?;
            Some(decide_on(db, ctx, &claim, Some(picked)).await?)
        }
        _ => None,
    };

    let now = Timestamp::now();
    let from = seen.state;
    let action = match kind {
        ActionKind::MerchantConfirm => {
            Action::MerchantConfirm { remedy: pending_remedy(&seen).ok_or(ActError::NotApplicable("no_remedy"))? }
        }
        // The system's own actions (rematch, deadline, credit, close) are refused for people by
        // the transition table, like any action of another role.
        other => other.unit_action().ok_or(ActError::NotApplicable("needs_data"))?,
    };
    let to = transition(from, &action, who.actor, &guard_context(&seen, now)).map_err(ActError::Refused)?;

    let mut tx = db.begin().await?;
    let written = if to != from {
        let deadline = ctx.deadline_for(to, now);
        cases::set_state(&mut tx, case_id, expected_version, to, deadline).await?
    } else {
        cases::touch(&mut tx, case_id, expected_version).await?
    };
    if !written {
        return Err(ActError::Changed);
    }

    record_facts(&mut tx, &seen, kind, input, new_claim.as_ref()).await?;

    let event = cases::add_event(
        &mut tx,
        case_id,
        &NewEvent {
            actor: who.actor.as_str(),
            actor_user_id: who.user_id,
            action: kind.as_str(),
            from_state: Some(from.as_str()),
            to_state: to.as_str(),
            note: event_note(kind, input).as_deref(),
        },
    )
    .await?;
    if input.overrides_finding {
        cases::flag_override(&mut tx, event).await?;
    }
    let extra = Extra {
        reason: input.note.clone(),
        decided: matches!(kind, ActionKind::ApproveRefund | ActionKind::ApproveReversal),
        ..Extra::default()
    };
    notify::queue(&mut tx, ctx, case_id, &notices(&action, to), event, &extra).await?;

    let state = match rematch {
        Some((decision, found)) => {
            apply_decision(&mut tx, ctx, case_id, expected_version + 1, &decision, &found).await?
        }
        None => to,
    };
    tx.commit().await?;
    Ok(state)
}

/// The finding for `claim`, on every candidate or only on the picked debit (and its cluster).
async fn decide_on(
    db: &Db,
    ctx: &MatchContext<'_>,
    claim: &Claim,
    picked: Option<i64>,
) -> Result<(Decision, Vec<(i64, Candidate)>), ActError> {
    let mut found = candidates(db, claim, ctx.tz).await?;
    if let Some(settlement_id) = picked {
        let list: Vec<Candidate> = found.iter().map(|(_, c)| c.clone()).collect();
        let index =
            found.iter().position(|(id, _)| *id == settlement_id).ok_or(ActError::NotApplicable("debit_not_found"))?;
        let keep = narrow_to_pick(claim.kind, &list, index);
        found = keep.into_iter().map(|i| found[i].clone()).collect();
    }
    let list: Vec<Candidate> = found.iter().map(|(_, c)| c.clone()).collect();
    Ok((decide(claim, &list), found))
}

/// What the audit log keeps besides who/when/from/to: the reason, and references typed in.
fn event_note(kind: ActionKind, input: &ActionInput) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    if let Some(e) = &input.execution {
        let mut reference = format!("batch {} trace {}", e.batch_no, e.trace_no);
        if let Some(rrn) = &e.rrn {
            reference.push_str(&format!(" RRN {rrn}"));
        }
        parts.push(reference);
    }
    if let Some(m) = input.stated_amount {
        parts.push(format!("stated {m}"));
    }
    if let (Some(m), ActionKind::ApproveRefund | ActionKind::ApproveReversal) = (input.amount, kind) {
        parts.push(m.to_string());
    }
    if let Some(note) = &input.note {
        parts.push(note.clone());
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// Writes what the action carries onto the case (the state is already written).
async fn record_facts(
    tx: &mut Tx,
    case: &CaseRow,
    kind: ActionKind,
    input: &ActionInput,
    new_claim: Option<&NewClaim<'_>>,
) -> Result<(), ActError> {
    match kind {
        ActionKind::MerchantConfirm | ActionKind::MarkExecuted => {
            if let Some(e) = &input.execution {
                let merchant = case.matched_merchant_id.as_deref().unwrap_or_default();
                if cases::execution_recorded_elsewhere(
                    tx,
                    case.id,
                    merchant,
                    &e.batch_no,
                    &e.trace_no,
                    e.rrn.as_deref(),
                )
                .await?
                {
                    return Err(ActError::ExecutionElsewhere);
                }
                cases::mark_executed(tx, case.id, &e.batch_no, &e.trace_no, e.rrn.as_deref()).await?;
            }
            if let Some(stated) = input.stated_amount {
                let refund = case.amount_minor - stated.minor;
                cases::set_stated_amount(tx, case.id, stated.minor, refund).await?;
            }
        }
        ActionKind::Accept => cases::mark_accepted(tx, case.id).await?,
        ActionKind::ApproveRefund | ActionKind::ApproveReversal => {
            let remedy = if kind == ActionKind::ApproveRefund { "refund" } else { "reversal" };
            // The debit the money returns for: the finding's, else the first matched debit.
            let rrn = match case.remedy_rrn.clone() {
                Some(rrn) => Some(rrn),
                None => cases::first_matched_rrn(tx, case.id).await?,
            };
            cases::set_remedy(tx, case.id, remedy, input.amount.map(|m| m.minor), rrn.as_deref()).await?;
        }
        ActionKind::AddInfo => {
            if let Some(new) = new_claim {
                let c = new.claim;
                cases::update_claim(
                    tx,
                    case.id,
                    &ClaimUpdate {
                        card_last4: &c.card_last4,
                        card_first6: c.card_first6.as_deref(),
                        amount_minor: c.amount.minor,
                        expected_minor: c.expected_amount.map(|m| m.minor),
                        occurred_at: new.occurred_text.trim(),
                        merchant_id: c.merchant_id.as_deref(),
                        terminal_id: c.terminal_id.as_deref(),
                        merchant_name: c.merchant_name.as_deref(),
                        description: c.description.as_deref(),
                    },
                )
                .await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Gives the case to a desk user (or back to the pool). Not a state change, but versioned and
/// audited like one.
pub async fn assign(
    db: &Db,
    case_id: i64,
    expected_version: i64,
    who: Who,
    assignee: Option<(i64, &str)>,
) -> Result<(), ActError> {
    if !matches!(who.actor, Actor::Agent | Actor::Admin) {
        return Err(ActError::NotApplicable("desk_only"));
    }
    let seen = cases::get(db, case_id).await?.ok_or(ActError::Changed)?;
    let state = seen.state;
    if state.is_terminal() {
        return Err(ActError::NotApplicable("closed"));
    }
    let mut tx = db.begin().await?;
    if !cases::touch(&mut tx, case_id, expected_version).await? {
        return Err(ActError::Changed);
    }
    cases::set_assignee(&mut tx, case_id, assignee.map(|(id, _)| id)).await?;
    cases::add_event(
        &mut tx,
        case_id,
        &NewEvent {
            actor: who.actor.as_str(),
            actor_user_id: who.user_id,
            action: "assign",
            from_state: Some(state.as_str()),
            to_state: state.as_str(),
            note: assignee.map(|(_, email)| email),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
