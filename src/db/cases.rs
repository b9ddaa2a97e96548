//! Cases, the debits their findings rest on, their event history, and the records matching reads.

use std::collections::HashMap;

use sqlx::FromRow;

use super::records::{STORED_JOURNAL_COLUMNS, STORED_SETTLEMENT_COLUMNS, StoredJournal, StoredSettlement};
use super::{Db, DbError, Tx, corrupt, now_unix};
use crate::db::assemble::{Sql, fetch_assembled};
use crate::db::{db_read, db_tx};
use crate::domain::access::CaseScope;
use crate::domain::case_state::CaseState;
use crate::domain::claim::ClaimKind;
use crate::domain::finding::{Finding, RemedyKind, ReviewReason};
use crate::domain::money::{Currency, Money};
use crate::domain::records::{JournalRow, SettlementEntry};

/// A case as the rest of the program sees it: every code already parsed, once, here.
#[derive(Clone, Debug)]
pub struct CaseRow {
    pub id: i64,
    pub kind: ClaimKind,
    pub state: CaseState,
    pub version: i64,
    pub customer_user_id: Option<i64>,
    pub contact_email: String,
    pub email_confirmed_at: Option<i64>,
    pub lang: String,
    pub via: String,
    pub filed_by_token: Option<i64>,
    pub card_last4: String,
    pub card_first6: Option<String>,
    pub amount_minor: i64,
    pub currency: Currency,
    pub expected_minor: Option<i64>,
    pub occurred_at: String,
    pub merchant_id: Option<String>,
    pub terminal_id: Option<String>,
    pub merchant_name: Option<String>,
    pub description: Option<String>,
    pub finding: Option<Finding>,
    pub review_reason: Option<ReviewReason>,
    pub remedy_kind: RemedyKind,
    pub remedy_minor: Option<i64>,
    pub remedy_rrn: Option<String>,
    pub remedy_needs_merchant: bool,
    pub explanation_args: String,
    pub matched_merchant_id: Option<String>,
    pub deadline_at: Option<i64>,
    pub state_entered_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub assigned_to: Option<i64>,
    pub matched_terminal_id: Option<String>,
    pub outcome_accepted_at: Option<i64>,
    pub remedy_executed_at: Option<i64>,
    pub executed_batch_no: Option<String>,
    pub executed_trace_no: Option<String>,
    pub executed_rrn: Option<String>,
    pub merchant_stated_minor: Option<i64>,
    pub deadline_missed_at: Option<i64>,
    /// The open case that held the payment when this one was filed (§6 `claimed_elsewhere`).
    pub related_case_id: Option<i64>,
}

/// A case as stored: codes as text, checked by `TryFrom` on the way out of this module.
#[derive(FromRow)]
pub(super) struct StoredCase {
    id: i64,
    kind: String,
    state: String,
    version: i64,
    customer_user_id: Option<i64>,
    contact_email: String,
    email_confirmed_at: Option<i64>,
    lang: String,
    via: String,
    filed_by_token: Option<i64>,
    card_last4: String,
    card_first6: Option<String>,
    amount_minor: i64,
    currency: String,
    expected_minor: Option<i64>,
    occurred_at: String,
    merchant_id: Option<String>,
    terminal_id: Option<String>,
    merchant_name: Option<String>,
    description: Option<String>,
    finding: Option<String>,
    review_reason: Option<String>,
    remedy_kind: String,
    remedy_minor: Option<i64>,
    remedy_rrn: Option<String>,
    remedy_needs_merchant: bool,
    explanation_args: String,
    matched_merchant_id: Option<String>,
    deadline_at: Option<i64>,
    state_entered_at: i64,
    created_at: i64,
    updated_at: i64,
    assigned_to: Option<i64>,
    matched_terminal_id: Option<String>,
    outcome_accepted_at: Option<i64>,
    remedy_executed_at: Option<i64>,
    executed_batch_no: Option<String>,
    executed_trace_no: Option<String>,
    executed_rrn: Option<String>,
    merchant_stated_minor: Option<i64>,
    deadline_missed_at: Option<i64>,
    related_case_id: Option<i64>,
}

impl TryFrom<StoredCase> for CaseRow {
    type Error = DbError;

    fn try_from(s: StoredCase) -> Result<CaseRow, DbError> {
        Ok(CaseRow {
            id: s.id,
            kind: ClaimKind::parse(&s.kind).ok_or_else(|| corrupt("kind"))?,
            state: CaseState::parse(&s.state).ok_or_else(|| corrupt("state"))?,
            version: s.version,
            customer_user_id: s.customer_user_id,
            contact_email: s.contact_email,
            email_confirmed_at: s.email_confirmed_at,
            lang: s.lang,
            via: s.via,
            filed_by_token: s.filed_by_token,
            card_last4: s.card_last4,
            card_first6: s.card_first6,
            amount_minor: s.amount_minor,
            currency: Currency::from_code(&s.currency).ok_or_else(|| corrupt("currency"))?,
            expected_minor: s.expected_minor,
            occurred_at: s.occurred_at,
            merchant_id: s.merchant_id,
            terminal_id: s.terminal_id,
            merchant_name: s.merchant_name,
            description: s.description,
            finding: s.finding.map(|f| Finding::parse(&f).ok_or_else(|| corrupt("finding"))).transpose()?,
            review_reason: s
                .review_reason
                .map(|r| ReviewReason::parse(&r).ok_or_else(|| corrupt("review_reason")))
                .transpose()?,
            remedy_kind: RemedyKind::parse(&s.remedy_kind).ok_or_else(|| corrupt("remedy_kind"))?,
            remedy_minor: s.remedy_minor,
            remedy_rrn: s.remedy_rrn,
            remedy_needs_merchant: s.remedy_needs_merchant,
            explanation_args: s.explanation_args,
            matched_merchant_id: s.matched_merchant_id,
            deadline_at: s.deadline_at,
            state_entered_at: s.state_entered_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
            assigned_to: s.assigned_to,
            matched_terminal_id: s.matched_terminal_id,
            outcome_accepted_at: s.outcome_accepted_at,
            remedy_executed_at: s.remedy_executed_at,
            executed_batch_no: s.executed_batch_no,
            executed_trace_no: s.executed_trace_no,
            executed_rrn: s.executed_rrn,
            merchant_stated_minor: s.merchant_stated_minor,
            deadline_missed_at: s.deadline_missed_at,
            related_case_id: s.related_case_id,
        })
    }
}

