//! A profile and a byte stream become `(line, row)` items, as the `redress-csv` readers yield.
//!
//! Lines are read one at a time into reused buffers: `skip_head` lines are dropped as they
//! pass, `skip_tail` lines wait in a ring buffer until the next line shows they were not the
//! last ones, so the file is read once and never held. GBK text is decoded line by line
//! (fixed-width fields are cut by bytes first: a GBK character is two bytes). Every field is
//! screened for full card numbers before anything else, then each target is built from its
//! sources and transforms, and the record rules of §3.1/§3.2 check the result. Problems carry
//! the target's name as `column` and the file's name for it as the `source` argument.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::marker::PhantomData;
use std::sync::Arc;

use jiff::tz::TimeZone;

use super::originals::{OrigKey, Originals, Pending, PendingQueue, WINDOW};
use super::{Encoding, Layout, ORIG_TRACE_NO, ORIG_TXN_TIME, Profile, Rule, Source, targets};
use crate::domain::profile::{amount_text, date_text, leading_date, slice_fixed, split_delimited, time_text};
use crate::domain::records::{FieldError, JournalFields, JournalRow, SettlementEntry, SettlementFields};
use crate::domain::screen::{Shape, contains_full_card_number, holds_card_number};
use crate::import::parse::{FIELD_COUNT, FULL_CARD_NUMBER, FileError, Item, READ_FAILED, RowError};

/// Row problem: the line is not text in the profile's encoding.
pub const ROW_NOT_DECODABLE: &str = "row_not_decodable";
/// Row problem: a `map` has no entry for the file's value.
pub const VALUE_UNMAPPED: &str = "profile_value_unmapped";
/// Row problem: a time or date does not fit the profile's `format`.
pub const TIME_UNREADABLE: &str = "profile_time_unreadable";
/// Row problem: a fixed-width line is longer than its fields.
pub const LINE_TOO_LONG: &str = "profile_line_too_long";
/// Row problem: a credit names an original (trace and time) not found earlier in the file (a
/// reader used alone; the importer also looks in the database, [`super::originals`]).
pub const ORIG_NOT_IN_FILE: &str = "profile_orig_not_in_file";

/// Values longer than this are not echoed in a message.
const MAX_ECHOED: usize = 40;

/// A record kind a profile can fill: its targets in order and how they become a record.
pub trait Target: Sized {
    fn build(values: &[&str]) -> Result<Self, Vec<FieldError>>;
    /// A credit built with a stand-in `orig_rrn` while its original is looked up elsewhere.
    fn forget_orig_rrn(&mut self) {}
}

impl Target for JournalRow {
    fn build(v: &[&str]) -> Result<Self, Vec<FieldError>> {
        JournalRow::from_fields(&JournalFields {
            merchant_id: v[0],
            terminal_id: v[1],
            batch_no: v[2],
            trace_no: v[3],
            rrn: v[4],
            auth_code: v[5],
            txn_type: v[6],
            status: v[7],
            receipt_printed: v[8],
            card: v[9],
            amount: v[10],
            currency: v[11],
            local_time: v[12],
            orig_trace_no: v[13],
            orig_batch_no: v[14],
            response_code: v[15],
            terminal_event: v[16],
        })
    }
}

impl Target for SettlementEntry {
    fn build(v: &[&str]) -> Result<Self, Vec<FieldError>> {
        SettlementEntry::from_fields(&SettlementFields {
            entry_id: v[0],
            merchant_id: v[1],
            terminal_id: v[2],
            trace_no: v[3],
            rrn: v[4],
            card: v[5],
            direction: v[6],
            amount: v[7],
            currency: v[8],
            txn_time: v[9],
            settled_on: v[10],
            orig_rrn: v[11],
        })
    }
    fn forget_orig_rrn(&mut self) {
        self.orig_rrn = None;
    }
}

/// Lines of the file after `skip_head`, before `skip_tail`, blank ones left out, each with its
/// 1-based number in the original file.
struct Lines<R> {
    inner: BufReader<R>,
    number: u64,
    head_left: usize,
    tail: usize,
    ring: VecDeque<(u64, Vec<u8>)>,
    spare: Vec<Vec<u8>>,
    done: bool,
    utf8: bool,
}

