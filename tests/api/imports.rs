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

// ---- what PostgreSQL's COPY path (db::copy) could get wrong; the same on SQLite's batches ----

fn request(kind: Kind) -> redress::import::ImportRequest {
    redress::import::ImportRequest {
        kind,
        file_name: "test.csv".into(),
        via: "cli",
        user_id: None,
        token_id: None,
        merchant_scope: None,
    }
}

async fn import_bytes(app: &TestApp, kind: Kind, body: String) -> redress::import::ImportReport {
    let report =
        redress::import::import(&app.db, &request(kind), std::io::Cursor::new(body.into_bytes()), None).await.unwrap();
    assert!(report.accepted, "{:?} {:?}", report.file_problem, report.problems.first());
    report
}

fn counts(report: &redress::import::ImportReport) -> (u64, u64, u64) {
    (report.inserted, report.unchanged, report.conflicting)
}

/// Entry ids may hold what COPY's text format would have to escape (a backslash, `\N`, `\.`), CSV
/// quoting and non-ASCII: each is stored exactly as read, and the same file again changes nothing.
#[tokio::test]
async fn awkward_entry_ids_are_stored_as_read_and_import_again_unchanged() {
    let app = TestApp::spawn().await;
    let text = sample("settlement.csv");
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);
    let ids = [r"CLR\N", r"\.", r"C\\L\tR", r#""quo""te'd""#, r#""结算,第1笔""#, "清算/终端/流水/消费"];
    let body: String = std::iter::once(header.to_owned())
        .chain(ids.iter().zip(&lines).map(|(id, line)| format!("{id},{}", line.split_once(',').unwrap().1)))
        .map(|l| l + "\n")
        .collect();
    let report = import_bytes(&app, Kind::Settlement, body.clone()).await;
    assert_eq!(counts(&report), (6, 0, 0));
    let again = import_bytes(&app, Kind::Settlement, body.clone()).await;
    assert_eq!(counts(&again), (0, 6, 0), "{:?}", again.conflicts);
    assert!(again.imported.is_empty());
    let parsed: Vec<_> = redress::import::parse::SettlementReader::new(std::io::Cursor::new(body.into_bytes()))
        .unwrap()
        .map(|i| i.unwrap().1)
        .collect();
    let stored_ids: Vec<&str> = parsed.iter().map(|e| e.entry_id.as_str()).collect();
    assert_eq!(stored_ids, [r"CLR\N", r"\.", r"C\\L\tR", "quo\"te'd", "结算,第1笔", "清算/终端/流水/消费"]);
    let mut tx = app.db.begin().await.unwrap();
    for entry in &parsed {
        let stored = redress::db::records::settlement_by_entry_id(&mut tx, &entry.entry_id).await.unwrap();
        assert_eq!(stored.as_ref(), Some(entry));
    }
}

/// A GBK statement read through a profile: Chinese in the entry ids (`…/消费`) round-trips, and
/// the same statement again is all unchanged.
#[tokio::test]
async fn a_gbk_statement_round_trips_and_imports_again_unchanged() {
    use redress::import::profile::{builtin, reader::ProfileReader};
    let app = TestApp::spawn().await;
    let file =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/profiles/acquirer-statement-tsv.tsv"))
            .unwrap();
    let profile = std::sync::Arc::new(builtin::get("acquirer-statement-tsv").unwrap());
    let run = async |file: Vec<u8>| {
        let report = redress::import::import_profiled(
            &app.db,
            &request(Kind::Settlement),
            Some(profile.clone()),
            std::io::Cursor::new(file),
            None,
        )
        .await
        .unwrap();
        assert!(report.accepted, "{:?}", report.problems.first());
        report
    };
    let first = run(file.clone()).await;
    let n = first.rows;
    assert!(n > 3);
    assert_eq!(counts(&first), (n, 0, 0));
    assert_eq!(counts(&run(file.clone()).await), (0, n, 0));
    let mut tx = app.db.begin().await.unwrap();
    let mut chinese = 0;
    for item in
        ProfileReader::<_, redress::domain::records::SettlementEntry>::new(profile, std::io::Cursor::new(file)).unwrap()
    {
        let entry = item.unwrap().1;
        chinese += usize::from(!entry.entry_id.is_ascii());
        let stored = redress::db::records::settlement_by_entry_id(&mut tx, &entry.entry_id).await.unwrap();
        assert_eq!(stored.as_ref(), Some(&entry));
    }
    assert!(chinese > 0, "the fixture's entry ids hold the type in Chinese");
}

/// A key twice in one file: its first line is stored; a later line equal to it is unchanged, a
/// different one a conflict named by its own line. Importing the file again keeps both verdicts.
#[tokio::test]
async fn a_key_repeated_in_one_file_keeps_its_first_line_and_names_the_conflicting_one() {
    let app = TestApp::spawn().await;
    let text = sample("journal.csv");
    let lines: Vec<&str> = text.lines().collect();
    // Header (line 1), five rows (lines 2–6), row 2 with another amount (line 7), row 3 again (line 8).
    let changed = lines[2].replacen(",1471.30,", ",1471.31,", 1);
    assert_ne!(changed, lines[2]);
    let body: String = [lines[0], lines[1], lines[2], lines[3], lines[4], lines[5], changed.as_str(), lines[3]]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    for (round, expected) in [(1, (5, 1, 1)), (2, (0, 6, 1))] {
        let report = import_bytes(&app, Kind::Journal, body.clone()).await;
        assert_eq!(counts(&report), expected, "round {round}");
        let conflicts: Vec<(u64, &str)> = report.conflicts.iter().map(|c| (c.line, c.key.as_str())).collect();
        assert_eq!(conflicts, [(7, "868625034637336/03503484/000363/003955")], "round {round}");
    }
    let mut tx = app.db.begin().await.unwrap();
    let stored = redress::db::records::journal_by_key(&mut tx, ("868625034637336", "03503484", "000363", "003955"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.amount.minor, 147_130, "the first line's row, never overwritten");
}

/// A file of rows already stored and new ones: the follow-up on open cases gets the keys of the
/// new rows only, as it would had the new rows come alone.
#[tokio::test]
async fn a_file_of_old_and_new_rows_hands_on_the_keys_of_the_new_ones_only() {
    let app = TestApp::spawn().await;
    for kind in [Kind::Journal, Kind::Settlement] {
        let all = String::from_utf8(generated(kind, 400)).unwrap();
        let mut lines: Vec<&str> = all.lines().collect();
        let header = lines.remove(0);
        let file = |rows: &[&str]| -> String {
            std::iter::once(header).chain(rows.iter().copied()).map(|l| format!("{l}\n")).collect()
        };
        let old = 250;
        import_bytes(&app, kind, file(&lines[..old])).await;
        let expected = {
            // What the new rows bring in when imported by themselves, in a database without them.
            let alone = TestApp::spawn().await;
            import_bytes(&alone, kind, file(&lines[old..])).await.imported
        };
        assert!(!expected.is_empty());
        let report = import_bytes(&app, kind, file(&lines)).await;
        assert_eq!(counts(&report), ((lines.len() - old) as u64, old as u64, 0));
        assert_eq!(report.imported, expected, "{kind:?}");
    }
}