impl CaseRow {
    /// What the access policy needs to know about the case.
    pub fn scope(&self) -> CaseScope<'_> {
        CaseScope {
            state: self.state,
            customer_user_id: self.customer_user_id,
            filed_by_token: self.filed_by_token,
            merchant_id: self.matched_merchant_id.as_deref(),
        }
    }

    /// The debit as the customer claimed it.
    pub fn amount(&self) -> Money {
        Money::new(self.amount_minor, self.currency)
    }

    /// What is to be paid back, where there is a sum.
    pub fn remedy_amount(&self) -> Option<Money> {
        self.remedy_minor.map(|m| Money::new(m, self.currency))
    }

    /// What the terminal showed (`wrong_amount`).
    pub fn expected_amount(&self) -> Option<Money> {
        self.expected_minor.map(|m| Money::new(m, self.currency))
    }
}

pub(super) fn typed(rows: Vec<StoredCase>) -> Result<Vec<CaseRow>, DbError> {
    rows.into_iter().map(CaseRow::try_from).collect()
}

pub(super) const CASE_COLUMNS: &str = "id, kind, state, version, customer_user_id, contact_email, email_confirmed_at, lang, via, \
    filed_by_token, card_last4, card_first6, amount_minor, currency, expected_minor, occurred_at, merchant_id, \
    terminal_id, merchant_name, description, finding, review_reason, remedy_kind, remedy_minor, remedy_rrn, \
    remedy_needs_merchant, explanation_args, matched_merchant_id, deadline_at, state_entered_at, created_at, updated_at, \
    assigned_to, matched_terminal_id, outcome_accepted_at, remedy_executed_at, executed_batch_no, executed_trace_no, \
    executed_rrn, merchant_stated_minor, deadline_missed_at, related_case_id";

/// A claim as filed, before matching.
pub struct NewCase<'a> {
    pub kind: ClaimKind,
    pub state: CaseState,
    pub customer_user_id: Option<i64>,
    pub contact_email: &'a str,
    pub contact_email_norm: &'a str,
    pub email_confirmed: bool,
    pub lang: &'a str,
    pub via: &'a str,
    pub filed_by_token: Option<i64>,
    pub card_last4: &'a str,
    pub card_first6: Option<&'a str>,
    pub amount_minor: i64,
    pub currency: Currency,
    pub expected_minor: Option<i64>,
    pub occurred_at: &'a str,
    pub merchant_id: Option<&'a str>,
    pub terminal_id: Option<&'a str>,
    pub merchant_name: Option<&'a str>,
    pub description: Option<&'a str>,
    /// The filing form's one-time token or the API's Idempotency-Key (§6).
    pub filing_key: Option<&'a str>,
}

pub async fn insert(tx: &mut Tx, c: &NewCase<'_>) -> Result<i64, DbError> {
    let now = now_unix();
    let (id,): (i64,) = db_tx!(tx, |conn| {
        sqlx::query_as(
        "INSERT INTO cases (kind, state, customer_user_id, contact_email, contact_email_norm, email_confirmed_at, lang, via,
                            filed_by_token, card_last4, card_first6, amount_minor, currency, expected_minor, occurred_at,
                            merchant_id, terminal_id, merchant_name, description, state_entered_at, created_at, updated_at,
                            filing_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $20, $21)
         RETURNING id"
    )
    .bind(c.kind.as_str())
    .bind(c.state.as_str())
    .bind(c.customer_user_id)
    .bind(c.contact_email)
    .bind(c.contact_email_norm)
    .bind(c.email_confirmed.then_some(now))
    .bind(c.lang)
    .bind(c.via)
    .bind(c.filed_by_token)
    .bind(c.card_last4)
    .bind(c.card_first6)
    .bind(c.amount_minor)
    .bind(c.currency.code())
    .bind(c.expected_minor)
    .bind(c.occurred_at)
    .bind(c.merchant_id)
    .bind(c.terminal_id)
    .bind(c.merchant_name)
    .bind(c.description)
    .bind(now)
    .bind(c.filing_key)
    .fetch_one(conn)
    .await
    })?;
    Ok(id)
}

/// A finding and where it sends the case.
pub struct DecisionUpdate<'a> {
    pub finding: Finding,
    pub review_reason: Option<ReviewReason>,
    pub remedy_kind: RemedyKind,
    pub remedy_minor: Option<i64>,
    pub remedy_rrn: Option<&'a str>,
    pub remedy_needs_merchant: bool,
    pub explanation_args: &'a str,
    pub matched_merchant_id: Option<&'a str>,
    pub matched_terminal_id: Option<&'a str>,
    pub state: CaseState,
    pub deadline_at: Option<i64>,
    pub matched_settlement_ids: &'a [i64],
    /// The open case that already holds the matched debit (§6 `claimed_elsewhere`).
    pub related_case_id: Option<i64>,
}

