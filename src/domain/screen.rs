//! The one screen every text passes on its way in (§4, §12): full card numbers and control
//! characters are refused, in every field, file name, email address, path and file column.
//!
//! Pure functions, no I/O. The web layer runs every incoming text through [`screen`]
//! (`web::screen`); domain validators and the importer call the same functions, so there is one
//! rule for what a card number is and one for which characters a text may hold.

use crate::domain::records::is_merchant_id;

/// What kind of text a field holds, which decides what the screen lets through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One line: a name, an id, an amount, an email address, a file name. No control characters.
    Line,
    /// Free text people write in a text area (a description, a reason): newlines and tabs are
    /// part of writing, other control characters are not.
    Text,
    /// A merchant id, or a list of them separated by commas, spaces or new lines. Some real
    /// 15-digit MIDs pass the Luhn check by chance, so a well-formed MID is not taken for a card
    /// number here — and only here.
    MerchantIds,
}

/// Why a text was refused. The text itself is never part of a refusal: it must not be shown,
/// stored or logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    CardNumber,
    ControlCharacter,
}

impl Refusal {
    pub const ALL: [Refusal; 2] = [Refusal::CardNumber, Refusal::ControlCharacter];

    /// The stable code, in API errors and logs.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::CardNumber => "full_card_number",
            Refusal::ControlCharacter => "control_character",
        }
    }

    /// The catalog key of the message people read.
    pub fn message_key(self) -> &'static str {
        match self {
            Refusal::CardNumber => "screen.card_number",
            Refusal::ControlCharacter => "screen.control_character",
        }
    }
}

/// Screens one value. A card number is checked first: it is the refusal that matters most to
/// the person who typed it.
pub fn screen(text: &str, shape: Shape) -> Result<(), Refusal> {
    if holds_card_number(text, shape) {
        return Err(Refusal::CardNumber);
    }
    if holds_control_character(text, shape) {
        return Err(Refusal::ControlCharacter);
    }
    Ok(())
}

/// A full card number in a field of this shape: anywhere in the text, except a well-formed
/// merchant id standing alone in a [`Shape::MerchantIds`] field.
pub fn holds_card_number(text: &str, shape: Shape) -> bool {
    if !contains_full_card_number(text) {
        return false;
    }
    if shape != Shape::MerchantIds {
        return true;
    }
    // Each id that passes on its own is set aside; what remains is screened as a whole, so
    // digit groups spread over several "ids" (`4111 1111 1111 1111`) are still one card number.
    let mut rest = String::with_capacity(text.len());
    let mut token = String::new();
    let flush = |token: &mut String, rest: &mut String| {
        let exempt = is_merchant_id(token) && contains_full_card_number(token);
        rest.push_str(if exempt { "x" } else { token });
        token.clear();
    };
    for ch in text.chars() {
        if is_list_separator(ch) {
            flush(&mut token, &mut rest);
            rest.push(ch);
        } else {
            token.push(ch);
        }
    }
    flush(&mut token, &mut rest);
    contains_full_card_number(&rest)
}

/// What separates merchant ids typed into one field (as the admin pages split them).
fn is_list_separator(ch: char) -> bool {
    ch == ',' || ch == '，' || ch.is_whitespace()
}

/// A control character (NUL, ESC, DEL, C1…) the shape does not allow. Free text may hold line
/// breaks (browsers send them as CR LF) and tabs.
pub fn holds_control_character(text: &str, shape: Shape) -> bool {
    text.chars().any(|c| c.is_control() && !(shape == Shape::Text && matches!(c, '\n' | '\r' | '\t')))
}

const MIN_PAN: u32 = 13;
const MAX_PAN: u32 = 19;

/// True when `text` contains a full card number: a run of 13–19 digits that passes the Luhn
/// check. Digits may be grouped by single separators, as people type and paste them: spaces,
/// hyphens and dashes, dots, and their full-width forms.
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
        let joins = after_digit && is_group_separator(char::from(b));
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

