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