/// Writes a finding onto a case, if the case is still at `expected_version` (no lost update).
/// Returns false when someone else changed the case first.
pub async fn record_decision(
    tx: &mut Tx,
    case_id: i64,
    expected_version: i64,
    d: &DecisionUpdate<'_>,
) -> Result<bool, DbError> {
    let now = now_unix();
    let changed = db_tx!(tx, |c| sqlx::query(
        "UPDATE cases SET finding = $1, review_reason = $2, remedy_kind = $3, remedy_minor = $4, remedy_rrn = $5,
                          remedy_needs_merchant = $6, explanation_args = $7, matched_merchant_id = $8, state = $9,
                          deadline_at = $10, state_entered_at = $11, updated_at = $11, version = version + 1,
                          matched_terminal_id = $14, outcome_accepted_at = NULL, remedy_executed_at = NULL,
                          deadline_missed_at = NULL, related_case_id = $15
         WHERE id = $12 AND version = $13"
    )
    .bind(d.finding.as_str())
    .bind(d.review_reason.map(|r| r.as_str()))
    .bind(d.remedy_kind.as_str())
    .bind(d.remedy_minor)
    .bind(d.remedy_rrn)
    .bind(d.remedy_needs_merchant)
    .bind(d.explanation_args)
    .bind(d.matched_merchant_id)
    .bind(d.state.as_str())
    .bind(d.deadline_at)
    .bind(now)
    .bind(case_id)
    .bind(expected_version)
    .bind(d.matched_terminal_id)
    .bind(d.related_case_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if changed != 1 {
        return Ok(false);
    }
    db_tx!(tx, |c| sqlx::query("DELETE FROM case_matches WHERE case_id = $1")
        .bind(case_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    for (position, settlement_id) in d.matched_settlement_ids.iter().enumerate() {
        db_tx!(tx, |c| sqlx::query("INSERT INTO case_matches (case_id, position, settlement_id) VALUES ($1, $2, $3)")
            .bind(case_id)
            .bind(position as i32)
            .bind(settlement_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    }
    if d.state == CaseState::Resolved {
        // §10: a finding that settles the case at once (already refunded) resolves the exceptions
        // that `hold_debits` has just linked to it, as `set_state` does for a later resolution.
        super::exceptions::resolve_by_case(tx, case_id).await?;
    }
    Ok(true)
}

pub struct NewEvent<'a> {
    pub actor: &'a str,
    pub actor_user_id: Option<i64>,
    pub action: &'a str,
    pub from_state: Option<&'a str>,
    pub to_state: &'a str,
    pub note: Option<&'a str>,
}

/// Records an event; returns its id (notices caused by the event are keyed by it).
pub async fn add_event(tx: &mut Tx, case_id: i64, e: &NewEvent<'_>) -> Result<i64, DbError> {
    let (id,): (i64,) = db_tx!(tx, |c| sqlx::query_as(
        "INSERT INTO case_events (case_id, at, actor, actor_user_id, action, from_state, to_state, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
    )
    .bind(case_id)
    .bind(now_unix())
    .bind(e.actor)
    .bind(e.actor_user_id)
    .bind(e.action)
    .bind(e.from_state)
    .bind(e.to_state)
    .bind(e.note)
    .fetch_one(c)
    .await)?;
    Ok(id)
}

pub async fn get(db: &Db, id: i64) -> Result<Option<CaseRow>, DbError> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
    let row: Option<StoredCase> = db_read!(db, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
    row.map(CaseRow::try_from).transpose()
}

pub async fn of_customer(db: &Db, user_id: i64) -> Result<Vec<CaseRow>, DbError> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE customer_user_id = $1 ORDER BY id DESC");
    typed(db_read!(db, |c| sqlx::query_as(&sql).bind(user_id).fetch_all(c).await)?)
}

/// The settlement debits a case's finding rests on, in order, with their row ids (the case
/// page needs both: one query instead of `matched_ids` and `matched_debits`).
pub async fn matched_debits_with_ids(db: &Db, case_id: i64) -> Result<Vec<(i64, SettlementEntry)>, DbError> {
    let sql = matched_debits_sql("= $1");
    let rows: Vec<StoredSettlement> = db_read!(db, |c| sqlx::query_as(&sql).bind(case_id).fetch_all(c).await)?;
    rows.into_iter().map(|r| Ok((r.id, r.into_domain()?))).collect()
}

/// The settlement debits a case's finding rests on, in order.
pub async fn matched_debits(db: &Db, case_id: i64) -> Result<Vec<SettlementEntry>, DbError> {
    let sql = matched_debits_sql("= $1");
    let rows: Vec<StoredSettlement> = db_read!(db, |c| sqlx::query_as(&sql).bind(case_id).fetch_all(c).await)?;
    rows.into_iter().map(StoredSettlement::into_domain).collect()
}

/// [`matched_debits`] of a page of cases in one query (the API's case list), by case id.
pub async fn matched_debits_of(db: &Db, case_ids: &[i64]) -> Result<HashMap<i64, Vec<SettlementEntry>>, DbError> {
    let mut by_case: HashMap<i64, Vec<SettlementEntry>> = HashMap::new();
    if case_ids.is_empty() {
        return Ok(by_case);
    }
    let mut q = Sql::default();
    let list = case_ids.iter().map(|id| q.int(*id)).collect::<Vec<_>>().join(", ");
    let sql = matched_debits_sql(&format!("IN ({list})"));
    let rows: Vec<CaseDebit> = fetch_assembled!(db, &sql, &q.args)?;
    for row in rows {
        by_case.entry(row.case_id).or_default().push(row.debit.into_domain()?);
    }
    Ok(by_case)
}

#[derive(FromRow)]
struct CaseDebit {
    case_id: i64,
    #[sqlx(flatten)]
    debit: StoredSettlement,
}

/// The settlement debits of the cases `m.case_id {cases}` picks, each case's in the order the
/// finding named them (with the case id, which the one-case readers ignore).
fn matched_debits_sql(cases: &str) -> String {
    let cols = STORED_SETTLEMENT_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT m.case_id, {cols} FROM case_matches m JOIN settlement_entries s ON s.id = m.settlement_id
         WHERE m.case_id {cases} ORDER BY m.case_id, m.position"
    )
}

/// [`matched_debits`] inside a transaction: the case as the change that is being written sees it.
pub async fn matched_debits_in_tx(tx: &mut Tx, case_id: i64) -> Result<Vec<SettlementEntry>, DbError> {
    let sql = matched_debits_sql("= $1");
    let rows: Vec<StoredSettlement> = db_tx!(tx, |c| sqlx::query_as(&sql).bind(case_id).fetch_all(c).await)?;
    rows.into_iter().map(StoredSettlement::into_domain).collect()
}

#[derive(Clone, Debug, FromRow)]
pub struct EventRow {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
}

pub async fn events(db: &Db, case_id: i64) -> Result<Vec<EventRow>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT at, actor, action, from_state, to_state, note FROM case_events WHERE case_id = $1 ORDER BY id"
    )
    .bind(case_id)
    .fetch_all(c)
    .await)?)
}

