//! The one place amounts, times, dates and deadlines are written for a reader (DESIGN.md §8):
//! pages, emails and the evidence pack all call these, so a reader sees one form everywhere.
//!
//! | | zh-CN | en |
//! |---|---|---|
//! | CNY | `¥1,234.50` | `CNY 1,234.50` |
//! | other | `USD 1,234.50` | `USD 1,234.50` |
//! | time | `2026年11月12日 13:20` | `12 Nov 2026, 13:20` |
//! | deadline | `2026年12月15日 18:00 前` | `by 15 Dec 2026, 18:00` |
//!
//! Times are always in the deployment's zone (`REDRESS_TIMEZONE`), never UTC or RFC 3339.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use crate::domain::money::{Currency, Money};
use crate::i18n::Lang;

/// When a business day ends, as a deadline is told to people. The stored deadline is the
/// midnight after the due day (the instant it has passed); a person plans by the office day.
const BUSINESS_DAY_ENDS: Time = Time::constant(18, 0, 0, 0);

/// An amount as the reader's language writes it: `¥1,234.50` (zh-CN yuan), `CNY 1,234.50`
/// (en yuan), `USD 1,234.50` and `JPY 1,235` (any other currency, either language).
pub fn money(m: Money, lang: Lang) -> String {
    let major = m.major_string();
    let (sign, digits) = major.strip_prefix('-').map_or(("", major.as_str()), |rest| ("-", rest));
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3 + 4);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if let Some(f) = fraction {
        grouped.push('.');
        grouped.push_str(f);
    }
    match (m.currency == Currency::CNY, lang) {
        (true, Lang::ZhCn) => format!("{sign}¥{grouped}"),
        _ => format!("{} {sign}{grouped}", m.currency.code()),
    }
}

/// An instant to the minute, in `tz`: `2026年11月12日 13:20` / `12 Nov 2026, 13:20`.
pub fn datetime(at: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let local = at.to_zoned(tz.clone());
    match lang {
        Lang::ZhCn => local.strftime("%Y年%-m月%-d日 %H:%M").to_string(),
        Lang::En => local.strftime("%-d %b %Y, %H:%M").to_string(),
    }
}

/// `datetime` of a Unix second as stored in the database; empty for an impossible value.
pub fn unix_datetime(secs: i64, tz: &TimeZone, lang: Lang) -> String {
    Timestamp::from_second(secs).map(|t| datetime(t, tz, lang)).unwrap_or_default()
}

/// A calendar day: `2026年11月12日` / `12 Nov 2026`.
pub fn date(day: Date, lang: Lang) -> String {
    match lang {
        Lang::ZhCn => day.strftime("%Y年%-m月%-d日").to_string(),
        Lang::En => day.strftime("%-d %b %Y").to_string(),
    }
}

/// The day a deadline falls due, as stored (the instant it passes, the midnight after
/// that day; see `Calendar::add_business_days`), in `tz`.
pub fn due_day(deadline: Timestamp, tz: &TimeZone) -> Date {
    // The instant itself is the next day's midnight: step back to land on the due day.
    let last = deadline.checked_sub(jiff::SignedDuration::from_nanos(1)).unwrap_or(deadline);
    last.to_zoned(tz.clone()).date()
}

/// A deadline as the end of its business day: `2026年12月15日 18:00 前` / `by 15 Dec 2026, 18:00`.
pub fn deadline(at: Timestamp, tz: &TimeZone, lang: Lang) -> String {
    let day = due_day(at, tz);
    let time = BUSINESS_DAY_ENDS.strftime("%H:%M");
    match lang {
        Lang::ZhCn => format!("{} {time} 前", date(day, lang)),
        Lang::En => format!("by {}, {time}", date(day, lang)),
    }
}

/// `deadline` of a Unix second as stored in the database; empty for an impossible value.
pub fn unix_deadline(secs: i64, tz: &TimeZone, lang: Lang) -> String {
    Timestamp::from_second(secs).map(|t| deadline(t, tz, lang)).unwrap_or_default()
}

