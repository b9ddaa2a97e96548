//! Evidence files on a case: kinds by content, size and count limits, who may see them.

use redress::domain::role::Role;

use crate::helpers::{Browser, TestApp};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but well-typed";

async fn app_with_case() -> (TestApp, Browser, String) {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    app.import_samples().await;
    let me = app.signed_in(Role::Customer, "holder@example.com", &[]).await;
    let filed = me
        .post_form(
            "/claims/new/no_receipt",
            &[("card_last4", "2015"), ("amount", "954.82"), ("date", "2026-11-12"), ("time", "13:20")],
        )
        .await;
    let case_path = filed.header("location").to_owned();
    (app, me, case_path)
}

async fn upload(
    app: &TestApp,
    b: &Browser,
    case_path: &str,
    name: &str,
    bytes: Vec<u8>,
    with_csrf: bool,
) -> (u16, String) {
    let csrf = b.get(case_path).await.csrf();
    let query = if with_csrf { format!("?_csrf={csrf}") } else { String::new() };
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
    let res = b
        .client
        .post(b.url(&format!("{case_path}/evidence{query}")))
        .header("origin", &app.base)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, location)
}

#[tokio::test]
async fn the_customer_adds_files_checked_by_content_and_limited_in_size_and_number() {
    let (app, me, case_path) = app_with_case().await;
    let (status, location) = upload(&app, &me, &case_path, "短信截图.png", PNG.to_vec(), true).await;
    assert_eq!((status, location.as_str()), (303, format!("{case_path}?evidence=added#evidence").as_str()));
    let page = me.get(&location).await;
    assert_eq!(page.select_all("#evidence li a"), ["短信截图.png"]);
    assert_eq!(page.count("#evidence .notice.ok[role=status]"), 1, "told it was added");

    let (_, wrong) =
        upload(&app, &me, &case_path, "looks-like.png", b"<html><script>alert(1)</script>".to_vec(), true).await;
    assert!(wrong.contains("evidence=wrong_type"), "{wrong}");
    let (_, big) = upload(
        &app,
        &me,
        &case_path,
        "big.pdf",
        [b"%PDF-1.7\n".as_slice(), &vec![b'x'; 5 * 1024 * 1024]].concat(),
        true,
    )
    .await;
    assert!(big.contains("evidence=too_large"), "{big}");
    for i in 0..4 {
        let (_, added) = upload(&app, &me, &case_path, &format!("slip{i}.png"), PNG.to_vec(), true).await;
        assert!(added.contains("evidence=added"));
    }
    let (_, sixth) = upload(&app, &me, &case_path, "one-more.png", PNG.to_vec(), true).await;
    assert!(sixth.contains("evidence=too_many"), "{sixth}");
    assert_eq!(upload(&app, &me, &case_path, "x.png", PNG.to_vec(), false).await.0, 403, "CSRF applies to uploads");
}

