//! Fuzzes card handling: `MaskedCard::parse` and the full-card-number screen.
//!
//! Three input shapes: any text (the fast scanner must agree with the naive oracle, and the
//! masked-card parser with the rule's wording); a Luhn-valid number typed some way and set in
//! text (it must always be found); a masked card built from parts (it must parse, and parse
//! again from its own text).
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use redress::domain::card::{MaskedCard, contains_full_card_number};
use redress_fuzz::card_oracle::{luhn_check_digit, naive_contains_full_card_number};

#[derive(Arbitrary, Debug)]
enum Input {
    Text(String),
    Embedded {
        prefix: String,
        left: Boundary,
        digits: Vec<u8>,
        typing: Typing,
        groups: Vec<u8>,
        right: Boundary,
        suffix: String,
    },
    Masked {
        first6: [u8; 6],
        stars: u8,
        last4: [u8; 4],
    },
}

/// How people type a card number (§4: groups split by single spaces or hyphens; Chinese input
/// methods give full-width digits and separators).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Typing {
    Plain,
    Spaces,
    Hyphens,
    FullWidth,
    FullWidthIdeographicSpaces,
    FullWidthHyphens,
}

/// What stands between the number and the text around it: anything but a digit, which would
/// make the number part of a longer run (and so by the rule not a card number).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Boundary {
    Space,
    Hyphen,
    Dot,
    Comma,
    Colon,
    Letter,
    Han,
    IdeographicSpace,
    Star,
}

impl Boundary {
    fn as_char(self) -> char {
        match self {
            Boundary::Space => ' ',
            Boundary::Hyphen => '-',
            Boundary::Dot => '.',
            Boundary::Comma => ',',
            Boundary::Colon => ':',
            Boundary::Letter => 'x',
            Boundary::Han => '卡',
            Boundary::IdeographicSpace => '\u{3000}',
            Boundary::Star => '*',
        }
    }
}

fn typed(digits: &[u8], typing: Typing, groups: &[u8]) -> String {
    let (full_width, separator) = match typing {
        Typing::Plain => (false, None),
        Typing::Spaces => (false, Some(' ')),
        Typing::Hyphens => (false, Some('-')),
        Typing::FullWidth => (true, None),
        Typing::FullWidthIdeographicSpaces => (true, Some('\u{3000}')),
        Typing::FullWidthHyphens => (true, Some('－')),
    };
    let digit = |d: u8| {
        if full_width {
            char::from_u32('０' as u32 + u32::from(d)).expect("full-width digit")
        } else {
            char::from(b'0' + d)
        }
    };
    let mut out = String::new();
    let mut sizes = groups.iter().map(|g| usize::from(g % 6) + 1).chain(std::iter::repeat(4));
    let mut left_in_group = sizes.next().expect("endless");
    for (i, &d) in digits.iter().enumerate() {
        if i > 0 && left_in_group == 0 {
            if let Some(sep) = separator {
                out.push(sep);
            }
            left_in_group = sizes.next().expect("endless");
        }
        out.push(digit(d));
        left_in_group -= 1;
    }
    out
}

fn check_text(text: &str) {
    let fast = contains_full_card_number(text);
    assert_eq!(fast, naive_contains_full_card_number(text), "scanner and oracle disagree on {text:?}");
    let shaped = (13..=19).contains(&text.len())
        && text.is_ascii()
        && text.bytes().take(6).all(|b| b.is_ascii_digit())
        && text.bytes().skip(6).take(text.len().saturating_sub(10)).all(|b| b == b'*')
        && text.bytes().skip(text.len().saturating_sub(4)).all(|b| b.is_ascii_digit());
    match MaskedCard::parse(text) {
        Ok(card) => {
            assert!(shaped, "{text:?} accepted as a masked card");
            check_masked(&card, text);
        }
        Err(err) => {
            assert!(!shaped, "{text:?} refused as a masked card");
            assert_eq!(err.code(), "card_invalid");
        }
    }
}

fn check_masked(card: &MaskedCard, text: &str) {
    assert_eq!(card.as_str(), text);
    assert_eq!(MaskedCard::parse(card.as_str()).as_ref(), Ok(card));
    assert_eq!(card.first6(), &text[..6]);
    assert_eq!(card.last4(), &text[text.len() - 4..]);
    assert_eq!(card.to_string(), text);
    // The stars break every run of digits: a masked card is never a full number.
    assert!(!contains_full_card_number(text));
}

fuzz_target!(|input: Input| match input {
    Input::Text(text) => check_text(&text),
    Input::Embedded { prefix, left, digits, typing, groups, right, suffix } => {
        // 13–19 digits: the fuzzer's bytes for all but the last, which makes the Luhn sum.
        let len = 12 + digits.first().map_or(0, |d| usize::from(d % 7));
        let mut body: Vec<u8> = digits.iter().skip(1).map(|d| d % 10).chain(std::iter::repeat(0)).take(len).collect();
        body.push(luhn_check_digit(&body));
        let number = typed(&body, typing, &groups);
        let text = format!("{prefix}{}{number}{}{suffix}", left.as_char(), right.as_char());
        assert!(contains_full_card_number(&text), "{number:?} not found in {text:?}");
        check_text(&text);
    }
    Input::Masked { first6, stars, last4 } => {
        let stars = 3 + usize::from(stars % 7);
        let digits = |ds: &[u8]| ds.iter().map(|d| char::from(b'0' + d % 10)).collect::<String>();
        let text = format!("{}{}{}", digits(&first6), "*".repeat(stars), digits(&last4));
        let card = MaskedCard::parse(&text).unwrap_or_else(|_| panic!("{text:?} refused"));
        check_masked(&card, &text);
    }
});
