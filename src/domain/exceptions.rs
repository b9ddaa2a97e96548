//! Exceptions and terminal health (DESIGN.md §10): the four kinds of trouble the records show
//! before anyone complains, and when a terminal is flagged. Pure rules over records; the caller
//! gathers the records (`db::exceptions`) and writes what these say (`crate::exceptions`).

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::domain::calendar::Calendar;
use crate::domain::codes::code_enum;
use crate::domain::finding::{Candidate, duplicate_clusters};
use crate::domain::records::{JournalRow, TxnStatus, TxnType};

code_enum! {
    /// The `exception` codes of §10.
    pub enum ExceptionKind {
        OrphanDebit = "orphan_debit",
        DuplicateSuspect = "duplicate_suspect",
        UnsettledSale = "unsettled_sale",
        AmountMismatch = "amount_mismatch",
    }
}

code_enum! {
    pub enum ExceptionState {
        Open = "open",
        Resolved = "resolved",
        Dismissed = "dismissed",
        Linked = "linked",
    }
}

impl ExceptionState {
    /// Still something to act on: open, or known to a customer's case that is still being worked.
    pub fn is_live(self) -> bool {
        matches!(self, ExceptionState::Open | ExceptionState::Linked)
    }
}

/// How long records may wait for their other half before it is trouble (business days).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waits {
    /// `REDRESS_ORPHAN_DAYS`: a debit the terminal saw fail, not returned after this long.
    pub orphan_days: u32,
    /// `REDRESS_UNSETTLED_DAYS`: an approved sale with no settlement debit after this long.
    pub unsettled_days: u32,
}

impl Default for Waits {
    fn default() -> Waits {
        Waits { orphan_days: 1, unsettled_days: 2 }
    }
}

/// When waiting ends: the end of the `days`-th business day after `at`'s day.
pub fn due_after(calendar: &Calendar, at: Timestamp, days: u32, tz: &TimeZone) -> Timestamp {
    calendar.add_business_days(at, days, tz)
}

/// What the records say about one debit for one kind of exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The exception holds now.
    Found,
    /// It will hold at this instant unless the records change first.
    DueAt(Timestamp),
    /// It does not hold (or no longer: an open one resolves).
    Clear,
}

/// The terminal showed the debit fail (no answer, or declined).
fn failed_on_terminal(row: &JournalRow) -> bool {
    row.txn_type == TxnType::Sale && matches!(row.status, TxnStatus::NoResponse | TxnStatus::Declined)
}

/// The debit's credits return at least its amount.
pub fn credited_back(c: &Candidate) -> bool {
    let returned: i64 = c.credits.iter().map(|e| e.amount.minor).sum();
    !c.credits.is_empty() && returned >= c.debit.amount.minor
}

/// `orphan_debit` (单边账): the terminal showed a failure, the card was charged, and neither a
/// credit nor a cancellation followed within `orphan_days` business days of the debit.
pub fn orphan_debit(c: &Candidate, waits: Waits, calendar: &Calendar, tz: &TimeZone, now: Timestamp) -> Verdict {
    let failed = c.journal.as_ref().is_some_and(failed_on_terminal);
    if !failed || c.cancelled || credited_back(c) {
        return Verdict::Clear;
    }
    let due = due_after(calendar, c.debit.txn_time, waits.orphan_days, tz);
    if now >= due { Verdict::Found } else { Verdict::DueAt(due) }
}

/// `amount_mismatch`: the journal row and its settlement debit disagree on the amount.
pub fn amount_mismatch(c: &Candidate) -> bool {
    c.journal.as_ref().is_some_and(|j| j.amount != c.debit.amount)
}

/// `duplicate_suspect`: among `debits` (one card's debits at one terminal for one amount, the
/// debit under test among them), the ones that follow an earlier debit of the same §5 cluster,
/// each journalled as an approved sale and not credited back. Indexes into `debits`.
pub fn duplicate_suspects(debits: &[Candidate]) -> Vec<usize> {
    let approved: Vec<usize> = (0..debits.len())
        .filter(|&i| {
            debits[i].journal.as_ref().is_some_and(|j| j.txn_type == TxnType::Sale && j.status == TxnStatus::Approved)
        })
        .collect();
    let subset: Vec<Candidate> = approved.iter().map(|&i| debits[i].clone()).collect();
    let mut out = Vec::new();
    for cluster in duplicate_clusters(&subset).into_iter().filter(|cl| cl.len() >= 2) {
        // Same amount too: a cluster is per card and terminal only.
        let first = &subset[cluster[0]];
        for &i in &cluster[1..] {
            if subset[i].debit.amount == first.debit.amount && !credited_back(&subset[i]) {
                out.push(approved[i]);
            }
        }
    }
    out
}