impl<R: Read> Lines<R> {
    fn next(&mut self) -> Option<std::io::Result<(u64, Vec<u8>)>> {
        loop {
            if self.done {
                // What is left in the ring are the `skip_tail` last lines: totals, dropped.
                return None;
            }
            let mut buf = self.spare.pop().unwrap_or_default();
            buf.clear();
            match self.inner.read_until(b'\n', &mut buf) {
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
            self.number += 1;
            while matches!(buf.last(), Some(b'\n' | b'\r')) {
                buf.pop();
            }
            if self.number == 1 && self.utf8 && buf.starts_with(b"\xef\xbb\xbf") {
                buf.drain(..3);
            }
            if self.head_left > 0 {
                self.head_left -= 1;
                self.spare.push(buf);
                continue;
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                self.spare.push(buf);
                continue;
            }
            self.ring.push_back((self.number, buf));
            if self.ring.len() > self.tail {
                return self.ring.pop_front().map(Ok);
            }
        }
    }

    fn recycle(&mut self, buf: Vec<u8>) {
        if self.spare.len() < 4 {
            self.spare.push(buf);
        }
    }
}

fn decode(bytes: &[u8], encoding: Encoding) -> Option<Cow<'_, str>> {
    if bytes.is_ascii() {
        // ASCII is the same text in both encodings, and most fields are ASCII.
        return std::str::from_utf8(bytes).ok().map(Cow::Borrowed);
    }
    match encoding {
        Encoding::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
        Encoding::Gbk => encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes),
    }
}

/// The most targets a record kind has (a journal row: 17).
const MAX_TARGETS: usize = 24;

/// Indexes into `values` of the settlement targets the original lookup reads.
struct OrigSlots {
    merchant_id: usize,
    trace_no: usize,
    txn_time: usize,
    rrn: usize,
    direction: usize,
    orig_rrn: usize,
    orig_trace_no: usize,
    orig_txn_time: usize,
}

/// What became of a credit that names its original by trace and time.
enum Link {
    /// Linked, or nothing to link.
    Done,
    /// Not in this file: the importer looks in the database.
    Pending(OrigKey),
    /// Not in this file, and nobody else will look.
    Missing,
}

/// A rule's sources resolved against this file's header.
#[derive(Clone)]
enum Resolved {
    Fields(Vec<usize>),
    Value(String),
}

/// Reads a file through a profile.
pub struct ProfileReader<R, T> {
    profile: Arc<Profile>,
    lines: Lines<R>,
    zone: TimeZone,
    /// Per rule: where its value comes from, and the file's name for that.
    sources: Vec<Resolved>,
    source_names: Vec<String>,
    /// Per rule: its index among the kind's targets.
    slots: Vec<usize>,
    skip: Vec<(usize, Vec<String>)>,
    /// Per field of the file: the file's name for it, and whether it feeds `merchant_id`
    /// (a merchant id may pass the Luhn check by chance).
    field_names: Vec<String>,
    merchant_fields: Vec<usize>,
    /// Per field of the file: the first target it feeds.
    field_targets: HashMap<usize, &'static str>,
    /// Fields a delimited line must have: the header's count, else the highest position used.
    expected_fields: usize,
    fields: Vec<String>,
    values: Vec<String>,
    target_count: usize,
    /// Debits seen so far, for credits that name their original by trace and time (profiles
    /// that map `orig_trace_no`). Bounded once the importer takes credits it cannot link.
    originals: Option<Originals>,
    /// Where credits whose sale is not in `originals` go, for the importer to look up.
    pending: Option<PendingQueue>,
    /// Where the targets the original lookup reads sit among `values`.
    orig: OrigSlots,
    /// The file's names for the fields that name an original (`#18+#28`).
    orig_source: String,
    _kind: PhantomData<T>,
}

