//! Findings (§5): which settlement debits a claim is about, what the records say happened, and the remedy.
//!
//! The database layer gathers candidates with the filters here (`is_candidate`, `journal_matches`,
//! `cancels`, `is_credit_for`, or all at once with `Candidate::assemble`); `decide` then applies
//! the §5 table top to bottom. Where the table is silent the decision is the careful one: no
//! money is promised automatically, the case goes to `under_review`, and `Decision::review`
//! says why so the customer is told the real reason.

use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use crate::domain::claim::{Claim, ClaimKind};
use crate::domain::codes::code_enum;
use crate::domain::money::Money;
use crate::domain::records::{Direction, JournalRow, SettlementEntry, TxnStatus, TxnType};

/// §3.2: a journal row without RRN and a settlement record are the same transaction when their
/// times are at most this far apart (inclusive).
pub const JOURNAL_MATCH_TOLERANCE: SignedDuration = SignedDuration::from_mins(10);
/// §5: neighbouring debits at most this far apart (inclusive) belong to one duplicate cluster.
pub const DUPLICATE_GAP: SignedDuration = SignedDuration::from_mins(30);

/// One settlement debit that fits the claim, with what the other records say about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub debit: SettlementEntry,
    /// The journal row for the same transaction (§3.2), if the merchant's journal has it.
    pub journal: Option<JournalRow>,
    /// Settlement credits whose `orig_rrn` is the debit's RRN.
    pub credits: Vec<SettlementEntry>,
    /// The journal sale has an approved void, refund or reversal pointing at it.
    pub cancelled: bool,
}

impl Candidate {
    /// Builds a candidate from whatever records the caller fetched around the debit (typically
    /// the journal rows of its terminal near its time, and the credits with `orig_rrn` = its RRN);
    /// rows that do not belong are ignored, so over-fetching is harmless.
    pub fn assemble(debit: SettlementEntry, journal_rows: &[JournalRow], settlement: &[SettlementEntry]) -> Candidate {
        let journal = find_journal(&debit, journal_rows).cloned();
        let credits = settlement.iter().filter(|e| is_credit_for(&debit, e)).cloned().collect();
        let cancelled = journal.as_ref().is_some_and(|sale| journal_rows.iter().any(|other| cancels(sale, other)));
        Candidate { debit, journal, credits, cancelled }
    }
}

/// §5 candidate filter: a debit on the claim's card (last4, and first6 when given) for exactly the
/// claimed amount and currency, inside the claim's window, at the claimed merchant/terminal when
/// given. Merchant and terminal ids are compared ignoring ASCII case: people copy them from slips
/// in either case, and ids differing only in case are not used by acquirers.
pub fn is_candidate(claim: &Claim, entry: &SettlementEntry, tz: &TimeZone) -> bool {
    let (from, to) = claim.window(tz);
    entry.direction == Direction::Debit
        && entry.card.last4() == claim.card_last4
        && claim.card_first6.as_deref().is_none_or(|f| entry.card.first6() == f)
        && entry.amount == claim.amount
        && from <= entry.txn_time
        && entry.txn_time <= to
        && claim.merchant_id.as_deref().is_none_or(|m| entry.merchant_id.eq_ignore_ascii_case(m))
        && claim.terminal_id.as_deref().is_none_or(|t| entry.terminal_id.eq_ignore_ascii_case(t))
}

/// §3.2: the journal row and the settlement record are the same transaction. Equal merchant and
/// terminal, and then equal RRN; or, when the journal row has no RRN (the terminal never heard
/// back), equal trace, masked card and amount with times at most `JOURNAL_MATCH_TOLERANCE` apart
/// (inclusive). An RRN is unique only per host and clearing day: joined across merchants, another
/// merchant's row could decide this merchant's customer's case.
pub fn journal_matches(entry: &SettlementEntry, row: &JournalRow) -> bool {
    if row.merchant_id != entry.merchant_id || row.terminal_id != entry.terminal_id {
        return false;
    }
    match &row.rrn {
        Some(rrn) => *rrn == entry.rrn,
        None => {
            // §3.2: files mask one card with different numbers of `*`; first 6 and last 4 decide.
            row.trace_no == entry.trace_no
                && row.card.first6() == entry.card.first6()
                && row.card.last4() == entry.card.last4()
                && row.amount == entry.amount
                && row.local_time.duration_since(entry.txn_time).abs() <= JOURNAL_MATCH_TOLERANCE
        }
    }
}

/// Picks the debit's journal row among `rows`: an RRN match first (a sale preferred, should a
/// journal hold more than one row with that RRN), else the no-RRN match closest in time.
pub fn find_journal<'a>(entry: &SettlementEntry, rows: &'a [JournalRow]) -> Option<&'a JournalRow> {
    let by_rrn = rows.iter().filter(|r| r.rrn.is_some() && journal_matches(entry, r));
    if let Some(row) = by_rrn.clone().find(|r| r.txn_type == TxnType::Sale).or_else(|| by_rrn.clone().next()) {
        return Some(row);
    }
    rows.iter()
        .filter(|r| r.rrn.is_none() && journal_matches(entry, r))
        .min_by_key(|r| r.local_time.duration_since(entry.txn_time).abs())
}

/// §5: `other` cancels `sale` when it is an approved void, refund or reversal on the same terminal
/// whose `orig_trace_no` is the sale's trace and whose `orig_batch_no` (default: its own batch) is
/// the sale's batch.
pub fn cancels(sale: &JournalRow, other: &JournalRow) -> bool {
    sale.txn_type == TxnType::Sale
        && matches!(other.txn_type, TxnType::Void | TxnType::Refund | TxnType::Reversal)
        && other.status == TxnStatus::Approved
        && other.merchant_id == sale.merchant_id
        && other.terminal_id == sale.terminal_id
        && other.orig_trace_no.as_deref() == Some(sale.trace_no.as_str())
        && other.orig_batch_no.as_deref().unwrap_or(&other.batch_no) == sale.batch_no
}

/// §5: `entry` is a settlement credit returning money for `debit`: its `orig_rrn` is the debit's
/// RRN and it is the same merchant's (§3.2: an RRN alone never joins records). A credit in
/// another currency is not counted: it cannot be netted against the debit.
pub fn is_credit_for(debit: &SettlementEntry, entry: &SettlementEntry) -> bool {
    entry.direction == Direction::Credit
        && entry.merchant_id == debit.merchant_id
        && entry.orig_rrn.as_deref() == Some(debit.rrn.as_str())
        && entry.amount.currency == debit.amount.currency
}

code_enum! {
    /// The finding codes of §5, nothing else.
    pub enum Finding {
        NoDebitFound = "no_debit_found",
        Ambiguous = "ambiguous",
        AlreadyReversed = "already_reversed",
        JournalMissing = "journal_missing",
        ReversalDue = "reversal_due",
        ValidSaleNoReceipt = "valid_sale_no_receipt",
        AlreadyRefunded = "already_refunded",
        DuplicateAfterTimeout = "duplicate_after_timeout",
        DuplicateConfirmed = "duplicate_confirmed",
        SingleDebit = "single_debit",
        AmountKeyedWrong = "amount_keyed_wrong",
        AmountDiscrepancy = "amount_discrepancy",
        RefundSettled = "refund_settled",
        RefundNotSettled = "refund_not_settled",
        NoRefundRecorded = "no_refund_recorded",
    }
}

code_enum! {
    pub enum RemedyKind {
        Refund = "refund",
        Reversal = "reversal",
        Receipt = "receipt",
        None = "none",
    }
}

/// What should happen to the cardholder's money.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remedy {
    pub kind: RemedyKind,
    /// The sum to pay back: set for `refund` and `reversal`, `None` otherwise.
    pub amount: Option<Money>,
    /// The debit the remedy concerns (the one to pay back, or whose e-receipt to show).
    pub debit_rrn: Option<String>,
    /// The remedy waits for the merchant to confirm (`amount_keyed_wrong`, `no_refund_recorded`).
    pub needs_merchant_confirmation: bool,
}

impl Remedy {
    pub fn none() -> Remedy {
        Remedy { kind: RemedyKind::None, amount: None, debit_rrn: None, needs_merchant_confirmation: false }
    }

    fn pay_back(kind: RemedyKind, amount: Money, debit: &SettlementEntry) -> Remedy {
        Remedy {
            kind,
            amount: Some(amount),
            debit_rrn: Some(debit.rrn.to_string()),
            needs_merchant_confirmation: false,
        }
    }

    fn receipt(debit: &SettlementEntry) -> Remedy {
        Remedy {
            kind: RemedyKind::Receipt,
            amount: None,
            debit_rrn: Some(debit.rrn.to_string()),
            needs_merchant_confirmation: false,
        }
    }

    fn once_merchant_confirms(mut self) -> Remedy {
        self.needs_merchant_confirmation = true;
        self
    }
}

code_enum! {
    /// The case state a finding sends a new case to. The full state machine lives elsewhere; this is
    /// only the subset the §5 table can produce.
    pub enum NextState {
        AwaitingCustomer = "awaiting_customer",
        AwaitingMerchant = "awaiting_merchant",
        UnderReview = "under_review",
        RefundPending = "refund_pending",
        ReversalPending = "reversal_pending",
        Resolved = "resolved",
    }
}

code_enum! {
    /// Why a decision stops at `under_review` with no remedy where the table's row would have
    /// promised one (or where the table itself says so without a finding of its own). Each reason
    /// has its own explanation text (`review.<code>.explain`) so the customer hears the real reason.
    pub enum ReviewReason {
        /// Some money already came back, but not all that the finding says is owed.
        PartlyCredited = "partly_credited",
        /// The record joined to the debit is a void/refund/reversal, not a sale: the records disagree.
        JournalNotASale = "journal_not_a_sale",
        /// A duplicate set of three or more debits: more than one may have to be paid back, and a
        /// remedy names one debit.
        ThreeOrMoreDebits = "three_or_more_debits",
        /// Every debit of a duplicate set failed at the terminal; perhaps none should stand.
        AllAttemptsFailed = "all_attempts_failed",
        /// `wrong_amount`, but the terminal recorded the sale as declined / unanswered.
        SaleNotApproved = "sale_not_approved",
        /// `wrong_amount`, but the journal's currency differs from the settled one.
        CurrencyDiffers = "currency_differs",
        /// `wrong_amount` without a usable expected amount (only possible for a hand-built `Claim`).
        ExpectedAmountUnusable = "expected_amount_unusable",
        /// §5: journal amount above the settled amount (`amount_discrepancy`, remedy none).
        JournalAboveSettled = "journal_above_settled",
        /// §6: another customer's open case already holds the debit; the desk decides both.
        ClaimedElsewhere = "claimed_elsewhere",
    }
}

/// Points at one credit: `candidates[candidate].credits[credit]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CreditRef {
    pub candidate: usize,
    pub credit: usize,
}

/// The outcome of matching a claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub finding: Finding,
    pub remedy: Remedy,
    pub next_state: NextState,
    /// Indexes into the candidates the finding rests on, in time order (§9 `matched`): the
    /// duplicate set for `duplicate_charge`, every candidate for `ambiguous`, none for
    /// `single_debit` and `no_debit_found`, else the one debit.
    pub matched: Vec<usize>,
    /// The credit the explanation names (already reversed/refunded, refund settled, partly credited).
    pub credit: Option<CreditRef>,
    /// Set when the case stops at `under_review` for a reason the finding's own text does not tell.
    pub review: Option<ReviewReason>,
    facts: Vec<(&'static str, String)>,
}

impl Decision {
    /// §6 one payment, one case: the debit is already another customer's open case. The
    /// finding stands (the desk reads it), but nothing is paid back by itself: both cases go
    /// to the desk, which decides who the payment was.
    pub fn held_elsewhere(self) -> Decision {
        Decision { next_state: NextState::UnderReview, review: Some(ReviewReason::ClaimedElsewhere), ..self }
    }

    /// Catalog key of the short title: `finding.<code>.title`.
    pub fn title_key(&self) -> String {
        format!("finding.{}.title", self.finding.as_str())
    }

    /// Catalog key of the customer explanation: `review.<reason>.explain` when the case stops
    /// for review, else `finding.<code>.explain`.
    pub fn explanation_key(&self) -> String {
        match self.review {
            Some(r) => format!("review.{}.explain", r.as_str()),
            None => format!("finding.{}.explain", self.finding.as_str()),
        }
    }

    /// The facts an explanation may name, as catalog placeholders. Captured when deciding, so the
    /// explanation still says the same thing after records change. Always present: `card_last4`,
    /// `claim_amount`, `candidate_count`, `debit_count`, `rrns`; `expected_amount` when claimed.
    /// With a principal debit (every finding that matches one): `debit_time`, `debit_amount`,
    /// `merchant_id`, `terminal_id`, `trace_no`, `rrn`, `settled_on`, and with its journal row
    /// `journal_time`, `journal_amount`. Duplicates add the other debit: `other_time`,
    /// `other_rrn`, `other_trace_no`. A named credit adds `credit_date`, `credit_time`,
    /// `credit_rrn`, `credit_amount`, `credited_total`; a remedy with a sum adds `remedy_amount`.
    /// Times are `YYYY-MM-DD HH:MM:SS` in the record's own offset (the terminal's local time);
    /// amounts are `<major units> <ISO code>`, e.g. `128.50 CNY`.
    pub fn explanation_args(&self) -> Vec<(&'static str, String)> {
        self.facts.clone()
    }
}

