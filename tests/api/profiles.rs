//! Import profiles (DESIGN.md §3.4, issue #16): the built-in fixtures through the command line,
//! the upload page and the API, claims against them decided as against the same transactions in
//! `redress-csv`, profiles uploaded at /admin/profiles, and clear messages for bad profiles and
//! bad lines.

use redress::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, import, post_claim};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/profiles/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

/// Claims about the fixtures' transactions, with the finding each must get.
fn claims() -> Vec<(Value, &'static str)> {
    let claim = |kind: &str, last4: &str, amount: &str, at: &str| {
        json!({"kind": kind, "card_last4": last4, "amount": amount, "occurred_at": at,
               "merchant_id": "851424736185314", "contact_email": format!("holder{last4}@example.com")})
    };
    vec![
        (claim("no_receipt", "1234", "128.50", "2025-12-31T23:50:00+08:00"), "valid_sale_no_receipt"),
        (claim("no_receipt", "5678", "66.00", "2025-12-31T23:55:00+08:00"), "reversal_due"),
        (claim("refund_not_received", "9012", "300.00", "2025-12-31T12:00:00+08:00"), "refund_settled"),
        (claim("duplicate_charge", "4321", "45.00", "2025-12-31T20:00:00+08:00"), "duplicate_after_timeout"),
        (claim("no_receipt", "2468", "19.90", "2025-12-31T22:00:00+08:00"), "already_reversed"),
        (claim("no_receipt", "7777", "88.00", "2025-12-31T21:00:00+08:00"), "no_debit_found"),
    ]
}

/// Files every claim and returns the findings, in order.
async fn findings(app: &TestApp) -> Vec<String> {
    let bank = app.token(Role::Customer, &[]).await;
    let mut out = Vec::new();
    for (claim, _) in claims() {
        let case = post_claim(app, &bank, claim).await;
        out.push(case["finding"].as_str().unwrap_or_default().to_owned());
    }
    out
}

async fn post_file(app: &TestApp, token: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .header("accept-language", "en")
        .body(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn upload(
    app: &TestApp,
    who: &Browser,
    kind: &str,
    profile: &str,
    name: &str,
    body: Vec<u8>,
) -> crate::helpers::Page {
    let csrf = who.get("/imports").await.csrf();
    let form = reqwest::multipart::Form::new()
        .text("kind", kind.to_owned())
        .text("profile", profile.to_owned())
        .part("file", reqwest::multipart::Part::bytes(body).file_name(name.to_owned()));
    let res = who
        .client
        .post(who.url(&format!("/imports?_csrf={csrf}")))
        .header("origin", &app.base)
        .header("accept-language", "en")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let page = Browser::page(res).await;
    // An upload that ran redirects to its report (Post/Redirect/Get).
    match page.status.as_u16() {
        303 => who.get_with(page.header("location"), &[("accept-language", "en")]).await,
        _ => page,
    }
}

fn redress(app: &TestApp, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
        .args(args)
        .env("REDRESS_DATABASE_URL", &app.database_url)
        .env("LANG", "en")
        .env("RUST_LOG", "warn")
        .output()
        .expect("redress runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn expected() -> Vec<String> {
    claims().into_iter().map(|(_, f)| f.to_owned()).collect()
}

#[tokio::test]
async fn redress_csv_of_the_fixture_transactions_gets_the_expected_findings() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let agent = app.token(Role::Agent, &[]).await;
    import(&app, &agent, "journal", String::from_utf8(fixture("journal.csv")).unwrap()).await;
    import(&app, &agent, "settlement", String::from_utf8(fixture("settlement.csv")).unwrap()).await;
    assert_eq!(findings(&app).await, expected());
}

#[tokio::test]
async fn built_in_fixtures_through_the_api_get_the_same_findings() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let agent = app.token(Role::Agent, &[]).await;
    let (status, report) =
        post_file(&app, &agent, "/api/v1/journal?profile=terminal-log-gbk", fixture("terminal-log-gbk.csv")).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!((report["rows"].as_u64(), report["inserted"].as_u64()), (Some(8), Some(8)), "{report}");
    assert_eq!(report["profile"], "terminal-log-gbk");
    let (status, report) =
        post_file(&app, &agent, "/api/v1/settlement?profile=cups-acom-settlement", fixture("cups-acom-settlement.txt"))
            .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["inserted"].as_u64(), Some(8), "{report}");
    let stored = redress::db::profiles::import_profile(&app.db, report["import_id"].as_i64().unwrap()).await.unwrap();
    assert_eq!(stored.as_deref(), Some("cups-acom-settlement"));
    // Idempotent: the same file again changes nothing.
    let (_, again) =
        post_file(&app, &agent, "/api/v1/settlement?profile=cups-acom-settlement", fixture("cups-acom-settlement.txt"))
            .await;
    assert_eq!((again["inserted"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(8)), "{again}");
    assert_eq!(findings(&app).await, expected());
}

#[tokio::test]
async fn built_in_fixtures_through_the_upload_page_get_the_same_findings() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let page = desk.get("/imports").await;
    let offered = page.attrs("#profile option", "value");
    for name in ["redress-csv", "cups-acom-settlement", "acquirer-statement-tsv", "terminal-log-gbk"] {
        assert!(offered.contains(&name.to_owned()), "{offered:?}");
    }
    let page = upload(&app, &desk, "journal", "terminal-log-gbk", "log.csv", fixture("terminal-log-gbk.csv")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.select_text("#report-title.ok"), "Imported log.csv.");
    let page =
        upload(&app, &desk, "settlement", "acquirer-statement-tsv", "stmt.tsv", fixture("acquirer-statement-tsv.tsv"))
            .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.select_all(".report .counts dd")[..2], ["8", "8"], "rows, new rows");
    assert_eq!(findings(&app).await, expected());
    // An unknown profile is refused with words, and nothing is read.
    let page = upload(&app, &desk, "journal", "no-such-profile", "x.csv", b"x".to_vec()).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("There is no import profile called"), "{}", page.body);
}

