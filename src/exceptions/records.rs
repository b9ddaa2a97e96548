//! The records detection reads around the rows it looks at, read for many rows at once and then
//! answered from memory.
//!
//! Each look-up is a round trip; one per imported row and kind of partner cost several times the
//! import itself on PostgreSQL (BENCHMARKS.md). So detection first `load`s what a whole set of
//! rows needs (one statement per [`store::CHUNK`] keys), then asks for each row's partners here.
//! Asking for what was not loaded loads it for that one row: the answer never depends on what
//! was loaded before, only the number of statements does. Records do not change during a pass
//! (detection writes exceptions and waits, never records), so what is read stays true.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

use crate::db::assemble::Arg;
use crate::db::exceptions::{self as store, Journal, Lookup, Settlement};
use crate::db::{DbError, Tx};
use crate::domain::records::{JournalRow, SettlementEntry};

/// (merchant, terminal, RRN or trace).
type AtTerminal = (String, String, String);
/// (merchant, RRN).
type OfMerchant = (String, String);
/// The cluster window around a debit: (last 4, amount, currency, merchant, terminal, from, to).
pub(crate) type Window = (String, i64, String, String, String, i64, i64);

trait Key: Hash + Eq + Clone {
    fn args(&self) -> Vec<Arg>;
}

impl Key for AtTerminal {
    fn args(&self) -> Vec<Arg> {
        vec![Arg::Text(self.0.clone()), Arg::Text(self.1.clone()), Arg::Text(self.2.clone())]
    }
}

impl Key for OfMerchant {
    fn args(&self) -> Vec<Arg> {
        vec![Arg::Text(self.0.clone()), Arg::Text(self.1.clone())]
    }
}

impl Key for Window {
    fn args(&self) -> Vec<Arg> {
        vec![
            Arg::Text(self.0.clone()),
            Arg::Int(self.1),
            Arg::Text(self.2.clone()),
            Arg::Text(self.3.clone()),
            Arg::Text(self.4.clone()),
            Arg::Int(self.5),
            Arg::Int(self.6),
        ]
    }
}

/// The rows read for each key; a key present with no rows was read and has none.
struct Loaded<K, V>(HashMap<K, Vec<V>>);

impl<K: Key, V> Default for Loaded<K, V> {
    fn default() -> Self {
        Loaded(HashMap::new())
    }
}

impl<K: Key, V: Clone> Loaded<K, V> {
    /// The keys among `keys` not read yet, each once; they are marked read (with no rows).
    fn claim(&mut self, keys: impl IntoIterator<Item = K>) -> Vec<K> {
        let mut new = Vec::new();
        for key in keys {
            if !self.0.contains_key(&key) {
                self.0.insert(key.clone(), Vec::new());
                new.push(key);
            }
        }
        new
    }

    /// Files each row under the key it was read for (equality look-ups: exactly one).
    fn file(&mut self, rows: Vec<V>, key_of: impl Fn(&V) -> Option<K>) {
        for row in rows {
            if let Some(rows) = key_of(&row).and_then(|k| self.0.get_mut(&k)) {
                rows.push(row);
            }
        }
    }

    fn get(&self, key: &K) -> &[V] {
        self.0.get(key).map(Vec::as_slice).unwrap_or_default()
    }
}

fn args<K: Key>(keys: &[K]) -> Vec<Vec<Arg>> {
    keys.iter().map(Key::args).collect()
}

fn at(m: &str, t: &str, x: &str) -> AtTerminal {
    (m.to_owned(), t.to_owned(), x.to_owned())
}

fn of(m: &str, x: &str) -> OfMerchant {
    (m.to_owned(), x.to_owned())
}

/// Rows of several look-ups, each once, by id.
fn union<V: Clone>(parts: &[&[(i64, V)]]) -> Vec<(i64, V)> {
    let mut by_id = BTreeMap::new();
    for part in parts {
        for (id, row) in part.iter() {
            by_id.entry(*id).or_insert_with(|| row.clone());
        }
    }
    by_id.into_iter().collect()
}

#[derive(Default)]
pub(crate) struct Records {
    journal_by_rrn: Loaded<AtTerminal, Journal>,
    journal_by_trace: Loaded<AtTerminal, Journal>,
    journal_by_orig: Loaded<AtTerminal, Journal>,
    debits_by_rrn: Loaded<OfMerchant, Settlement>,
    debits_by_trace: Loaded<AtTerminal, Settlement>,
    credits_by_rrn: Loaded<OfMerchant, Settlement>,
    neighbours: Loaded<Window, Settlement>,
}

impl Records {
    // ---- loading, for many rows at once ----

