//! Filing in the browser and reading the case page, as each kind of person.

use redress::domain::role::Role;

use crate::helpers::{Browser, Page, link_in, token_of, with_samples};

/// The values of the e-receipt on a case page.
fn receipt(page: &Page) -> Vec<String> {
    page.select_all("section.receipt dd")
}

/// The RRNs of the debits a case page lists (the fifth column of its records table).
fn matched_rrns(page: &Page) -> Vec<String> {
    page.select_all("section[aria-labelledby=records-title] tbody td:nth-child(5)")
}

/// The case pages a customer's list links to.
async fn my_cases(me: &Browser) -> Vec<String> {
    me.get("/my").await.attrs("table tbody a", "href")
}

#[tokio::test]
async fn a_signed_in_customer_files_each_kind_and_reads_the_finding_in_both_languages() {
    let app = with_samples().await;
    let me = app.signed_in(Role::Customer, "holder@example.com", &[]).await;
    for kind in ["no_receipt", "duplicate_charge", "wrong_amount", "refund_not_received"] {
        assert_eq!(me.get(&format!("/claims/new/{kind}")).await.status, 200, "{kind} form");
    }
    // Sample claim 0: a sale that went through without a receipt.
    let filed = me
        .post_form(
            "/claims/new/no_receipt",
            &[
                ("card_last4", "2470"),
                ("amount", "2220.99"),
                ("currency", "CNY"),
                ("date", "2026-11-05"),
                ("time", "17:15"),
            ],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let case_path = filed.header("location").to_owned();
    assert!(case_path.starts_with("/cases/"));

    let zh = me.get(&case_path).await;
    assert_eq!(zh.status, 200);
    assert_eq!(zh.select_text("#finding-title"), "交易成功，请查看电子小票", "finding title in Chinese");
    assert!(zh.select_text("#finding-title + p").contains("000004267463"), "names the RRN it rests on");
    assert_eq!(zh.select_text("#receipt-title"), "电子签购单", "shows the e-receipt");
    assert!(receipt(&zh).contains(&"000004267463".to_owned()), "{:?}", receipt(&zh));
    let en = me.get_with(&case_path, &[("accept-language", "en")]).await;
    // Seeded users have no language setting, so the browser's choice applies.
    assert_eq!(en.select_text("#finding-title"), "Payment went through: here is your receipt");
    assert_eq!(en.select_text("#receipt-title"), "Electronic receipt");

    assert_eq!(my_cases(&me).await, [case_path.as_str()]);

    // wrong_amount asks for what the terminal showed.
    let missing = me
        .post_form(
            "/claims/new/wrong_amount",
            &[("card_last4", "8934"), ("amount", "30341.70"), ("date", "2026-11-04"), ("time", "12:20")],
        )
        .await;
    assert_eq!(missing.status, 422);
    assert!(!missing.field_error("expected_amount").is_empty());
    assert_eq!(missing.field_value("amount"), "30341.70", "what was typed is kept");
    let filed = me
        .post_form(
            "/claims/new/wrong_amount",
            &[
                ("card_last4", "8934"),
                ("amount", "30341.70"),
                ("expected_amount", "3034.17"),
                ("date", "2026-11-04"),
                ("time", "12:20"),
            ],
        )
        .await;
    assert_eq!(filed.status, 303);
    let page = me.get_with(filed.header("location"), &[("accept-language", "en")]).await;
    assert!(page.select_text("#finding-title + p").contains("CNY 27,307.53"), "the refund due is named");
}

#[tokio::test]
async fn a_full_card_number_is_refused_and_not_shown_again() {
    let app = with_samples().await;
    let me = app.signed_in(Role::Customer, "holder@example.com", &[]).await;
    let pan = "6228480402564890018";
    let page = me
        .post_form(
            "/claims/new/no_receipt",
            &[("card_last4", "0018"), ("amount", "10.00"), ("date", "2026-11-05"), ("description", pan)],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.field_error("description").contains("请勿输入完整卡号"));
    assert!(!page.body.contains(pan));
    assert_eq!(redress::db::cases::count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn without_an_account_the_emailed_link_confirms_the_address_and_opens_the_case() {
    let app = with_samples().await;
    let visitor = app.browser();
    let sent = visitor
        .post_form(
            "/claims/new/no_receipt",
            &[
                ("card_last4", "2015"),
                ("amount", "954.82"),
                ("date", "2026-11-12"),
                ("time", "13:20"),
                ("contact_email", "walk-in@example.com"),
            ],
        )
        .await;
    // Redirect after POST (§6): reloading the next page files nothing again.
    // The result at once, through the case's signed status link (issue 15).
    assert_eq!(sent.status.as_u16(), 303);
    let status = sent.header("location").to_owned();
    assert!(status.starts_with("/claims/status/"), "{status}");
    let told = visitor.get(&status).await;
    assert_eq!(told.status, 200);
    assert_eq!(told.select_text(".finding h2"), redress::i18n::Lang::ZhCn.t("finding.reversal_due.title"));
    assert_eq!(told.select_text(".detail"), "walk-in@example.com", "the page names where the link went");
    let outbox = app.outbox().await;
    let mail = outbox.iter().find(|n| n.event == "claim_received").expect("the link is mailed");
    assert_eq!(mail.recipient, "walk-in@example.com");
    let link = link_in(&mail.body_text, &format!("{}/claims/confirm?token=", app.base));
    let path = link.trim_start_matches(&app.base);
    let token = &token_of(&link);

    assert_eq!(visitor.get(path).await.status, 200);
    let opened = visitor.post_form("/claims/confirm", &[("token", token)]).await;
    assert_eq!(opened.status, 303);
    let case_path = opened.header("location").to_owned();
    let page = visitor.get(&case_path).await;
    assert_eq!(page.status, 200, "signed in by the link");
    assert_eq!(matched_rrns(&page), ["000004267530"]);
    // The account sees the case among its cases.
    assert_eq!(my_cases(&visitor).await, [case_path.as_str()]);
    // The link works once.
    let again = app.browser().post_form("/claims/confirm", &[("token", token)]).await;
    assert_eq!(again.select_text("#message-title"), "该链接已失效");
}

#[tokio::test]
async fn merchant_staff_see_their_cases_without_the_customers_details_and_others_see_nothing() {
    let app = with_samples().await;
    let me = app.signed_in(Role::Customer, "holder@example.com", &[]).await;
    let filed = me
        .post_form(
            "/claims/new/no_receipt",
            &[
                ("card_last4", "2015"),
                ("amount", "954.82"),
                ("date", "2026-11-12"),
                ("time", "13:20"),
                ("description", "The printer was out of paper"),
            ],
        )
        .await;
    let case_path = filed.header("location").to_owned();

    let staff = app.signed_in(Role::Merchant, "clerk@example.com", &["828844912590296"]).await;
    let page = staff.get(&case_path).await;
    assert_eq!(page.status, 200);
    assert_eq!(matched_rrns(&page), ["000004267530"]);
    assert!(!page.body.contains("holder@example.com") && !page.body.contains("out of paper"), "no customer details");

    let other = app.signed_in(Role::Merchant, "other@example.com", &["851424736185314"]).await;
    assert_eq!(other.get(&case_path).await.status, 404);
    let stranger = app.signed_in(Role::Customer, "stranger@example.com", &[]).await;
    assert_eq!(stranger.get(&case_path).await.status, 404);
    let agent = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let facts = agent.get(&case_path).await.select_all(".facts dd");
    assert!(facts.contains(&"holder@example.com".to_owned()), "the desk sees the contact: {facts:?}");
}
