//! Fuzzes time and date parsing: `parse_instant` (journal `local_time`, settlement
//! `txn_time`), `parse_date` (`settled_on`) and `Occurred::parse` (a claim's `occurred_at`).
//!
//! The hand-written record parsers are checked against jiff's own RFC 3339 and date parsers
//! and against their own output (parse → write → parse); `Occurred`'s search window must be
//! well-formed in any fixed-offset zone.
#![no_main]

use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use libfuzzer_sys::fuzz_target;
use redress::domain::claim::Occurred;
use redress::domain::records::{parse_date, parse_instant};
use redress_fuzz::record_text::rfc3339;

fn date_shaped(b: &[u8]) -> bool {
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

fn two(b: &[u8], at: usize) -> i8 {
    ((b[at] - b'0') * 10 + (b[at + 1] - b'0')) as i8
}

/// `exact` lies in the second that starts at `second` (which a truncating parser returns).
fn within_a_second(second: Timestamp, exact: Timestamp) -> bool {
    second <= exact && exact.duration_since(second) < SignedDuration::from_secs(1)
}

fn check_date(text: &str) {
    let parsed = parse_date(text);
    if let Some(date) = parsed {
        assert_eq!(date.to_string(), text, "a date does not write back as read");
    }
    if date_shaped(text.as_bytes()) {
        assert_eq!(parsed, text.parse::<Date>().ok(), "{text:?}: parse_date and jiff disagree");
    } else {
        assert_eq!(parsed, None, "{text:?} is not YYYY-MM-DD");
    }
}

fn check_instant(text: &str) {
    let Some((at, offset)) = parse_instant(text) else { return };
    let b = text.as_bytes();
    assert!(offset.seconds() % 60 == 0 && offset.seconds().abs() < 24 * 3600, "offset {offset}");
    // The civil time in the written offset is what the text said, to the second.
    let dt = at.to_zoned(TimeZone::fixed(offset)).datetime();
    assert_eq!(Some(dt.date()), parse_date(&text[..10]));
    assert!(matches!(b[10], b'T' | b't' | b' '));
    assert_eq!((dt.hour(), dt.minute()), (two(b, 11), two(b, 14)), "{text:?}");
    let seconds_written = b.get(16) == Some(&b':');
    let second = if seconds_written { two(b, 17).min(59) } else { 0 };
    assert_eq!(dt.second(), second, "{text:?}");
    assert_eq!(dt.subsec_nanosecond(), 0, "fractions are truncated");
    // Written back in the canonical form, it reads the same.
    let canonical = rfc3339(at, offset);
    assert_eq!(parse_instant(&canonical), Some((at, offset)), "{text:?} → {canonical:?}");
    // jiff reads the same instant, to the second, wherever it takes the text (it refuses
    // fractions of more than nine digits, which RFC 3339 allows).
    let fraction = if seconds_written && b.get(19) == Some(&b'.') {
        b[20..].iter().take_while(|c| c.is_ascii_digit()).count()
    } else {
        0
    };
    if fraction <= 9 {
        match text.parse::<Timestamp>() {
            Ok(exact) => assert!(within_a_second(at, exact), "{text:?}: jiff {exact}"),
            Err(err) => panic!("{text:?} read as {at}, but jiff refuses it: {err}"),
        }
    }
}

fn check_occurred(text: &str, zone_quarter_hours: i8) {
    let Some(occurred) = Occurred::parse(text) else { return };
    let trimmed = text.trim();
    match occurred {
        Occurred::Day(day) => assert_eq!(day.to_string(), trimmed),
        Occurred::At(at) => {
            assert!(matches!(trimmed.as_bytes()[10], b'T' | b't' | b' '));
            if let Some((second, _)) = parse_instant(trimmed) {
                assert!(within_a_second(second, at), "{text:?}");
            }
        }
    }
    let seconds = i32::from(zone_quarter_hours.clamp(-56, 56)) * 15 * 60;
    let tz = TimeZone::fixed(Offset::from_seconds(seconds).expect("within ±14 h"));
    let (start, end) = occurred.window(&tz);
    assert!(start <= end, "{text:?}: window {start}..{end}");
    // ±3 h around an instant; a whole day (24 h in a fixed-offset zone) ± 3 h. At the ends of
    // jiff's range the window saturates instead, which only the ordering above constrains.
    if start > Timestamp::MIN && end < Timestamp::MAX {
        let full = match occurred {
            Occurred::At(_) => SignedDuration::from_hours(6),
            Occurred::Day(_) => SignedDuration::from_hours(30),
        };
        assert_eq!(end.duration_since(start), full, "{text:?} in {tz:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&zone, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    check_date(text);
    check_instant(text);
    check_occurred(text, zone as i8);
});
