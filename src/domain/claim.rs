//! Claims (§4): what a cardholder says happened, validated from raw form/JSON text into a `Claim`.
//!
//! Validation is pure: the clock (`now`) and the deployment's currency are parameters. Every
//! problem is reported at once, per field, as a code plus placeholder arguments (the catalog
//! holds the words). Every field goes through the one screen (`domain::screen`): a full card
//! number or a control character is refused without ever being echoed back, and `ClaimInput`'s
//! `Debug` hides a card number so it cannot reach a log by accident.

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use thiserror::Error;

use crate::domain::codes::code_enum;
use crate::domain::money::{Currency, Money};
use crate::domain::records::{is_merchant_id, is_terminal_id};
use crate::domain::screen::{self, Refusal, Shape};

/// Longest accepted merchant name, in characters (not bytes, so Chinese names get the same room).
pub const MERCHANT_NAME_MAX_CHARS: usize = 100;
/// Longest accepted free-text description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 2000;
/// How far ahead of `now` an `occurred_at` may lie: phone and server clocks drift a little, and a
/// claim typed a minute after paying must not be refused.
pub const FUTURE_TOLERANCE: SignedDuration = SignedDuration::from_mins(5);
/// Half-width of the search window around an instant (§5: ±3 h); it also widens a date's day.
pub const WINDOW_HALF_WIDTH: SignedDuration = SignedDuration::from_hours(3);

code_enum! {
    /// What the cardholder says went wrong (§4 `kind`).
    pub enum ClaimKind {
        NoReceipt = "no_receipt",
        DuplicateCharge = "duplicate_charge",
        WrongAmount = "wrong_amount",
        RefundNotReceived = "refund_not_received",
    }
}

/// When the payment happened: an instant, or only a day (then the whole local day is searched).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Occurred {
    At(Timestamp),
    Day(Date),
}

impl Occurred {
    /// Parses RFC 3339 with an offset (seconds optional, as in `2026-11-12T13:20+08:00`), or a bare
    /// `YYYY-MM-DD`. A date-time without an offset is refused: guessing the zone could shift the
    /// search window by hours without anyone noticing.
    pub fn parse(text: &str) -> Option<Occurred> {
        let text = text.trim();
        let b = text.as_bytes();
        // Insist on the extended `YYYY-MM-DD` shape ourselves: jiff also takes compact and
        // signed-year forms that no person means in this form field.
        let date_shaped = b.len() >= 10
            && b[..10].iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
        if !date_shaped {
            return None;
        }
        if b.len() == 10 {
            return text.parse::<Date>().ok().map(Occurred::Day);
        }
        if !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        text.parse::<Timestamp>().ok().map(Occurred::At)
    }

    /// The `occurred_at` text from a form's date field and optional time field (`13:20`), the
    /// time read in `tz` (DESIGN.md §8: people pick a date and a time, never type RFC 3339).
    /// What does not read is passed on as typed, so validation names the problem.
    pub fn text_from_parts(date: &str, time: &str, tz: &TimeZone) -> String {
        let (date, time) = (date.trim(), time.trim());
        if time.is_empty() {
            return date.to_owned();
        }
        let typed = format!("{date}T{time}");
        match typed.parse::<jiff::civil::DateTime>().map(|local| local.to_zoned(tz.clone())) {
            Ok(Ok(z)) => z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            _ => typed,
        }
    }

    /// A stored `occurred_at` text as a date field and a time field in `tz` (`2026-11-12`,
    /// `13:20`), to fill a form again; text that does not read goes back in the date field.
    pub fn parts_of_text(text: &str, tz: &TimeZone) -> (String, String) {
        match Occurred::parse(text) {
            Some(Occurred::At(at)) => {
                let local = at.to_zoned(tz.clone());
                (local.strftime("%Y-%m-%d").to_string(), local.strftime("%H:%M").to_string())
            }
            Some(Occurred::Day(day)) => (day.to_string(), String::new()),
            None => (text.to_owned(), String::new()),
        }
    }

    /// The inclusive search window (§5).
    ///
    /// An instant gives `[t − 3 h, t + 3 h]`. A date gives `[start of that day in tz − 3 h,
    /// start of the next day in tz + 3 h]`; using jiff's start of each day (not `date + 24 h`)
    /// keeps 23- and 25-hour DST days and days that do not begin at midnight right. Arithmetic
    /// at the ends of jiff's range saturates instead of failing, so the window is always usable.
    pub fn window(&self, tz: &TimeZone) -> (Timestamp, Timestamp) {
        let (start, end) = match *self {
            Occurred::At(t) => (t, t),
            Occurred::Day(d) => {
                let start = day_start(d, tz).unwrap_or(Timestamp::MIN);
                let end = d.tomorrow().ok().and_then(|next| day_start(next, tz)).unwrap_or(Timestamp::MAX);
                (start, end)
            }
        };
        (
            start.saturating_sub(WINDOW_HALF_WIDTH).unwrap_or(Timestamp::MIN),
            end.saturating_add(WINDOW_HALF_WIDTH).unwrap_or(Timestamp::MAX),
        )
    }

    /// True when this lies in the future as seen from `now`, beyond `FUTURE_TOLERANCE`.
    ///
    /// A bare date carries no zone here (validation stays independent of the deployment's
    /// zone), so a date counts as future only when its day has not begun anywhere on Earth yet
    /// (UTC+14, the earliest zone): no honest claim for "today" is ever refused.
    fn is_future(&self, now: Timestamp) -> bool {
        let limit = now.saturating_add(FUTURE_TOLERANCE).unwrap_or(Timestamp::MAX);
        match *self {
            Occurred::At(t) => t > limit,
            Occurred::Day(d) => day_start(d, &jiff::tz::offset(14).to_time_zone()).is_some_and(|t| t > limit),
        }
    }
}

