//! Filing claims through the API: the 18 sample claims, validation, card numbers, who sees a case.

use redress::domain::role::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, post_json};

use crate::helpers::SAMPLES;

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let res = reqwest::Client::new().get(format!("{}{path}", app.base)).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn every_sample_claim_gets_its_expected_finding() {
    let app = TestApp::spawn().await;
    app.import_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    let claims = std::fs::read_to_string(format!("{SAMPLES}claims.jsonl")).unwrap();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for line in claims.lines().filter(|l| !l.trim().is_empty()) {
        let mut claim: Value = serde_json::from_str(line).unwrap();
        let expect = claim.as_object_mut().unwrap().remove("expect").unwrap();
        let (status, case) = post_json(&app, &bank, "/api/v1/claims", &claim).await;
        assert_eq!(status, 201, "{claim} → {case}");
        let matched: Vec<&str> =
            case["matched"].as_array().unwrap().iter().map(|m| m["rrn"].as_str().unwrap()).collect();
        let got = json!({
            "finding": case["finding"],
            "state": case["state"],
            "remedy": case["remedy"]["kind"],
            "remedy_amount": case["remedy"]["amount"],
            "matched_rrns": matched,
        });
        if got != expect {
            wrong.push(format!("{}: expected {expect}, got {got}", claim["card_last4"]));
        }
        // The case reads back the same.
        let (status, again) = get(&app, &bank, &format!("/api/v1/cases/{}", case["id"])).await;
        assert_eq!(status, 200);
        assert_eq!(again, case);
        checked += 1;
    }
    assert_eq!(checked, 18);
    assert!(wrong.is_empty(), "findings differ:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn a_case_has_the_designed_json_shape() {
    let app = TestApp::spawn().await;
    app.import_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    let body = json!({"kind": "no_receipt", "card_last4": "2015", "amount": "954.82", "occurred_at": "2026-11-12T13:20+08:00", "contact_email": "holder1@example.com"});
    let (status, case) = post_json(&app, &bank, "/api/v1/claims", &body).await;
    assert_eq!(status, 201);
    assert!(case["id"].is_i64());
    assert_eq!(case["kind"], "no_receipt");
    assert_eq!(case["remedy"], json!({"kind": "reversal", "amount": "954.82"}));
    assert_eq!(
        case["matched"][0],
        json!({"rrn": "000004267530", "merchant_id": "828844912590296", "terminal_id": "88360045", "trace_no": "000051", "amount": "954.82", "txn_time": "2026-11-12T05:20:36+00:00"})
    );
    // reversal_pending waits 5 business days.
    assert!(case["deadline"].as_str().is_some_and(|d| d.ends_with("+08:00")), "{case}");
}

#[tokio::test]
async fn invalid_claims_name_every_field_and_card_numbers_are_refused() {
    let app = TestApp::spawn().await;
    let bank = app.token(Role::Customer, &[]).await;
    let (status, body) = post_json(&app, &bank, "/api/v1/claims", &json!({"kind": "wrong_amount", "card_last4": "12a4", "amount": "10.00", "expected_amount": "12.00", "occurred_at": "yesterday"})).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "invalid_claim");
    let fields: Vec<&str> = body["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    for f in ["contact_email", "card_last4", "expected_amount", "occurred_at"] {
        assert!(fields.contains(&f), "{f} not named in {body}");
    }

    let pan = "6228 4804 0256 4890 018";
    let (status, body) = post_json(&app, &bank, "/api/v1/claims", &json!({"kind": "no_receipt", "card_last4": "0018", "amount": "10.00", "occurred_at": "2026-11-12", "contact_email": "a@example.com", "description": format!("my card is {pan}")})).await;
    assert_eq!(status, 422);
    assert!(body.to_string().contains("full card number"), "{body}");
    assert!(!body.to_string().contains("4890"), "the number is never echoed");
    assert_eq!(redress::db::cases::count(&app.db).await.unwrap(), 0, "nothing stored");
}

#[tokio::test]
async fn only_those_involved_see_a_case() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    app.import_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    let body = json!({"kind": "no_receipt", "card_last4": "2015", "amount": "954.82", "occurred_at": "2026-11-12T13:20+08:00", "contact_email": "holder1@example.com"});
    let (_, case) = post_json(&app, &bank, "/api/v1/claims", &body).await;
    let path = format!("/api/v1/cases/{}", case["id"]);

    let other_bank = app.token(Role::Customer, &[]).await;
    let owner = app.token(Role::Merchant, &["828844912590296"]).await;
    let stranger = app.token(Role::Merchant, &["851424736185314"]).await;
    let agent = app.token(Role::Agent, &[]).await;
    assert_eq!(get(&app, &other_bank, &path).await.0, 404);
    assert_eq!(get(&app, &stranger, &path).await.0, 404);
    assert_eq!(get(&app, &owner, &path).await.0, 200);
    assert_eq!(get(&app, &agent, &path).await.0, 200);
    assert_eq!(get(&app, &agent, "/api/v1/cases/999999").await.0, 404);
    // Only a customer-role token files claims.
    assert_eq!(post_json(&app, &agent, "/api/v1/claims", &body).await.0, 403);
}
