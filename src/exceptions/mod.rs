//! Exceptions (DESIGN.md §10): detection after every accepted import, scoped to the rows the
//! import brought and the records they touch, and the periodic check for waits that end with
//! time alone (`check`). Terminal health lives in `health`, the notices in `notices`.
//!
//! Detection takes the imports it has not seen (`imports.exceptions_checked`) in one
//! transaction with everything it writes, so each import is looked at once, however many
//! servers and import paths run it, and a failure leaves the import for the next run.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};

use crate::cases::MatchContext;
use crate::db::exceptions::{self as store, CHUNK, NewException, Settlement};
use crate::db::{Db, DbError, Tx};
use crate::domain::exceptions::{
    ExceptionKind, Verdict, amount_mismatch, credited_back, duplicate_suspects, orphan_debit, unsettled_sale,
};
use crate::domain::finding::{Candidate, DUPLICATE_GAP, cancels, find_journal, is_credit_for, journal_matches};
use crate::domain::records::{Direction, JournalRow, SettlementEntry, TxnStatus, TxnType};

pub mod check;
pub mod demo;
pub mod health;
pub mod notices;
mod records;

use records::{Records, Window};

/// What one run found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Detected {
    pub found: u64,
    pub resolved: u64,
    pub alerts: u64,
}

/// How far either side of a debit its duplicate cluster is looked for: clusters chain
/// neighbours at most 30 min apart, and more than a dozen repeats of one payment is not a cluster
/// a terminal makes.
const CLUSTER_REACH: SignedDuration = SignedDuration::from_mins(6 * 60);

/// Looks through every accepted import not yet looked at; called right after the import, in the
/// same post-import step that re-matches cases.
pub async fn after_import(db: &Db, ctx: &MatchContext<'_>) -> anyhow::Result<Detected> {
    let now = Timestamp::now();
    let mut tx = db.begin().await?;
    let mut done = Detected::default();
    for import_id in store::take_unchecked_imports(&mut tx).await? {
        let mut run = Run::new(ctx, now, Some(import_id));
        run.import(&mut tx, import_id).await?;
        run.flush(&mut tx).await?;
        done.found += run.new_ids.len() as u64;
        done.resolved += run.resolved;
        notices::exceptions_found(&mut tx, ctx, &run.new_ids, &format!("import:{import_id}")).await?;
        done.alerts += health::check_terminals(&mut tx, ctx, &run.terminals, now).await?;
    }
    tx.commit().await?;
    Ok(done)
}

/// One pass of detection: what it found and what it touched.
pub(crate) struct Run<'a, 'c> {
    ctx: &'a MatchContext<'c>,
    now: Timestamp,
    import_id: Option<i64>,
    pub new_ids: Vec<i64>,
    pub resolved: u64,
    /// Terminals whose journal the import brought rows for (their health is looked at).
    pub terminals: BTreeSet<(String, String)>,
    /// Debits already looked at in this pass.
    seen: BTreeSet<i64>,
    /// Waits to record and keys to clear, written in batches by [`Run::flush`]: nearly every
    /// record yields one, so one statement each would cost more than the import.
    watches: Vec<store::NewWatch>,
    clears: Vec<String>,
    /// Waits that ended because their exception was found.
    ended: Vec<String>,
    /// Exceptions found, recorded in batches by [`Run::flush`] (first of each key wins).
    found: Vec<NewException>,
    /// The records around the rows being looked at (read in batches, see `records`).
    recs: Records,
}

impl<'a, 'c> Run<'a, 'c> {
    pub(crate) fn new(ctx: &'a MatchContext<'c>, now: Timestamp, import_id: Option<i64>) -> Self {
        Run {
            ctx,
            now,
            import_id,
            new_ids: Vec::new(),
            resolved: 0,
            terminals: BTreeSet::new(),
            seen: BTreeSet::new(),
            watches: Vec::new(),
            clears: Vec::new(),
            ended: Vec::new(),
            found: Vec::new(),
            recs: Records::default(),
        }
    }

