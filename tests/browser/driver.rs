//! A headless Chromium per test, driven through Debian's `chromedriver` over WebDriver on
//! loopback, with an empty profile of its own. Screenshots go to `target/browser-shots/`.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, SemaphorePermit};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// axe-core, vendored with its licence (MPL-2.0) in `tests/browser/axe/`.
const AXE: &str = include_str!("axe/axe.min.js");

/// The width of the phone the journeys check (issue 15 item 7), and its height.
pub const PHONE_WIDTH: u32 = 390;
const PHONE_HEIGHT: u32 = 844;
/// A desk's window.
pub const DESK_WIDTH: u32 = 1280;
const DESK_HEIGHT: u32 = 900;

/// Where a journey runs: at a desk, or whole on a phone (issue 15 item 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    Desk,
    Phone,
}

impl Screen {
    fn size(self) -> (u32, u32) {
        match self {
            Screen::Desk => (DESK_WIDTH, DESK_HEIGHT),
            Screen::Phone => (PHONE_WIDTH, PHONE_HEIGHT),
        }
    }

    /// Names screenshots apart.
    fn label(self) -> &'static str {
        match self {
            Screen::Desk => "desk",
            Screen::Phone => "phone",
        }
    }
}

/// Every code that has words for people: none may reach a zh-CN page.
fn codes() -> Vec<String> {
    use redress::domain::case_state::{ActionKind, CaseState, Event};
    use redress::domain::claim::ClaimKind;
    use redress::domain::finding::{Finding, ReviewReason};
    let mut codes: Vec<String> = Vec::new();
    codes.extend(CaseState::ALL.iter().map(|c| c.as_str().to_owned()));
    codes.extend(Finding::ALL.iter().map(|c| c.as_str().to_owned()));
    codes.extend(ReviewReason::ALL.iter().map(|c| c.as_str().to_owned()));
    codes.extend(ClaimKind::ALL.iter().map(|c| c.as_str().to_owned()));
    codes.extend(Event::ALL.iter().map(|c| c.as_str().to_owned()));
    codes.extend(ActionKind::ALL.iter().map(|c| c.as_str().to_owned()));
    codes.extend(
        ["no_response", "declined", "approved", "paper_out", "printer_fault", "comm_timeout"].map(str::to_owned),
    );
    codes
}

/// A few characters either side of byte `at` of `text`, for a message.
fn around(text: &str, at: usize) -> String {
    let start = text[..at].char_indices().rev().nth(15).map_or(0, |(i, _)| i);
    text[start..].chars().take(30).collect()
}

/// Two browsers at a time: each Chromium takes most of a core while it loads pages.
static SLOTS: Semaphore = Semaphore::const_new(2);

pub struct Session {
    pub client: Client,
    pub base: String,
    name: String,
    shots: u32,
    screen: Screen,
    driver: Child,
    _profile: tempfile::TempDir,
    _slot: SemaphorePermit<'static>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Session {
    /// A fresh browser whose `Accept-Language` is `lang`, for the app at `base`. `name` prefixes
    /// its screenshots.
    pub async fn start(base: &str, name: &str, lang: &str) -> Session {
        Session::start_on(base, name, lang, Screen::Desk).await
    }