#[tokio::test]
async fn built_in_fixtures_through_the_command_line_get_the_same_findings() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let (code, out, _) = redress(&app, &["profiles"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[1].starts_with("cups-acom-settlement")
            && lines[1].contains("settlement")
            && lines[1].contains("UnionPay")
    );
    let journal = format!("{FIXTURES}terminal-log-gbk.csv");
    let (code, out, err) = redress(&app, &["import", "journal", "--profile", "terminal-log-gbk", &journal]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("8 rows: 8 new"), "{out}");
    let settlement = format!("{FIXTURES}cups-acom-settlement.txt");
    // A profile file works wherever a name does.
    let path = format!("{}/src/import/profile/builtin/cups-acom-settlement.toml", env!("CARGO_MANIFEST_DIR"));
    let (code, out, err) = redress(&app, &["import", "settlement", "--profile", &path, &settlement]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(findings(&app).await, expected());
    // The wrong kind for the profile is refused with words.
    let (code, out, _) = redress(&app, &["import", "journal", "--profile", "cups-acom-settlement", &settlement]);
    assert_eq!(code, 1);
    assert!(out.contains("This import profile reads settlement files"), "{out}");
}

/// DESIGN.md §3.4's example, written from the contract alone, uploaded by an admin, used by the API.
const DESIGN_EXAMPLE: &str = r#"
name = "acquirer-statement"      # what `--profile` and the upload page call it
kind = "settlement"              # journal | settlement
encoding = "gbk"                 # utf-8 (default) | gbk (read as GB18030)
layout = "delimited"             # delimited | fixed
delimiter = "\t"                 # delimited: one character (default ",")
header = true                    # delimited: the first line after skip_head names the columns
skip_head = 4                    # lines dropped at the top (banners)
skip_tail = 2                    # lines dropped at the bottom (totals)
timezone = "Asia/Shanghai"       # for times written without an offset (default REDRESS_TIMEZONE)
skip_rows = { "交易类型" = ["预授权", "余额查询"] }   # rows dropped before mapping, by raw value; key = header name, or field number as a string ("21")

[fields]   # target field (§3.1 / §3.2 names) = where its value comes from
merchant_id = { col = "商户号" }                       # by header name; { pos = 28 } = 1-based field number
terminal_id = { col = "终端号" }
trace_no    = { col = "流水号" }
rrn         = { col = "参考号" }
card        = { col = "卡号" }                         # masks written 622280*********0000 are normalised
amount      = { col = "交易金额", unit = "yuan" }      # yuan | fen
currency    = { value = "CNY" }                        # a constant
txn_time    = { col = ["交易日期", "交易时间"], format = "%Y-%m-%d %H:%M:%S" }  # joined with a space
settled_on  = { col = "清算日期", format = "%Y%m%d" }
direction   = { col = "交易类型", map = { "消费" = "debit", "退货" = "credit", "消费撤销" = "credit" } }
orig_rrn    = { col = "原参考号" }
entry_id    = { col = ["清算日期", "终端号", "流水号", "交易类型"], join = "-" }
"#;

async fn upload_profile(app: &TestApp, admin: &Browser, text: &str) -> crate::helpers::Page {
    let csrf = admin.get("/admin/profiles").await.csrf();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::text(text.to_owned()).file_name("profile.toml"));
    let res = admin
        .client
        .post(admin.url(&format!("/admin/profiles?_csrf={csrf}")))
        .header("origin", &app.base)
        .header("accept-language", "en")
        .multipart(form)
        .send()
        .await
        .unwrap();
    Browser::page(res).await
}

