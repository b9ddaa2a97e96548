//! Filing in the browser and reading the case page, as each kind of person.

use redress::domain::role::Role;

use crate::helpers::{link_in, with_samples};

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
    assert!(zh.body.contains("交易成功，请查看电子小票"), "finding title in Chinese");
    assert!(zh.body.contains("000004267463"), "names the RRN it rests on");
    assert!(zh.body.contains("电子签购单"), "shows the e-receipt");
    let en = me.get_with(&case_path, &[("accept-language", "en")]).await;
    // Seeded users have no language setting, so the browser's choice applies.
    assert!(en.body.contains("Payment went through: here is your receipt"), "{}", en.body);
    assert!(en.body.contains("Electronic receipt"));

    let list = me.get("/my").await;
    assert!(list.body.contains(&case_path));

    // wrong_amount asks for what the terminal showed.
    let missing = me
        .post_form(
            "/claims/new/wrong_amount",
            &[("card_last4", "8934"), ("amount", "30341.70"), ("date", "2026-11-04"), ("time", "12:20")],
        )
        .await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains(r#"id="expected_amount-error""#));
    assert!(missing.body.contains("30341.70"), "what was typed is kept");
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
    assert!(page.body.contains("27307.53 CNY"), "the refund due is named");
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
    assert!(page.body.contains("请勿输入完整卡号"), "{}", page.body);
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
    assert_eq!(sent.status, 200);
    assert!(sent.body.contains("walk-in@example.com"));
    let outbox = app.outbox().await;
    let mail = outbox.iter().find(|n| n.event == "claim_received").expect("the link is mailed");
    assert_eq!(mail.recipient, "walk-in@example.com");
    let link = link_in(&mail.body_text, &format!("{}/claims/confirm?token=", app.base));
    let path = link.trim_start_matches(&app.base);
    let token = path.split("token=").nth(1).unwrap();

    assert_eq!(visitor.get(path).await.status, 200);
    let opened = visitor.post_form("/claims/confirm", &[("token", token)]).await;
    assert_eq!(opened.status, 303);
    let case_path = opened.header("location").to_owned();
    let page = visitor.get(&case_path).await;
    assert_eq!(page.status, 200, "signed in by the link");
    assert!(page.body.contains("000004267530"));
    // The account sees the case among its cases.
    assert!(visitor.get("/my").await.body.contains(&case_path));
    // The link works once.
    let again = app.browser().post_form("/claims/confirm", &[("token", token)]).await;
    assert!(again.body.contains("该链接已失效"));
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
    assert!(page.body.contains("000004267530"));
    assert!(!page.body.contains("holder@example.com") && !page.body.contains("out of paper"), "no customer details");

    let other = app.signed_in(Role::Merchant, "other@example.com", &["851424736185314"]).await;
    assert_eq!(other.get(&case_path).await.status, 404);
    let stranger = app.signed_in(Role::Customer, "stranger@example.com", &[]).await;
    assert_eq!(stranger.get(&case_path).await.status, 404);
    let agent = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    assert!(agent.get(&case_path).await.body.contains("holder@example.com"));
}