    /// The journal rows that may be each debit's own (§3.2) or cancel its sale.
    pub async fn load_around(&mut self, tx: &mut Tx, debits: &[&SettlementEntry]) -> Result<(), DbError> {
        let keys = self.journal_by_rrn.claim(debits.iter().map(|d| at(&d.merchant_id, &d.terminal_id, &d.rrn)));
        let rows = store::journal_lookup(tx, Lookup::JournalByRrn, args(&keys)).await?;
        self.journal_by_rrn.file(rows, |(_, j)| j.rrn.as_ref().map(|r| at(&j.merchant_id, &j.terminal_id, r.as_str())));
        let traces: Vec<AtTerminal> = debits.iter().map(|d| at(&d.merchant_id, &d.terminal_id, &d.trace_no)).collect();
        self.load_traces(tx, traces.clone()).await?;
        self.load_orig_traces(tx, traces).await
    }

    /// The voids, refunds and reversals that may cancel each sale.
    pub async fn load_cancellations(&mut self, tx: &mut Tx, sales: &[&JournalRow]) -> Result<(), DbError> {
        let keys = sales.iter().map(|s| at(&s.merchant_id, &s.terminal_id, &s.trace_no)).collect();
        self.load_orig_traces(tx, keys).await
    }

    /// The sales each cancellation names (same terminal, its `orig_trace_no`).
    pub async fn load_named_sales(&mut self, tx: &mut Tx, rows: &[&JournalRow]) -> Result<(), DbError> {
        let keys = rows
            .iter()
            .filter_map(|r| r.orig_trace_no.as_ref().map(|o| at(&r.merchant_id, &r.terminal_id, o)))
            .collect::<Vec<_>>();
        self.load_traces(tx, keys).await
    }

    /// The settlement debits that may be each journal row's (§3.2: by RRN, or by trace).
    pub async fn load_debits_of(&mut self, tx: &mut Tx, rows: &[&JournalRow]) -> Result<(), DbError> {
        let by_rrn = rows.iter().filter_map(|r| r.rrn.as_ref().map(|rrn| of(&r.merchant_id, rrn.as_str()))).collect();
        self.load_debits_by_rrn(tx, by_rrn).await?;
        let keys = self.debits_by_trace.claim(rows.iter().map(|r| at(&r.merchant_id, &r.terminal_id, &r.trace_no)));
        let found = store::settlement_lookup(tx, Lookup::DebitsByTrace, args(&keys)).await?;
        self.debits_by_trace.file(found, |(_, d)| Some(at(&d.merchant_id, &d.terminal_id, &d.trace_no)));
        Ok(())
    }

    /// The debits each credit may return (its `orig_rrn`, its merchant).
    pub async fn load_returned(&mut self, tx: &mut Tx, credits: &[&SettlementEntry]) -> Result<(), DbError> {
        let keys = credits.iter().filter_map(|c| c.orig_rrn.as_ref().map(|o| of(&c.merchant_id, o.as_str()))).collect();
        self.load_debits_by_rrn(tx, keys).await
    }

    /// The credits of each debit's merchant returning its RRN.
    pub async fn load_credits(&mut self, tx: &mut Tx, debits: &[&SettlementEntry]) -> Result<(), DbError> {
        let keys = self.credits_by_rrn.claim(debits.iter().map(|d| of(&d.merchant_id, &d.rrn)));
        let rows = store::settlement_lookup(tx, Lookup::CreditsByOrigRrn, args(&keys)).await?;
        self.credits_by_rrn.file(rows, |(_, c)| c.orig_rrn.as_ref().map(|o| of(&c.merchant_id, o.as_str())));
        Ok(())
    }

    /// The debits in each window (see [`Window`]).
    pub async fn load_neighbours(&mut self, tx: &mut Tx, windows: Vec<Window>) -> Result<(), DbError> {
        let keys = self.neighbours.claim(windows);
        let rows = store::settlement_lookup(tx, Lookup::Neighbours, args(&keys)).await?;
        // A debit may stand in several windows: file it under each (by its window's equal part).
        let mut by_part: HashMap<(&str, i64, &str, &str, &str), Vec<&Window>> = HashMap::new();
        for w in &keys {
            by_part.entry((&w.0, w.1, &w.2, &w.3, &w.4)).or_default().push(w);
        }
        for (id, d) in &rows {
            let part = (d.card.last4(), d.amount.minor, d.amount.currency.code(), &*d.merchant_id, &*d.terminal_id);
            let t = d.txn_time.as_second();
            for w in by_part.get(&part).into_iter().flatten().filter(|w| w.5 <= t && t <= w.6) {
                if let Some(list) = self.neighbours.0.get_mut(*w) {
                    list.push((*id, d.clone()));
                }
            }
        }
        Ok(())
    }

    async fn load_traces(&mut self, tx: &mut Tx, keys: Vec<AtTerminal>) -> Result<(), DbError> {
        let keys = self.journal_by_trace.claim(keys);
        let rows = store::journal_lookup(tx, Lookup::JournalByTrace, args(&keys)).await?;
        self.journal_by_trace.file(rows, |(_, j)| Some(at(&j.merchant_id, &j.terminal_id, &j.trace_no)));
        Ok(())
    }

