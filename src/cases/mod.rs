//! Cases: filing a claim, matching it against the records, and recording what was found.
//!
//! The rules are the domain's (`domain::finding`, `domain::case_state`); this module gathers
//! the records they need and writes the outcome, each change in one transaction with its event.

use anyhow::Context;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::db::cases::{self, DecisionUpdate, NewCase, NewEvent};
use crate::db::{Db, DbError, Tx};
use crate::domain::calendar::Calendar;
use crate::domain::case_state::{
    Action, Actor, CaseState, Deadlines, GuardContext, MatchOutcome, filing_notices, notices, transition,
};
use crate::domain::claim::Claim;
use crate::domain::finding::{Candidate, Decision, decide, find_journal, is_candidate};
use crate::i18n::Lang;

pub mod act;
pub mod notify;
pub mod refresh;
pub mod sweep;
pub mod view;

/// Who filed and how to reach them.
pub struct Contact {
    pub email: String,
    pub user_id: Option<i64>,
    /// The address is known to be theirs (a signed-in customer, a bank's channel).
    pub confirmed: bool,
    pub lang: Lang,
}

/// Everything matching needs besides the database.
pub struct MatchContext<'a> {
    pub tz: &'a jiff::tz::TimeZone,
    pub calendar: &'a Calendar,
    pub deadlines: Deadlines,
    /// For the links in notices.
    pub base_url: &'a url::Url,
}

impl MatchContext<'_> {
    pub fn new(config: &crate::config::Config) -> MatchContext<'_> {
        MatchContext {
            tz: &config.timezone,
            calendar: &config.calendar,
            deadlines: config.deadlines,
            base_url: &config.base_url,
        }
    }

    /// When a case entering `state` at `now` is due, as Unix seconds.
    pub fn deadline_for(&self, state: CaseState, now: jiff::Timestamp) -> Option<i64> {
        self.deadlines.days_for(state).map(|days| self.calendar.add_business_days(now, days, self.tz).as_second())
    }
}

/// The candidates of a claim, each with its settlement row id, assembled from the records.
pub async fn candidates(db: &Db, claim: &Claim, tz: &jiff::tz::TimeZone) -> Result<Vec<(i64, Candidate)>, DbError> {
    let (from, to) = claim.window(tz);
    let debits = cases::candidate_debits(
        db,
        &claim.card_last4,
        claim.amount.minor,
        claim.amount.currency.code(),
        from.as_second(),
        // Whole seconds are stored: include the last second of the window.
        to.as_second(),
    )
    .await?;
    let mut out = Vec::new();
    for (id, debit) in debits.into_iter().filter(|(_, d)| is_candidate(claim, d, tz)) {
        let mut journal = cases::journal_around(db, &debit).await?;
        // The journal row found by RRN may carry another trace than the host saw; its
        // cancellations point at its own trace.
        if let Some(sale) = find_journal(&debit, &journal).filter(|s| s.trace_no != debit.trace_no).cloned() {
            journal.extend(cases::cancellations_of(db, &sale.merchant_id, &sale.terminal_id, &sale.trace_no).await?);
        }
        let credits = cases::credits_for(db, &debit.merchant_id, &debit.rrn).await?;
        out.push((id, Candidate::assemble(debit, &journal, &credits)));
    }
    Ok(out)
}

