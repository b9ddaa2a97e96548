//! The value rules of import profiles (DESIGN.md §3.4) as pure functions: amounts in 分 or 元,
//! times written without a year or an offset, fixed-width fields cut by bytes.
//!
//! Each turns what a foreign file writes into the text of our own formats (§3.1, §3.2), so the
//! record checks after it are the ones `redress-csv` files go through.

use jiff::civil::{Date, DateTime};
use jiff::fmt::strtime::BrokenDownTime;
use jiff::tz::TimeZone;

/// How a file writes an amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// 元, major units: `128.50`, `1,234.50`.
    Yuan,
    /// 分, hundredths, often zero-padded: `000001443600` = `14436.00`.
    Fen,
}

/// The amount as our files write it (major units, `.` decimals), or `None` when the text is not
/// an amount in that unit. Checks of range and decimals stay with the record rules.
pub fn amount_text(raw: &str, unit: Unit) -> Option<String> {
    match unit {
        // Statements group thousands; the record rules refuse a comma, so it goes here, but only
        // as a thousands separator: `1,23` or `12,00` is not an amount, never 123 or 1200.
        Unit::Yuan => crate::domain::money::ungroup(raw),
        Unit::Fen => {
            if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let digits = raw.trim_start_matches('0');
            let digits = format!("{digits:0>3}");
            let (major, minor) = digits.split_at(digits.len() - 2);
            Some(format!("{major}.{minor}"))
        }
    }
}

/// The year-end rule: the year that puts `month`/`day` on or before `settled_on` and less than a
/// year before it. A `1231` transaction settled on `0104` is the previous year's.
pub fn year_for(month: i8, day: i8, settled_on: Date) -> i16 {
    let year = settled_on.year();
    // Compared as (month, day) so 29 February needs no date of its own in either year.
    if (month, day) > (settled_on.month(), settled_on.day()) { year - 1 } else { year }
}

/// Why a time or date in a file cannot be read with its profile's `format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadTime;

/// Reads `raw` with a strftime-style `format`. With `year_of` (a `year_from` field's date), the
/// year comes from the year-end rule; the format then names month and day but no year.
fn broken_down(raw: &str, format: &str, year_of: Option<Date>) -> Result<BrokenDownTime, BadTime> {
    let mut tm = BrokenDownTime::parse(format, raw).map_err(|_| BadTime)?;
    if let Some(settled) = year_of {
        let (Some(month), Some(day)) = (tm.month(), tm.day()) else { return Err(BadTime) };
        tm.set_year(Some(year_for(month, day, settled))).map_err(|_| BadTime)?;
    }
    Ok(tm)
}

/// A date as `YYYY-MM-DD` (§3.2 `settled_on`).
pub fn date_text(raw: &str, format: &str, year_of: Option<Date>) -> Result<String, BadTime> {
    let date = broken_down(raw, format, year_of)?.to_date().map_err(|_| BadTime)?;
    Ok(date.to_string())
}

/// A time as RFC 3339 with its offset in `zone` (§3.1 `local_time`, §3.2 `txn_time`). A format
/// with no time of day reads midnight; one with an offset (`%z`) keeps the file's offset.
pub fn time_text(raw: &str, format: &str, year_of: Option<Date>, zone: &TimeZone) -> Result<String, BadTime> {
    let tm = broken_down(raw, format, year_of)?;
    let civil: DateTime = match tm.to_datetime() {
        Ok(dt) => dt,
        Err(_) => tm.to_date().map_err(|_| BadTime)?.to_datetime(jiff::civil::Time::midnight()),
    };
    let zoned = match tm.offset() {
        Some(offset) => civil.to_zoned(TimeZone::fixed(offset)),
        None => civil.to_zoned(zone.clone()),
    }
    .map_err(|_| BadTime)?;
    Ok(zoned.timestamp().display_with_offset(zoned.offset()).to_string())
}

/// The date a text of our own formats starts with (`2026-11-08` or an RFC 3339 time).
pub fn leading_date(text: &str) -> Option<Date> {
    text.get(..10)?.parse().ok()
}

/// Cuts a fixed-width line into its fields: `widths` bytes each, `gap` bytes between them. A
/// line may end early (trailing blanks are often cut off): the missing fields are empty. Bytes
/// beyond the last field are returned as `Err(extra)` when they are not blank.
pub fn slice_fixed<'a>(line: &'a [u8], widths: &[usize], gap: usize, out: &mut Vec<&'a [u8]>) -> Result<(), usize> {
    out.clear();
    let mut at = 0;
    for (i, &width) in widths.iter().enumerate() {
        if i > 0 {
            at += gap;
        }
        let start = at.min(line.len());
        let end = (at + width).min(line.len());
        out.push(&line[start..end]);
        at += width;
    }
    match line.get(at..) {
        Some(rest) if !rest.iter().all(|b| b.is_ascii_whitespace()) => Err(rest.len()),
        _ => Ok(()),
    }
}

