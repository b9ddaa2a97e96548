//! Streaming readers for `journal.csv` and `settlement.csv`: header checks, line numbers, and the full-card-number guard.
//!
//! A reader checks the header when it is built and then yields one row at a
//! time, reusing a single record buffer, so memory does not grow with the file.
//! Whether a file lands is the importer's decision; this module only says, per
//! row, what is wrong and whether it must reject the whole file.

use std::io::{BufRead, BufReader, Read};

use crate::domain::records::{FieldError, JournalFields, JournalRow, SettlementEntry, SettlementFields};
use crate::domain::screen::{Shape, contains_full_card_number, holds_card_number};

/// Journal columns, in the order of `JournalFields`.
pub const JOURNAL_COLUMNS: [&str; 17] = [
    "merchant_id",
    "terminal_id",
    "batch_no",
    "trace_no",
    "rrn",
    "auth_code",
    "txn_type",
    "status",
    "receipt_printed",
    "card",
    "amount",
    "currency",
    "local_time",
    "orig_trace_no",
    "orig_batch_no",
    "response_code",
    "terminal_event",
];
const JOURNAL_LAYOUT: Layout<17> = Layout {
    columns: &JOURNAL_COLUMNS,
    optional: &["rrn", "auth_code", "orig_trace_no", "orig_batch_no", "response_code", "terminal_event"],
    allowed: "merchant_id, terminal_id, batch_no, trace_no, rrn, auth_code, txn_type, status, receipt_printed, card, \
              amount, currency, local_time, orig_trace_no, orig_batch_no, response_code, terminal_event",
};

/// Settlement columns, in the order of `SettlementFields`.
pub const SETTLEMENT_COLUMNS: [&str; 12] = [
    "entry_id",
    "merchant_id",
    "terminal_id",
    "trace_no",
    "rrn",
    "card",
    "direction",
    "amount",
    "currency",
    "txn_time",
    "settled_on",
    "orig_rrn",
];
const SETTLEMENT_LAYOUT: Layout<12> = Layout {
    columns: &SETTLEMENT_COLUMNS,
    optional: &["orig_rrn"],
    allowed: "entry_id, merchant_id, terminal_id, trace_no, rrn, card, direction, amount, currency, txn_time, \
              settled_on, orig_rrn",
};

/// What the header of one kind of file may hold.
struct Layout<const N: usize> {
    columns: &'static [&'static str; N],
    optional: &'static [&'static str],
    /// The column names for the unknown-column message (built at compile time).
    allowed: &'static str,
}

/// Row problem: a full card number in a field. Rejects the file.
pub const FULL_CARD_NUMBER: &str = "full_card_number";
/// Row problem: the line is not UTF-8 text. Rejects the file.
pub const ROW_NOT_UTF8: &str = "row_not_utf8";
/// Row problem: the file could not be read on. Rejects the file; iteration ends.
pub const READ_FAILED: &str = "read_failed";
/// Row problem: the line has more or fewer fields than the header.
pub const FIELD_COUNT: &str = "field_count";

/// Unknown column names are echoed back to the user, but not at any length.
const MAX_ECHOED_NAME: usize = 40;

/// Why a whole file is refused before any row is read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("line {line} is not UTF-8")]
    NotUtf8 { line: u64 },
    #[error("unknown column {column:?}")]
    UnknownColumn { column: String, allowed: &'static str },
    #[error("missing column {column}")]
    MissingColumn { column: &'static str },
    #[error("column {column} appears more than once")]
    DuplicateColumn { column: &'static str },
    #[error("column {position} of the header has no name")]
    BlankColumnName { position: usize },
    #[error("the header contains a full card number")]
    FullCardNumber { line: u64 },
    #[error("reading the file failed: {kind}")]
    Read { kind: std::io::ErrorKind },
    /// The import profile names a column the file's header does not have.
    #[error("the profile's column {column:?} is not in the header")]
    ProfileColumn { column: String },
    /// The import profile reads the other kind of file.
    #[error("the profile reads {profile_kind} files")]
    ProfileKind { profile_kind: &'static str },
}

impl FileError {
    pub fn code(&self) -> &'static str {
        match self {
            FileError::Empty => "file_empty",
            FileError::NotUtf8 { .. } => "file_not_utf8",
            FileError::UnknownColumn { .. } => "file_unknown_column",
            FileError::MissingColumn { .. } => "file_missing_column",
            FileError::DuplicateColumn { .. } => "file_duplicate_column",
            FileError::BlankColumnName { .. } => "file_blank_column_name",
            FileError::FullCardNumber { .. } => "file_full_card_number",
            FileError::Read { .. } => "file_read_failed",
            FileError::ProfileColumn { .. } => "file_profile_column",
            FileError::ProfileKind { .. } => "file_profile_kind",
        }
    }

    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            FileError::Empty | FileError::Read { .. } => Vec::new(),
            FileError::NotUtf8 { line } | FileError::FullCardNumber { line } => {
                vec![("line", line.to_string())]
            }
            FileError::UnknownColumn { column, allowed } => {
                vec![("column", column.clone()), ("allowed", (*allowed).to_owned())]
            }
            FileError::MissingColumn { column } | FileError::DuplicateColumn { column } => {
                vec![("column", (*column).to_owned())]
            }
            FileError::BlankColumnName { position } => vec![("position", position.to_string())],
            FileError::ProfileColumn { column } => vec![("column", column.clone())],
            FileError::ProfileKind { profile_kind } => vec![("kind", (*profile_kind).to_owned())],
        }
    }
}

