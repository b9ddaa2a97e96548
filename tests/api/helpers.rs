//! `TestApp`: the real server on a random port, a fresh database per test, cookie-aware browsers,
//! and `Page`, read through CSS selectors (scraper) rather than substrings or byte offsets.
//!
//! SQLite (a new file in a temporary folder) unless `REDRESS_TEST_POSTGRES_URL` is set; then a
//! new schema in that PostgreSQL database, dropped when the test ends.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use redress::config::Config;
use redress::db::Db;
use redress::domain::role::Role;
use redress::startup::Application;
use reqwest::header::HeaderMap;
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub struct TestApp {
    pub base: String,
    /// The default visitor; `browser()` makes others with their own cookies.
    pub visitor: Browser,
    pub db: Db,
    /// The configuration the server runs with.
    pub config: Config,
    /// The URL other processes and connections use to reach this test's database.
    pub database_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

pub struct Page {
    pub status: reqwest::StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// An HTML document that did not come over HTTP (an email's HTML part), to read by selector.
    pub fn of(html: &str) -> Page {
        Page { status: reqwest::StatusCode::OK, headers: HeaderMap::new(), body: html.to_owned() }
    }

    /// The CSRF token of the page's forms (every `_csrf` field carries the same one).
    pub fn csrf(&self) -> String {
        self.field_value("_csrf")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The body parsed as an HTML document.
    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// Runs `read` on every element `css` selects, in page order.
    fn each<T>(&self, css: &str, read: impl Fn(ElementRef<'_>) -> T) -> Vec<T> {
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css:?}: {e}"));
        self.html().select(&selector).map(read).collect()
    }

    /// The text of every element `css` selects, in page order, with runs of spaces and line
    /// breaks made one space (a no-break space stays: pages use it on purpose).
    pub fn select_all(&self, css: &str) -> Vec<String> {
        self.each(css, |e| text_of(&e))
    }

    /// The text of the one element `css` selects; none or several fail the test.
    pub fn select_text(&self, css: &str) -> String {
        let found = self.select_all(css);
        assert_eq!(found.len(), 1, "{css:?} selects {} elements, not one: {found:?}\n{}", found.len(), self.body);
        found.into_iter().next().unwrap()
    }

    /// How many elements `css` selects.
    pub fn count(&self, css: &str) -> usize {
        self.each(css, |_| ()).len()
    }

    /// Whether `css` selects anything.
    pub fn has(&self, css: &str) -> bool {
        self.count(css) > 0
    }

    /// The attribute `attr` of every element `css` selects that has it, in page order (entities
    /// decoded, as a browser reads them).
    pub fn attrs(&self, css: &str, attr: &str) -> Vec<String> {
        self.each(css, |e| e.value().attr(attr).map(str::to_owned)).into_iter().flatten().collect()
    }

    /// The attribute `attr` of the one element `css` selects.
    pub fn attr(&self, css: &str, attr: &str) -> String {
        let found = self.attrs(css, attr);
        assert_eq!(found.len(), 1, "{css:?} [{attr}]: {found:?}\n{}", self.body);
        found.into_iter().next().unwrap()
    }

    /// What the form field `name` holds: an input's value, a text area's text, the selected
    /// option of a select. Several fields of that name (one per form) must agree.
    pub fn field_value(&self, name: &str) -> String {
        let css = format!(r#"input[name="{name}"], textarea[name="{name}"], select[name="{name}"]"#);
        let values: Vec<String> = self
            .each(&css, |e| {
                let field = e.value();
                match field.name() {
                    "textarea" => Some(e.text().collect()),
                    "select" => {
                        let selected = Selector::parse("option[selected]").unwrap();
                        e.select(&selected).next().and_then(|o| o.value().attr("value")).map(str::to_owned)
                    }
                    // A radio button or check box holds its value only when checked.
                    _ if matches!(field.attr("type"), Some("radio" | "checkbox")) => {
                        field.attr("checked").and(field.attr("value")).map(str::to_owned)
                    }
                    _ => Some(field.attr("value").unwrap_or_default().to_owned()),
                }
            })
            .into_iter()
            .flatten()
            .collect();
        assert!(!values.is_empty(), "no field named {name:?} on the page:\n{}", self.body);
        assert!(values.iter().all(|v| *v == values[0]), "the fields named {name:?} disagree: {values:?}");
        values.into_iter().next().unwrap()
    }

    /// The page's language: the `lang` of `<html>`.
    pub fn lang(&self) -> String {
        self.attr("html", "lang")
    }

    /// The message tied to the form field `field` (`<p id="FIELD-error">`); the test fails
    /// when the field has none.
    pub fn field_error(&self, field: &str) -> String {
        self.select_text(&format!("#{field}-error"))
    }
}

/// An element's text with runs of ASCII white space made one space.
fn text_of(e: &ElementRef<'_>) -> String {
    let text: String = e.text().collect();
    text.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(&[]).await
    }

    /// Starts the app with extra `REDRESS_*` variables.
    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        redress::telemetry::init_for_tests();
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");

        let sqlite_url = format!("sqlite://{}", dir.path().join("redress.db").display());
        let mut env: HashMap<String, String> = HashMap::from([
            ("REDRESS_DATABASE_URL".into(), sqlite_url.clone()),
            ("REDRESS_ADDR".into(), addr.to_string()),
            ("REDRESS_BASE_URL".into(), base.clone()),
        ]);
        env.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_lookup(|k| env.get(k).cloned()).expect("test configuration is valid");

        let (db, pg, database_url) = match postgres_url() {
            Some(url) => {
                let (db, schema) = fresh_pg_schema(&url).await;
                // libpq's `options`, which sqlx reads from the URL too: every connection uses the schema.
                let separator = if url.contains('?') { '&' } else { '?' };
                let schema_url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
                (db, Some((url, schema)), schema_url)
            }
            None => (Db::connect(&config.database_url).await.expect("SQLite opens"), None, sqlite_url),
        };
        db.migrate().await.expect("migrations apply");

        let app = Application::with_parts(config.clone(), db.clone(), listener).await.expect("app builds");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app.run(async {
            let _ = rx.await;
        }));
        let visitor = Browser::new(&base);
        TestApp { base, visitor, db, config, database_url, shutdown: Some(tx), _dir: dir, pg }
    }

    /// Another person with their own cookie jar.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    pub async fn get(&self, path: &str) -> Page {
        self.visitor.get(path).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        self.visitor.get_with(path, headers).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        self.visitor.post_form(path, fields).await
    }

    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        self.visitor.post_form_raw(path, fields, headers).await
    }

    /// Creates a user directly (as `redress user add` would) and returns the password.
    pub async fn seed_user(&self, role: Role, email: &str, merchants: &[&str]) -> String {
        let password = format!("pw-{email}-long-enough");
        let merchants: Vec<String> = merchants.iter().map(|m| m.to_string()).collect();
        redress::accounts::add_user(&self.db, role.as_str(), email, &merchants, password.clone())
            .await
            .expect("user seeds");
        password
    }

    /// A browser signed in as a new user of `role`.
    pub async fn signed_in(&self, role: Role, email: &str, merchants: &[&str]) -> Browser {
        let password = self.seed_user(role, email, merchants).await;
        let browser = self.browser();
        let page = browser.login(email, &password).await;
        assert_eq!(page.status, 303, "sign-in of {email} failed: {}", page.body);
        browser
    }

    /// The outbox, newest first.
    pub async fn outbox(&self) -> Vec<redress::db::outbox::OutboxRow> {
        redress::db::outbox::recent(&self.db, 1000).await.unwrap()
    }

    /// Another connection pool to this test's database, as a second server process would have.
    pub async fn connect_again(&self) -> Db {
        Db::connect(&redress::secret::SecretUrl::new(self.database_url.clone()))
            .await
            .expect("the test database opens again")
    }

    /// Registers the demo merchants and terminals.
    pub async fn load_merchants(&self) {
        redress::demo::load(&self.db).await.unwrap();
    }

    /// A new API token of `role`, bound to `merchants` (merchant tokens).
    pub async fn token(&self, role: Role, merchants: &[&str]) -> String {
        let merchants: Vec<String> = merchants.iter().map(|m| m.to_string()).collect();
        redress::accounts::add_token(&self.db, role.as_str(), &merchants, "test").await.unwrap()
    }

    /// Imports the sample journal and settlement files, as `redress import` would.
    pub async fn import_samples(&self) {
        for kind in [redress::import::Kind::Journal, redress::import::Kind::Settlement] {
            let file = std::fs::File::open(format!("{SAMPLES}{}.csv", kind.as_str())).unwrap();
            let request = redress::import::ImportRequest {
                kind,
                file_name: format!("{}.csv", kind.as_str()),
                via: "cli",
                user_id: None,
                token_id: None,
                merchant_scope: None,
            };
            assert!(redress::import::import(&self.db, &request, file, None).await.unwrap().accepted);
        }
    }
}

