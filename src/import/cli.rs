//! `redress import`: a file from disk, with a progress bar when a person is watching.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::profile::{Profile, builtin};
use super::{ImportReport, ImportRequest, Kind, import_profiled};
use crate::config::Config;
use crate::db::Db;
use crate::i18n::Lang;

pub async fn import_file(
    db: &Db,
    kind: Kind,
    profile: Option<Arc<Profile>>,
    path: &Path,
) -> anyhow::Result<ImportReport> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let request = ImportRequest {
        kind,
        file_name: path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned()),
        via: "cli",
        user_id: None,
        token_id: None,
        merchant_scope: None,
    };
    let read = Arc::new(AtomicU64::new(0));
    // indicatif draws only when stderr is a terminal, so scripts and CI logs stay clean.
    let bar = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {wide_bar} {eta}").expect("valid template"),
    );
    let ticker = {
        let (bar, read) = (bar.clone(), read.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(read.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let report =
        import_profiled(db, &request, profile, std::io::BufReader::with_capacity(1 << 16, file), Some(read)).await;
    ticker.abort();
    bar.finish_and_clear();
    Ok(report?)
}

/// The operator's language from the usual locale variables, else the deployment default.
pub fn terminal_lang(default: Lang) -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty() && v != "C" && v != "POSIX")
        .and_then(|v| Lang::parse(v.split('.').next().unwrap_or("")))
        .unwrap_or(default)
}

/// `redress profiles`: name, kind and one line of description of each profile, built-in first.
/// Uploaded profiles are listed too when the database can be reached.
pub async fn list_profiles(config: &Config, lang: Lang) -> anyhow::Result<String> {
    let kind_words = |kind: Option<Kind>| match kind {
        Some(kind) => kind.as_str().to_owned(),
        None => "journal, settlement".to_owned(),
    };
    let mut out = String::new();
    for p in builtin::list() {
        out.push_str(&format!(
            "{:<26} {:<20} {}\n",
            p.name,
            kind_words(p.kind),
            lang.t(&builtin::description_key(p.name))
        ));
    }
    if let Ok(db) = Db::connect(&config.database_url).await
        && db.migrate().await.is_ok()
    {
        for p in crate::db::profiles::list(&db).await? {
            out.push_str(&format!("{:<26} {:<20} {}\n", p.name, p.kind, p.comment));
        }
    }
    Ok(out)
}
