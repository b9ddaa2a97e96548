//! Operations: `/metrics` behind its token, the evidence pack PDF, and the binary serving its
//! built-in static files (and JSON logs) from any directory.

use std::process::Command;

use redress::domain::role::Role;

use crate::helpers::{Browser, Server, TestApp};

const METRICS_TOKEN: &str = "metrics-token-for-tests-0123456789";

async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{}/metrics", app.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let res = request.send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).map(|v| v.parse().unwrap()))
}

#[tokio::test]
async fn metrics_need_their_token_and_expose_every_family_after_traffic() {
    let app = TestApp::spawn_with(&[("REDRESS_METRICS_TOKEN", METRICS_TOKEN)]).await;
    app.load_merchants().await;
    app.import_samples().await;
    let agent = app.token(Role::Agent, &[]).await;
    crate::helpers::import(&app, &agent, "settlement", crate::helpers::sample("settlement.csv")).await;
    let case_id = crate::helpers::file(&app, 1).await;
    let visitor = app.browser();
    assert_eq!(visitor.get("/").await.status, 200);
    assert_eq!(visitor.get("/no/such/page").await.status, 404);
    assert_ne!(visitor.get("/cases/4111111111111111").await.status, 200, "refused at the door");
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/cases/{case_id}", app.base))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    assert_eq!(scrape(&app, None).await.0, 401, "no token");
    assert_eq!(scrape(&app, Some("metrics-token-for-tests-wrong-one")).await.0, 401, "a wrong token");
    let (status, text) = scrape(&app, Some(METRICS_TOKEN)).await;
    assert_eq!(status, 200, "{text}");

    // Requests by route template and status, with latency histograms.
    let api = r#"redress_http_requests_total{method="GET",route="/api/v1/cases/{id}",status="200"}"#;
    assert!(sample(&text, api).is_some_and(|n| n >= 1.0), "{api} in\n{text}");
    assert!(sample(&text, r#"redress_http_requests_total{method="GET",route="/",status="200"}"#).is_some());
    assert!(sample(&text, r#"redress_http_requests_total{method="GET",route="unmatched",status="404"}"#).is_some());
    assert!(text.contains(r#"redress_http_request_duration_seconds_bucket{method="GET",route="/",le="0.005"}"#));
    // Never a raw path: ids and whatever a visitor typed stay out of the labels.
    assert!(!text.contains(&format!("/api/v1/cases/{case_id}\"")) && !text.contains("4111111111111111"));
    // Imports and matching.
    assert!(
        sample(&text, r#"redress_import_rows_total{kind="settlement",outcome="unchanged"}"#).is_some_and(|n| n > 0.0)
    );
    assert!(text.contains(r#"redress_import_duration_seconds_bucket{kind="settlement",le="#));
    assert!(text.contains("redress_matching_duration_seconds_bucket{le="));
    // Counted in the database at scrape time: this app's own numbers.
    assert_eq!(sample(&text, r#"redress_open_cases{state="reversal_pending"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"redress_open_cases{state="under_review"}"#), Some(0.0));
    let pending = app.outbox().await.iter().filter(|n| n.status == "pending").count() as f64;
    assert!(pending > 0.0);
    assert_eq!(sample(&text, r#"redress_outbox_notices{status="pending"}"#), Some(pending));
    // No endpoint is subscribed here, so the webhook queue is present and empty.
    assert_eq!(sample(&text, r#"redress_webhook_deliveries{status="pending"}"#), Some(0.0), "{text}");
    assert!(sample(&text, r#"redress_open_exceptions{exception="orphan_debit"}"#).is_some(), "{text}");
    assert!(text.contains("# TYPE redress_http_requests_total counter"), "{text}");
    assert!(text.contains("# TYPE redress_open_cases gauge"), "{text}");
}

#[tokio::test]
async fn without_a_token_there_are_no_metrics() {
    let app = TestApp::spawn().await;
    assert_eq!(scrape(&app, None).await.0, 404);
    assert_eq!(scrape(&app, Some(METRICS_TOKEN)).await.0, 404);
}

/// A customer's case on sample records (reversal due on a payment that looked failed).
async fn customer_case(app: &TestApp) -> (Browser, String) {
    app.load_merchants().await;
    app.import_samples().await;
    let me = app.signed_in(Role::Customer, "holder@example.com", &[]).await;
    let filed = me
        .post_form(
            "/claims/new/no_receipt",
            &[("card_last4", "2015"), ("amount", "954.82"), ("date", "2026-11-12"), ("time", "13:20")],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    (me, filed.header("location").to_owned())
}

async fn download(b: &Browser, path: &str, lang: &str) -> (u16, String, Vec<u8>) {
    let res = b.client.get(b.url(path)).header("accept-language", lang).send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, kind, res.bytes().await.unwrap().to_vec())
}

/// The text of a PDF as poppler's pdftotext extracts it (what a bank clerk's search finds).
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pack.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext runs (apt-get install poppler-utils)");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn the_evidence_pack_is_a_pdf_in_the_readers_language_for_the_customer_and_the_desk() {
    let app = TestApp::spawn().await;
    let (me, case_path) = customer_case(&app).await;
    let id: i64 = case_path.rsplit('/').next().unwrap().parse().unwrap();
    let rrn = redress::db::cases::matched_debits(&app.db, id).await.unwrap()[0].rrn.to_string();
    let page = me.get(&case_path).await;
    let pack_path = format!("{case_path}/pack.pdf");
    assert_eq!(page.attr("a.pack-link", "href"), pack_path, "the case page links the pack");

    let (status, kind, pdf) = download(&me, &pack_path, "zh-CN").await;
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    assert!(pdf.starts_with(b"%PDF-"));
    // Kept for a person to look at (pdftoppm renders it), like the browser journeys' screenshots.
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/target/evidence-pack-zh.pdf"), &pdf).unwrap();
    let text = pdf_text(&pdf);
    assert!(text.contains(&rrn), "the RRN {rrn} in\n{text}");
    assert!(text.contains("银行卡交易争议证据材料"), "the title in Chinese:\n{text}");
    assert!(text.contains("中国银联客服热线 95516"), "where to go next:\n{text}");
    assert!(text.contains("4502"), "the reason code for a reversal due:\n{text}");
    assert!(text.contains("未收到银行应答"), "the terminal's own record of the payment:\n{text}");
    assert!(!text.contains("reversal_due") && !text.contains("no_response"), "codes stay out:\n{text}");
    assert!(text.contains("¥954.82") || text.contains("954.82"), "{text}");
    // The font is embedded (a subset), so any reader draws the Chinese.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pack.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let fonts = String::from_utf8(Command::new("pdffonts").arg(&file).output().unwrap().stdout).unwrap();
    let embedded: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!embedded.is_empty() && embedded.iter().all(|l| l.contains(" yes ")), "{fonts}");
    assert!(embedded.iter().any(|l| l.contains("DroidSansFallback")), "{fonts}");

    let (_, _, english) = download(&me, &pack_path, "en").await;
    std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/target/evidence-pack-en.pdf"), &english).unwrap();
    let text = pdf_text(&english);
    assert!(text.contains("Card dispute evidence pack") && text.contains(&rrn), "{text}");

    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    assert_eq!(download(&desk, &pack_path, "en").await.0, 200);
    let staff = app.signed_in(Role::Merchant, "clerk@example.com", &["828844912590296"]).await;
    assert_eq!(staff.get(&case_path).await.status, 200, "the merchant sees the case…");
    assert_eq!(download(&staff, &pack_path, "en").await.0, 403, "…but the pack is the customer's");
    assert!(!staff.get(&case_path).await.has("a.pack-link"));
    let stranger = app.signed_in(Role::Customer, "stranger@example.com", &[]).await;
    assert_eq!(download(&stranger, &pack_path, "en").await.0, 404);
    let nobody = app.browser();
    assert_ne!(download(&nobody, &pack_path, "en").await.0, 200);
}

#[tokio::test]
async fn the_binary_serves_its_built_in_static_files_from_any_directory_and_logs_json() {
    let app = TestApp::spawn().await;
    let elsewhere = tempfile::tempdir().unwrap();
    let log = elsewhere.path().join("server.log");
    let server = Server::start_in(
        elsewhere.path(),
        &app.database_url,
        &[("REDRESS_LOG_FORMAT", "json"), ("REDRESS_STATIC_DIR", ""), ("RUST_LOG", "info,tower_http=debug")],
        &log,
    )
    .await;
    let client = reqwest::Client::new();
    let home = client.get(format!("{}/", server.base())).send().await.unwrap().text().await.unwrap();
    let css_href = scraper::Html::parse_document(&home)
        .select(&scraper::Selector::parse("link[rel=stylesheet]").unwrap())
        .next()
        .and_then(|l| l.value().attr("href").map(str::to_owned))
        .unwrap();
    let css =
        client.get(format!("{}{css_href}", server.base())).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css");
    assert_eq!(css.headers()["content-encoding"], "gzip");
    assert!(css.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let etag = css.headers()["etag"].to_str().unwrap().to_owned();
    let again =
        client.get(format!("{}/static/app.css", server.base())).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    let plain = client.get(format!("{}/static/app.css", server.base())).send().await.unwrap().text().await.unwrap();
    assert_eq!(plain, std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/static/app.css")).unwrap());
    assert_eq!(client.get(format!("{}/static/nope.css", server.base())).send().await.unwrap().status(), 404);
    server.stop();

    // Every line a JSON object; the request lines carry the request id of their span.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    let ids: Vec<&str> = lines.iter().filter_map(|l| l["span"]["id"].as_str()).collect();
    assert!(ids.iter().any(|id| id.len() == 16), "{lines:?}");
}

#[tokio::test]
async fn the_shipped_settlement_update_resolves_a_demo_case_when_the_demo_agent_uploads_it() {
    let app = TestApp::spawn().await;
    redress::demo::load_all(&app.db, &app.config).await.unwrap();
    // The demo case on the payment the update returns (RRN 000004267530), waiting for its reversal.
    let mut waiting = None;
    for id in 1..=redress::db::cases::count(&app.db).await.unwrap() {
        let debits = redress::db::cases::matched_debits(&app.db, id).await.unwrap();
        if debits.iter().any(|d| d.rrn.as_str() == "000004267530") {
            waiting = Some(id);
        }
    }
    let id = waiting.expect("a demo case rests on the debit the update returns");
    assert_eq!(crate::helpers::case(&app, id).await.state.as_str(), "reversal_pending");

    let agent = app.browser();
    assert_eq!(agent.login("agent@redress.demo", redress::demo::PASSWORD).await.status, 303);
    let csrf = agent.get("/imports").await.csrf();
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/settlement-update.csv")).unwrap();
    let form = reqwest::multipart::Form::new().text("kind", "settlement").part(
        "file",
        reqwest::multipart::Part::text(file).file_name("settlement-update.csv").mime_str("text/csv").unwrap(),
    );
    let res = agent
        .client
        .post(agent.url(&format!("/imports?_csrf={csrf}")))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the report follows the upload as a page of its own");

    assert_eq!(crate::helpers::case(&app, id).await.state.as_str(), "resolved");
    assert_eq!(crate::helpers::mails(&app, "money_arrived", "customer@redress.demo").await.len(), 1);
}