/// Everything wrong with one line of the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {}", self.problems.iter().map(|p| p.code).collect::<Vec<_>>().join(", "))]
pub struct RowError {
    /// 1-based; the header is line 1.
    pub line: u64,
    pub problems: Vec<FieldError>,
}

impl RowError {
    fn single(line: u64, column: Option<&'static str>, code: &'static str, args: Vec<(&'static str, String)>) -> Self {
        RowError { line, problems: vec![FieldError { column, code, args }] }
    }

    /// True when this row makes the whole file unacceptable: a full card number
    /// (which must not be stored anywhere), text that is not UTF-8, or a read failure.
    pub fn rejects_file(&self) -> bool {
        self.file_problem().is_some()
    }

    /// The problem that makes the whole file unacceptable, when there is one. Not always the
    /// first: an amount that reads as a card number is found after the fields before it.
    pub fn file_problem(&self) -> Option<&FieldError> {
        self.problems.iter().find(|p| matches!(p.code, FULL_CARD_NUMBER | ROW_NOT_UTF8 | READ_FAILED))
    }

    pub fn has_full_card_number(&self) -> bool {
        self.problems.iter().any(|p| p.code == FULL_CARD_NUMBER)
    }
}

/// What a `JournalReader` yields: `(line, row)` or what is wrong with that line.
pub type JournalItem = Result<(u64, JournalRow), RowError>;
/// What a `SettlementReader` yields: `(line, entry)` or what is wrong with that line.
pub type SettlementItem = Result<(u64, SettlementEntry), RowError>;

/// A parsed row of either kind, with its line number, or what is wrong with it.
pub type Item<T> = Result<(u64, T), RowError>;

/// Reads `journal.csv` one row at a time.
pub struct JournalReader<R> {
    table: Table<R, 17>,
}

impl<R: Read> JournalReader<R> {
    /// Reads and checks the header. Fails on an empty file, unknown, missing,
    /// duplicate or blank columns, a header that is not UTF-8, or a card number in it.
    pub fn new(reader: R) -> Result<Self, FileError> {
        Ok(JournalReader { table: Table::open(reader, &JOURNAL_LAYOUT)? })
    }
}

impl<R: Read> Iterator for JournalReader<R> {
    /// `(line, row)`: the 1-based line the row starts on (the header is line 1).
    type Item = JournalItem;

    fn next(&mut self) -> Option<Self::Item> {
        let line = match self.table.next_record()? {
            Ok(line) => line,
            Err(err) => return Some(Err(err)),
        };
        let t = &self.table;
        let fields = JournalFields {
            merchant_id: t.field(0),
            terminal_id: t.field(1),
            batch_no: t.field(2),
            trace_no: t.field(3),
            rrn: t.field(4),
            auth_code: t.field(5),
            txn_type: t.field(6),
            status: t.field(7),
            receipt_printed: t.field(8),
            card: t.field(9),
            amount: t.field(10),
            currency: t.field(11),
            local_time: t.field(12),
            orig_trace_no: t.field(13),
            orig_batch_no: t.field(14),
            response_code: t.field(15),
            terminal_event: t.field(16),
        };
        Some(JournalRow::from_fields(&fields).map(|row| (line, row)).map_err(|problems| RowError { line, problems }))
    }
}

/// Reads `settlement.csv` one row at a time.
pub struct SettlementReader<R> {
    table: Table<R, 12>,
}

impl<R: Read> SettlementReader<R> {
    /// Reads and checks the header; see `JournalReader::new`.
    pub fn new(reader: R) -> Result<Self, FileError> {
        Ok(SettlementReader { table: Table::open(reader, &SETTLEMENT_LAYOUT)? })
    }
}

impl<R: Read> Iterator for SettlementReader<R> {
    /// `(line, entry)`: the 1-based line the entry starts on (the header is line 1).
    type Item = SettlementItem;

