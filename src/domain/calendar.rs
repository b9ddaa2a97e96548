//! Business days for deadlines (DESIGN §6: merchant response 2, remedy executed 5,
//! agent decision 5): weekends, public holidays and make-up working days, loaded from a
//! holiday file.
//!
//! Mainland China moves working days onto weekends around its public holidays (调休):
//! a Saturday or Sunday can be a working day and a Monday a holiday. So a business day
//! is: a make-up working day listed in the file, or else a Monday–Friday that is not a
//! listed holiday. Years the file does not list fall back to plain Monday–Friday.
//!
//! # The holiday file (TOML)
//!
//! ```toml
//! [[year]]                      # one table per calendar year the file knows
//! year = 2026
//! status = "official"           # "official" (from the published notice) | "provisional"
//! source = "国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04)"
//!
//! [[year.holiday]]              # one per holiday period
//! name = "春节 Spring Festival" # free text
//! first = 2026-02-15            # TOML date, or a "YYYY-MM-DD" string
//! last = 2026-02-23             # optional, inclusive; defaults to `first`
//! working_days = [2026-02-14, 2026-02-28]  # optional: weekend days worked instead (调休上班)
//! note = "…"                    # optional, free text
//! ```
//!
//! Checked on load, so a typo cannot silently shift deadlines: unknown keys, bad dates,
//! `last` before `first`, periods over [`MAX_HOLIDAY_DAYS`], make-up working days that
//! are not Saturday or Sunday, a date listed twice (in two periods, or as both holiday
//! and working day), a year listed twice, and dates further than the neighbouring
//! December / January from their `year` (a New Year period may cross the year's turn).

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::domain::codes::code_enum;

/// The longest holiday period a file may declare. The longest real ones are about ten
/// days; anything near a month is a typo in `last`.
pub const MAX_HOLIDAY_DAYS: i32 = 31;

code_enum! {
    /// Whether a year's dates come from the published notice or were derived before it.
    pub enum YearStatus {
        Official = "official",
        Provisional = "provisional",
    }
}

/// What the file says about one year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YearInfo {
    pub year: i16,
    pub status: YearStatus,
    pub source: String,
}

/// Holidays and make-up working days, and the business-day arithmetic built on them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Calendar {
    holidays: BTreeSet<Date>,
    working_days: BTreeSet<Date>,
    years: BTreeMap<i16, YearInfo>,
}

/// Why a holiday file was refused. Meant for the operator who edits the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// Not TOML, or not this file's shape (unknown key, missing key, wrong type).
    #[error("holiday file line {line}: {detail}")]
    Syntax { line: usize, detail: String },
    #[error("year {year} is out of range")]
    InvalidYear { year: i64 },
    #[error("year {year} is listed twice")]
    YearListedTwice { year: i16 },
    #[error("{holiday}: {value} is not a date (YYYY-MM-DD)")]
    InvalidDate { holiday: String, value: String },
    #[error("{holiday}: {date} is too far from year {year}")]
    DateOutsideYear { holiday: String, date: Date, year: i16 },
    #[error("{holiday}: last day {last} is before first day {first}")]
    RangeReversed { holiday: String, first: Date, last: Date },
    #[error("{holiday}: {first} to {last} is longer than {MAX_HOLIDAY_DAYS} days")]
    RangeTooLong { holiday: String, first: Date, last: Date },
    #[error("{holiday}: make-up working day {date} is not a Saturday or Sunday")]
    WorkingDayNotWeekend { holiday: String, date: Date },
    #[error("{date} is listed twice")]
    DateListedTwice { date: Date },
}

