//! The translation layer: languages, negotiation, and the message catalog every page and email reads.

use std::collections::HashMap;
use std::sync::LazyLock;

pub mod format;

/// The languages Redress speaks. Simplified Chinese first: users are in China first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag, as used in `lang="…"`, cookies and settings.
    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The language's own name, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::ZhCn => "中文",
            Lang::En => "English",
        }
    }

    /// Accepts a language tag loosely (`zh`, `zh-Hans`, `zh-CN`, `en-GB`, any case).
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        match primary {
            // Traditional-script Chinese readers are still better served by zh-CN than English.
            "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let Some(lang) = pieces.next().and_then(Lang::parse) else { continue };
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            // Ties keep the earlier entry: the browser lists preferences in order.
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    fn index(self) -> usize {
        match self {
            Lang::ZhCn => 0,
            Lang::En => 1,
        }
    }

    /// The message for `key` in this language.
    pub fn t(self, key: &str) -> &'static str {
        CATALOG.get(key, self)
    }

    /// An instant as a reader of this language writes it, in the zone `tz` (DESIGN.md §8):
    /// `2026年11月5日 17:15` or `5 Nov 2026, 17:15`. Kept for callers; see `format::datetime`.
    pub fn datetime(self, at: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> String {
        format::datetime(at, tz, self)
    }

    /// A wait of `secs`, rounded up to what a person reads: `1 minute`, `25 minutes`, `3 hours`
    /// (`25 分钟`). Whole minutes up to an hour and a half, whole hours beyond.
    pub fn wait(self, secs: u64) -> String {
        let minutes = secs.div_ceil(60).max(1);
        if minutes == 1 {
            self.t("limits.wait.minute").to_owned()
        } else if minutes <= 90 {
            self.t_args("limits.wait.minutes", &[("n", minutes.to_string())])
        } else {
            self.t_args("limits.wait.hours", &[("n", secs.div_ceil(3600).to_string())])
        }
    }

    /// The message for `key` with `{name}` placeholders filled in.
    pub fn t_args(self, key: &str, args: &[(&str, String)]) -> String {
        fill(self.t(key), args)
    }
}