#[tokio::test]
async fn a_profile_written_from_the_design_alone_is_uploaded_listed_used_and_deleted() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let admin = app.signed_in(Role::Admin, "admin@example.com", &[]).await;
    let page = upload_profile(&app, &admin, DESIGN_EXAMPLE).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("The profile acquirer-statement was checked and saved."), "{}", page.body);
    // Listed on the upload page and by the command line.
    let offered = admin.get("/imports").await.attrs("#profile option", "value");
    assert!(offered.contains(&"acquirer-statement".to_owned()), "{offered:?}");
    let (_, out, _) = redress(&app, &["profiles"]);
    assert!(out.lines().any(|l| l.starts_with("acquirer-statement ")), "{out}");

    let agent = app.token(Role::Agent, &[]).await;
    let journal = String::from_utf8(fixture("journal.csv")).unwrap();
    import(&app, &agent, "journal", journal).await;
    let (status, report) =
        post_file(&app, &agent, "/api/v1/settlement?profile=acquirer-statement", fixture("acquirer-statement-tsv.tsv"))
            .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["inserted"].as_u64(), Some(8), "{report}");
    assert_eq!(findings(&app).await, expected());

    // The same name again is refused; deleting it takes it off the list.
    let again = upload_profile(&app, &admin, DESIGN_EXAMPLE).await;
    assert_eq!(again.status, 422);
    assert!(again.body.contains("A profile called acquirer-statement exists already"), "{}", again.body);
    let list = admin.get("/admin/profiles").await;
    let delete = list.attr("form[action$='/delete']", "action");
    let gone = admin.post_form(&delete, &[("_csrf", &list.csrf())]).await;
    assert_eq!(gone.status, 303);
    let (status, body) = post_file(&app, &agent, "/api/v1/settlement?profile=acquirer-statement", b"x".to_vec()).await;
    assert_eq!((status, body["error"].as_str()), (422, Some("unknown_profile")), "{body}");
}

#[tokio::test]
async fn a_malformed_profile_is_refused_saying_where() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in(Role::Admin, "admin@example.com", &[]).await;
    let bad = DESIGN_EXAMPLE.replace(r#"unit = "yuan""#, r#"unit = "jiao""#);
    let page = upload_profile(&app, &admin, &bad).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("fields.amount.unit: “jiao” is not a unit; write yuan or fen."), "{}", page.body);
    let bad = DESIGN_EXAMPLE.replace("skip_tail = 2", "skip_tail = 2\nfooter_lines = 2");
    let page = upload_profile(&app, &admin, &bad).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("footer_lines"), "{}", page.body);
    assert!(redress::db::profiles::list(&app.db).await.unwrap().is_empty());
    // A profile file with a bad map is refused by the command line before any row is read.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, DESIGN_EXAMPLE.replace(r#""退货" = "credit""#, r#""退货" = "refund""#)).unwrap();
    let file = format!("{FIXTURES}acquirer-statement-tsv.tsv");
    let (code, _, err) = redress(&app, &["import", "settlement", "--profile", path.to_str().unwrap(), &file]);
    assert_eq!(code, 1);
    assert!(err.contains("fields.direction.map.\"退货\": “refund” is not a value this field can take."), "{err}");
}