/// The placeholder for the shop a principal debit was paid at (its merchant's name and the
/// terminal's location). Not captured with the facts: it is looked up from `merchant_id` and
/// `terminal_id` when the explanation is shown, so a merchant registered later is named too.
pub const SHOP_FACT: &str = "shop";

/// What a decision rule produces before the facts are collected.
struct Outcome {
    finding: Finding,
    remedy: Remedy,
    next_state: NextState,
    matched: Vec<usize>,
    /// The debit the explanation is mainly about (the remedy's debit, if any).
    primary: Option<usize>,
    /// For duplicates: the debit that stands.
    other: Option<usize>,
    credit: Option<CreditRef>,
    review: Option<ReviewReason>,
}

impl Outcome {
    fn new(finding: Finding, remedy: Remedy, next_state: NextState, matched: Vec<usize>) -> Self {
        Outcome { finding, remedy, next_state, matched, primary: None, other: None, credit: None, review: None }
    }

    fn about(mut self, primary: usize) -> Self {
        self.primary = Some(primary);
        self
    }

    fn review(mut self, reason: ReviewReason) -> Self {
        self.remedy = Remedy::none();
        self.next_state = NextState::UnderReview;
        self.review = Some(reason);
        self
    }
}

/// How much of what is owed on one debit came back already.
enum Credited {
    Nothing,
    /// Some credit, less than owed; names the first credit.
    Partly(CreditRef),
    /// Credits add up to at least what is owed; names the credit that completed it.
    Fully(CreditRef),
}

fn credited(candidates: &[Candidate], i: usize, owed: i64) -> Credited {
    let c = &candidates[i];
    let mut order: Vec<usize> = (0..c.credits.len()).filter(|&k| is_credit_for(&c.debit, &c.credits[k])).collect();
    order.sort_by_key(|&k| (c.credits[k].txn_time, c.credits[k].rrn.clone()));
    let mut total: i64 = 0;
    for &k in &order {
        total = total.saturating_add(c.credits[k].amount.minor);
        if total >= owed {
            return Credited::Fully(CreditRef { candidate: i, credit: k });
        }
    }
    match order.first() {
        Some(&k) => Credited::Partly(CreditRef { candidate: i, credit: k }),
        None => Credited::Nothing,
    }
}

fn credited_total(c: &Candidate) -> i64 {
    c.credits.iter().filter(|e| is_credit_for(&c.debit, e)).fold(0i64, |sum, e| sum.saturating_add(e.amount.minor))
}

fn failed_looking(c: &Candidate) -> bool {
    c.journal.as_ref().is_some_and(|j| matches!(j.status, TxnStatus::NoResponse | TxnStatus::Declined))
}

fn approved_sale(c: &Candidate) -> bool {
    c.journal.as_ref().is_some_and(|j| j.txn_type == TxnType::Sale && j.status == TxnStatus::Approved)
}

fn time_order(candidates: &[Candidate], mut indexes: Vec<usize>) -> Vec<usize> {
    indexes.sort_by(|&a, &b| {
        let (a, b) = (&candidates[a].debit, &candidates[b].debit);
        (a.txn_time, &a.rrn).cmp(&(b.txn_time, &b.rrn))
    });
    indexes
}

/// Decides a claim against its candidates (already filtered with `is_candidate`), following the
/// §5 table top to bottom within the claim's kind.
///
/// Where the table is silent (each marked "Gap:" at its code):
/// - credits that cover less than is owed → the row's finding, `under_review`, `partly_credited`;
/// - a journal row joined to the debit that is not a sale → `journal_missing`, `under_review`;
/// - `no_receipt`: approved sale cancelled in the journal, not credited → `refund_not_settled`;
/// - `duplicate_charge`: the set is resolved (`already_refunded`) when at most one of its debits
///   is not fully credited, whichever one was credited; any debit without journal row →
///   `journal_missing`, `awaiting_merchant`; 3+ debits → `under_review`; every attempt failed →
///   `duplicate_after_timeout`, `under_review`;
/// - `wrong_amount`: declined/unanswered sale or journal in another currency → `under_review`;
///   credits covering the sum owed → `already_refunded`, `resolved`;
/// - `refund_not_received` without journal row → `journal_missing`, `awaiting_merchant`.
pub fn decide(claim: &Claim, candidates: &[Candidate]) -> Decision {
    let outcome = if candidates.is_empty() {
        Outcome::new(Finding::NoDebitFound, Remedy::none(), NextState::AwaitingCustomer, Vec::new())
    } else if claim.kind == ClaimKind::DuplicateCharge {
        decide_duplicate(candidates)
    } else if candidates.len() > 1 {
        ambiguous(candidates)
    } else {
        match claim.kind {
            ClaimKind::NoReceipt => decide_no_receipt(candidates),
            ClaimKind::WrongAmount => decide_wrong_amount(claim, candidates),
            ClaimKind::RefundNotReceived => decide_refund_not_received(candidates),
            ClaimKind::DuplicateCharge => unreachable!("handled above"),
        }
    };
    finish(outcome, claim, candidates)
}

fn ambiguous(candidates: &[Candidate]) -> Outcome {
    Outcome::new(
        Finding::Ambiguous,
        Remedy::none(),
        NextState::UnderReview,
        time_order(candidates, (0..candidates.len()).collect()),
    )
}

/// Applies a partial credit to an outcome computed as if no credit existed. Gap: the customer got
/// some money back but not what is owed (a partial refund, a credit for the wrong sum), so
/// nothing is paid automatically; the review text names the credit and the total returned.
fn with_partial_credit(outcome: Outcome, credit: CreditRef) -> Outcome {
    with_credit(outcome.review(ReviewReason::PartlyCredited), credit)
}

/// An outcome about the single candidate (index 0) of a non-duplicate claim.
fn single(finding: Finding, remedy: Remedy, next_state: NextState) -> Outcome {
    Outcome::new(finding, remedy, next_state, vec![0]).about(0)
}

fn with_credit(mut outcome: Outcome, credit: CreditRef) -> Outcome {
    outcome.credit = Some(credit);
    outcome
}

/// The rows every single-debit kind shares about the journal: none at all (`journal_missing`, ask
/// the merchant), or one that is not a sale (gap: the records contradict each other).
fn journal_problem(c: &Candidate) -> Option<Outcome> {
    match &c.journal {
        None => Some(single(Finding::JournalMissing, Remedy::none(), NextState::AwaitingMerchant)),
        Some(j) if j.txn_type != TxnType::Sale => Some(
            single(Finding::JournalMissing, Remedy::none(), NextState::UnderReview)
                .review(ReviewReason::JournalNotASale),
        ),
        Some(_) => None,
    }
}

fn decide_no_receipt(candidates: &[Candidate]) -> Outcome {
    let c = &candidates[0];
    match credited(candidates, 0, c.debit.amount.minor) {
        Credited::Fully(credit) => {
            with_credit(single(Finding::AlreadyReversed, Remedy::none(), NextState::Resolved), credit)
        }
        Credited::Partly(credit) => with_partial_credit(no_receipt_uncredited(c), credit),
        Credited::Nothing => no_receipt_uncredited(c),
    }
}

fn no_receipt_uncredited(c: &Candidate) -> Outcome {
    if let Some(o) = journal_problem(c) {
        return o;
    }
    if failed_looking(c) {
        return single(
            Finding::ReversalDue,
            Remedy::pay_back(RemedyKind::Reversal, c.debit.amount, &c.debit),
            NextState::ReversalPending,
        );
    }
    if c.cancelled {
        // Gap: the sale was voided/refunded/reversed at the terminal but the debit is not
        // credited back. The "approved sale" row would close the case with a receipt, leaving the
        // customer charged for a cancelled sale; `refund_not_settled` says exactly what is seen.
        return single(Finding::RefundNotSettled, Remedy::none(), NextState::UnderReview);
    }
    single(Finding::ValidSaleNoReceipt, Remedy::receipt(&c.debit), NextState::Resolved)
}

fn decide_refund_not_received(candidates: &[Candidate]) -> Outcome {
    let c = &candidates[0];
    match credited(candidates, 0, c.debit.amount.minor) {
        Credited::Fully(credit) => {
            with_credit(single(Finding::RefundSettled, Remedy::none(), NextState::Resolved), credit)
        }
        Credited::Partly(credit) => with_partial_credit(refund_uncredited(c), credit),
        Credited::Nothing => refund_uncredited(c),
    }
}

fn refund_uncredited(c: &Candidate) -> Outcome {
    // Gap: with no journal row nobody can tell whether the merchant recorded a refund, so the
    // merchant is asked for the journal (`journal_missing`) rather than for money; the case is
    // matched again when the journal arrives.
    if let Some(o) = journal_problem(c) {
        return o;
    }
    if c.cancelled {
        single(Finding::RefundNotSettled, Remedy::none(), NextState::UnderReview)
    } else {
        single(
            Finding::NoRefundRecorded,
            Remedy::pay_back(RemedyKind::Refund, c.debit.amount, &c.debit).once_merchant_confirms(),
            NextState::AwaitingMerchant,
        )
    }
}

fn decide_wrong_amount(claim: &Claim, candidates: &[Candidate]) -> Outcome {
    let c = &candidates[0];
    if let Some(o) = journal_problem(c) {
        return o;
    }
    let j = c.journal.as_ref().expect("journal_problem covers a missing journal");
    let settled = c.debit.amount;
    let table = if j.amount.currency != settled.currency {
        // Gap: amounts in different currencies cannot be compared (e.g. a conversion at the
        // terminal); an agent looks.
        single(Finding::AmountDiscrepancy, Remedy::none(), NextState::UnderReview).review(ReviewReason::CurrencyDiffers)
    } else if j.amount.minor == settled.minor {
        // The terminal charged what was keyed in: the keyed amount was wrong. The refund is the
        // claimed overcharge, paid once the merchant confirms what the price really was.
        let owed = claim
            .expected_amount
            .filter(|e| e.currency == settled.currency && 0 < e.minor && e.minor < settled.minor)
            .map(|e| Money::new(settled.minor - e.minor, settled.currency));
        match owed {
            Some(owed) => single(
                Finding::AmountKeyedWrong,
                Remedy::pay_back(RemedyKind::Refund, owed, &c.debit).once_merchant_confirms(),
                NextState::AwaitingMerchant,
            ),
            None => single(Finding::AmountKeyedWrong, Remedy::none(), NextState::UnderReview)
                .review(ReviewReason::ExpectedAmountUnusable),
        }
    } else if j.amount.minor < settled.minor {
        single(
            Finding::AmountDiscrepancy,
            Remedy::pay_back(
                RemedyKind::Refund,
                Money::new(settled.minor - j.amount.minor, settled.currency),
                &c.debit,
            ),
            NextState::RefundPending,
        )
    } else {
        single(Finding::AmountDiscrepancy, Remedy::none(), NextState::UnderReview)
            .review(ReviewReason::JournalAboveSettled)
    };
    // Gap: no row covers a declined or unanswered sale here. The customer was charged although
    // the terminal says the payment failed, so the whole debit may be due, not the difference:
    // an agent decides. Applied after the amounts so the finding still says which amounts differ.
    let table = if j.status != TxnStatus::Approved && table.review.is_none() {
        table.review(ReviewReason::SaleNotApproved)
    } else {
        table
    };
    // Gap: no credit row for wrong_amount either. Money already returned must not be paid
    // again: credits covering the sum owed (or, with no sum owed, the whole debit) resolve the
    // case as `already_refunded`; less than that goes to review.
    let target = table.remedy.amount.map_or(settled.minor, |m| m.minor);
    match credited(candidates, 0, target) {
        Credited::Nothing => table,
        Credited::Fully(credit) => {
            with_credit(single(Finding::AlreadyRefunded, Remedy::none(), NextState::Resolved), credit)
        }
        Credited::Partly(credit) => with_partial_credit(table, credit),
    }
}

/// The candidates to decide on once the desk has picked the customer's debit among an
/// `ambiguous` set: that debit alone, or for `duplicate_charge` the whole cluster it belongs to
/// (the duplicate is a property of the cluster, not of one debit). Indexes in time order.
pub fn narrow_to_pick(kind: ClaimKind, candidates: &[Candidate], picked: usize) -> Vec<usize> {
    if picked >= candidates.len() {
        return Vec::new();
    }
    if kind != ClaimKind::DuplicateCharge {
        return vec![picked];
    }
    duplicate_clusters(candidates).into_iter().find(|cluster| cluster.contains(&picked)).unwrap_or_else(|| vec![picked])
}

