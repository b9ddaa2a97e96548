//! Journal and settlement imports through the API, the upload page and the command line.

use redress::db::records::{RecordTable, count_rows};
use redress::domain::role::Role;
use redress::import::Kind;

use crate::helpers::{Browser, TestApp, sample};

fn generated(kind: Kind, rows: u64) -> Vec<u8> {
    let mut out = Vec::new();
    redress::import::generate::write(kind, rows, 3, &mut out).unwrap();
    out
}

async fn post_csv(app: &TestApp, path: &str, token: &str, body: impl Into<reqwest::Body>) -> (u16, serde_json::Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", "text/csv")
        .header("accept-language", "en")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn the_samples_import_through_the_api_and_again_change_nothing() {
    let app = TestApp::spawn().await;
    let agent = app.token(Role::Agent, &[]).await;
    for (path, file, table) in [
        ("/api/v1/journal", "journal.csv", RecordTable::Journal),
        ("/api/v1/settlement", "settlement.csv", RecordTable::Settlement),
    ] {
        let (status, report) = post_csv(&app, path, &agent, sample(file)).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["accepted"], true);
        assert_eq!(report["rows"], 344);
        assert_eq!(report["inserted"], 344);
        assert_eq!(report["sha256"].as_str().unwrap().len(), 64);

        let (status, again) = post_csv(&app, path, &agent, sample(file)).await;
        assert_eq!(status, 200);
        assert_eq!((again["inserted"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(344)), "{again}");
        assert_eq!(count_rows(&app.db, table).await.unwrap(), 344);
    }
}

#[tokio::test]
async fn the_samples_import_through_the_upload_page() {
    let app = TestApp::spawn().await;
    let agent = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let csrf = agent.get("/imports").await.csrf();
    for (kind, file) in [("journal", "journal.csv"), ("settlement", "settlement.csv")] {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind)
            .part("file", reqwest::multipart::Part::text(sample(file)).file_name(file).mime_str("text/csv").unwrap());
        let res = agent
            .client
            .post(agent.url(&format!("/imports?_csrf={csrf}")))
            .header("origin", &app.base)
            .header("accept-language", "en")
            .multipart(form)
            .send()
            .await
            .unwrap();
        // Post/Redirect/Get: the report is a page of its own.
        assert_eq!(res.status(), 303);
        let report = Browser::page(res).await.header("location").to_owned();
        let page = agent.get_with(&report, &[("accept-language", "en")]).await;
        assert_eq!(page.select_text("#report-title.ok"), format!("Imported {file}."));
        assert_eq!(page.select_all(".report .counts dd")[..2], ["344", "344"], "rows, new rows");
    }
    assert_eq!(count_rows(&app.db, RecordTable::Journal).await.unwrap(), 344);
    assert_eq!(count_rows(&app.db, RecordTable::Settlement).await.unwrap(), 344);
    // The log lists both.
    let page = agent.get_with("/imports", &[("accept-language", "en")]).await;
    let files = page.select_all("section[aria-labelledby=recent-title] tbody td:first-child");
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.contains(&"journal.csv".to_owned()) && files.contains(&"settlement.csv".to_owned()), "{files:?}");
}

#[tokio::test]
async fn one_bad_row_among_100k_imports_nothing_and_names_the_row() {
    let app = TestApp::spawn().await;
    let agent = app.token(Role::Agent, &[]).await;
    let text = String::from_utf8(generated(Kind::Journal, 100_000)).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Line 77,778 of the file (the header is line 1): an amount with three decimals.
    let bad = &mut lines[77_777];
    let fields: Vec<&str> = bad.split(',').collect();
    let mut fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
    fields[10] = "12.345".into();
    *bad = fields.join(",");
    let (status, report) = post_csv(&app, "/api/v1/journal", &agent, (lines.join("\n") + "\n").into_bytes()).await;
    assert_eq!(status, 422, "{report}");
    assert_eq!(report["accepted"], false);
    assert_eq!(report["bad_rows"], 1);
    assert_eq!(report["inserted"], 0);
    let problem = &report["problems"][0];
    assert_eq!(problem["line"], 77_778);
    assert_eq!(problem["column"], "amount");
    assert!(problem["message"].as_str().unwrap().contains("Line 77778"), "{problem}");
    assert_eq!(count_rows(&app.db, RecordTable::Journal).await.unwrap(), 0, "nothing landed");
}

