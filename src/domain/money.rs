//! Money: exact integer minor units in an ISO 4217 currency, and exact parsing of decimal amounts.

use std::fmt;

use crate::domain::card::contains_full_card_number;

/// An ISO 4217 currency that has a minor-unit exponent.
///
/// Codes without one (gold `XAU`, `XXX`, SDR `XDR`, …) are refused, because an
/// amount in them cannot be turned into an integer count of minor units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    pub const CNY: Currency = Currency(iso_currency::Currency::CNY);
    pub const USD: Currency = Currency(iso_currency::Currency::USD);
    pub const JPY: Currency = Currency(iso_currency::Currency::JPY);

    /// ISO 4217 alpha-3 code, uppercase only (`"cny"` is refused, as in the CSV contract).
    pub fn from_code(code: &str) -> Option<Currency> {
        // The deployment's own currency is on nearly every row of every file.
        if code == "CNY" {
            return Some(Currency::CNY);
        }
        let iso = iso_currency::Currency::from_code(code)?;
        iso.exponent()?;
        Some(Currency(iso))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Number of decimal places of the minor unit: CNY 2, USD 2, JPY 0, KWD 3.
    pub fn exponent(self) -> u32 {
        // Every value was checked to have an exponent when it was built.
        self.0.exponent().map_or(0, u32::from)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a text amount was refused. See `code()` / `args()` for the translatable form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a plain decimal: empty, whitespace, sign other than a leading '-',
    /// exponent, thousands separator, ".5", "1." …
    #[error("amount is not a plain decimal number")]
    Invalid { currency: Currency },
    #[error("amount is negative")]
    Negative,
    #[error("amount has more than {max} decimal places for {currency}")]
    TooManyDecimals { max: u32, currency: Currency },
    #[error("amount does not fit in 64-bit minor units")]
    TooLarge,
    /// The amount, as it would be stored and shown, is a full card number.
    #[error("amount reads as a full card number")]
    FullCardNumber,
}

impl MoneyError {
    pub fn code(&self) -> &'static str {
        match self {
            MoneyError::Invalid { .. } => "amount_invalid",
            MoneyError::Negative => "amount_negative",
            MoneyError::TooManyDecimals { .. } => "amount_too_many_decimals",
            MoneyError::TooLarge => "amount_too_large",
            // The code every layer already uses for a card number, so it gets the same handling.
            MoneyError::FullCardNumber => "full_card_number",
        }
    }

    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            MoneyError::Invalid { currency } => vec![("example", example_amount(*currency))],
            MoneyError::Negative | MoneyError::TooLarge | MoneyError::FullCardNumber => Vec::new(),
            MoneyError::TooManyDecimals { max, currency } => {
                vec![("max", max.to_string()), ("currency", currency.code().to_owned())]
            }
        }
    }
}

/// An example amount in the currency's own shape, for messages ("128.50", JPY "1280").
fn example_amount(currency: Currency) -> String {
    match currency.exponent() {
        0 => "128".to_owned(),
        e => format!("128.5{:0<width$}", "", width = e as usize - 1),
    }
}

