//! Import profiles (DESIGN.md §3.4): a TOML file that maps a foreign file onto our fields.
//!
//! [`Profile::parse`] reads and checks a profile completely before any row is read: an unknown
//! key, target, encoding or layout, a `map` that yields a value the target cannot take, a
//! `year_from` that names nothing, are refused with the reason and the place in the profile
//! (`fields.amount.unit`). [`reader`] then turns a profile and a byte stream into the same
//! `(line, row)` items the `redress-csv` readers yield, so the importer after it is unchanged.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;
use serde::Deserialize;

use super::Kind;
use super::parse::{JOURNAL_COLUMNS, SETTLEMENT_COLUMNS};
use crate::domain::profile::Unit;
use crate::domain::records::{Direction, TerminalEvent, TxnStatus, TxnType};

pub mod builtin;
pub mod choose;
pub mod originals;
pub mod reader;
pub mod write;

/// The name of the default profile: our own CSV formats (§3.1, §3.2).
pub const DEFAULT: &str = "redress-csv";

/// Settlement-side lookup targets (a Redress addition to §3.2's names): a credit whose file
/// names the original transaction by trace and time, not by RRN, gets `orig_rrn` from the debit
/// with that merchant, trace and time earlier in the same file or already imported
/// ([`originals`]).
pub const ORIG_TRACE_NO: &str = "orig_trace_no";
pub const ORIG_TXN_TIME: &str = "orig_txn_time";

/// The longest profile text accepted (an upload, a file given on the command line).
pub const MAX_PROFILE_BYTES: usize = 64 * 1024;

/// What is wrong with a profile, and where in it (`fields.amount.unit`, `skip_rows`, a line).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {code}")]
pub struct ProfileError {
    pub place: String,
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl ProfileError {
    fn new(place: impl Into<String>, code: &'static str) -> Self {
        ProfileError { place: place.into(), code, args: Vec::new() }
    }
    fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.args.push((name, value.into()));
        self
    }
    /// The message in words: `profile.error.<code>`, placed.
    pub fn message(&self, lang: crate::i18n::Lang) -> String {
        let mut args = self.args.clone();
        args.push(("place", self.place.clone()));
        lang.t_args(&format!("profile.error.{}", self.code), &args)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// Read as GB18030, GBK's superset: every GBK file decodes the same.
    Gbk,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layout {
    Delimited { delimiter: char, header: bool },
    Fixed { widths: Vec<usize>, gap: usize },
}

/// Where a target's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Header names, joined.
    Col(Vec<String>),
    /// 0-based field numbers, joined.
    Pos(Vec<usize>),
    Value(String),
}

/// One target field: its source and transforms, checked.
#[derive(Clone, Debug)]
pub struct Rule {
    pub target: &'static str,
    pub source: Source,
    pub join: String,
    pub trim: bool,
    pub format: Option<String>,
    /// Index (in `Profile::rules`) of the rule whose date gives the year.
    pub year_from: Option<usize>,
    pub unit: Option<Unit>,
    pub map: Option<HashMap<String, String>>,
}

/// A checked profile, ready to read files.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    pub kind: Kind,
    pub encoding: Encoding,
    pub layout: Layout,
    pub skip_head: usize,
    pub skip_tail: usize,
    /// `None`: the deployment's `REDRESS_TIMEZONE`.
    pub timezone: Option<TimeZone>,
    /// Rows dropped before mapping: the source field and the raw values.
    pub skip_rows: Vec<(Source, Vec<String>)>,
    /// In evaluation order: a rule that gives another its year comes before it.
    pub rules: Vec<Rule>,
    /// The first comment line of the profile, for lists of uploaded profiles.
    pub comment: String,
}

// ---- the TOML as written ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    kind: String,
    encoding: Option<String>,
    layout: Option<String>,
    delimiter: Option<String>,
    header: Option<bool>,
    skip_head: Option<usize>,
    skip_tail: Option<usize>,
    widths: Option<Vec<usize>>,
    gap: Option<usize>,
    timezone: Option<String>,
    skip_rows: Option<BTreeMap<String, Vec<String>>>,
    fields: BTreeMap<String, RawField>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(x) => vec![x],
            OneOrMany::Many(xs) => xs,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    col: Option<OneOrMany<String>>,
    pos: Option<OneOrMany<i64>>,
    value: Option<String>,
    join: Option<String>,
    format: Option<String>,
    year_from: Option<String>,
    unit: Option<String>,
    map: Option<BTreeMap<String, String>>,
    trim: Option<bool>,
}