    fn next(&mut self) -> Option<Self::Item> {
        let line = match self.table.next_record()? {
            Ok(line) => line,
            Err(err) => return Some(Err(err)),
        };
        let t = &self.table;
        let fields = SettlementFields {
            entry_id: t.field(0),
            merchant_id: t.field(1),
            terminal_id: t.field(2),
            trace_no: t.field(3),
            rrn: t.field(4),
            card: t.field(5),
            direction: t.field(6),
            amount: t.field(7),
            currency: t.field(8),
            txn_time: t.field(9),
            settled_on: t.field(10),
            orig_rrn: t.field(11),
        };
        Some(
            SettlementEntry::from_fields(&fields)
                .map(|entry| (line, entry))
                .map_err(|problems| RowError { line, problems }),
        )
    }
}

/// The part both readers share: a CSV reader, one reused record, and where each
/// known column sits in this particular file.
struct Table<R, const N: usize> {
    csv: csv::Reader<LineCounter<R>>,
    record: csv::StringRecord,
    /// For each known column (in the order of the column list), its index in the file.
    index_of: [Option<usize>; N],
    /// For each index in the file, its column name.
    name_at: Vec<&'static str>,
    /// Index of `merchant_id`: a valid merchant id may pass Luhn by chance.
    merchant_id_at: Option<usize>,
    finished: bool,
}

impl<R: Read, const N: usize> Table<R, N> {
    fn open(reader: R, layout: &Layout<N>) -> Result<Self, FileError> {
        let columns = layout.columns;
        // Flexible: a short or long line is reported as a row problem, not a read error.
        // The csv crate skips a UTF-8 BOM at the start by itself.
        let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(LineCounter::new(reader));
        let mut record = csv::StringRecord::new();
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return Err(FileError::Empty),
            Err(err) => return Err(file_error(&err, csv.get_ref().lines_begun)),
        }
        let header_line = csv.get_ref().lines_begun;
        if record.iter().any(contains_full_card_number) {
            return Err(FileError::FullCardNumber { line: header_line });
        }
        let mut index_of = [None; N];
        let mut name_at = Vec::with_capacity(record.len());
        for (at, name) in record.iter().enumerate() {
            if name.is_empty() {
                return Err(FileError::BlankColumnName { position: at + 1 });
            }
            let Some(known) = columns.iter().position(|c| *c == name) else {
                return Err(FileError::UnknownColumn { column: echoed_name(name), allowed: layout.allowed });
            };
            if index_of[known].is_some() {
                return Err(FileError::DuplicateColumn { column: columns[known] });
            }
            index_of[known] = Some(at);
            name_at.push(columns[known]);
        }
        if let Some(missing) = columns
            .iter()
            .zip(&index_of)
            .find_map(|(column, index)| (index.is_none() && !layout.optional.contains(column)).then_some(*column))
        {
            return Err(FileError::MissingColumn { column: missing });
        }
        let merchant_id_at = columns.iter().position(|c| *c == "merchant_id").and_then(|i| index_of[i]);
        Ok(Table { csv, record, index_of, name_at, merchant_id_at, finished: false })
    }

    /// Reads the next line into `self.record` and checks what is checked before any
    /// field is interpreted: card numbers and the field count. `Ok(line)` when the
    /// record is ready for `field()`.
    fn next_record(&mut self) -> Option<Result<u64, RowError>> {
        if self.finished {
            return None;
        }
        match self.csv.read_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.finished = true;
                return None;
            }
            Err(err) => {
                // The record could not be decoded, so newlines inside quotes cannot
                // be counted: this is the line the bad record ends on.
                let line = self.csv.get_ref().lines_begun;
                return Some(Err(match err.kind() {
                    csv::ErrorKind::Utf8 { .. } => RowError::single(line, None, ROW_NOT_UTF8, Vec::new()),
                    _ => {
                        // An I/O failure leaves the stream in an unknown state: stop here.
                        self.finished = true;
                        RowError::single(line, None, READ_FAILED, Vec::new())
                    }
                }));
            }
        }
        let line = self.start_line();

        let mut problems = Vec::new();
        for (at, value) in self.record.iter().enumerate() {
            let shape = if Some(at) == self.merchant_id_at { Shape::MerchantIds } else { Shape::Line };
            if holds_card_number(value, shape) {
                // The value itself is never copied: it must not reach logs or screens.
                problems.push(FieldError {
                    column: self.name_at.get(at).copied(),
                    code: FULL_CARD_NUMBER,
                    args: Vec::new(),
                });
            }
        }
        if self.record.len() != self.name_at.len() {
            problems.push(FieldError {
                column: None,
                code: FIELD_COUNT,
                args: vec![("expected", self.name_at.len().to_string()), ("found", self.record.len().to_string())],
            });
        }
        if problems.is_empty() { Some(Ok(line)) } else { Some(Err(RowError { line, problems })) }
    }

    /// The line the current record starts on: the line it ends on, less the line
    /// breaks inside its quoted fields.
    fn start_line(&self) -> u64 {
        let bytes = self.record.as_slice().as_bytes();
        // `contains` on bytes is a memchr; almost no record has a quoted line break.
        let mut inner_breaks = if bytes.contains(&b'\n') { bytes.iter().filter(|&&b| b == b'\n').count() } else { 0 };
        let counter = self.csv.get_ref();
        // A quote left open runs to the end of the file, through its last line break; no line
        // begins after that break, so it is not one the record spans.
        if counter.reached_end && counter.at_line_start && inner_breaks > 0 {
            inner_breaks -= 1;
        }
        counter.lines_begun - inner_breaks as u64
    }

    /// The value of known column number `column` in the current record; `""` when
    /// the file has no such column.
    fn field(&self, column: usize) -> &str {
        self.index_of[column].and_then(|at| self.record.get(at)).unwrap_or("")
    }
}

