//! `TestApp`: the real server on a random port, a fresh database per test, cookie-aware browsers.
//!
//! SQLite (a new file in a temporary folder) unless `REDRESS_TEST_POSTGRES_URL` is set; then a
//! new schema in that PostgreSQL database, dropped when the test ends.

use std::collections::HashMap;
use std::str::FromStr;

use redress::config::Config;
use redress::db::Db;
use redress::startup::Application;
use reqwest::header::HeaderMap;
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
    /// The value of the first hidden `_csrf` field on the page.
    pub fn csrf(&self) -> String {
        let marker = "name=\"_csrf\" value=\"";
        let start = self.body.find(marker).expect("page has a CSRF field") + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
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
    pub async fn seed_user(&self, role: &str, email: &str, merchants: &[&str]) -> String {
        let password = format!("pw-{email}-long-enough");
        let merchants: Vec<String> = merchants.iter().map(|m| m.to_string()).collect();
        redress::accounts::add_user(&self.db, role, email, &merchants, password.clone()).await.expect("user seeds");
        password
    }

    /// A browser signed in as a new user of `role`.
    pub async fn signed_in(&self, role: &str, email: &str, merchants: &[&str]) -> Browser {
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
    pub async fn token(&self, role: &str, merchants: &[&str]) -> String {
        let merchants: Vec<String> = merchants.iter().map(|m| m.to_string()).collect();
        redress::accounts::add_token(&self.db, role, &merchants, "test").await.unwrap()
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
pub const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/samples/");

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
