//! The identifiers records are joined by (§2, §3.2): merchant, terminal and retrieval reference.
//!
//! Each is checked once, where it enters (a file, a form, the database), and then travels as its
//! own type, so a terminal id cannot be passed where a merchant id is meant and nothing past the
//! boundary checks the shape again. They read as `&str` (`Deref`) for queries and comparisons.

use std::fmt;
use std::ops::Deref;

use crate::domain::records::{is_merchant_id, is_rrn, is_terminal_id};

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $valid:path) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The id if `text` has its shape, exactly as written.
            pub fn parse(text: &str) -> Option<$name> {
                $valid(text).then(|| $name(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

id_type!(
    /// 商户号: up to 15 ASCII letters or digits.
    MerchantId,
    is_merchant_id
);
id_type!(
    /// 终端号: exactly 8 ASCII letters or digits.
    TerminalId,
    is_terminal_id
);
id_type!(
    /// 参考号: exactly 12 ASCII letters or digits, unique per host and clearing day only.
    Rrn,
    is_rrn
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_text_and_refuse_other_shapes() {
        assert_eq!(MerchantId::parse("828844912590296").unwrap().as_str(), "828844912590296");
        assert!(MerchantId::parse("M851424AB").is_some());
        assert!(MerchantId::parse("").is_none() && MerchantId::parse("8288449125902961").is_none());
        assert!(TerminalId::parse("88360045").is_some() && TerminalId::parse("8836004").is_none());
        assert!(Rrn::parse("000004267530").is_some() && Rrn::parse("00000426753").is_none());
        assert!(Rrn::parse("00000426753 ").is_none(), "nothing is trimmed: the caller decides");
        let t = TerminalId::parse("88360045").unwrap();
        assert!(t == "88360045" && &*t == "88360045" && t.to_string() == "88360045");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"88360045\"");
    }
}