    /// Writes the batched waits and clears; call before reading what the pass found.
    pub(crate) async fn flush(&mut self, tx: &mut Tx) -> Result<(), DbError> {
        // Recorded before the clears, as when each was recorded on the spot: a problem found and
        // gone in the same pass ends resolved.
        let mut keys = std::collections::HashSet::new();
        let found: Vec<NewException> =
            std::mem::take(&mut self.found).into_iter().filter(|e| keys.insert(e.key.clone())).collect();
        self.new_ids.extend(store::insert_many(tx, &found).await?);
        // One wait per key, the latest: a sale checked twice in one pass (as a row of the import
        // and as the sale a void in the same import cancels) must not put its key twice into one
        // upsert, which PostgreSQL refuses ("cannot affect row a second time").
        let mut latest: BTreeMap<String, store::NewWatch> = BTreeMap::new();
        for watch in std::mem::take(&mut self.watches) {
            latest.insert(watch.0.clone(), watch);
        }
        let watches: Vec<store::NewWatch> = latest.into_values().collect();
        // A key waited on again in this pass is not cleared (the wait is newer).
        let waited: std::collections::HashSet<&str> = watches.iter().map(|w| w.0.as_str()).collect();
        let clears: Vec<String> =
            std::mem::take(&mut self.clears).into_iter().filter(|k| !waited.contains(k.as_str())).collect();
        self.resolved += store::clear_many(tx, &clears).await?;
        store::unwatch_many(tx, &std::mem::take(&mut self.ended)).await?;
        store::watch_many(tx, &watches).await
    }

    /// The records an import brought, and the records they complete.
    async fn import(&mut self, tx: &mut Tx, import_id: i64) -> Result<(), DbError> {
        let mut debits: BTreeMap<i64, SettlementEntry> = BTreeMap::new();
        let settlement = store::settlement_of_import(tx, import_id).await?;
        for chunk in settlement.chunks(CHUNK) {
            self.recs = Records::default();
            let credits: Vec<&SettlementEntry> =
                chunk.iter().map(|(_, e)| e).filter(|e| e.direction == Direction::Credit).collect();
            self.recs.load_returned(tx, &credits).await?;
            for (id, entry) in chunk {
                match entry.direction {
                    Direction::Debit => {
                        debits.insert(*id, entry.clone());
                    }
                    // A credit may end an orphan or a duplicate on the debit it returns.
                    Direction::Credit => debits.extend(self.recs.returned_by(tx, entry).await?),
                }
            }
        }
        let journal = store::journal_of_import(tx, import_id).await?;
        for chunk in journal.chunks(CHUNK) {
            self.recs = Records::default();
            let cancellations: Vec<&JournalRow> =
                chunk.iter().map(|(_, r)| r).filter(|r| r.txn_type != TxnType::Sale).collect();
            self.recs.load_named_sales(tx, &cancellations).await?;
            let mut sales = Vec::new();
            for (id, row) in chunk {
                self.terminals.insert((row.merchant_id.to_string(), row.terminal_id.to_string()));
                if row.txn_type == TxnType::Sale {
                    sales.push((*id, row.clone()));
                } else {
                    // A void, refund or reversal may end an orphan debit or an unsettled sale.
                    let named = self.recs.named_sales(tx, row).await?;
                    sales.extend(named.into_iter().filter(|(_, sale)| cancels(sale, row)));
                }
            }
            debits.extend(self.sales(tx, sales).await?);
        }
        self.debits(tx, debits).await
    }

    /// `unsettled_sale` for each sale, its partners read for many at once; returns the debits
    /// that may be theirs (their arrival may end other waits).
    pub(crate) async fn sales(
        &mut self,
        tx: &mut Tx,
        sales: Vec<(i64, JournalRow)>,
    ) -> Result<Vec<Settlement>, DbError> {
        let mut all = Vec::new();
        for chunk in sales.chunks(CHUNK) {
            self.recs = Records::default();
            let rows: Vec<&JournalRow> = chunk.iter().map(|(_, s)| s).collect();
            self.recs.load_debits_of(tx, &rows).await?;
            let mut owns = Vec::with_capacity(chunk.len());
            for (_, sale) in chunk {
                owns.push(self.recs.debits_of(tx, sale).await?);
            }
            let needing =
                chunk.iter().zip(&owns).filter(|((_, s), own)| self.needs_cancellations(s, own)).map(|((_, s), _)| s);
            let needing: Vec<&JournalRow> = needing.collect();
            self.recs.load_cancellations(tx, &needing).await?;
            for ((id, sale), own) in chunk.iter().zip(owns) {
                self.sale(tx, *id, sale, &own).await?;
                all.extend(own);
            }
        }
        Ok(all)
    }