/// `unsettled_sale` (the merchant's money did not arrive): an approved sale, not cancelled, with
/// no settlement debit `unsettled_days` business days after its local time.
pub fn unsettled_sale(
    sale: &JournalRow,
    cancelled: bool,
    has_debit: bool,
    waits: Waits,
    calendar: &Calendar,
    tz: &TimeZone,
    now: Timestamp,
) -> Verdict {
    if sale.txn_type != TxnType::Sale || sale.status != TxnStatus::Approved || cancelled || has_debit {
        return Verdict::Clear;
    }
    let due = due_after(calendar, sale.local_time, waits.unsettled_days, tz);
    if now >= due { Verdict::Found } else { Verdict::DueAt(due) }
}

/// When a terminal is flagged (§10), all configurable (`REDRESS_TERMINAL_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagThresholds {
    /// `paper_out` + `printer_fault` events in 24 hours.
    pub printer_events: i64,
    /// `no_response` rate, in percent, over 24 hours…
    pub no_response_percent: i64,
    /// …counted only over at least this many transactions.
    pub min_transactions: i64,
    /// `no_receipt` claims in 7 days.
    pub no_receipt_claims: i64,
}

impl Default for FlagThresholds {
    fn default() -> FlagThresholds {
        FlagThresholds { printer_events: 3, no_response_percent: 2, min_transactions: 50, no_receipt_claims: 2 }
    }
}

/// What a terminal did in a window, counted from its journal and the claims on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TerminalCounts {
    pub transactions: i64,
    pub no_response: i64,
    pub declined: i64,
    pub paper_out: i64,
    pub printer_fault: i64,
    pub comm_timeout: i64,
    pub power_loss: i64,
}

code_enum! {
    /// Why a terminal is flagged.
    pub enum FlagReason {
        Printer = "printer",
        NoResponse = "no_response",
        NoReceiptClaims = "no_receipt_claims",
    }
}

/// The reasons to flag a terminal: `day` holds the last 24 hours, `no_receipt_claims` the
/// `no_receipt` claims of the last 7 days. Empty: not flagged.
pub fn flag_reasons(day: &TerminalCounts, no_receipt_claims: i64, t: FlagThresholds) -> Vec<FlagReason> {
    let mut reasons = Vec::new();
    if day.paper_out + day.printer_fault >= t.printer_events {
        reasons.push(FlagReason::Printer);
    }
    // Integer percent, compared without rounding: no_response / transactions >= p / 100.
    if day.transactions >= t.min_transactions && day.no_response * 100 >= t.no_response_percent * day.transactions {
        reasons.push(FlagReason::NoResponse);
    }
    if no_receipt_claims >= t.no_receipt_claims {
        reasons.push(FlagReason::NoReceiptClaims);
    }
    reasons
}

