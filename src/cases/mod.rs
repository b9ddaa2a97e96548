//! Cases: filing a claim, matching it against the records, and recording what was found.
//!
//! The rules are the domain's (`domain::finding`, `domain::case_state`); this module gathers
//! the records they need and writes the outcome, each change in one transaction with its event.

use anyhow::Context;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::auth::token;
use crate::db::cases::{self, DecisionUpdate, NewCase, NewEvent};
use crate::db::email_tokens::{self, NewEmailToken};
use crate::db::{Db, DbError, Tx};
use crate::domain::calendar::Calendar;
use crate::domain::case_state::{
    Action, Actor, CaseState, Deadlines, GuardContext, MatchOutcome, filing_notices, notices, transition,
};
use crate::domain::claim::Claim;
use crate::domain::finding::{Candidate, Decision, decide, find_journal, is_candidate};
use crate::i18n::Lang;
use crate::mail;

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
    /// Exceptions found after imports (DESIGN.md §10): how long records may wait, when a
    /// terminal is flagged.
    pub exception_waits: crate::domain::exceptions::Waits,
    pub terminal_flags: crate::domain::exceptions::FlagThresholds,
}

impl MatchContext<'_> {
    pub fn new(config: &crate::config::Config) -> MatchContext<'_> {
        MatchContext {
            tz: &config.timezone,
            calendar: &config.calendar,
            deadlines: config.deadlines,
            base_url: &config.base_url,
            exception_waits: config.exception_waits,
            terminal_flags: config.terminal_flags,
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

/// What filing a claim came to (§6 one payment, one case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filed {
    /// A new case.
    New(i64),
    /// Nothing new: this filing key was used already, or the same customer's open case holds
    /// the payment.
    Existing(i64),
}

impl Filed {
    pub fn case_id(self) -> i64 {
        match self {
            Filed::New(id) | Filed::Existing(id) => id,
        }
    }
}

/// A claim and how it came in.
pub struct Filing<'a> {
    pub claim: &'a Claim,
    /// `occurred_at` as the person wrote it, kept for matching again.
    pub occurred_text: &'a str,
    pub contact: &'a Contact,
    pub via: &'a str,
    pub token_id: Option<i64>,
    /// The filing form's one-time token or the API's `Idempotency-Key`, made unique per caller.
    pub filing_key: Option<&'a str>,
}

/// How long the link that opens a case filed without an account stays valid.
pub const CLAIM_LINK_VALID_SECS: i64 = 7 * 24 * 60 * 60;
/// The purpose of the emailed link that proves the address of a claim filed without an account.
pub const CLAIM_ACCESS_PURPOSE: &str = "claim_access";