// ---- what matching reads ----

/// Settlement debits on a card's last 4 digits for an exact amount within a time range
/// (served by the `settlement_candidates` index). Finer filters are the domain's.
pub async fn candidate_debits(
    db: &Db,
    last4: &str,
    amount_minor: i64,
    currency: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, SettlementEntry)>, DbError> {
    let sql = format!(
        "SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries
         WHERE direction = 'debit' AND card_last4 = $1 AND amount_minor = $2 AND txn_time >= $3 AND txn_time <= $4
           AND currency = $5
         ORDER BY txn_time, id"
    );
    let rows: Vec<StoredSettlement> = db_read!(db, |c| sqlx::query_as(&sql)
        .bind(last4)
        .bind(amount_minor)
        .bind(from)
        .bind(to)
        .bind(currency)
        .fetch_all(c)
        .await)?;
    rows.into_iter().map(|r| Ok((r.id, r.into_domain()?))).collect()
}

/// Journal rows that may be, or may cancel, the sale behind a debit, all on the debit's own
/// merchant and terminal (§3.2): same RRN, or same trace, or pointing at that trace.
pub async fn journal_around(db: &Db, debit: &SettlementEntry) -> Result<Vec<JournalRow>, DbError> {
    let sql = format!(
        "SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE rrn = $1 AND merchant_id = $2 AND terminal_id = $3
         UNION
         SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE merchant_id = $2 AND terminal_id = $3 AND trace_no = $4
         UNION
         SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE merchant_id = $2 AND terminal_id = $3 AND orig_trace_no = $4"
    );
    let rows: Vec<StoredJournal> = db_read!(db, |c| sqlx::query_as(&sql)
        .bind(debit.rrn.as_str())
        .bind(debit.merchant_id.as_str())
        .bind(debit.terminal_id.as_str())
        .bind(&debit.trace_no)
        .fetch_all(c)
        .await)?;
    rows.into_iter().map(StoredJournal::into_domain).collect()
}

/// Journal rows that cancel the sale with this trace on this terminal.
pub async fn cancellations_of(
    db: &Db,
    merchant_id: &str,
    terminal_id: &str,
    trace_no: &str,
) -> Result<Vec<JournalRow>, DbError> {
    let sql = format!(
        "SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows WHERE merchant_id = $1 AND terminal_id = $2 AND orig_trace_no = $3"
    );
    let rows: Vec<StoredJournal> =
        db_read!(db, |c| sqlx::query_as(&sql).bind(merchant_id).bind(terminal_id).bind(trace_no).fetch_all(c).await)?;
    rows.into_iter().map(StoredJournal::into_domain).collect()
}

/// Settlement credits of `merchant_id` returning its debit with this RRN (§3.2: another
/// merchant's credit with the same `orig_rrn` returns nothing of this merchant's).
pub async fn credits_for(db: &Db, merchant_id: &str, rrn: &str) -> Result<Vec<SettlementEntry>, DbError> {
    let sql = format!(
        "SELECT {STORED_SETTLEMENT_COLUMNS} FROM settlement_entries WHERE orig_rrn = $1 AND merchant_id = $2
         ORDER BY txn_time, id"
    );
    let rows: Vec<StoredSettlement> =
        db_read!(db, |c| sqlx::query_as(&sql).bind(rrn).bind(merchant_id).fetch_all(c).await)?;
    rows.into_iter().map(StoredSettlement::into_domain).collect()
}