/// Groups candidates by card and terminal, chains neighbours at most `DUPLICATE_GAP` apart, and
/// returns the clusters (each in time order).
pub fn duplicate_clusters(candidates: &[Candidate]) -> Vec<Vec<usize>> {
    let ordered = time_order(candidates, (0..candidates.len()).collect());
    let key = |i: usize| {
        let d = &candidates[i].debit;
        (d.card.as_str(), d.merchant_id.as_str(), d.terminal_id.as_str())
    };
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for i in ordered {
        let joins = clusters.iter_mut().find(|cl| {
            let last = *cl.last().expect("clusters are never empty");
            key(last) == key(i)
                && candidates[i].debit.txn_time.duration_since(candidates[last].debit.txn_time) <= DUPLICATE_GAP
        });
        match joins {
            Some(cl) => cl.push(i),
            None => clusters.push(vec![i]),
        }
    }
    clusters
}

fn decide_duplicate(candidates: &[Candidate]) -> Outcome {
    let clusters = duplicate_clusters(candidates);
    let mut sets = clusters.into_iter().filter(|cl| cl.len() >= 2);
    let set = match (sets.next(), sets.next()) {
        (None, _) => {
            return Outcome::new(Finding::SingleDebit, Remedy::none(), NextState::UnderReview, Vec::new());
        }
        (Some(_), Some(_)) => return ambiguous(candidates),
        (Some(set), None) => set,
    };

    // The extra debits: the failed-looking ones when some (not all) failed, else all but the
    // earliest. For two debits this is exactly §5's "the failed-looking one, else the later one".
    let failed: Vec<usize> = set.iter().copied().filter(|&i| failed_looking(&candidates[i])).collect();
    let extras: Vec<usize> =
        if !failed.is_empty() && failed.len() < set.len() { failed.clone() } else { set[1..].to_vec() };
    let kept = set.iter().copied().find(|i| !extras.contains(i));

    // Row 1, generalised: the customer has paid once when at most one debit of the set is not
    // fully credited back. That covers the table's case (the extra credited) and also a merchant
    // who refunded the other debit instead, where paying again would refund twice.
    let credit_state: Vec<(usize, Credited)> =
        set.iter().map(|&i| (i, credited(candidates, i, candidates[i].debit.amount.minor))).collect();
    let uncovered: Vec<usize> =
        credit_state.iter().filter(|(_, s)| !matches!(s, Credited::Fully(_))).map(|(i, _)| *i).collect();
    let full_credit = |want_extra: bool| {
        credit_state.iter().find_map(|(i, s)| match s {
            Credited::Fully(r) if extras.contains(i) == want_extra => Some((*i, *r)),
            _ => None,
        })
    };
    if uncovered.len() <= 1 {
        let (credited_debit, credit) = full_credit(true)
            .or_else(|| full_credit(false))
            .expect("a set of two or more with at most one uncovered has a fully credited debit");
        let mut o = Outcome::new(Finding::AlreadyRefunded, Remedy::none(), NextState::Resolved, set.clone())
            .about(credited_debit);
        o.other = set.iter().copied().find(|&i| i != credited_debit);
        o.credit = Some(credit);
        return o;
    }
    let some_credit = credit_state.iter().find_map(|(_, s)| match s {
        Credited::Fully(r) | Credited::Partly(r) => Some(*r),
        Credited::Nothing => None,
    });

    let extra = extras[0];
    let base = |finding, remedy, next_state, primary: usize| {
        let mut o = Outcome::new(finding, remedy, next_state, set.clone()).about(primary);
        o.other = kept.filter(|&k| k != primary).or_else(|| set.iter().copied().find(|&i| i != primary));
        o
    };
    let any_approved = set.iter().any(|&i| approved_sale(&candidates[i]));
    let outcome = if let Some(missing) = set.iter().copied().find(|&i| candidates[i].journal.is_none()) {
        // Gap: two same-amount debits without journal rows cannot be told apart from two real
        // purchases; the merchant is asked for the journal and the claim is matched again then.
        base(Finding::JournalMissing, Remedy::none(), NextState::AwaitingMerchant, missing)
    } else if let Some(odd) =
        set.iter().copied().find(|&i| candidates[i].journal.as_ref().is_some_and(|j| j.txn_type != TxnType::Sale))
    {
        base(Finding::JournalMissing, Remedy::none(), NextState::UnderReview, odd).review(ReviewReason::JournalNotASale)
    } else if !failed.is_empty() && any_approved {
        let o = base(
            Finding::DuplicateAfterTimeout,
            Remedy::pay_back(RemedyKind::Reversal, candidates[extra].debit.amount, &candidates[extra].debit),
            NextState::ReversalPending,
            extra,
        );
        reviewed_if_three_or_more(o, set.len())
    } else if failed.is_empty() {
        let o = base(
            Finding::DuplicateConfirmed,
            Remedy::pay_back(RemedyKind::Refund, candidates[extra].debit.amount, &candidates[extra].debit),
            NextState::RefundPending,
            extra,
        );
        reviewed_if_three_or_more(o, set.len())
    } else {
        // Gap: every attempt failed at the terminal yet each was charged; whether any of them
        // should stand (did the customer leave with the goods?) is for an agent.
        base(Finding::DuplicateAfterTimeout, Remedy::none(), NextState::UnderReview, extra)
            .review(ReviewReason::AllAttemptsFailed)
    };
    match some_credit {
        Some(credit) => with_partial_credit(outcome, credit),
        None => outcome,
    }
}

/// Gap: the table speaks of pairs. With three or more debits in the set more than one may have to
/// be paid back, and a remedy names a single debit, so the finding stands but an agent decides.
fn reviewed_if_three_or_more(outcome: Outcome, debits: usize) -> Outcome {
    if debits >= 3 { outcome.review(ReviewReason::ThreeOrMoreDebits) } else { outcome }
}