/// Files a claim: stores it, matches it at once and records the finding, all in one
/// transaction with its notices. A filer whose address is not confirmed (no account) gets the
/// link that opens the case in the same transaction: nothing is filed without it.
pub async fn file(db: &Db, ctx: &MatchContext<'_>, filing: &Filing<'_>) -> anyhow::Result<Filed> {
    if let Some(key) = filing.filing_key
        && let Some(id) = cases::by_filing_key(db, key).await?
    {
        return Ok(Filed::Existing(id));
    }
    let claim = filing.claim;
    let contact = filing.contact;
    let matching = std::time::Instant::now();
    let found = candidates(db, claim, ctx.tz).await?;
    let list: Vec<Candidate> = found.iter().map(|(_, c)| c.clone()).collect();
    let decision = decide(claim, &list);
    crate::metrics::matching(matching.elapsed());
    let email_norm = contact.email.trim().to_lowercase();

    // §6: the same customer's open case on the same payment is the case; nothing new is filed.
    let matched_ids: Vec<i64> = decision.matched.iter().map(|&i| found[i].0).collect();
    // A signed-in customer is their account; anyone else is their address. (A case filed
    // without an account under a signed-in customer's address is not theirs until its link is
    // opened: until then the desk sorts the two out.)
    let same_customer = |c: &cases::OpenCase| match contact.user_id {
        Some(user) => c.customer_user_id == Some(user),
        None => c.contact_email_norm == email_norm,
    };
    if let Some(open) = cases::open_cases_on(db, &matched_ids).await?.iter().find(|c| same_customer(c)) {
        return Ok(Filed::Existing(open.case_id));
    }

    let mut tx = db.begin().await?;
    let inserted = cases::insert(
        &mut tx,
        &NewCase {
            kind: claim.kind,
            state: CaseState::Submitted,
            customer_user_id: contact.user_id,
            contact_email: contact.email.trim(),
            contact_email_norm: &email_norm,
            email_confirmed: contact.confirmed,
            lang: contact.lang.code(),
            via: filing.via,
            filed_by_token: filing.token_id,
            card_last4: &claim.card_last4,
            card_first6: claim.card_first6.as_deref(),
            amount_minor: claim.amount.minor,
            currency: claim.amount.currency,
            expected_minor: claim.expected_amount.map(|m| m.minor),
            occurred_at: filing.occurred_text.trim(),
            merchant_id: claim.merchant_id.as_deref(),
            terminal_id: claim.terminal_id.as_deref(),
            merchant_name: claim.merchant_name.as_deref(),
            description: claim.description.as_deref(),
            filing_key: filing.filing_key,
        },
    )
    .await;
    let case_id = match (inserted, filing.filing_key) {
        (Ok(id), _) => id,
        // The same key filed a case in between (a double click): that case is the answer.
        (Err(DbError::Sqlx(e)), Some(key)) if crate::db::is_unique_violation(&e) => {
            drop(tx);
            let id = cases::by_filing_key(db, key).await?.context("a filing key's case")?;
            return Ok(Filed::Existing(id));
        }
        (Err(e), _) => return Err(e.into()),
    };
    let actor_name = if filing.via == "api" { "api" } else { "customer" };
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
    if !contact.confirmed {
        queue_claim_link(&mut tx, ctx, case_id, contact).await?;
    }
    apply_decision(&mut tx, ctx, case_id, 1, &decision, &found).await?;
    tx.commit().await?;
    Ok(Filed::New(case_id))
}

/// The single-use link that proves the filer's address and opens the case, and its notice.
async fn queue_claim_link(tx: &mut Tx, ctx: &MatchContext<'_>, case_id: i64, contact: &Contact) -> anyhow::Result<()> {
    let secret = token::generate();
    email_tokens::create(
        tx,
        &NewEmailToken {
            token_hash: &token::digest(&secret),
            purpose: CLAIM_ACCESS_PURPOSE,
            user_id: None,
            email: contact.email.trim(),
            subject_id: Some(case_id),
            valid_for_secs: CLAIM_LINK_VALID_SECS,
        },
    )
    .await?;
    let url = format!("{}/claims/confirm?token={secret}", ctx.base_url.as_str().trim_end_matches('/'));
    let notice = mail::claim_link(contact.lang, case_id, &url);
    let key = format!("claim_received:{case_id}");
    mail::queue(tx, &key, "claim_received", contact.email.trim(), contact.lang, Some(case_id), &notice).await?;
    Ok(())
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
    let matched: Vec<&(i64, Candidate)> = decision.matched.iter().map(|&i| &found[i]).collect();
    let matched_ids: Vec<i64> = matched.iter().map(|(id, _)| *id).collect();
    // §6: a debit belongs to one open case. Matched again, a case lets go of what it held;
    // a debit another case holds sends this one to the desk, linked to it.
    cases::release_debits(tx, case_id).await?;
    let elsewhere = cases::hold_debits(tx, case_id, &matched_ids).await?;
    let held_elsewhere;
    let decision = match elsewhere.first() {
        Some(_) => {
            held_elsewhere = decision.clone().held_elsewhere();
            &held_elsewhere
        }
        None => decision,
    };
    let now = Timestamp::now();
    let target = CaseState::parse(decision.next_state.as_str()).context("finding names a case state")?;
    let outcome = MatchOutcome::from_state(target).context("finding's state is a match outcome")?;
    let action = Action::Match { outcome };
    let state = transition(CaseState::Submitted, &action, Actor::System, &GuardContext::new(now, now, now))
        .map_err(|e| anyhow::anyhow!("matching a submitted case was refused: {}", e.code()))?;

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
            related_case_id: elsewhere.first().copied(),
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