    /// The debit checks for each debit, its partners read for many at once.
    pub(crate) async fn debits(
        &mut self,
        tx: &mut Tx,
        debits: impl IntoIterator<Item = (i64, SettlementEntry)>,
    ) -> Result<(), DbError> {
        let debits: Vec<(i64, SettlementEntry)> = debits.into_iter().collect();
        for chunk in debits.chunks(CHUNK) {
            self.recs = Records::default();
            let chunk_debits: Vec<&SettlementEntry> = chunk.iter().map(|(_, d)| d).collect();
            let sales = self.prefetch_journal(tx, &chunk_debits).await?;
            // Credits decide only an orphan; neighbours only a cluster of approved sales.
            let failed: Vec<&SettlementEntry> = chunk_debits
                .iter()
                .zip(&sales)
                .filter(|(_, j)| {
                    j.as_ref().is_some_and(|j| j.txn_type == TxnType::Sale && j.status != TxnStatus::Approved)
                })
                .map(|(d, _)| *d)
                .collect();
            self.recs.load_credits(tx, &failed).await?;
            let approved: Vec<&SettlementEntry> = chunk_debits
                .iter()
                .zip(&sales)
                .filter(|(_, j)| {
                    j.as_ref().is_some_and(|j| j.txn_type == TxnType::Sale && j.status == TxnStatus::Approved)
                })
                .map(|(d, _)| *d)
                .collect();
            self.recs.load_neighbours(tx, approved.iter().map(|d| window(d)).collect()).await?;
            // The rare clusters: their members are candidates with credits.
            let mut members = Vec::new();
            for d in &approved {
                let neighbours = self.recs.neighbours(tx, window(d)).await?;
                let same_card: Vec<SettlementEntry> =
                    neighbours.into_iter().filter(|(_, n)| n.card == d.card).map(|(_, n)| n).collect();
                if same_card.len() >= 2 {
                    members.extend(same_card);
                }
            }
            let members: Vec<&SettlementEntry> = members.iter().collect();
            self.prefetch_journal(tx, &members).await?;
            self.recs.load_credits(tx, &members).await?;
            for (id, debit) in chunk {
                self.debit(tx, *id, debit).await?;
            }
        }
        Ok(())
    }

    /// What [`candidate`] reads of the journal for these debits (their rows, and the
    /// cancellations of a sale found by RRN under another trace); returns each one's journal row.
    async fn prefetch_journal(
        &mut self,
        tx: &mut Tx,
        debits: &[&SettlementEntry],
    ) -> Result<Vec<Option<JournalRow>>, DbError> {
        self.recs.load_around(tx, debits).await?;
        let mut found = Vec::with_capacity(debits.len());
        let mut other_trace = Vec::new();
        for d in debits {
            let around: Vec<JournalRow> = self.recs.journal_around(tx, d).await?.into_iter().map(|(_, j)| j).collect();
            let sale = find_journal(d, &around).cloned();
            if let Some(sale) = sale.as_ref().filter(|s| s.trace_no != d.trace_no) {
                other_trace.push(sale.clone());
            }
            found.push(sale);
        }
        self.recs.load_cancellations(tx, &other_trace.iter().collect::<Vec<_>>()).await?;
        Ok(found)
    }

    /// Whether deciding `unsettled_sale` needs the sale's cancellations: only when it has no
    /// debit and is due (before, a cancellation changes nothing yet: the check looks again then).
    fn needs_cancellations(&self, sale: &JournalRow, debits: &[(i64, SettlementEntry)]) -> bool {
        let ctx = self.ctx;
        let due = crate::domain::exceptions::due_after(
            ctx.calendar,
            sale.local_time,
            ctx.exception_waits.unsettled_days,
            ctx.tz,
        );
        !debits.iter().any(|(_, d)| journal_matches(d, sale)) && self.now >= due
    }