/// An amount of money as an integer count of minor units (fen for CNY, cents for USD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Parses a decimal amount in major units: `128.50`, `128.5`, `0.01`, JPY `1280`.
    ///
    /// Deliberately strict: digits, optionally one '.' followed by at least one
    /// digit. No whitespace, signs, exponents or grouping, because a file that
    /// writes "1,000.00" or "1e3" was produced by something we cannot trust to
    /// have kept the exact value. Never goes through floating point.
    ///
    /// An amount that reads as a full card number once written out is refused: callers screen
    /// the raw text, but zero padding hides a number there ("0000" + 16 digits is a 20-digit
    /// run, which is not a card number) that the stored and shown amount would reveal.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let money = parse_minor(text, currency.exponent())
            .map(|minor| Money::new(minor, currency))
            .map_err(|e| e.with_currency(currency))?;
        // A card number has 13 digits at least: smaller amounts need no formatting to rule out.
        if money.minor >= 1_000_000_000_000 && contains_full_card_number(&money.major_string()) {
            return Err(MoneyError::FullCardNumber);
        }
        Ok(money)
    }

    /// Parses an amount as a person copies it from a bank SMS or statement (DESIGN.md §8):
    /// `¥1,234.50`, `1,234.50元`, `RMB 1234.5`, `CNY 1,234.50`, full-width `１，２３４．５０`.
    ///
    /// Files keep the strict `parse`; this is for forms, where refusing what the bank wrote
    /// only makes the person retype it. The currency written with the amount must be the one
    /// chosen (`¥` is both yuan and yen), commas must group thousands (`12,00` is refused: in
    /// some countries it means twelve), and the rest is `parse`'s exact decimal.
    pub fn parse_input(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let invalid = || MoneyError::Invalid { currency };
        let folded: String = text.chars().map(fold_full_width).collect();
        let mut rest = folded.trim();
        let markers = currency_markers(currency);
        if let Some(after) = strip_prefix_marker(rest, &markers) {
            rest = after.trim_start();
        }
        if let Some(before) = strip_suffix_marker(rest, &markers) {
            rest = before.trim_end();
        }
        let plain = ungroup(rest).ok_or_else(invalid)?;
        Money::parse(&plain, currency)
    }

    /// The amount in major units without grouping: "128.50", "0.01", JPY "1280".
    pub fn major_string(self) -> String {
        let exponent = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        // unsigned_abs: i64::MIN has no positive i64 counterpart.
        let abs = self.minor.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(exponent);
        let width = exponent as usize;
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale)
    }

    /// Sum of two amounts of the same currency; `None` on currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_add(other.minor))
            .flatten()
            .map(|minor| Money::new(minor, self.currency))
    }

    /// Difference of two amounts of the same currency; `None` on currency mismatch or overflow.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.minor.checked_sub(other.minor))
            .flatten()
            .map(|minor| Money::new(minor, self.currency))
    }
}

/// The canonical text of an amount: major units without grouping, a space, the ISO 4217 code
/// (`954.82 CNY`, `1280 JPY`). Used wherever an amount is written out in full: audit notes,
/// finding facts, emails, the case page. The records browser groups digits by language instead
/// (`i18n::format::money`).
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.major_string(), self.currency.code())
    }
}

/// Full-width forms (`１２３．５`, `，`, `￥`, the ideographic space) as their ASCII twins.
fn fold_full_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{FFE5}' => '¥',
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// What may stand before or after an amount in `currency`: its code and, for yuan (and yen,
/// which shares the sign), the signs and words banks write.
fn currency_markers(currency: Currency) -> Vec<&'static str> {
    let mut markers = vec![currency.code()];
    if currency == Currency::CNY {
        markers.extend(["人民币", "RMB", "¥", "元"]);
    } else if currency == Currency::JPY {
        markers.extend(["¥", "円"]);
    }
    markers
}

/// `text` without one of `markers` in front; codes match in any case ("rmb", "Cny").
fn strip_prefix_marker<'a>(text: &'a str, markers: &[&str]) -> Option<&'a str> {
    markers.iter().find_map(|m| {
        let head = text.get(..m.len())?;
        head.eq_ignore_ascii_case(m).then(|| &text[m.len()..])
    })
}

/// `text` without one of `markers` behind it.
fn strip_suffix_marker<'a>(text: &'a str, markers: &[&str]) -> Option<&'a str> {
    markers.iter().find_map(|m| {
        let at = text.len().checked_sub(m.len())?;
        let tail = text.get(at..)?;
        tail.eq_ignore_ascii_case(m).then(|| &text[..at])
    })
}

/// `1,234,567.89` as `1234567.89`; `None` when commas do not group the whole part by threes.
pub(crate) fn ungroup(text: &str) -> Option<String> {
    if !text.contains(',') {
        return Some(text.to_owned());
    }
    let (whole, fraction) = text.split_once('.').map_or((text, None), |(w, f)| (w, Some(f)));
    let mut groups = whole.split(',');
    let first = groups.next()?;
    let first_ok = (1..=3).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_digit());
    let rest: Vec<&str> = groups.collect();
    let rest_ok = rest.iter().all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()));
    if !first_ok || !rest_ok || fraction.is_some_and(|f| f.contains(',')) {
        return None;
    }
    let mut plain = first.to_owned();
    rest.iter().for_each(|g| plain.push_str(g));
    if let Some(f) = fraction {
        plain.push('.');
        plain.push_str(f);
    }
    Some(plain)
}