pub async fn count(db: &Db) -> Result<i64, DbError> {
    let (n,): (i64,) = db_read!(db, |c| sqlx::query_as("SELECT COUNT(*) FROM cases").fetch_one(c).await)?;
    Ok(n)
}

/// Links a case filed without an account to the customer who proved the address.
pub async fn confirm_contact(tx: &mut Tx, case_id: i64, user_id: i64) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query(
        "UPDATE cases SET customer_user_id = $1, email_confirmed_at = COALESCE(email_confirmed_at, $2) WHERE id = $3"
    )
    .bind(user_id)
    .bind(now_unix())
    .bind(case_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The sale with this RRN on this merchant's terminal (the journal row behind a matched debit),
/// for the e-receipt.
pub async fn journal_sale(
    db: &Db,
    merchant_id: &str,
    terminal_id: &str,
    rrn: &str,
) -> Result<Option<JournalRow>, DbError> {
    let sql = format!(
        "SELECT {STORED_JOURNAL_COLUMNS} FROM journal_rows
         WHERE rrn = $1 AND merchant_id = $2 AND terminal_id = $3 AND txn_type = 'sale' ORDER BY id LIMIT 1"
    );
    let row: Option<StoredJournal> =
        db_read!(db, |c| sqlx::query_as(&sql).bind(rrn).bind(merchant_id).bind(terminal_id).fetch_optional(c).await)?;
    row.map(StoredJournal::into_domain).transpose()
}

/// Open cases whose finding rested on records that were missing, in `states`.
pub async fn awaiting_records(db: &Db) -> Result<Vec<CaseRow>, DbError> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases
         WHERE state IN ('awaiting_customer', 'awaiting_merchant', 'under_review')
           AND finding IN ('no_debit_found', 'journal_missing')
         ORDER BY id"
    );
    typed(db_read!(db, |c| sqlx::query_as(&sql).fetch_all(c).await)?)
}

/// Cases waiting for a refund or reversal to arrive.
pub async fn pending_remedies(db: &Db) -> Result<Vec<CaseRow>, DbError> {
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE state IN ('refund_pending', 'reversal_pending') AND remedy_rrn IS NOT NULL ORDER BY id"
    );
    typed(db_read!(db, |c| sqlx::query_as(&sql).fetch_all(c).await)?)
}

/// Keys are sent this many at a time: well below either engine's limit on parameters.
const KEYS_PER_STATEMENT: usize = 200;

/// The cases waiting for records that new settlement debits with these (last 4, amount) may
/// match: the same cases as [`awaiting_records`], found through `cases_by_card_due`.
pub async fn awaiting_debits(db: &Db, debits: &[(String, i64)]) -> Result<Vec<CaseRow>, DbError> {
    let mut found = Vec::new();
    for chunk in debits.chunks(KEYS_PER_STATEMENT) {
        let mut q = Sql::default();
        let keys: Vec<String> = chunk
            .iter()
            .map(|(last4, minor)| format!("(card_last4 = {} AND amount_minor = {})", q.text(last4), q.int(*minor)))
            .collect();
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases
             WHERE ({}) AND state IN ('awaiting_customer', 'awaiting_merchant', 'under_review')
               AND finding IN ('no_debit_found', 'journal_missing')",
            keys.join(" OR ")
        );
        let rows: Vec<StoredCase> = fetch_assembled!(db, &sql, &q.args)?;
        found.extend(typed(rows)?);
    }
    Ok(found)
}

/// The cases waiting for a journal row whose matched debits new journal rows join (§3.2: by
/// RRN, else by terminal and trace), found through the debits' indexes and `case_matches`.
pub async fn awaiting_journal(db: &Db, rrns: &[String], traces: &[(String, String)]) -> Result<Vec<CaseRow>, DbError> {
    let mut found = Vec::new();
    let rrn_chunks = rrns.chunks(KEYS_PER_STATEMENT).map(|c| (c, &[][..]));
    let trace_chunks = traces.chunks(KEYS_PER_STATEMENT).map(|c| (&[][..], c));
    for (rrns, traces) in rrn_chunks.chain(trace_chunks) {
        let mut q = Sql::default();
        if !rrns.is_empty() {
            q.one_of("s.rrn", rrns);
        }
        let keys: Vec<String> = traces
            .iter()
            .map(|(terminal, trace)| {
                format!("(s.terminal_id = {} AND s.trace_no = {})", q.text(terminal), q.text(trace))
            })
            .collect();
        if !keys.is_empty() {
            q.conditions.push(format!("({})", keys.join(" OR ")));
        }
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases
             WHERE id IN (SELECT m.case_id FROM settlement_entries s JOIN case_matches m ON m.settlement_id = s.id{})
               AND state IN ('awaiting_customer', 'awaiting_merchant', 'under_review') AND finding = 'journal_missing'",
            q.where_clause()
        );
        let rows: Vec<StoredCase> = fetch_assembled!(db, &sql, &q.args)?;
        found.extend(typed(rows)?);
    }
    Ok(found)
}

/// The pending refunds and reversals on debits these RRNs name: the same cases as
/// [`pending_remedies`], found through `cases_by_remedy_rrn`.
pub async fn pending_remedies_on(db: &Db, rrns: &[String]) -> Result<Vec<CaseRow>, DbError> {
    let mut found = Vec::new();
    for chunk in rrns.chunks(KEYS_PER_STATEMENT) {
        let mut q = Sql::default();
        q.one_of("remedy_rrn", chunk);
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases{} AND state IN ('refund_pending', 'reversal_pending')",
            q.where_clause()
        );
        let rows: Vec<StoredCase> = fetch_assembled!(db, &sql, &q.args)?;
        found.extend(typed(rows)?);
    }
    Ok(found)
}