#[tokio::test]
async fn a_changed_row_is_a_conflict_and_the_stored_row_is_kept() {
    let app = TestApp::spawn().await;
    let agent = app.token(Role::Agent, &[]).await;
    post_csv(&app, "/api/v1/settlement", &agent, sample("settlement.csv")).await;
    let text = sample("settlement.csv");
    let changed = text.replacen(
        "CLR000000156,851424736185314,60381321,003039,000004271656,524091******9451,debit,4978.47",
        "CLR000000156,851424736185314,60381321,003039,000004271656,524091******9451,debit,4978.48",
        1,
    );
    assert_ne!(changed, text);
    let (status, report) = post_csv(&app, "/api/v1/settlement", &agent, changed.into_bytes()).await;
    assert_eq!(status, 200, "conflicts are reported, the file is not refused: {report}");
    assert_eq!(report["conflicting"], 1);
    assert_eq!(report["unchanged"], 343);
    assert_eq!(report["conflicts"][0]["key"], "CLR000000156");
    let mut tx = app.db.begin().await.unwrap();
    let stored = redress::db::records::settlement_by_entry_id(&mut tx, "CLR000000156").await.unwrap().unwrap();
    tx.commit().await.unwrap();
    assert_eq!(stored.amount.minor, 497_847, "never overwritten");
}

#[tokio::test]
async fn a_full_card_number_rejects_the_file_and_is_never_repeated() {
    let app = TestApp::spawn().await;
    let agent = app.token(Role::Agent, &[]).await;
    let text = sample("journal.csv");
    let pan = "6228480402564890018";
    let leaked = text.replacen("621700******9605", pan, 1);
    let (status, report) = post_csv(&app, "/api/v1/journal", &agent, leaked.into_bytes()).await;
    assert_eq!(status, 422);
    assert_eq!(report["accepted"], false);
    assert_eq!(report["file_problem"]["code"], "full_card_number");
    assert!(!report.to_string().contains(pan));
    assert_eq!(count_rows(&app.db, RecordTable::Journal).await.unwrap(), 0);
}

#[tokio::test]
async fn merchants_import_only_their_own_journals() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let merchant = app.token(Role::Merchant, &["851424736185314"]).await;
    let (status, report) = post_csv(&app, "/api/v1/journal", &merchant, sample("journal.csv")).await;
    assert_eq!(status, 422);
    assert_eq!(report["problems"][0]["code"], "merchant_not_yours");
    assert_eq!(count_rows(&app.db, RecordTable::Journal).await.unwrap(), 0);

    let own: String = sample("journal.csv")
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.starts_with("851424736185314,"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let (status, report) = post_csv(&app, "/api/v1/journal", &merchant, own.into_bytes()).await;
    assert_eq!(status, 200, "{report}");
    assert!(report["inserted"].as_u64().unwrap() > 10);

    let (status, _) = post_csv(&app, "/api/v1/settlement", &merchant, sample("settlement.csv")).await;
    assert_eq!(status, 403, "settlement files are the desk's");
    let customer = app.token(Role::Customer, &[]).await;
    assert_eq!(post_csv(&app, "/api/v1/journal", &customer, sample("journal.csv")).await.0, 403);
}

#[tokio::test]
async fn the_api_wants_csv() {
    let app = TestApp::spawn().await;
    let agent = app.token(Role::Agent, &[]).await;
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/journal", app.base))
        .bearer_auth(&agent)
        .json(&serde_json::json!({"rows": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_media_type");
}

/// One statement of 500 rows can hold rows already stored, new rows and a key twice: each is
/// counted for what it is, on both kinds (the batches that are all new or all known are settled
/// by the count alone; these take the slower path that names the new rows).
#[tokio::test]
async fn a_batch_of_old_new_and_repeated_rows_counts_each_for_what_it_is() {
    let app = TestApp::spawn().await;
    let agent = app.token(Role::Agent, &[]).await;
    for (path, kind, table) in [
        ("/api/v1/journal", Kind::Journal, RecordTable::Journal),
        ("/api/v1/settlement", Kind::Settlement, RecordTable::Settlement),
    ] {
        // 300 rows stored first; then a file of those 300, the rest new, and one new row twice.
        // (450 transactions make a few less settlement entries: some never reached the host.)
        let all = String::from_utf8(generated(kind, 450)).unwrap();
        let mut lines: Vec<&str> = all.lines().collect();
        let header = lines.remove(0);
        let n = lines.len() as u64;
        assert!(n > 400);
        let first: String =
            std::iter::once(header).chain(lines[..300].iter().copied()).map(|l| format!("{l}\n")).collect();
        let (status, report) = post_csv(&app, path, &agent, first.into_bytes()).await;
        assert_eq!((status, report["inserted"].as_u64()), (200, Some(300)), "{report}");

        let mut mixed: Vec<&str> = vec![header];
        mixed.extend(lines.iter().copied());
        mixed.push(lines[lines.len() - 1]);
        let body: String = mixed.iter().map(|l| format!("{l}\n")).collect();
        let (status, report) = post_csv(&app, path, &agent, body.into_bytes()).await;
        assert_eq!(status, 200, "{report}");
        let counts = (report["inserted"].as_u64(), report["unchanged"].as_u64(), report["conflicting"].as_u64());
        assert_eq!(counts, (Some(n - 300), Some(301), Some(0)), "{report}");
        assert_eq!(count_rows(&app.db, table).await.unwrap(), n as i64);
    }
}