/// Files a claim: stores it, matches it at once, and records the finding. Returns the case id.
pub async fn file(
    db: &Db,
    ctx: &MatchContext<'_>,
    claim: &Claim,
    occurred_text: &str,
    contact: &Contact,
    via: &str,
    token_id: Option<i64>,
) -> anyhow::Result<i64> {
    let found = candidates(db, claim, ctx.tz).await?;
    let list: Vec<Candidate> = found.iter().map(|(_, c)| c.clone()).collect();
    let decision = decide(claim, &list);

    let mut tx = db.begin().await?;
    let email_norm = contact.email.trim().to_lowercase();
    let case_id = cases::insert(
        &mut tx,
        &NewCase {
            kind: claim.kind,
            state: CaseState::Submitted,
            customer_user_id: contact.user_id,
            contact_email: contact.email.trim(),
            contact_email_norm: &email_norm,
            email_confirmed: contact.confirmed,
            lang: contact.lang.code(),
            via,
            filed_by_token: token_id,
            card_last4: &claim.card_last4,
            card_first6: claim.card_first6.as_deref(),
            amount_minor: claim.amount.minor,
            currency: claim.amount.currency,
            expected_minor: claim.expected_amount.map(|m| m.minor),
            occurred_at: occurred_text.trim(),
            merchant_id: claim.merchant_id.as_deref(),
            terminal_id: claim.terminal_id.as_deref(),
            merchant_name: claim.merchant_name.as_deref(),
            description: claim.description.as_deref(),
        },
    )
    .await?;
    let actor_name = if via == "api" { "api" } else { "customer" };
    let filed_event = cases::add_event(
        &mut tx,
        case_id,
        &NewEvent {
            actor: actor_name,
            actor_user_id: contact.user_id,
            action: "file",
            from_state: None,
            to_state: CaseState::Submitted.as_str(),
            note: None,
        },
    )
    .await?;
    notify::queue(&mut tx, ctx, case_id, &filing_notices(), filed_event, &notify::Extra::default()).await?;
    apply_decision(&mut tx, ctx, case_id, 1, &decision, &found).await?;
    tx.commit().await?;
    Ok(case_id)
}

/// Moves a `submitted` case to where its finding sends it and records why.
pub(crate) async fn apply_decision(
    tx: &mut Tx,
    ctx: &MatchContext<'_>,
    case_id: i64,
    version: i64,
    decision: &Decision,
    found: &[(i64, Candidate)],
) -> anyhow::Result<CaseState> {
    let now = Timestamp::now();
    let target = CaseState::parse(decision.next_state.as_str()).context("finding names a case state")?;
    let outcome = MatchOutcome::from_state(target).context("finding's state is a match outcome")?;
    let action = Action::Match { outcome };
    let state = transition(CaseState::Submitted, &action, Actor::System, &GuardContext::new(now, now, now))
        .map_err(|e| anyhow::anyhow!("matching a submitted case was refused: {}", e.code()))?;

    let matched: Vec<&(i64, Candidate)> = decision.matched.iter().map(|&i| &found[i]).collect();
    let matched_ids: Vec<i64> = matched.iter().map(|(id, _)| *id).collect();
    let args: Map<String, Value> =
        decision.explanation_args().into_iter().map(|(k, v)| (k.to_owned(), Value::String(v))).collect();
    let args = Value::Object(args).to_string();
    let merchant = matched.first().map(|(_, c)| c.debit.merchant_id.as_str());
    let terminal = matched.first().map(|(_, c)| c.debit.terminal_id.as_str());
    let deadline = ctx.deadline_for(state, now);
    let written = cases::record_decision(
        tx,
        case_id,
        version,
        &DecisionUpdate {
            finding: decision.finding,
            review_reason: decision.review,
            remedy_kind: decision.remedy.kind,
            remedy_minor: decision.remedy.amount.map(|m| m.minor),
            remedy_rrn: decision.remedy.debit_rrn.as_deref(),
            remedy_needs_merchant: decision.remedy.needs_merchant_confirmation,
            explanation_args: &args,
            matched_merchant_id: merchant,
            matched_terminal_id: terminal,
            state,
            deadline_at: deadline,
            matched_settlement_ids: &matched_ids,
        },
    )
    .await?;
    anyhow::ensure!(written, "case {case_id} changed while it was being matched");
    let event = cases::add_event(
        tx,
        case_id,
        &NewEvent {
            actor: "system",
            actor_user_id: None,
            action: "match",
            from_state: Some(CaseState::Submitted.as_str()),
            to_state: state.as_str(),
            note: Some(decision.finding.as_str()),
        },
    )
    .await?;
    notify::queue(tx, ctx, case_id, &notices(&action, state), event, &notify::Extra::default()).await?;
    Ok(state)
}