/// Splits a delimited line. Fields may be quoted (`"a,b"`, `""` for a quote) but a quoted field
/// cannot span lines: acquirer exports do not write line breaks inside fields.
pub fn split_delimited<'a>(line: &'a str, delimiter: char, out: &mut Vec<std::borrow::Cow<'a, str>>) {
    use std::borrow::Cow;
    out.clear();
    if !line.contains('"') {
        out.extend(line.split(delimiter).map(Cow::Borrowed));
        return;
    }
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => out.push(Cow::Owned(std::mem::take(&mut field))),
            c => field.push(c),
        }
    }
    out.push(Cow::Owned(field));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn fen_become_yuan_text() {
        assert_eq!(amount_text("000001443600", Unit::Fen).as_deref(), Some("14436.00"));
        assert_eq!(amount_text("5", Unit::Fen).as_deref(), Some("0.05"));
        assert_eq!(amount_text("000000000000", Unit::Fen).as_deref(), Some("0.00"));
        assert_eq!(amount_text("12850", Unit::Fen).as_deref(), Some("128.50"));
        assert_eq!(amount_text("12.50", Unit::Fen), None);
        assert_eq!(amount_text("-100", Unit::Fen), None);
        assert_eq!(amount_text("1,234.50", Unit::Yuan).as_deref(), Some("1234.50"));
        assert_eq!(amount_text("128.5", Unit::Yuan).as_deref(), Some("128.5"));
        // A comma only groups thousands: anything else is not read as a bigger number.
        assert_eq!(amount_text("1,23", Unit::Yuan), None);
        assert_eq!(amount_text("12,00", Unit::Yuan), None);
        assert_eq!(amount_text("1,234,567.89", Unit::Yuan).as_deref(), Some("1234567.89"));
    }

    #[test]
    fn the_year_puts_the_transaction_on_or_before_its_settlement() {
        assert_eq!(year_for(12, 31, date("2027-01-04")), 2026);
        assert_eq!(year_for(1, 1, date("2027-01-01")), 2027);
        assert_eq!(year_for(1, 4, date("2027-01-04")), 2027);
        assert_eq!(year_for(11, 7, date("2026-11-08")), 2026);
        assert_eq!(year_for(11, 9, date("2026-11-08")), 2025);
        assert_eq!(year_for(2, 29, date("2028-03-01")), 2028);
    }

    #[test]
    fn times_without_a_year_take_it_from_the_settlement_date() {
        let shanghai = TimeZone::get("Asia/Shanghai").unwrap();
        let t = time_text("1231235959", "%m%d%H%M%S", Some(date("2027-01-01")), &shanghai).unwrap();
        assert_eq!(t, "2026-12-31T23:59:59+08:00");
        let t = time_text("2026-11-07 13:20:05", "%Y-%m-%d %H:%M:%S", None, &shanghai).unwrap();
        assert_eq!(t, "2026-11-07T13:20:05+08:00");
        let t = time_text("20261107 132005 +0000", "%Y%m%d %H%M%S %z", None, &shanghai).unwrap();
        assert_eq!(t, "2026-11-07T13:20:05+00:00");
        assert_eq!(time_text("1331235959", "%m%d%H%M%S", Some(date("2027-01-01")), &shanghai), Err(BadTime));
        assert_eq!(time_text("12-31", "%m%d%H%M%S", Some(date("2027-01-01")), &shanghai), Err(BadTime));
        // 29 February of a year that has none.
        assert_eq!(time_text("0229120000", "%m%d%H%M%S", Some(date("2027-03-01")), &shanghai), Err(BadTime));
    }

    #[test]
    fn dates_read_with_their_format() {
        assert_eq!(date_text("20261108", "%Y%m%d", None).unwrap(), "2026-11-08");
        assert_eq!(date_text("0104", "%m%d", Some(date("2027-01-04"))).unwrap(), "2027-01-04");
        assert_eq!(date_text("2026-13-01", "%Y-%m-%d", None), Err(BadTime));
        assert_eq!(leading_date("2026-11-08T10:00:00+08:00"), Some(date("2026-11-08")));
        assert_eq!(leading_date("11/08"), None);
    }

    #[test]
    fn fixed_width_fields_are_cut_by_bytes_with_the_gap() {
        // "商户" is four bytes in GBK: a 4-byte field holds two Chinese characters.
        let line = b"AB \xc9\xcc\xbb\xa7 123";
        let mut out = Vec::new();
        slice_fixed(line, &[2, 4, 3], 1, &mut out).unwrap();
        assert_eq!(out, vec![&b"AB"[..], &b"\xc9\xcc\xbb\xa7"[..], &b"123"[..]]);
        // Trailing blanks cut off: the last fields are short or empty.
        slice_fixed(b"AB xy", &[2, 4, 3], 1, &mut out).unwrap();
        assert_eq!(out, vec![&b"AB"[..], &b"xy"[..], &b""[..]]);
        assert_eq!(slice_fixed(b"AB \xc9\xcc\xbb\xa7 123   ", &[2, 4, 3], 1, &mut out), Ok(()));
        assert_eq!(slice_fixed(b"AB \xc9\xcc\xbb\xa7 123 99", &[2, 4, 3], 1, &mut out), Err(3));
        slice_fixed(b"ABCD", &[2, 2], 0, &mut out).unwrap();
        assert_eq!(out, vec![&b"AB"[..], &b"CD"[..]]);
    }

    #[test]
    fn delimited_lines_split_with_quotes() {
        let mut out = Vec::new();
        split_delimited("a\tb\t\tc", '\t', &mut out);
        assert_eq!(out, vec!["a", "b", "", "c"]);
        split_delimited("\"1,234.50\",x,\"say \"\"hi\"\"\"", ',', &mut out);
        assert_eq!(out, vec!["1,234.50", "x", "say \"hi\""]);
        split_delimited("", ',', &mut out);
        assert_eq!(out, vec![""]);
    }
}
