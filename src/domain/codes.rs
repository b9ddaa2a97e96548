//! Enums whose variants are stable text codes: the spelling in CSV files, the database, the API,
//! the catalog keys and the audit trail.
//!
//! `code_enum!` declares such an enum from one list of `Variant = "text"` pairs, so the
//! spelling is written once and `as_str`, `parse`, `Display`, serde and `ALL` cannot disagree.

/// Declares a `Copy` enum whose every variant has one text code, written once.
///
/// ```ignore
/// code_enum! {
///     /// Doc comments and extra derives (`#[derive(PartialOrd, Ord)]`) pass through.
///     pub enum Direction {
///         /// So do a variant's doc comments.
///         Debit = "debit",
///         Credit = "credit",
///     }
/// }
/// ```
///
/// It derives `Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize` (serde uses the
/// text) and gives `ALL` (every variant in declaration order), `as_str`, `parse` (the exact text
/// only: other letter case or whitespace is `None`, codes are machine data) and `Display`
/// (`as_str`).
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        $vis enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [Self; <[&str]>::len(&[$($text),+])] = [$(Self::$variant),+];

            /// The exact spelling used in files, the database, the API and the catalog.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Parses the exact spelling of `as_str`; anything else (other letter case included)
            /// is `None`.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use code_enum;

#[cfg(test)]
mod tests {
    code_enum! {
        /// A sample with the shapes the real enums use.
        #[derive(PartialOrd, Ord)]
        pub enum Sample {
            /// A one-word code.
            First = "first",
            TwoWords = "two_words",
            /// A variant called like `Option::None` must still work.
            None = "none",
        }
    }

    #[test]
    fn all_is_in_declaration_order() {
        assert_eq!(Sample::ALL, [Sample::First, Sample::TwoWords, Sample::None]);
        assert!(Sample::First < Sample::TwoWords && Sample::TwoWords < Sample::None);
    }

    #[test]
    fn the_text_is_the_same_everywhere() {
        let texts: Vec<&str> = Sample::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(texts, ["first", "two_words", "none"]);
        for s in Sample::ALL {
            assert_eq!(Sample::parse(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
            assert_eq!(serde_json::from_value::<Sample>(s.as_str().into()).unwrap(), s);
        }
    }

    #[test]
    fn parse_takes_the_exact_text_only() {
        for text in ["", "First", "FIRST", " first", "first ", "two-words", "TwoWords", "nothing"] {
            assert_eq!(Sample::parse(text), None, "{text:?}");
        }
        assert!(serde_json::from_value::<Sample>("First".into()).is_err());
    }
}
