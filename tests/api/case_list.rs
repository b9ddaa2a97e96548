//! `GET /api/v1/cases` (DESIGN.md §9): scoped like the case page, filtered, paged by an opaque
//! cursor on an index; and `/api/v1/openapi.json`, checked against the OpenAPI 3.1 schema.

use redress::db::case_list::{self, Filters, Scope};
use redress::domain::role::Role;
use serde_json::Value;

use crate::helpers::{TestApp, post_claim, sample_claim, with_samples};

async fn list(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/cases{query}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn ids(page: &Value) -> Vec<i64> {
    page["cases"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn each_token_sees_its_cases_newest_first_and_merchants_no_contact_details() {
    let app = with_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    let other_bank = app.token(Role::Customer, &[]).await;
    let agent = app.token(Role::Agent, &[]).await;
    let mut mine = Vec::new();
    for n in [1, 2, 4] {
        mine.push(post_claim(&app, &bank, sample_claim(n)).await);
    }
    let theirs = post_claim(&app, &other_bank, sample_claim(0)).await;
    let mid = mine[0]["matched"][0]["merchant_id"].as_str().unwrap().to_owned();
    let merchant = app.token(Role::Merchant, &[&mid]).await;

    let (status, page) = list(&app, &bank, "").await;
    assert_eq!(status, 200);
    let mut expected: Vec<i64> = mine.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    expected.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids(&page), expected, "the channel's own cases, newest first");
    assert_eq!(page["next"], Value::Null);
    assert_eq!(page["cases"][0]["contact_email"], "holder4@example.com", "the filing channel knows its customer");
    // The same JSON as the single-case endpoint, plus the address.
    let mut first = page["cases"][0].clone();
    first.as_object_mut().unwrap().remove("contact_email");
    assert_eq!(first, mine[2]);

    let (_, all) = list(&app, &agent, "").await;
    assert_eq!(ids(&all).len(), 4);
    assert!(ids(&all).contains(&theirs["id"].as_i64().unwrap()));

    let (_, staff) = list(&app, &merchant, "").await;
    assert!(!ids(&staff).is_empty());
    for case in staff["cases"].as_array().unwrap() {
        assert_eq!(case["matched"][0]["merchant_id"], mid.as_str(), "only its merchants' cases");
        assert!(case.get("contact_email").is_none(), "never the customer's address: {case}");
    }
    let merchants = redress::db::merchants::list_merchants(&app.db).await.unwrap();
    let other = merchants.iter().map(|m| m.merchant_id.clone()).find(|m| *m != mid).expect("two merchants");
    let unrelated = app.token(Role::Merchant, &[&other]).await;
    let (_, theirs_only) = list(&app, &unrelated, "").await;
    assert!(!ids(&theirs_only).contains(&mine[0]["id"].as_i64().unwrap()));
    for case in theirs_only["cases"].as_array().unwrap() {
        assert_eq!(case["matched"][0]["merchant_id"], other.as_str());
    }
    assert_eq!(list(&app, "not-a-token", "").await.0, 401);
}

#[tokio::test]
async fn filters_and_the_cursor_walk_every_case_once() {
    let app = with_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    let agent = app.token(Role::Agent, &[]).await;
    let mut filed = Vec::new();
    for n in 0..6 {
        filed.push(post_claim(&app, &bank, sample_claim(n)).await);
    }
    // Page by two.
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let (status, page) = list(&app, &agent, &query).await;
        assert_eq!(status, 200, "{page}");
        assert!(ids(&page).len() <= 2);
        seen.extend(ids(&page));
        match page["next"].as_str() {
            Some(cursor) => query = format!("?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut all: Vec<i64> = filed.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    all.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, all, "newest first, each once");

    let resolved: Vec<i64> =
        filed.iter().filter(|c| c["state"] == "resolved").map(|c| c["id"].as_i64().unwrap()).rev().collect();
    assert!(!resolved.is_empty());
    assert_eq!(ids(&list(&app, &agent, "?state=resolved").await.1), resolved);
    let reversal: Vec<i64> =
        filed.iter().filter(|c| c["finding"] == "reversal_due").map(|c| c["id"].as_i64().unwrap()).rev().collect();
    assert_eq!(ids(&list(&app, &agent, "?finding=reversal_due&kind=no_receipt").await.1), reversal);
    let mid = filed[1]["matched"][0]["merchant_id"].as_str().unwrap();
    let of_mid = ids(&list(&app, &agent, &format!("?merchant_id={mid}")).await.1);
    assert!(of_mid.contains(&filed[1]["id"].as_i64().unwrap()));
    assert!(ids(&list(&app, &agent, "?updated_since=2999-01-01T00:00:00Z").await.1).is_empty());
    assert_eq!(ids(&list(&app, &agent, "?updated_since=2000-01-01T00:00:00Z").await.1).len(), 6);

    for bad in ["?state=lost", "?kind=x", "?limit=0", "?limit=abc", "?cursor=zzz", "?updated_since=yesterday"] {
        let (status, body) = list(&app, &agent, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string() && body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
}

#[tokio::test]
async fn scoped_lists_are_index_look_ups() {
    let app = TestApp::spawn().await;
    let sqlite = matches!(app.db, redress::db::Db::Sqlite(_));
    for (scope, index) in [
        (Scope::FiledBy(3), "cases_by_token_id"),
        (Scope::Merchants(vec!["123456789012345".into()]), "cases_by_merchant_id"),
    ] {
        for f in [Filters::default(), Filters { before_id: Some(100), ..Filters::default() }] {
            let plan = case_list::explain(&app.db, &scope, &f, 50).await.unwrap().join("\n");
            assert!(plan.contains(index), "{scope:?} {f:?}:\n{plan}");
            if sqlite {
                assert!(!plan.contains("TEMP B-TREE"), "no sort: {plan}");
            } else {
                assert!(!plan.contains("Sort") && !plan.contains("Seq Scan"), "{plan}");
            }
        }
    }
    let plan = case_list::explain(
        &app.db,
        &Scope::Every,
        &Filters { state: Some("resolved".into()), ..Filters::default() },
        50,
    )
    .await
    .unwrap()
    .join("\n");
    assert!(plan.contains("cases_by_state_id"), "{plan}");
}

#[tokio::test]
async fn the_openapi_document_is_valid_openapi_3_1_and_describes_every_endpoint() {
    let app = TestApp::spawn().await;
    let res = reqwest::get(format!("{}/api/v1/openapi.json", app.base)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let doc: Value = res.json().await.unwrap();
    let schema: Value = serde_json::from_str(include_str!("openapi/oas-3.1-schema-2022-10-07.json")).unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/me", "get"),
        ("/api/v1/claims", "post"),
        ("/api/v1/cases", "get"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/journal", "post"),
        ("/api/v1/settlement", "post"),
        ("/api/v1/openapi.json", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    // The case schema is generated from the type the API serialises.
    let case = &doc["components"]["schemas"]["CaseJson"]["properties"];
    for field in ["id", "state", "kind", "finding", "remedy", "matched", "deadline"] {
        assert!(case[field].is_object(), "{field}");
    }
}