    /// [`Session::start`] with a window the size of `screen`.
    pub async fn start_on(base: &str, name: &str, lang: &str, screen: Screen) -> Session {
        let (width, height) = screen.size();
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "the browser journeys need Debian's chromium and chromium-driver: run scripts/test, which installs them, \
             or apt-get install chromium chromium-driver"
        );
        let slot = SLOTS.acquire().await.unwrap();
        let profile = tempfile::tempdir().unwrap();
        let port = free_port();
        // chromedriver leaves folders in TMPDIR: give it the profile's.
        // In a process group of its own, so that the Chromium it starts can be stopped with it.
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .env("TMPDIR", profile.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().join("profile").display()),
                    format!("--lang={lang}"),
                ],
                "prefs": { "intl.accept_languages": lang },
            }
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
                Ok(client) => break client,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no WebDriver session after 20 s: {e}"),
            }
        };
        client.set_window_size(width, height).await.unwrap();
        Session {
            client,
            base: base.to_owned(),
            name: match screen {
                Screen::Desk => name.to_owned(),
                Screen::Phone => format!("{name}-{}", screen.label()),
            },
            shots: 0,
            screen,
            driver,
            _profile: profile,
            _slot: slot,
        }
    }

    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap();
        self.check_page_reads_well().await;
    }

    /// Every zh-CN page a journey visits is scanned for codes, raw times and amounts without ¥.
    async fn check_page_reads_well(&self) {
        let lang = self.client.execute("return document.documentElement.lang", vec![]).await.unwrap_or(Value::Null);
        if lang == json!("zh-CN") {
            self.check_reads_well().await;
        }
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    pub async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(selector)).await {
            Ok(element) => element,
            Err(e) => panic!("{selector} not found on {}: {e}", self.path().await),
        }
    }

    pub async fn exists(&self, selector: &str) -> bool {
        !self.client.find_all(Locator::Css(selector)).await.unwrap().is_empty()
    }

    pub async fn text(&self, selector: &str) -> String {
        self.css(selector).await.text().await.unwrap()
    }

    pub async fn body_text(&self) -> String {
        self.text("body").await
    }

    pub async fn fill(&self, selector: &str, value: &str) {
        let field = self.css(selector).await;
        let kind = field.attr("type").await.unwrap().unwrap_or_default();
        if kind == "date" || kind == "time" {
            // Typing into these follows the browser's locale (month first or day first, 12 or
            // 24 hours); the value itself is always ISO, as the form sends it.
            let script = "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
                          e.dispatchEvent(new Event('change', { bubbles: true }));";
            self.client.execute(script, vec![selector.into(), value.into()]).await.unwrap();
            return;
        }
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks something that stays on the page (a summary, a radio button).
    pub async fn click(&self, selector: &str) {
        self.css(selector).await.click().await.unwrap();
    }

    /// Clicks a link or a submit button and waits until the page it leads to has loaded.
    pub async fn follow(&self, selector: &str) {
        let element = self.css(selector).await;
        self.mark_page().await;
        element.click().await.unwrap();
        self.wait_new_page(selector).await;
    }

    /// Presses Enter in a field (implicit submission: the form's default button) and waits for
    /// the page that follows.
    pub async fn press_enter(&self, selector: &str) {
        let element = self.css(selector).await;
        self.mark_page().await;
        element.send_keys("\u{E007}").await.unwrap();
        self.wait_new_page(selector).await;
    }

    /// Marks the document shown, so [`Session::wait_new_page`] cannot mistake it for the next.
    pub async fn mark_page(&self) {
        self.client.execute("window.__redressOld = true", vec![]).await.unwrap();
    }

    pub async fn wait_new_page(&self, after: &str) {
        for _ in 0..200 {
            let fresh = self
                .client
                .execute("return !window.__redressOld && document.readyState === 'complete'", vec![])
                .await
                .unwrap_or(Value::Bool(false));
            if fresh == Value::Bool(true) {
                self.check_page_reads_well().await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{after} on {} led to no new page", self.path().await);
    }

    /// Presses `key` `times` times where the focus is.
    pub async fn press(&self, key: Key, times: usize) {
        let mut keys = KeyActions::new("keyboard".into());
        for _ in 0..times {
            keys = keys.then(KeyAction::Down { value: key.into() }).then(KeyAction::Up { value: key.into() });
        }
        self.client.perform_actions(keys).await.unwrap();
    }

    /// Types `text` where the focus is.
    pub async fn type_text(&self, text: &str) {
        let mut keys = KeyActions::new("keyboard".into());
        for c in text.chars() {
            keys = keys.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
        }
        self.client.perform_actions(keys).await.unwrap();
    }

    /// The `name` (or `id`) of the focused element.
    pub async fn focused(&self) -> String {
        let v = self
            .client
            .execute("const e = document.activeElement; return e ? (e.name || e.id || e.tagName) : ''", vec![])
            .await
            .unwrap();
        v.as_str().unwrap_or("").to_owned()
    }

    /// Saves the page as `target/browser-shots/<test>-<n>-<label>.png`, the whole page tall.
    pub async fn shot(&mut self, label: &str) {
        self.shots += 1;
        let height = self.client.execute("return document.documentElement.scrollHeight", vec![]).await.unwrap();
        let height = height.as_u64().unwrap_or(900).clamp(600, 4000) as u32;
        let (width, window_height) = self.screen.size();
        self.client.set_window_size(width, height).await.unwrap();
        let png = self.client.screenshot().await.unwrap();
        self.client.set_window_size(width, window_height).await.unwrap();
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/browser-shots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{}-{:02}-{label}.png", self.name, self.shots)), png).unwrap();
    }

    /// Accessibility basics of the page shown: the document's language is `lang`, and every
    /// visible form control has a label (a `<label for>`, an enclosing label, or an ARIA name).
    pub async fn check_accessible(&self, lang: &str) {
        let report = self
            .client
            .execute(
                r#"
                const unlabelled = [];
                for (const el of document.querySelectorAll('input, select, textarea')) {
                    if (el.type === 'hidden') continue;
                    const byFor = el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]');
                    if (!(byFor || el.closest('label') || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby'))) {
                        unlabelled.push(el.outerHTML.slice(0, 160));
                    }
                }
                return { lang: document.documentElement.lang, unlabelled, title: document.title };
                "#,
                vec![],
            )
            .await
            .unwrap();
        let path = self.path().await;
        assert_eq!(report["lang"], lang, "html lang on {path}");
        assert!(report["title"].as_str().is_some_and(|t| !t.is_empty()), "a title on {path}");
        assert_eq!(report["unlabelled"], json!([]), "controls without a label on {path}");
        // axe-core at the journey's width (each journey runs at a desk's and a phone's): no
        // violation, and a phone never scrolls the page sideways.
        let (width, _) = self.screen.size();
        let violations = self.axe_violations().await;
        assert_eq!(violations, json!([]), "axe-core at {width} px on {path}");
        let wide = self.client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
        assert!(wide.as_u64().is_some_and(|w| w <= u64::from(width)), "{path} is {wide} px wide at {width} px");
        if lang == "zh-CN" {
            self.check_reads_well().await;
        }
    }

    /// axe-core's violations on the page shown: `[{id, nodes}]`, empty when there are none.
    async fn axe_violations(&self) -> Value {
        let loaded = self.client.execute("return typeof window.axe === 'object'", vec![]).await.unwrap();
        if loaded != json!(true) {
            // Injected by WebDriver, so the page's script policy (no inline script) still holds
            // for the page itself.
            let source = format!("{AXE}\nwindow.axe = axe; return true;");
            self.client.execute(&source, vec![]).await.unwrap();
        }
        self.client
            .execute_async(
                r#"
                const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations.map(v => ({ id: v.id, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')) }))))
                    .catch(e => done([{ id: 'axe-error', nodes: [String(e)] }]));
                "#,
                vec![],
            )
            .await
            .unwrap()
    }

    /// What a zh-CN reader must never see (DESIGN.md §8, issue 15): a code instead of words, a
    /// UTC or RFC 3339 time, an amount without `¥` (other currencies keep their code).
    async fn check_reads_well(&self) {
        let text = self.body_text().await;
        let path = self.path().await;
        let codes = codes();
        let words = text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
        let raw: Vec<&str> = words.filter(|w| codes.iter().any(|c| c == w)).collect();
        assert!(raw.is_empty(), "codes on {path}: {raw:?}\n{text}");
        for (at, _) in text.match_indices(['T', '+']) {
            let before = &text[..at];
            let after = &text[at + 1..];
            let digits = |s: &str, n: usize| s.len() >= n && s[..n].bytes().all(|b| b.is_ascii_digit() || b == b':');
            let rfc3339 = before.ends_with(|c: char| c.is_ascii_digit())
                && digits(after, 5)
                && after.as_bytes().get(2) == Some(&b':');
            assert!(!rfc3339, "a raw time on {path}: …{}…", around(&text, at));
        }
        assert!(!text.contains("UTC"), "UTC on {path}");
        for (at, _) in text.match_indices('.') {
            let (before, after) = (&text[..at], &text[at + 1..]);
            let cents = after.len() >= 2 && after.as_bytes()[..2].iter().all(u8::is_ascii_digit);
            if !cents
                || !before.ends_with(|c: char| c.is_ascii_digit())
                || after[2..].starts_with(|c: char| c.is_ascii_digit())
            {
                continue;
            }
            let number_start = before.trim_end_matches(|c: char| c.is_ascii_digit() || c == ',').len();
            let lead = before[..number_start].trim_end_matches('-');
            let marked = lead.ends_with('¥')
                || lead
                    .trim_end()
                    .rsplit(' ')
                    .next()
                    .is_some_and(|w| w.len() == 3 && w != "CNY" && w.bytes().all(|b| b.is_ascii_uppercase()));
            let percent = after[2..].starts_with('%');
            assert!(marked || percent, "an amount without ¥ on {path}: …{}…", around(&text, at));
        }
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.follow("main form button[type=submit]").await;
        assert!(!self.path().await.starts_with("/login"), "signed in as {email}: {}", self.body_text().await);
    }

    /// The process group of chromedriver and the Chromium it started.
    pub fn driver_group(&self) -> u32 {
        self.driver.id()
    }

    /// Closes the browser; dropping the session then stops chromedriver.
    pub async fn end(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Also when a test fails before `end`: leave no chromedriver, and no Chromium, behind.
        let id = self.driver.id();
        let group = format!("-{id}");
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.driver.wait();
        // A killed process takes a moment to leave, and a Chromium helper forked while the
        // signal went out escapes it: wait for the group to empty, killing again (at most 10 s).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while processes_in(id) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
            let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        }
    }
}

/// How many live processes are in process group `group` (from /proc, Linux).
pub fn processes_in(group: u32) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid pgrp …; comm may hold spaces, so read after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == group.to_string() && fields[0] != "Z" {
            n += 1;
        }
    }
    n
}
