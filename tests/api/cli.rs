//! The `redress` binary as an operator meets it: clear one-line errors, migrate, demo.

use std::process::Command;

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

#[test]
fn migrate_on_postgres_when_available() {
    let Some(url) = std::env::var("REDRESS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) else {
        // The SQLite run of the suite covers migrate; this one exists for the PostgreSQL run.
        return;
    };
    let (code, out, err) = redress(&["migrate"], &[("REDRESS_DATABASE_URL", &url)]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("migrations applied"));
}
