//! Card numbers: the masked form we store, and detection of full numbers we must never store.

use std::fmt;

/// A masked card number: first 6 digits, one or more '*', last 4 digits, 13–19 characters
/// (`622848******1234`). The only form of a card number Redress keeps.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MaskedCard(String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("card is not masked as first 6 digits, '*' padding, last 4 digits, 13-19 characters")]
    NotMasked,
}

impl CardError {
    pub fn code(&self) -> &'static str {
        match self {
            CardError::NotMasked => "card_invalid",
        }
    }

    pub fn args(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

impl MaskedCard {
    pub fn parse(text: &str) -> Result<MaskedCard, CardError> {
        let bytes = text.as_bytes();
        // Byte length equals character length here: anything non-ASCII fails below.
        if !(13..=19).contains(&bytes.len()) {
            return Err(CardError::NotMasked);
        }
        let (first6, rest) = bytes.split_at(6);
        let (middle, last4) = rest.split_at(rest.len() - 4);
        let shaped = first6.iter().all(u8::is_ascii_digit)
            && middle.iter().all(|&b| b == b'*')
            && last4.iter().all(u8::is_ascii_digit);
        if shaped { Ok(MaskedCard(text.to_owned())) } else { Err(CardError::NotMasked) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The issuer prefix (BIN), e.g. `622848`.
    pub fn first6(&self) -> &str {
        &self.0[..6]
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

impl fmt::Display for MaskedCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for MaskedCard {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

const MIN_PAN: u32 = 13;
const MAX_PAN: u32 = 19;

/// True when `text` contains a full card number: a run of 13–19 digits (digits may be grouped
/// by single spaces or hyphens, as people type them) that passes the Luhn check.
///
/// Digits are ASCII or full-width (`０`–`９`, what a Chinese input method types). A
/// chain of groups such as `2026-11-12 6228 4800 1234 5678` is searched for every
/// contiguous run of whole groups of 13–19 digits, so text around a card number
/// cannot hide it; a single unbroken run of 20 or more digits is some other
/// identifier and is not flagged. Linear in the length of `text`, no allocation.
pub fn contains_full_card_number(text: &str) -> bool {
    if text.len() < MIN_PAN as usize {
        return false;
    }
    if text.is_ascii() {
        let bytes = text.as_bytes();
        // Counting digits vectorises well and settles masked cards, amounts and times.
        if !long_chain(bytes) {
            return false;
        }
        return Scan::default().run(bytes.iter().map(|&b| char::from(b)));
    }
    Scan::default().run(text.chars())
}

/// A quick over-approximation for ASCII text: could a chain of digit groups joined
/// by single separators hold 13 digits? Counting digits first vectorises well and
/// settles masked cards and amounts; the chain walk settles times and dates.
fn long_chain(bytes: &[u8]) -> bool {
    if bytes.iter().filter(|b| b.is_ascii_digit()).count() < MIN_PAN as usize {
        return false;
    }
    let mut chain = 0u32;
    let mut longest = 0u32;
    let mut after_digit = false;
    for &b in bytes {
        let digit = b.is_ascii_digit();
        let joins = after_digit && (b == b' ' || b == b'-');
        chain = if digit {
            chain + 1
        } else if joins {
            chain
        } else {
            0
        };
        longest = longest.max(chain);
        after_digit = digit;
    }
    longest >= MIN_PAN
}

fn digit_value(ch: char) -> Option<u8> {
    match ch {
        '0'..='9' => Some(ch as u8 - b'0'),
        '０'..='９' => Some((ch as u32 - '０' as u32) as u8),
        _ => None,
    }
}

fn is_group_separator(ch: char) -> bool {
    matches!(ch, ' ' | '-' | '\u{3000}' | '－')
}

/// Scanner state. A candidate is a run of whole groups ending at the group just
/// closed, so it is a suffix of the current chain of at most 19 digits: keeping
/// the last digits in a small ring and the suffix lengths at which a group starts
/// is enough.
#[derive(Default)]
struct Scan {
    /// The most recent digits; only the last 19 are ever read.
    ring: [u8; 32],
    pushed: usize,
    /// Bit `n` set: the last `n` digits of the chain start at a group boundary.
    boundaries: u32,
    in_group: bool,
    group_len: u32,
    /// The previous character was a single separator directly after a digit.
    after_separator: bool,
}

impl Scan {
    fn run(mut self, chars: impl Iterator<Item = char>) -> bool {
        for ch in chars {
            if let Some(digit) = digit_value(ch) {
                if !self.in_group {
                    if !self.after_separator {
                        self.boundaries = 0;
                    }
                    self.in_group = true;
                    self.group_len = 0;
                }
                self.ring[self.pushed % 32] = digit;
                self.pushed += 1;
                self.group_len = self.group_len.saturating_add(1);
            } else if self.end_group(is_group_separator(ch)) {
                return true;
            }
        }
        self.end_group(false)
    }

    /// Called on every non-digit (and at the end): closes the current group, checks
    /// the candidates ending at it, and decides whether the chain can go on.
    fn end_group(&mut self, separator: bool) -> bool {
        if !self.in_group {
            // Two separators in a row, or a separator not after a digit: the chain ends.
            self.after_separator = false;
            self.boundaries = 0;
            return false;
        }
        self.in_group = false;
        self.after_separator = separator;
        if self.group_len > MAX_PAN {
            // No candidate can include a group of 20+ digits, nor reach across it.
            self.boundaries = 0;
            return false;
        }
        let within_pan = (1u32 << (MAX_PAN + 1)) - 1;
        self.boundaries = ((self.boundaries << self.group_len) | (1 << self.group_len)) & within_pan;
        let found = self.boundaries >> MIN_PAN != 0 && self.luhn_at_boundary();
        if !separator {
            self.boundaries = 0;
        }
        found
    }

    /// Luhn over each suffix of 13–19 digits that starts at a group boundary.
    fn luhn_at_boundary(&self) -> bool {
        let mut sum = 0;
        for i in 0..MAX_PAN as usize {
            let mut d = u32::from(self.ring[(self.pushed - 1 - i) % 32]);
            if i % 2 == 1 {
                d *= 2;
                if d > 9 {
                    d -= 9;
                }
            }
            sum += d;
            let len = i as u32 + 1;
            if len >= MIN_PAN && self.boundaries & (1 << len) != 0 && sum % 10 == 0 {
                return true;
            }
            if self.boundaries >> (len + 1) == 0 {
                return false;
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_masked_cards() {
        let card = MaskedCard::parse("622848******1234").unwrap();
        assert_eq!(card.as_str(), "622848******1234");
        assert_eq!(card.first6(), "622848");
        assert_eq!(card.last4(), "1234");
        assert_eq!(card.to_string(), "622848******1234");
        assert!(MaskedCard::parse("622848***1234").is_ok()); // 13
        assert!(MaskedCard::parse("622848*********1234").is_ok()); // 19
    }

    #[test]
    fn refuses_anything_not_masked_exactly() {
        for text in [
            "",
            "622848**1234",         // 12 chars
            "622848**********1234", // 20 chars
            "6228480000001234",     // no mask
            "62284*******1234",     // only 5 leading digits
            "622848*******234",     // only 3 trailing digits
            "622848**1*****1234",   // digit in the middle
            "622848******123X",
            "622848-*****-1234",
            " 622848******1234",
            "622848******1234 ",
            "６２２８４８******1234",
            "622848＊＊＊＊＊＊1234",
        ] {
            assert_eq!(MaskedCard::parse(text), Err(CardError::NotMasked), "{text:?}");
        }
        assert_eq!(CardError::NotMasked.code(), "card_invalid");
    }

    #[test]
    fn test_pans_used_below_really_pass_luhn() {
        // Checked independently: 4111111111111111 (Visa test), 6212345678901265
        // (UnionPay test), 378282246310005 (Amex, 15), 4222222222222 (13),
        // 6228480402564890018 (19).
        for pan in ["4111111111111111", "6212345678901265", "378282246310005", "4222222222222", "6228480402564890018"] {
            assert!(contains_full_card_number(pan), "{pan}");
        }
    }

    #[test]
    fn luhn_failures_are_not_card_numbers() {
        assert!(!contains_full_card_number("4111111111111112"));
        assert!(!contains_full_card_number("6212345678901266"));
    }

    #[test]
    fn finds_card_numbers_inside_text() {
        assert!(contains_full_card_number("card 4111111111111111 please"));
        assert!(contains_full_card_number("x4111111111111111y"));
        assert!(contains_full_card_number("卡号6212345678901265谢谢"));
        assert!(contains_full_card_number("a,b,4111111111111111"));
    }

    #[test]
    fn finds_grouped_card_numbers() {
        assert!(contains_full_card_number("4111 1111 1111 1111"));
        assert!(contains_full_card_number("4111-1111-1111-1111"));
        assert!(contains_full_card_number("6212 3456 7890 1265"));
        assert!(contains_full_card_number("3782 822463 10005"));
        assert!(contains_full_card_number("my card is 6228 4804 0256 4890 018 ok"));
        // Surrounding numbers joined by the same separators cannot hide it.
        assert!(contains_full_card_number("2026-11-12 4111 1111 1111 1111"));
        assert!(contains_full_card_number("4111 1111 1111 1111 2026"));
        assert!(contains_full_card_number("1 2 3 4 4111 1111 1111 1111 5 6 7 8 9 1 2 3 4 5 6 7 8 9"));
    }

    #[test]
    fn finds_full_width_card_numbers() {
        assert!(contains_full_card_number("４１１１１１１１１１１１１１１１"));
        assert!(contains_full_card_number("４１１１　１１１１　１１１１　１１１１"));
    }

    #[test]
    fn does_not_join_groups_across_double_or_other_separators() {
        assert!(!contains_full_card_number("4111  1111  1111  1111"));
        assert!(!contains_full_card_number("4111--1111--1111--1111"));
        assert!(!contains_full_card_number("4111/1111/1111/1111"));
        assert!(!contains_full_card_number("4111.1111.1111.1111"));
        assert!(!contains_full_card_number("4111 -1111 -1111 -1111"));
    }

    #[test]
    fn ignores_numbers_of_other_lengths() {
        // RRNs are 12 digits; many of them pass Luhn by chance.
        assert!(!contains_full_card_number("000004275973"));
        assert!(!contains_full_card_number("rrn 000004275973 trace 002242"));
        assert!(!contains_full_card_number("411111111111")); // 12 digits
        // A 20-digit run is some other reference, even if a 16-digit slice passes.
        assert!(!contains_full_card_number("41111111111111110000"));
        assert!(!contains_full_card_number("00004111111111111111"));
        assert!(!contains_full_card_number("12345678901234567890123456789"));
    }

    #[test]
    fn ignores_record_fields_of_the_sample_files() {
        for text in [
            "621700******9605",
            "2026-11-08T16:28:11+08:00",
            "2026-11-05T09:31:20Z",
            "CLR000000172",
            "4851.71",
            "27161971",
            "2026-11-06",
        ] {
            assert!(!contains_full_card_number(text), "{text}");
        }
    }

    #[test]
    fn quick_check_never_hides_a_card_number() {
        // Every position and every separator shape through the bit-mask path.
        for pad in 0..45 {
            for pan in ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "4222222222222"] {
                let text = format!("{}{pan}", "x".repeat(pad));
                assert!(contains_full_card_number(&text), "{text}");
                let text = format!("{pan}{}", "-".repeat(pad));
                assert!(contains_full_card_number(&text), "{text}");
            }
        }
    }

    #[test]
    fn long_inputs_stay_fast_and_correct() {
        // Runs of 13–19 ones never pass Luhn (digit sums 19, 21, 22, 24, 25, 27, 28).
        let ones = "1 ".repeat(200_000);
        assert!(!contains_full_card_number(ones.trim_end()));
        let mut text = "12-".repeat(100_000);
        text.push_str("x 4111 1111 1111 1111");
        assert!(contains_full_card_number(&text));
        assert!(!contains_full_card_number(&"7".repeat(1_000_000)));
    }
}
