//! Finding the sale a settlement credit returns when the file names it by trace and time, not RRN.
//!
//! Two places hold such sales. The debits read most recently from this file wait in
//! [`Originals`], a bounded window keyed exactly (no hashing of the key, so no collision can hand
//! a credit the wrong RRN) and holding the RRN as 12 bytes: memory stays flat whatever the file's
//! size. A credit whose sale is not in the window becomes [`Pending`]; the importer looks it up
//! in the database, inside the import's transaction ([`resolve`]), where it finds debits of
//! earlier files and the debits of this file that left the window (they are inserted by then:
//! the window is longer than a batch, and batches are inserted in file order).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;

use crate::db::records::{BATCH_ROWS, debit_rrn_by_trace_time};
use crate::db::{DbError, Tx};
use crate::domain::ids::Rrn;
use crate::domain::records::{FieldError, SettlementEntry};

/// Debits kept in memory for credits that follow them: 32-byte keys and 12-byte RRNs in a map
/// and the keys again in a queue, about 4.5 MiB when the window is full, whatever the file. Same-file
/// reversals and voids follow their sale closely; a credit further back costs one indexed query.
pub const WINDOW: usize = 32_768;

// A debit that left the window must already be in the database when a credit needs it.
const _: () = assert!(WINDOW > BATCH_ROWS);

/// Row problem: a credit names an original (trace and time) found neither in the file nor in
/// the settlement records already imported.
pub const ORIG_NOT_FOUND: &str = "profile_orig_not_found";

/// A sale as a credit names it: merchant, trace number and the instant of its time. Exact and
/// fixed-size; `None` when the text does not fit (such a value matches nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OrigKey {
    merchant: [u8; 15],
    trace: [u8; 6],
    time: i64,
}

impl OrigKey {
    pub fn new(merchant: &str, trace: &str, time: Timestamp) -> Option<OrigKey> {
        // Merchant ids are ASCII letters and digits, so zero padding cannot make two equal.
        if merchant.len() > 15 || merchant.bytes().any(|b| b == 0) || trace.len() != 6 {
            return None;
        }
        let mut key = OrigKey { merchant: [0; 15], trace: [0; 6], time: time.as_second() };
        key.merchant[..merchant.len()].copy_from_slice(merchant.as_bytes());
        key.trace.copy_from_slice(trace.as_bytes());
        Some(key)
    }

    pub fn merchant(&self) -> &str {
        let end = self.merchant.iter().position(|b| *b == 0).unwrap_or(15);
        std::str::from_utf8(&self.merchant[..end]).unwrap_or_default()
    }

    pub fn trace(&self) -> &str {
        std::str::from_utf8(&self.trace).unwrap_or_default()
    }

    pub fn time(&self) -> i64 {
        self.time
    }
}

/// The last `capacity` debits of the file, oldest forgotten first. A later debit with the same
/// key replaces an earlier one (the credit returns the latest sale before it, as the database
/// lookup does).
pub struct Originals {
    map: HashMap<OrigKey, ([u8; 12], u32)>,
    order: VecDeque<(OrigKey, u32)>,
    capacity: usize,
    /// Tells apart two slots of one key; wraps, as only the window's slots are compared.
    seq: u32,
}

impl Originals {
    pub fn new(capacity: usize) -> Originals {
        Originals { map: HashMap::new(), order: VecDeque::new(), capacity: capacity.max(1), seq: 0 }
    }

    /// Remembers a debit; an RRN that is not 12 ASCII bytes is not one (its row is bad anyway).
    pub fn remember(&mut self, key: OrigKey, rrn: &str) {
        let Ok(rrn) = <[u8; 12]>::try_from(rrn.as_bytes()) else { return };
        self.seq = self.seq.wrapping_add(1);
        self.map.insert(key, (rrn, self.seq));
        self.order.push_back((key, self.seq));
        while self.order.len() > self.capacity {
            let Some((old, seq)) = self.order.pop_front() else { break };
            // Only the entry this slot put there: a later debit with the same key stays.
            if self.map.get(&old).is_some_and(|(_, s)| *s == seq) {
                self.map.remove(&old);
            }
        }
    }

