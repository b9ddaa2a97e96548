//! Card numbers: the masked form we store (detecting full numbers is `screen`'s job).

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

/// Kept at its old path for callers outside this crate (the fuzz targets); the rule itself
/// lives in `screen`, with the rest of what every incoming text is checked for.
pub use crate::domain::screen::contains_full_card_number;

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
}
