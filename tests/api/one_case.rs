//! One payment, one case (DESIGN.md §6): a reload or a double click files nothing new, the same
//! customer is sent to the case they have, someone else's claim on the same payment goes to the
//! desk linked to it, and one executed refund or credit settles one case only.

use redress::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{Browser, Page, TestApp, case, import, sample_claim, with_samples};

/// The README's example payment: merchant 828844912590296's terminal got no answer.
fn readme_claim(email: &str) -> Value {
    json!({"kind": "no_receipt", "card_last4": "2015", "amount": "954.82",
           "occurred_at": "2026-11-12T13:20+08:00", "contact_email": email})
}

const README_FORM: [(&str, &str); 4] =
    [("card_last4", "2015"), ("amount", "954.82"), ("date", "2026-11-12"), ("time", "13:20")];

/// Posts a claim to the API; returns the status and the body.
async fn claims_api(app: &TestApp, bank: &str, claim: &Value, key: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(format!("{}/api/v1/claims", app.base)).bearer_auth(bank).json(claim);
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Opens the claim form and submits it with the form's own one-time token, `times` times.
async fn submit_form(who: &Browser, fields: &[(&str, &str)], times: usize) -> Vec<Page> {
    let form = who.get("/claims/new/no_receipt").await;
    let token = form.field_value("filing_token");
    assert!(token.len() >= 20, "the form carries a one-time token: {token:?}");
    let mut all = vec![("filing_token", token.as_str())];
    all.extend_from_slice(fields);
    let mut pages = Vec::new();
    for _ in 0..times {
        pages.push(who.post_form("/claims/new/no_receipt", &all).await);
    }
    pages
}

async fn cases_count(app: &TestApp) -> i64 {
    redress::db::cases::count(&app.db).await.unwrap()
}

#[tokio::test]
async fn reloading_or_double_clicking_the_filing_form_files_one_case() {
    let app = with_samples().await;
    let me = app.signed_in(Role::Customer, "holder1@example.com", &[]).await;
    let pages = submit_form(&me, &README_FORM, 3).await;
    let first = pages[0].header("location").to_owned();
    assert!(first.starts_with("/cases/"), "{first}");
    // The same form sent again opens the case it filed, saying no second one was filed.
    for again in &pages[1..] {
        assert_eq!(
            (again.status.as_u16(), again.header("location")),
            (303, format!("{first}?notice=already_filed").as_str())
        );
    }
    assert_eq!(cases_count(&app).await, 1);

    // Without an account: one case, one emailed link, and the result page is a GET.
    let walk_in = app.browser();
    let sample0 = [("card_last4", "2470"), ("amount", "2220.99"), ("date", "2026-11-05"), ("time", "17:15")];
    let mut fields = sample0.to_vec();
    fields.push(("contact_email", "walk-in@example.com"));
    let pages = submit_form(&walk_in, &fields, 2).await;
    assert_eq!(pages[0].status.as_u16(), 303);
    assert!(pages[0].header("location").starts_with("/claims/status/"), "{}", pages[0].header("location"));
    // Sent again: no second case, and no link to the first one (whoever sends the same address
    // and payment has not proved the address is theirs); the first filing's email is the way back.
    assert_eq!((pages[1].status.as_u16(), pages[1].header("location")), (303, "/claims/sent?already=1"));
    assert_eq!(cases_count(&app).await, 2);
    let links = app.outbox().await.into_iter().filter(|m| m.recipient == "walk-in@example.com").count();
    assert_eq!(links, 1, "one link for one case");
    let again = walk_in.get("/claims/sent?already=1").await;
    assert!(again.select_text(".message, main").contains("没有重复提交"), "{}", again.body);
}

#[tokio::test]
async fn the_api_idempotency_key_answers_with_the_case_already_filed() {
    let app = with_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    let claim = readme_claim("holder1@example.com");
    let (status, filed) = claims_api(&app, &bank, &claim, Some("order-7731")).await;
    assert_eq!(status, 201);
    let (status, again) = claims_api(&app, &bank, &claim, Some("order-7731")).await;
    assert_eq!((status, &again["id"]), (200, &filed["id"]));
    assert_eq!(again["state"], "reversal_pending");
    assert_eq!(cases_count(&app).await, 1);

    let (status, refused) = claims_api(&app, &bank, &claim, Some(&"k".repeat(201))).await;
    assert_eq!((status, refused["error"].as_str()), (400, Some("invalid_idempotency_key")));
    assert_eq!(cases_count(&app).await, 1);
}

#[tokio::test]
async fn the_same_customer_filing_again_gets_the_case_they_have() {
    let app = with_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    let (status, filed) = claims_api(&app, &bank, &readme_claim("holder1@example.com"), None).await;
    assert_eq!(status, 201);
    // The same address in other letters is the same customer.
    let (status, again) = claims_api(&app, &bank, &readme_claim("Holder1@Example.com"), None).await;
    assert_eq!((status, &again["id"]), (200, &filed["id"]));

    // In the browser: a second form (its own token) opens the existing case with a notice.
    let me = app.signed_in(Role::Customer, "holder2@example.com", &[]).await;
    let first = submit_form(&me, &README_FORM[..], 1).await.remove(0);
    let mine = first.header("location").to_owned();
    let second = submit_form(&me, &README_FORM[..], 1).await.remove(0);
    assert_eq!(second.header("location"), format!("{mine}?notice=already_filed"));
    let page = me.get(second.header("location")).await;
    assert!(page.select_text(".notice").contains("没有重复提交"), "{}", page.body);
}

#[tokio::test]
async fn someone_elses_claim_on_the_same_payment_goes_to_the_desk_linked_and_pays_nothing() {
    let app = with_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    let (_, first) = claims_api(&app, &bank, &readme_claim("holder1@example.com"), None).await;
    assert_eq!(first["state"], "reversal_pending");
    let first_id = first["id"].as_i64().unwrap();

    let other = app.signed_in(Role::Customer, "other@example.com", &[]).await;
    let filed = submit_form(&other, &README_FORM, 1).await.remove(0);
    let second_id: i64 = filed.header("location").trim_start_matches("/cases/").parse().unwrap();
    assert_ne!(second_id, first_id);
    let second = case(&app, second_id).await;
    assert_eq!(second.state.as_str(), "under_review", "no remedy runs by itself");
    assert_eq!(second.finding.map(|f| f.as_str()), Some("reversal_due"), "the finding stands for the desk");
    assert_eq!(second.review_reason.map(|r| r.as_str()), Some("claimed_elsewhere"));
    assert_eq!(second.related_case_id, Some(first_id));
    assert_eq!(case(&app, first_id).await.state.as_str(), "reversal_pending", "the first case is untouched");

    // Neither customer learns anything about the other.
    let theirs = other.get(&format!("/cases/{second_id}")).await;
    assert_eq!(theirs.count(".related"), 0);
    assert!(!theirs.body.contains("holder1@example.com") && !theirs.body.contains(&format!("/cases/{first_id}\"")));

    // The desk sees both, linked both ways.
    let desk = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let page = desk.get(&format!("/cases/{second_id}")).await;
    assert_eq!(page.attr(".related a", "href"), format!("/cases/{first_id}"));
    let page = desk.get(&format!("/cases/{first_id}")).await;
    assert_eq!(page.attr(".related a", "href"), format!("/cases/{second_id}"));
}

#[tokio::test]
async fn one_executed_refund_and_one_credit_settle_one_case() {
    let app = with_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    // Sample 17: no refund recorded, the merchant must confirm it. A second cardholder's claim on
    // the same payment is the desk's; the desk approves a refund on it too.
    let (_, first) = claims_api(&app, &bank, &sample_claim(17), None).await;
    let first_id = first["id"].as_i64().unwrap();
    let mut other = sample_claim(17);
    other["contact_email"] = json!("other@example.com");
    let (_, second) = claims_api(&app, &bank, &other, None).await;
    let second_id = second["id"].as_i64().unwrap();
    let before = case(&app, first_id).await;
    assert_eq!(before.state.as_str(), "awaiting_merchant");
    let mid = before.matched_merchant_id.clone().unwrap();

    // The second case already carries the execution the merchant is about to record.
    let mut tx = app.db.begin().await.unwrap();
    tx.execute_sql(&format!(
        "UPDATE cases SET executed_batch_no = '000031', executed_trace_no = '000457' WHERE id = {second_id}"
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let staff = app.signed_in(Role::Merchant, "till@shop.example", &[&mid]).await;
    let confirm = |trace: &'static str| {
        let staff = &staff;
        async move {
            let page = staff.get(&format!("/cases/{first_id}")).await;
            let version = page.field_value("version");
            let fields = [("version", version.as_str()), ("batch_no", "000031"), ("trace_no", trace), ("rrn", "")];
            staff.post_form(&format!("/cases/{first_id}/act/merchant_confirm"), &fields).await
        }
    };
    let refused = confirm("000457").await;
    assert_eq!(refused.status, 409);
    assert!(refused.select_text(".notice[role=alert]").contains("另一个申请"), "{}", refused.body);
    assert_eq!(case(&app, first_id).await.state.as_str(), "awaiting_merchant", "nothing was applied");
    let done = confirm("000458").await;
    assert_eq!(done.status, 303, "{}", done.body);
    let pending = case(&app, first_id).await;
    assert_eq!(pending.state.as_str(), "refund_pending");

    // Both cases now wait for the same refund; the acquirer's one credit settles one of them.
    let mut tx = app.db.begin().await.unwrap();
    tx.execute_sql(&format!(
        "UPDATE cases SET state = 'refund_pending', remedy_kind = 'refund', remedy_minor = {}, remedy_rrn = '{}'
         WHERE id = {second_id}",
        pending.remedy_minor.unwrap(),
        pending.remedy_rrn.clone().unwrap()
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let debit = &redress::db::cases::matched_debits(&app.db, first_id).await.unwrap()[0];
    let credit = format!(
        "entry_id,merchant_id,terminal_id,trace_no,rrn,card,direction,amount,currency,txn_time,settled_on,orig_rrn\n\
         ONE-CREDIT-1,{mid},{tid},000458,900000000458,{card},credit,{amount},CNY,2026-11-20T10:00:00+08:00,2026-11-21,{rrn}\n",
        tid = debit.terminal_id,
        card = debit.card.as_str(),
        amount =
            redress::domain::money::Money::new(pending.remedy_minor.unwrap(), debit.amount.currency).major_string(),
        rrn = debit.rrn,
    );
    let agent = app.token(Role::Agent, &[]).await;
    import(&app, &agent, "settlement", credit).await;
    let states = [case(&app, first_id).await.state.as_str(), case(&app, second_id).await.state.as_str()];
    assert_eq!(states.iter().filter(|s| **s == "resolved").count(), 1, "one credit, one case: {states:?}");
}