    /// `unsettled_sale` for one journal sale, given the debits that may be its own.
    pub(crate) async fn sale(
        &mut self,
        tx: &mut Tx,
        id: i64,
        sale: &JournalRow,
        debits: &[(i64, SettlementEntry)],
    ) -> Result<(), DbError> {
        let key = unsettled_key(sale);
        let has_debit = debits.iter().any(|(_, d)| journal_matches(d, sale));
        let ctx = self.ctx;
        let cancelled = if self.needs_cancellations(sale, debits) {
            self.recs.cancellations_of(tx, sale).await?.iter().any(|(_, other)| cancels(sale, other))
        } else {
            false
        };
        match unsettled_sale(sale, cancelled, has_debit, ctx.exception_waits, ctx.calendar, ctx.tz, self.now) {
            Verdict::Found => {
                self.ended.push(key.clone());
                let e = NewException {
                    key: key.clone(),
                    kind: ExceptionKind::UnsettledSale,
                    merchant_id: sale.merchant_id.to_string(),
                    terminal_id: sale.terminal_id.to_string(),
                    trace_no: sale.trace_no.clone(),
                    rrn: sale.rrn.as_ref().map(|r| r.to_string()),
                    amount_minor: sale.amount.minor,
                    currency: sale.amount.currency.code().to_owned(),
                    other_minor: None,
                    txn_time: sale.local_time.as_second(),
                    settlement_id: None,
                    journal_id: Some(id),
                    import_id: self.import_id,
                };
                self.found.push(e);
            }
            Verdict::DueAt(due) => {
                self.watches.push((key, ExceptionKind::UnsettledSale, None, Some(id), due.as_second()))
            }
            Verdict::Clear => self.clear(key),
        }
        Ok(())
    }

    /// `orphan_debit`, `amount_mismatch` and `duplicate_suspect` for one debit, and the
    /// `unsettled_sale` its arrival ends.
    pub(crate) async fn debit(&mut self, tx: &mut Tx, id: i64, debit: &SettlementEntry) -> Result<(), DbError> {
        if !self.seen.insert(id) {
            return Ok(());
        }
        // Credits are read only where they decide something (an orphan, a duplicate): most
        // debits are approved sales that need neither.
        let mut c = candidate(&mut self.recs, tx, debit, false).await?;
        if let Some(sale) = c.journal.as_ref().filter(|j| j.txn_type == TxnType::Sale) {
            self.clear(unsettled_key(sale));
        }
        let ctx = self.ctx;
        let key = debit_key(ExceptionKind::OrphanDebit, debit);
        let failed = c.journal.as_ref().is_some_and(|j| j.txn_type == TxnType::Sale && j.status != TxnStatus::Approved);
        // Not failed on the terminal: no orphan was ever found or awaited for this debit.
        if failed {
            c.credits = credits(&mut self.recs, tx, debit).await?;
            match orphan_debit(&c, ctx.exception_waits, ctx.calendar, ctx.tz, self.now) {
                Verdict::Found => {
                    self.ended.push(key.clone());
                    let e = debit_exception(&key, ExceptionKind::OrphanDebit, id, debit, None, self.import_id);
                    self.found.push(e);
                }
                Verdict::DueAt(due) => {
                    self.watches.push((key, ExceptionKind::OrphanDebit, Some(id), None, due.as_second()))
                }
                Verdict::Clear => self.clear(key),
            }
        }
        if amount_mismatch(&c) {
            let journal_minor = c.journal.as_ref().map(|j| j.amount.minor);
            let key = debit_key(ExceptionKind::AmountMismatch, debit);
            let e = debit_exception(&key, ExceptionKind::AmountMismatch, id, debit, journal_minor, self.import_id);
            self.found.push(e);
        }
        // Only approved sales make a duplicate cluster (and only with a neighbour).
        if c.journal.as_ref().is_some_and(|j| j.txn_type == TxnType::Sale && j.status == TxnStatus::Approved) {
            self.duplicates(tx, id, c).await?;
        }
        Ok(())
    }