/// Parse failure before the currency is known to the error; see `parse_minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MinorError {
    Invalid,
    Negative,
    TooManyDecimals { max: u32 },
    TooLarge,
}

impl MinorError {
    fn with_currency(self, currency: Currency) -> MoneyError {
        match self {
            MinorError::Invalid => MoneyError::Invalid { currency },
            MinorError::Negative => MoneyError::Negative,
            MinorError::TooManyDecimals { max } => MoneyError::TooManyDecimals { max, currency },
            MinorError::TooLarge => MoneyError::TooLarge,
        }
    }
}

/// The exact parser behind `Money::parse`, usable when the currency itself was
/// unreadable (the record validator still wants to say whether the amount was).
pub(crate) fn parse_minor(text: &str, exponent: u32) -> Result<i64, MinorError> {
    let bytes = text.as_bytes();
    if let Some(rest) = bytes.strip_prefix(b"-") {
        // Only call it "negative" when the rest is a number; "-abc" is just invalid.
        return match split_decimal(rest) {
            Some(_) => Err(MinorError::Negative),
            None => Err(MinorError::Invalid),
        };
    }
    let (whole, fraction) = split_decimal(bytes).ok_or(MinorError::Invalid)?;
    if fraction.len() > exponent as usize {
        return Err(MinorError::TooManyDecimals { max: exponent });
    }
    let mut minor: i64 = 0;
    for &digit in whole.iter().chain(fraction) {
        minor =
            minor.checked_mul(10).and_then(|m| m.checked_add(i64::from(digit - b'0'))).ok_or(MinorError::TooLarge)?;
    }
    // "128.5" in CNY is 12850 fen: scale up by the decimals not written.
    let missing = exponent - fraction.len() as u32;
    minor.checked_mul(10i64.checked_pow(missing).ok_or(MinorError::TooLarge)?).ok_or(MinorError::TooLarge)
}

