//! A naive restatement of the full-card-number rule, to check the fast scanner against.
//!
//! `redress::domain::card::contains_full_card_number` is a single-pass scanner with a ring
//! buffer, bit masks and an ASCII shortcut: easy to get subtly wrong. This version follows the
//! rule's wording directly (split into digit groups, chain groups joined by one separator, try
//! every run of whole groups) and is quadratic, which is fine for fuzz-sized inputs.

fn digit_value(ch: char) -> Option<u8> {
    match ch {
        '0'..='9' => Some(ch as u8 - b'0'),
        '０'..='９' => Some((ch as u32 - '０' as u32) as u8),
        _ => None,
    }
}

fn is_separator(ch: char) -> bool {
    // §12: spaces (also no-break and ideographic), hyphens and the dashes word processors put in
    // their place, dots, and their full-width forms.
    matches!(ch, ' ' | '-' | '.' | '\u{a0}' | '\u{3000}' | '\u{2010}'..='\u{2015}' | '－' | '．')
}

/// Luhn check over digits written most significant first.
pub fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
        })
        .sum();
    sum % 10 == 0
}

/// The check digit that makes `body` followed by it pass Luhn.
pub fn luhn_check_digit(body: &[u8]) -> u8 {
    (0..10).find(|&d| luhn(&[body, &[d]].concat())).expect("one of ten digits always completes a Luhn sum")
}

/// True when `text` holds 13–19 digits, as whole groups of one chain, that pass Luhn. Groups are
/// maximal runs of digits; two groups are in one chain when exactly one separator lies between.
pub fn naive_contains_full_card_number(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    // (digits, index of the first char after the group)
    let mut groups: Vec<(Vec<u8>, usize, usize)> = Vec::new();
    let mut at = 0;
    while at < chars.len() {
        if digit_value(chars[at]).is_some() {
            let start = at;
            let mut digits = Vec::new();
            while let Some(d) = chars.get(at).copied().and_then(digit_value) {
                digits.push(d);
                at += 1;
            }
            groups.push((digits, start, at));
        } else {
            at += 1;
        }
    }
    let joined = |a: &(Vec<u8>, usize, usize), b: &(Vec<u8>, usize, usize)| b.1 == a.2 + 1 && is_separator(chars[a.2]);
    for first in 0..groups.len() {
        let mut digits = Vec::new();
        for last in first..groups.len() {
            if last > first && !joined(&groups[last - 1], &groups[last]) {
                break;
            }
            digits.extend_from_slice(&groups[last].0);
            if digits.len() > 19 {
                break;
            }
            if digits.len() >= 13 && luhn(&digits) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_documented_examples() {
        assert!(naive_contains_full_card_number("2026-11-12 4111 1111 1111 1111"));
        assert!(naive_contains_full_card_number("４１１１　１１１１　１１１１　１１１１"));
        assert!(naive_contains_full_card_number("4111.1111.1111.1111"));
        assert!(!naive_contains_full_card_number("41111111111111110000"));
        assert!(!naive_contains_full_card_number("4111  1111  1111  1111"));
        assert_eq!(luhn_check_digit(&[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 1);
    }
}
