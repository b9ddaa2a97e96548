//! Which profile a request names: `redress-csv`, a built-in, one an admin uploaded, or (on the
//! command line) a file.

use std::sync::Arc;

use jiff::tz::TimeZone;

use super::{DEFAULT, Profile, ProfileError, builtin};
use crate::db::{Db, DbError, profiles};

/// Why a named profile cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChoiceError {
    #[error("no import profile is called {0:?}")]
    Unknown(String),
    #[error("the import profile is not valid: {0}")]
    Invalid(ProfileError),
}

impl ChoiceError {
    /// In words, in `lang`.
    pub fn message(&self, lang: crate::i18n::Lang) -> String {
        match self {
            ChoiceError::Unknown(name) => {
                lang.t_args("profile.error.unknown_profile", &[("name", name.chars().take(60).collect())])
            }
            ChoiceError::Invalid(e) => e.message(lang),
        }
    }
}

/// The profile called `name`; `None` for `redress-csv` (and an empty name).
pub async fn by_name(
    db: &Db,
    name: &str,
    zone: &TimeZone,
) -> Result<Result<Option<Arc<Profile>>, ChoiceError>, DbError> {
    let name = name.trim();
    if name.is_empty() || name == DEFAULT {
        return Ok(Ok(None));
    }
    if let Some(profile) = builtin::get(name) {
        return Ok(Ok(Some(Arc::new(profile.with_default_zone(zone)))));
    }
    let Some(stored) = profiles::by_name(db, name).await? else {
        return Ok(Err(ChoiceError::Unknown(name.to_owned())));
    };
    // Checked when it was uploaded; checked again in case the rules have grown stricter since.
    Ok(Profile::parse(&stored.source).map(|p| Some(Arc::new(p.with_default_zone(zone)))).map_err(ChoiceError::Invalid))
}

/// A name, or the path of a profile file (the command line's `--profile NAME|PATH`).
pub async fn by_name_or_path(
    db: &Db,
    name_or_path: &str,
    zone: &TimeZone,
) -> anyhow::Result<Result<Option<Arc<Profile>>, ChoiceError>> {
    let path = std::path::Path::new(name_or_path);
    let is_file = name_or_path.ends_with(".toml") || name_or_path.contains(std::path::MAIN_SEPARATOR);
    if is_file || (path.is_file() && builtin::text(name_or_path).is_none()) {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the profile {}: {e}", path.display()))?;
        return Ok(Profile::parse(&text)
            .map(|p| Some(Arc::new(p.with_default_zone(zone))))
            .map_err(ChoiceError::Invalid));
    }
    Ok(by_name(db, name_or_path, zone).await?)
}