/// A file's size: `512 B`, `12.4 KB`, `3.1 MB` (units are the same in both languages).
pub fn file_size(bytes: i64) -> String {
    const KB: i64 = 1024;
    match bytes {
        b if b < KB => format!("{b} B"),
        b if b < KB * KB => format!("{}.{} KB", b / KB, b % KB * 10 / KB),
        b => format!("{}.{} MB", b / (KB * KB), b % (KB * KB) * 10 / (KB * KB)),
    }
}

/// The time a claim says the payment happened (`occurred_at` as filed: RFC 3339, or a day),
/// written for the reader; text that does not read is shown as filed.
pub fn claimed_time(text: &str, tz: &TimeZone, lang: Lang) -> String {
    match crate::domain::claim::Occurred::parse(text) {
        Some(crate::domain::claim::Occurred::At(at)) => datetime(at, tz, lang),
        Some(crate::domain::claim::Occurred::Day(day)) => date(day, lang),
        None => text.to_owned(),
    }
}

/// A fact kept with a finding (`debit_amount` = `954.82 CNY`, `txn_time` = RFC 3339,
/// `settled_on` = `2026-11-12`) rewritten for the reader; anything else is shown as kept.
/// Facts are stored in canonical form so that they can be told again in any language.
pub fn fact(key: &str, value: &str, tz: &TimeZone, lang: Lang) -> String {
    if key.ends_with("_time")
        && let Ok(at) = value.parse::<Timestamp>()
    {
        return datetime(at, tz, lang);
    }
    if (key.ends_with("_date") || key.ends_with("_on"))
        && let Ok(day) = value.parse::<Date>()
    {
        return date(day, lang);
    }
    if let Some(m) = canonical_money(value) {
        return money(m, lang);
    }
    value.to_owned()
}

/// A shop as a reader names it: the merchant's name and, where known, the terminal's location;
/// a merchant nobody registered is named by its merchant id.
pub fn shop(shop: &crate::domain::shop::Shop, lang: Lang) -> String {
    let en = lang == Lang::En;
    match (shop.name(en), shop.location(en)) {
        (Some(name), Some(location)) => {
            lang.t_args("reading.shop.at", &[("name", name.to_owned()), ("location", location.to_owned())])
        }
        (Some(name), None) => name.to_owned(),
        (None, _) => lang.t_args("reading.shop.unregistered", &[("merchant_id", shop.merchant_id.clone())]),
    }
}

