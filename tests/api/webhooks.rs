//! Webhooks (DESIGN.md §7) against a real HTTP receiver on 127.0.0.1: signatures checked here
//! with our own HMAC, merchant scope, the SSRF refusals (command line, admin page, delivery), and
//! an outage drill: 500 events queued while the receiver is down, each delivered exactly once
//! by two senders once it is up.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use redress::db::webhooks as store;
use redress::domain::role::Role;
use redress::webhooks::deliver::{Deliverer, Settings};
use redress::webhooks::{AddError, Request};
use serde_json::Value;
use sha2::Sha256;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestApp, eventually, post_claim, sample_claim, with_samples};
use crate::smtp_server::free_port;

/// What the receiver got: the signature header, the event id header and the body.
#[derive(Clone, Debug)]
struct Hit {
    signature: String,
    event_id: String,
    body: String,
}

/// A real HTTP server on 127.0.0.1 that keeps every POST and answers 200.
#[derive(Clone, Default)]
struct Receiver {
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl Receiver {
    async fn start_on(port: u16) -> (Receiver, SocketAddr) {
        let receiver = Receiver::default();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route("/hook", axum::routing::post(keep)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, addr)
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

async fn keep(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    r.hits.lock().unwrap().push(Hit {
        signature: header("redress-signature"),
        event_id: header("redress-event-id"),
        body,
    });
    StatusCode::OK
}

/// Checks `t=…,v1=…` the way a receiver would, with its own HMAC; returns the signed time.
fn verify(secret: &str, hit: &Hit) -> i64 {
    let (t, v1) = hit.signature.split_once(',').expect("t=…,v1=…");
    let t: i64 = t.strip_prefix("t=").unwrap().parse().unwrap();
    let v1 = hex::decode(v1.strip_prefix("v1=").unwrap()).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", hit.body).as_bytes());
    mac.verify_slice(&v1).expect("the signature matches the body");
    t
}

async fn add(
    app: &TestApp,
    url: &str,
    events: &[&str],
    merchants: &[&str],
    allow_private: bool,
) -> Result<(i64, String), AddError> {
    let events: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    let merchants: Vec<String> = merchants.iter().map(|m| m.to_string()).collect();
    redress::webhooks::add(
        &app.db,
        &Request { url, events: &events, merchants: &merchants, allow_private, created_by: None },
    )
    .await
}

async fn deliveries(app: &TestApp) -> Vec<store::DeliveryRow> {
    store::recent_deliveries(&app.db, 10_000).await.unwrap()
}

/// Waits until nothing is pending any more.
async fn settled(app: &TestApp) {
    eventually("every delivery is settled", Duration::from_secs(20), || async {
        deliveries(app).await.iter().all(|d| d.status != "pending")
    })
    .await;
}

#[tokio::test]
async fn case_events_arrive_signed_with_the_case_as_the_api_shows_it() {
    let app = with_samples().await;
    let (receiver, addr) = Receiver::start_on(0).await;
    let (_, secret) = add(&app, &format!("http://{addr}/hook"), &["all"], &[], true).await.unwrap();
    assert!(secret.starts_with("whsec_"));
    let bank = app.token(Role::Customer, &[]).await;
    let filed = post_claim(&app, &bank, sample_claim(1)).await;
    eventually("claim_received and finding arrive", Duration::from_secs(10), || async { receiver.hits().len() >= 2 })
        .await;
    settled(&app).await;

    let hits = receiver.hits();
    let mut events = Vec::new();
    for hit in &hits {
        let t = verify(&secret, hit);
        assert!((jiff::Timestamp::now().as_second() - t).abs() < 60, "the signed time is now");
        let body: Value = serde_json::from_str(&hit.body).unwrap();
        assert_eq!(body["id"], hit.event_id.as_str());
        assert!(body["created_at"].as_str().unwrap().parse::<jiff::Timestamp>().is_ok());
        assert_eq!(body["case"]["id"], filed["id"]);
        assert_eq!(body["case"]["kind"], "no_receipt");
        assert!(body["case"].get("contact_email").is_none(), "the §9 case, no contact details");
        events.push(body["event"].as_str().unwrap().to_owned());
        if body["event"] == "finding" {
            // The finding event carries the case as decided: the same JSON the API returns.
            assert_eq!(body["case"], filed, "{body}");
        }
    }
    events.sort();
    // Claim 1 is a reversal the merchant must execute: the merchant is called to act too.
    assert_eq!(events, ["claim_received", "finding", "merchant_action_required"]);
    // A tampered body does not verify.
    let mut forged = hits[0].clone();
    forged.body = forged.body.replace("no_receipt", "wrong_amount");
    assert!(std::panic::catch_unwind(|| verify(&secret, &forged)).is_err());
    // Delivered ones are recorded with the receiver's answer.
    assert!(deliveries(&app).await.iter().all(|d| d.status == "delivered" && d.attempts == 1));
}

#[tokio::test]
async fn a_merchant_scoped_endpoint_gets_only_its_merchants_cases_and_chosen_events() {
    let app = with_samples().await;
    let bank = app.token(Role::Customer, &[]).await;
    let (receiver, addr) = Receiver::start_on(0).await;
    let url = format!("http://{addr}/hook");
    // Learn the merchant of sample claim 1 from a first case, filed before any endpoint exists.
    let first = post_claim(&app, &bank, sample_claim(1)).await;
    let mid = first["matched"][0]["merchant_id"].as_str().unwrap().to_owned();
    let merchants = redress::db::merchants::list_merchants(&app.db).await.unwrap();
    let other = merchants.iter().map(|m| m.merchant_id.clone()).find(|m| *m != mid).expect("two merchants");

    let (_, own_secret) = add(&app, &url, &["finding"], &[&mid], true).await.unwrap();
    let (others, _) = add(&app, &url, &["all"], &[&other], true).await.unwrap();
    // Claim 2 rests on a payment of the same merchant as claim 1? Find out, and file a case for each.
    let second = post_claim(&app, &bank, sample_claim(2)).await;
    let third = post_claim(&app, &bank, sample_claim(4)).await;
    settled(&app).await;

    let mut expected_ids = Vec::new();
    for case in [&second, &third] {
        if case["matched"][0]["merchant_id"] == mid.as_str() {
            expected_ids.push(case["id"].as_i64().unwrap());
        }
    }
    let got: Vec<Value> = receiver.hits().iter().map(|h| serde_json::from_str(&h.body).unwrap()).collect();
    for body in &got {
        assert_eq!(body["event"], "finding", "only the chosen event: {body}");
        assert_eq!(body["case"]["matched"][0]["merchant_id"], mid.as_str(), "only its merchant's cases");
    }
    let mut got_ids: Vec<i64> = got.iter().map(|b| b["case"]["id"].as_i64().unwrap()).collect();
    got_ids.sort();
    assert_eq!(got_ids, expected_ids);
    assert!(!expected_ids.is_empty() || got.is_empty());
    for hit in receiver.hits() {
        verify(&own_secret, &hit);
    }
    // The other merchant's endpoint had nothing to receive: no delivery was even written.
    assert!(deliveries(&app).await.iter().all(|d| d.endpoint_id != others));
    // An unknown merchant is refused.
    assert!(matches!(add(&app, &url, &["all"], &["999999999999999"], true).await, Err(AddError::Merchants(_))));
}

#[tokio::test]
async fn private_addresses_are_refused_when_added_and_at_delivery() {
    let app = with_samples().await;
    let (receiver, addr) = Receiver::start_on(0).await;
    let port = addr.port();
    // When added, through the library (the admin page and the command line use it).
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        "http://10.0.0.7/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::ffff:127.0.0.1]/hook".to_owned(),
        "http://[fd00::1]/hook".to_owned(),
    ] {
        let refused = add(&app, &url, &["all"], &[], false).await;
        assert!(matches!(refused, Err(AddError::Url(redress::domain::webhook::UrlProblem::Private))), "{url}");
    }
    // At delivery: endpoints written as an older version (or a DNS change) could have left them.
    // A literal loopback address, and a name that resolves to loopback (the DNS rebinding case).
    for url in [format!("http://127.0.0.1:{port}/hook"), format!("http://localhost:{port}/hook")] {
        store::create(
            &app.db,
            &store::NewEndpoint {
                url: &url,
                events: "all",
                role: "agent",
                merchant_ids: &[],
                secret: "s",
                allow_private: false,
                created_by: None,
            },
        )
        .await
        .unwrap();
    }
    let bank = app.token(Role::Customer, &[]).await;
    post_claim(&app, &bank, sample_claim(1)).await;
    // Both endpoints are tried; neither reaches the receiver.
    let refused = |d: &store::DeliveryRow| {
        d.last_error.as_deref().is_some_and(|e| e.contains("refused") && e.contains("loopback, private or link-local"))
    };
    for _ in 0..100 {
        let d = deliveries(&app).await;
        if d.len() == 6 && d.iter().all(refused) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let d = deliveries(&app).await;
    assert!(d.len() == 6 && d.iter().all(refused), "{d:#?}");
    assert!(
        d.iter().filter(|d| d.url.contains("127.0.0.1")).all(|d| d.status == "failed"),
        "a literal is refused for good"
    );
    assert!(receiver.hits().is_empty(), "nothing reached the private address");
}

#[tokio::test]
async fn the_command_line_refuses_private_urls_and_prints_the_secret_alone() {
    let app = TestApp::spawn().await;
    let run = |args: Vec<String>| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
            .args(&args)
            .env("REDRESS_DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let args = |url: &str, extra: &[&str]| {
        let mut a: Vec<String> =
            ["webhook", "add", "--url", url, "--event", "finding", "case_resolved"].map(String::from).to_vec();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let (ok, stdout, stderr) = run(args("http://127.0.0.1:9/hook", &[]));
    assert!(!ok && stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("private"), "{stderr}");
    let (ok, _, stderr) = run(args("https://bank.example/hook", &["--event", "lost_case"]));
    assert!(!ok && stderr.contains("lost_case"), "{stderr}");
    let (ok, stdout, stderr) = run(args("http://127.0.0.1:9/hook", &["--allow-private"]));
    assert!(ok, "{stderr}");
    let secret = stdout.trim_end();
    assert!(secret.starts_with("whsec_") && !secret.contains(char::is_whitespace), "{stdout:?}");
    assert_eq!(stdout.lines().count(), 1);
    let listed = store::list(&app.db).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].0.events.as_str(), listed[0].0.allow_private), ("case_resolved finding", true));
}

#[tokio::test]
async fn admins_add_disable_and_delete_endpoints_and_retry_failed_deliveries() {
    let app = with_samples().await;
    let admin = app.signed_in(Role::Admin, "ops@example.com", &[]).await;
    let page = admin.get("/admin/webhooks").await;
    assert_eq!(page.status, 200);
    let csrf = page.csrf();
    // A private address without the box ticked: refused, in words.
    let refused = admin
        .post_form("/admin/webhooks", &[("_csrf", &csrf), ("url", "http://10.1.2.3/hook"), ("events", "all")])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.select_text(".notice.bad").contains("内网"), "in the admin's language: {}", refused.body);
    assert!(store::list(&app.db).await.unwrap().is_empty());
    // A receiver that is not there: the delivery fails for good after the attempts allowed.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let added = admin
        .post_form(
            "/admin/webhooks",
            &[
                ("_csrf", &csrf),
                ("url", &url),
                ("events", "finding"),
                ("events", "claim_received"),
                ("allow_private", "on"),
            ],
        )
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.select_text("#webhook-created code").starts_with("whsec_"));
    let (endpoint, _) = store::list(&app.db).await.unwrap().remove(0);
    assert_eq!(endpoint.events, "claim_received finding");
    let bank = app.token(Role::Customer, &[]).await;
    post_claim(&app, &bank, sample_claim(1)).await;
    // Fail them for good at once, as after the last attempt.
    for d in deliveries(&app).await {
        eventually("a first attempt", Duration::from_secs(10), || async {
            store::recent_deliveries(&app.db, 100).await.unwrap().iter().any(|x| x.id == d.id && x.attempts > 0)
        })
        .await;
    }
    let failed = deliveries(&app).await;
    assert_eq!(failed.len(), 2);
    for d in &failed {
        store::record_failure(&app.db, d.id, "gave up", None, 0, true).await.unwrap();
    }
    let page = admin.get("/admin/webhooks").await;
    assert_eq!(page.count("#deliveries form[action$=\"/retry\"]"), 2, "{}", page.body);
    // The receiver comes up; the admin retries one.
    let (receiver, _) = Receiver::start_on(port).await;
    let retry = format!("/admin/webhooks/deliveries/{}/retry", failed[0].id);
    let done = admin.post_form(&retry, &[("_csrf", &page.csrf())]).await;
    assert_eq!((done.status.as_u16(), done.header("location")), (303, "/admin/webhooks"));
    eventually("the retried delivery arrives", Duration::from_secs(10), || async { receiver.hits().len() == 1 }).await;
    // Disabled, then deleted.
    let page = admin.post_form(&format!("/admin/webhooks/{}/disable", endpoint.id), &[("_csrf", &csrf)]).await;
    assert_eq!(page.status, 303);
    assert!(store::list(&app.db).await.unwrap()[0].0.disabled_at.is_some());
    admin.post_form(&format!("/admin/webhooks/{}/delete", endpoint.id), &[("_csrf", &csrf)]).await;
    assert!(store::list(&app.db).await.unwrap().is_empty() && deliveries(&app).await.is_empty());
    // Not for anyone else.
    let agent = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    assert_ne!(agent.get("/admin/webhooks").await.status, 200);
}