/// Splits `digits[.digits]` into its whole and fraction digits; `None` for anything else.
fn split_decimal(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (whole, fraction) = match bytes.iter().position(|&b| b == b'.') {
        Some(dot) => {
            let fraction = &bytes[dot + 1..];
            if fraction.is_empty() {
                return None;
            }
            (&bytes[..dot], fraction)
        }
        None => (bytes, &[][..]),
    };
    let all_digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    (!whole.is_empty() && all_digits(whole) && all_digits(fraction)).then_some((whole, fraction))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::from_code(code).unwrap()
    }

    fn cny(text: &str) -> Result<i64, MoneyError> {
        Money::parse(text, Currency::CNY).map(|m| m.minor)
    }

    #[test]
    fn exponents_come_from_iso_4217() {
        assert_eq!(cur("CNY").exponent(), 2);
        assert_eq!(cur("USD").exponent(), 2);
        assert_eq!(cur("JPY").exponent(), 0);
        assert_eq!(cur("KWD").exponent(), 3);
        assert_eq!(Currency::CNY, cur("CNY"));
        assert_eq!(Currency::CNY.code(), "CNY");
        assert_eq!(Currency::JPY.to_string(), "JPY");
    }

    #[test]
    fn currencies_without_minor_unit_or_not_uppercase_are_refused() {
        for code in ["XAU", "XXX", "XDR", "cny", "Cny", "", "CN", "CNYY", "ZZZ", " CNY"] {
            assert_eq!(Currency::from_code(code), None, "{code:?}");
        }
    }

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(cny("128.50"), Ok(12850));
        assert_eq!(cny("128.5"), Ok(12850));
        assert_eq!(cny("128"), Ok(12800));
        assert_eq!(cny("0.01"), Ok(1));
        assert_eq!(cny("0"), Ok(0));
        assert_eq!(cny("007.10"), Ok(710));
        assert_eq!(Money::parse("1280", Currency::JPY).map(|m| m.minor), Ok(1280));
        assert_eq!(Money::parse("1.234", cur("KWD")).map(|m| m.minor), Ok(1234));
        assert_eq!(Money::parse("1.2", cur("KWD")).map(|m| m.minor), Ok(1200));
    }

    #[test]
    fn rejects_anything_but_plain_decimals() {
        let invalid = MoneyError::Invalid { currency: Currency::CNY };
        for text in [
            ".5", "1.", "1e3", "1E3", "1,000.00", "1 000.00", " 12.00", "12.00 ", "", ".", "+1", "1.2.3", "１２",
            "0x10", "12,5", "NaN", "inf", "-", "-abc", "--1",
        ] {
            assert_eq!(cny(text), Err(invalid.clone()), "{text:?}");
        }
    }

    #[test]
    fn rejects_negative_amounts() {
        assert_eq!(cny("-1"), Err(MoneyError::Negative));
        assert_eq!(cny("-0.01"), Err(MoneyError::Negative));
        assert_eq!(MoneyError::Negative.code(), "amount_negative");
    }

    #[test]
    fn rejects_more_decimals_than_the_currency_has() {
        let err = cny("128.505").unwrap_err();
        assert_eq!(err, MoneyError::TooManyDecimals { max: 2, currency: Currency::CNY });
        assert_eq!(err.code(), "amount_too_many_decimals");
        assert_eq!(err.args(), vec![("max", "2".to_owned()), ("currency", "CNY".to_owned())]);
        // Trailing zeros count: the file claims a precision the currency lacks.
        assert_eq!(
            Money::parse("1280.0", Currency::JPY),
            Err(MoneyError::TooManyDecimals { max: 0, currency: Currency::JPY })
        );
    }

    #[test]
    fn rejects_overflow_instead_of_wrapping() {
        assert_eq!(cny("92233720368547758.07"), Ok(i64::MAX));
        assert_eq!(cny("92233720368547758.08"), Err(MoneyError::TooLarge));
        assert_eq!(cny("92233720368547759"), Err(MoneyError::TooLarge));
        assert_eq!(cny("99999999999999999999999999"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse("9223372036854775807", Currency::JPY).unwrap().minor, i64::MAX);
        assert_eq!(Money::parse("9223372036854775808", Currency::JPY), Err(MoneyError::TooLarge));
        assert_eq!(MoneyError::TooLarge.code(), "amount_too_large");
    }

    #[test]
    fn an_amount_that_reads_as_a_card_number_is_refused() {
        // Found by fuzzing (fuzz/fuzz_targets/amount.rs): 20 digits pass the card-number screen,
        // but the amount is stored and shown as 2000000493860908.000, a Luhn-valid 16 digits.
        let kwd = cur("KWD");
        assert!(!contains_full_card_number("00002000000493860908"));
        assert_eq!(Money::parse("00002000000493860908", kwd), Err(MoneyError::FullCardNumber));
        assert_eq!(cny("00004111111111111111"), Err(MoneyError::FullCardNumber));
        assert_eq!(Money::parse("4111111111111111", Currency::JPY), Err(MoneyError::FullCardNumber));
        assert_eq!(MoneyError::FullCardNumber.code(), "full_card_number");
        assert!(MoneyError::FullCardNumber.args().is_empty());
        // Large amounts that fail Luhn are still amounts.
        assert_eq!(Money::parse("4111111111111112", Currency::JPY).unwrap().minor, 4_111_111_111_111_112);
        assert_eq!(cny("00004111111111111112"), Ok(411_111_111_111_111_200));
    }

    #[test]
    fn invalid_error_carries_an_example_in_the_currency_shape() {
        assert_eq!(MoneyError::Invalid { currency: Currency::CNY }.args(), vec![("example", "128.50".to_owned())]);
        assert_eq!(MoneyError::Invalid { currency: Currency::JPY }.args(), vec![("example", "128".to_owned())]);
        assert_eq!(MoneyError::Invalid { currency: cur("KWD") }.args(), vec![("example", "128.500".to_owned())]);
        assert_eq!(MoneyError::Invalid { currency: Currency::JPY }.code(), "amount_invalid");
    }

    #[test]
    fn major_string_formats_with_the_currency_exponent() {
        assert_eq!(Money::new(12850, Currency::CNY).major_string(), "128.50");
        assert_eq!(Money::new(1, Currency::CNY).major_string(), "0.01");
        assert_eq!(Money::new(0, Currency::CNY).major_string(), "0.00");
        assert_eq!(Money::new(1280, Currency::JPY).major_string(), "1280");
        assert_eq!(Money::new(5, cur("KWD")).major_string(), "0.005");
        assert_eq!(Money::new(-150, Currency::USD).major_string(), "-1.50");
        assert_eq!(Money::new(i64::MIN, Currency::CNY).major_string(), "-92233720368547758.08");
        assert_eq!(Money::new(123_456_789, Currency::CNY).major_string(), "1234567.89");
    }

    #[test]
    fn display_is_the_major_string_and_the_code() {
        assert_eq!(Money::new(95482, Currency::CNY).to_string(), "954.82 CNY");
        assert_eq!(Money::new(0, Currency::CNY).to_string(), "0.00 CNY");
        assert_eq!(Money::new(1280, Currency::JPY).to_string(), "1280 JPY");
        assert_eq!(Money::new(5, cur("KWD")).to_string(), "0.005 KWD");
        assert_eq!(Money::new(-150, Currency::USD).to_string(), "-1.50 USD");
        assert_eq!(Money::new(123_456_789, Currency::CNY).to_string(), "1234567.89 CNY");
        assert_eq!(format!("stated {}", Money::new(12850, Currency::CNY)), "stated 128.50 CNY");
    }

    #[test]
    fn major_string_round_trips_through_parse() {
        for currency in [Currency::CNY, Currency::JPY, cur("KWD"), cur("CLF")] {
            for minor in [0, 1, 9, 10, 99, 100, 12850, 1_000_000, i64::MAX] {
                let money = Money::new(minor, currency);
                assert_eq!(Money::parse(&money.major_string(), currency), Ok(money));
            }
        }
    }

    #[test]
    fn input_accepts_what_a_bank_sms_writes() {
        let cny = |text: &str| Money::parse_input(text, Currency::CNY).map(|m| m.minor);
        for text in [
            "¥1,234.50",
            "￥1,234.50",
            "1,234.50元",
            "RMB 1234.5",
            "rmb1234.50",
            "CNY 1,234.50",
            "1234.50 CNY",
            "人民币1,234.50元",
            "１，２３４．５０",
            "￥１２３４．５",
            " 1234.50 ",
            "1234.5",
        ] {
            assert_eq!(cny(text), Ok(123_450), "{text:?}");
        }
        assert_eq!(cny("1,234,567"), Ok(123_456_700));
        assert_eq!(Money::parse_input("¥1,280", Currency::JPY).map(|m| m.minor), Ok(1280));
        assert_eq!(Money::parse_input("USD 12.50", Currency::USD).map(|m| m.minor), Ok(1250));
    }

    #[test]
    fn input_still_refuses_what_is_not_one_exact_amount() {
        let invalid = Err(MoneyError::Invalid { currency: Currency::CNY });
        for text in
            ["12,00", "1,23.00", ",123", "1,234,5", "¥", "元", "¥¥12", "USD 12", "12 USD", "1.2.3", "1e3", "abc"]
        {
            assert_eq!(Money::parse_input(text, Currency::CNY), invalid, "{text:?}");
        }
        assert_eq!(Money::parse_input("¥-5", Currency::CNY), Err(MoneyError::Negative));
        assert_eq!(
            Money::parse_input("¥1.005", Currency::CNY),
            Err(MoneyError::TooManyDecimals { max: 2, currency: Currency::CNY })
        );
        // "¥" on a USD amount is a contradiction, not a sign to skip.
        assert!(Money::parse_input("¥12.50", Currency::USD).is_err());
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let a = Money::new(12850, Currency::CNY);
        let b = Money::new(2850, Currency::CNY);
        assert_eq!(a.checked_sub(b), Some(Money::new(10000, Currency::CNY)));
        assert_eq!(a.checked_add(b), Some(Money::new(15700, Currency::CNY)));
        assert_eq!(a.checked_sub(Money::new(1, Currency::USD)), None);
        assert_eq!(Money::new(i64::MAX, Currency::CNY).checked_add(b), None);
    }
}