    async fn load_orig_traces(&mut self, tx: &mut Tx, keys: Vec<AtTerminal>) -> Result<(), DbError> {
        let keys = self.journal_by_orig.claim(keys);
        let rows = store::journal_lookup(tx, Lookup::JournalByOrigTrace, args(&keys)).await?;
        self.journal_by_orig
            .file(rows, |(_, j)| j.orig_trace_no.as_ref().map(|o| at(&j.merchant_id, &j.terminal_id, o)));
        Ok(())
    }

    async fn load_debits_by_rrn(&mut self, tx: &mut Tx, keys: Vec<OfMerchant>) -> Result<(), DbError> {
        let keys = self.debits_by_rrn.claim(keys);
        let rows = store::settlement_lookup(tx, Lookup::DebitsByRrn, args(&keys)).await?;
        self.debits_by_rrn.file(rows, |(_, d)| Some(of(&d.merchant_id, &d.rrn)));
        Ok(())
    }

    // ---- answers, one row at a time (loading what was not loaded) ----

    /// The journal rows that may be the debit's own (§3.2) or cancel its sale.
    pub async fn journal_around(&mut self, tx: &mut Tx, debit: &SettlementEntry) -> Result<Vec<Journal>, DbError> {
        self.load_around(tx, &[debit]).await?;
        let (m, t) = (&debit.merchant_id, &debit.terminal_id);
        Ok(union(&[
            self.journal_by_rrn.get(&at(m, t, &debit.rrn)),
            self.journal_by_trace.get(&at(m, t, &debit.trace_no)),
            self.journal_by_orig.get(&at(m, t, &debit.trace_no)),
        ]))
    }

    /// Journal rows at the sale's terminal pointing at its trace (its voids, refunds, reversals).
    pub async fn cancellations_of(&mut self, tx: &mut Tx, sale: &JournalRow) -> Result<Vec<Journal>, DbError> {
        self.load_cancellations(tx, &[sale]).await?;
        Ok(self.journal_by_orig.get(&at(&sale.merchant_id, &sale.terminal_id, &sale.trace_no)).to_vec())
    }

    /// Journal rows at the row's terminal with the trace it names (the sale it may cancel).
    pub async fn named_sales(&mut self, tx: &mut Tx, row: &JournalRow) -> Result<Vec<Journal>, DbError> {
        let Some(orig) = &row.orig_trace_no else { return Ok(Vec::new()) };
        self.load_named_sales(tx, &[row]).await?;
        Ok(self.journal_by_trace.get(&at(&row.merchant_id, &row.terminal_id, orig)).to_vec())
    }

    /// The settlement debits that may be this journal row's (§3.2: by RRN at its terminal, or by trace).
    pub async fn debits_of(&mut self, tx: &mut Tx, row: &JournalRow) -> Result<Vec<Settlement>, DbError> {
        self.load_debits_of(tx, &[row]).await?;
        let by_rrn: Vec<Settlement> = match &row.rrn {
            Some(rrn) => self
                .debits_by_rrn
                .get(&of(&row.merchant_id, rrn.as_str()))
                .iter()
                .filter(|(_, d)| d.terminal_id == row.terminal_id)
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        let by_trace = self.debits_by_trace.get(&at(&row.merchant_id, &row.terminal_id, &row.trace_no));
        Ok(union(&[by_rrn.as_slice(), by_trace]))
    }

    /// The debits a credit may return (its `orig_rrn`, its merchant).
    pub async fn returned_by(&mut self, tx: &mut Tx, credit: &SettlementEntry) -> Result<Vec<Settlement>, DbError> {
        let Some(orig) = &credit.orig_rrn else { return Ok(Vec::new()) };
        self.load_returned(tx, &[credit]).await?;
        Ok(union(&[self.debits_by_rrn.get(&of(&credit.merchant_id, orig.as_str()))]))
    }

    /// Rows of the debit's merchant whose `orig_rrn` is its RRN, in time order.
    pub async fn credits_for(&mut self, tx: &mut Tx, debit: &SettlementEntry) -> Result<Vec<Settlement>, DbError> {
        self.load_credits(tx, &[debit]).await?;
        let mut rows = self.credits_by_rrn.get(&of(&debit.merchant_id, &debit.rrn)).to_vec();
        rows.sort_by_key(|(id, c)| (c.txn_time, *id));
        Ok(rows)
    }

    /// The debits in a window, in time order.
    pub async fn neighbours(&mut self, tx: &mut Tx, window: Window) -> Result<Vec<Settlement>, DbError> {
        self.load_neighbours(tx, vec![window.clone()]).await?;
        let mut rows = union(&[self.neighbours.get(&window)]);
        rows.sort_by_key(|(id, d)| (d.txn_time, *id));
        Ok(rows)
    }
}

/// Distinct ids, for reading records by id.
pub(crate) fn ids(ids: impl IntoIterator<Item = i64>) -> Vec<Vec<Arg>> {
    let unique: HashSet<i64> = ids.into_iter().collect();
    unique.into_iter().map(|id| vec![Arg::Int(id)]).collect()
}