/// Hands the CSV parser at most one line per read and counts the lines begun.
///
/// The csv crate's own record positions are off by one for CRLF files (it ends a
/// record at the '\r' and counts the line at the '\n' that follows). Since the
/// parser only asks for more input when its record is not yet complete, the
/// number of lines handed out when a record is returned is the line it ends on.
struct LineCounter<R> {
    inner: BufReader<R>,
    lines_begun: u64,
    at_line_start: bool,
    /// The parser asked for more and the file had none: only a record that the end of the
    /// file closed (an open quote) is returned after that.
    reached_end: bool,
}

impl<R: Read> LineCounter<R> {
    fn new(reader: R) -> Self {
        LineCounter {
            inner: BufReader::with_capacity(64 * 1024, reader),
            lines_begun: 0,
            at_line_start: true,
            reached_end: false,
        }
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let buf = self.inner.fill_buf()?;
        if out.is_empty() {
            return Ok(0);
        }
        if buf.is_empty() {
            self.reached_end = true;
            return Ok(0);
        }
        let line_len = find_newline(buf).map_or(buf.len(), |at| at + 1);
        let n = line_len.min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        if self.at_line_start {
            self.lines_begun += 1;
        }
        self.at_line_start = buf[n - 1] == b'\n';
        self.inner.consume(n);
        Ok(n)
    }
}

/// Index of the first '\n', eight bytes at a time: this runs over every byte of
/// every file, and the standard library's memchr is not public.
fn find_newline(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const NEWLINES: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let mut chunks = bytes.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_ne_bytes(word) ^ NEWLINES;
        // Non-zero exactly when some byte of x is zero, i.e. some byte was '\n'.
        if x.wrapping_sub(ONES) & !x & HIGHS != 0 {
            return chunk.iter().position(|&b| b == b'\n').map(|at| base + at);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|&b| b == b'\n').map(|at| base + at)
}

/// An unknown column's name as it may be echoed: at most `MAX_ECHOED_NAME` characters, and no
/// full card number. The whole name passed the card-number check, but cutting it can shorten a
/// run of 20 digits (some other reference) to one of card-number length: such a tail goes too.
fn echoed_name(name: &str) -> String {
    echoed(name, MAX_ECHOED_NAME)
}

/// At most `max` characters of a value to show back, never ending in what reads as a card
/// number: cutting a long digit run short can leave one that the whole value did not hold.
pub(crate) fn echoed(value: &str, max: usize) -> String {
    let mut echoed: String = value.chars().take(max).collect();
    while contains_full_card_number(&echoed) {
        echoed.pop();
    }
    echoed
}