fn day_start(d: Date, tz: &TimeZone) -> Option<Timestamp> {
    // `to_zoned` resolves a midnight that falls into a DST gap to the first real instant of the
    // day; `start_of_day` makes that intent explicit.
    d.to_zoned(tz.clone()).and_then(|z| z.start_of_day()).ok().map(|z| z.timestamp())
}

/// A claim as a form or JSON body delivers it: raw text, nothing checked yet.
///
/// Blank strings count as absent (HTML forms send empty fields). Unknown keys are ignored so the
/// JSON API can carry extra fields such as `contact_email`. Amounts must arrive as strings: a
/// JSON number would have passed through floating point already.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ClaimInput {
    pub kind: Option<String>,
    pub card_last4: Option<String>,
    pub card_first6: Option<String>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub expected_amount: Option<String>,
    pub occurred_at: Option<String>,
    pub merchant_id: Option<String>,
    pub terminal_id: Option<String>,
    pub merchant_name: Option<String>,
    pub description: Option<String>,
}

code_enum! {
    /// The fields of a claim, named as in §4 (the form field and JSON key names), in form order.
    pub enum ClaimField {
        Kind = "kind",
        CardLast4 = "card_last4",
        CardFirst6 = "card_first6",
        Amount = "amount",
        Currency = "currency",
        ExpectedAmount = "expected_amount",
        OccurredAt = "occurred_at",
        MerchantId = "merchant_id",
        TerminalId = "terminal_id",
        MerchantName = "merchant_name",
        Description = "description",
    }
}

impl ClaimField {
    /// What the screen lets through in this field.
    pub fn shape(self) -> Shape {
        match self {
            ClaimField::Description => Shape::Text,
            ClaimField::MerchantId => Shape::MerchantIds,
            _ => Shape::Line,
        }
    }
}

impl ClaimInput {
    fn raw(&self, field: ClaimField) -> Option<&str> {
        let value = match field {
            ClaimField::Kind => &self.kind,
            ClaimField::CardLast4 => &self.card_last4,
            ClaimField::CardFirst6 => &self.card_first6,
            ClaimField::Amount => &self.amount,
            ClaimField::Currency => &self.currency,
            ClaimField::ExpectedAmount => &self.expected_amount,
            ClaimField::OccurredAt => &self.occurred_at,
            ClaimField::MerchantId => &self.merchant_id,
            ClaimField::TerminalId => &self.terminal_id,
            ClaimField::MerchantName => &self.merchant_name,
            ClaimField::Description => &self.description,
        };
        value.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
}

impl fmt::Debug for ClaimInput {
    // Claims get logged when something goes wrong; a full card number must not go with them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ClaimInput");
        for field in ClaimField::ALL {
            let shown =
                self.raw(field).map(|v| if screen::holds_card_number(v, field.shape()) { "[redacted]" } else { v });
            s.field(field.as_str(), &shown);
        }
        s.finish()
    }
}

/// What is wrong with one field. `code()`/`args()` feed the catalog (`error.<code>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimProblem {
    /// The field is required and was empty.
    Required,
    KindUnknown,
    Last4Invalid,
    First6Invalid,
    /// The money parser refused the text; its own code and arguments are passed through so the
    /// message is the same one imports use (e.g. `amount_too_many_decimals`).
    Money {
        code: &'static str,
        args: Vec<(&'static str, String)>,
    },
    NotPositive,
    CurrencyUnknown,
    /// `expected_amount` is not below `amount` (the claim would not be about an overcharge).
    ExpectedNotBelow {
        amount: String,
    },
    /// `expected_amount` given for a kind other than `wrong_amount`.
    ExpectedNotApplicable,
    OccurredInvalid,
    OccurredInFuture,
    MerchantIdInvalid,
    TerminalIdInvalid,
    TooLong {
        max: usize,
    },
    /// A full card number; the value is never repeated in the message.
    FullCardNumber,
    /// A control character (NUL and the like; free text may hold line breaks and tabs).
    ControlCharacter,
}

impl ClaimProblem {
    pub fn code(&self) -> &'static str {
        match self {
            ClaimProblem::Required => "field_required",
            ClaimProblem::KindUnknown => "claim_kind_unknown",
            ClaimProblem::Last4Invalid => "card_last4_invalid",
            ClaimProblem::First6Invalid => "card_first6_invalid",
            ClaimProblem::Money { code, .. } => code,
            ClaimProblem::NotPositive => "amount_not_positive",
            ClaimProblem::CurrencyUnknown => "currency_unknown",
            ClaimProblem::ExpectedNotBelow { .. } => "expected_amount_not_below",
            ClaimProblem::ExpectedNotApplicable => "expected_amount_not_applicable",
            ClaimProblem::OccurredInvalid => "occurred_at_invalid",
            ClaimProblem::OccurredInFuture => "occurred_at_in_future",
            ClaimProblem::MerchantIdInvalid => "merchant_id_invalid",
            ClaimProblem::TerminalIdInvalid => "terminal_id_invalid",
            ClaimProblem::TooLong { .. } => "text_too_long",
            ClaimProblem::FullCardNumber => "full_card_number",
            ClaimProblem::ControlCharacter => "control_character",
        }
    }

    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            ClaimProblem::Money { args, .. } => args.clone(),
            ClaimProblem::ExpectedNotBelow { amount } => vec![("amount", amount.clone())],
            ClaimProblem::TooLong { max } => vec![("max", max.to_string())],
            _ => Vec::new(),
        }
    }

    /// Every code this module can produce itself (money codes come from the money module).
    pub const OWN_CODES: [&'static str; 15] = [
        "field_required",
        "claim_kind_unknown",
        "card_last4_invalid",
        "card_first6_invalid",
        "amount_not_positive",
        "currency_unknown",
        "expected_amount_not_below",
        "expected_amount_not_applicable",
        "occurred_at_invalid",
        "occurred_at_in_future",
        "merchant_id_invalid",
        "terminal_id_invalid",
        "text_too_long",
        "full_card_number",
        "control_character",
    ];
}