/// The project's shared sample files.
pub const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/samples/");

pub fn postgres_url() -> Option<String> {
    std::env::var("REDRESS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

/// One person's browser: a cookie jar, no automatic redirects.
pub struct Browser {
    base: String,
    pub client: reqwest::Client,
}

impl Browser {
    fn new(base: &str) -> Browser {
        let client =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { base: base.to_owned(), client }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn page(response: reqwest::Response) -> Page {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        Page { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::page(self.client.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Page {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::page(req.send().await.unwrap()).await
    }

    /// Posts a form the way a browser on this site would: with the page's CSRF token and Origin.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get("/").await.csrf();
        let mut all: Vec<(&str, &str)> = vec![("_csrf", &csrf)];
        all.extend_from_slice(fields);
        let origin = self.base.clone();
        self.post_form_raw(path, &all, &[("origin", &origin)]).await
    }

    /// Posts exactly these fields and headers (for testing what the guards refuse).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut req = self.client.post(self.url(path)).form(fields);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Self::page(req.send().await.unwrap()).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Page {
        self.post_form("/login", &[("email", email), ("password", password)]).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((url, schema)) = self.pg.take() {
            // Drop runs inside the test's runtime; a plain thread with its own runtime may block.
            let _ = std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
                    if let Ok(pool) = PgPoolOptions::new().max_connections(1).connect(&url).await {
                        // A test that leaked a transaction must not hang the run: give up instead.
                        let _ = sqlx::query("SET lock_timeout = '5s'").execute(&pool).await;
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&pool).await;
                    }
                })
            })
            .join();
        }
    }
}