    /// The duplicate cluster around a debit: every debit after the first is suspect.
    async fn duplicates(&mut self, tx: &mut Tx, id: i64, c: Candidate) -> Result<(), DbError> {
        let neighbours = self.recs.neighbours(tx, window(&c.debit)).await?;
        let neighbours: Vec<_> = neighbours.into_iter().filter(|(_, d)| d.card == c.debit.card).collect();
        if neighbours.len() < 2 {
            // Alone (the usual case): nothing to compare. Debits are never deleted, so a debit
            // alone now was never a suspect.
            return Ok(());
        }
        let mut ids = Vec::new();
        let mut set = Vec::new();
        for (nid, d) in neighbours {
            let candidate = if nid == id {
                Candidate { credits: credits(&mut self.recs, tx, &c.debit).await?, ..c.clone() }
            } else {
                candidate(&mut self.recs, tx, &d, true).await?
            };
            ids.push(nid);
            set.push(candidate);
        }
        let suspects = duplicate_suspects(&set);
        for (i, member) in set.iter().enumerate() {
            let key = debit_key(ExceptionKind::DuplicateSuspect, &member.debit);
            if suspects.contains(&i) {
                let e =
                    debit_exception(&key, ExceptionKind::DuplicateSuspect, ids[i], &member.debit, None, self.import_id);
                self.found.push(e);
            } else if credited_back(member) {
                self.clear(key);
            }
        }
        Ok(())
    }

    /// The records say this key's problem is gone (or never was): batched for [`Run::flush`].
    fn clear(&mut self, key: String) {
        self.clears.push(key);
    }
}

/// A debit with its journal row, cancellations and credits (as `cases::candidates` gathers them).
async fn candidate(
    recs: &mut Records,
    tx: &mut Tx,
    debit: &SettlementEntry,
    with_credits: bool,
) -> Result<Candidate, DbError> {
    let mut journal: Vec<JournalRow> = recs.journal_around(tx, debit).await?.into_iter().map(|(_, j)| j).collect();
    // The journal row found by RRN may carry another trace than the host saw; its cancellations
    // point at its own trace.
    if let Some(sale) = find_journal(debit, &journal).filter(|s| s.trace_no != debit.trace_no).cloned() {
        journal.extend(recs.cancellations_of(tx, &sale).await?.into_iter().map(|(_, j)| j));
    }
    let credits = if with_credits { credits(recs, tx, debit).await? } else { Vec::new() };
    Ok(Candidate::assemble(debit.clone(), &journal, &credits))
}

async fn credits(recs: &mut Records, tx: &mut Tx, debit: &SettlementEntry) -> Result<Vec<SettlementEntry>, DbError> {
    Ok(recs.credits_for(tx, debit).await?.into_iter().map(|(_, e)| e).filter(|e| is_credit_for(debit, e)).collect())
}

/// The unique key of an exception on a settlement debit.
pub fn debit_key(kind: ExceptionKind, debit: &SettlementEntry) -> String {
    format!("{}:{}", kind.as_str(), debit.entry_id)
}

/// The unique key of an `unsettled_sale`: the journal row's own key.
pub fn unsettled_key(sale: &JournalRow) -> String {
    let (m, t, b, s) = sale.key();
    format!("{}:{m}:{t}:{b}:{s}", ExceptionKind::UnsettledSale.as_str())
}

fn debit_exception(
    key: &str,
    kind: ExceptionKind,
    id: i64,
    d: &SettlementEntry,
    other_minor: Option<i64>,
    import_id: Option<i64>,
) -> NewException {
    NewException {
        key: key.to_owned(),
        kind,
        merchant_id: d.merchant_id.to_string(),
        terminal_id: d.terminal_id.to_string(),
        trace_no: d.trace_no.clone(),
        rrn: Some(d.rrn.to_string()),
        amount_minor: d.amount.minor,
        currency: d.amount.currency.code().to_owned(),
        other_minor,
        txn_time: d.txn_time.as_second(),
        settlement_id: Some(id),
        journal_id: None,
        import_id,
    }
}

/// Where a debit's duplicate cluster is looked for: same card's last 4, amount, merchant and
/// terminal, within [`CLUSTER_REACH`] either side.
fn window(d: &SettlementEntry) -> Window {
    (
        d.card.last4().to_owned(),
        d.amount.minor,
        d.amount.currency.code().to_owned(),
        d.merchant_id.to_string(),
        d.terminal_id.to_string(),
        (d.txn_time - CLUSTER_REACH).as_second(),
        (d.txn_time + CLUSTER_REACH).as_second(),
    )
}

// The §5 cluster gap is what `duplicate_suspects` chains by; the reach above must exceed it.
const _: () = assert!(CLUSTER_REACH.as_secs() > DUPLICATE_GAP.as_secs());