#[tokio::test]
async fn a_malformed_line_names_its_line_and_the_field_as_the_file_calls_it() {
    let app = TestApp::spawn().await;
    let agent = app.token(Role::Agent, &[]).await;
    // Line 7 of the statement (4 banners, the header, a good row): an amount of "1.2.3".
    let text = encoding_rs::GB18030.decode(&fixture("acquirer-statement-tsv.tsv")).0.into_owned();
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
    lines[6] = lines[6].replacen("\t66.00\t", "\t1.2.3\t", 1);
    let body = encoding_rs::GBK.encode(&lines.join("\r\n")).0.into_owned();
    let (status, report) = post_file(&app, &agent, "/api/v1/settlement?profile=acquirer-statement-tsv", body).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(report["inserted"].as_u64(), Some(0), "nothing lands: {report}");
    let problem = &report["problems"][0];
    assert_eq!((problem["line"].as_u64(), problem["column"].as_str()), (Some(7), Some("amount")), "{report}");
    assert_eq!(problem["source"], "交易金额");
    assert!(problem["message"].as_str().unwrap().starts_with("Line 7, 交易金额 (amount): "), "{problem}");
}

/// The CUPS fixture's records (ASCII, one per CRLF line): sales 000101–000108 and their credits.
fn cups_lines() -> Vec<String> {
    let text = String::from_utf8(fixture("cups-acom-settlement.txt")).unwrap();
    text.split("\r\n").filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

async fn stored_orig_rrn(app: &TestApp, entry_id: &str) -> Option<String> {
    let mut tx = app.db.begin().await.unwrap();
    let entry = redress::db::records::settlement_by_entry_id(&mut tx, entry_id).await.unwrap();
    entry.unwrap_or_else(|| panic!("{entry_id} is stored")).orig_rrn.map(|r| r.to_string())
}

#[tokio::test]
async fn a_cups_credit_finds_its_sale_in_the_file_or_an_earlier_import_or_is_refused_saying_where() {
    let app = TestApp::spawn().await;
    let agent = app.token(Role::Agent, &[]).await;
    let lines = cups_lines();
    let send = |records: Vec<String>| {
        let body = records.join("\r\n").into_bytes();
        post_file(&app, &agent, "/api/v1/settlement?profile=cups-acom-settlement", body)
    };

    // The sale earlier in the same file: the reversal of 000108 (fixture lines 7 and 8).
    let (status, report) = send(vec![lines[6].clone(), lines[7].clone()]).await;
    assert_eq!((status, report["inserted"].as_u64()), (200, Some(2)), "{report}");
    let reversal = "20260101/55024556/000109/1231220040/0420";
    assert_eq!(stored_orig_rrn(&app, reversal).await.as_deref(), Some("612322000108"));

    // The sale in a file imported before: the refund of 000103 arrives alone, days later.
    let (status, report) = send(vec![lines[2].clone()]).await;
    assert_eq!((status, report["inserted"].as_u64()), (200, Some(1)), "{report}");
    let (status, report) = send(vec![lines[3].clone()]).await;
    assert_eq!((status, report["inserted"].as_u64()), (200, Some(1)), "{report}");
    let refund = "20260101/55024556/000104/0101001000/0220";
    assert_eq!(stored_orig_rrn(&app, refund).await.as_deref(), Some("612312000103"));

    // Nowhere: a refund of a trace no file had (line 2), and one that names 000103's trace and
    // time at another merchant (line 3: that sale is not this merchant's). Nothing lands.
    assert!(lines[3].contains(" 000104 0101001000 ") && lines[3].contains(" 000103 00 051 "));
    let unknown =
        lines[3].replace(" 000104 0101001000 ", " 000110 0101001000 ").replace(" 000103 00 051 ", " 000999 00 051 ");
    let elsewhere =
        lines[3].replace(" 000104 0101001000 ", " 000111 0101001000 ").replace("851424736185314", "851424736185399");
    let (status, report) = send(vec![lines[0].clone(), unknown, elsewhere]).await;
    assert_eq!((status, report["inserted"].as_u64(), report["bad_rows"].as_u64()), (422, Some(0), Some(2)), "{report}");
    let problems = report["problems"].as_array().unwrap();
    for (problem, line) in problems.iter().zip([2, 3]) {
        assert_eq!((problem["line"].as_u64(), problem["column"].as_str()), (Some(line), Some("orig_rrn")), "{report}");
        assert_eq!(problem["source"], "#18+#28", "{report}");
    }
    let message = problems[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Line 2, #18+#28 (orig_rrn): This credit names its original payment by trace number 000999 and time 1231120000,"),
        "{message}"
    );
    let mut tx = app.db.begin().await.unwrap();
    let sale = redress::db::records::settlement_by_entry_id(&mut tx, "20260101/55024556/000101/1231235010/0200").await;
    assert!(sale.unwrap().is_none(), "the file's good sale did not land either");
}