/// Replaces `{name}` placeholders; unknown placeholders are left visible so a gap shows in review.
pub fn fill(template: &str, args: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// Catalog files: each is a TOML table per key with one entry per language.
const SOURCES: &[(&str, &str)] = &[
    ("ui.toml", include_str!("ui.toml")),
    ("account.toml", include_str!("account.toml")),
    ("roles.toml", include_str!("roles.toml")),
    ("workflow.toml", include_str!("workflow.toml")),
    ("records.toml", include_str!("records.toml")),
    ("findings.toml", include_str!("findings.toml")),
    ("import.toml", include_str!("import.toml")),
    ("claims.toml", include_str!("claims.toml")),
    ("records_browser.toml", include_str!("records_browser.toml")),
    ("mail.toml", include_str!("mail.toml")),
    ("actions.toml", include_str!("actions.toml")),
    ("queue.toml", include_str!("queue.toml")),
    ("screen.toml", include_str!("screen.toml")),
    ("pack.toml", include_str!("pack.toml")),
    ("reading.toml", include_str!("reading.toml")),
    ("webhooks.toml", include_str!("webhooks.toml")),
    ("exceptions.toml", include_str!("exceptions.toml")),
    ("profiles.toml", include_str!("profiles.toml")),
];

#[derive(Debug)]
pub struct Catalog {
    messages: HashMap<String, [&'static str; 2]>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog::load(SOURCES).unwrap_or_else(|e| panic!("{e}")));

impl Catalog {
    fn load(sources: &[(&str, &'static str)]) -> Result<Catalog, String> {
        let mut messages = HashMap::new();
        for (file, text) in sources {
            let table: HashMap<String, HashMap<String, String>> =
                toml::from_str(text).map_err(|e| format!("i18n catalog {file}: {e}"))?;
            for (key, entry) in table {
                let mut texts = [""; 2];
                for lang in Lang::ALL {
                    let text = entry
                        .get(lang.code())
                        .ok_or_else(|| format!("i18n catalog {file}: {key} has no {} text", lang.code()))?;
                    // The catalog lives for the whole process; leaking it once makes every lookup a &'static str.
                    texts[lang.index()] = Box::leak(text.clone().into_boxed_str());
                }
                if let Some(extra) = entry.keys().find(|k| Lang::parse(k).is_none()) {
                    return Err(format!("i18n catalog {file}: {key} has an unknown language {extra}"));
                }
                if messages.insert(key.clone(), texts).is_some() {
                    return Err(format!("i18n catalog: {key} is defined twice"));
                }
            }
        }
        Ok(Catalog { messages })
    }

    fn get(&self, key: &str, lang: Lang) -> &'static str {
        match self.messages.get(key) {
            Some(texts) => texts[lang.index()],
            None => {
                tracing::warn!(key, "missing translation");
                // Leaking per miss would grow without bound; the key itself is a visible, stable fallback.
                "⟨missing text⟩"
            }
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.messages.contains_key(key)
    }
}

/// The process-wide catalog.
pub fn catalog() -> &'static Catalog {
    &CATALOG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_the_zone_and_the_language_of_the_reader() {
        let at: jiff::Timestamp = "2026-11-05T09:15:08Z".parse().unwrap();
        let shanghai = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
        assert_eq!(Lang::ZhCn.datetime(at, &shanghai), "2026年11月5日 17:15");
        assert_eq!(Lang::En.datetime(at, &shanghai), "5 Nov 2026, 17:15");
        assert_eq!(Lang::En.datetime(at, &jiff::tz::TimeZone::UTC), "5 Nov 2026, 09:15");
    }

    #[test]
    fn catalog_loads_with_both_languages() {
        let c = Catalog::load(SOURCES).unwrap();
        assert!(c.messages.len() > 10);
        for (key, texts) in &c.messages {
            for t in texts {
                assert!(!t.trim().is_empty(), "{key} has an empty text");
            }
        }
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists() {
        // Keys are written as t("…") in templates and Rust code; a typo must fail here, not in front of a user.
        let root = env!("CARGO_MANIFEST_DIR");
        let mut missing = Vec::new();
        for dir in ["templates", "src"] {
            for path in walk(&std::path::Path::new(root).join(dir)) {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for key in used_keys(&text) {
                    // Keys are dotted lowercase names; anything else is prose that mentions t("…").
                    let is_key = key.contains('.')
                        && !key.ends_with('.')
                        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
                    if is_key && !catalog().contains(key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "untranslated keys:\n{}", missing.join("\n"));
    }

    /// The literal keys passed to `t("…")` / `t_args("…")`, not to other calls ending in `t`.
    fn used_keys(text: &str) -> Vec<&str> {
        let mut keys = Vec::new();
        for call in ["t(\"", "t_args(\""] {
            for (at, _) in text.match_indices(call) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                if let Some(key) = text[at + call.len()..].split('"').next() {
                    keys.push(key);
                }
            }
        }
        keys
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else if path.extension().is_some_and(|e| e == "html" || e == "rs" || e == "txt") {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn negotiation() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr-FR, zh-CN;q=0.5, en;q=0.4"), Some(Lang::ZhCn));
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::from_accept_language("zh-TW;q=0.2,en;q=0"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("ZH-hans"), Some(Lang::ZhCn));
        assert_eq!(Lang::parse("en_GB"), Some(Lang::En));
    }

    #[test]
    fn waits_are_rounded_up_to_minutes_then_hours() {
        assert_eq!(Lang::En.wait(1), "1 minute");
        assert_eq!(Lang::En.wait(60), "1 minute");
        assert_eq!(Lang::En.wait(61), "2 minutes");
        assert_eq!(Lang::En.wait(90 * 60), "90 minutes");
        assert_eq!(Lang::En.wait(90 * 60 + 1), "2 hours");
        assert_eq!(Lang::En.wait(23 * 3600 + 5), "24 hours");
        assert_eq!(Lang::ZhCn.wait(45), "1 分钟");
        assert_eq!(Lang::ZhCn.wait(25 * 60), "25 分钟");
        assert_eq!(Lang::ZhCn.wait(5 * 3600), "5 小时");
    }

    #[test]
    fn placeholders() {
        assert_eq!(fill("{n} of {m}", &[("n", "1".into()), ("m", "2".into())]), "1 of 2");
    }

    #[test]
    fn catalog_errors_are_reported() {
        assert!(Catalog::load(&[("x.toml", "[a]\nen = \"x\"\n")]).unwrap_err().contains("no zh-CN"));
        assert!(
            Catalog::load(&[
                ("x.toml", "[a]\nen = \"x\"\nzh-CN = \"y\"\n"),
                ("y.toml", "[a]\nen = \"x\"\nzh-CN = \"y\"\n")
            ])
            .unwrap_err()
            .contains("twice")
        );
    }
}
