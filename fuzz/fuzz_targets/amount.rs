//! Fuzzes amount parsing and formatting (`Money::parse`, `Money::major_string`, `Currency`).
//!
//! The first byte picks the currency (exponents 0, 2, 3, 4, or a code read from the input);
//! the rest is the amount text. Every result is compared with a plain restatement of the rule
//! using strings instead of arithmetic, and every accepted amount must survive
//! format → parse unchanged. A second input shape formats an arbitrary i64 and parses it back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redress::domain::card::contains_full_card_number;
use redress::domain::money::{Currency, Money, MoneyError};

/// What the rule says `text` is worth in minor units; errors by kind only.
#[derive(Debug, PartialEq)]
enum Expected {
    Minor(i64),
    Invalid,
    Negative,
    TooManyDecimals,
    TooLarge,
    FullCardNumber,
}

fn expected(text: &str, exponent: u32) -> Expected {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let has_dot = body.contains('.');
    if whole.is_empty() || !digits(whole) || !digits(fraction) || (has_dot && fraction.is_empty()) {
        return Expected::Invalid;
    }
    if negative {
        return Expected::Negative;
    }
    if fraction.len() > exponent as usize {
        return Expected::TooManyDecimals;
    }
    let padded = format!("{whole}{fraction:0<width$}", width = exponent as usize);
    let significant = padded.trim_start_matches('0');
    let max = i64::MAX.to_string();
    if significant.len() > max.len() || (significant.len() == max.len() && significant > max.as_str()) {
        return Expected::TooLarge;
    }
    // The amount as it is written out must not be a card number (zero padding can hide one).
    let e = exponent as usize;
    let digits = format!("{:0>width$}", if significant.is_empty() { "0" } else { significant }, width = e + 1);
    let (units, decimals) = digits.split_at(digits.len() - e);
    let written = if e == 0 { units.to_owned() } else { format!("{units}.{decimals}") };
    if contains_full_card_number(&written) {
        return Expected::FullCardNumber;
    }
    Expected::Minor(significant.parse().unwrap_or(0))
}

fn actual(result: &Result<Money, MoneyError>) -> Expected {
    match result {
        Ok(m) => Expected::Minor(m.minor),
        Err(MoneyError::Invalid { .. }) => Expected::Invalid,
        Err(MoneyError::Negative) => Expected::Negative,
        Err(MoneyError::TooManyDecimals { .. }) => Expected::TooManyDecimals,
        Err(MoneyError::TooLarge) => Expected::TooLarge,
        Err(MoneyError::FullCardNumber) => Expected::FullCardNumber,
    }
}

fn currency(selector: u8, rest: &[u8]) -> Option<Currency> {
    match selector % 6 {
        0 => Some(Currency::CNY),
        1 => Some(Currency::JPY),
        2 => Currency::from_code("KWD"),
        3 => Currency::from_code("CLF"),
        4 => Some(Currency::USD),
        _ => {
            let code = std::str::from_utf8(rest.get(..3)?).ok()?;
            let parsed = Currency::from_code(code);
            if let Some(c) = parsed {
                assert_eq!(c.code(), code);
                assert!(c.exponent() <= 4, "{code} has exponent {}", c.exponent());
            }
            parsed
        }
    }
}

fn check_text(text: &str, currency: Currency) {
    let result = Money::parse(text, currency);
    assert_eq!(actual(&result), expected(text, currency.exponent()), "{text:?} in {currency}");
    match result {
        Ok(money) => {
            assert_eq!(money.currency, currency);
            let shown = money.major_string();
            assert_eq!(Money::parse(&shown, currency), Ok(money), "{shown:?} does not read back");
            // The raw text passed the card-number screen wherever amounts are read; the
            // amount shown and stored must not turn into one (zero padding could hide it).
            if !contains_full_card_number(text) {
                assert!(!contains_full_card_number(&shown), "{text:?} is shown as {shown:?}");
            }
        }
        Err(err) => {
            assert!(!err.code().is_empty());
            let _ = err.args();
        }
    }
}

fn check_minor(minor: i64, currency: Currency) {
    let money = Money::new(minor, currency);
    let shown = money.major_string();
    let parsed = Money::parse(&shown, currency);
    if minor < 0 {
        assert_eq!(parsed, Err(MoneyError::Negative), "{shown:?}");
    } else if contains_full_card_number(&shown) {
        assert_eq!(parsed, Err(MoneyError::FullCardNumber), "{shown:?}");
    } else {
        assert_eq!(parsed, Ok(money), "{shown:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Some(currency) = currency(selector, rest) else { return };
    if selector & 0x80 != 0 {
        if let Some(bytes) = rest.get(..8) {
            check_minor(i64::from_le_bytes(bytes.try_into().expect("eight bytes")), currency);
        }
        return;
    }
    if let Ok(text) = std::str::from_utf8(rest) {
        check_text(text, currency);
    }
});