/// A rate in tenths of a percent (`25` = 2.5 %), zero without transactions.
pub fn per_mille(part: i64, whole: i64) -> i64 {
    if whole <= 0 { 0 } else { part * 1000 / whole }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::{JournalFields, JournalRow};
    use crate::domain::records::{SettlementEntry, SettlementFields};

    const TZ: &str = "Asia/Shanghai";

    fn tz() -> TimeZone {
        TimeZone::get(TZ).unwrap()
    }

    fn entry(entry_id: &str, rrn: &str, dir: &str, amount: &str, time: &str, orig: &str) -> SettlementEntry {
        SettlementEntry::from_fields(&SettlementFields {
            entry_id,
            merchant_id: "898310058120001",
            terminal_id: "10000001",
            trace_no: "000101",
            rrn,
            card: "622848******1234",
            direction: dir,
            amount,
            currency: "CNY",
            txn_time: time,
            settled_on: "2026-11-03",
            orig_rrn: orig,
        })
        .unwrap()
    }

    fn journal(status: &str, rrn: &str, amount: &str, time: &str) -> JournalRow {
        JournalRow::from_fields(&JournalFields {
            merchant_id: "898310058120001",
            terminal_id: "10000001",
            batch_no: "000001",
            trace_no: "000101",
            rrn,
            auth_code: "",
            txn_type: "sale",
            status,
            receipt_printed: "false",
            card: "622848******1234",
            amount,
            currency: "CNY",
            local_time: time,
            orig_trace_no: "",
            orig_batch_no: "",
            response_code: "",
            terminal_event: "",
        })
        .unwrap()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// A debit on Monday 2 Nov 2026, 10:00 Beijing time.
    const MONDAY: &str = "2026-11-02T10:00:00+08:00";

    fn orphan() -> Candidate {
        let debit = entry("E1", "000000000001", "debit", "128.50", MONDAY, "");
        Candidate::assemble(debit, &[journal("no_response", "", "128.50", MONDAY)], &[])
    }

    #[test]
    fn a_failed_sale_that_was_charged_is_an_orphan_once_a_business_day_has_passed() {
        let cal = Calendar::weekends_only();
        let c = orphan();
        let due = at("2026-11-04T00:00:00+08:00");
        assert_eq!(
            orphan_debit(&c, Waits::default(), &cal, &tz(), at("2026-11-02T12:00:00+08:00")),
            Verdict::DueAt(due)
        );
        assert_eq!(orphan_debit(&c, Waits::default(), &cal, &tz(), due), Verdict::Found);
        // Two business days: Friday's debit is due at the end of Tuesday, not over the weekend.
        let friday = Candidate::assemble(
            entry("E2", "000000000002", "debit", "1.00", "2026-11-06T10:00:00+08:00", ""),
            &[journal("declined", "000000000002", "1.00", "2026-11-06T10:00:00+08:00")],
            &[],
        );
        let waits = Waits { orphan_days: 2, unsettled_days: 2 };
        assert_eq!(
            orphan_debit(&friday, waits, &cal, &tz(), at("2026-11-09T12:00:00+08:00")),
            Verdict::DueAt(at("2026-11-11T00:00:00+08:00"))
        );
    }

    #[test]
    fn an_orphan_resolves_when_its_credit_arrives_and_approved_sales_are_never_orphans() {
        let cal = Calendar::weekends_only();
        let later = at("2026-11-20T00:00:00+08:00");
        let c = orphan();
        let credit = entry("C1", "000000000009", "credit", "128.50", "2026-11-03T10:00:00+08:00", "000000000001");
        let credited =
            Candidate::assemble(c.debit.clone(), &[c.journal.clone().unwrap()], std::slice::from_ref(&credit));
        assert_eq!(orphan_debit(&credited, Waits::default(), &cal, &tz(), later), Verdict::Clear);
        // A partial credit leaves money missing.
        let partial = entry("C2", "000000000010", "credit", "28.50", "2026-11-03T10:00:00+08:00", "000000000001");
        let part = Candidate::assemble(c.debit.clone(), &[c.journal.clone().unwrap()], &[partial]);
        assert_eq!(orphan_debit(&part, Waits::default(), &cal, &tz(), later), Verdict::Found);
        let approved = Candidate::assemble(
            entry("E3", "000000000003", "debit", "5.00", MONDAY, ""),
            &[journal("approved", "000000000003", "5.00", MONDAY)],
            &[],
        );
        assert_eq!(orphan_debit(&approved, Waits::default(), &cal, &tz(), later), Verdict::Clear);
        assert!(!amount_mismatch(&approved));
    }

    #[test]
    fn amounts_that_disagree_are_a_mismatch() {
        let c = Candidate::assemble(
            entry("E4", "000000000004", "debit", "150.00", MONDAY, ""),
            &[journal("approved", "000000000004", "15.00", MONDAY)],
            &[],
        );
        assert!(amount_mismatch(&c));
        let no_journal = Candidate::assemble(entry("E5", "000000000005", "debit", "1.00", MONDAY, ""), &[], &[]);
        assert!(!amount_mismatch(&no_journal));
    }

    fn approved_debit(id: &str, rrn: &str, time: &str) -> Candidate {
        Candidate::assemble(entry(id, rrn, "debit", "88.00", time, ""), &[journal("approved", rrn, "88.00", time)], &[])
    }

    #[test]
    fn every_debit_after_the_first_of_a_cluster_is_a_duplicate_suspect() {
        let a = approved_debit("D1", "000000000011", "2026-11-02T10:00:00+08:00");
        let b = approved_debit("D2", "000000000012", "2026-11-02T10:20:00+08:00");
        let c = approved_debit("D3", "000000000013", "2026-11-02T10:50:00+08:00");
        let far = approved_debit("D4", "000000000014", "2026-11-02T12:00:00+08:00");
        // Given out of order: the result names the inputs.
        assert_eq!(duplicate_suspects(&[c.clone(), a.clone(), b.clone(), far.clone()]), vec![2, 0]);
        assert!(duplicate_suspects(&[a.clone(), far]).is_empty());
        // Credited back: no longer suspect.
        let credit = entry("C3", "000000000019", "credit", "88.00", "2026-11-03T10:00:00+08:00", "000000000012");
        let b_back = Candidate::assemble(b.debit.clone(), &[b.journal.clone().unwrap()], &[credit]);
        assert!(duplicate_suspects(&[a.clone(), b_back]).is_empty());
        // A failed attempt followed by the real sale is not a duplicate.
        let failed = Candidate::assemble(
            entry("D5", "000000000015", "debit", "88.00", "2026-11-02T09:55:00+08:00", ""),
            &[journal("no_response", "000000000015", "88.00", "2026-11-02T09:55:00+08:00")],
            &[],
        );
        assert!(duplicate_suspects(&[failed, a]).is_empty());
    }

    #[test]
    fn an_approved_sale_without_debit_is_unsettled_after_two_business_days() {
        let cal = Calendar::weekends_only();
        let sale = journal("approved", "000000000021", "66.00", MONDAY);
        let now = at("2026-11-05T00:00:00+08:00");
        assert_eq!(unsettled_sale(&sale, false, false, Waits::default(), &cal, &tz(), now), Verdict::Found);
        assert_eq!(
            unsettled_sale(&sale, false, false, Waits::default(), &cal, &tz(), at("2026-11-04T23:59:59+08:00")),
            Verdict::DueAt(now)
        );
        assert_eq!(unsettled_sale(&sale, false, true, Waits::default(), &cal, &tz(), now), Verdict::Clear);
        assert_eq!(unsettled_sale(&sale, true, false, Waits::default(), &cal, &tz(), now), Verdict::Clear);
        let failed = journal("no_response", "", "66.00", MONDAY);
        assert_eq!(unsettled_sale(&failed, false, false, Waits::default(), &cal, &tz(), now), Verdict::Clear);
    }

    #[test]
    fn a_terminal_is_flagged_at_each_threshold_and_not_below() {
        let t = FlagThresholds::default();
        let quiet =
            TerminalCounts { transactions: 100, no_response: 1, paper_out: 1, printer_fault: 1, ..Default::default() };
        assert!(flag_reasons(&quiet, 1, t).is_empty());
        let printer = TerminalCounts { paper_out: 2, printer_fault: 1, ..quiet };
        assert_eq!(flag_reasons(&printer, 0, t), vec![FlagReason::Printer]);
        let timeouts = TerminalCounts { no_response: 2, ..quiet };
        assert_eq!(flag_reasons(&timeouts, 0, t), vec![FlagReason::NoResponse]);
        // 2 of 49 is over 2 %, but too few transactions to say.
        let few = TerminalCounts { transactions: 49, no_response: 2, ..Default::default() };
        assert!(flag_reasons(&few, 0, t).is_empty());
        assert_eq!(flag_reasons(&quiet, 2, t), vec![FlagReason::NoReceiptClaims]);
        let strict = FlagThresholds { printer_events: 2, ..t };
        assert_eq!(flag_reasons(&quiet, 0, strict), vec![FlagReason::Printer]);
    }

    #[test]
    fn rates_are_tenths_of_a_percent() {
        assert_eq!(per_mille(1, 40), 25);
        assert_eq!(per_mille(0, 0), 0);
    }
}