/// A new schema in the test database, with a pool whose connections all use it.
async fn fresh_pg_schema(url: &str) -> (Db, String) {
    let schema = format!("t_{:016x}", rand::random::<u64>());
    let admin = PgPoolOptions::new().max_connections(1).connect(url).await.expect("test PostgreSQL is reachable");
    sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.unwrap();
    admin.close().await;
    let options = PgConnectOptions::from_str(url).unwrap().options([("search_path", schema.as_str())]);
    let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
    (Db::from_pg_pool(pool), schema)
}

// ---------------------------------------------------------------- steps many tests take

/// A fresh app with the demo merchants and the sample journal and settlement files.
pub async fn with_samples() -> TestApp {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    app.import_samples().await;
    app
}

/// A file of the project's shared samples, as text.
pub fn sample(name: &str) -> String {
    std::fs::read_to_string(format!("{SAMPLES}{name}")).unwrap()
}

/// Sample claim `n` of claims.jsonl, without its `expect`.
pub fn sample_claim(n: usize) -> Value {
    let mut claim: Value = serde_json::from_str(sample("claims.jsonl").lines().nth(n).unwrap()).unwrap();
    claim.as_object_mut().unwrap().remove("expect");
    claim
}

/// Files sample claim `n` through the bank channel; returns the case id.
pub async fn file(app: &TestApp, n: usize) -> i64 {
    let bank = app.token(Role::Customer, &[]).await;
    post_claim(app, &bank, sample_claim(n)).await["id"].as_i64().unwrap()
}

/// Files sample claim `n` again for another cardholder (`who`): the payment already has a case,
/// so this one goes to the desk as `claimed_elsewhere` (DESIGN.md §6) — many open cases on the
/// sample records, for tests that need a crowd.
pub async fn file_for(app: &TestApp, n: usize, who: &str) -> i64 {
    let bank = app.token(Role::Customer, &[]).await;
    let mut claim = sample_claim(n);
    claim["contact_email"] = Value::String(format!("{who}@example.com"));
    post_claim(app, &bank, claim).await["id"].as_i64().unwrap()
}