/// One of these between two digit groups keeps them in one chain: space (also no-break and
/// ideographic), hyphen and the dashes word processors substitute for it, dot, and the
/// full-width hyphen and full stop.
fn is_group_separator(ch: char) -> bool {
    matches!(ch, ' ' | '-' | '.' | '\u{a0}' | '\u{3000}' | '\u{2010}'..='\u{2015}' | '－' | '．')
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
        assert!(contains_full_card_number("4111111111111111@example.com"));
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
    fn finds_card_numbers_grouped_by_dots_and_other_dashes() {
        assert!(contains_full_card_number("4111.1111.1111.1111"));
        assert!(contains_full_card_number("4111.1111.1111.1111@example.com"));
        assert!(contains_full_card_number("scan-4111.1111.1111.1111.png"));
        assert!(contains_full_card_number("4111\u{a0}1111\u{a0}1111\u{a0}1111"));
        assert!(contains_full_card_number("4111–1111–1111–1111")); // en dash
        assert!(contains_full_card_number("4111‑1111‑1111‑1111")); // non-breaking hyphen
        // Mixed separators in one chain.
        assert!(contains_full_card_number("4111 1111-1111.1111"));
    }

    #[test]
    fn finds_full_width_card_numbers() {
        assert!(contains_full_card_number("４１１１１１１１１１１１１１１１"));
        assert!(contains_full_card_number("４１１１　１１１１　１１１１　１１１１"));
        assert!(contains_full_card_number("４１１１－１１１１－１１１１－１１１１"));
        assert!(contains_full_card_number("４１１１．１１１１．１１１１．１１１１"));
        assert!(contains_full_card_number("4111１１１１1111１１１１"));
    }

    #[test]
    fn does_not_join_groups_across_double_or_other_separators() {
        assert!(!contains_full_card_number("4111  1111  1111  1111"));
        assert!(!contains_full_card_number("4111--1111--1111--1111"));
        assert!(!contains_full_card_number("4111..1111..1111..1111"));
        assert!(!contains_full_card_number("4111/1111/1111/1111"));
        assert!(!contains_full_card_number("4111,1111,1111,1111"));
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
            "1,234,567.89",
            "27161971",
            "2026-11-06",
            "192.168.100.200",
        ] {
            assert!(!contains_full_card_number(text), "{text}");
        }
    }

    #[test]
    fn quick_check_never_hides_a_card_number() {
        // Every position and every separator shape through the bit-mask path.
        for pad in 0..45 {
            for pan in [
                "4111111111111111",
                "4111 1111 1111 1111",
                "4111-1111-1111-1111",
                "4111.1111.1111.1111",
                "4222222222222",
            ] {
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

    #[test]
    fn a_merchant_id_that_passes_luhn_is_a_merchant_id_in_merchant_id_fields_only() {
        // A sample merchant's real MID: 15 digits that pass the Luhn check.
        let mid = "835883278854443";
        assert!(contains_full_card_number(mid));
        assert_eq!(screen(mid, Shape::MerchantIds), Ok(()));
        assert_eq!(screen(" 835883278854443 ", Shape::MerchantIds), Ok(()));
        assert_eq!(screen("835883278854443, 828844912590296 378282246310005", Shape::MerchantIds), Ok(()));
        assert_eq!(screen(mid, Shape::Line), Err(Refusal::CardNumber));
        assert_eq!(screen(mid, Shape::Text), Err(Refusal::CardNumber));
        // Spaced, dotted or longer, it is no MID: refused as the card number it may be.
        for text in [
            "6228480012345671",
            "8358 8327 8854 443",
            "4111 1111 1111 1111",
            "835883278854443, 4111 1111 1111 1111",
            "4111.1111.1111.1111",
            "８３５８８３２７８８５４４４３",
            "835883278854443-1",
        ] {
            assert_eq!(screen(text, Shape::MerchantIds), Err(Refusal::CardNumber), "{text:?}");
        }
    }

    #[test]
    fn control_characters_are_refused_but_free_text_keeps_its_line_breaks() {
        for text in ["a\0b", "\u{1b}[31m", "tab\there", "line\nbreak", "cr\r", "\u{7f}", "\u{85}"] {
            assert_eq!(screen(text, Shape::Line), Err(Refusal::ControlCharacter), "{text:?}");
            assert_eq!(screen(text, Shape::MerchantIds), Err(Refusal::ControlCharacter), "{text:?}");
        }
        assert_eq!(screen("first line\r\nsecond\tline\n", Shape::Text), Ok(()));
        for text in ["a\0b", "\u{1b}[31m", "\u{7}", "\u{7f}", "\u{9b}"] {
            assert_eq!(screen(text, Shape::Text), Err(Refusal::ControlCharacter), "{text:?}");
        }
        // Ordinary text of every script is fine.
        for text in ["", "Shop 7", "上海南京东路便利店", "Café – 24h", "a@b.example", "622848******1234"] {
            assert_eq!(screen(text, Shape::Line), Ok(()), "{text:?}");
        }
    }

    #[test]
    fn a_card_number_is_the_refusal_named_when_both_apply() {
        assert_eq!(screen("4111111111111111\0", Shape::Line), Err(Refusal::CardNumber));
    }

    #[test]
    fn every_refusal_has_a_code_and_words_in_both_languages() {
        for refusal in Refusal::ALL {
            assert!(!refusal.code().is_empty());
            assert!(crate::i18n::catalog().contains(refusal.message_key()), "{}", refusal.message_key());
            for lang in crate::i18n::Lang::ALL {
                assert!(!lang.t(refusal.message_key()).contains('⟨'), "{} in {}", refusal.message_key(), lang.code());
            }
        }
    }
}