    pub fn find(&self, key: &OrigKey) -> Option<&str> {
        self.map.get(key).and_then(|(rrn, _)| std::str::from_utf8(rrn).ok())
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// A credit read without its original's RRN: the line it came from, the sale it names, and the
/// file's names for the fields that name it (for the message if it is found nowhere).
#[derive(Clone, Debug)]
pub struct Pending {
    pub line: u64,
    pub key: OrigKey,
    pub source: String,
    /// The original's time as the file writes it.
    pub written: String,
}

/// Credits waiting for the database, in file order: the reader adds, the importer takes.
pub type PendingQueue = Arc<Mutex<VecDeque<Pending>>>;

/// Gives the pending credits among `batch` (good rows up to line `last`, in file order) their
/// original's RRN from the database, inside the import's transaction. A credit whose sale is
/// nowhere leaves the batch and comes back as a problem of its line.
pub async fn resolve(
    tx: &mut Tx,
    queue: &PendingQueue,
    last: u64,
    batch: &mut Vec<(u64, SettlementEntry)>,
    check: bool,
) -> Result<Vec<(u64, FieldError)>, DbError> {
    let due: Vec<Pending> = {
        let mut q = queue.lock().expect("pending lock");
        let n = q.iter().take_while(|p| p.line <= last).count();
        q.drain(..n).collect()
    };
    let mut problems = Vec::new();
    if due.is_empty() || !check {
        // An import already refused inserts nothing more: a lookup would miss this file's own
        // debits and report credits that are fine. Their rows are dropped with the file.
        return Ok(problems);
    }
    let mut missing = Vec::new();
    for p in due {
        let Ok(at) = batch.binary_search_by_key(&p.line, |(line, _)| *line) else { continue };
        let k = &p.key;
        match debit_rrn_by_trace_time(tx, k.merchant(), k.trace(), k.time()).await?.and_then(|r| Rrn::parse(&r)) {
            Some(rrn) => batch[at].1.orig_rrn = Some(rrn),
            None => {
                missing.push(at);
                let args = vec![("trace", k.trace().to_owned()), ("time", p.written), ("source", p.source)];
                problems.push((p.line, FieldError { column: Some("orig_rrn"), code: ORIG_NOT_FOUND, args }));
            }
        }
    }
    for at in missing.into_iter().rev() {
        batch.remove(at);
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(merchant: &str, trace: &str, second: i64) -> OrigKey {
        OrigKey::new(merchant, trace, Timestamp::from_second(second).unwrap()).unwrap()
    }

    #[test]
    fn keys_are_exact_and_refuse_what_does_not_fit() {
        let k = key("851424736185314", "000103", 1_767_153_600);
        assert_eq!((k.merchant(), k.trace(), k.time()), ("851424736185314", "000103", 1_767_153_600));
        assert_eq!(key("M1", "000103", 5).merchant(), "M1");
        assert_ne!(key("M1", "000103", 5), key("M10", "000103", 5));
        assert_ne!(key("M1", "000103", 5), key("M1", "000103", 6));
        let t = Timestamp::from_second(5).unwrap();
        assert_eq!(OrigKey::new("8514247361853140", "000103", t), None, "16 characters is no merchant id");
        assert_eq!(OrigKey::new("M1", "0001030", t), None, "a 7-digit trace is not cut to 6");
        assert_eq!(OrigKey::new("M1", "", t), None);
    }

    #[test]
    fn the_window_finds_the_latest_debit_and_forgets_the_oldest() {
        let mut o = Originals::new(3);
        o.remember(key("M1", "000001", 1), "612312000001");
        o.remember(key("M2", "000001", 1), "612312000002");
        assert_eq!(o.find(&key("M1", "000001", 1)), Some("612312000001"));
        assert_eq!(o.find(&key("M2", "000001", 1)), Some("612312000002"), "another merchant's sale");
        assert_eq!(o.find(&key("M1", "000001", 2)), None);
        // The same key again: the later sale is the one, and it outlives the first's slot.
        o.remember(key("M1", "000001", 1), "612312000003");
        assert_eq!(o.find(&key("M1", "000001", 1)), Some("612312000003"));
        o.remember(key("M3", "000001", 1), "612312000004");
        assert_eq!(o.find(&key("M1", "000001", 1)), Some("612312000003"), "the first slot left");
        assert_eq!(o.find(&key("M2", "000001", 1)), Some("612312000002"));
        o.remember(key("M4", "000001", 1), "612312000005");
        assert_eq!(o.find(&key("M2", "000001", 1)), None, "forgotten: older than the window");
        assert_eq!(o.len(), 3);
        // Not an RRN: not remembered.
        o.remember(key("M5", "000001", 1), "6123");
        assert_eq!(o.find(&key("M5", "000001", 1)), None);
    }

    #[test]
    fn memory_is_bounded_by_the_window() {
        let mut o = Originals::new(1000);
        for i in 0..100_000 {
            o.remember(key("851424736185314", &format!("{:06}", i % 1_000_000), i), "612312000001");
        }
        assert_eq!(o.len(), 1000);
        assert!(o.order.len() <= 1000);
    }
}