impl CalendarError {
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::Syntax { .. } => "calendar_syntax",
            CalendarError::InvalidYear { .. } => "calendar_invalid_year",
            CalendarError::YearListedTwice { .. } => "calendar_year_listed_twice",
            CalendarError::InvalidDate { .. } => "calendar_invalid_date",
            CalendarError::DateOutsideYear { .. } => "calendar_date_outside_year",
            CalendarError::RangeReversed { .. } => "calendar_range_reversed",
            CalendarError::RangeTooLong { .. } => "calendar_range_too_long",
            CalendarError::WorkingDayNotWeekend { .. } => "calendar_working_day_not_weekend",
            CalendarError::DateListedTwice { .. } => "calendar_date_listed_twice",
        }
    }

    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            CalendarError::Syntax { line, detail } => {
                vec![("line", line.to_string()), ("detail", detail.clone())]
            }
            CalendarError::InvalidYear { year } => vec![("year", year.to_string())],
            CalendarError::YearListedTwice { year } => vec![("year", year.to_string())],
            CalendarError::InvalidDate { holiday, value } => {
                vec![("holiday", holiday.clone()), ("value", value.clone())]
            }
            CalendarError::DateOutsideYear { holiday, date, year } => {
                vec![("holiday", holiday.clone()), ("date", date.to_string()), ("year", year.to_string())]
            }
            CalendarError::RangeReversed { holiday, first, last } => {
                vec![("holiday", holiday.clone()), ("first", first.to_string()), ("last", last.to_string())]
            }
            CalendarError::RangeTooLong { holiday, first, last } => vec![
                ("holiday", holiday.clone()),
                ("first", first.to_string()),
                ("last", last.to_string()),
                ("max", MAX_HOLIDAY_DAYS.to_string()),
            ],
            CalendarError::WorkingDayNotWeekend { holiday, date } => {
                vec![("holiday", holiday.clone()), ("date", date.to_string())]
            }
            CalendarError::DateListedTwice { date } => vec![("date", date.to_string())],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    year: Vec<YearToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearToml {
    year: i64,
    status: YearStatus,
    source: String,
    #[serde(default)]
    holiday: Vec<HolidayToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayToml {
    name: String,
    // `toml::Value` so that both a TOML date and a quoted date are accepted, and a
    // wrong value is reported with the holiday's name rather than as a type error.
    first: toml::Value,
    last: Option<toml::Value>,
    #[serde(default)]
    working_days: Vec<toml::Value>,
    #[allow(dead_code)] // documentation for people reading the file
    note: Option<String>,
}

fn parse_date(holiday: &str, value: &toml::Value) -> Result<Date, CalendarError> {
    let invalid = || CalendarError::InvalidDate { holiday: holiday.to_owned(), value: value.to_string() };
    match value {
        toml::Value::Datetime(dt) => match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => Date::new(d.year as i16, d.month as i8, d.day as i8).map_err(|_| invalid()),
            _ => Err(invalid()),
        },
        // Exactly YYYY-MM-DD: jiff alone would also take other ISO 8601 forms.
        toml::Value::String(text) if text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-' => {
            text.parse::<Date>().map_err(|_| invalid())
        }
        _ => Err(invalid()),
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

impl Calendar {
    /// A calendar without holidays: Monday–Friday are the business days.
    pub fn weekends_only() -> Calendar {
        Calendar::default()
    }

    /// Mainland China, from the bundled `holidays-cn.toml` (2026 official; 2027
    /// provisional until the State Council notice is entered — see the file).
    pub fn china() -> Calendar {
        // The bundled file is parsed by a unit test, so this cannot fail at run time.
        Calendar::from_toml(include_str!("holidays-cn.toml")).expect("bundled holidays-cn.toml is valid")
    }

    /// Reads a holiday file (format in the module documentation).
    pub fn from_toml(text: &str) -> Result<Calendar, CalendarError> {
        let file: FileToml = toml::from_str(text).map_err(|error| CalendarError::Syntax {
            line: error.span().map_or(1, |span| text[..span.start].matches('\n').count() + 1),
            detail: error.message().trim().to_owned(),
        })?;

        let mut calendar = Calendar::default();
        let mut seen = BTreeSet::new();
        let mut claim = |date: Date| {
            if seen.insert(date) { Ok(()) } else { Err(CalendarError::DateListedTwice { date }) }
        };
        for entry in file.year {
            let year = i16::try_from(entry.year)
                .ok()
                .filter(|year| (1..=9998).contains(year))
                .ok_or(CalendarError::InvalidYear { year: entry.year })?;
            if calendar.years.contains_key(&year) {
                return Err(CalendarError::YearListedTwice { year });
            }
            // Dates may reach into the neighbouring December / January, no further.
            let earliest = Date::new(year - 1, 12, 1).map_err(|_| CalendarError::InvalidYear { year: entry.year })?;
            let latest = Date::new(year + 1, 1, 31).map_err(|_| CalendarError::InvalidYear { year: entry.year })?;
            for holiday in &entry.holiday {
                let name = holiday.name.as_str();
                let near = |date: Date| {
                    if (earliest..=latest).contains(&date) {
                        Ok(date)
                    } else {
                        Err(CalendarError::DateOutsideYear { holiday: name.to_owned(), date, year })
                    }
                };
                let first = near(parse_date(name, &holiday.first)?)?;
                let last = match &holiday.last {
                    Some(value) => near(parse_date(name, value)?)?,
                    None => first,
                };
                if last < first {
                    return Err(CalendarError::RangeReversed { holiday: name.to_owned(), first, last });
                }
                let length = first.until(last).map(|span| span.get_days() + 1).unwrap_or(i32::MAX);
                if length > MAX_HOLIDAY_DAYS {
                    return Err(CalendarError::RangeTooLong { holiday: name.to_owned(), first, last });
                }
                for date in first.series(jiff::Span::new().days(1)).take_while(|d| *d <= last) {
                    claim(date)?;
                    calendar.holidays.insert(date);
                }
                for value in &holiday.working_days {
                    let date = near(parse_date(name, value)?)?;
                    if !is_weekend(date) {
                        return Err(CalendarError::WorkingDayNotWeekend { holiday: name.to_owned(), date });
                    }
                    claim(date)?;
                    calendar.working_days.insert(date);
                }
            }
            calendar.years.insert(year, YearInfo { year, status: entry.status, source: entry.source });
        }
        Ok(calendar)
    }

    /// A make-up working day, or a Monday–Friday that is not a holiday.
    pub fn is_business_day(&self, date: Date) -> bool {
        if self.working_days.contains(&date) {
            return true;
        }
        !is_weekend(date) && !self.holidays.contains(&date)
    }

    /// Listed as a public-holiday day (including the weekend days inside a period).
    pub fn is_holiday(&self, date: Date) -> bool {
        self.holidays.contains(&date)
    }

    /// A Saturday or Sunday worked instead of a holiday weekday (调休上班).
    pub fn is_makeup_working_day(&self, date: Date) -> bool {
        self.working_days.contains(&date)
    }

    /// What the file says about a year, if it lists it.
    pub fn year(&self, year: i16) -> Option<&YearInfo> {
        self.years.get(&year)
    }

    /// Whether the file lists the date's year. Outside, only weekends are known: the
    /// app should warn the operator when deadlines reach into such a year.
    pub fn covers(&self, date: Date) -> bool {
        self.years.contains_key(&date.year())
    }

    /// Whether the date's year is listed but only provisionally.
    pub fn is_provisional(&self, date: Date) -> bool {
        self.year(date.year()).is_some_and(|info| info.status == YearStatus::Provisional)
    }

    /// The `n`-th business day strictly after `date` (`date` itself never counts, whether
    /// or not it is a business day); `date` itself for `n == 0`. `None` only past the
    /// last date jiff can represent (year 9999).
    pub fn nth_business_day_after(&self, date: Date, n: u32) -> Option<Date> {
        let mut day = date;
        let mut counted = 0;
        while counted < n {
            day = day.tomorrow().ok()?;
            if self.is_business_day(day) {
                counted += 1;
            }
        }
        Some(day)
    }

    /// The deadline `n` business days after `from`: the end of the `n`-th business day
    /// after the calendar day of `from` in `tz` (that day itself never counts, and the
    /// time of day does not matter: a claim at 00:01 and one at 23:59 get the same
    /// deadline). For `n == 0`, the end of the day of `from`.
    ///
    /// "End of the day" is returned as the first instant of the following day in `tz`
    /// (midnight, or later if a DST change skips midnight): the deadline has passed
    /// when `now >= deadline`. To show the due *day*, take the calendar day of
    /// `deadline - 1ns` in `tz`, or call [`Calendar::nth_business_day_after`].
    /// Saturates to [`Timestamp::MAX`] past year 9999.
    pub fn add_business_days(&self, from: Timestamp, n: u32, tz: &TimeZone) -> Timestamp {
        let day = from.to_zoned(tz.clone()).date();
        self.nth_business_day_after(day, n)
            .and_then(|due| due.tomorrow().ok())
            .and_then(|next| next.to_zoned(tz.clone()).ok())
            .and_then(|midnight| midnight.start_of_day().ok())
            .map_or(Timestamp::MAX, |start| start.timestamp())
    }

    /// How many business days lie after `start` up to and including `end`: the days
    /// that have elapsed, in the sense of [`Calendar::nth_business_day_after`], so that
    /// `business_days_between(d, nth_business_day_after(d, n)) == n`. Zero when `end`
    /// is not after `start`.
    pub fn business_days_between(&self, start: Date, end: Date) -> u32 {
        let mut count = 0;
        let mut day = start;
        while day < end {
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
            if self.is_business_day(day) {
                count += 1;
            }
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn shanghai() -> TimeZone {
        // A fixed +08:00 is exactly Asia/Shanghai since 1991, and needs no tz database.
        TimeZone::fixed(jiff::tz::offset(8))
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn cn() -> Calendar {
        Calendar::china()
    }

    #[test]
    fn the_bundled_china_file_loads_and_says_what_it_is() {
        let cal = cn();
        let y2026 = cal.year(2026).unwrap();
        assert_eq!(y2026.status, YearStatus::Official);
        assert!(y2026.source.contains("国务院办公厅关于2026年部分节假日安排的通知"));
        let y2027 = cal.year(2027).unwrap();
        assert_eq!(y2027.status, YearStatus::Provisional);
        assert!(cal.covers(date(2026, 7, 1)) && cal.covers(date(2027, 7, 1)));
        assert!(!cal.covers(date(2025, 12, 31)) && !cal.covers(date(2028, 1, 1)));
        assert!(!cal.is_provisional(date(2026, 7, 1)));
        assert!(cal.is_provisional(date(2027, 7, 1)));
        assert!(!cal.is_provisional(date(2028, 7, 1)));
    }

    #[test]
    fn year_status_spellings_are_the_file_ones() {
        let texts: Vec<&str> = YearStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(texts, ["official", "provisional"]);
        for status in YearStatus::ALL {
            assert_eq!(YearStatus::parse(status.as_str()), Some(status));
            let back: YearStatus = serde_json::from_value(status.as_str().into()).unwrap();
            assert_eq!(back, status);
        }
        assert!(serde_json::from_value::<YearStatus>("Official".into()).is_err());
    }

    /// Every off day and make-up day of the 2026 notice, and nothing else in 2026.
    #[test]
    fn china_2026_is_exactly_the_notice() {
        let cal = cn();
        let periods = [
            (date(2026, 1, 1), date(2026, 1, 3)),   // 元旦
            (date(2026, 2, 15), date(2026, 2, 23)), // 春节
            (date(2026, 4, 4), date(2026, 4, 6)),   // 清明节
            (date(2026, 5, 1), date(2026, 5, 5)),   // 劳动节
            (date(2026, 6, 19), date(2026, 6, 21)), // 端午节
            (date(2026, 9, 25), date(2026, 9, 27)), // 中秋节
            (date(2026, 10, 1), date(2026, 10, 7)), // 国庆节
        ];
        let makeup = [
            date(2026, 1, 4),   // Sunday
            date(2026, 2, 14),  // Saturday
            date(2026, 2, 28),  // Saturday
            date(2026, 5, 9),   // Saturday
            date(2026, 9, 20),  // Sunday
            date(2026, 10, 10), // Saturday
        ];
        let mut holidays = 0;
        for day in date(2026, 1, 1).series(jiff::Span::new().days(1)).take(365) {
            let in_period = periods.iter().any(|(a, b)| (*a..=*b).contains(&day));
            let is_makeup = makeup.contains(&day);
            assert_eq!(cal.is_holiday(day), in_period, "{day}");
            assert_eq!(cal.is_makeup_working_day(day), is_makeup, "{day}");
            let want = is_makeup || (!in_period && !is_weekend(day));
            assert_eq!(cal.is_business_day(day), want, "{day}");
            holidays += usize::from(in_period);
        }
        assert_eq!(holidays, 3 + 9 + 3 + 5 + 3 + 3 + 7);
    }

    #[test]
    fn china_2026_known_days() {
        let cal = cn();
        // Spring Festival week: Monday 16 February (除夕) to Monday 23 February are off.
        for d in 15..=23 {
            assert!(!cal.is_business_day(date(2026, 2, d)), "2026-02-{d}");
        }
        assert!(cal.is_business_day(date(2026, 2, 24)));
        // Make-up Saturdays and Sundays.
        assert!(cal.is_business_day(date(2026, 2, 14)));
        assert!(cal.is_business_day(date(2026, 1, 4)));
        assert!(cal.is_business_day(date(2026, 9, 20)));
        // National Day golden week and the days around it.
        assert!(cal.is_business_day(date(2026, 9, 30)));
        for d in 1..=7 {
            assert!(!cal.is_business_day(date(2026, 10, d)), "2026-10-0{d}");
        }
        assert!(cal.is_business_day(date(2026, 10, 8)));
        assert!(cal.is_business_day(date(2026, 10, 10)));
        assert!(!cal.is_business_day(date(2026, 10, 11)));
        // Ordinary weekends and weekdays.
        assert!(!cal.is_business_day(date(2026, 3, 7)));
        assert!(!cal.is_business_day(date(2026, 3, 8)));
        assert!(cal.is_business_day(date(2026, 3, 11)));
    }

    #[test]
    fn china_2027_provisional_days() {
        let cal = cn();
        let off = [
            date(2027, 1, 1),
            date(2027, 2, 5), // 除夕
            date(2027, 2, 8), // 初三
            date(2027, 2, 12),
            date(2027, 4, 5), // 清明
            date(2027, 5, 3),
            date(2027, 5, 5),
            date(2027, 6, 9),  // 端午
            date(2027, 9, 15), // 中秋
            date(2027, 10, 1),
            date(2027, 10, 7),
        ];
        for day in off {
            assert!(cal.is_holiday(day) && !cal.is_business_day(day), "{day}");
        }
        for day in [date(2027, 2, 4), date(2027, 2, 15), date(2027, 10, 8), date(2027, 6, 10)] {
            assert!(cal.is_business_day(day), "{day}");
        }
        // No make-up working days are invented before the notice lists them.
        let makeup = date(2027, 1, 1)
            .series(jiff::Span::new().days(1))
            .take(365)
            .filter(|d| cal.is_makeup_working_day(*d))
            .count();
        assert_eq!(makeup, 0);
    }

    #[test]
    fn weekends_only_outside_the_listed_years() {
        let cal = cn();
        assert!(cal.is_business_day(date(2028, 1, 3))); // Monday
        assert!(!cal.is_business_day(date(2028, 1, 1))); // Saturday
        let plain = Calendar::weekends_only();
        assert!(plain.is_business_day(date(2026, 10, 1))); // a holiday, but not listed
        assert!(!plain.is_business_day(date(2026, 2, 14))); // a make-up day, but not listed
        assert!(!plain.covers(date(2026, 1, 1)));
    }

    fn deadline(from: &str, n: u32) -> Timestamp {
        cn().add_business_days(at(from), n, &shanghai())
    }

    #[test]
    fn deadline_across_a_weekend() {
        // Friday 6 March + 2 → Tuesday 10 March, ends at Wednesday 00:00 +08.
        assert_eq!(deadline("2026-03-06T10:00:00+08:00", 2), at("2026-03-11T00:00:00+08:00"));
        // Thursday + 1 → Friday; Friday + 1 → Monday.
        assert_eq!(deadline("2026-03-05T10:00:00+08:00", 1), at("2026-03-07T00:00:00+08:00"));
        assert_eq!(deadline("2026-03-06T10:00:00+08:00", 1), at("2026-03-10T00:00:00+08:00"));
    }

    #[test]
    fn deadline_across_the_spring_festival_week() {
        // Friday 13 February + 2: Saturday 14 (make-up) is the first, then the holiday
        // 15–23, then Tuesday 24 is the second.
        assert_eq!(deadline("2026-02-13T09:00:00+08:00", 2), at("2026-02-25T00:00:00+08:00"));
        // Friday 13 February + 6 → 14 (make-up), 24, 25, 26, 27, 28 (make-up Saturday).
        assert_eq!(deadline("2026-02-13T09:00:00+08:00", 5), at("2026-02-28T00:00:00+08:00"));
        assert_eq!(deadline("2026-02-13T09:00:00+08:00", 6), at("2026-03-01T00:00:00+08:00"));
        assert_eq!(deadline("2026-02-13T09:00:00+08:00", 7), at("2026-03-03T00:00:00+08:00"));
        // From inside the holiday: Monday 16 February + 1 → Tuesday 24 February.
        assert_eq!(deadline("2026-02-16T09:00:00+08:00", 1), at("2026-02-25T00:00:00+08:00"));
    }

    #[test]
    fn deadline_on_a_make_up_saturday() {
        // Friday 27 February + 1 → Saturday 28 February, a working day.
        assert_eq!(deadline("2026-02-27T16:00:00+08:00", 1), at("2026-03-01T00:00:00+08:00"));
        // Friday 9 October + 1 → Saturday 10 October (make-up for National Day).
        assert_eq!(deadline("2026-10-09T16:00:00+08:00", 1), at("2026-10-11T00:00:00+08:00"));
    }

    #[test]
    fn deadline_across_the_golden_week() {
        // Wednesday 30 September + 5 → 8, 9, 10 (Sat, make-up), 12, 13 October.
        assert_eq!(deadline("2026-09-30T12:00:00+08:00", 5), at("2026-10-14T00:00:00+08:00"));
    }

    #[test]
    fn deadline_from_a_non_business_day() {
        // From a Sunday: Monday is the first business day after it.
        assert_eq!(deadline("2026-03-08T12:00:00+08:00", 1), at("2026-03-10T00:00:00+08:00"));
        // From inside the golden week: Thursday 8 and Friday 9 October.
        assert_eq!(deadline("2026-10-03T12:00:00+08:00", 2), at("2026-10-10T00:00:00+08:00"));
        // From a make-up Sunday, which is itself a business day but still not counted.
        assert_eq!(deadline("2026-09-20T12:00:00+08:00", 1), at("2026-09-22T00:00:00+08:00"));
    }

    #[test]
    fn time_of_day_does_not_matter_but_the_zone_does() {
        let first = deadline("2026-03-09T00:00:00+08:00", 2);
        let last = deadline("2026-03-09T23:59:59.999999999+08:00", 2);
        assert_eq!(first, last);
        assert_eq!(first, at("2026-03-12T00:00:00+08:00"));
        // 17:00 UTC on Sunday 8 March is already Monday 01:00 in Shanghai.
        let from = at("2026-03-08T17:00:00Z");
        assert_eq!(cn().add_business_days(from, 1, &shanghai()), at("2026-03-11T00:00:00+08:00"));
        assert_eq!(cn().add_business_days(from, 1, &TimeZone::UTC), at("2026-03-10T00:00:00Z"));
    }

    #[test]
    fn zero_days_is_the_end_of_the_same_day() {
        assert_eq!(deadline("2026-03-08T12:00:00+08:00", 0), at("2026-03-09T00:00:00+08:00"));
        assert_eq!(deadline("2026-10-01T12:00:00+08:00", 0), at("2026-10-02T00:00:00+08:00"));
    }

    #[test]
    fn deadline_when_dst_skips_midnight() {
        // A zone whose clocks jump from 00:00 to 01:00 on the first Tuesday of October:
        // the day after a Monday deadline then starts at 01:00 local (03:00 UTC).
        let tz = TimeZone::posix("<-03>3<-02>,M10.1.2/0,M2.3.0/0").unwrap();
        let from = at("2026-10-02T12:00:00-03:00"); // Friday
        let plain = Calendar::weekends_only();
        assert_eq!(plain.add_business_days(from, 1, &tz), at("2026-10-06T03:00:00Z"));
    }

    #[test]
    fn deadline_saturates_at_the_end_of_time() {
        let end = Timestamp::MAX;
        assert_eq!(Calendar::weekends_only().add_business_days(end, 1, &TimeZone::UTC), Timestamp::MAX);
        assert_eq!(Calendar::weekends_only().nth_business_day_after(Date::MAX, 1), None);
    }

    #[test]
    fn business_days_between_counts_what_nth_business_day_after_steps() {
        let cal = cn();
        assert_eq!(cal.business_days_between(date(2026, 2, 13), date(2026, 2, 24)), 2);
        assert_eq!(cal.business_days_between(date(2026, 9, 30), date(2026, 10, 13)), 5);
        assert_eq!(cal.business_days_between(date(2026, 3, 9), date(2026, 3, 9)), 0);
        assert_eq!(cal.business_days_between(date(2026, 3, 13), date(2026, 3, 9)), 0);
        // A whole year: 2026 has 365 − 104 weekend days − 19 weekday holidays + 6 make-up days.
        assert_eq!(cal.business_days_between(date(2025, 12, 31), date(2026, 12, 31)), 248);
        for start in date(2026, 1, 1).series(jiff::Span::new().days(5)).take(73) {
            for n in [0, 1, 2, 5, 17] {
                let end = cal.nth_business_day_after(start, n).unwrap();
                assert_eq!(cal.business_days_between(start, end), n, "{start} + {n}");
                if n > 0 {
                    assert!(cal.is_business_day(end));
                }
            }
        }
    }

    // ---- the file format -----------------------------------------------------------

    const SMALL: &str = r#"
        [[year]]
        year = 2026
        status = "official"
        source = "test"

        [[year.holiday]]
        name = "A"
        first = 2026-02-16
        last = "2026-02-18"
        working_days = [2026-02-14, "2026-02-22"]
        note = "a note"

        [[year.holiday]]
        name = "B"
        first = "2026-05-01"
    "#;

    #[test]
    fn small_file_with_both_date_spellings() {
        let cal = Calendar::from_toml(SMALL).unwrap();
        assert!(cal.is_holiday(date(2026, 2, 16)) && cal.is_holiday(date(2026, 2, 18)));
        assert!(!cal.is_holiday(date(2026, 2, 19)));
        assert!(cal.is_makeup_working_day(date(2026, 2, 14)));
        assert!(cal.is_makeup_working_day(date(2026, 2, 22)));
        assert!(cal.is_holiday(date(2026, 5, 1)) && !cal.is_holiday(date(2026, 5, 2)));
        assert_eq!(cal.year(2026), Some(&YearInfo { year: 2026, status: YearStatus::Official, source: "test".into() }));
    }

    #[test]
    fn an_empty_file_is_weekends_only() {
        assert_eq!(Calendar::from_toml("").unwrap(), Calendar::weekends_only());
        assert_eq!(Calendar::from_toml("# nothing yet\n").unwrap(), Calendar::weekends_only());
    }

    fn year_with(holiday: &str) -> String {
        format!(
            "[[year]]\nyear = 2026\nstatus = \"official\"\nsource = \"s\"\n\n[[year.holiday]]\nname = \"H\"\n{holiday}\n"
        )
    }

    fn error(text: &str) -> CalendarError {
        Calendar::from_toml(text).unwrap_err()
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        match error("[[year]]\nyear = 2026\nstatus = official\n") {
            CalendarError::Syntax { line, detail } => {
                assert_eq!(line, 3);
                assert!(!detail.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // Unknown key (a typo must not be ignored).
        let text = year_with("first = 2026-05-01\nworking_day = [2026-05-09]");
        match error(&text) {
            CalendarError::Syntax { line, detail } => {
                assert_eq!(line, 9, "{detail}");
                assert!(detail.contains("working_day"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        // Missing key, unknown status, wrong top-level key.
        for text in [
            "[[year]]\nyear = 2026\nstatus = \"official\"\n".to_owned(),
            "[[year]]\nyear = 2026\nstatus = \"maybe\"\nsource = \"s\"\n".to_owned(),
            "[[years]]\nyear = 2026\n".to_owned(),
            year_with("last = 2026-05-01"),
        ] {
            assert_eq!(error(&text).code(), "calendar_syntax", "{text}");
        }
    }

    #[test]
    fn bad_dates() {
        for value in [
            "\"2026-5-1\"",
            "\"2026-02-30\"",
            "\"01/05/2026\"",
            "\"2026-05-01T00:00:00\"",
            "2026-05-01T00:00:00",
            "2026-05-01T00:00:00+08:00",
            "20260501",
            "\"\"",
        ] {
            let text = year_with(&format!("first = {value}"));
            match error(&text) {
                CalendarError::InvalidDate { holiday, .. } => assert_eq!(holiday, "H"),
                other => panic!("{value}: {other:?}"),
            }
        }
        let text = year_with("first = 2026-05-01\nworking_days = [\"soon\"]");
        assert_eq!(error(&text).code(), "calendar_invalid_date");
    }

    #[test]
    fn range_errors() {
        assert_eq!(
            error(&year_with("first = 2026-05-05\nlast = 2026-05-01")),
            CalendarError::RangeReversed { holiday: "H".into(), first: date(2026, 5, 5), last: date(2026, 5, 1) }
        );
        assert!(Calendar::from_toml(&year_with("first = 2026-05-01\nlast = 2026-05-31")).is_ok());
        assert_eq!(
            error(&year_with("first = 2026-05-01\nlast = 2026-06-01")),
            CalendarError::RangeTooLong { holiday: "H".into(), first: date(2026, 5, 1), last: date(2026, 6, 1) }
        );
    }

    #[test]
    fn dates_far_from_their_year_are_refused() {
        assert!(Calendar::from_toml(&year_with("first = 2025-12-31\nlast = 2026-01-02")).is_ok());
        assert!(Calendar::from_toml(&year_with("first = 2027-01-31")).is_ok());
        assert_eq!(
            error(&year_with("first = 2027-02-01")),
            CalendarError::DateOutsideYear { holiday: "H".into(), date: date(2027, 2, 1), year: 2026 }
        );
        assert_eq!(error(&year_with("first = 2025-11-30")).code(), "calendar_date_outside_year");
        assert_eq!(
            error(&year_with("first = 2026-05-01\nworking_days = [2036-05-10]")).code(),
            "calendar_date_outside_year"
        );
    }

    #[test]
    fn make_up_working_days_must_be_weekends() {
        assert_eq!(
            error(&year_with("first = 2026-05-01\nworking_days = [2026-05-08]")),
            CalendarError::WorkingDayNotWeekend { holiday: "H".into(), date: date(2026, 5, 8) }
        );
    }

    #[test]
    fn a_date_listed_twice_is_refused() {
        let overlapping = format!(
            "{}\n[[year.holiday]]\nname = \"I\"\nfirst = 2026-05-05\nlast = 2026-05-06\n",
            year_with("first = 2026-05-01\nlast = 2026-05-05")
        );
        assert_eq!(error(&overlapping), CalendarError::DateListedTwice { date: date(2026, 5, 5) });
        // Both holiday and working day.
        assert_eq!(
            error(&year_with("first = 2026-05-01\nlast = 2026-05-03\nworking_days = [2026-05-02]")),
            CalendarError::DateListedTwice { date: date(2026, 5, 2) }
        );
        // Across two years' tables.
        let two_years = format!(
            "{}\n[[year]]\nyear = 2027\nstatus = \"provisional\"\nsource = \"s\"\n[[year.holiday]]\nname = \"J\"\nfirst = 2026-12-31\n",
            year_with("first = 2026-12-31")
        );
        assert_eq!(error(&two_years).code(), "calendar_date_listed_twice");
    }

    #[test]
    fn year_errors() {
        let twice = format!("{}\n{}", year_with("first = 2026-05-01"), year_with("first = 2026-06-01"));
        assert_eq!(error(&twice), CalendarError::YearListedTwice { year: 2026 });
        for year in [0, -1, 9999, 40_000, i64::MAX] {
            let text = format!("[[year]]\nyear = {year}\nstatus = \"official\"\nsource = \"s\"\n");
            assert_eq!(error(&text), CalendarError::InvalidYear { year }, "{year}");
        }
    }

    #[test]
    fn error_codes_and_args() {
        let d = date(2026, 5, 8);
        // (error, code, args)
        type Case = (CalendarError, &'static str, Vec<(&'static str, &'static str)>);
        let cases: Vec<Case> = vec![
            (
                CalendarError::Syntax { line: 3, detail: "x".into() },
                "calendar_syntax",
                vec![("line", "3"), ("detail", "x")],
            ),
            (CalendarError::InvalidYear { year: 0 }, "calendar_invalid_year", vec![("year", "0")]),
            (CalendarError::YearListedTwice { year: 2026 }, "calendar_year_listed_twice", vec![("year", "2026")]),
            (
                CalendarError::InvalidDate { holiday: "H".into(), value: "\"x\"".into() },
                "calendar_invalid_date",
                vec![("holiday", "H"), ("value", "\"x\"")],
            ),
            (
                CalendarError::DateOutsideYear { holiday: "H".into(), date: d, year: 2027 },
                "calendar_date_outside_year",
                vec![("holiday", "H"), ("date", "2026-05-08"), ("year", "2027")],
            ),
            (
                CalendarError::RangeReversed { holiday: "H".into(), first: d, last: d },
                "calendar_range_reversed",
                vec![("holiday", "H"), ("first", "2026-05-08"), ("last", "2026-05-08")],
            ),
            (
                CalendarError::RangeTooLong { holiday: "H".into(), first: d, last: d },
                "calendar_range_too_long",
                vec![("holiday", "H"), ("first", "2026-05-08"), ("last", "2026-05-08"), ("max", "31")],
            ),
            (
                CalendarError::WorkingDayNotWeekend { holiday: "H".into(), date: d },
                "calendar_working_day_not_weekend",
                vec![("holiday", "H"), ("date", "2026-05-08")],
            ),
            (CalendarError::DateListedTwice { date: d }, "calendar_date_listed_twice", vec![("date", "2026-05-08")]),
        ];
        for (error, code, args) in cases {
            assert_eq!(error.code(), code);
            let want: Vec<(&str, String)> = args.into_iter().map(|(k, v)| (k, v.to_owned())).collect();
            assert_eq!(error.args(), want, "{code}");
            assert!(!error.to_string().is_empty());
        }
    }
}
