//! New records change open cases: re-matching when records were missing, money that arrived.

use redress::domain::role::Role;
use serde_json::json;

use crate::helpers::{TestApp, get_case, import, post_claim, sample};

#[tokio::test]
async fn a_journal_upload_rematches_a_case_that_waited_for_it() {
    let app = TestApp::spawn().await;
    let (agent, bank) = (app.token(Role::Agent, &[]).await, app.token(Role::Customer, &[]).await);
    import(&app, &agent, "settlement", sample("settlement.csv")).await;
    let claim = json!({"kind": "no_receipt", "card_last4": "2470", "amount": "2220.99", "occurred_at": "2026-11-05T17:15:05+08:00", "contact_email": "holder0@example.com"});
    let filed = post_claim(&app, &bank, claim).await;
    assert_eq!(filed["finding"], "journal_missing");
    assert_eq!(filed["state"], "awaiting_merchant");

    import(&app, &agent, "journal", sample("journal.csv")).await;
    let now = get_case(&app, &agent, &filed["id"]).await;
    assert_eq!(now["finding"], "valid_sale_no_receipt", "{now}");
    assert_eq!(now["state"], "resolved");
    assert_eq!(now["remedy"]["kind"], "receipt");
}

#[tokio::test]
async fn a_claim_filed_before_any_records_is_matched_when_they_arrive() {
    let app = TestApp::spawn().await;
    let (agent, bank) = (app.token(Role::Agent, &[]).await, app.token(Role::Customer, &[]).await);
    let claim = json!({"kind": "duplicate_charge", "card_last4": "0325", "amount": "4970.19", "occurred_at": "2026-11-06T13:02+08:00", "contact_email": "holder10@example.com"});
    let filed = post_claim(&app, &bank, claim).await;
    assert_eq!(filed["finding"], "no_debit_found");
    assert_eq!(filed["state"], "awaiting_customer");
    import(&app, &agent, "journal", sample("journal.csv")).await;
    import(&app, &agent, "settlement", sample("settlement.csv")).await;
    let now = get_case(&app, &agent, &filed["id"]).await;
    assert_eq!(now["finding"], "duplicate_confirmed", "{now}");
    assert_eq!(now["state"], "refund_pending");
    assert_eq!(now["matched"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_settlement_credit_for_the_remedy_resolves_the_case_by_itself() {
    let app = TestApp::spawn().await;
    let (agent, bank) = (app.token(Role::Agent, &[]).await, app.token(Role::Customer, &[]).await);
    import(&app, &agent, "journal", sample("journal.csv")).await;
    import(&app, &agent, "settlement", sample("settlement.csv")).await;
    let claim = json!({"kind": "no_receipt", "card_last4": "2015", "amount": "954.82", "occurred_at": "2026-11-12T13:20+08:00", "contact_email": "holder1@example.com"});
    let filed = post_claim(&app, &bank, claim).await;
    assert_eq!(filed["state"], "reversal_pending");

    let header = sample("settlement.csv").lines().next().unwrap().to_owned();
    // A credit for another amount does not count…
    let partial = format!(
        "{header}\nCLRTEST00001,828844912590296,88360045,000052,000009999998,623668******2015,credit,100.00,CNY,2026-11-14T02:00:00Z,2026-11-14,000004267530\n"
    );
    import(&app, &agent, "settlement", partial).await;
    assert_eq!(get_case(&app, &agent, &filed["id"]).await["state"], "reversal_pending");
    // …the one that returns the remedy's amount does.
    let credit = format!(
        "{header}\nCLRTEST00002,828844912590296,88360045,000053,000009999999,623668******2015,credit,954.82,CNY,2026-11-14T03:00:00Z,2026-11-15,000004267530\n"
    );
    import(&app, &agent, "settlement", credit).await;
    let now = get_case(&app, &agent, &filed["id"]).await;
    assert_eq!(now["state"], "resolved", "{now}");
    let events = redress::db::cases::events(&app.db, now["id"].as_i64().unwrap()).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.action, "credit_imported");
    assert_eq!(last.note.as_deref(), Some("2026-11-15 000009999999"), "the date and RRN of the credit");
}

#[tokio::test]
async fn each_change_queues_its_notices_for_the_right_people() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    app.seed_user(Role::Merchant, "clerk@example.com", &["828844912590296"]).await;
    app.seed_user(Role::Merchant, "elsewhere@example.com", &["851424736185314"]).await;
    let (agent, bank) = (app.token(Role::Agent, &[]).await, app.token(Role::Customer, &[]).await);
    import(&app, &agent, "journal", sample("journal.csv")).await;
    import(&app, &agent, "settlement", sample("settlement.csv")).await;
    let claim = json!({"kind": "no_receipt", "card_last4": "2015", "amount": "954.82", "occurred_at": "2026-11-12T13:20+08:00", "contact_email": "holder1@example.com"});
    let filed = post_claim(&app, &bank, claim).await;
    let id = filed["id"].as_i64().unwrap();

    let sent = |outbox: &[redress::db::outbox::OutboxRow]| -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> =
            outbox.iter().filter(|n| n.case_id == Some(id)).map(|n| (n.event.clone(), n.recipient.clone())).collect();
        v.sort();
        v
    };
    let holder = "holder1@example.com".to_owned();
    let clerk = "clerk@example.com".to_owned();
    assert_eq!(
        sent(&app.outbox().await),
        vec![
            ("claim_received".into(), holder.clone()),
            ("finding".into(), holder.clone()),
            ("merchant_action_required".into(), clerk.clone()),
        ],
        "the other merchant's staff hear nothing"
    );
    let finding = app.outbox().await.into_iter().find(|n| n.case_id == Some(id) && n.event == "finding").unwrap();
    assert!(finding.body_text.contains(&format!("/cases/{id}")), "links to the case");
    assert!(finding.body_text.contains("000004267530"), "explains with the RRN");

    let header = sample("settlement.csv").lines().next().unwrap().to_owned();
    let credit = format!(
        "{header}\nCLRTEST00002,828844912590296,88360045,000053,000009999999,623668******2015,credit,954.82,CNY,2026-11-14T03:00:00Z,2026-11-15,000004267530\n"
    );
    import(&app, &agent, "settlement", credit).await;
    let arrived = app
        .outbox()
        .await
        .into_iter()
        .find(|n| n.case_id == Some(id) && n.event == "money_arrived")
        .expect("money_arrived queued");
    assert_eq!(arrived.recipient, holder);
    assert!(arrived.body_text.contains("000009999999"), "names the credit's RRN:\n{}", arrived.body_text);
    // Importing the same credit again changes nothing and sends nothing more.
    let before = app.outbox().await.len();
    import(&app, &agent, "settlement", format!("{header}\nCLRTEST00002,828844912590296,88360045,000053,000009999999,623668******2015,credit,954.82,CNY,2026-11-14T03:00:00Z,2026-11-15,000004267530\n")).await;
    assert_eq!(app.outbox().await.len(), before);
}