/// The targets a kind of profile may fill, and which of them it must.
fn targets(kind: Kind) -> (Vec<&'static str>, &'static [&'static str]) {
    match kind {
        Kind::Journal => (
            JOURNAL_COLUMNS.to_vec(),
            &[
                "merchant_id",
                "terminal_id",
                "batch_no",
                "trace_no",
                "txn_type",
                "status",
                "receipt_printed",
                "card",
                "amount",
                "currency",
                "local_time",
            ],
        ),
        Kind::Settlement => {
            let mut all = SETTLEMENT_COLUMNS.to_vec();
            all.extend([ORIG_TRACE_NO, ORIG_TXN_TIME]);
            (
                all,
                &[
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
                ],
            )
        }
    }
}

/// Targets that hold a time or a date (where `format` and `year_from` belong).
fn is_time_target(target: &str) -> bool {
    matches!(target, "local_time" | "txn_time" | "settled_on" | ORIG_TXN_TIME)
}

/// A value a `map` or `value` may give the target, when the target takes only certain words.
fn value_fits(target: &str, value: &str) -> bool {
    match target {
        "txn_type" => TxnType::parse(value).is_some(),
        "status" => TxnStatus::parse(value).is_some(),
        "direction" => Direction::parse(value).is_some(),
        "terminal_event" => value.is_empty() || TerminalEvent::parse(value).is_some(),
        "receipt_printed" => matches!(value, "true" | "false"),
        "currency" => crate::domain::money::Currency::from_code(value).is_some(),
        _ => true,
    }
}

fn is_profile_name(name: &str) -> bool {
    (1..=60).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

impl Profile {
    /// Whether the file's credits name their sale by trace and time (§3.4 `orig_trace_no` /
    /// `orig_txn_time`), so that the importer looks some of them up while it inserts.
    pub fn links_originals(&self) -> bool {
        self.kind == Kind::Settlement && self.rules.iter().any(|r| r.target == ORIG_TRACE_NO)
    }

    /// Times written without an offset are read in the profile's `timezone`, else in `zone`
    /// (the deployment's `REDRESS_TIMEZONE`).
    pub fn with_default_zone(mut self, zone: &TimeZone) -> Profile {
        self.timezone.get_or_insert_with(|| zone.clone());
        self
    }

    /// Reads and checks a profile. Nothing about a file is known yet: header names are checked
    /// against the header when a file is opened ([`reader`]).
    pub fn parse(text: &str) -> Result<Profile, ProfileError> {
        if text.len() > MAX_PROFILE_BYTES {
            return Err(ProfileError::new("", "too_long").with("max", MAX_PROFILE_BYTES.to_string()));
        }
        // A profile is stored and its values echoed in messages: a card number in it (a constant,
        // a `map` key) must never get that far (DESIGN.md §12).
        if crate::domain::screen::contains_full_card_number(text) {
            return Err(ProfileError::new("", "full_card_number"));
        }
        let raw: RawProfile = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            // toml names the key and what it expected ("unknown field `colum`, expected one of …").
            ProfileError::new(format!("line {line}"), "syntax").with("detail", e.message().to_owned())
        })?;
        let comment =
            text.lines().find_map(|l| l.trim().strip_prefix('#').map(|c| c.trim().to_owned())).unwrap_or_default();

        if !is_profile_name(&raw.name) {
            return Err(ProfileError::new("name", "name_invalid"));
        }
        let kind = Kind::parse(&raw.kind)
            .ok_or_else(|| ProfileError::new("kind", "kind_invalid").with("value", raw.kind.clone()))?;
        let encoding = match raw.encoding.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("utf-8" | "utf8") => Encoding::Utf8,
            Some("gbk" | "gb18030" | "gb2312") => Encoding::Gbk,
            Some(other) => return Err(ProfileError::new("encoding", "encoding_invalid").with("value", other)),
        };
        let layout = match raw.layout.as_deref() {
            None | Some("delimited") => {
                if raw.widths.is_some() || raw.gap.is_some() {
                    let key = if raw.widths.is_some() { "widths" } else { "gap" };
                    return Err(ProfileError::new(key, "fixed_only"));
                }
                let delimiter = match raw.delimiter.as_deref() {
                    None => ',',
                    Some(d) => {
                        let mut chars = d.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) if c != '"' && c != '\n' && c != '\r' => c,
                            _ => return Err(ProfileError::new("delimiter", "delimiter_invalid")),
                        }
                    }
                };
                Layout::Delimited { delimiter, header: raw.header.unwrap_or(true) }
            }
            Some("fixed") => {
                if raw.delimiter.is_some() {
                    return Err(ProfileError::new("delimiter", "delimited_only"));
                }
                if raw.header == Some(true) {
                    return Err(ProfileError::new("header", "delimited_only"));
                }
                let widths = raw.widths.clone().unwrap_or_default();
                if widths.is_empty() {
                    return Err(ProfileError::new("widths", "widths_missing"));
                }
                if let Some(at) = widths.iter().position(|w| *w == 0 || *w > 4096) {
                    return Err(ProfileError::new(format!("widths[{}]", at + 1), "width_invalid"));
                }
                Layout::Fixed { widths, gap: raw.gap.unwrap_or(1) }
            }
            Some(other) => return Err(ProfileError::new("layout", "layout_invalid").with("value", other)),
        };
        let header = matches!(layout, Layout::Delimited { header: true, .. });
        let field_count = match &layout {
            Layout::Fixed { widths, .. } => Some(widths.len()),
            Layout::Delimited { .. } => None,
        };
        let timezone = match &raw.timezone {
            None => None,
            Some(name) => Some(
                TimeZone::get(name)
                    .map_err(|_| ProfileError::new("timezone", "timezone_invalid").with("value", name.clone()))?,
            ),
        };
        let skip_head = raw.skip_head.unwrap_or(0);
        let skip_tail = raw.skip_tail.unwrap_or(0);
        if skip_head > 1000 || skip_tail > 1000 {
            let key = if skip_head > 1000 { "skip_head" } else { "skip_tail" };
            return Err(ProfileError::new(key, "skip_too_many"));
        }

        let positions = |place: &str, list: Vec<i64>| -> Result<Vec<usize>, ProfileError> {
            list.into_iter()
                .map(|p| match (usize::try_from(p), field_count) {
                    (Ok(p), Some(n)) if (1..=n).contains(&p) => Ok(p - 1),
                    (Ok(p), None) if (1..=4096).contains(&p) => Ok(p - 1),
                    _ => Err(ProfileError::new(place, "pos_invalid")
                        .with("value", p.to_string())
                        .with("max", field_count.unwrap_or(4096).to_string())),
                })
                .collect()
        };

        let mut skip_rows = Vec::new();
        for (key, values) in raw.skip_rows.unwrap_or_default() {
            let place = format!("skip_rows.{key}");
            let source = if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
                Source::Pos(positions(&place, vec![key.parse().unwrap_or(0)])?)
            } else if header {
                Source::Col(vec![key])
            } else {
                return Err(ProfileError::new(place, "col_without_header"));
            };
            skip_rows.push((source, values));
        }

        let (allowed, required) = targets(kind);
        let mut rules = Vec::new();
        let mut year_names = Vec::new();
        for (target, field) in raw.fields {
            let place = format!("fields.{target}");
            let Some(target) = allowed.iter().copied().find(|t| *t == target) else {
                return Err(ProfileError::new(place, "target_unknown").with("allowed", allowed.join(", ")));
            };
            let source = match (field.col, field.pos, field.value) {
                (Some(col), None, None) => {
                    if !header {
                        return Err(ProfileError::new(format!("{place}.col"), "col_without_header"));
                    }
                    let cols = col.into_vec();
                    if cols.is_empty() || cols.iter().any(String::is_empty) {
                        return Err(ProfileError::new(format!("{place}.col"), "col_empty"));
                    }
                    Source::Col(cols)
                }
                (None, Some(pos), None) => {
                    let list = pos.into_vec();
                    if list.is_empty() {
                        return Err(ProfileError::new(format!("{place}.pos"), "col_empty"));
                    }
                    Source::Pos(positions(&format!("{place}.pos"), list)?)
                }
                (None, None, Some(value)) => {
                    if !value_fits(target, &value) {
                        return Err(ProfileError::new(format!("{place}.value"), "value_unfit").with("value", value));
                    }
                    Source::Value(value)
                }
                _ => return Err(ProfileError::new(place, "one_source")),
            };
            let joined =
                matches!(&source, Source::Col(c) if c.len() > 1) || matches!(&source, Source::Pos(p) if p.len() > 1);
            if field.join.is_some() && !joined {
                return Err(ProfileError::new(format!("{place}.join"), "join_single"));
            }
            if (field.format.is_some() || field.year_from.is_some()) && !is_time_target(target) {
                let key = if field.format.is_some() { "format" } else { "year_from" };
                return Err(ProfileError::new(format!("{place}.{key}"), "format_not_time"));
            }
            if field.year_from.is_some() && field.format.is_none() {
                return Err(ProfileError::new(format!("{place}.year_from"), "year_from_needs_format"));
            }
            if let Some(format) = &field.format
                && (format.trim().is_empty() || !format.contains('%'))
            {
                return Err(ProfileError::new(format!("{place}.format"), "format_invalid"));
            }
            let unit = match field.unit.as_deref() {
                None => None,
                Some(_) if target != "amount" => {
                    return Err(ProfileError::new(format!("{place}.unit"), "unit_not_amount"));
                }
                Some("yuan") => Some(Unit::Yuan),
                Some("fen") => Some(Unit::Fen),
                Some(other) => {
                    return Err(ProfileError::new(format!("{place}.unit"), "unit_invalid").with("value", other));
                }
            };
            if let Some(map) = &field.map
                && let Some((from, to)) = map.iter().find(|(_, to)| !value_fits(target, to))
            {
                return Err(ProfileError::new(format!("{place}.map.\"{from}\""), "value_unfit").with("value", to));
            }
            year_names.push(field.year_from.clone());
            rules.push(Rule {
                target,
                source,
                join: field.join.unwrap_or_else(|| " ".to_owned()),
                trim: field.trim.unwrap_or(true),
                format: field.format,
                year_from: None,
                unit,
                map: field.map.map(|m| m.into_iter().collect()),
            });
        }
        if let Some(missing) = required.iter().find(|t| !rules.iter().any(|r| r.target == **t)) {
            return Err(ProfileError::new(format!("fields.{missing}"), "target_missing"));
        }
        if kind == Kind::Settlement {
            let has = |t: &str| rules.iter().any(|r| r.target == t);
            if has(ORIG_TRACE_NO) != has(ORIG_TXN_TIME) {
                let missing = if has(ORIG_TRACE_NO) { ORIG_TXN_TIME } else { ORIG_TRACE_NO };
                return Err(ProfileError::new(format!("fields.{missing}"), "target_missing"));
            }
        }
        // A rule that gives another its year must be read first, and must have a year of its own.
        for (i, name) in year_names.iter().enumerate() {
            let Some(name) = name else { continue };
            let place = format!("fields.{}.year_from", rules[i].target);
            let Some(from) = rules.iter().position(|r| r.target == name) else {
                return Err(ProfileError::new(place, "year_from_unknown").with("value", name.clone()));
            };
            if from == i || year_names[from].is_some() || rules[from].format.is_none() {
                return Err(ProfileError::new(place, "year_from_unfit").with("value", name.clone()));
            }
            rules[i].year_from = Some(from);
        }
        // Order: rules without year_from first (BTreeMap order within), then the others.
        let mut order: Vec<usize> = (0..rules.len()).collect();
        order.sort_by_key(|&i| rules[i].year_from.is_some());
        let position_of: Vec<usize> = {
            let mut p = vec![0; rules.len()];
            for (new, &old) in order.iter().enumerate() {
                p[old] = new;
            }
            p
        };
        let mut sorted: Vec<Rule> = order.iter().map(|&i| rules[i].clone()).collect();
        for rule in &mut sorted {
            rule.year_from = rule.year_from.map(|old| position_of[old]);
        }

        Ok(Profile {
            name: raw.name,
            kind,
            encoding,
            layout,
            skip_head,
            skip_tail,
            timezone,
            skip_rows,
            rules: sorted,
            comment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATEMENT: &str = r#"
name = "acquirer-statement"
kind = "settlement"
encoding = "gbk"
layout = "delimited"
delimiter = "\t"
header = true
skip_head = 4
skip_tail = 2
timezone = "Asia/Shanghai"
skip_rows = { "交易类型" = ["预授权", "余额查询"] }

[fields]
merchant_id = { col = "商户号" }
terminal_id = { col = "终端号" }
trace_no    = { col = "流水号" }
rrn         = { col = "参考号" }
card        = { col = "卡号" }
amount      = { col = "交易金额", unit = "yuan" }
currency    = { value = "CNY" }
txn_time    = { col = ["交易日期", "交易时间"], format = "%Y-%m-%d %H:%M:%S" }
settled_on  = { col = "清算日期", format = "%Y%m%d" }
direction   = { col = "交易类型", map = { "消费" = "debit", "退货" = "credit", "消费撤销" = "credit" } }
orig_rrn    = { col = "原参考号" }
entry_id    = { col = ["清算日期", "终端号", "流水号", "交易类型"], join = "-" }
"#;

    fn refused(text: &str) -> ProfileError {
        Profile::parse(text).expect_err("refused")
    }

    #[test]
    fn the_example_of_design_section_3_4_reads() {
        let p = Profile::parse(STATEMENT).unwrap();
        assert_eq!((p.name.as_str(), p.kind, p.encoding), ("acquirer-statement", Kind::Settlement, Encoding::Gbk));
        assert_eq!(p.layout, Layout::Delimited { delimiter: '\t', header: true });
        assert_eq!((p.skip_head, p.skip_tail), (4, 2));
        assert_eq!(p.rules.len(), 12);
        let entry = p.rules.iter().find(|r| r.target == "entry_id").unwrap();
        assert_eq!(entry.join, "-");
        assert_eq!(p.skip_rows[0].0, Source::Col(vec!["交易类型".into()]));
    }

    #[test]
    fn year_from_rules_come_after_the_rule_they_read() {
        let text = STATEMENT.replace(
            r#"txn_time    = { col = ["交易日期", "交易时间"], format = "%Y-%m-%d %H:%M:%S" }"#,
            r#"txn_time    = { col = "交易时间", format = "%m%d%H%M%S", year_from = "settled_on" }"#,
        );
        let p = Profile::parse(&text).unwrap();
        let at = p.rules.iter().position(|r| r.target == "txn_time").unwrap();
        let from = p.rules[at].year_from.unwrap();
        assert_eq!(p.rules[from].target, "settled_on");
        assert!(from < at);
    }

    #[test]
    fn unknown_keys_and_targets_are_refused_with_where() {
        let e = refused(&STATEMENT.replace("skip_tail = 2", "skip_tail = 2\nfooter = 1"));
        assert_eq!(e.code, "syntax");
        assert!(e.place.starts_with("line "), "{e:?}");
        assert!(e.args[0].1.contains("footer"), "{e:?}");
        let e = refused(&STATEMENT.replace("orig_rrn    =", "original_rrn ="));
        assert_eq!((e.place.as_str(), e.code), ("fields.original_rrn", "target_unknown"));
        let e = refused(&STATEMENT.replace(r#"{ col = "卡号" }"#, r#"{ colum = "卡号" }"#));
        assert_eq!(e.code, "syntax");
        assert!(e.args[0].1.contains("colum"), "{e:?}");
    }

    #[test]
    fn a_full_card_number_anywhere_in_a_profile_is_refused_and_not_echoed() {
        // A Luhn-valid test number as a `map` key: refused before it could be stored or shown.
        let e = refused(&STATEMENT.replace(r#""消费" = "debit""#, r#""6222 0212 3456 7894" = "debit""#));
        assert_eq!((e.place.as_str(), e.code), ("", "full_card_number"));
        assert!(e.args.is_empty(), "{e:?}");
    }

    #[test]
    fn a_map_that_yields_an_invalid_value_is_refused() {
        let e = refused(&STATEMENT.replace(r#""退货" = "credit""#, r#""退货" = "refund""#));
        assert_eq!((e.place.as_str(), e.code), ("fields.direction.map.\"退货\"", "value_unfit"));
        let e = refused(&STATEMENT.replace(r#"{ value = "CNY" }"#, r#"{ value = "RMB" }"#));
        assert_eq!((e.place.as_str(), e.code), ("fields.currency.value", "value_unfit"));
    }

    #[test]
    fn transforms_belong_to_their_targets() {
        let e = refused(&STATEMENT.replace(r#"{ col = "参考号" }"#, r#"{ col = "参考号", unit = "fen" }"#));
        assert_eq!((e.place.as_str(), e.code), ("fields.rrn.unit", "unit_not_amount"));
        let e = refused(&STATEMENT.replace(r#"unit = "yuan""#, r#"unit = "jiao""#));
        assert_eq!((e.place.as_str(), e.code), ("fields.amount.unit", "unit_invalid"));
        let e = refused(&STATEMENT.replace(r#"{ col = "卡号" }"#, r#"{ col = "卡号", format = "%Y" }"#));
        assert_eq!((e.place.as_str(), e.code), ("fields.card.format", "format_not_time"));
        let e = refused(&STATEMENT.replace(r#"format = "%Y%m%d" }"#, r#"format = "%Y%m%d", year_from = "card" }"#));
        assert_eq!((e.place.as_str(), e.code), ("fields.settled_on.year_from", "year_from_unfit"));
        let e = refused(&STATEMENT.replace(r#"format = "%Y%m%d" }"#, r#"format = "%Y%m%d", year_from = "due_on" }"#));
        assert_eq!((e.place.as_str(), e.code), ("fields.settled_on.year_from", "year_from_unknown"));
        let e = refused(&STATEMENT.replace(r#"{ col = "卡号" }"#, r#"{ col = "卡号", join = "-" }"#));
        assert_eq!((e.place.as_str(), e.code), ("fields.card.join", "join_single"));
        let e = refused(&STATEMENT.replace(r#"{ col = "卡号" }"#, r#"{ col = "卡号", pos = 3 }"#));
        assert_eq!((e.place.as_str(), e.code), ("fields.card", "one_source"));
    }

    #[test]
    fn required_targets_and_layout_keys_are_checked() {
        let e = refused(&STATEMENT.replace("card        = { col = \"卡号\" }\n", ""));
        assert_eq!((e.place.as_str(), e.code), ("fields.card", "target_missing"));
        let e = refused(&STATEMENT.replace("header = true", "header = true\nwidths = [1, 2]"));
        assert_eq!((e.place.as_str(), e.code), ("widths", "fixed_only"));
        let e = refused(&STATEMENT.replace(r#"delimiter = "\t""#, r#"delimiter = "||""#));
        assert_eq!(e.place, "delimiter");
        let e = refused(&STATEMENT.replace(r#"encoding = "gbk""#, r#"encoding = "big5""#));
        assert_eq!((e.place.as_str(), e.code), ("encoding", "encoding_invalid"));
        let e = refused(&STATEMENT.replace(r#"timezone = "Asia/Shanghai""#, r#"timezone = "Mars/Olympus""#));
        assert_eq!(e.place, "timezone");
        let e = refused(&STATEMENT.replace(r#"name = "acquirer-statement""#, r#"name = "a b""#));
        assert_eq!(e.place, "name");
    }

    #[test]
    fn fixed_layouts_take_positions_within_their_widths() {
        let text = r#"
name = "tiny"
kind = "journal"
layout = "fixed"
widths = [15, 8, 6, 6, 19, 12, 14]
[fields]
merchant_id = { pos = 1 }
terminal_id = { pos = 2 }
batch_no = { pos = 3 }
trace_no = { pos = 4 }
card = { pos = 5 }
amount = { pos = 6, unit = "fen" }
local_time = { pos = 7, format = "%Y%m%d%H%M%S" }
currency = { value = "CNY" }
txn_type = { value = "sale" }
status = { value = "approved" }
receipt_printed = { value = "true" }
"#;
        let p = Profile::parse(text).unwrap();
        assert_eq!(p.layout, Layout::Fixed { widths: vec![15, 8, 6, 6, 19, 12, 14], gap: 1 });
        let e = refused(&text.replace("{ pos = 7,", "{ pos = 8,"));
        assert_eq!((e.place.as_str(), e.code), ("fields.local_time.pos", "pos_invalid"));
        let e = refused(&text.replace("{ pos = 1 }", "{ col = \"商户号\" }"));
        assert_eq!((e.place.as_str(), e.code), ("fields.merchant_id.col", "col_without_header"));
    }
}