impl<R: Read, T: Target> ProfileReader<R, T> {
    /// Drops the banner lines and reads the header (if the profile has one). Fails when a column
    /// the profile names is not in the header, before any row is read.
    pub fn new(profile: Arc<Profile>, reader: R) -> Result<Self, FileError> {
        let mut lines = Lines {
            inner: BufReader::with_capacity(64 * 1024, reader),
            number: 0,
            head_left: profile.skip_head,
            tail: profile.skip_tail,
            ring: VecDeque::with_capacity(profile.skip_tail + 1),
            spare: Vec::new(),
            done: false,
            utf8: profile.encoding == Encoding::Utf8,
        };
        let header: Option<Vec<String>> = match profile.layout {
            Layout::Delimited { header: true, delimiter } => {
                let (number, bytes) = match lines.next() {
                    None => return Err(FileError::Empty),
                    Some(Err(e)) => return Err(FileError::Read { kind: e.kind() }),
                    Some(Ok(line)) => line,
                };
                let text = decode(&bytes, profile.encoding).ok_or(FileError::NotUtf8 { line: number })?;
                let mut parts = Vec::new();
                split_delimited(&text, delimiter, &mut parts);
                if parts.iter().any(|p| contains_full_card_number(p)) {
                    return Err(FileError::FullCardNumber { line: number });
                }
                Some(parts.iter().map(|p| p.trim().to_owned()).collect())
            }
            _ => None,
        };
        let find = |name: &str| -> Result<usize, FileError> {
            header
                .as_ref()
                .and_then(|h| h.iter().position(|c| c == name))
                .ok_or_else(|| FileError::ProfileColumn { column: crate::import::parse::echoed(name, MAX_ECHOED) })
        };
        let resolve = |source: &Source| -> Result<Resolved, FileError> {
            Ok(match source {
                Source::Col(names) => Resolved::Fields(names.iter().map(|n| find(n)).collect::<Result<_, _>>()?),
                Source::Pos(at) => Resolved::Fields(at.clone()),
                Source::Value(v) => Resolved::Value(v.clone()),
            })
        };
        let name_of = |at: usize| -> String {
            header.as_ref().and_then(|h| h.get(at)).cloned().unwrap_or_else(|| format!("#{}", at + 1))
        };

        let (all_targets, _) = targets(profile.kind);
        let mut sources = Vec::new();
        let mut source_names = Vec::new();
        let mut slots = Vec::new();
        let mut merchant_fields = Vec::new();
        let mut field_targets = HashMap::new();
        let mut highest = 0;
        for rule in &profile.rules {
            let resolved = resolve(&rule.source)?;
            if let Resolved::Fields(at) = &resolved {
                source_names.push(at.iter().map(|&i| name_of(i)).collect::<Vec<_>>().join("+"));
                for &i in at {
                    field_targets.entry(i).or_insert(rule.target);
                    highest = highest.max(i + 1);
                    if rule.target == "merchant_id" {
                        merchant_fields.push(i);
                    }
                }
            } else {
                source_names.push(String::new());
            }
            sources.push(resolved);
            slots.push(all_targets.iter().position(|t| *t == rule.target).expect("checked target"));
        }
        let mut skip = Vec::new();
        for (source, values) in &profile.skip_rows {
            if let Resolved::Fields(at) = resolve(source)? {
                highest = highest.max(at[0] + 1);
                skip.push((at[0], values.clone()));
            }
        }
        let field_names = match (&header, &profile.layout) {
            (Some(h), _) => h.clone(),
            (None, Layout::Fixed { widths, .. }) => (0..widths.len()).map(name_of).collect(),
            (None, _) => (0..highest).map(name_of).collect(),
        };
        let expected_fields = header.as_ref().map_or(highest, Vec::len);
        // Alone, the reader remembers every debit (memory grows with the file); the importer
        // bounds it with `with_pending`.
        let originals = profile.links_originals().then(|| Originals::new(usize::MAX));
        let slot = |name: &str| all_targets.iter().position(|t| *t == name).unwrap_or(0);
        let orig = OrigSlots {
            merchant_id: slot("merchant_id"),
            trace_no: slot("trace_no"),
            txn_time: slot("txn_time"),
            rrn: slot("rrn"),
            direction: slot("direction"),
            orig_rrn: slot("orig_rrn"),
            orig_trace_no: slot(ORIG_TRACE_NO),
            orig_txn_time: slot(ORIG_TXN_TIME),
        };
        let orig_source = [ORIG_TRACE_NO, ORIG_TXN_TIME]
            .iter()
            .filter_map(|t| profile.rules.iter().position(|r| r.target == *t).map(|i| source_names[i].clone()))
            .collect::<Vec<_>>()
            .join("+");
        assert!(all_targets.len() <= MAX_TARGETS, "a kind has at most {MAX_TARGETS} targets");
        // The caller sets the deployment's zone (`Profile::with_default_zone`); §9's default else.
        let zone = profile.timezone.clone().unwrap_or_else(|| TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC));
        Ok(ProfileReader {
            lines,
            zone,
            sources,
            source_names,
            slots,
            skip,
            field_names,
            merchant_fields,
            field_targets,
            expected_fields,
            fields: Vec::new(),
            values: vec![String::new(); all_targets.len()],
            target_count: all_targets.len(),
            originals,
            pending: None,
            orig,
            orig_source,
            profile,
            _kind: PhantomData,
        })
    }

    /// Keeps only the last [`WINDOW`] debits in memory; a credit whose sale is not among them is
    /// yielded without `orig_rrn` and queued for the importer, which looks in the database.
    pub fn with_pending(self, queue: PendingQueue) -> Self {
        self.pending_beyond(queue, WINDOW)
    }

    fn pending_beyond(mut self, queue: PendingQueue, window: usize) -> Self {
        if self.originals.is_some() {
            self.originals = Some(Originals::new(window));
            self.pending = Some(queue);
        }
        self
    }

    /// Cuts the line into `self.fields`; `Err` when it is not text in the profile's encoding.
    fn split(&mut self, bytes: &[u8]) -> Result<(), Vec<FieldError>> {
        let encoding = self.profile.encoding;
        let mut count = 0;
        let mut put = |fields: &mut Vec<String>, text: &str| {
            if count < fields.len() {
                fields[count].clear();
                fields[count].push_str(text);
            } else {
                fields.push(text.to_owned());
            }
            count += 1;
        };
        let undecodable = || {
            let name = match encoding {
                Encoding::Utf8 => "UTF-8",
                Encoding::Gbk => "GBK",
            };
            vec![FieldError { column: None, code: ROW_NOT_DECODABLE, args: vec![("encoding", name.to_owned())] }]
        };
        match &self.profile.layout {
            Layout::Fixed { widths, gap } => {
                let mut parts = Vec::with_capacity(widths.len());
                let fit = slice_fixed(bytes, widths, *gap, &mut parts);
                for part in parts {
                    let text = decode(part, encoding).ok_or_else(undecodable)?;
                    put(&mut self.fields, &text);
                }
                self.fields.truncate(count);
                if let Err(extra) = fit {
                    return Err(vec![FieldError {
                        column: None,
                        code: LINE_TOO_LONG,
                        args: vec![("extra", extra.to_string())],
                    }]);
                }
            }
            Layout::Delimited { delimiter, .. } => {
                let text = decode(bytes, encoding).ok_or_else(undecodable)?;
                let mut parts = Vec::new();
                split_delimited(&text, *delimiter, &mut parts);
                for part in &parts {
                    put(&mut self.fields, part);
                }
                self.fields.truncate(count);
            }
        }
        Ok(())
    }

    /// Full card numbers in any field, then the field count. The value is never copied.
    fn screen(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        for (at, value) in self.fields.iter().enumerate() {
            let shape = if self.merchant_fields.contains(&at) { Shape::MerchantIds } else { Shape::Line };
            if holds_card_number(value, shape) {
                let source = self.field_names.get(at).cloned().unwrap_or_else(|| format!("#{}", at + 1));
                problems.push(FieldError {
                    column: self.field_targets.get(&at).copied(),
                    code: FULL_CARD_NUMBER,
                    args: vec![("source", source)],
                });
            }
        }
        let delimited = matches!(self.profile.layout, Layout::Delimited { .. });
        let header = matches!(self.profile.layout, Layout::Delimited { header: true, .. });
        if delimited
            && ((header && self.fields.len() != self.expected_fields) || self.fields.len() < self.expected_fields)
        {
            problems.push(FieldError {
                column: None,
                code: FIELD_COUNT,
                args: vec![("expected", self.expected_fields.to_string()), ("found", self.fields.len().to_string())],
            });
        }
        problems
    }

    fn skipped(&self) -> bool {
        self.skip.iter().any(|(at, values)| {
            let raw = self.fields.get(*at).map_or("", |v| v.trim());
            values.iter().any(|v| v == raw)
        })
    }

    /// Fills `self.values` from the rules, reusing their buffers; problems found on the way (a
    /// value the map lacks, a time that does not fit its format) are returned with the target
    /// they concern.
    fn evaluate(&mut self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        for v in &mut self.values {
            v.clear();
        }
        let profile = self.profile.clone();
        for (i, rule) in profile.rules.iter().enumerate() {
            let slot = self.slots[i];
            let mut value = std::mem::take(&mut self.values[slot]);
            match &self.sources[i] {
                Resolved::Value(v) => value.push_str(v),
                Resolved::Fields(at) => {
                    for (n, &field) in at.iter().enumerate() {
                        if n > 0 {
                            value.push_str(&rule.join);
                        }
                        let raw = self.fields.get(field).map_or("", String::as_str);
                        value.push_str(if rule.trim { raw.trim() } else { raw });
                    }
                    if rule.trim && value.trim().len() != value.len() {
                        value = value.trim().to_owned();
                    }
                }
            }
            if !value.is_empty() {
                match self.transform(i, rule, value) {
                    Ok(v) => value = v,
                    Err(problem) => {
                        problems.push(problem);
                        // The record rule still sees that something was there.
                        value = "?".to_owned();
                    }
                }
            }
            self.values[slot] = value;
        }
        problems
    }

    fn transform(&self, i: usize, rule: &Rule, mut value: String) -> Result<String, FieldError> {
        let problem = |code: &'static str, args: Vec<(&'static str, String)>| {
            let mut args = args;
            args.push(("source", self.source_names[i].clone()));
            FieldError { column: Some(rule.target), code, args }
        };
        if let Some(map) = &rule.map {
            match map.get(&value) {
                Some(to) => value.clone_from(to),
                None => {
                    return Err(problem(
                        VALUE_UNMAPPED,
                        vec![("value", crate::import::parse::echoed(&value, MAX_ECHOED))],
                    ));
                }
            }
        }
        if let Some(unit) = rule.unit {
            // Not an amount in that unit: the record rule says what an amount looks like.
            value = amount_text(&value, unit).unwrap_or_else(|| "?".to_owned());
        }
        if let Some(format) = &rule.format {
            let year_of = match rule.year_from {
                None => None,
                Some(from) => {
                    let from_value = &self.values[self.slots[from]];
                    match leading_date(from_value) {
                        Some(d) => Some(d),
                        // The date it needs is missing or bad; that one is reported already.
                        None => return Ok("?".to_owned()),
                    }
                }
            };
            let read = if rule.target == "settled_on" {
                date_text(&value, format, year_of)
            } else {
                time_text(&value, format, year_of, &self.zone)
            };
            value = read.map_err(|_| {
                problem(
                    TIME_UNREADABLE,
                    vec![("value", crate::import::parse::echoed(&value, MAX_ECHOED)), ("format", format.clone())],
                )
            })?;
        }
        Ok(value)
    }

    /// The sale a value set names: merchant, a trace and a time (RFC 3339 after `format`).
    fn orig_key(&self, trace: usize, time: usize) -> Option<OrigKey> {
        let v = &self.values;
        let time = v[time].parse().ok()?;
        OrigKey::new(&v[self.orig.merchant_id], &v[trace], time)
    }

    /// A debit is remembered for the credits after it.
    fn remember_debit(&mut self) {
        let o = &self.orig;
        if self.originals.is_none() || self.values[o.direction] != "debit" {
            return;
        }
        if let Some(key) = self.orig_key(o.trace_no, o.txn_time)
            && let Some(originals) = &mut self.originals
        {
            originals.remember(key, &self.values[o.rrn]);
        }
    }

    /// A credit that names its original by trace and time gets the original's RRN from the
    /// debits before it, or is left for the database ([`Link::Pending`]).
    fn link_credit(&mut self) -> Link {
        let o = &self.orig;
        let Some(originals) = &self.originals else { return Link::Done };
        let v = &self.values;
        if v[o.direction] != "credit" || !v[o.orig_rrn].is_empty() || v[o.orig_trace_no].is_empty() {
            return Link::Done;
        }
        // Not the terminal: a refund may be keyed in at another terminal of the same merchant.
        let Some(key) = self.orig_key(o.orig_trace_no, o.orig_txn_time) else { return Link::Missing };
        if let Some(rrn) = originals.find(&key) {
            let rrn = rrn.to_owned();
            self.values[o.orig_rrn] = rrn;
            return Link::Done;
        }
        if self.pending.is_none() {
            return Link::Missing;
        }
        // A stand-in that passes the record rule; `forget_orig_rrn` drops it once the row is built.
        self.values[o.orig_rrn].push_str("000000000000");
        Link::Pending(key)
    }

    /// A target's value as the file writes it (its fields joined, before any transform).
    fn written(&self, target: &str) -> String {
        let Some(i) = self.profile.rules.iter().position(|r| r.target == target) else { return String::new() };
        match &self.sources[i] {
            Resolved::Value(v) => v.clone(),
            Resolved::Fields(at) => at
                .iter()
                .map(|&f| self.fields.get(f).map_or("", |v| v.trim()))
                .collect::<Vec<_>>()
                .join(&self.profile.rules[i].join),
        }
    }

    fn source_of(&self, target: &str) -> Option<String> {
        self.profile.rules.iter().position(|r| r.target == target).map(|i| self.source_names[i].clone())
    }

    fn row(&mut self, line: u64, bytes: &[u8]) -> Option<Item<T>> {
        if let Err(problems) = self.split(bytes) {
            return Some(Err(RowError { line, problems }));
        }
        let screened = self.screen();
        if !screened.is_empty() {
            return Some(Err(RowError { line, problems: screened }));
        }
        if self.skipped() {
            return None;
        }
        let mut problems = self.evaluate();
        let link = self.link_credit();
        self.remember_debit();
        let mut values = [""; MAX_TARGETS];
        for (to, from) in values.iter_mut().zip(&self.values[..self.target_count]) {
            *to = from.as_str();
        }
        match T::build(&values[..self.target_count]) {
            Ok(mut row) if problems.is_empty() => {
                if let (Link::Pending(key), Some(queue)) = (link, &self.pending) {
                    row.forget_orig_rrn();
                    let source = self.orig_source.clone();
                    let written = self.written(ORIG_TXN_TIME);
                    queue.lock().expect("pending lock").push_back(Pending { line, key, source, written });
                }
                Some(Ok((line, row)))
            }
            Ok(_) => Some(Err(RowError { line, problems })),
            Err(found) => {
                for mut p in found {
                    // A target already reported by the profile step is not reported twice.
                    if p.column.is_some() && problems.iter().any(|q| q.column == p.column) {
                        continue;
                    }
                    if matches!(link, Link::Missing) && p.code == "orig_rrn_required" {
                        p.code = ORIG_NOT_IN_FILE;
                    }
                    if let Some(source) = p.column.and_then(|c| self.source_of(c)).filter(|s| !s.is_empty()) {
                        p.args.push(("source", source));
                    }
                    problems.push(p);
                }
                Some(Err(RowError { line, problems }))
            }
        }
    }
}