#[tokio::test]
async fn outage_drill_five_hundred_events_wait_for_the_receiver_and_arrive_once_each() {
    const N: usize = 500;
    let app = TestApp::spawn_with(&[("REDRESS_MAIL_RETRY_BASE_SECS", "1"), ("REDRESS_MAIL_RETRY_MAX_SECS", "1")]).await;
    let port = free_port();
    let (endpoint, secret) = add(&app, &format!("http://127.0.0.1:{port}/hook"), &["all"], &[], true).await.unwrap();
    // A second server's sender on the same database, besides the app's own.
    let stop = CancellationToken::new();
    let settings = Settings {
        retry_base: Duration::from_secs(1),
        retry_max: Duration::from_secs(1),
        ..Settings::from_config(&app.config)
    };
    let second = Deliverer::new(app.connect_again().await, settings).unwrap();
    let second_task = tokio::spawn(second.run(stop.clone()));

    for chunk in 0..10 {
        let mut tx = app.db.begin().await.unwrap();
        for i in chunk * N / 10..(chunk + 1) * N / 10 {
            let id = format!("drill_{i}");
            let body = serde_json::json!({"id": id, "event": "finding", "created_at": "2026-12-07T00:00:00Z", "case": {"id": i}});
            assert!(store::enqueue(&mut tx, endpoint, &id, "finding", None, &body.to_string()).await.unwrap());
        }
        tx.commit().await.unwrap();
    }
    // The receiver is down: attempts fail and are put off, nothing is lost or given up.
    eventually("every event was tried while the receiver is down", Duration::from_secs(30), || async {
        deliveries(&app).await.iter().all(|d| d.attempts >= 1)
    })
    .await;
    let down = deliveries(&app).await;
    assert_eq!(down.len(), N);
    assert!(down.iter().all(|d| d.status == "pending" && d.last_error.is_some()));

    let (receiver, _) = Receiver::start_on(port).await;
    eventually("every event is delivered", Duration::from_secs(60), || async {
        deliveries(&app).await.iter().all(|d| d.status == "delivered")
    })
    .await;
    stop.cancel();
    second_task.await.unwrap();
    let hits = receiver.hits();
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for hit in &hits {
        verify(&secret, hit);
        *per_event.entry(hit.event_id.clone()).or_default() += 1;
    }
    assert_eq!(per_event.len(), N, "every event arrived");
    assert!(
        per_event.values().all(|n| *n == 1),
        "none twice: {:?}",
        per_event.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    assert_eq!(hits.len(), N);
}