/// Moves a case to `state` if it is still at `expected_version`; false when someone else
/// changed it first (the caller tells the person the case changed). The customer's acceptance
/// and the remedy's execution belong to the state they were given in, so they are cleared.
pub async fn set_state(
    tx: &mut Tx,
    case_id: i64,
    expected_version: i64,
    state: CaseState,
    deadline_at: Option<i64>,
) -> Result<bool, DbError> {
    let now = now_unix();
    let changed = db_tx!(tx, |c| {
        sqlx::query(
        "UPDATE cases SET state = $1, deadline_at = $2, state_entered_at = $3, updated_at = $3, version = version + 1,
                          outcome_accepted_at = NULL, remedy_executed_at = NULL, deadline_missed_at = NULL
         WHERE id = $4 AND version = $5"
    )
    .bind(state.as_str())
    .bind(deadline_at)
    .bind(now)
    .bind(case_id)
    .bind(expected_version)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if changed == 1 && matches!(state, CaseState::Withdrawn | CaseState::Closed) {
        // §6: a withdrawn or closed case no longer holds its debits; a new claim may.
        release_debits(tx, case_id).await?;
    }
    if changed == 1 && state == CaseState::Resolved {
        // §10: the remedy that settles the case resolves the exceptions linked to it.
        super::exceptions::resolve_by_case(tx, case_id).await?;
    }
    Ok(changed == 1)
}

pub async fn get_in_tx(tx: &mut Tx, id: i64) -> Result<Option<CaseRow>, DbError> {
    let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1");
    let row: Option<StoredCase> = db_tx!(tx, |c| sqlx::query_as(&sql).bind(id).fetch_optional(c).await)?;
    row.map(CaseRow::try_from).transpose()
}

/// Email and language of the active staff of a merchant.
pub async fn merchant_staff_emails(tx: &mut Tx, merchant_id: &str) -> Result<Vec<(String, Option<String>)>, DbError> {
    Ok(db_tx!(tx, |c| sqlx::query_as(
        "SELECT u.email, u.lang FROM users u JOIN user_merchants m ON m.user_id = u.id
         WHERE m.merchant_id = $1 AND u.disabled_at IS NULL ORDER BY u.id"
    )
    .bind(merchant_id)
    .fetch_all(c)
    .await)?)
}

/// Email and language of the active agents (the disputes desk).
pub async fn agent_emails(tx: &mut Tx) -> Result<Vec<(String, Option<String>)>, DbError> {
    Ok(db_tx!(tx, |c| sqlx::query_as(
        "SELECT email, lang FROM users WHERE role = 'agent' AND disabled_at IS NULL ORDER BY id"
    )
    .fetch_all(c)
    .await)?)
}

// ---- what people do to a case ----

/// Bumps the version of a case that stays in its state, if it is still at `expected_version`;
/// false when someone else changed it first.
pub async fn touch(tx: &mut Tx, case_id: i64, expected_version: i64) -> Result<bool, DbError> {
    let changed = db_tx!(tx, |c| sqlx::query(
        "UPDATE cases SET updated_at = $1, version = version + 1 WHERE id = $2 AND version = $3"
    )
    .bind(now_unix())
    .bind(case_id)
    .bind(expected_version)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

/// Records that the refund/reversal was executed, with the terminal's reference of it.
pub async fn mark_executed(
    tx: &mut Tx,
    case_id: i64,
    batch_no: &str,
    trace_no: &str,
    rrn: Option<&str>,
) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query(
        "UPDATE cases SET remedy_executed_at = $1, executed_batch_no = $2, executed_trace_no = $3, executed_rrn = $4
         WHERE id = $5"
    )
    .bind(now_unix())
    .bind(batch_no)
    .bind(trace_no)
    .bind(rrn)
    .bind(case_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn mark_accepted(tx: &mut Tx, case_id: i64) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("UPDATE cases SET outcome_accepted_at = $1 WHERE id = $2")
        .bind(now_unix())
        .bind(case_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Sets what is to be paid back and for which debit (a desk approval).
pub async fn set_remedy(
    tx: &mut Tx,
    case_id: i64,
    kind: &str,
    minor: Option<i64>,
    rrn: Option<&str>,
) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("UPDATE cases SET remedy_kind = $1, remedy_minor = $2, remedy_rrn = $3 WHERE id = $4")
        .bind(kind)
        .bind(minor)
        .bind(rrn)
        .bind(case_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The merchant's word on what the terminal should have charged, and the refund it makes.
pub async fn set_stated_amount(tx: &mut Tx, case_id: i64, stated: i64, remedy_minor: i64) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("UPDATE cases SET merchant_stated_minor = $1, remedy_minor = $2 WHERE id = $3")
        .bind(stated)
        .bind(remedy_minor)
        .bind(case_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn set_assignee(tx: &mut Tx, case_id: i64, user_id: Option<i64>) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("UPDATE cases SET assigned_to = $1 WHERE id = $2")
        .bind(user_id)
        .bind(case_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The claim's fields as the customer corrected them (adding information).
pub struct ClaimUpdate<'a> {
    pub card_last4: &'a str,
    pub card_first6: Option<&'a str>,
    pub amount_minor: i64,
    pub expected_minor: Option<i64>,
    pub occurred_at: &'a str,
    pub merchant_id: Option<&'a str>,
    pub terminal_id: Option<&'a str>,
    pub merchant_name: Option<&'a str>,
    pub description: Option<&'a str>,
}

pub async fn update_claim(tx: &mut Tx, case_id: i64, u: &ClaimUpdate<'_>) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query(
        "UPDATE cases SET card_last4 = $1, card_first6 = $2, amount_minor = $3, expected_minor = $4, occurred_at = $5,
                          merchant_id = $6, terminal_id = $7, merchant_name = $8, description = $9
         WHERE id = $10"
    )
    .bind(u.card_last4)
    .bind(u.card_first6)
    .bind(u.amount_minor)
    .bind(u.expected_minor)
    .bind(u.occurred_at)
    .bind(u.merchant_id)
    .bind(u.terminal_id)
    .bind(u.merchant_name)
    .bind(u.description)
    .bind(case_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Marks an event as a decision that departs from the finding on purpose.
pub async fn flag_override(tx: &mut Tx, event_id: i64) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("UPDATE case_events SET overrides_finding = TRUE WHERE id = $1")
        .bind(event_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The settlement row ids of the debits a finding rests on, in order.
pub async fn matched_ids(db: &Db, case_id: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> = db_read!(db, |c| sqlx::query_as(
        "SELECT settlement_id FROM case_matches WHERE case_id = $1 ORDER BY position"
    )
    .bind(case_id)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// An event as the audit log shows it: who by account, and whether it overrode the finding.
#[derive(Clone, Debug, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub actor_email: Option<String>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub note: Option<String>,
    pub overrides_finding: bool,
}

pub async fn audit(db: &Db, case_id: i64) -> Result<Vec<AuditRow>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT e.id, e.at, e.actor, u.email AS actor_email, e.action, e.from_state, e.to_state, e.note,
                e.overrides_finding
         FROM case_events e LEFT JOIN users u ON u.id = e.actor_user_id
         WHERE e.case_id = $1 ORDER BY e.id"
    )
    .bind(case_id)
    .fetch_all(c)
    .await)?)
}

/// Active agents and admins, who can own a case on the desk: (id, email).
pub async fn desk_users(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT id, email FROM users WHERE role IN ('agent', 'admin') AND disabled_at IS NULL ORDER BY email"
    )
    .fetch_all(c)
    .await)?)
}

/// The RRN of the first debit a finding rests on.
pub async fn first_matched_rrn(tx: &mut Tx, case_id: i64) -> Result<Option<String>, DbError> {
    let row: Option<(String,)> = db_tx!(tx, |c| sqlx::query_as(
        "SELECT s.rrn FROM case_matches m JOIN settlement_entries s ON s.id = m.settlement_id
         WHERE m.case_id = $1 ORDER BY m.position LIMIT 1"
    )
    .bind(case_id)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|(rrn,)| rrn))
}

// ---- the clock: deadlines and quiet cases ----

/// The states whose deadline, once passed, sends the case to the desk.
const WITH_DEADLINE: &str = "'awaiting_merchant', 'under_review', 'refund_pending', 'reversal_pending'";
/// The states a case closes from after a quiet period.
const CLOSABLE: &str = "'resolved', 'rejected', 'withdrawn'";

/// Leases up to `limit` cases of each kind the clock must act on — a deadline passed and not yet reported,
/// or quiet since before `quiet_before` — until `lease_until`.
///
/// As with the outbox, one statement both picks and leases: on PostgreSQL `FOR UPDATE SKIP
/// LOCKED` lets concurrent sweepers of several servers pass over each other's cases; on SQLite
/// the single write lock makes the statement atomic across processes. A sweeper that dies lets
/// its lease run out, and the case is due again. Each half reads its own partial index
/// (migration 0016: `cases_due_unreported`, `cases_closable`), so a sweep with nothing due reads
/// nothing, however many cases wait; `ORDER BY id` would make the engines walk the whole table.
pub async fn lease_due(
    db: &Db,
    now: i64,
    quiet_before: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<CaseRow>, DbError> {
    let pick = |lock: &str| {
        format!(
            "UPDATE cases SET sweep_lease_until = $1
             WHERE id IN (SELECT id FROM (SELECT id FROM cases
                                          WHERE state IN ({WITH_DEADLINE}) AND deadline_missed_at IS NULL
                                            AND due_key <= $2 AND (sweep_lease_until IS NULL OR sweep_lease_until < $2)
                                          LIMIT $4 {lock}) missed
                          UNION ALL
                          SELECT id FROM (SELECT id FROM cases
                                          WHERE state IN ({CLOSABLE}) AND updated_at < $3
                                            AND (sweep_lease_until IS NULL OR sweep_lease_until < $2)
                                          LIMIT $4 {lock}) quiet)
             RETURNING {CASE_COLUMNS}"
        )
    };
    let rows: Vec<StoredCase> = match db {
        Db::Sqlite(s) => {
            sqlx::query_as(&pick(""))
                .bind(lease_until)
                .bind(now)
                .bind(quiet_before)
                .bind(limit)
                .fetch_all(&s.write)
                .await?
        }
        Db::Postgres(p) => {
            sqlx::query_as(&pick("FOR UPDATE SKIP LOCKED"))
                .bind(lease_until)
                .bind(now)
                .bind(quiet_before)
                .bind(limit)
                .fetch_all(p)
                .await?
        }
    };
    let mut rows = typed(rows)?;
    rows.sort_by_key(|r| r.id);
    Ok(rows)
}

/// A deadline passed while the case stays where it is (`under_review`): records that the desk
/// was told, so the same deadline is not reported again. Versioned like a state change.
pub async fn mark_deadline_missed(tx: &mut Tx, case_id: i64, expected_version: i64, at: i64) -> Result<bool, DbError> {
    let changed = db_tx!(tx, |c| sqlx::query(
        "UPDATE cases SET deadline_missed_at = $1, updated_at = $2, version = version + 1
         WHERE id = $3 AND version = $4"
    )
    .bind(at)
    .bind(now_unix())
    .bind(case_id)
    .bind(expected_version)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}

// ---- one payment, one case (§6) ----

/// The case filed with this filing key, if any.
pub async fn by_filing_key(db: &Db, key: &str) -> Result<Option<i64>, DbError> {
    let row: Option<(i64,)> = db_read!(db, |c| sqlx::query_as("SELECT id FROM cases WHERE filing_key = $1")
        .bind(key)
        .fetch_optional(c)
        .await)?;
    Ok(row.map(|(id,)| id))
}

/// An open case on a debit, and whose it is.
#[derive(Clone, Debug, FromRow)]
pub struct OpenCase {
    pub case_id: i64,
    pub customer_user_id: Option<i64>,
    pub contact_email_norm: String,
}

/// The cases that are not withdrawn or closed and whose finding rests on any of these debits:
/// the one holding it and any filed after it for the desk.
pub async fn open_cases_on(db: &Db, settlement_ids: &[i64]) -> Result<Vec<OpenCase>, DbError> {
    if settlement_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (1..=settlement_ids.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT DISTINCT c.id AS case_id, c.customer_user_id, c.contact_email_norm
         FROM case_matches m JOIN cases c ON c.id = m.case_id
         WHERE m.settlement_id IN ({list}) AND c.state NOT IN ('withdrawn', 'closed') ORDER BY c.id"
    );
    db_read!(db, |c| {
        let mut q = sqlx::query_as(&sql);
        for id in settlement_ids {
            q = q.bind(id);
        }
        q.fetch_all(c).await
    })
    .map_err(DbError::from)
}

/// Makes `case_id` the holder of these debits where no other open case holds them; returns the
/// other cases that do. The primary key on `debit_holders` decides a race between two filings.
pub async fn hold_debits(tx: &mut Tx, case_id: i64, settlement_ids: &[i64]) -> Result<Vec<i64>, DbError> {
    let mut elsewhere = Vec::new();
    for id in settlement_ids {
        let taken = db_tx!(tx, |c| {
            sqlx::query(
            "INSERT INTO debit_holders (settlement_id, case_id) VALUES ($1, $2) ON CONFLICT (settlement_id) DO NOTHING"
        )
        .bind(id)
        .bind(case_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })? == 0;
        if taken {
            let (holder,): (i64,) =
                db_tx!(tx, |c| sqlx::query_as("SELECT case_id FROM debit_holders WHERE settlement_id = $1")
                    .bind(id)
                    .fetch_one(c)
                    .await)?;
            if holder != case_id && !elsewhere.contains(&holder) {
                elsewhere.push(holder);
            }
        } else {
            // §10: a problem already found on this debit is now known to the case.
            super::exceptions::link_to_case(tx, case_id, &[*id]).await?;
        }
    }
    Ok(elsewhere)
}

/// The case holds no debit any more (withdrawn, closed, or about to be matched again).
pub async fn release_debits(tx: &mut Tx, case_id: i64) -> Result<(), DbError> {
    db_tx!(tx, |c| sqlx::query("DELETE FROM debit_holders WHERE case_id = $1")
        .bind(case_id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The cases linked to this one because they claim the same payment (§6), for the desk.
pub async fn related_cases(db: &Db, case_id: i64) -> Result<Vec<i64>, DbError> {
    let rows: Vec<(i64,)> = db_read!(db, |c| sqlx::query_as(
        "SELECT id FROM cases WHERE related_case_id = $1
         UNION SELECT related_case_id FROM cases WHERE id = $1 AND related_case_id IS NOT NULL
         ORDER BY 1"
    )
    .bind(case_id)
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Another case of this merchant already recorded this execution (batch and trace, or RRN).
pub async fn execution_recorded_elsewhere(
    tx: &mut Tx,
    case_id: i64,
    merchant_id: &str,
    batch_no: &str,
    trace_no: &str,
    rrn: Option<&str>,
) -> Result<bool, DbError> {
    let (n,): (i64,) = db_tx!(tx, |c| {
        sqlx::query_as(
        "SELECT COUNT(*) FROM cases WHERE id <> $1 AND matched_merchant_id = $2
           AND ((executed_batch_no = $3 AND executed_trace_no = $4) OR (executed_rrn IS NOT NULL AND executed_rrn = $5))"
    )
    .bind(case_id)
    .bind(merchant_id)
    .bind(batch_no)
    .bind(trace_no)
    .bind(rrn)
    .fetch_one(c)
    .await
    })?;
    Ok(n > 0)
}

/// Records that this settlement credit settled the case; false when it already settled another.
pub async fn settle_with_credit(tx: &mut Tx, case_id: i64, entry_id: &str) -> Result<bool, DbError> {
    let changed = db_tx!(tx, |c| sqlx::query(
        "UPDATE cases SET settled_by_credit = $1
         WHERE id = $2 AND NOT EXISTS (SELECT 1 FROM cases other WHERE other.settled_by_credit = $1)"
    )
    .bind(entry_id)
    .bind(case_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(changed == 1)
}
