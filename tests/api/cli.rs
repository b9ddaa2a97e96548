//! The `redress` binary as an operator meets it: clear one-line errors, migrate, demo.

use std::process::Command;

use crate::helpers::Browser;

fn redress(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redress"));
    cmd.args(args).env_remove("REDRESS_DATABASE_URL").env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("redress runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A database of its own for one CLI test: a SQLite file, or on the PostgreSQL run a new schema
/// in the test database (dropped afterwards) — the shared public schema is not a test's to change.
struct ScratchDb {
    url: String,
    pg: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl ScratchDb {
    fn new() -> ScratchDb {
        let dir = tempfile::tempdir().unwrap();
        match std::env::var("REDRESS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
            Some(base) => {
                let schema = format!("cli_{:016x}", rand::random::<u64>());
                assert!(psql(&base, &format!("CREATE SCHEMA {schema}")), "psql creates the schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
                ScratchDb { url, pg: Some((base, schema)), _dir: dir }
            }
            None => ScratchDb { url: format!("sqlite://{}/redress.db", dir.path().display()), pg: None, _dir: dir },
        }
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg {
            psql(base, &format!("DROP SCHEMA {schema} CASCADE"));
        }
    }
}

fn psql(url: &str, sql: &str) -> bool {
    Command::new("psql").arg(url).args(["-qAtc", sql]).output().is_ok_and(|o| o.status.success())
}

#[test]
fn a_wrong_database_url_is_one_clear_line() {
    let (code, _, err) = redress(&["migrate"], &[("REDRESS_DATABASE_URL", "mysql://root:pw@localhost/x")]);
    assert_eq!(code, 1);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("REDRESS_DATABASE_URL") && err.contains("sqlite://"), "{err}");
    assert!(!err.contains("pw@") && !err.contains("panicked"), "{err}");
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    // Port 9 (discard) is closed on test machines: the connection is refused at once.
    let (code, _, err) =
        redress(&["migrate"], &[("REDRESS_DATABASE_URL", "postgres://app:secret@127.0.0.1:9/redress")]);
    assert_eq!(code, 1);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot open the database at postgres://app:***@127.0.0.1:9/redress"), "{err}");
    assert!(!err.contains("secret") && !err.contains("panicked"), "{err}");
}

#[test]
fn an_unwritable_sqlite_path_is_one_clear_line() {
    let (code, _, err) = redress(&["migrate"], &[("REDRESS_DATABASE_URL", "sqlite:///proc/redress/x.db")]);
    assert_eq!(code, 1);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("cannot open the database"), "{err}");
}

#[test]
fn migrate_then_demo_on_a_fresh_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/redress.db", dir.path().display());
    let (code, out, err) = redress(&["migrate"], &[("REDRESS_DATABASE_URL", &url)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("migrations applied"));
    // Twice is fine: migrations and demo data are idempotent.
    for _ in 0..2 {
        let (code, out, err) = redress(&["demo"], &[("REDRESS_DATABASE_URL", &url)]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("12 merchants"), "{out}");
    }
}

/// The demonstration world shows cases resting in every state but `closed` (30 quiet days) and
/// `submitted` (matching is immediate), and gives the demo merchant cases waiting for them.
#[tokio::test]
async fn the_demo_world_has_cases_in_every_resting_state() {
    let db = ScratchDb::new();
    let (code, out, err) = redress(&["demo"], &[("REDRESS_DATABASE_URL", &db.url)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("merchant@redress.demo"), "the sign-ins are printed: {out}");
    let handle = redress::db::Db::connect(&redress::secret::SecretUrl::new(db.url.clone())).await.unwrap();
    let counts = redress::db::queue::count_by_state(&handle).await.unwrap();
    let states: Vec<&str> = counts.iter().map(|(s, _)| s.as_str()).collect();
    for state in [
        "awaiting_customer",
        "awaiting_merchant",
        "under_review",
        "refund_pending",
        "reversal_pending",
        "resolved",
        "rejected",
        "withdrawn",
    ] {
        assert!(states.contains(&state), "no {state} case in the demo: {counts:?}");
    }
    let merchant = redress::db::users::find_by_email(&handle, "merchant@redress.demo").await.unwrap().unwrap();
    let merchants = redress::db::users::merchants_of(&handle, merchant.id).await.unwrap();
    let search = redress::db::queue::QueueSearch {
        merchants: Some(merchants),
        states: vec!["awaiting_merchant".into()],
        ..Default::default()
    };
    assert!(!redress::db::queue::page(&handle, &search, 10).await.unwrap().rows.is_empty(), "work for the merchant");
    handle.close().await;
}

#[test]
fn migrate_on_the_test_backend() {
    let db = ScratchDb::new();
    let (code, out, err) = redress(&["migrate"], &[("REDRESS_DATABASE_URL", &db.url)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("migrations applied"));
}

/// Starts `redress serve` with debug logging on a free port; returns the child and its address.
fn serve(url: &str, log: &std::path::Path) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_redress"))
        .arg("serve")
        .env("REDRESS_DATABASE_URL", url)
        .env("REDRESS_ADDR", &addr)
        .env("RUST_LOG", "debug")
        .stderr(std::fs::File::create(log).unwrap())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    (child, format!("http://{addr}"))
}

#[tokio::test]
async fn passwords_and_tokens_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/redress.db", dir.path().display());
    let password = "Secret-Passphrase-4711";
    let mut add = Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["user", "add", "--role", "agent", "--email", "agent@example.com"])
        .env("REDRESS_DATABASE_URL", &url)
        .env("RUST_LOG", "debug")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(add.stdin.take().unwrap(), "{password}").unwrap();
    let added = add.wait_with_output().unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let mut logs = String::from_utf8_lossy(&added.stderr).into_owned() + &String::from_utf8_lossy(&added.stdout);

    let (code, token, err) =
        redress(&["token", "add", "--role", "agent", "--name", "ci"], &[("REDRESS_DATABASE_URL", &url)]);
    assert_eq!(code, 0, "{err}");
    let token = token.trim().to_owned();
    assert_eq!(token.len(), 43, "the token alone on standard output");
    logs += &err;

    let log_file = dir.path().join("serve.log");
    let (mut child, base) = serve(&url, &log_file);
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "server did not start");
    let mut csrf_tokens = Vec::new();
    for pw in ["Wrong-Passphrase-0815", password] {
        // Signing in changes the session, and with it the CSRF token: fetch a fresh one each time.
        let csrf = Browser::page(client.get(format!("{base}/")).send().await.unwrap()).await.csrf();
        csrf_tokens.push(csrf.clone());
        let res = client
            .post(format!("{base}/login"))
            .header("origin", &base)
            .form(&[("_csrf", csrf.as_str()), ("email", "agent@example.com"), ("password", pw)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), if pw == password { 303 } else { 401 });
    }
    let api = client.get(format!("{base}/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(api.status(), 200);
    let _ = client.get(format!("{base}/api/v1/me")).bearer_auth("Guessed-Token-Value-123").send().await.unwrap();
    child.kill().unwrap();
    child.wait().unwrap();

    logs += &std::fs::read_to_string(&log_file).unwrap();
    assert!(logs.contains("signed in"), "the log is real and verbose:\n{logs}");
    let mut secrets = vec![password, "Wrong-Passphrase-0815", token.as_str(), "Guessed-Token-Value-123"];
    secrets.extend(csrf_tokens.iter().map(String::as_str));
    for secret in secrets {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
}

#[test]
fn import_from_the_command_line_reports_and_fails_on_rejection() {
    let db = ScratchDb::new();
    let dir = tempfile::tempdir().unwrap();
    let env = [("REDRESS_DATABASE_URL", db.url.as_str()), ("LANG", "en_US.UTF-8")];
    let journal = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/samples/journal.csv");
    let (code, out, err) = redress(&["import", "journal", journal], &env);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Imported journal.csv.") && out.contains("344 rows: 344 new"), "{out}");

    let bad = dir.path().join("bad.csv");
    let text = std::fs::read_to_string(journal).unwrap().replacen(",CNY,", ",CNX,", 1);
    std::fs::write(&bad, text).unwrap();
    let (code, out, _) = redress(&["import", "journal", bad.to_str().unwrap()], &env);
    assert_eq!(code, 1);
    assert!(out.contains("was NOT imported") && out.contains("Line 2, column currency"), "{out}");
}

#[test]
fn killing_an_import_midway_leaves_no_rows() {
    let scratch = ScratchDb::new();
    let url = scratch.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    let mut out = Vec::new();
    redress::import::generate::write(redress::import::Kind::Journal, 400_000, 9, &mut out).unwrap();
    std::fs::write(&file, out).unwrap();
    let (code, _, err) = redress(&["migrate"], &[("REDRESS_DATABASE_URL", &url)]);
    assert_eq!(code, 0, "{err}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(["import", "journal", file.to_str().unwrap()])
        .env("REDRESS_DATABASE_URL", &url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the import must still be running when it is killed");
    child.kill().unwrap();
    child.wait().unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = redress::db::Db::connect(&redress::secret::SecretUrl::new(url.clone())).await.unwrap();
        let rows = redress::db::records::count_rows(&db, redress::db::records::RecordTable::Journal).await.unwrap();
        assert_eq!(rows, 0, "a killed import leaves nothing behind");
    });
}
