//! Parsed journal rows and settlement entries written back as the CSV fields of §3.1 and §3.2.
//!
//! Redress has no writer for a parsed row (only `redress gen`, which writes from its own
//! generator state), so the round-trip checks need this small one: parse → write → parse must
//! give the same record.

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use redress::domain::records::{JournalRow, SettlementEntry};

/// RFC 3339 with the record's own offset, seconds always written: `2026-11-08T16:28:11+08:00`.
/// Built from the civil fields by hand, so a formatting quirk of jiff cannot hide a parser bug.
pub fn rfc3339(at: Timestamp, offset: Offset) -> String {
    let dt = at.to_zoned(TimeZone::fixed(offset)).datetime();
    let seconds = offset.seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        abs / 3600,
        abs % 3600 / 60
    )
}

/// The fields of `row`, in the order of `JOURNAL_COLUMNS`.
pub fn journal_record(row: &JournalRow) -> [String; 17] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        row.merchant_id.to_string(),
        row.terminal_id.to_string(),
        row.batch_no.clone(),
        row.trace_no.clone(),
        row.rrn.as_ref().map(|r| r.to_string()).unwrap_or_default(),
        opt(&row.auth_code),
        row.txn_type.as_str().to_owned(),
        row.status.as_str().to_owned(),
        row.receipt_printed.to_string(),
        row.card.as_str().to_owned(),
        row.amount.major_string(),
        row.amount.currency.code().to_owned(),
        rfc3339(row.local_time, row.local_offset),
        opt(&row.orig_trace_no),
        opt(&row.orig_batch_no),
        opt(&row.response_code),
        row.terminal_event.map(|e| e.as_str().to_owned()).unwrap_or_default(),
    ]
}

/// The fields of `entry`, in the order of `SETTLEMENT_COLUMNS`.
pub fn settlement_record(entry: &SettlementEntry) -> [String; 12] {
    [
        entry.entry_id.clone(),
        entry.merchant_id.to_string(),
        entry.terminal_id.to_string(),
        entry.trace_no.clone(),
        entry.rrn.to_string(),
        entry.card.as_str().to_owned(),
        entry.direction.as_str().to_owned(),
        entry.amount.major_string(),
        entry.amount.currency.code().to_owned(),
        rfc3339(entry.txn_time, entry.txn_offset),
        entry.settled_on.to_string(),
        entry.orig_rrn.as_ref().map(|r| r.to_string()).unwrap_or_default(),
    ]
}

/// A whole CSV file: the header, then one line per record, as the csv crate quotes it.
pub fn csv_file<const N: usize>(header: &[&str; N], records: &[[String; N]]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for record in records {
        w.write_record(record).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}
