//! What every outcome of the journal and settlement readers must satisfy, whatever the bytes.
//!
//! - the reader ends, and stays ended;
//! - line numbers only grow, and stay within the file (see `check_lines` for line breaks);
//! - an accepted record written back as CSV reads back as the same record;
//! - no accepted value and no error message shows a full card number (a valid `merchant_id` is
//!   exempt, as in the reader itself).

use redress::domain::card::contains_full_card_number;
use redress::domain::records::{JournalFields, JournalRow, SettlementEntry, SettlementFields, is_merchant_id};
use redress::import::parse::{
    FileError, Item, JOURNAL_COLUMNS, JournalReader, RowError, SETTLEMENT_COLUMNS, SettlementReader,
};

use crate::record_text::{csv_file, journal_record, settlement_record};

pub fn check_journal_file(file: &[u8]) {
    match JournalReader::new(file) {
        Err(err) => check_file_error(&err),
        Ok(reader) => check_items(file, reader, check_journal_row),
    }
}

pub fn check_settlement_file(file: &[u8]) {
    match SettlementReader::new(file) {
        Err(err) => check_file_error(&err),
        Ok(reader) => check_items(file, reader, check_settlement_entry),
    }
}

fn check_journal_row(row: &JournalRow) {
    let r = journal_record(row);
    assert_shows_no_card_number(&r);
    let fields = JournalFields {
        merchant_id: &r[0],
        terminal_id: &r[1],
        batch_no: &r[2],
        trace_no: &r[3],
        rrn: &r[4],
        auth_code: &r[5],
        txn_type: &r[6],
        status: &r[7],
        receipt_printed: &r[8],
        card: &r[9],
        amount: &r[10],
        currency: &r[11],
        local_time: &r[12],
        orig_trace_no: &r[13],
        orig_batch_no: &r[14],
        response_code: &r[15],
        terminal_event: &r[16],
    };
    assert_eq!(JournalRow::from_fields(&fields).as_ref(), Ok(row), "fields {r:?}");
    let text = csv_file(&JOURNAL_COLUMNS, std::slice::from_ref(&r));
    let again: Vec<_> = JournalReader::new(&text[..]).expect("a written header reads").collect();
    assert_eq!(again, vec![Ok((2, row.clone()))], "written {:?}", String::from_utf8_lossy(&text));
}

fn check_settlement_entry(entry: &SettlementEntry) {
    let r = settlement_record(entry);
    assert_shows_no_card_number(&r);
    let fields = SettlementFields {
        entry_id: &r[0],
        merchant_id: &r[1],
        terminal_id: &r[2],
        trace_no: &r[3],
        rrn: &r[4],
        card: &r[5],
        direction: &r[6],
        amount: &r[7],
        currency: &r[8],
        txn_time: &r[9],
        settled_on: &r[10],
        orig_rrn: &r[11],
    };
    assert_eq!(SettlementEntry::from_fields(&fields).as_ref(), Ok(entry), "fields {r:?}");
    let text = csv_file(&SETTLEMENT_COLUMNS, std::slice::from_ref(&r));
    let again: Vec<_> = SettlementReader::new(&text[..]).expect("a written header reads").collect();
    assert_eq!(again, vec![Ok((2, entry.clone()))], "written {:?}", String::from_utf8_lossy(&text));
}

/// Both layouts put `merchant_id` first or second; the exemption is by value, as in the reader.
fn assert_shows_no_card_number(record: &[String]) {
    for value in record {
        if !is_merchant_id(value) {
            assert!(!contains_full_card_number(value), "an accepted value shows a full card number: {value:?}");
        }
    }
}

/// What a report shows of an error is its code and its arguments, put into the catalog's words.
/// (Checked as values: `Debug` escapes a NUL as `\0`, and that digit can join digits after it.)
fn assert_says_no_card_number(args: &[(&'static str, String)]) {
    for (name, value) in args {
        assert!(!contains_full_card_number(value), "an error shows a full card number in {name}: {value:?}");
    }
}

fn check_file_error(err: &FileError) {
    assert!(!err.code().is_empty());
    assert_says_no_card_number(&err.args());
}

fn check_row_error(err: &RowError) {
    assert!(!err.problems.is_empty(), "a row error names no problem");
    for problem in &err.problems {
        assert_says_no_card_number(&problem.args);
    }
    // A file-rejecting row names the rejecting problem as the file's.
    assert_eq!(err.rejects_file(), err.file_problem().is_some());
}

fn check_items<T>(file: &[u8], reader: impl Iterator<Item = Item<T>>, check_ok: impl Fn(&T)) {
    let mut reader = reader.fuse();
    let mut lines = Vec::new();
    for item in reader.by_ref() {
        // Every record takes at least one byte, so more items than bytes means it never ends.
        assert!(lines.len() <= file.len(), "the reader does not end");
        match item {
            Ok((line, record)) => {
                lines.push(line);
                check_ok(&record);
            }
            Err(err) => {
                lines.push(err.line);
                check_row_error(&err);
            }
        }
    }
    assert!(reader.next().is_none());
    check_lines(file, &lines);
}

/// The csv crate also ends a record at a lone '\r' (old Mac files); those count no line, so
/// records can share one. With '\n' or "\r\n" endings every record is on a later line.
fn check_lines(file: &[u8], lines: &[u64]) {
    let breaks = file.iter().filter(|&&b| b == b'\n').count() as u64;
    let lone_cr = file.iter().enumerate().any(|(i, &b)| b == b'\r' && file.get(i + 1) != Some(&b'\n'));
    for (i, &line) in lines.iter().enumerate() {
        assert!(line >= 1 && line <= breaks + 1, "line {line} of a file with {breaks} line breaks");
        if i > 0 {
            let previous = lines[i - 1];
            if lone_cr {
                assert!(line >= previous, "line numbers went back: {lines:?}");
            } else {
                assert!(line >= 2 && line > previous, "line numbers not increasing: {lines:?}");
            }
        } else if !lone_cr {
            assert!(line >= 2, "a record on the header's line: {lines:?}");
        }
    }
}