/// RFC 3339 in the record's own offset: the instant stays exact, and the page or email that
/// shows it writes it in the reader's zone and language (`cases::view::explanation`).
fn time_text(t: Timestamp, offset: Offset) -> String {
    t.to_zoned(jiff::tz::TimeZone::fixed(offset)).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn finish(o: Outcome, claim: &Claim, candidates: &[Candidate]) -> Decision {
    let mut facts: Vec<(&'static str, String)> = vec![
        ("card_last4", claim.card_last4.clone()),
        ("claim_amount", claim.amount.to_string()),
        ("candidate_count", candidates.len().to_string()),
        ("debit_count", o.matched.len().to_string()),
        ("rrns", o.matched.iter().map(|&i| candidates[i].debit.rrn.as_str()).collect::<Vec<_>>().join(", ")),
    ];
    if let Some(e) = claim.expected_amount {
        facts.push(("expected_amount", e.to_string()));
    }
    if let Some(p) = o.primary {
        let c = &candidates[p];
        let d = &c.debit;
        facts.extend([
            ("debit_time", time_text(d.txn_time, d.txn_offset)),
            ("debit_amount", d.amount.to_string()),
            ("merchant_id", d.merchant_id.to_string()),
            ("terminal_id", d.terminal_id.to_string()),
            ("trace_no", d.trace_no.clone()),
            ("rrn", d.rrn.to_string()),
            ("settled_on", d.settled_on.to_string()),
        ]);
        if let Some(j) = &c.journal {
            facts.push(("journal_time", time_text(j.local_time, j.local_offset)));
            facts.push(("journal_amount", j.amount.to_string()));
        }
    }
    if let Some(k) = o.other {
        let d = &candidates[k].debit;
        facts.extend([
            ("other_time", time_text(d.txn_time, d.txn_offset)),
            ("other_rrn", d.rrn.to_string()),
            ("other_trace_no", d.trace_no.clone()),
        ]);
    }
    if let Some(r) = o.credit {
        let c = &candidates[r.candidate];
        let e = &c.credits[r.credit];
        facts.extend([
            ("credit_date", e.settled_on.to_string()),
            ("credit_time", time_text(e.txn_time, e.txn_offset)),
            ("credit_rrn", e.rrn.to_string()),
            ("credit_amount", e.amount.to_string()),
            ("credited_total", Money::new(credited_total(c), c.debit.amount.currency).to_string()),
        ]);
    }
    if let Some(m) = o.remedy.amount {
        facts.push(("remedy_amount", m.to_string()));
    }
    Decision {
        finding: o.finding,
        remedy: o.remedy,
        next_state: o.next_state,
        matched: o.matched,
        credit: o.credit,
        review: o.review,
        facts,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use jiff::civil::date;

    use super::*;
    use crate::domain::card::MaskedCard;
    use crate::domain::claim::{ClaimInput, ClaimProblem, Occurred};
    use crate::domain::ids::{MerchantId, Rrn, TerminalId};
    use crate::domain::money::Currency;

    // ------------------------------------------------------------------ builders

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::CNY)
    }

    fn jpy(minor: i64) -> Money {
        Money::new(minor, Currency::from_code("JPY").unwrap())
    }

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn plus8() -> Offset {
        jiff::tz::offset(8)
    }

    const T0: &str = "2026-11-06T05:02:50Z";

    /// A debit at terminal 55024556 of merchant 851424736185314 on card 622848******0325.
    fn debit(rrn: &str, trace: &str, time: &str) -> SettlementEntry {
        SettlementEntry {
            entry_id: format!("CLR{rrn}"),
            merchant_id: MerchantId::parse("851424736185314").unwrap(),
            terminal_id: TerminalId::parse("55024556").unwrap(),
            trace_no: trace.into(),
            rrn: Rrn::parse(rrn).unwrap(),
            card: MaskedCard::parse("622848******0325").unwrap(),
            direction: Direction::Debit,
            amount: cny(497_019),
            txn_time: at(time),
            txn_offset: plus8(),
            settled_on: date(2026, 11, 7),
            orig_rrn: None,
        }
    }

    fn credit(of: &SettlementEntry, rrn: &str, minor: i64, time: &str) -> SettlementEntry {
        SettlementEntry {
            entry_id: format!("CLR{rrn}"),
            rrn: Rrn::parse(rrn).unwrap(),
            trace_no: "000999".into(),
            direction: Direction::Credit,
            amount: Money::new(minor, of.amount.currency),
            txn_time: at(time),
            settled_on: at(time).to_zoned(TimeZone::UTC).date().tomorrow().unwrap(),
            orig_rrn: Some(of.rrn.clone()),
            ..of.clone()
        }
    }

    /// The journal sale for a debit: same ids, card and amount, two seconds before the host saw
    /// it; no RRN when the terminal got no response.
    fn sale(d: &SettlementEntry, status: TxnStatus) -> JournalRow {
        JournalRow {
            merchant_id: d.merchant_id.clone(),
            terminal_id: d.terminal_id.clone(),
            batch_no: "000881".into(),
            trace_no: d.trace_no.clone(),
            rrn: (status != TxnStatus::NoResponse).then(|| d.rrn.clone()),
            auth_code: (status == TxnStatus::Approved).then(|| "384117".into()),
            txn_type: TxnType::Sale,
            status,
            receipt_printed: status == TxnStatus::Approved,
            card: d.card.clone(),
            amount: d.amount,
            local_time: d.txn_time.checked_sub(SignedDuration::from_secs(2)).unwrap(),
            local_offset: plus8(),
            orig_trace_no: None,
            orig_batch_no: None,
            response_code: None,
            terminal_event: None,
        }
    }

    fn cancel_row(kind: TxnType, of: &JournalRow, trace: &str) -> JournalRow {
        JournalRow {
            trace_no: trace.into(),
            rrn: Some(Rrn::parse(&format!("9{}", &trace[..5]).repeat(2)).unwrap()),
            txn_type: kind,
            status: TxnStatus::Approved,
            orig_trace_no: Some(of.trace_no.clone()),
            orig_batch_no: Some(of.batch_no.clone()),
            local_time: of.local_time.checked_add(SignedDuration::from_mins(40)).unwrap(),
            ..of.clone()
        }
    }

    fn cand(d: SettlementEntry) -> Candidate {
        Candidate { debit: d, journal: None, credits: Vec::new(), cancelled: false }
    }

    fn journaled(d: SettlementEntry, status: TxnStatus) -> Candidate {
        let j = sale(&d, status);
        Candidate { journal: Some(j), ..cand(d) }
    }

    fn credited_back(mut c: Candidate, minor: i64) -> Candidate {
        let n = c.credits.len();
        // A distinct 12-character RRN per credit: "CR", nine digits of the debit's, a counter.
        let rrn = format!("CR{}{n}", &c.debit.rrn[3..12]);
        c.credits.push(credit(&c.debit, &rrn, minor, "2026-11-07T05:00:00Z"));
        c
    }

    fn claim(kind: ClaimKind) -> Claim {
        Claim {
            kind,
            card_last4: "0325".into(),
            card_first6: None,
            amount: cny(497_019),
            expected_amount: None,
            occurred: Occurred::At(at("2026-11-06T05:02:00Z")),
            merchant_id: None,
            terminal_id: None,
            merchant_name: None,
            description: None,
        }
    }

    fn wrong_amount_claim(expected: i64) -> Claim {
        Claim { expected_amount: Some(cny(expected)), ..claim(ClaimKind::WrongAmount) }
    }

    /// Asserts finding, state, remedy kind, remedy amount (minor units) and matched indexes.
    #[track_caller]
    fn check(
        d: &Decision,
        finding: Finding,
        state: NextState,
        remedy: RemedyKind,
        amount: Option<Money>,
        matched: &[usize],
    ) {
        assert_eq!(d.finding, finding, "{d:#?}");
        assert_eq!(d.next_state, state, "{d:#?}");
        assert_eq!(d.remedy.kind, remedy, "{d:#?}");
        assert_eq!(d.remedy.amount, amount, "{d:#?}");
        assert_eq!(d.matched, matched, "{d:#?}");
        if remedy == RemedyKind::None {
            assert_eq!(d.remedy.debit_rrn, None);
            assert!(!d.remedy.needs_merchant_confirmation);
        }
    }

    fn arg(d: &Decision, name: &str) -> String {
        d.explanation_args()
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", d.explanation_args()))
            .1
    }

    fn has_arg(d: &Decision, name: &str) -> bool {
        d.explanation_args().iter().any(|(n, _)| *n == name)
    }

    // ------------------------------------------------------------------ codes

    #[test]
    fn codes_round_trip_and_match_serde() {
        for f in Finding::ALL {
            assert_eq!(Finding::parse(f.as_str()), Some(f));
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
        }
        for k in RemedyKind::ALL {
            assert_eq!(RemedyKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for s in NextState::ALL {
            assert_eq!(NextState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for r in ReviewReason::ALL {
            assert_eq!(ReviewReason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(Finding::parse("nope"), None);
        let codes: Vec<&str> = Finding::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            codes,
            [
                "no_debit_found",
                "ambiguous",
                "already_reversed",
                "journal_missing",
                "reversal_due",
                "valid_sale_no_receipt",
                "already_refunded",
                "duplicate_after_timeout",
                "duplicate_confirmed",
                "single_debit",
                "amount_keyed_wrong",
                "amount_discrepancy",
                "refund_settled",
                "refund_not_settled",
                "no_refund_recorded"
            ]
        );
        let states: Vec<&str> = NextState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            states,
            [
                "awaiting_customer",
                "awaiting_merchant",
                "under_review",
                "refund_pending",
                "reversal_pending",
                "resolved"
            ]
        );
        let kinds: Vec<&str> = RemedyKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, ["refund", "reversal", "receipt", "none"]);
        let reasons: Vec<&str> = ReviewReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "partly_credited",
                "journal_not_a_sale",
                "three_or_more_debits",
                "all_attempts_failed",
                "sale_not_approved",
                "currency_differs",
                "expected_amount_unusable",
                "journal_above_settled",
                "claimed_elsewhere"
            ]
        );
    }

    // ------------------------------------------------------------------ is_candidate

    #[test]
    fn candidate_filter_takes_the_plain_match() {
        assert!(is_candidate(&claim(ClaimKind::NoReceipt), &debit("000004267971", "000996", T0), &shanghai()));
    }

    #[test]
    fn candidate_filter_refuses_credits_other_cards_and_other_amounts() {
        let c = claim(ClaimKind::NoReceipt);
        let d = debit("000004267971", "000996", T0);
        let tz = shanghai();
        assert!(!is_candidate(&c, &credit(&d, "000004268057", 497_019, T0), &tz));
        let other_last4 = SettlementEntry { card: MaskedCard::parse("622848******0326").unwrap(), ..d.clone() };
        assert!(!is_candidate(&c, &other_last4, &tz));
        let other_amount = SettlementEntry { amount: cny(497_018), ..d.clone() };
        assert!(!is_candidate(&c, &other_amount, &tz));
        let other_currency =
            SettlementEntry { amount: Money::new(497_019, Currency::from_code("USD").unwrap()), ..d.clone() };
        assert!(!is_candidate(&c, &other_currency, &tz));
    }

    #[test]
    fn candidate_filter_uses_first6_only_when_given() {
        let d = debit("000004267971", "000996", T0);
        let tz = shanghai();
        let with = |first6: &str| Claim { card_first6: Some(first6.into()), ..claim(ClaimKind::NoReceipt) };
        assert!(is_candidate(&with("622848"), &d, &tz));
        assert!(!is_candidate(&with("622202"), &d, &tz));
        assert!(is_candidate(&claim(ClaimKind::NoReceipt), &d, &tz));
    }

    #[test]
    fn candidate_filter_uses_merchant_and_terminal_only_when_given() {
        let d = debit("000004267971", "000996", T0);
        let tz = shanghai();
        let with = |mid: Option<&str>, tid: Option<&str>| Claim {
            merchant_id: mid.map(Into::into),
            terminal_id: tid.map(Into::into),
            ..claim(ClaimKind::NoReceipt)
        };
        assert!(is_candidate(&with(Some("851424736185314"), None), &d, &tz));
        assert!(!is_candidate(&with(Some("868625034637336"), None), &d, &tz));
        assert!(is_candidate(&with(None, Some("55024556")), &d, &tz));
        assert!(!is_candidate(&with(None, Some("55024557")), &d, &tz));
        assert!(is_candidate(&with(Some("851424736185314"), Some("55024556")), &d, &tz));
        assert!(!is_candidate(&with(Some("851424736185314"), Some("03503484")), &d, &tz));
        // Ids copied from a slip in the other case still match.
        let lettered = SettlementEntry {
            merchant_id: MerchantId::parse("M851424AB").unwrap(),
            terminal_id: TerminalId::parse("AB24556C").unwrap(),
            ..d
        };
        assert!(is_candidate(&with(Some("m851424ab"), Some("ab24556c")), &lettered, &tz));
    }

    #[test]
    fn candidate_window_is_exactly_three_hours_inclusive() {
        let c = Claim { occurred: Occurred::At(at("2026-11-06T05:00:00Z")), ..claim(ClaimKind::NoReceipt) };
        let tz = shanghai();
        let when = |t: &str| debit("000004267971", "000996", t);
        assert!(is_candidate(&c, &when("2026-11-06T02:00:00Z"), &tz));
        assert!(is_candidate(&c, &when("2026-11-06T08:00:00Z"), &tz));
        assert!(!is_candidate(&c, &when("2026-11-06T01:59:59.999999999Z"), &tz));
        assert!(!is_candidate(&c, &when("2026-11-06T08:00:00.000000001Z"), &tz));
    }

    #[test]
    fn candidate_window_for_a_date_is_the_shanghai_day_widened() {
        let c = Claim { occurred: Occurred::Day(date(2026, 11, 6)), ..claim(ClaimKind::NoReceipt) };
        let tz = shanghai();
        let when = |t: &str| debit("000004267971", "000996", t);
        // Local day 2026-11-06 = 2026-11-05T16:00Z .. 2026-11-06T16:00Z, then ±3 h.
        assert!(is_candidate(&c, &when("2026-11-05T13:00:00Z"), &tz));
        assert!(!is_candidate(&c, &when("2026-11-05T12:59:59Z"), &tz));
        assert!(is_candidate(&c, &when("2026-11-06T19:00:00Z"), &tz));
        assert!(!is_candidate(&c, &when("2026-11-06T19:00:01Z"), &tz));
        // In UTC the same date is a different window.
        assert!(!is_candidate(&c, &when("2026-11-05T13:00:00Z"), &TimeZone::UTC));
    }

    #[test]
    fn candidate_filter_with_jpy() {
        let c = Claim { amount: jpy(1280), ..claim(ClaimKind::NoReceipt) };
        let d = SettlementEntry { amount: jpy(1280), ..debit("000004267971", "000996", T0) };
        assert!(is_candidate(&c, &d, &shanghai()));
        let cny_twin = SettlementEntry { amount: cny(1280), ..d.clone() };
        assert!(!is_candidate(&c, &cny_twin, &shanghai()));
    }

    // ------------------------------------------------------------------ journal join

    #[test]
    fn journal_joins_by_rrn_within_its_merchant_and_terminal_whatever_else_differs() {
        let d = debit("000004267971", "000996", T0);
        let j = JournalRow {
            trace_no: "000123".into(),
            local_time: at("2026-11-06T09:00:00Z"),
            ..sale(&d, TxnStatus::Approved)
        };
        assert!(journal_matches(&d, &j));
        let other = JournalRow { rrn: Some(Rrn::parse("000004267972").unwrap()), ..sale(&d, TxnStatus::Approved) };
        assert!(!journal_matches(&d, &other));
        // §3.2: the same RRN at another merchant or terminal is another transaction.
        let other_merchant = JournalRow { merchant_id: MerchantId::parse("821838866205910").unwrap(), ..j.clone() };
        assert!(!journal_matches(&d, &other_merchant));
        let other_terminal = JournalRow { terminal_id: TerminalId::parse("74222276").unwrap(), ..j.clone() };
        assert!(!journal_matches(&d, &other_terminal));
        assert_eq!(find_journal(&d, &[other_merchant, other_terminal]), None);
    }

    #[test]
    fn journal_without_rrn_joins_on_ids_card_amount_and_ten_minutes() {
        let d = debit("000004267881", "002251", "2026-11-02T09:57:14Z");
        let base = sale(&d, TxnStatus::NoResponse);
        assert_eq!(base.rrn, None);
        assert!(journal_matches(&d, &base));
        let shifted = |secs: i64| JournalRow {
            local_time: d.txn_time.checked_add(SignedDuration::from_secs(secs)).unwrap(),
            ..base.clone()
        };
        assert!(journal_matches(&d, &shifted(600)));
        let masked_longer = JournalRow {
            card: MaskedCard::parse(&format!("{}*********{}", base.card.first6(), base.card.last4())).unwrap(),
            ..base.clone()
        };
        assert!(journal_matches(&d, &masked_longer), "a longer mask is the same card");
        assert!(journal_matches(&d, &shifted(-600)));
        assert!(!journal_matches(&d, &shifted(601)));
        assert!(!journal_matches(&d, &shifted(-601)));
        let differs = [
            JournalRow { merchant_id: MerchantId::parse("851424736185315").unwrap(), ..base.clone() },
            JournalRow { terminal_id: TerminalId::parse("55024557").unwrap(), ..base.clone() },
            JournalRow { trace_no: "002252".into(), ..base.clone() },
            JournalRow { card: MaskedCard::parse("622849******0325").unwrap(), ..base.clone() },
            JournalRow { amount: cny(497_018), ..base.clone() },
        ];
        for j in differs {
            assert!(!journal_matches(&d, &j), "{j:?}");
        }
    }

    #[test]
    fn find_journal_prefers_rrn_then_sale_then_nearest_time() {
        let d = debit("000004267971", "000996", T0);
        let no_rrn = sale(&d, TxnStatus::NoResponse);
        let by_rrn = sale(&d, TxnStatus::Approved);
        let rows = [no_rrn.clone(), by_rrn.clone()];
        assert_eq!(find_journal(&d, &rows), Some(&by_rrn));
        let odd = JournalRow { txn_type: TxnType::Refund, ..by_rrn.clone() };
        let rows = [odd.clone(), by_rrn.clone()];
        assert_eq!(find_journal(&d, &rows), Some(&by_rrn));
        assert_eq!(find_journal(&d, std::slice::from_ref(&odd)), Some(&odd));
        let far =
            JournalRow { local_time: d.txn_time.checked_add(SignedDuration::from_mins(9)).unwrap(), ..no_rrn.clone() };
        let rows = [far, no_rrn.clone()];
        assert_eq!(find_journal(&d, &rows), Some(&no_rrn));
        assert_eq!(find_journal(&d, &[]), None);
    }

    // ------------------------------------------------------------------ cancellations, credits

    #[test]
    fn approved_void_refund_or_reversal_on_the_trace_cancels_the_sale() {
        let d = debit("000004267971", "000996", T0);
        let s = sale(&d, TxnStatus::Approved);
        for kind in [TxnType::Void, TxnType::Refund, TxnType::Reversal] {
            assert!(cancels(&s, &cancel_row(kind, &s, "000997")), "{kind:?}");
        }
        assert!(!cancels(&s, &cancel_row(TxnType::Sale, &s, "000997")));
        let declined = JournalRow { status: TxnStatus::Declined, ..cancel_row(TxnType::Void, &s, "000997") };
        assert!(!cancels(&s, &declined));
        let unanswered = JournalRow { status: TxnStatus::NoResponse, ..cancel_row(TxnType::Reversal, &s, "000997") };
        assert!(!cancels(&s, &unanswered));
    }

    #[test]
    fn cancellation_needs_the_same_terminal_trace_and_batch() {
        let d = debit("000004267971", "000996", T0);
        let s = sale(&d, TxnStatus::Approved);
        let r = cancel_row(TxnType::Refund, &s, "000997");
        let other_terminal = JournalRow { terminal_id: TerminalId::parse("55024557").unwrap(), ..r.clone() };
        assert!(!cancels(&s, &other_terminal));
        let other_merchant = JournalRow { merchant_id: MerchantId::parse("851424736185315").unwrap(), ..r.clone() };
        assert!(!cancels(&s, &other_merchant));
        let other_trace = JournalRow { orig_trace_no: Some("000995".into()), ..r.clone() };
        assert!(!cancels(&s, &other_trace));
        let no_trace = JournalRow { orig_trace_no: None, ..r.clone() };
        assert!(!cancels(&s, &no_trace));
        // orig_batch_no defaults to the cancelling row's own batch.
        let default_batch = JournalRow { orig_batch_no: None, ..r.clone() };
        assert!(cancels(&s, &default_batch));
        let next_batch_default = JournalRow { orig_batch_no: None, batch_no: "000882".into(), ..r.clone() };
        assert!(!cancels(&s, &next_batch_default));
        let next_batch_explicit =
            JournalRow { orig_batch_no: Some("000881".into()), batch_no: "000882".into(), ..r.clone() };
        assert!(cancels(&s, &next_batch_explicit));
        let wrong_batch = JournalRow { orig_batch_no: Some("000880".into()), ..r.clone() };
        assert!(!cancels(&s, &wrong_batch));
        // Only a sale can be cancelled.
        let not_a_sale = JournalRow { txn_type: TxnType::Refund, ..s.clone() };
        assert!(!cancels(&not_a_sale, &r));
    }

    #[test]
    fn credits_are_matched_on_orig_rrn_direction_and_currency() {
        let d = debit("000004267971", "000996", T0);
        let c = credit(&d, "000004268057", 497_019, "2026-11-07T05:00:00Z");
        assert!(is_credit_for(&d, &c));
        let other = SettlementEntry { orig_rrn: Some(Rrn::parse("000004267972").unwrap()), ..c.clone() };
        assert!(!is_credit_for(&d, &other));
        let a_debit = SettlementEntry { direction: Direction::Debit, ..c.clone() };
        assert!(!is_credit_for(&d, &a_debit));
        let usd = SettlementEntry { amount: Money::new(497_019, Currency::from_code("USD").unwrap()), ..c.clone() };
        assert!(!is_credit_for(&d, &usd));
        // §3.2: a credit returns a debit of its own merchant only (another terminal may refund).
        let other_merchant =
            SettlementEntry { merchant_id: MerchantId::parse("821838866205910").unwrap(), ..c.clone() };
        assert!(!is_credit_for(&d, &other_merchant));
        let other_terminal = SettlementEntry { terminal_id: TerminalId::parse("74222276").unwrap(), ..c.clone() };
        assert!(is_credit_for(&d, &other_terminal));
    }

    #[test]
    fn assemble_joins_journal_credits_and_cancellation() {
        let d = debit("000004268209", "004495", "2026-11-04T08:22:32Z");
        let s = sale(&d, TxnStatus::Approved);
        let refund = cancel_row(TxnType::Refund, &s, "004496");
        let unrelated = sale(&debit("000004268210", "004497", T0), TxnStatus::Approved);
        let back = credit(&d, "000004268276", 497_019, "2026-11-07T08:22:31Z");
        let other_debit = debit("000004268322", "004386", T0);
        let c = Candidate::assemble(
            d.clone(),
            &[unrelated.clone(), s.clone(), refund],
            &[other_debit.clone(), back.clone(), d.clone()],
        );
        assert_eq!(c.journal, Some(s.clone()));
        assert_eq!(c.credits, vec![back]);
        assert!(c.cancelled);
        let bare = Candidate::assemble(d.clone(), &[unrelated], &[other_debit]);
        assert_eq!(bare.journal, None);
        assert!(bare.credits.is_empty());
        assert!(!bare.cancelled);
        let uncancelled = Candidate::assemble(d, std::slice::from_ref(&s), &[]);
        assert!(!uncancelled.cancelled);
    }

    // ------------------------------------------------------------------ any kind

    #[test]
    fn no_candidate_is_no_debit_found_for_every_kind() {
        for kind in ClaimKind::ALL {
            let d = decide(&claim(kind), &[]);
            check(&d, Finding::NoDebitFound, NextState::AwaitingCustomer, RemedyKind::None, None, &[]);
            assert_eq!(d.credit, None);
            assert_eq!(d.review, None);
        }
    }

    #[test]
    fn two_candidates_are_ambiguous_for_single_debit_kinds() {
        // Given out of time order: matched lists every candidate in time order.
        let later = journaled(debit("000004267772", "002230", "2026-11-11T11:45:48Z"), TxnStatus::Approved);
        let earlier = journaled(debit("000004267731", "003953", "2026-11-11T11:20:47Z"), TxnStatus::Approved);
        for kind in [ClaimKind::NoReceipt, ClaimKind::WrongAmount, ClaimKind::RefundNotReceived] {
            let d = decide(
                &Claim { expected_amount: (kind == ClaimKind::WrongAmount).then(|| cny(1)), ..claim(kind) },
                &[later.clone(), earlier.clone()],
            );
            check(&d, Finding::Ambiguous, NextState::UnderReview, RemedyKind::None, None, &[1, 0]);
            assert_eq!(arg(&d, "rrns"), "000004267731, 000004267772");
            assert_eq!(arg(&d, "debit_count"), "2");
        }
    }

    #[test]
    fn ambiguity_wins_over_credits() {
        let a = credited_back(journaled(debit("000004267731", "003953", T0), TxnStatus::Approved), 497_019);
        let b = journaled(debit("000004267772", "002230", "2026-11-06T05:30:00Z"), TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::RefundNotReceived), &[a, b]);
        assert_eq!(d.finding, Finding::Ambiguous);
        assert_eq!(d.credit, None);
    }

    // ------------------------------------------------------------------ no_receipt

    #[test]
    fn no_receipt_credited_back_is_already_reversed() {
        let c = credited_back(journaled(debit("000004267627", "003456", T0), TxnStatus::NoResponse), 497_019);
        let d = decide(&claim(ClaimKind::NoReceipt), &[c]);
        check(&d, Finding::AlreadyReversed, NextState::Resolved, RemedyKind::None, None, &[0]);
        assert_eq!(d.credit, Some(CreditRef { candidate: 0, credit: 0 }));
        assert_eq!(arg(&d, "credit_rrn"), "CR0042676270");
        assert_eq!(arg(&d, "credit_date"), "2026-11-08");
        assert_eq!(arg(&d, "credit_amount"), "4970.19 CNY");
    }

    #[test]
    fn no_receipt_credit_comes_before_missing_journal() {
        let c = credited_back(cand(debit("000004267627", "003456", T0)), 497_019);
        let d = decide(&claim(ClaimKind::NoReceipt), &[c]);
        assert_eq!(d.finding, Finding::AlreadyReversed);
    }

    #[test]
    fn no_receipt_credits_adding_up_to_the_debit_count_as_reversed() {
        let c = credited_back(
            credited_back(journaled(debit("000004267627", "003456", T0), TxnStatus::Approved), 300_000),
            197_019,
        );
        let d = decide(&claim(ClaimKind::NoReceipt), &[c]);
        assert_eq!(d.finding, Finding::AlreadyReversed);
        assert_eq!(d.credit.unwrap().credit, 1);
        assert_eq!(arg(&d, "credited_total"), "4970.19 CNY");
    }

    #[test]
    fn no_receipt_without_journal_is_journal_missing() {
        let d = decide(&claim(ClaimKind::NoReceipt), &[cand(debit("000004267676", "001777", T0))]);
        check(&d, Finding::JournalMissing, NextState::AwaitingMerchant, RemedyKind::None, None, &[0]);
        assert!(!has_arg(&d, "journal_time"));
    }

    #[test]
    fn no_receipt_failed_at_terminal_is_reversal_due() {
        for status in [TxnStatus::NoResponse, TxnStatus::Declined] {
            let c = journaled(debit("000004267530", "000051", T0), status);
            let d = decide(&claim(ClaimKind::NoReceipt), &[c]);
            check(&d, Finding::ReversalDue, NextState::ReversalPending, RemedyKind::Reversal, Some(cny(497_019)), &[0]);
            assert_eq!(d.remedy.debit_rrn.as_deref(), Some("000004267530"));
            assert!(!d.remedy.needs_merchant_confirmation);
            assert_eq!(arg(&d, "remedy_amount"), "4970.19 CNY");
        }
    }

    #[test]
    fn no_receipt_failed_and_reversed_at_terminal_but_not_credited_is_still_reversal_due() {
        let c = Candidate { cancelled: true, ..journaled(debit("000004267627", "003456", T0), TxnStatus::NoResponse) };
        let d = decide(&claim(ClaimKind::NoReceipt), &[c]);
        assert_eq!(d.finding, Finding::ReversalDue);
        assert_eq!(d.next_state, NextState::ReversalPending);
    }

    #[test]
    fn no_receipt_approved_sale_is_valid_with_a_receipt() {
        let c = journaled(debit("000004267463", "002778", T0), TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::NoReceipt), &[c]);
        check(&d, Finding::ValidSaleNoReceipt, NextState::Resolved, RemedyKind::Receipt, None, &[0]);
        assert_eq!(d.remedy.debit_rrn.as_deref(), Some("000004267463"));
        assert_eq!(d.review, None);
    }

    #[test]
    fn gap_no_receipt_cancelled_sale_not_credited_goes_to_review() {
        let c = Candidate { cancelled: true, ..journaled(debit("000004267463", "002778", T0), TxnStatus::Approved) };
        let d = decide(&claim(ClaimKind::NoReceipt), &[c]);
        check(&d, Finding::RefundNotSettled, NextState::UnderReview, RemedyKind::None, None, &[0]);
        assert_eq!(d.review, None);
    }

    #[test]
    fn gap_no_receipt_partly_credited_goes_to_review() {
        let c = credited_back(journaled(debit("000004267530", "000051", T0), TxnStatus::NoResponse), 100_000);
        let d = decide(&claim(ClaimKind::NoReceipt), &[c]);
        check(&d, Finding::ReversalDue, NextState::UnderReview, RemedyKind::None, None, &[0]);
        assert_eq!(d.review, Some(ReviewReason::PartlyCredited));
        assert_eq!(d.credit.unwrap().credit, 0);
        assert_eq!(arg(&d, "credited_total"), "1000.00 CNY");
        assert_eq!(d.explanation_key(), "review.partly_credited.explain");
    }

    #[test]
    fn gap_journal_row_that_is_not_a_sale_goes_to_review() {
        let d0 = debit("000004267530", "000051", T0);
        let odd = Candidate {
            journal: Some(JournalRow { txn_type: TxnType::Reversal, ..sale(&d0, TxnStatus::Approved) }),
            ..cand(d0)
        };
        for kind in [ClaimKind::NoReceipt, ClaimKind::WrongAmount, ClaimKind::RefundNotReceived] {
            let c = Claim { expected_amount: Some(cny(1)), ..claim(kind) };
            let d = decide(&c, std::slice::from_ref(&odd));
            check(&d, Finding::JournalMissing, NextState::UnderReview, RemedyKind::None, None, &[0]);
            assert_eq!(d.review, Some(ReviewReason::JournalNotASale));
        }
    }

    // ------------------------------------------------------------------ duplicate_charge

    fn dup(rrn: &str, trace: &str, time: &str, status: TxnStatus) -> Candidate {
        journaled(debit(rrn, trace, time), status)
    }

    #[test]
    fn duplicate_one_candidate_is_single_debit() {
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[dup("000004268074", "000266", T0, TxnStatus::Approved)]);
        check(&d, Finding::SingleDebit, NextState::UnderReview, RemedyKind::None, None, &[]);
        assert_eq!(arg(&d, "candidate_count"), "1");
    }

    #[test]
    fn duplicate_cluster_gap_is_thirty_minutes_inclusive() {
        let first = dup("000004268074", "000266", "2026-11-06T05:00:00Z", TxnStatus::Approved);
        let at30 = dup("000004268119", "000267", "2026-11-06T05:30:00Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[first.clone(), at30]);
        assert_eq!(d.finding, Finding::DuplicateConfirmed);
        let past30 = dup("000004268119", "000267", "2026-11-06T05:30:00.000000001Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[first, past30]);
        assert_eq!(d.finding, Finding::SingleDebit);
        assert!(d.matched.is_empty());
    }

    #[test]
    fn duplicate_clusters_are_per_card_and_terminal() {
        let a = dup("000004268074", "000266", T0, TxnStatus::Approved);
        let mut other_terminal = dup("000004268119", "000267", T0, TxnStatus::Approved);
        other_terminal.debit.terminal_id = TerminalId::parse("55024557").unwrap();
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a.clone(), other_terminal]);
        assert_eq!(d.finding, Finding::SingleDebit);
        let mut other_merchant = dup("000004268119", "000267", T0, TxnStatus::Approved);
        other_merchant.debit.merchant_id = MerchantId::parse("851424736185315").unwrap();
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a.clone(), other_merchant]);
        assert_eq!(d.finding, Finding::SingleDebit);
        let mut other_card = dup("000004268119", "000267", T0, TxnStatus::Approved);
        other_card.debit.card = MaskedCard::parse("622202******0325").unwrap();
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a, other_card]);
        assert_eq!(d.finding, Finding::SingleDebit);
    }

    #[test]
    fn duplicate_after_timeout_reverses_the_failed_one() {
        // The failed attempt came first, the approved retry second: the extra is the earlier one.
        let failed = dup("000004267881", "002251", "2026-11-02T09:57:14Z", TxnStatus::NoResponse);
        let ok = dup("000004267926", "002252", "2026-11-02T10:07:12Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[ok.clone(), failed.clone()]);
        check(
            &d,
            Finding::DuplicateAfterTimeout,
            NextState::ReversalPending,
            RemedyKind::Reversal,
            Some(cny(497_019)),
            &[1, 0],
        );
        assert_eq!(d.remedy.debit_rrn.as_deref(), Some("000004267881"));
        assert_eq!(arg(&d, "rrn"), "000004267881");
        assert_eq!(arg(&d, "other_rrn"), "000004267926");
        assert_eq!(arg(&d, "debit_time"), "2026-11-02T17:57:14+08:00");
        assert_eq!(arg(&d, "other_time"), "2026-11-02T18:07:12+08:00");
        // Declined counts as failed-looking too, and it may come second.
        let ok_first = dup("000004267881", "002251", "2026-11-02T09:57:14Z", TxnStatus::Approved);
        let declined = dup("000004267926", "002252", "2026-11-02T10:07:12Z", TxnStatus::Declined);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[ok_first, declined]);
        assert_eq!(d.finding, Finding::DuplicateAfterTimeout);
        assert_eq!(d.remedy.debit_rrn.as_deref(), Some("000004267926"));
    }

    #[test]
    fn duplicate_confirmed_refunds_the_later_one() {
        let first = dup("000004267971", "000996", "2026-11-06T05:02:50Z", TxnStatus::Approved);
        let second = dup("000004268005", "000997", "2026-11-06T05:16:50Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[first, second]);
        check(
            &d,
            Finding::DuplicateConfirmed,
            NextState::RefundPending,
            RemedyKind::Refund,
            Some(cny(497_019)),
            &[0, 1],
        );
        assert_eq!(d.remedy.debit_rrn.as_deref(), Some("000004268005"));
        assert!(!d.remedy.needs_merchant_confirmation);
        assert_eq!(arg(&d, "other_rrn"), "000004267971");
    }

    #[test]
    fn duplicate_extra_credited_back_is_already_refunded_before_other_rows() {
        let first = dup("000004268024", "003032", "2026-11-02T05:46:11Z", TxnStatus::Approved);
        let second = credited_back(dup("000004268029", "003033", "2026-11-02T05:49:09Z", TxnStatus::Approved), 497_019);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[first.clone(), second]);
        check(&d, Finding::AlreadyRefunded, NextState::Resolved, RemedyKind::None, None, &[0, 1]);
        assert_eq!(d.credit, Some(CreditRef { candidate: 1, credit: 0 }));
        assert_eq!(arg(&d, "rrn"), "000004268029");
        assert_eq!(arg(&d, "other_rrn"), "000004268024");
        // Row 1 also beats the timeout row.
        let failed =
            credited_back(dup("000004268029", "003033", "2026-11-02T05:49:09Z", TxnStatus::NoResponse), 497_019);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[first, failed]);
        assert_eq!(d.finding, Finding::AlreadyRefunded);
    }

    #[test]
    fn gap_duplicate_with_the_other_debit_credited_is_already_refunded() {
        // The merchant refunded the first of two approved debits: the customer paid once.
        let first = credited_back(dup("000004268024", "003032", "2026-11-02T05:46:11Z", TxnStatus::Approved), 497_019);
        let second = dup("000004268029", "003033", "2026-11-02T05:49:09Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[first, second]);
        assert_eq!(d.finding, Finding::AlreadyRefunded);
        assert_eq!(d.next_state, NextState::Resolved);
        assert_eq!(d.credit.unwrap().candidate, 0);
        assert_eq!(arg(&d, "rrn"), "000004268024");
    }

    #[test]
    fn gap_duplicate_extra_partly_credited_goes_to_review() {
        let first = dup("000004268024", "003032", "2026-11-02T05:46:11Z", TxnStatus::Approved);
        let second = credited_back(dup("000004268029", "003033", "2026-11-02T05:49:09Z", TxnStatus::Approved), 1_000);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[first, second]);
        check(&d, Finding::DuplicateConfirmed, NextState::UnderReview, RemedyKind::None, None, &[0, 1]);
        assert_eq!(d.review, Some(ReviewReason::PartlyCredited));
        assert_eq!(d.credit.unwrap().candidate, 1);
    }

    #[test]
    fn several_duplicate_clusters_are_ambiguous_over_every_candidate() {
        let a1 = dup("000004200001", "000001", "2026-11-06T03:00:00Z", TxnStatus::Approved);
        let a2 = dup("000004200002", "000002", "2026-11-06T03:10:00Z", TxnStatus::Approved);
        let b1 = dup("000004200003", "000003", "2026-11-06T06:00:00Z", TxnStatus::Approved);
        let b2 = dup("000004200004", "000004", "2026-11-06T06:10:00Z", TxnStatus::Approved);
        let single = dup("000004200005", "000005", "2026-11-06T07:30:00Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[single, b2, a1, b1, a2]);
        check(&d, Finding::Ambiguous, NextState::UnderReview, RemedyKind::None, None, &[2, 4, 3, 1, 0]);
    }

    #[test]
    fn one_duplicate_set_beside_single_debits_is_the_set() {
        let lone = dup("000004200001", "000001", "2026-11-06T03:00:00Z", TxnStatus::Approved);
        let a = dup("000004200002", "000002", "2026-11-06T05:00:00Z", TxnStatus::Approved);
        let b = dup("000004200003", "000003", "2026-11-06T05:20:00Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[b, lone, a]);
        assert_eq!(d.finding, Finding::DuplicateConfirmed);
        assert_eq!(d.matched, vec![2, 0]);
        assert_eq!(d.remedy.debit_rrn.as_deref(), Some("000004200003"));
        assert_eq!(arg(&d, "candidate_count"), "3");
        assert_eq!(arg(&d, "debit_count"), "2");
    }

    #[test]
    fn three_debits_chained_within_thirty_minutes_form_one_set() {
        // 05:00, 05:25, 05:50: the ends are 50 min apart but each neighbour within 30 min.
        let a = dup("000004200001", "000001", "2026-11-06T05:00:00Z", TxnStatus::Approved);
        let b = dup("000004200002", "000002", "2026-11-06T05:25:00Z", TxnStatus::Approved);
        let c = dup("000004200003", "000003", "2026-11-06T05:50:00Z", TxnStatus::Approved);
        let clusters = duplicate_clusters(&[c.clone(), a.clone(), b.clone()]);
        assert_eq!(clusters, vec![vec![1, 2, 0]]);
        // Gap: three or more debits go to review (a remedy names one debit).
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a.clone(), b.clone(), c.clone()]);
        check(&d, Finding::DuplicateConfirmed, NextState::UnderReview, RemedyKind::None, None, &[0, 1, 2]);
        assert_eq!(d.review, Some(ReviewReason::ThreeOrMoreDebits));
        assert_eq!(arg(&d, "debit_count"), "3");
        assert_eq!(arg(&d, "rrns"), "000004200001, 000004200002, 000004200003");
        // A mix of failed and approved among three is also reviewed.
        let failed_b = dup("000004200002", "000002", "2026-11-06T05:25:00Z", TxnStatus::NoResponse);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a.clone(), failed_b, c.clone()]);
        assert_eq!(d.finding, Finding::DuplicateAfterTimeout);
        assert_eq!(d.review, Some(ReviewReason::ThreeOrMoreDebits));
        assert_eq!(d.remedy, Remedy::none());
        // The chain breaks at a gap over 30 min: 05:00, 05:25, 05:55:01 leaves a set of two.
        let late = dup("000004200003", "000003", "2026-11-06T05:55:00.000000001Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a, b, late]);
        assert_eq!(d.finding, Finding::DuplicateConfirmed);
        assert_eq!(d.matched, vec![0, 1]);
        assert_eq!(d.remedy.debit_rrn.as_deref(), Some("000004200002"));
    }

    #[test]
    fn three_debits_with_two_credited_back_are_already_refunded() {
        let a = dup("000004200001", "000001", "2026-11-06T05:00:00Z", TxnStatus::Approved);
        let b = credited_back(dup("000004200002", "000002", "2026-11-06T05:10:00Z", TxnStatus::Approved), 497_019);
        let c = credited_back(dup("000004200003", "000003", "2026-11-06T05:20:00Z", TxnStatus::Approved), 497_019);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a.clone(), b.clone(), c]);
        assert_eq!(d.finding, Finding::AlreadyRefunded);
        assert_eq!(d.next_state, NextState::Resolved);
        assert_eq!(d.matched, vec![0, 1, 2]);
        // Only one of the two extras back: review.
        let c = dup("000004200003", "000003", "2026-11-06T05:20:00Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a, b, c]);
        assert_eq!(d.next_state, NextState::UnderReview);
        assert_eq!(d.review, Some(ReviewReason::PartlyCredited));
    }

    #[test]
    fn gap_duplicate_without_journal_rows_asks_the_merchant() {
        let a = cand(debit("000004200001", "000001", "2026-11-06T05:00:00Z"));
        let b = cand(debit("000004200002", "000002", "2026-11-06T05:10:00Z"));
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a, b.clone()]);
        check(&d, Finding::JournalMissing, NextState::AwaitingMerchant, RemedyKind::None, None, &[0, 1]);
        assert_eq!(arg(&d, "rrn"), "000004200001");
        // One row missing is enough to wait for the merchant.
        let a = dup("000004200001", "000001", "2026-11-06T05:00:00Z", TxnStatus::Approved);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a, b]);
        assert_eq!(d.finding, Finding::JournalMissing);
        assert_eq!(arg(&d, "rrn"), "000004200002");
        assert_eq!(arg(&d, "other_rrn"), "000004200001");
    }

    #[test]
    fn gap_duplicate_where_every_attempt_failed_goes_to_review() {
        let a = dup("000004200001", "000001", "2026-11-06T05:00:00Z", TxnStatus::NoResponse);
        let b = dup("000004200002", "000002", "2026-11-06T05:10:00Z", TxnStatus::Declined);
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a, b]);
        check(&d, Finding::DuplicateAfterTimeout, NextState::UnderReview, RemedyKind::None, None, &[0, 1]);
        assert_eq!(d.review, Some(ReviewReason::AllAttemptsFailed));
    }

    #[test]
    fn gap_duplicate_with_a_non_sale_journal_row_goes_to_review() {
        let a = dup("000004200001", "000001", "2026-11-06T05:00:00Z", TxnStatus::Approved);
        let mut b = dup("000004200002", "000002", "2026-11-06T05:10:00Z", TxnStatus::Approved);
        b.journal.as_mut().unwrap().txn_type = TxnType::Void;
        let d = decide(&claim(ClaimKind::DuplicateCharge), &[a, b]);
        assert_eq!(d.finding, Finding::JournalMissing);
        assert_eq!(d.review, Some(ReviewReason::JournalNotASale));
        assert_eq!(d.next_state, NextState::UnderReview);
    }

    // ------------------------------------------------------------------ wrong_amount

    #[test]
    fn wrong_amount_without_journal_is_journal_missing() {
        let d = decide(&wrong_amount_claim(100_000), &[cand(debit("000004268146", "002938", T0))]);
        check(&d, Finding::JournalMissing, NextState::AwaitingMerchant, RemedyKind::None, None, &[0]);
    }

    #[test]
    fn wrong_amount_keyed_wrong_refunds_the_claimed_difference_once_confirmed() {
        let c = journaled(debit("000004268146", "002938", T0), TxnStatus::Approved);
        let d = decide(&wrong_amount_claim(49_702), &[c]);
        check(
            &d,
            Finding::AmountKeyedWrong,
            NextState::AwaitingMerchant,
            RemedyKind::Refund,
            Some(cny(497_019 - 49_702)),
            &[0],
        );
        assert!(d.remedy.needs_merchant_confirmation);
        assert_eq!(d.remedy.debit_rrn.as_deref(), Some("000004268146"));
        assert_eq!(arg(&d, "expected_amount"), "497.02 CNY");
        assert_eq!(arg(&d, "remedy_amount"), "4473.17 CNY");
    }

    #[test]
    fn wrong_amount_journal_below_settled_refunds_the_difference() {
        let mut c = journaled(debit("000004268170", "003459", T0), TxnStatus::Approved);
        c.journal.as_mut().unwrap().amount = cny(128_367);
        let d = decide(&wrong_amount_claim(128_367), &[c]);
        check(
            &d,
            Finding::AmountDiscrepancy,
            NextState::RefundPending,
            RemedyKind::Refund,
            Some(cny(497_019 - 128_367)),
            &[0],
        );
        assert!(!d.remedy.needs_merchant_confirmation);
        assert_eq!(arg(&d, "journal_amount"), "1283.67 CNY");
        assert_eq!(d.explanation_key(), "finding.amount_discrepancy.explain");
    }

    #[test]
    fn wrong_amount_journal_above_settled_has_no_remedy() {
        let mut c = journaled(debit("000004268170", "003459", T0), TxnStatus::Approved);
        c.journal.as_mut().unwrap().amount = cny(500_000);
        let d = decide(&wrong_amount_claim(128_367), &[c]);
        check(&d, Finding::AmountDiscrepancy, NextState::UnderReview, RemedyKind::None, None, &[0]);
        assert_eq!(d.review, Some(ReviewReason::JournalAboveSettled));
        assert_eq!(d.explanation_key(), "review.journal_above_settled.explain");
    }

    #[test]
    fn wrong_amount_in_jpy() {
        let mut c = journaled(debit("000004268146", "002938", T0), TxnStatus::Approved);
        c.debit.amount = jpy(30_000);
        c.journal.as_mut().unwrap().amount = jpy(30_000);
        let claim = Claim { amount: jpy(30_000), expected_amount: Some(jpy(3_000)), ..claim(ClaimKind::WrongAmount) };
        let d = decide(&claim, std::slice::from_ref(&c));
        check(&d, Finding::AmountKeyedWrong, NextState::AwaitingMerchant, RemedyKind::Refund, Some(jpy(27_000)), &[0]);
        assert_eq!(arg(&d, "remedy_amount"), "27000 JPY");
        assert_eq!(arg(&d, "claim_amount"), "30000 JPY");
        c.journal.as_mut().unwrap().amount = jpy(3_000);
        let d = decide(&claim, &[c]);
        assert_eq!(d.finding, Finding::AmountDiscrepancy);
        assert_eq!(d.remedy.amount, Some(jpy(27_000)));
    }

    #[test]
    fn gap_wrong_amount_with_a_failed_sale_goes_to_review() {
        for status in [TxnStatus::Declined, TxnStatus::NoResponse] {
            let c = journaled(debit("000004268146", "002938", T0), status);
            let d = decide(&wrong_amount_claim(49_702), &[c]);
            check(&d, Finding::AmountKeyedWrong, NextState::UnderReview, RemedyKind::None, None, &[0]);
            assert_eq!(d.review, Some(ReviewReason::SaleNotApproved));
        }
    }

    #[test]
    fn gap_wrong_amount_in_another_currency_goes_to_review() {
        let mut c = journaled(debit("000004268146", "002938", T0), TxnStatus::Approved);
        c.journal.as_mut().unwrap().amount = Money::new(70_000, Currency::from_code("USD").unwrap());
        let d = decide(&wrong_amount_claim(49_702), &[c]);
        assert_eq!(d.finding, Finding::AmountDiscrepancy);
        assert_eq!(d.review, Some(ReviewReason::CurrencyDiffers));
        assert_eq!(d.remedy, Remedy::none());
    }

    #[test]
    fn gap_wrong_amount_without_usable_expected_amount_goes_to_review() {
        let c = journaled(debit("000004268146", "002938", T0), TxnStatus::Approved);
        for expected in [None, Some(cny(497_019)), Some(cny(0)), Some(jpy(100))] {
            let claim = Claim { expected_amount: expected, ..claim(ClaimKind::WrongAmount) };
            let d = decide(&claim, std::slice::from_ref(&c));
            assert_eq!(d.finding, Finding::AmountKeyedWrong);
            assert_eq!(d.review, Some(ReviewReason::ExpectedAmountUnusable), "{expected:?}");
            assert_eq!(d.remedy, Remedy::none());
        }
    }

    #[test]
    fn gap_wrong_amount_already_credited_is_already_refunded() {
        let c = credited_back(journaled(debit("000004268146", "002938", T0), TxnStatus::Approved), 497_019 - 49_702);
        let d = decide(&wrong_amount_claim(49_702), &[c]);
        check(&d, Finding::AlreadyRefunded, NextState::Resolved, RemedyKind::None, None, &[0]);
        assert!(d.credit.is_some());
        // Less than the difference: review.
        let c = credited_back(journaled(debit("000004268146", "002938", T0), TxnStatus::Approved), 1_000);
        let d = decide(&wrong_amount_claim(49_702), &[c]);
        assert_eq!(d.finding, Finding::AmountKeyedWrong);
        assert_eq!(d.review, Some(ReviewReason::PartlyCredited));
        // With nothing owed by the table, only a full credit of the debit resolves.
        let mut c = credited_back(journaled(debit("000004268146", "002938", T0), TxnStatus::Approved), 497_019);
        c.journal.as_mut().unwrap().amount = cny(600_000);
        let d = decide(&wrong_amount_claim(49_702), std::slice::from_ref(&c));
        assert_eq!(d.finding, Finding::AlreadyRefunded);
        c.credits[0].amount = cny(1_000);
        let d = decide(&wrong_amount_claim(49_702), &[c]);
        assert_eq!(d.finding, Finding::AmountDiscrepancy);
        assert_eq!(d.review, Some(ReviewReason::PartlyCredited));
    }

    // ------------------------------------------------------------------ refund_not_received

    #[test]
    fn refund_credited_back_is_refund_settled() {
        let c = Candidate {
            cancelled: true,
            ..credited_back(journaled(debit("000004268209", "004495", T0), TxnStatus::Approved), 497_019)
        };
        let d = decide(&claim(ClaimKind::RefundNotReceived), &[c]);
        check(&d, Finding::RefundSettled, NextState::Resolved, RemedyKind::None, None, &[0]);
        assert_eq!(arg(&d, "credit_rrn"), "CR0042682090");
    }

    #[test]
    fn refund_cancelled_but_not_credited_is_refund_not_settled() {
        let c = Candidate { cancelled: true, ..journaled(debit("000004268296", "004332", T0), TxnStatus::Approved) };
        let d = decide(&claim(ClaimKind::RefundNotReceived), &[c]);
        check(&d, Finding::RefundNotSettled, NextState::UnderReview, RemedyKind::None, None, &[0]);
        assert_eq!(d.review, None);
    }

    #[test]
    fn refund_not_cancelled_is_no_refund_recorded() {
        for status in [TxnStatus::Approved, TxnStatus::NoResponse] {
            let c = journaled(debit("000004268322", "004386", T0), status);
            let d = decide(&claim(ClaimKind::RefundNotReceived), &[c]);
            check(
                &d,
                Finding::NoRefundRecorded,
                NextState::AwaitingMerchant,
                RemedyKind::Refund,
                Some(cny(497_019)),
                &[0],
            );
            assert!(d.remedy.needs_merchant_confirmation);
            assert_eq!(d.remedy.debit_rrn.as_deref(), Some("000004268322"));
        }
    }

    #[test]
    fn gap_refund_without_journal_asks_the_merchant() {
        let d = decide(&claim(ClaimKind::RefundNotReceived), &[cand(debit("000004268322", "004386", T0))]);
        check(&d, Finding::JournalMissing, NextState::AwaitingMerchant, RemedyKind::None, None, &[0]);
    }

    #[test]
    fn gap_refund_partly_credited_goes_to_review() {
        let c = Candidate {
            cancelled: true,
            ..credited_back(journaled(debit("000004268209", "004495", T0), TxnStatus::Approved), 200_000)
        };
        let d = decide(&claim(ClaimKind::RefundNotReceived), &[c]);
        check(&d, Finding::RefundNotSettled, NextState::UnderReview, RemedyKind::None, None, &[0]);
        assert_eq!(d.review, Some(ReviewReason::PartlyCredited));
        assert_eq!(arg(&d, "credited_total"), "2000.00 CNY");
    }

    #[test]
    fn credits_for_other_debits_or_currencies_are_ignored() {
        let mut c = journaled(debit("000004268322", "004386", T0), TxnStatus::Approved);
        let stray = SettlementEntry {
            orig_rrn: Some(Rrn::parse("000004268999").unwrap()),
            ..credit(&c.debit, "000004268500", 497_019, T0)
        };
        let foreign = SettlementEntry {
            amount: Money::new(497_019, Currency::from_code("USD").unwrap()),
            ..credit(&c.debit, "000004268501", 497_019, T0)
        };
        c.credits = vec![stray, foreign];
        let d = decide(&claim(ClaimKind::RefundNotReceived), &[c]);
        assert_eq!(d.finding, Finding::NoRefundRecorded);
        assert_eq!(d.credit, None);
    }

    // ------------------------------------------------------------------ explanation facts

    #[test]
    fn explanation_args_name_the_records() {
        let c = journaled(debit("000004267530", "000051", "2026-11-12T05:20:36Z"), TxnStatus::NoResponse);
        let d = decide(&claim(ClaimKind::NoReceipt), &[c]);
        let args: HashMap<&str, String> = d.explanation_args().into_iter().collect();
        assert_eq!(args["card_last4"], "0325");
        assert_eq!(args["claim_amount"], "4970.19 CNY");
        assert_eq!(args["debit_time"], "2026-11-12T13:20:36+08:00");
        assert_eq!(args["journal_time"], "2026-11-12T13:20:34+08:00");
        assert_eq!(args["debit_amount"], "4970.19 CNY");
        assert_eq!(args["merchant_id"], "851424736185314");
        assert_eq!(args["terminal_id"], "55024556");
        assert_eq!(args["trace_no"], "000051");
        assert_eq!(args["rrn"], "000004267530");
        assert_eq!(args["settled_on"], "2026-11-07");
        assert_eq!(args["rrns"], "000004267530");
        assert_eq!(args["remedy_amount"], "4970.19 CNY");
        assert!(!args.contains_key("credit_rrn"));
        assert_eq!(d.title_key(), "finding.reversal_due.title");
        assert_eq!(d.explanation_key(), "finding.reversal_due.explain");
    }

    // ------------------------------------------------------------------ catalog

    /// The catalog as (key, language) → text; only the shapes catalog.toml uses.
    fn catalog() -> HashMap<(String, String), String> {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/i18n/findings.toml"));
        let mut out = HashMap::new();
        let mut key = String::new();
        for line in text.lines().map(str::trim) {
            if let Some(k) = line.strip_prefix("[\"").and_then(|l| l.strip_suffix("\"]")) {
                key = k.to_owned();
            } else if let Some((lang, value)) = line.split_once(" = ") {
                // Plain one-line strings are all this test needs; skip other shapes.
                let Some(value) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
                    continue;
                };
                let fresh = out.insert((key.clone(), lang.to_owned()), value.to_owned()).is_none();
                assert!(fresh, "duplicate {key} {lang}");
            }
        }
        out
    }

    fn placeholders(text: &str) -> BTreeSet<String> {
        text.split('{').skip(1).map(|s| s.split('}').next().unwrap().to_owned()).collect()
    }

    fn text<'a>(cat: &'a HashMap<(String, String), String>, key: &str, lang: &str) -> &'a str {
        cat.get(&(key.to_owned(), lang.to_owned())).unwrap_or_else(|| panic!("catalog lacks {key} {lang}"))
    }

    /// A decision for every finding and review reason, built through `decide`.
    fn scenarios() -> Vec<Decision> {
        let nr = claim(ClaimKind::NoReceipt);
        let dc = claim(ClaimKind::DuplicateCharge);
        let rn = claim(ClaimKind::RefundNotReceived);
        let wa = wrong_amount_claim(49_702);
        let d1 = || debit("000004200001", "000001", "2026-11-06T05:00:00Z");
        let d2 = || debit("000004200002", "000002", "2026-11-06T05:10:00Z");
        let d3 = || debit("000004200003", "000003", "2026-11-06T05:20:00Z");
        let ok = TxnStatus::Approved;
        let no = TxnStatus::NoResponse;
        let mut above = journaled(d1(), ok);
        above.journal.as_mut().unwrap().amount = cny(600_000);
        let mut below = journaled(d1(), ok);
        below.journal.as_mut().unwrap().amount = cny(100_000);
        let mut usd = journaled(d1(), ok);
        usd.journal.as_mut().unwrap().amount = Money::new(1, Currency::from_code("USD").unwrap());
        let mut void = journaled(d1(), ok);
        void.journal.as_mut().unwrap().txn_type = TxnType::Void;
        let cancelled = Candidate { cancelled: true, ..journaled(d1(), ok) };
        vec![
            decide(&nr, &[]),
            decide(&nr, &[journaled(d1(), ok), journaled(d2(), ok)]),
            decide(&nr, &[credited_back(journaled(d1(), no), 497_019)]),
            decide(&nr, &[cand(d1())]),
            decide(&nr, &[journaled(d1(), no)]),
            decide(&nr, &[journaled(d1(), ok)]),
            decide(&nr, std::slice::from_ref(&cancelled)),
            decide(&nr, &[credited_back(journaled(d1(), no), 1)]),
            decide(&nr, std::slice::from_ref(&void)),
            decide(&dc, &[journaled(d1(), ok)]),
            decide(&dc, &[journaled(d1(), ok), credited_back(journaled(d2(), ok), 497_019)]),
            decide(&dc, &[journaled(d1(), no), journaled(d2(), ok)]),
            decide(&dc, &[journaled(d1(), ok), journaled(d2(), ok)]),
            decide(&dc, &[journaled(d1(), ok), journaled(d2(), ok), journaled(d3(), ok)]),
            decide(&dc, &[journaled(d1(), no), journaled(d2(), no)]),
            decide(&dc, &[cand(d1()), cand(d2())]),
            decide(&dc, &[journaled(d1(), ok), credited_back(journaled(d2(), ok), 5)]),
            decide(&wa, &[cand(d1())]),
            decide(&wa, &[journaled(d1(), ok)]),
            decide(&wa, std::slice::from_ref(&below)),
            decide(&wa, &[above]),
            decide(&wa, &[usd]),
            decide(&wa, &[journaled(d1(), no)]),
            decide(&claim(ClaimKind::WrongAmount), &[journaled(d1(), ok)]),
            decide(&wa, &[credited_back(below, 497_019)]),
            decide(&rn, &[credited_back(journaled(d1(), ok), 497_019)]),
            decide(&rn, &[cancelled]),
            decide(&rn, &[journaled(d1(), ok)]),
            decide(&rn, &[cand(d1())]),
            decide(&rn, &[journaled(d1(), ok)]).held_elsewhere(),
        ]
    }

    #[test]
    fn scenarios_cover_every_finding_and_review_reason() {
        let all = scenarios();
        for f in Finding::ALL {
            assert!(all.iter().any(|d| d.finding == f), "no scenario for {f:?}");
        }
        for r in ReviewReason::ALL {
            assert!(all.iter().any(|d| d.review == Some(r)), "no scenario for {r:?}");
        }
    }

    #[test]
    fn catalog_has_both_languages_for_every_key() {
        let cat = catalog();
        let mut keys: Vec<String> = Vec::new();
        for f in Finding::ALL {
            keys.push(format!("finding.{}.title", f.as_str()));
            keys.push(format!("finding.{}.explain", f.as_str()));
        }
        for r in ReviewReason::ALL {
            keys.push(format!("review.{}.explain", r.as_str()));
        }
        for code in ClaimProblem::OWN_CODES {
            keys.push(format!("claim.error.{code}"));
        }
        for key in &keys {
            for lang in ["en", "zh-CN"] {
                assert!(!text(&cat, key, lang).is_empty());
            }
        }
        // Each language names the same placeholders.
        for key in &keys {
            assert_eq!(placeholders(text(&cat, key, "en")), placeholders(text(&cat, key, "zh-CN")), "{key}");
        }
        // No stray finding/review keys (other modules own the rest of the catalog).
        for (key, _) in cat.keys() {
            if key.starts_with("finding.") || key.starts_with("review.") {
                assert!(keys.contains(key), "unused catalog key {key}");
            }
        }
    }

    #[test]
    fn every_explanation_placeholder_is_filled() {
        let cat = catalog();
        for d in scenarios() {
            let mut args: BTreeSet<String> = d.explanation_args().iter().map(|(n, _)| n.to_string()).collect();
            if args.contains("merchant_id") {
                args.insert(SHOP_FACT.to_owned());
            }
            for key in [d.explanation_key(), d.title_key()] {
                for lang in ["en", "zh-CN"] {
                    let missing: Vec<String> =
                        placeholders(text(&cat, &key, lang)).difference(&args).cloned().collect();
                    assert!(missing.is_empty(), "{key} {lang} lacks {missing:?} in {d:#?}");
                }
            }
        }
    }

    #[test]
    fn every_error_placeholder_is_filled() {
        let cat = catalog();
        let problems = [ClaimProblem::ExpectedNotBelow { amount: "1".into() }, ClaimProblem::TooLong { max: 1 }];
        for code in ClaimProblem::OWN_CODES {
            let args: BTreeSet<String> = problems
                .iter()
                .find(|p| p.code() == code)
                .map(|p| p.args().iter().map(|(n, _)| n.to_string()).collect())
                .unwrap_or_default();
            for lang in ["en", "zh-CN"] {
                assert_eq!(placeholders(text(&cat, &format!("claim.error.{code}"), lang)), args, "{code}");
            }
        }
    }

    // ------------------------------------------------------------------ the samples

    // The samples ship with the repository, so a clone tests on its own.
    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/samples/");

    fn rows(file: &str) -> Vec<HashMap<String, String>> {
        let mut reader = csv::Reader::from_path(format!("{SAMPLES}{file}")).unwrap();
        let headers = reader.headers().unwrap().clone();
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                headers.iter().zip(r.iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()
            })
            .collect()
    }

    fn opt(row: &HashMap<String, String>, col: &str) -> Option<String> {
        Some(row[col].clone()).filter(|v| !v.is_empty())
    }

    fn offset_of(time: &str) -> Offset {
        if time.ends_with('Z') {
            return Offset::UTC;
        }
        let tail = &time[time.len() - 6..];
        let sign: i32 = if tail.starts_with('-') { -1 } else { 1 };
        let hours: i32 = tail[1..3].parse().unwrap();
        let mins: i32 = tail[4..6].parse().unwrap();
        Offset::from_seconds(sign * (hours * 3600 + mins * 60)).unwrap()
    }

    fn money(row: &HashMap<String, String>) -> Money {
        Money::parse(&row["amount"], Currency::from_code(&row["currency"]).unwrap()).unwrap()
    }

    fn sample_journal() -> Vec<JournalRow> {
        rows("journal.csv")
            .iter()
            .map(|r| JournalRow {
                merchant_id: MerchantId::parse(&r["merchant_id"]).unwrap(),
                terminal_id: TerminalId::parse(&r["terminal_id"]).unwrap(),
                batch_no: r["batch_no"].clone(),
                trace_no: r["trace_no"].clone(),
                rrn: opt(r, "rrn").map(|v| Rrn::parse(&v).unwrap()),
                auth_code: opt(r, "auth_code"),
                txn_type: TxnType::parse(&r["txn_type"]).unwrap(),
                status: TxnStatus::parse(&r["status"]).unwrap(),
                receipt_printed: r["receipt_printed"] == "true",
                card: MaskedCard::parse(&r["card"]).unwrap(),
                amount: money(r),
                local_time: r["local_time"].parse().unwrap(),
                local_offset: offset_of(&r["local_time"]),
                orig_trace_no: opt(r, "orig_trace_no"),
                orig_batch_no: opt(r, "orig_batch_no"),
                response_code: opt(r, "response_code"),
                terminal_event: opt(r, "terminal_event")
                    .map(|e| crate::domain::records::TerminalEvent::parse(&e).unwrap()),
            })
            .collect()
    }

    fn sample_settlement() -> Vec<SettlementEntry> {
        rows("settlement.csv")
            .iter()
            .map(|r| SettlementEntry {
                entry_id: r["entry_id"].clone(),
                merchant_id: MerchantId::parse(&r["merchant_id"]).unwrap(),
                terminal_id: TerminalId::parse(&r["terminal_id"]).unwrap(),
                trace_no: r["trace_no"].clone(),
                rrn: Rrn::parse(&r["rrn"]).unwrap(),
                card: MaskedCard::parse(&r["card"]).unwrap(),
                direction: Direction::parse(&r["direction"]).unwrap(),
                amount: money(r),
                txn_time: r["txn_time"].parse().unwrap(),
                txn_offset: offset_of(&r["txn_time"]),
                settled_on: r["settled_on"].parse().unwrap(),
                orig_rrn: opt(r, "orig_rrn").map(|v| Rrn::parse(&v).unwrap()),
            })
            .collect()
    }

    #[test]
    fn the_eighteen_sample_claims_get_their_expected_findings() {
        let journal = sample_journal();
        let settlement = sample_settlement();
        let tz = shanghai();
        let now = at("2026-11-21T00:00:00Z");
        let cat = catalog();
        let lines = std::fs::read_to_string(format!("{SAMPLES}claims.jsonl")).unwrap();
        let mut seen = 0;
        for (n, line) in lines.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let expect = &value["expect"];
            let input: ClaimInput = serde_json::from_value(value.clone()).unwrap();
            let claim = input.validate(Currency::CNY, now).unwrap_or_else(|e| panic!("claim {n}: {e:?}"));

            let candidates: Vec<Candidate> = settlement
                .iter()
                .filter(|e| is_candidate(&claim, e, &tz))
                .map(|debit| {
                    // Gather as a database layer would, then check the helpers agree.
                    let near: Vec<JournalRow> =
                        journal.iter().filter(|j| j.terminal_id == debit.terminal_id).cloned().collect();
                    let c = Candidate::assemble(debit.clone(), &near, &settlement);
                    if let Some(j) = &c.journal {
                        assert!(journal_matches(debit, j));
                        assert_eq!(c.cancelled, journal.iter().any(|o| cancels(j, o)));
                    }
                    assert!(c.credits.iter().all(|cr| is_credit_for(debit, cr)));
                    c
                })
                .collect();
            let d = decide(&claim, &candidates);

            let ctx = format!("claim {n} ({}): {d:#?}", claim.kind.as_str());
            assert_eq!(d.finding.as_str(), expect["finding"], "{ctx}");
            assert_eq!(d.next_state.as_str(), expect["state"], "{ctx}");
            assert_eq!(d.remedy.kind.as_str(), expect["remedy"], "{ctx}");
            let amount = d.remedy.amount.map(Money::major_string);
            assert_eq!(amount.as_deref(), expect["remedy_amount"].as_str(), "{ctx}");
            let matched: Vec<&str> = d.matched.iter().map(|&i| candidates[i].debit.rrn.as_str()).collect();
            let want: Vec<&str> =
                expect["matched_rrns"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
            assert_eq!(matched, want, "{ctx}");

            // The customer's explanation fills every placeholder in both languages.
            let mut args: HashMap<&str, String> = d.explanation_args().into_iter().collect();
            if args.contains_key("merchant_id") {
                args.insert(SHOP_FACT, "the shop".to_owned());
            }
            for lang in ["en", "zh-CN"] {
                let mut out = text(&cat, &d.explanation_key(), lang).to_owned();
                for (name, value) in &args {
                    out = out.replace(&format!("{{{name}}}"), value);
                }
                assert!(!out.contains('{'), "{ctx}\n{out}");
            }
            seen += 1;
        }
        assert_eq!(seen, 18);
    }

    #[test]
    fn picking_a_debit_keeps_it_alone_or_with_its_duplicate_cluster() {
        let early = dup("000004268074", "000266", T0, TxnStatus::Approved);
        let twin = dup("000004268075", "000267", "2026-11-06T05:12:50Z", TxnStatus::Approved);
        let late = dup("000004268076", "000268", "2026-11-06T07:02:50Z", TxnStatus::Approved);
        let late_twin = dup("000004268077", "000269", "2026-11-06T07:07:50Z", TxnStatus::Approved);
        let all = [early, twin, late, late_twin];
        assert_eq!(decide(&claim(ClaimKind::DuplicateCharge), &all).finding, Finding::Ambiguous);
        assert_eq!(narrow_to_pick(ClaimKind::DuplicateCharge, &all, 3), vec![2, 3]);
        assert_eq!(narrow_to_pick(ClaimKind::DuplicateCharge, &all, 0), vec![0, 1]);
        assert_eq!(narrow_to_pick(ClaimKind::NoReceipt, &all, 1), vec![1]);
        assert_eq!(narrow_to_pick(ClaimKind::NoReceipt, &all, 9), Vec::<usize>::new());
        let picked: Vec<Candidate> =
            narrow_to_pick(ClaimKind::DuplicateCharge, &all, 3).into_iter().map(|i| all[i].clone()).collect();
        assert_eq!(decide(&claim(ClaimKind::DuplicateCharge), &picked).finding, Finding::DuplicateConfirmed);
    }

    #[test]
    fn a_debit_held_elsewhere_keeps_its_finding_but_pays_nothing_by_itself() {
        let c = journaled(debit("000004267627", "003456", T0), TxnStatus::NoResponse);
        let d = decide(&claim(ClaimKind::NoReceipt), std::slice::from_ref(&c));
        assert_eq!((d.finding, d.next_state), (Finding::ReversalDue, NextState::ReversalPending));
        let held = d.clone().held_elsewhere();
        assert_eq!(held.finding, Finding::ReversalDue, "the desk reads what the records say");
        assert_eq!(held.remedy, d.remedy);
        assert_eq!(held.matched, d.matched);
        assert_eq!(held.next_state, NextState::UnderReview, "no remedy runs by itself");
        assert_eq!(held.review, Some(ReviewReason::ClaimedElsewhere));
        assert_eq!(held.explanation_key(), "review.claimed_elsewhere.explain");
    }
}