fn file_error(err: &csv::Error, line: u64) -> FileError {
    match err.kind() {
        csv::ErrorKind::Utf8 { .. } => FileError::NotUtf8 { line },
        csv::ErrorKind::Io(io) => FileError::Read { kind: io.kind() },
        _ => FileError::Read { kind: std::io::ErrorKind::InvalidData },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::{Direction, TxnType};

    /// The samples ship with the repository (tests/fixtures/samples).
    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/samples/");

    const JOURNAL_HEADER: &str = "merchant_id,terminal_id,batch_no,trace_no,rrn,auth_code,txn_type,status,\
receipt_printed,card,amount,currency,local_time,orig_trace_no,orig_batch_no,response_code,terminal_event";
    const JOURNAL_ROW: &str = "806276126745394,27161971,000392,002242,000004275973,565500,refund,approved,true,\
621700******9605,4851.71,CNY,2026-11-08T16:28:11+08:00,002241,000392,00,";
    const SETTLEMENT_HEADER: &str =
        "entry_id,merchant_id,terminal_id,trace_no,rrn,card,direction,amount,currency,txn_time,settled_on,orig_rrn";
    const SETTLEMENT_ROW: &str = "CLR000000172,806276126745394,62287436,004436,000004272037,625807******6831,debit,\
1521.86,CNY,2026-11-05T09:31:20Z,2026-11-06,";

    fn journal(text: &str) -> Result<Vec<JournalItem>, FileError> {
        JournalReader::new(text.as_bytes()).map(Iterator::collect)
    }

    fn settlement(text: &str) -> Result<Vec<SettlementItem>, FileError> {
        SettlementReader::new(text.as_bytes()).map(Iterator::collect)
    }

    fn one_journal_error(text: &str) -> RowError {
        let rows = journal(text).unwrap();
        assert_eq!(rows.len(), 1);
        rows.into_iter().next().unwrap().unwrap_err()
    }

    fn codes(err: &RowError) -> Vec<(Option<&'static str>, &'static str)> {
        err.problems.iter().map(|p| (p.column, p.code)).collect()
    }

    /// Replaces the journal row's field `column` with `value`.
    fn journal_with(column: &str, value: &str) -> String {
        let at = JOURNAL_COLUMNS.iter().position(|c| *c == column).unwrap();
        let mut fields: Vec<&str> = JOURNAL_ROW.split(',').collect();
        fields[at] = value;
        format!("{JOURNAL_HEADER}\n{}\n", fields.join(","))
    }

    #[test]
    fn sample_journal_parses_cleanly() {
        let file = std::fs::File::open(format!("{SAMPLES}journal.csv")).unwrap();
        let rows: Vec<_> = JournalReader::new(std::io::BufReader::new(file)).unwrap().collect();
        assert_eq!(rows.len(), 344);
        let mut lines = Vec::new();
        for row in rows {
            let (line, _) = row.unwrap_or_else(|e| panic!("{e}"));
            lines.push(line);
        }
        assert_eq!(lines, (2..=345).collect::<Vec<u64>>());
    }

    #[test]
    fn sample_settlement_parses_cleanly() {
        let file = std::fs::File::open(format!("{SAMPLES}settlement.csv")).unwrap();
        let rows: Vec<_> = SettlementReader::new(file).unwrap().collect();
        assert_eq!(rows.len(), 344);
        let credits = rows
            .into_iter()
            .map(|row| row.unwrap_or_else(|e| panic!("{e}")).1)
            .filter(|entry| entry.direction == Direction::Credit)
            .count();
        assert_eq!(credits, 15);
    }

    #[test]
    fn parses_a_row_with_its_line_number() {
        let rows = journal(&format!("{JOURNAL_HEADER}\n{JOURNAL_ROW}\n")).unwrap();
        let (line, row) = rows[0].clone().unwrap();
        assert_eq!(line, 2);
        assert_eq!(row.txn_type, TxnType::Refund);
        let rows = settlement(&format!("{SETTLEMENT_HEADER}\r\n{SETTLEMENT_ROW}\r\n")).unwrap();
        assert_eq!(rows[0].as_ref().unwrap().0, 2);
    }

    #[test]
    fn blank_lines_are_skipped_and_line_numbers_stay_true() {
        let rows = journal(&format!(
            "{JOURNAL_HEADER}\n\n{JOURNAL_ROW}\n\n{}\n",
            journal_with("trace_no", "1").lines().nth(1).unwrap()
        ))
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].as_ref().unwrap().0, 3);
        assert_eq!(rows[1].as_ref().unwrap_err().line, 5);
    }

    #[test]
    fn line_numbers_hold_for_crlf_blank_lines_and_quoted_line_breaks() {
        let bad = journal_with("trace_no", "1");
        let bad = bad.lines().nth(1).unwrap();
        let quoted = journal_with("terminal_event", "\"paper\r\nout\"");
        let quoted = quoted.split_once('\n').unwrap().1.trim_end();
        let text = format!("{JOURNAL_HEADER}\r\n{JOURNAL_ROW}\r\n\r\n{quoted}\r\n{bad}\r\n{JOURNAL_ROW}");
        let lines: Vec<u64> =
            journal(&text).unwrap().iter().map(|r| r.as_ref().map_or_else(|e| e.line, |(line, _)| *line)).collect();
        assert_eq!(lines, vec![2, 4, 6, 7]);
    }

    #[test]
    fn a_quote_left_open_is_reported_on_the_line_it_opens() {
        // Found by fuzzing (fuzz/fuzz_targets/journal_reader.rs): the open quote swallows the
        // file's last line break, which began no line, and the row was put on line 2.
        for (tail, line) in [("\"open\nstill open\n", 3), ("\"open\nstill open", 3), ("\"open\r\n", 3)] {
            let rows = journal(&format!("{JOURNAL_HEADER}\n{JOURNAL_ROW}\n{tail}")).unwrap();
            let lines: Vec<u64> = rows.iter().map(|r| r.as_ref().map_or_else(|e| e.line, |(line, _)| *line)).collect();
            assert_eq!(lines, vec![2, line], "{tail:?}");
        }
        // A closed quote ending in a line break is not affected.
        let text = format!("{JOURNAL_HEADER}\n{JOURNAL_ROW}\n\"closed\n\"");
        assert_eq!(journal(&text).unwrap()[1].as_ref().unwrap_err().line, 3);
    }

    #[test]
    fn same_text_parses_to_equal_rows() {
        let text = format!("{JOURNAL_HEADER}\n{JOURNAL_ROW}\n{JOURNAL_ROW}\n");
        let rows = journal(&text).unwrap();
        assert_eq!(rows[0].as_ref().unwrap().1, rows[1].as_ref().unwrap().1);
    }

    #[test]
    fn columns_may_come_in_any_order_and_optional_ones_may_be_absent() {
        let text = "currency,amount,card,receipt_printed,status,txn_type,trace_no,batch_no,terminal_id,merchant_id,local_time\n\
                    CNY,12.5,621700******9605,false,approved,sale,000001,000002,T0000001,M1,2026-11-12T13:20+08:00\n";
        let rows = journal(text).unwrap();
        let (_, row) = rows[0].clone().unwrap();
        assert_eq!((row.merchant_id.as_str(), row.trace_no.as_str()), ("M1", "000001"));
        assert_eq!(row.amount.minor, 1250);
        assert_eq!(row.rrn, None);
        // A void in a file without orig_trace_no cannot name its sale.
        let text = text.replace(",sale,", ",void,");
        let err = journal(&text).unwrap().remove(0).unwrap_err();
        assert_eq!(codes(&err), vec![(Some("orig_trace_no"), "orig_trace_no_required")]);
    }

    #[test]
    fn settlement_without_orig_rrn_column_is_accepted() {
        let header = SETTLEMENT_HEADER.trim_end_matches(",orig_rrn");
        let row = SETTLEMENT_ROW.trim_end_matches(',');
        let rows = settlement(&format!("{header}\n{row}\n")).unwrap();
        assert!(rows[0].is_ok());
    }

    #[test]
    fn tolerates_a_byte_order_mark() {
        let rows = journal(&format!("\u{feff}{JOURNAL_HEADER}\n{JOURNAL_ROW}\n")).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].as_ref().unwrap().0, 2);
    }

    #[test]
    fn rejects_empty_files() {
        assert_eq!(journal("").err(), Some(FileError::Empty));
        assert_eq!(journal("\n\n").err(), Some(FileError::Empty));
        assert_eq!(settlement("\u{feff}").err(), Some(FileError::Empty));
        assert_eq!(FileError::Empty.code(), "file_empty");
    }

    #[test]
    fn a_header_alone_is_a_file_with_no_rows() {
        assert_eq!(journal(&format!("{JOURNAL_HEADER}\n")).unwrap().len(), 0);
    }

    #[test]
    fn rejects_unknown_columns() {
        let err = journal(&format!("{JOURNAL_HEADER},note\n")).err().unwrap();
        assert!(matches!(&err, FileError::UnknownColumn { column, .. } if column == "note"));
        assert_eq!(err.code(), "file_unknown_column");
        assert_eq!(err.args()[0], ("column", "note".to_owned()));
        assert!(err.args()[1].1.starts_with("merchant_id, terminal_id"));
        // Settlement columns are not journal columns, and header names are exact.
        assert!(matches!(journal(SETTLEMENT_HEADER), Err(FileError::UnknownColumn { .. })));
        let upper = JOURNAL_HEADER.replace("trace_no,", "Trace_No,");
        assert!(matches!(journal(&upper), Err(FileError::UnknownColumn { column, .. }) if column == "Trace_No"));
        let long = format!("{JOURNAL_HEADER},{}", "x".repeat(500));
        assert!(matches!(journal(&long), Err(FileError::UnknownColumn { column, .. }) if column.len() == 40));
    }

    #[test]
    fn a_cut_column_name_does_not_echo_a_card_number() {
        // Found by fuzzing (fuzz/fuzz_targets/journal_reader.rs): 20 digits are not a card
        // number, but the first 40 characters end in 16 that pass Luhn.
        let name = format!("{}41111111111111110000", "x".repeat(24));
        let Err(FileError::UnknownColumn { column, .. }) = journal(&format!("{JOURNAL_HEADER},{name}")) else {
            panic!("the column is unknown");
        };
        assert!(name.starts_with(&column) && column.starts_with("xxxx"), "{column}");
        assert!(!contains_full_card_number(&column), "{column}");
    }

    #[test]
    fn allowed_lists_name_every_column() {
        assert_eq!(JOURNAL_LAYOUT.allowed.split_whitespace().collect::<String>(), JOURNAL_COLUMNS.join(","));
        assert_eq!(SETTLEMENT_LAYOUT.allowed.split_whitespace().collect::<String>(), SETTLEMENT_COLUMNS.join(","));
    }

    #[test]
    fn rejects_missing_required_columns() {
        let header = JOURNAL_HEADER.replace("amount,", "");
        assert_eq!(journal(&header).err(), Some(FileError::MissingColumn { column: "amount" }));
        let header = SETTLEMENT_HEADER.replace("entry_id,", "");
        assert_eq!(settlement(&header).err(), Some(FileError::MissingColumn { column: "entry_id" }));
        assert_eq!(FileError::MissingColumn { column: "amount" }.args(), vec![("column", "amount".to_owned())]);
    }

    #[test]
    fn rejects_duplicate_and_blank_columns() {
        assert_eq!(
            journal(&format!("{JOURNAL_HEADER},card")).err(),
            Some(FileError::DuplicateColumn { column: "card" })
        );
        assert_eq!(journal(&format!("{JOURNAL_HEADER},")).err(), Some(FileError::BlankColumnName { position: 18 }));
    }

    #[test]
    fn rejects_non_utf8_header_with_its_line() {
        let mut bytes = b"merchant_id,\xff\xfe".to_vec();
        bytes.extend_from_slice(b"\n");
        assert_eq!(JournalReader::new(&bytes[..]).err(), Some(FileError::NotUtf8 { line: 1 }));
    }

    #[test]
    fn non_utf8_row_rejects_the_file_and_reading_goes_on() {
        let mut bytes = format!("{JOURNAL_HEADER}\n{JOURNAL_ROW}\n").into_bytes();
        // "商户" in GBK, as a Chinese spreadsheet would save it.
        bytes.extend_from_slice(JOURNAL_ROW.as_bytes());
        bytes.extend_from_slice(b"\xc9\xcc\xbb\xa7\n");
        bytes.extend_from_slice(format!("{JOURNAL_ROW}\n").as_bytes());
        let rows: Vec<_> = JournalReader::new(&bytes[..]).unwrap().collect();
        assert_eq!(rows.len(), 3);
        let err = rows[1].as_ref().unwrap_err();
        assert_eq!(err.line, 3);
        assert_eq!(codes(err), vec![(None, ROW_NOT_UTF8)]);
        assert!(err.rejects_file());
        assert_eq!(rows[2].as_ref().unwrap().0, 4);
    }

    #[test]
    fn read_failure_ends_the_rows() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let text = format!("{JOURNAL_HEADER}\n{JOURNAL_ROW}\n");
                if self.0 < text.len() {
                    let n = (text.len() - self.0).min(buf.len());
                    buf[..n].copy_from_slice(&text.as_bytes()[self.0..self.0 + n]);
                    self.0 += n;
                    Ok(n)
                } else {
                    Err(std::io::Error::other("disk on fire"))
                }
            }
        }
        let rows: Vec<_> = JournalReader::new(Failing(0)).unwrap().collect();
        let err = rows.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.problems[0].code, READ_FAILED);
        assert!(err.rejects_file());
    }

    #[test]
    fn wrong_field_count_is_a_row_error() {
        let short = one_journal_error(&format!("{JOURNAL_HEADER}\n{}\n", JOURNAL_ROW.trim_end_matches(',')));
        assert_eq!(short.line, 2);
        assert_eq!(codes(&short), vec![(None, FIELD_COUNT)]);
        assert_eq!(short.problems[0].args, vec![("expected", "17".to_owned()), ("found", "16".to_owned())]);
        assert!(!short.rejects_file());
        let long = one_journal_error(&format!("{JOURNAL_HEADER}\n{JOURNAL_ROW},extra\n"));
        assert_eq!(long.problems[0].args[1], ("found", "18".to_owned()));
    }

    #[test]
    fn bad_fields_are_reported_with_column_and_code() {
        for (column, value, code) in [
            ("merchant_id", "8062761267453949", "merchant_id_invalid"),
            ("terminal_id", "2716197", "terminal_id_invalid"),
            ("batch_no", "392", "batch_no_invalid"),
            ("trace_no", "2242", "trace_no_invalid"),
            ("rrn", "4275973", "rrn_invalid"),
            ("auth_code", "5655", "auth_code_invalid"),
            ("txn_type", "SALE", "txn_type_invalid"),
            ("status", "ok", "status_invalid"),
            ("receipt_printed", "TRUE", "receipt_printed_invalid"),
            ("card", "621700****9605x", "card_invalid"),
            ("amount", "\"4,851.71\"", "amount_invalid"),
            ("amount", "4851.711", "amount_too_many_decimals"),
            ("amount", "-4851.71", "amount_negative"),
            ("amount", "0", "amount_zero"),
            ("currency", "RMB", "currency_invalid"),
            ("local_time", "2026-11-08T16:28:11", "local_time_invalid"),
            ("orig_trace_no", "", "orig_trace_no_required"),
            ("orig_trace_no", "12345a", "orig_trace_no_invalid"),
            ("orig_batch_no", "1", "orig_batch_no_invalid"),
            ("response_code", "000", "response_code_invalid"),
            ("terminal_event", "fire", "terminal_event_invalid"),
            ("card", "", "field_required"),
        ] {
            let err = one_journal_error(&journal_with(column, value));
            assert_eq!(codes(&err), vec![(Some(column), code)], "{column}={value}");
            assert!(!err.rejects_file());
        }
    }

    #[test]
    fn bad_settlement_fields_are_reported() {
        let text = format!("{SETTLEMENT_HEADER}\n{}\n", SETTLEMENT_ROW.replace(",debit,", ",credit,"));
        let err = settlement(&text).unwrap().remove(0).unwrap_err();
        assert_eq!(codes(&err), vec![(Some("orig_rrn"), "orig_rrn_required")]);
        let text = format!("{SETTLEMENT_HEADER}\n{}\n", SETTLEMENT_ROW.replace("2026-11-06", "06/11/2026"));
        let err = settlement(&text).unwrap().remove(0).unwrap_err();
        assert_eq!(codes(&err), vec![(Some("settled_on"), "settled_on_invalid")]);
    }

    #[test]
    fn full_card_number_in_the_card_column_rejects_the_file_without_echo() {
        let err = one_journal_error(&journal_with("card", "6212345678901265"));
        assert_eq!(codes(&err), vec![(Some("card"), FULL_CARD_NUMBER)]);
        assert!(err.rejects_file());
        assert!(err.has_full_card_number());
        assert!(err.problems[0].args.is_empty());
        let shown = format!("{err:?} {err}");
        assert!(!shown.contains("6212345678901265") && !shown.contains("901265"), "{shown}");
    }

    #[test]
    fn full_card_number_is_found_in_any_field_and_any_shape() {
        for column in ["terminal_event", "response_code", "auth_code", "rrn", "local_time"] {
            let err = one_journal_error(&journal_with(column, "4111 1111 1111 1111"));
            assert_eq!(codes(&err), vec![(Some(column), FULL_CARD_NUMBER)], "{column}");
        }
        for typed in
            ["4111.1111.1111.1111", "４１１１１１１１１１１１１１１１", "４１１１　１１１１　１１１１　１１１１"]
        {
            let err = one_journal_error(&journal_with("terminal_event", typed));
            assert_eq!(codes(&err), vec![(Some("terminal_event"), FULL_CARD_NUMBER)], "{typed}");
        }
        let quoted = journal_with("terminal_event", "\"card: 4111-1111-1111-1111, thanks\"");
        assert!(one_journal_error(&quoted).rejects_file());
        let text = format!("{SETTLEMENT_HEADER}\n{}\n", SETTLEMENT_ROW.replace("CLR000000172", "4111111111111111"));
        let err = settlement(&text).unwrap().remove(0).unwrap_err();
        assert_eq!(codes(&err), vec![(Some("entry_id"), FULL_CARD_NUMBER)]);
    }

    #[test]
    fn zero_padded_card_number_in_the_amount_rejects_the_file() {
        // 20 digits are not a card number as text, but the amount kept would be 4111111111111111.00.
        let text = journal_with("amount", "00004111111111111111").replace(",27161971,", ",2716197,");
        let err = one_journal_error(&text);
        assert_eq!(codes(&err), vec![(Some("terminal_id"), "terminal_id_invalid"), (Some("amount"), FULL_CARD_NUMBER)]);
        assert!(err.rejects_file());
        assert_eq!(err.file_problem().map(|p| p.column), Some(Some("amount")));
        assert!(!format!("{err:?}").contains("4111"));
    }

    #[test]
    fn full_card_number_beyond_the_header_columns_is_found() {
        let err = one_journal_error(&format!("{JOURNAL_HEADER}\n{JOURNAL_ROW},4111111111111111\n"));
        assert_eq!(codes(&err), vec![(None, FULL_CARD_NUMBER), (None, FIELD_COUNT)]);
        assert!(err.rejects_file());
        assert!(!format!("{err:?}").contains("4111111111111111"));
    }

    #[test]
    fn full_card_number_in_the_header_rejects_the_file() {
        let err = journal(&format!("{JOURNAL_HEADER},4111111111111111\n")).err().unwrap();
        assert_eq!(err, FileError::FullCardNumber { line: 1 });
        assert!(!format!("{err:?} {err}").contains("4111"));
    }

    #[test]
    fn luhn_passing_merchant_id_is_not_a_card_number() {
        // 835883278854443 is a merchant id from the samples that passes Luhn.
        let rows = journal(&journal_with("merchant_id", "835883278854443")).unwrap();
        assert_eq!(rows[0].as_ref().unwrap().1.merchant_id, "835883278854443");
        let text = format!("{SETTLEMENT_HEADER}\n{}\n", SETTLEMENT_ROW.replace("806276126745394", "835883278854443"));
        assert!(settlement(&text).unwrap()[0].is_ok());
        // Too long to be a merchant id, so it is a card number.
        let err = one_journal_error(&journal_with("merchant_id", "4111111111111111"));
        assert_eq!(codes(&err), vec![(Some("merchant_id"), FULL_CARD_NUMBER)]);
        // The exemption belongs to the merchant_id column only.
        let err = one_journal_error(&journal_with("terminal_event", "835883278854443"));
        assert!(err.rejects_file());
    }

    #[test]
    fn finds_newlines_at_every_offset() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b'\n';
                if at + 3 < len {
                    bytes[at + 3] = b'\n';
                }
                assert_eq!(find_newline(&bytes), Some(at), "len {len} at {at}");
            }
            assert_eq!(find_newline(&vec![0x8a; len]), None);
            assert_eq!(find_newline(&vec![0x0b; len]), None);
        }
    }

    #[test]
    fn memory_stays_flat_over_many_rows() {
        // Not a measurement: a generated reader proves rows are pulled one at a time.
        struct Rows(u64, Vec<u8>, usize);
        impl Read for Rows {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.2 == self.1.len() {
                    if self.0 == 0 {
                        return Ok(0);
                    }
                    self.0 -= 1;
                    self.1 = format!("{JOURNAL_ROW}\n").into_bytes();
                    self.2 = 0;
                }
                let n = (self.1.len() - self.2).min(buf.len());
                buf[..n].copy_from_slice(&self.1[self.2..self.2 + n]);
                self.2 += n;
                Ok(n)
            }
        }
        let source = Rows(20_000, format!("{JOURNAL_HEADER}\n").into_bytes(), 0);
        let mut reader = JournalReader::new(source).unwrap();
        let mut count = 0;
        for row in reader.by_ref() {
            row.unwrap();
            count += 1;
        }
        assert_eq!(count, 20_000);
        assert!(reader.next().is_none());
    }
}