/// One problem on one field.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{}: {}", field.as_str(), problem.code())]
pub struct ClaimFieldError {
    pub field: ClaimField,
    pub problem: ClaimProblem,
}

impl ClaimFieldError {
    pub fn code(&self) -> &'static str {
        self.problem.code()
    }

    pub fn args(&self) -> Vec<(&'static str, String)> {
        self.problem.args()
    }

    /// The catalog key of the message: claim-form wording (`claim.error.*`) for this module's own
    /// codes, the shared `error.*` wording for codes passed through from other modules (money).
    pub fn message_key(&self) -> String {
        let code = self.code();
        if ClaimProblem::OWN_CODES.contains(&code) { format!("claim.error.{code}") } else { format!("error.{code}") }
    }
}

/// A validated claim. Fields are public so the database layer can rebuild a stored claim; only
/// `ClaimInput::validate` should create new ones from user input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub kind: ClaimKind,
    /// Exactly 4 ASCII digits.
    pub card_last4: String,
    /// Exactly 6 ASCII digits, when given.
    pub card_first6: Option<String>,
    /// The debit as the statement shows it; more than zero.
    pub amount: Money,
    /// `wrong_amount` only: what the terminal showed; same currency as `amount` and below it.
    pub expected_amount: Option<Money>,
    pub occurred: Occurred,
    /// `[0-9A-Za-z]{1,15}`, as typed.
    pub merchant_id: Option<String>,
    /// `[0-9A-Za-z]{8}`, as typed.
    pub terminal_id: Option<String>,
    /// Trimmed, at most `MERCHANT_NAME_MAX_CHARS` characters.
    pub merchant_name: Option<String>,
    /// Trimmed, at most `DESCRIPTION_MAX_CHARS` characters.
    pub description: Option<String>,
}

impl Claim {
    /// The inclusive window in which a matching debit's `txn_time` must lie; `tz` is
    /// `REDRESS_TIMEZONE`, used only for a date-only `occurred_at`.
    pub fn window(&self, tz: &TimeZone) -> (Timestamp, Timestamp) {
        self.occurred.window(tz)
    }
}

fn all_digits(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_digit())
}