#[tokio::test]
async fn files_are_served_as_attachments_to_the_customer_and_the_desk_only() {
    let (app, me, case_path) = app_with_case().await;
    upload(&app, &me, &case_path, "statement.png", PNG.to_vec(), true).await;
    let page = me.get(&case_path).await;
    let file_path = page.attr("#evidence li a", "href");
    assert!(file_path.starts_with(&format!("{case_path}/evidence/")), "{file_path}");

    let res = me.client.get(me.url(&file_path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment;") && disposition.contains("statement.png"), "{disposition}");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);

    let agent = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    assert_eq!(agent.get(&file_path).await.status, 200);
    let staff = app.signed_in(Role::Merchant, "clerk@example.com", &["828844912590296"]).await;
    assert_eq!(staff.get(&case_path).await.status, 200, "the merchant sees the case…");
    assert_eq!(staff.get(&file_path).await.status, 404, "…but not the customer's files");
    assert!(!staff.get(&case_path).await.body.contains("statement.png"));
    let stranger = app.signed_in(Role::Customer, "stranger@example.com", &[]).await;
    assert_eq!(stranger.get(&file_path).await.status, 404);
    assert_eq!(upload(&app, &stranger, &case_path, "x.png", PNG.to_vec(), true).await.0, 404);
}

/// The evidence section of the case page, as the customer reads it.
async fn evidence_notice(me: &Browser, location: &str) -> String {
    let page = me.get(location.split('#').next().unwrap()).await;
    let html = scraper::Html::parse_document(&page.body);
    let notice = scraper::Selector::parse("#evidence .notice, .notice.bad").unwrap();
    html.select(&notice).map(|n| n.text().collect::<String>()).collect::<Vec<_>>().join(" ")
}

/// A person signed in without a cookie jar, so the raw upload below can carry the session.
async fn session_cookie(app: &TestApp, email: &str, password: &str) -> String {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let cookie_of =
        |res: &reqwest::Response| res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let home = client.get(format!("{}/", app.base)).send().await.unwrap();
    let anonymous = cookie_of(&home);
    let csrf = crate::helpers::Browser::page(home).await.csrf();
    let signed_in = client
        .post(format!("{}/login", app.base))
        .header("cookie", &anonymous)
        .header("origin", &app.base)
        .form(&[("_csrf", csrf.as_str()), ("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    cookie_of(&signed_in)
}

/// Sends the whole multipart request before reading anything, as a browser uploading a file
/// does, and returns the status line and Location; `None` when the server cut the connection.
async fn upload_like_a_browser(app: &TestApp, cookie: &str, path: &str, csrf: &str, file: &[u8]) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let boundary = "----redress-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let host = app.base.trim_start_matches("http://");
    let head = format!(
        "POST {path}/evidence?_csrf={csrf} HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\nCookie: {cookie}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.base,
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    stream.write_all(head.as_bytes()).await.ok()?;
    stream.write_all(&body).await.ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.ok()?;
    let text = String::from_utf8_lossy(&answer);
    let status = text.lines().next()?.to_owned();
    let location = text.lines().find_map(|l| l.strip_prefix("location: ")).unwrap_or_default();
    Some(format!("{status} {location}"))
}

#[tokio::test]
async fn a_file_over_the_limit_gets_a_page_saying_so_not_a_reset_connection() {
    let (app, _, case_path) = app_with_case().await;
    let password = app.seed_user(Role::Customer, "photographer@example.com", &[]).await;
    let cookie = session_cookie(&app, "photographer@example.com", &password).await;
    // Give the case to the person uploading: they must own it to add files.
    let id: i64 = case_path.trim_start_matches("/cases/").parse().unwrap();
    let owner = redress::db::users::find_login(&app.db, "photographer@example.com").await.unwrap().unwrap().0.id;
    let mut tx = app.db.begin().await.unwrap();
    tx.execute_sql(&format!("UPDATE cases SET customer_user_id = {owner} WHERE id = {id}")).await.unwrap();
    tx.commit().await.unwrap();
    let page =
        reqwest::Client::new().get(format!("{}{case_path}", app.base)).header("cookie", &cookie).send().await.unwrap();
    let csrf = crate::helpers::Browser::page(page).await.csrf();
    // One byte over 5 MiB, and a phone photo's size: both read to the end and answered.
    for size in [5 * 1024 * 1024 + 1, 12 * 1024 * 1024] {
        let bytes = [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![b'x'; size - 8]].concat();
        let answer = upload_like_a_browser(&app, &cookie, &case_path, &csrf, &bytes).await;
        let answer = answer.unwrap_or_else(|| panic!("{size} bytes: the connection was cut before an answer"));
        assert!(answer.starts_with("HTTP/1.1 303"), "{size} bytes: {answer}");
        assert!(answer.contains("evidence=too_large"), "{size} bytes: {answer}");
    }
    let page = reqwest::Client::new()
        .get(format!("{}{case_path}?evidence=too_large", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let html = scraper::Html::parse_document(&page.text().await.unwrap());
    let said: String =
        html.select(&scraper::Selector::parse("#evidence .notice").unwrap()).flat_map(|n| n.text()).collect();
    assert!(said.contains("5 MB"), "the limit is named: {said}");
    assert_eq!(redress::db::evidence::of_case(&app.db, id).await.unwrap().len(), 0, "nothing was stored");
}

#[tokio::test]
async fn a_closed_case_takes_no_more_evidence_even_when_the_page_is_bypassed() {
    let (app, me, case_path) = app_with_case().await;
    let id: i64 = case_path.trim_start_matches("/cases/").parse().unwrap();
    for state in ["resolved", "rejected", "withdrawn", "closed"] {
        let mut tx = app.db.begin().await.unwrap();
        tx.execute_sql(&format!("UPDATE cases SET state = '{state}' WHERE id = {id}")).await.unwrap();
        tx.commit().await.unwrap();
        let page = me.get(&case_path).await;
        let html = scraper::Html::parse_document(&page.body);
        let file_input = scraper::Selector::parse("input[type=file]").unwrap();
        assert_eq!(html.select(&file_input).count(), 0, "{state}: the page offers no upload");
        let (status, location) = upload(&app, &me, &case_path, "late.png", PNG.to_vec(), true).await;
        assert_eq!(status, 303, "{state}");
        assert!(location.contains("evidence=closed"), "{state}: {location}");
        let said = evidence_notice(&me, &location).await;
        assert!(said.contains("已结束"), "{state}: the page says the case is closed: {said}");
    }
    assert_eq!(redress::db::evidence::of_case(&app.db, id).await.unwrap().len(), 0, "nothing was added");
}
