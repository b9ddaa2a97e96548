//! The profiles that ship in the binary (`redress profiles` lists them).

use super::{DEFAULT, Profile, ProfileError};
use crate::import::Kind;

/// Name and TOML text of each built-in profile after `redress-csv` (which needs none: it is the
/// readers of `parse.rs`).
const TEXTS: [(&str, &str); 3] = [
    ("cups-acom-settlement", include_str!("builtin/cups-acom-settlement.toml")),
    ("acquirer-statement-tsv", include_str!("builtin/acquirer-statement-tsv.toml")),
    ("terminal-log-gbk", include_str!("builtin/terminal-log-gbk.toml")),
];

/// A built-in profile as `redress profiles` and the upload page list it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub name: &'static str,
    /// `None` for `redress-csv`, which reads both kinds.
    pub kind: Option<Kind>,
}

pub fn list() -> Vec<Listed> {
    let mut all = vec![Listed { name: DEFAULT, kind: None }];
    all.extend(TEXTS.iter().map(|(name, text)| Listed { name, kind: Some(parse(text).kind) }));
    all
}

/// The TOML of a built-in profile (not `redress-csv`).
pub fn text(name: &str) -> Option<&'static str> {
    TEXTS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// A built-in profile, checked (not `redress-csv`).
pub fn get(name: &str) -> Option<Profile> {
    text(name).map(parse)
}

fn parse(text: &str) -> Profile {
    Profile::parse(text).unwrap_or_else(|e: ProfileError| panic!("built-in profile is valid: {e}"))
}

/// The key of a built-in profile's one-line description in the catalogs.
pub fn description_key(name: &str) -> String {
    format!("profiles.describe.{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_profile_is_valid_and_named_as_listed() {
        for (name, text) in TEXTS {
            let p = Profile::parse(text).unwrap();
            assert_eq!(p.name, name);
        }
        let names: Vec<_> = list().iter().map(|l| l.name).collect();
        assert_eq!(names, ["redress-csv", "cups-acom-settlement", "acquirer-statement-tsv", "terminal-log-gbk"]);
        assert_eq!(get("terminal-log-gbk").unwrap().kind, Kind::Journal);
        assert!(get("redress-csv").is_none());
    }

    #[test]
    fn every_built_in_profile_is_described_in_both_languages() {
        for listed in list() {
            for lang in crate::i18n::Lang::ALL {
                let key = description_key(listed.name);
                assert_ne!(lang.t(&key), key, "{key} in {lang:?}");
            }
        }
    }
}