impl ClaimInput {
    /// Checks every field and returns the claim, or every problem found (at most one per field,
    /// in `ClaimField::ALL` order). `default_currency` applies when `currency` is blank; `now` is
    /// the current time, for refusing an `occurred_at` in the future.
    pub fn validate(&self, default_currency: Currency, now: Timestamp) -> Result<Claim, Vec<ClaimFieldError>> {
        let mut errors: Vec<ClaimFieldError> = Vec::new();
        let mut fail = |field: ClaimField, problem: ClaimProblem| {
            errors.push(ClaimFieldError { field, problem });
        };

        // The screen runs first on every field, and a field that fails it is not looked at
        // again: any other message about it could quote or hint at the number.
        let usable = |field: ClaimField, fail: &mut dyn FnMut(ClaimField, ClaimProblem)| {
            let value = self.raw(field)?;
            match screen::screen(value, field.shape()) {
                Ok(()) => Some(value),
                Err(Refusal::CardNumber) => {
                    fail(field, ClaimProblem::FullCardNumber);
                    None
                }
                Err(Refusal::ControlCharacter) => {
                    fail(field, ClaimProblem::ControlCharacter);
                    None
                }
            }
        };
        let kind_raw = usable(ClaimField::Kind, &mut fail);
        let last4_raw = usable(ClaimField::CardLast4, &mut fail);
        let first6_raw = usable(ClaimField::CardFirst6, &mut fail);
        let amount_raw = usable(ClaimField::Amount, &mut fail);
        let currency_raw = usable(ClaimField::Currency, &mut fail);
        let expected_raw = usable(ClaimField::ExpectedAmount, &mut fail);
        let occurred_raw = usable(ClaimField::OccurredAt, &mut fail);
        let mid_raw = usable(ClaimField::MerchantId, &mut fail);
        let tid_raw = usable(ClaimField::TerminalId, &mut fail);
        let name_raw = usable(ClaimField::MerchantName, &mut fail);
        let description_raw = usable(ClaimField::Description, &mut fail);
        let screened = |field: ClaimField| self.raw(field).is_some();

        let kind = match kind_raw {
            Some(v) => ClaimKind::parse(v).or_else(|| {
                fail(ClaimField::Kind, ClaimProblem::KindUnknown);
                None
            }),
            None => {
                if !screened(ClaimField::Kind) {
                    fail(ClaimField::Kind, ClaimProblem::Required);
                }
                None
            }
        };

        let card_last4 = match last4_raw {
            Some(v) if all_digits(v, 4) => Some(v.to_owned()),
            Some(_) => {
                fail(ClaimField::CardLast4, ClaimProblem::Last4Invalid);
                None
            }
            None => {
                if !screened(ClaimField::CardLast4) {
                    fail(ClaimField::CardLast4, ClaimProblem::Required);
                }
                None
            }
        };

        let card_first6 = match first6_raw {
            Some(v) if all_digits(v, 6) => Some(v.to_owned()),
            Some(_) => {
                fail(ClaimField::CardFirst6, ClaimProblem::First6Invalid);
                None
            }
            None => None,
        };

        // People type "cny"; ISO codes are upper case, so fold rather than refuse.
        let currency = match currency_raw {
            Some(v) => Currency::from_code(&v.to_ascii_uppercase()).or_else(|| {
                fail(ClaimField::Currency, ClaimProblem::CurrencyUnknown);
                None
            }),
            None if screened(ClaimField::Currency) => None,
            None => Some(default_currency),
        };

        // Amounts are only parsed once the currency is known: the currency decides how many
        // decimals are allowed, so a guess would produce misleading messages.
        let parse_amount = |field: ClaimField,
                            raw: Option<&str>,
                            required: bool,
                            fail: &mut dyn FnMut(ClaimField, ClaimProblem)|
         -> Option<Money> {
            let Some(v) = raw else {
                if required && !screened(field) {
                    fail(field, ClaimProblem::Required);
                }
                return None;
            };
            let currency = currency?;
            match Money::parse_input(v, currency) {
                Ok(m) if m.minor > 0 => Some(m),
                Ok(_) => {
                    fail(field, ClaimProblem::NotPositive);
                    None
                }
                Err(e) => {
                    fail(field, ClaimProblem::Money { code: e.code(), args: e.args() });
                    None
                }
            }
        };
        let amount = parse_amount(ClaimField::Amount, amount_raw, true, &mut fail);

        let expected_amount = match kind {
            Some(ClaimKind::WrongAmount) => {
                let expected = parse_amount(ClaimField::ExpectedAmount, expected_raw, true, &mut fail);
                match (expected, amount) {
                    (Some(e), Some(a)) if e.minor >= a.minor => {
                        fail(ClaimField::ExpectedAmount, ClaimProblem::ExpectedNotBelow { amount: a.major_string() });
                        None
                    }
                    _ => expected,
                }
            }
            // Refused rather than dropped: silently ignoring a sum the customer typed would
            // decide a different claim from the one they meant.
            Some(_) if expected_raw.is_some() => {
                fail(ClaimField::ExpectedAmount, ClaimProblem::ExpectedNotApplicable);
                None
            }
            _ => None,
        };

        let occurred = match occurred_raw {
            Some(v) => match Occurred::parse(v) {
                Some(o) if o.is_future(now) => {
                    fail(ClaimField::OccurredAt, ClaimProblem::OccurredInFuture);
                    None
                }
                Some(o) => Some(o),
                None => {
                    fail(ClaimField::OccurredAt, ClaimProblem::OccurredInvalid);
                    None
                }
            },
            None => {
                if !screened(ClaimField::OccurredAt) {
                    fail(ClaimField::OccurredAt, ClaimProblem::Required);
                }
                None
            }
        };

        let merchant_id = match mid_raw {
            Some(v) if is_merchant_id(v) => Some(v.to_owned()),
            Some(_) => {
                fail(ClaimField::MerchantId, ClaimProblem::MerchantIdInvalid);
                None
            }
            None => None,
        };
        let terminal_id = match tid_raw {
            Some(v) if is_terminal_id(v) => Some(v.to_owned()),
            Some(_) => {
                fail(ClaimField::TerminalId, ClaimProblem::TerminalIdInvalid);
                None
            }
            None => None,
        };

        let mut limited = |field: ClaimField, raw: Option<&str>, max: usize| match raw {
            Some(v) if v.chars().count() > max => {
                fail(field, ClaimProblem::TooLong { max });
                None
            }
            other => other.map(str::to_owned),
        };
        let merchant_name = limited(ClaimField::MerchantName, name_raw, MERCHANT_NAME_MAX_CHARS);
        let description = limited(ClaimField::Description, description_raw, DESCRIPTION_MAX_CHARS);

        match (kind, card_last4, amount, occurred) {
            (Some(kind), Some(card_last4), Some(amount), Some(occurred)) if errors.is_empty() => Ok(Claim {
                kind,
                card_last4,
                card_first6,
                amount,
                expected_amount,
                occurred,
                merchant_id,
                terminal_id,
                merchant_name,
                description,
            }),
            _ => {
                // Fields are checked in the order their values depend on each other (the
                // currency before the amounts), not in the order they are shown.
                errors.sort_by_key(|e| ClaimField::ALL.iter().position(|f| *f == e.field));
                Err(errors)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const CARD: &str = "4111 1111 1111 1111";

    fn now() -> Timestamp {
        "2026-11-21T00:00:00Z".parse().unwrap()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn input(kind: &str) -> ClaimInput {
        ClaimInput {
            kind: Some(kind.into()),
            card_last4: Some("2470".into()),
            amount: Some("2220.99".into()),
            occurred_at: Some("2026-11-05T17:15:05+08:00".into()),
            ..ClaimInput::default()
        }
    }

    fn errors(input: &ClaimInput) -> Vec<(ClaimField, &'static str)> {
        input
            .validate(Currency::CNY, now())
            .expect_err("should be refused")
            .iter()
            .map(|e| (e.field, e.code()))
            .collect()
    }

    fn cny(minor: i64) -> Money {
        Money::new(minor, Currency::CNY)
    }

    #[test]
    fn kind_spellings_round_trip() {
        for k in ClaimKind::ALL {
            assert_eq!(ClaimKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.as_str()));
        }
        assert_eq!(ClaimKind::parse("wrong_amount"), Some(ClaimKind::WrongAmount));
        assert_eq!(ClaimKind::parse("No_Receipt"), None);
        assert_eq!(ClaimKind::parse(""), None);
    }

    #[test]
    fn occurred_parses_the_sample_shapes() {
        assert_eq!(Occurred::parse("2026-11-12T13:20+08:00"), Some(Occurred::At(ts("2026-11-12T05:20:00Z"))));
        assert_eq!(Occurred::parse("2026-11-12T18:29:07+08:00"), Some(Occurred::At(ts("2026-11-12T10:29:07Z"))));
        assert_eq!(Occurred::parse("2026-11-12T05:20:00.5Z"), Some(Occurred::At(ts("2026-11-12T05:20:00.5Z"))));
        assert_eq!(Occurred::parse(" 2026-11-12 13:20-05:00 "), Some(Occurred::At(ts("2026-11-12T18:20:00Z"))));
        assert_eq!(Occurred::parse("2026-11-12"), Some(Occurred::Day(date(2026, 11, 12))));
    }

    #[test]
    fn occurred_refuses_what_is_not_rfc3339_or_a_date() {
        for bad in [
            "",
            "2026-11-12T13:20",
            "2026-11-12T13:20:05",
            "20261112",
            "20261112T132005+0800",
            "2026-02-30",
            "2026-11-12X13:20+08:00",
            "12/11/2026",
            "yesterday",
            "2026-11-12T25:00+08:00",
            "+002026-11-12",
        ] {
            assert_eq!(Occurred::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn instant_window_is_three_hours_each_side() {
        let o = Occurred::At(ts("2026-11-12T05:20:00Z"));
        assert_eq!(o.window(&tz("Asia/Shanghai")), (ts("2026-11-12T02:20:00Z"), ts("2026-11-12T08:20:00Z")));
        // The zone does not matter for an instant.
        assert_eq!(o.window(&tz("America/New_York")), o.window(&TimeZone::UTC));
    }

    #[test]
    fn date_window_is_the_local_day_widened_by_three_hours() {
        let o = Occurred::Day(date(2026, 11, 12));
        // Shanghai day: 2026-11-11T16:00Z .. 2026-11-12T16:00Z.
        assert_eq!(o.window(&tz("Asia/Shanghai")), (ts("2026-11-11T13:00:00Z"), ts("2026-11-12T19:00:00Z")));
        assert_eq!(o.window(&TimeZone::UTC), (ts("2026-11-11T21:00:00Z"), ts("2026-11-13T03:00:00Z")));
    }

    #[test]
    fn date_window_follows_dst_days_in_new_york() {
        let ny = tz("America/New_York");
        // Spring forward: a 23-hour day, 00:00-05:00 .. next 00:00-04:00.
        assert_eq!(
            Occurred::Day(date(2026, 3, 8)).window(&ny),
            (ts("2026-03-08T02:00:00Z"), ts("2026-03-09T07:00:00Z"))
        );
        // Fall back: a 25-hour day, 00:00-04:00 .. next 00:00-05:00.
        assert_eq!(
            Occurred::Day(date(2026, 11, 1)).window(&ny),
            (ts("2026-11-01T01:00:00Z"), ts("2026-11-02T08:00:00Z"))
        );
        // An ordinary day for comparison.
        assert_eq!(
            Occurred::Day(date(2026, 11, 5)).window(&ny),
            (ts("2026-11-05T02:00:00Z"), ts("2026-11-06T08:00:00Z"))
        );
    }

    #[test]
    fn date_window_starts_at_the_first_real_instant_when_midnight_is_skipped() {
        // São Paulo moved clocks from 00:00 to 01:00 on 2018-11-04: the day began at 01:00-02:00.
        assert_eq!(
            Occurred::Day(date(2018, 11, 4)).window(&tz("America/Sao_Paulo")),
            (ts("2018-11-04T00:00:00Z"), ts("2018-11-05T05:00:00Z"))
        );
    }

    #[test]
    fn window_saturates_at_the_ends_of_time() {
        let (from, to) = Occurred::Day(jiff::civil::Date::MIN).window(&tz("Asia/Shanghai"));
        assert_eq!(from, Timestamp::MIN);
        assert!(from < to);
        let (from, to) = Occurred::Day(jiff::civil::Date::MAX).window(&tz("America/New_York"));
        assert_eq!(to, Timestamp::MAX);
        assert!(from < to);
        assert_eq!(Occurred::At(Timestamp::MAX).window(&TimeZone::UTC).1, Timestamp::MAX);
    }

    #[test]
    fn claim_window_delegates_to_occurred() {
        let claim = input("no_receipt").validate(Currency::CNY, now()).unwrap();
        assert_eq!(claim.window(&tz("Asia/Shanghai")), (ts("2026-11-05T06:15:05Z"), ts("2026-11-05T12:15:05Z")));
    }

    #[test]
    fn a_complete_claim_validates_with_every_field() {
        let raw = ClaimInput {
            kind: Some(" wrong_amount ".into()),
            card_last4: Some("8934".into()),
            card_first6: Some("436742".into()),
            amount: Some("30341.70".into()),
            currency: Some("cny".into()),
            expected_amount: Some("3034.17".into()),
            occurred_at: Some("2026-11-04T12:20:56+08:00".into()),
            merchant_id: Some("821838866205910".into()),
            terminal_id: Some("74222276".into()),
            merchant_name: Some("  便利店 ".into()),
            description: Some("多输了一个零".into()),
        };
        let claim = raw.validate(Currency::CNY, now()).unwrap();
        assert_eq!(
            claim,
            Claim {
                kind: ClaimKind::WrongAmount,
                card_last4: "8934".into(),
                card_first6: Some("436742".into()),
                amount: cny(3_034_170),
                expected_amount: Some(cny(303_417)),
                occurred: Occurred::At(ts("2026-11-04T04:20:56Z")),
                merchant_id: Some("821838866205910".into()),
                terminal_id: Some("74222276".into()),
                merchant_name: Some("便利店".into()),
                description: Some("多输了一个零".into()),
            }
        );
    }

    #[test]
    fn blank_optional_fields_are_absent_and_currency_defaults() {
        let raw = ClaimInput {
            card_first6: Some("".into()),
            currency: Some("  ".into()),
            expected_amount: Some("".into()),
            merchant_id: Some("".into()),
            terminal_id: Some("".into()),
            merchant_name: Some("".into()),
            description: Some("".into()),
            ..input("no_receipt")
        };
        let claim = raw.validate(Currency::CNY, now()).unwrap();
        assert_eq!(claim.amount, cny(222_099));
        assert_eq!(claim.card_first6, None);
        assert_eq!(claim.expected_amount, None);
        assert_eq!(claim.merchant_id, None);
        assert_eq!(claim.terminal_id, None);
        assert_eq!(claim.merchant_name, None);
        assert_eq!(claim.description, None);
        let usd = Currency::from_code("USD").unwrap();
        assert_eq!(input("no_receipt").validate(usd, now()).unwrap().amount, Money::new(222_099, usd));
    }

    #[test]
    fn a_date_only_claim_validates() {
        let raw = ClaimInput { occurred_at: Some("2026-11-05".into()), ..input("refund_not_received") };
        assert_eq!(raw.validate(Currency::CNY, now()).unwrap().occurred, Occurred::Day(date(2026, 11, 5)));
    }

    #[test]
    fn jpy_amounts_have_no_decimals() {
        let raw = ClaimInput { amount: Some("1280".into()), currency: Some("JPY".into()), ..input("no_receipt") };
        let jpy = Currency::from_code("JPY").unwrap();
        assert_eq!(raw.validate(Currency::CNY, now()).unwrap().amount, Money::new(1280, jpy));
        let raw = ClaimInput { amount: Some("1280.50".into()), ..raw };
        let errs = raw.validate(Currency::CNY, now()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, ClaimField::Amount);
        let money = Money::parse("1280.50", jpy).unwrap_err();
        assert_eq!(errs[0].problem, ClaimProblem::Money { code: money.code(), args: money.args() });
    }

    #[test]
    fn an_empty_input_names_every_required_field() {
        assert_eq!(
            errors(&ClaimInput::default()),
            vec![
                (ClaimField::Kind, "field_required"),
                (ClaimField::CardLast4, "field_required"),
                (ClaimField::Amount, "field_required"),
                (ClaimField::OccurredAt, "field_required"),
            ]
        );
    }

    #[test]
    fn every_field_problem_is_reported_at_once() {
        let raw = ClaimInput {
            kind: Some("chargeback".into()),
            card_last4: Some("12a4".into()),
            card_first6: Some("12345".into()),
            amount: Some("12.00".into()),
            currency: Some("XXX".into()),
            expected_amount: None,
            occurred_at: Some("yesterday".into()),
            merchant_id: Some("ABC-123".into()),
            terminal_id: Some("1234567".into()),
            merchant_name: Some("x".repeat(101)),
            description: Some("y".repeat(2001)),
        };
        assert_eq!(
            errors(&raw),
            vec![
                (ClaimField::Kind, "claim_kind_unknown"),
                (ClaimField::CardLast4, "card_last4_invalid"),
                (ClaimField::CardFirst6, "card_first6_invalid"),
                (ClaimField::Currency, "currency_unknown"),
                (ClaimField::OccurredAt, "occurred_at_invalid"),
                (ClaimField::MerchantId, "merchant_id_invalid"),
                (ClaimField::TerminalId, "terminal_id_invalid"),
                (ClaimField::MerchantName, "text_too_long"),
                (ClaimField::Description, "text_too_long"),
            ]
        );
    }

    #[test]
    fn problems_come_in_field_order() {
        // Found by fuzzing (fuzz/fuzz_targets/claim.rs): the currency is checked before the
        // amounts, and the card-number screen before everything, but the list is in field order.
        let raw = ClaimInput { amount: None, currency: Some("XXX".into()), ..input("no_receipt") };
        assert_eq!(
            errors(&raw),
            vec![(ClaimField::Amount, "field_required"), (ClaimField::Currency, "currency_unknown")]
        );
        let raw = ClaimInput { kind: Some("chargeback".into()), description: Some(CARD.into()), ..input("no_receipt") };
        assert_eq!(
            errors(&raw),
            vec![(ClaimField::Kind, "claim_kind_unknown"), (ClaimField::Description, "full_card_number")]
        );
    }

    #[test]
    fn card_digits_must_be_exact() {
        for (last4, ok) in [("2470", true), ("247", false), ("24700", false), ("24 0", false), ("２４７０", false)]
        {
            let raw = ClaimInput { card_last4: Some(last4.into()), ..input("no_receipt") };
            assert_eq!(raw.validate(Currency::CNY, now()).is_ok(), ok, "{last4:?}");
        }
        for (first6, ok) in [("620522", true), ("62052", false), ("6205220", false), ("62052a", false)] {
            let raw = ClaimInput { card_first6: Some(first6.into()), ..input("no_receipt") };
            assert_eq!(raw.validate(Currency::CNY, now()).is_ok(), ok, "{first6:?}");
        }
    }

    #[test]
    fn amount_must_be_a_positive_exact_decimal() {
        let with = |amount: &str| ClaimInput { amount: Some(amount.into()), ..input("no_receipt") };
        assert_eq!(errors(&with("0")), vec![(ClaimField::Amount, "amount_not_positive")]);
        assert_eq!(errors(&with("0.00")), vec![(ClaimField::Amount, "amount_not_positive")]);
        // Syntax problems pass the money module's own code and arguments through.
        for bad in ["-5", "12.345", "12,00", "1e3", "99999999999999999999"] {
            let money = Money::parse(bad, Currency::CNY).unwrap_err();
            let errs = with(bad).validate(Currency::CNY, now()).unwrap_err();
            assert_eq!(errs.len(), 1, "{bad}");
            assert_eq!(errs[0].field, ClaimField::Amount);
            assert_eq!(errs[0].problem, ClaimProblem::Money { code: money.code(), args: money.args() });
        }
        assert_eq!(with("0.01").validate(Currency::CNY, now()).unwrap().amount, cny(1));
    }

    #[test]
    fn an_unknown_currency_skips_the_amount_checks() {
        let raw = ClaimInput { currency: Some("ABC".into()), amount: Some("12.345".into()), ..input("no_receipt") };
        assert_eq!(errors(&raw), vec![(ClaimField::Currency, "currency_unknown")]);
    }

    #[test]
    fn expected_amount_rules_for_wrong_amount() {
        let with =
            |expected: Option<&str>| ClaimInput { expected_amount: expected.map(Into::into), ..input("wrong_amount") };
        assert_eq!(errors(&with(None)), vec![(ClaimField::ExpectedAmount, "field_required")]);
        let errs = with(Some("2220.99")).validate(Currency::CNY, now()).unwrap_err();
        assert_eq!(errs[0].code(), "expected_amount_not_below");
        assert_eq!(errs[0].args(), vec![("amount", "2220.99".to_string())]);
        assert_eq!(errors(&with(Some("3000"))), vec![(ClaimField::ExpectedAmount, "expected_amount_not_below")]);
        assert_eq!(errors(&with(Some("0"))), vec![(ClaimField::ExpectedAmount, "amount_not_positive")]);
        let errs = with(Some("1.234")).validate(Currency::CNY, now()).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, ClaimField::ExpectedAmount);
        assert!(matches!(errs[0].problem, ClaimProblem::Money { .. }));
        let claim = with(Some("2220.98")).validate(Currency::CNY, now()).unwrap();
        assert_eq!(claim.expected_amount, Some(cny(222_098)));
        // Both amounts use the claim's one currency, so they can never differ in currency.
        let jpy = ClaimInput {
            currency: Some("JPY".into()),
            amount: Some("30000".into()),
            expected_amount: Some("3000".into()),
            ..input("wrong_amount")
        };
        let claim = jpy.validate(Currency::CNY, now()).unwrap();
        assert_eq!(claim.expected_amount.unwrap().currency, claim.amount.currency);
    }

    #[test]
    fn expected_amount_is_refused_for_other_kinds() {
        for kind in ["no_receipt", "duplicate_charge", "refund_not_received"] {
            let raw = ClaimInput { expected_amount: Some("1.00".into()), ..input(kind) };
            assert_eq!(errors(&raw), vec![(ClaimField::ExpectedAmount, "expected_amount_not_applicable")]);
        }
        // With an unknown kind there is nothing to say about it.
        let raw =
            ClaimInput { kind: Some("other".into()), expected_amount: Some("1.00".into()), ..input("no_receipt") };
        assert_eq!(errors(&raw), vec![(ClaimField::Kind, "claim_kind_unknown")]);
    }

    #[test]
    fn occurred_at_in_the_future_is_refused_beyond_five_minutes() {
        let with = |text: &str, now: Timestamp| {
            ClaimInput { occurred_at: Some(text.into()), ..input("no_receipt") }.validate(Currency::CNY, now)
        };
        assert!(with("2026-11-21T00:05:00Z", now()).is_ok());
        let errs = with("2026-11-21T00:05:01Z", now()).unwrap_err();
        assert_eq!((errs[0].field, errs[0].code()), (ClaimField::OccurredAt, "occurred_at_in_future"));
        assert!(with("2026-11-21T08:04:59+08:00", now()).is_ok());
        // Today is fine; tomorrow is refused until it has begun somewhere (UTC+14).
        assert!(with("2026-11-21", now()).is_ok());
        assert!(with("2026-11-22", now()).is_err());
        assert!(with("2026-11-22", ts("2026-11-21T09:55:00Z")).is_ok());
        assert!(with("2026-11-22", ts("2026-11-21T09:54:59Z")).is_err());
    }

    #[test]
    fn merchant_and_terminal_id_formats() {
        let with = |mid: &str, tid: &str| ClaimInput {
            merchant_id: Some(mid.into()),
            terminal_id: Some(tid.into()),
            ..input("no_receipt")
        };
        let claim = with("868625034637336", "03503484").validate(Currency::CNY, now()).unwrap();
        assert_eq!(claim.merchant_id.as_deref(), Some("868625034637336"));
        assert_eq!(claim.terminal_id.as_deref(), Some("03503484"));
        assert!(with("M1", "ab12CD34").validate(Currency::CNY, now()).is_ok());
        assert_eq!(
            errors(&with("8686250346373361", "0350348")),
            vec![(ClaimField::MerchantId, "merchant_id_invalid"), (ClaimField::TerminalId, "terminal_id_invalid"),]
        );
        assert_eq!(
            errors(&with("86 86", "035034845")),
            vec![(ClaimField::MerchantId, "merchant_id_invalid"), (ClaimField::TerminalId, "terminal_id_invalid"),]
        );
    }

    #[test]
    fn text_limits_count_characters() {
        let with = |name: String, description: String| ClaimInput {
            merchant_name: Some(name),
            description: Some(description),
            ..input("no_receipt")
        };
        assert!(with("店".repeat(100), "说".repeat(2000)).validate(Currency::CNY, now()).is_ok());
        let errs = with("店".repeat(101), "说".repeat(2001)).validate(Currency::CNY, now()).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].field, ClaimField::MerchantName);
        assert_eq!(errs[0].args(), vec![("max", "100".to_string())]);
        assert_eq!(errs[1].field, ClaimField::Description);
        assert_eq!(errs[1].args(), vec![("max", "2000".to_string())]);
    }

    #[test]
    fn a_full_card_number_in_any_field_is_refused_and_never_echoed() {
        for field in ClaimField::ALL {
            let mut raw = input("wrong_amount");
            raw.expected_amount = Some("1.00".into());
            let slot = match field {
                ClaimField::Kind => &mut raw.kind,
                ClaimField::CardLast4 => &mut raw.card_last4,
                ClaimField::CardFirst6 => &mut raw.card_first6,
                ClaimField::Amount => &mut raw.amount,
                ClaimField::Currency => &mut raw.currency,
                ClaimField::ExpectedAmount => &mut raw.expected_amount,
                ClaimField::OccurredAt => &mut raw.occurred_at,
                ClaimField::MerchantId => &mut raw.merchant_id,
                ClaimField::TerminalId => &mut raw.terminal_id,
                ClaimField::MerchantName => &mut raw.merchant_name,
                ClaimField::Description => &mut raw.description,
            };
            *slot = Some(format!("my card is {CARD}, sorry"));
            let errs = raw.validate(Currency::CNY, now()).unwrap_err();
            // Only the card-number problem on that field: no second message that might quote it.
            assert_eq!(
                errs.iter().map(|e| (e.field, e.code())).collect::<Vec<_>>(),
                vec![(field, "full_card_number")],
                "{field:?}"
            );
            assert!(errs[0].args().is_empty());
            assert!(!errs[0].to_string().contains("1111"));
            assert!(!format!("{errs:?}").contains("1111"));
            assert!(!format!("{raw:?}").contains("1111"), "Debug leaks {field:?}");
        }
    }

    #[test]
    fn card_numbers_typed_without_spaces_or_with_hyphens_are_caught_too() {
        for text in [
            "4111111111111111",
            "4111-1111-1111-1111",
            "4111.1111.1111.1111",
            "４１１１ １１１１ １１１１ １１１１",
            "note 5500005555555559",
        ] {
            let raw = ClaimInput { description: Some(text.into()), ..input("no_receipt") };
            assert_eq!(errors(&raw), vec![(ClaimField::Description, "full_card_number")]);
        }
        // Digits that fail Luhn are just text.
        let raw = ClaimInput { description: Some("order 4111111111111112".into()), ..input("no_receipt") };
        assert!(raw.validate(Currency::CNY, now()).is_ok());
    }

    #[test]
    fn a_valid_mid_that_happens_to_pass_luhn_is_accepted() {
        // 378282246310005 passes Luhn; as a 15-digit MID it is legitimate.
        assert!(screen::contains_full_card_number("378282246310005"));
        let raw = ClaimInput { merchant_id: Some("378282246310005".into()), ..input("no_receipt") };
        let claim = raw.validate(Currency::CNY, now()).unwrap();
        assert_eq!(claim.merchant_id.as_deref(), Some("378282246310005"));
        // The exemption is for merchant_id only, and only for a valid MID.
        let raw = ClaimInput { merchant_id: Some("4111111111111111".into()), ..input("no_receipt") };
        assert_eq!(errors(&raw), vec![(ClaimField::MerchantId, "full_card_number")]);
        let raw = ClaimInput { description: Some("378282246310005".into()), ..input("no_receipt") };
        assert_eq!(errors(&raw), vec![(ClaimField::Description, "full_card_number")]);
    }

    #[test]
    fn control_characters_are_refused_but_a_description_keeps_its_line_breaks() {
        let raw = ClaimInput { merchant_name: Some("Shop\0".into()), ..input("no_receipt") };
        assert_eq!(errors(&raw), vec![(ClaimField::MerchantName, "control_character")]);
        let raw = ClaimInput { description: Some("a\u{0}b".into()), ..input("no_receipt") };
        assert_eq!(errors(&raw), vec![(ClaimField::Description, "control_character")]);
        let raw = ClaimInput { description: Some("first\r\nsecond\tline".into()), ..input("no_receipt") };
        assert!(raw.validate(Currency::CNY, now()).is_ok());
    }

    #[test]
    fn debug_shows_ordinary_values() {
        let shown = format!("{:?}", input("no_receipt"));
        assert!(shown.contains("2470") && shown.contains("no_receipt"), "{shown}");
    }

    #[test]
    fn input_deserializes_from_the_api_body_ignoring_extra_keys() {
        let raw: ClaimInput = serde_json::from_str(
            r#"{"kind": "no_receipt", "card_last4": "2470", "amount": "2220.99",
                "occurred_at": "2026-11-05", "contact_email": "a@example.com", "expect": {}}"#,
        )
        .unwrap();
        assert_eq!(raw.kind.as_deref(), Some("no_receipt"));
        assert_eq!(raw.currency, None);
        assert!(raw.validate(Currency::CNY, now()).is_ok());
    }

    #[test]
    fn field_names_and_error_display() {
        let names: Vec<&str> = ClaimField::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(
            names,
            [
                "kind",
                "card_last4",
                "card_first6",
                "amount",
                "currency",
                "expected_amount",
                "occurred_at",
                "merchant_id",
                "terminal_id",
                "merchant_name",
                "description"
            ]
        );
        for field in ClaimField::ALL {
            assert_eq!(ClaimField::parse(field.as_str()), Some(field));
        }
        let kinds: Vec<&str> = ClaimKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds, ["no_receipt", "duplicate_charge", "wrong_amount", "refund_not_received"]);
        let e = ClaimFieldError { field: ClaimField::CardLast4, problem: ClaimProblem::Last4Invalid };
        assert_eq!(e.to_string(), "card_last4: card_last4_invalid");
    }

    #[test]
    fn own_codes_list_every_problem() {
        let problems = [
            ClaimProblem::Required,
            ClaimProblem::KindUnknown,
            ClaimProblem::Last4Invalid,
            ClaimProblem::First6Invalid,
            ClaimProblem::NotPositive,
            ClaimProblem::CurrencyUnknown,
            ClaimProblem::ExpectedNotBelow { amount: "1".into() },
            ClaimProblem::ExpectedNotApplicable,
            ClaimProblem::OccurredInvalid,
            ClaimProblem::OccurredInFuture,
            ClaimProblem::MerchantIdInvalid,
            ClaimProblem::TerminalIdInvalid,
            ClaimProblem::TooLong { max: 1 },
            ClaimProblem::FullCardNumber,
            ClaimProblem::ControlCharacter,
        ];
        let codes: Vec<&str> = problems.iter().map(ClaimProblem::code).collect();
        assert_eq!(codes, ClaimProblem::OWN_CODES);
    }

    #[test]
    fn a_date_and_a_time_field_make_the_occurred_text_and_back() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let text = Occurred::text_from_parts("2026-11-12", "14:05", &tz);
        assert_eq!(text, "2026-11-12T14:05:00+08:00");
        assert_eq!(Occurred::parse(&text), Some(Occurred::At("2026-11-12T06:05:00Z".parse().unwrap())));
        assert_eq!(Occurred::text_from_parts(" 2026-11-12 ", "", &tz), "2026-11-12");
        assert_eq!(Occurred::text_from_parts("2026-11-12", "25:00", &tz), "2026-11-12T25:00");
        assert_eq!(Occurred::parts_of_text(&text, &tz), ("2026-11-12".to_owned(), "14:05".to_owned()));
        // A time kept in another offset is shown in the deployment's zone.
        let utc = Occurred::parts_of_text("2026-11-12T05:20:36Z", &tz);
        assert_eq!(utc, ("2026-11-12".to_owned(), "13:20".to_owned()));
        assert_eq!(Occurred::parts_of_text("2026-11-12", &tz), ("2026-11-12".to_owned(), String::new()));
    }
}