/// Files `claim` through the claims API with the bank channel's token `bank`; returns the case
/// as the API shows it.
pub async fn post_claim(app: &TestApp, bank: &str, claim: Value) -> Value {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/claims", app.base))
        .bearer_auth(bank)
        .json(&claim)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// Case `id` as the API shows it to the holder of `token`.
pub async fn get_case(app: &TestApp, token: &str, id: &Value) -> Value {
    let res =
        reqwest::Client::new().get(format!("{}/api/v1/cases/{id}", app.base)).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Case `id` as stored.
pub async fn case(app: &TestApp, id: i64) -> redress::db::cases::CaseRow {
    redress::db::cases::get(&app.db, id).await.unwrap().unwrap()
}

/// The audit trail of case `id`: (action, state it led to), oldest first.
pub async fn events(app: &TestApp, id: i64) -> Vec<(String, String)> {
    redress::db::cases::audit(&app.db, id).await.unwrap().into_iter().map(|e| (e.action, e.to_state)).collect()
}

/// The notices of `event` queued for `to`.
pub async fn mails(app: &TestApp, event: &str, to: &str) -> Vec<redress::db::outbox::OutboxRow> {
    app.outbox().await.into_iter().filter(|m| m.event == event && m.recipient == to).collect()
}

/// Posts a CSV file to the import API with `agent`'s token; the import must be accepted.
pub async fn import(app: &TestApp, agent: &str, kind: &str, body: String) {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/{kind}", app.base))
        .bearer_auth(agent)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// The link in a plain-text email that starts with `prefix` (links stand alone, between spaces
/// or line breaks).
pub fn link_in(text: &str, prefix: &str) -> String {
    let link = text.split_whitespace().find(|word| word.starts_with(prefix));
    link.unwrap_or_else(|| panic!("no {prefix} link in:\n{text}")).to_owned()
}

/// The one-time `token` a link carries in its query.
pub fn token_of(link: &str) -> String {
    let url = url::Url::parse(link).unwrap_or_else(|e| panic!("{link} is not a link: {e}"));
    let token = url.query_pairs().find(|(name, _)| name == "token").map(|(_, value)| value.into_owned());
    token.unwrap_or_else(|| panic!("{link} carries no token"))
}

/// Polls `check` until it holds, failing with `what` after `limit`.
pub async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "timed out after {limit:?} waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `redress serve` as a separate process, sending to `smtp_port`.
pub struct Server {
    child: Child,
    base: String,
}

impl Server {
    pub async fn start(database_url: &str, smtp_port: u16, log: &std::path::Path) -> Server {
        let url = format!("smtp://127.0.0.1:{smtp_port}");
        Server::start_with(database_url, &url, &[], log).await
    }

    pub async fn start_with(database_url: &str, smtp_url: &str, env: &[(&str, &str)], log: &std::path::Path) -> Server {
        Server::launch(None, database_url, smtp_url, env, log).await
    }

    /// `redress serve` started in the folder `cwd` (not the repository), with no mail server.
    pub async fn start_in(
        cwd: &std::path::Path,
        database_url: &str,
        env: &[(&str, &str)],
        log: &std::path::Path,
    ) -> Server {
        Server::launch(Some(cwd), database_url, "smtp://127.0.0.1:9", env, log).await
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn launch(
        cwd: Option<&std::path::Path>,
        database_url: &str,
        smtp_url: &str,
        env: &[(&str, &str)],
        log: &std::path::Path,
    ) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_redress"));
        command
            .arg("serve")
            .env("REDRESS_DATABASE_URL", database_url)
            .env("REDRESS_ADDR", &addr)
            .env("REDRESS_BASE_URL", "http://redress.test")
            .env("REDRESS_SMTP_URL", smtp_url)
            .env("REDRESS_MAIL_RETRY_BASE_SECS", "1")
            .env("REDRESS_MAIL_RETRY_MAX_SECS", "1")
            // The drill is about losing nothing, not about giving up.
            .env("REDRESS_MAIL_MAX_ATTEMPTS", "1000")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap());
        if let Some(dir) = cwd {
            command.current_dir(dir);
        }
        let child = command.spawn().unwrap();
        let server = Server { child, base: format!("http://{addr}") };
        let client = reqwest::Client::new();
        let url = format!("{}/readyz", server.base);
        eventually("redress serve answers", Duration::from_secs(20), || async {
            client.get(&url).send().await.is_ok_and(|r| r.status() == 200)
        })
        .await;
        server
    }

    /// SIGTERM, as a container runtime stops it; waits for a clean exit.
    pub fn stop(mut self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "redress serve exited with {status}");
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(15), "redress serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only reached when a test failed midway; a stopped server has already been waited for.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Posts `body` as JSON to the API at `path` with the bearer `token`, asking for English; returns
/// the status and the JSON answer.
pub async fn post_json(app: &TestApp, token: &str, path: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("accept-language", "en")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}
