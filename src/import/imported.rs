//! What an accepted import brought in, as the keys open cases are found by: the follow-up work
//! (`cases::refresh::after_import`) looks only at cases these keys can change, so it grows with
//! the import, not with the number of cases waiting.

use std::collections::BTreeSet;

use crate::domain::records::{Direction, JournalRow, SettlementEntry};

/// Past this many keys the follow-up reads every waiting case instead: a file that large costs
/// more to import than the waiting cases cost to read, and key lists stay small statements.
pub const MAX_KEYS: usize = 20_000;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// New settlement debits by (card last 4, amount in minor units): claims they may match.
    pub debits: BTreeSet<(String, i64)>,
    /// The RRNs new settlement credits return (`orig_rrn`): remedies they may settle.
    pub credited_rrns: BTreeSet<String>,
    /// New journal rows by RRN, when the terminal got one.
    pub journal_rrns: BTreeSet<String>,
    /// New journal rows by (terminal, trace), for rows without an RRN.
    pub journal_traces: BTreeSet<(String, String)>,
    /// Too many keys to list: every waiting case must be looked at.
    pub everything: bool,
}

impl Imported {
    /// Every waiting case, as before imports kept their keys (and for tools that import by SQL).
    pub fn everything() -> Imported {
        Imported { everything: true, ..Imported::default() }
    }

    fn len(&self) -> usize {
        self.debits.len() + self.credited_rrns.len() + self.journal_rrns.len() + self.journal_traces.len()
    }

    fn check_size(&mut self) {
        if self.len() > MAX_KEYS {
            *self = Imported::everything();
        }
    }

    pub fn add_journal(&mut self, row: &JournalRow) {
        if self.everything {
            return;
        }
        match &row.rrn {
            Some(rrn) => {
                self.journal_rrns.insert(rrn.to_string());
            }
            None => {
                self.journal_traces.insert((row.terminal_id.to_string(), row.trace_no.clone()));
            }
        }
        self.check_size();
    }

    pub fn add_settlement(&mut self, entry: &SettlementEntry) {
        if self.everything {
            return;
        }
        match entry.direction {
            Direction::Debit => {
                self.debits.insert((entry.card.last4().to_owned(), entry.amount.minor));
            }
            Direction::Credit => {
                if let Some(rrn) = &entry.orig_rrn {
                    self.credited_rrns.insert(rrn.to_string());
                }
            }
        }
        self.check_size();
    }

    /// Nothing new: no case can have changed.
    pub fn is_empty(&self) -> bool {
        !self.everything && self.len() == 0
    }
}