/// `954.82 CNY` (Money's canonical `Display`) back into an amount.
fn canonical_money(text: &str) -> Option<Money> {
    let (major, code) = text.split_once(' ')?;
    let currency = Currency::from_code(code)?;
    Money::parse(major, currency).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    #[test]
    fn amounts_follow_design_section_8() {
        let cny = Money::new(123_450, Currency::CNY);
        assert_eq!(money(cny, Lang::ZhCn), "¥1,234.50");
        assert_eq!(money(cny, Lang::En), "CNY 1,234.50");
        assert_eq!(money(Money::new(123_450, Currency::USD), Lang::ZhCn), "USD 1,234.50");
        assert_eq!(money(Money::new(123_450, Currency::USD), Lang::En), "USD 1,234.50");
        assert_eq!(money(Money::new(1_235, Currency::JPY), Lang::ZhCn), "JPY 1,235");
        assert_eq!(money(Money::new(1_235, Currency::JPY), Lang::En), "JPY 1,235");
    }

    #[test]
    fn groups_fall_on_every_third_digit_from_the_point() {
        let cny = |minor| money(Money::new(minor, Currency::CNY), Lang::ZhCn);
        assert_eq!(cny(0), "¥0.00");
        assert_eq!(cny(5), "¥0.05");
        assert_eq!(cny(99_999), "¥999.99");
        assert_eq!(cny(100_000), "¥1,000.00");
        assert_eq!(cny(12_345_678), "¥123,456.78");
        assert_eq!(cny(-12_345_678), "-¥123,456.78");
        assert_eq!(cny(i64::MIN), "-¥92,233,720,368,547,758.08");
        assert_eq!(money(Money::new(-100_000, Currency::USD), Lang::En), "USD -1,000.00");
        assert_eq!(money(Money::new(1_234_567, Currency::from_code("KWD").unwrap()), Lang::En), "KWD 1,234.567");
    }

    #[test]
    fn times_are_to_the_minute_in_the_deployment_zone() {
        // 05:20 UTC is 13:20 in Shanghai: the reader never sees UTC.
        let at: Timestamp = "2026-11-12T05:20:36Z".parse().unwrap();
        assert_eq!(datetime(at, &shanghai(), Lang::ZhCn), "2026年11月12日 13:20");
        assert_eq!(datetime(at, &shanghai(), Lang::En), "12 Nov 2026, 13:20");
        assert_eq!(unix_datetime(at.as_second(), &shanghai(), Lang::En), "12 Nov 2026, 13:20");
        assert_eq!(date(Date::constant(2026, 1, 5), Lang::ZhCn), "2026年1月5日");
        assert_eq!(date(Date::constant(2026, 1, 5), Lang::En), "5 Jan 2026");
    }

    #[test]
    fn a_deadline_is_the_end_of_its_business_day_not_the_next_midnight() {
        // Stored as the midnight after 15 Dec (Shanghai): people read "by 15 Dec, 18:00".
        let at: Timestamp = "2026-12-16T00:00:00+08:00".parse().unwrap();
        assert_eq!(deadline(at, &shanghai(), Lang::ZhCn), "2026年12月15日 18:00 前");
        assert_eq!(deadline(at, &shanghai(), Lang::En), "by 15 Dec 2026, 18:00");
        assert_eq!(unix_deadline(at.as_second(), &shanghai(), Lang::En), "by 15 Dec 2026, 18:00");
        assert_eq!(due_day(at, &shanghai()), Date::constant(2026, 12, 15));
    }

    #[test]
    fn file_sizes_never_read_as_nothing() {
        assert_eq!(file_size(300), "300 B");
        assert_eq!(file_size(1024), "1.0 KB");
        assert_eq!(file_size(12_700), "12.4 KB");
        assert_eq!(file_size(3 * 1024 * 1024 + 200_000), "3.1 MB");
    }

    #[test]
    fn the_claimed_time_is_read_in_the_deployment_zone() {
        let tz = shanghai();
        assert_eq!(claimed_time("2026-11-12T13:20:00+08:00", &tz, Lang::ZhCn), "2026年11月12日 13:20");
        assert_eq!(claimed_time("2026-11-12T05:20:00Z", &tz, Lang::En), "12 Nov 2026, 13:20");
        assert_eq!(claimed_time("2026-11-12", &tz, Lang::En), "12 Nov 2026");
    }

    #[test]
    fn finding_facts_are_rewritten_for_the_reader() {
        let tz = shanghai();
        assert_eq!(fact("debit_amount", "30341.70 CNY", &tz, Lang::ZhCn), "¥30,341.70");
        assert_eq!(fact("debit_amount", "30341.70 CNY", &tz, Lang::En), "CNY 30,341.70");
        assert_eq!(fact("txn_time", "2026-11-12T13:20:00+08:00", &tz, Lang::ZhCn), "2026年11月12日 13:20");
        assert_eq!(fact("settled_on", "2026-11-13", &tz, Lang::En), "13 Nov 2026");
        assert_eq!(fact("credit_date", "2026-11-13", &tz, Lang::ZhCn), "2026年11月13日");
        // Ids stay as they are, even when they look like numbers.
        assert_eq!(fact("rrn", "123456789012", &tz, Lang::ZhCn), "123456789012");
        assert_eq!(fact("terminal_id", "TIE00001", &tz, Lang::En), "TIE00001");
        assert_eq!(fact("candidate_count", "3", &tz, Lang::En), "3");
    }
}