impl<R: Read, T: Target> Iterator for ProfileReader<R, T> {
    type Item = Item<T>;

    fn next(&mut self) -> Option<Item<T>> {
        loop {
            let (line, bytes) = match self.lines.next()? {
                Ok(line) => line,
                Err(_) => {
                    let line = self.lines.number;
                    let problem = FieldError { column: None, code: READ_FAILED, args: Vec::new() };
                    return Some(Err(RowError { line, problems: vec![problem] }));
                }
            };
            let item = self.row(line, &bytes);
            self.lines.recycle(bytes);
            if let Some(item) = item {
                return Some(item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::profile::Profile;

    const STATEMENT: &str = r#"
name = "statement"
kind = "settlement"
encoding = "gbk"
delimiter = "\t"
skip_head = 2
skip_tail = 1
skip_rows = { "交易类型" = ["余额查询"] }
[fields]
merchant_id = { col = "商户号" }
terminal_id = { col = "终端号" }
trace_no    = { col = "流水号" }
rrn         = { col = "参考号" }
card        = { col = "卡号" }
amount      = { col = "交易金额", unit = "yuan" }
currency    = { value = "CNY" }
txn_time    = { col = "交易时间", format = "%m%d%H%M%S", year_from = "settled_on" }
settled_on  = { col = "清算日期", format = "%Y%m%d" }
direction   = { col = "交易类型", map = { "消费" = "debit", "退货" = "credit" } }
orig_rrn    = { col = "原参考号" }
entry_id    = { col = ["清算日期", "流水号"], join = "-" }
"#;

    const HEADER: &str = "清算日期\t交易时间\t商户号\t终端号\t流水号\t参考号\t卡号\t交易类型\t交易金额\t原参考号";

    fn gbk(text: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(text).0.into_owned()
    }

    fn read(profile: &str, text: &str) -> Result<Vec<Item<SettlementEntry>>, FileError> {
        let p = Arc::new(Profile::parse(profile).unwrap());
        Ok(ProfileReader::<_, SettlementEntry>::new(p, std::io::Cursor::new(gbk(text)))?.collect())
    }

    fn line(time: &str, trace: &str, kind: &str, amount: &str, orig: &str) -> String {
        format!(
            "20270104\t{time}\t851424736185314\t55024556\t{trace}\t612312{trace}\t622280*********0000\t{kind}\t{amount}\t{orig}"
        )
    }

    #[test]
    fn banners_totals_and_skipped_rows_are_dropped_and_lines_keep_their_numbers() {
        let text = format!(
            "商户结算明细\r\n清算日期从20270104到20270104\r\n{HEADER}\r\n{}\r\n\r\n{}\r\n{}\r\n总笔数\t2\r\n",
            line("1231235959", "000001", "消费", "1,234.50", ""),
            line("0104000000", "000002", "余额查询", "0.00", ""),
            line("0104080000", "000003", "退货", "12.00", "612312000001"),
        );
        let rows = read(STATEMENT, &text).unwrap();
        assert_eq!(rows.len(), 2, "{rows:?}");
        let (at, sale) = rows[0].clone().unwrap();
        assert_eq!(at, 4);
        // The year-end rule: a 31 December sale settled on 4 January is the year before.
        assert_eq!(sale.txn_time.to_string(), "2026-12-31T15:59:59Z");
        assert_eq!(sale.amount.minor, 123_450);
        assert_eq!(sale.card.as_str(), "622280*********0000");
        assert_eq!(sale.entry_id, "20270104-000001");
        let (at, refund) = rows[1].clone().unwrap();
        assert_eq!(at, 7, "the blank line and the skipped row still count");
        assert_eq!(refund.orig_rrn.map(|r| r.to_string()).as_deref(), Some("612312000001"));
    }

    #[test]
    fn a_bad_line_names_its_line_and_the_field_as_the_file_calls_it() {
        let text = format!(
            "t\r\nb\r\n{HEADER}\r\n{}\r\n{}\r\n{}\r\ntotal\r\n",
            line("1331235959", "000001", "消费", "1.00", ""),
            line("0104000000", "000002", "冲正", "1.00", ""),
            line("0104000000", "000003", "消费", "1.0.0", ""),
        );
        let rows = read(STATEMENT, &text).unwrap();
        let errors: Vec<_> = rows.into_iter().map(|r| r.unwrap_err()).collect();
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [4, 5, 6]);
        let p = &errors[0].problems[0];
        assert_eq!((p.column, p.code), (Some("txn_time"), TIME_UNREADABLE));
        assert!(p.args.contains(&("source", "交易时间".to_owned())), "{p:?}");
        let p = &errors[1].problems[0];
        assert_eq!((p.column, p.code), (Some("direction"), VALUE_UNMAPPED));
        assert!(p.args.contains(&("value", "冲正".to_owned())) && p.args.contains(&("source", "交易类型".to_owned())));
        let p = &errors[2].problems[0];
        assert_eq!(p.column, Some("amount"));
        assert!(p.args.contains(&("source", "交易金额".to_owned())), "{p:?}");
    }

    #[test]
    fn a_full_card_number_in_any_field_rejects_the_file_unechoed() {
        let text = format!(
            "t\r\nb\r\n{HEADER}\r\n{}\r\ntotal\r\n",
            line("0104000000", "000001", "消费", "1.00", "").replace("622280*********0000", "4111 1111 1111 1111")
        );
        let err = read(STATEMENT, &text).unwrap().remove(0).unwrap_err();
        assert!(err.rejects_file());
        assert_eq!(err.problems[0].column, Some("card"));
        assert!(!format!("{err:?}").contains("4111 1111"));
    }

    #[test]
    fn a_column_the_header_lacks_refuses_the_file_before_any_row() {
        let text = format!("t\r\nb\r\n{}\r\ntotal\r\n", HEADER.replace("原参考号", "备注"));
        assert_eq!(read(STATEMENT, &text).err(), Some(FileError::ProfileColumn { column: "原参考号".into() }));
        assert_eq!(read(STATEMENT, "t\r\nb\r\n").err(), Some(FileError::Empty));
    }

    const BY_TRACE: &str = r#"
name = "by-trace"
kind = "settlement"
[fields]
entry_id = { col = "id" }
merchant_id = { col = "mid" }
terminal_id = { value = "55024556" }
trace_no = { col = "trace" }
rrn = { col = "rrn" }
card = { value = "622280*********0000" }
direction = { col = "dir" }
amount = { col = "fen", unit = "fen" }
currency = { value = "CNY" }
txn_time = { col = "time", format = "%Y-%m-%d %H:%M:%S" }
settled_on = { value = "2027-01-04" }
orig_trace_no = { col = "otrace" }
orig_txn_time = { col = "otime", format = "%Y-%m-%d %H:%M:%S" }
"#;

    const BY_TRACE_FILE: &str = "id,mid,trace,rrn,dir,fen,time,otrace,otime
d1,M1,000001,612312000001,debit,100,2027-01-04 08:00:00,,
d2,M1,000002,612312000002,debit,100,2027-01-04 08:01:00,,
d3,M1,000003,612312000003,debit,100,2027-01-04 08:02:00,,
c1,M1,000004,612312000004,credit,100,2027-01-04 09:00:00,000003,2027-01-04 08:02:00
c2,M1,000005,612312000005,credit,100,2027-01-04 09:01:00,000001,2027-01-04 08:00:00
c3,M2,000006,612312000006,credit,100,2027-01-04 09:02:00,000002,2027-01-04 08:01:00
";

    fn by_trace(queue: Option<(PendingQueue, usize)>) -> Vec<Item<SettlementEntry>> {
        let p = Arc::new(Profile::parse(BY_TRACE).unwrap());
        let reader = ProfileReader::<_, SettlementEntry>::new(p, BY_TRACE_FILE.as_bytes()).unwrap();
        match queue {
            Some((queue, window)) => reader.pending_beyond(queue, window).collect(),
            None => reader.collect(),
        }
    }

    fn orig(item: &Item<SettlementEntry>) -> Option<String> {
        item.as_ref().unwrap().1.orig_rrn.as_ref().map(ToString::to_string)
    }

    #[test]
    fn a_credit_takes_the_rrn_of_its_sale_earlier_in_the_file_and_of_the_same_merchant() {
        // Alone, the reader remembers every debit and refuses what it cannot link.
        let rows = by_trace(None);
        assert_eq!(orig(&rows[3]).as_deref(), Some("612312000003"));
        assert_eq!(orig(&rows[4]).as_deref(), Some("612312000001"));
        let err = rows[5].clone().unwrap_err();
        assert_eq!((err.line, err.problems[0].column, err.problems[0].code), (7, Some("orig_rrn"), ORIG_NOT_IN_FILE));
    }

    #[test]
    fn a_credit_beyond_the_window_waits_for_the_database_without_an_rrn() {
        let queue = PendingQueue::default();
        let rows = by_trace(Some((queue.clone(), 2)));
        assert!(rows.iter().all(Result::is_ok), "{rows:?}");
        assert_eq!(orig(&rows[3]).as_deref(), Some("612312000003"), "still in the window");
        assert_eq!(orig(&rows[4]), None, "d1 left the window: no stand-in RRN goes on");
        assert_eq!(orig(&rows[5]), None, "M2 has no such sale in the file");
        let pending: Vec<_> = queue.lock().unwrap().drain(..).collect();
        assert_eq!(pending.iter().map(|p| p.line).collect::<Vec<_>>(), [6, 7]);
        let sale = &pending[0];
        assert_eq!((sale.key.merchant(), sale.key.trace()), ("M1", "000001"));
        assert_eq!(sale.key.time(), "2027-01-04T08:00:00+08:00".parse::<jiff::Timestamp>().unwrap().as_second());
        assert_eq!((sale.source.as_str(), sale.written.as_str()), ("otrace+otime", "2027-01-04 08:00:00"));
    }

    #[test]
    fn fixed_width_gbk_is_cut_by_bytes() {
        let profile = r#"
name = "fixed"
kind = "journal"
encoding = "gbk"
layout = "fixed"
widths = [15, 8, 6, 6, 8, 19, 12, 14]
[fields]
merchant_id = { pos = 1 }
terminal_id = { pos = 2 }
batch_no = { pos = 3 }
trace_no = { pos = 4 }
txn_type = { pos = 5, map = { "消费" = "sale", "退货" = "refund" } }
card = { pos = 6 }
amount = { pos = 7, unit = "fen" }
local_time = { pos = 8, format = "%Y%m%d%H%M%S" }
currency = { value = "CNY" }
status = { value = "approved" }
receipt_printed = { value = "true" }
"#;
        // 消费 is four bytes in GBK: the 8-byte field holds it and four blanks.
        let text = "851424736185314 55024556 000012 000101 消费     622848******1234    000000012850 20261231235010\n";
        let p = Arc::new(Profile::parse(profile).unwrap());
        let rows: Vec<_> = ProfileReader::<_, JournalRow>::new(p, std::io::Cursor::new(gbk(text))).unwrap().collect();
        let (_, row) = rows[0].clone().unwrap();
        assert_eq!(row.amount.minor, 12_850);
        assert_eq!(row.local_time.to_string(), "2026-12-31T15:50:10Z");
        assert_eq!(row.card.as_str(), "622848******1234");
    }
}
