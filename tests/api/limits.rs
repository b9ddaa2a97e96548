//! Abuse limits (DESIGN.md §12): failed sign-ins, and the forms that email addresses nobody has
//! confirmed, limited across every server that shares the database.

use futures_util::future::join_all;
use redress::domain::role::Role;
use redress::startup::Application;

use crate::helpers::{Browser, Page, TestApp};

const OWNER: &str = "owner@example.com";
const WRONG: &str = "not the owner's password";

/// A test app that believes `X-Forwarded-For`, so one test can be many client addresses.
async fn behind_proxy() -> TestApp {
    TestApp::spawn_with(&[("REDRESS_TRUST_PROXY", "true")]).await
}

/// Posts a form to the server at `base` as browser `b` at client address `ip`, reading `lang`.
async fn post_at(
    app: &TestApp,
    b: &Browser,
    base: &str,
    ip: &str,
    lang: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> Page {
    let csrf = Browser::page(b.client.get(format!("{base}/")).send().await.unwrap()).await.csrf();
    let mut all = vec![("_csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let response = b
        .client
        .post(format!("{base}{path}"))
        .form(&all)
        // Forms are checked against the configured site (both servers serve the same one).
        .header("origin", &app.base)
        .header("x-forwarded-for", ip)
        .header("accept-language", lang)
        .send()
        .await
        .unwrap();
    Browser::page(response).await
}

async fn post_from(app: &TestApp, b: &Browser, ip: &str, lang: &str, path: &str, fields: &[(&str, &str)]) -> Page {
    post_at(app, b, &app.base, ip, lang, path, fields).await
}

async fn sign_in_from(app: &TestApp, b: &Browser, ip: &str, password: &str) -> Page {
    post_from(app, b, ip, "en", "/login", &[("email", OWNER), ("password", password)]).await
}

fn claim_naming(email: &str) -> Vec<(&'static str, String)> {
    [("card_last4", "2015"), ("amount", "954.82"), ("date", "2026-11-12"), ("time", "13:20")]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .chain([("contact_email", email.to_owned())])
        .collect()
}

async fn file_without_account(app: &TestApp, base: &str, ip: &str, lang: &str, email: &str) -> Page {
    let fields = claim_naming(email);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_at(app, &app.browser(), base, ip, lang, "/claims/new/no_receipt", &fields).await
}

fn retry_after(page: &Page) -> u64 {
    page.header("retry-after").parse().unwrap_or_else(|_| panic!("no Retry-After on {}: {}", page.status, page.body))
}

/// A second server on the same database, as another process behind the same load balancer.
async fn second_server(app: &TestApp) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = Application::with_parts(app.config.clone(), app.connect_again().await, listener).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    (base, stop)
}

#[tokio::test]
async fn a_strangers_wrong_passwords_do_not_lock_the_owner_out() {
    let app = behind_proxy().await;
    let password = app.seed_user(Role::Agent, OWNER, &[]).await;
    let stranger = app.browser();

    // Ten addresses, five quick guesses each: 50 failures, the account's hourly allowance.
    for a in 1..=10 {
        let ip = format!("203.0.113.{a}");
        for i in 1..=5 {
            let page = sign_in_from(&app, &stranger, &ip, WRONG).await;
            assert_eq!(page.status, 401, "guess {i} from {ip}");
        }
        assert_eq!(sign_in_from(&app, &stranger, &ip, WRONG).await.status, 429, "a sixth quick guess from {ip}");
    }
    // Now every address that guessed lately gets one guess, then waits, burst or no burst.
    let eleventh = "203.0.113.11";
    assert_eq!(sign_in_from(&app, &stranger, eleventh, WRONG).await.status, 401);
    let refused = sign_in_from(&app, &stranger, eleventh, WRONG).await;
    assert_eq!(refused.status, 429, "the account has had its fill of failures this hour");
    assert!(retry_after(&refused) > 30 * 60, "until the account calms down: {}", retry_after(&refused));
    assert_eq!(sign_in_from(&app, &stranger, eleventh, &password).await.status, 429, "even with the password");

    // The owner, from an address with no failures, still signs in.
    let owner = app.browser();
    let page = sign_in_from(&app, &owner, "198.51.100.7", &password).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(owner.get("/agent").await.status, 200);
}

#[tokio::test]
async fn successful_sign_ins_never_count() {
    let app = TestApp::spawn().await;
    let password = app.seed_user(Role::Agent, OWNER, &[]).await;
    for i in 1..=10 {
        let page = app.browser().login(OWNER, &password).await;
        assert_eq!(page.status, 303, "sign-in {i}: {}", page.body);
    }
    // The failures' allowance is untouched: five, then a wait.
    let b = app.browser();
    for i in 1..=5 {
        assert_eq!(b.login(OWNER, WRONG).await.status, 401, "failure {i}");
    }
    assert_eq!(b.login(OWNER, WRONG).await.status, 429);
}

#[tokio::test]
async fn after_five_quick_failures_that_address_waits_and_is_told_how_long() {
    let app = TestApp::spawn().await;
    let password = app.seed_user(Role::Agent, OWNER, &[]).await;
    let b = app.browser();
    for i in 1..=5 {
        assert_eq!(b.login(OWNER, WRONG).await.status, 401, "failure {i}");
    }

    // The right password too: the limit is asked before the password is checked.
    let en = post_from(&app, &app.browser(), "127.0.0.1", "en", "/login", &[("email", OWNER), ("password", &password)])
        .await;
    assert_eq!(en.status, 429);
    let wait = retry_after(&en);
    assert!((1..=60).contains(&wait), "one a minute after the burst: {wait}");
    assert!(en.header("content-type").starts_with("text/html"));
    assert!(en.body.contains("Too many failed sign-in attempts"), "{}", en.body);
    assert!(en.body.contains("try again in 1 minute."), "{}", en.body);
    // Still the sign-in form, ready for the next try.
    assert!(en.body.contains(r#"name="password""#));

    let zh =
        post_from(&app, &app.browser(), "127.0.0.1", "zh-CN", "/login", &[("email", OWNER), ("password", &password)])
            .await;
    assert_eq!(zh.status, 429);
    assert!(retry_after(&zh) <= wait);
    assert!(zh.body.contains("登录失败次数过多"), "{}", zh.body);
    assert!(zh.body.contains("请 1 分钟后再试"), "{}", zh.body);
}

#[tokio::test]
async fn two_servers_on_one_database_share_the_limits() {
    let app = behind_proxy().await;
    let password = app.seed_user(Role::Agent, OWNER, &[]).await;
    let (other, _stop) = second_server(&app).await;
    let ip = "203.0.113.50";
    let sign_in = async |base: &str, password: &str| {
        let fields = [("email", OWNER), ("password", password)];
        post_at(&app, &app.browser(), base, ip, "en", "/login", &fields).await.status
    };
    // Three failures on one server, two on the other: the five are one budget.
    for base in [&app.base, &app.base, &app.base, &other, &other] {
        assert_eq!(sign_in(base, WRONG).await, 401, "on {base}");
    }
    assert_eq!(sign_in(&other, &password).await, 429);
    assert_eq!(sign_in(&app.base, &password).await, 429);

    // Claims without an account: three on one, two on the other, and the sixth is refused on either.
    for (n, base) in [&app.base, &app.base, &app.base, &other, &other].into_iter().enumerate() {
        let page = file_without_account(&app, base, ip, "en", &format!("walk-in{n}@example.com")).await;
        assert_eq!(page.status, 303, "claim {}: {}", n + 1, page.body);
    }
    for base in [&app.base, &other] {
        let page = file_without_account(&app, base, ip, "en", "walk-in9@example.com").await;
        assert_eq!(page.status, 429, "{}", page.body);
    }
    assert_eq!(redress::db::cases::count(&app.db).await.unwrap(), 5);
}

#[tokio::test]
async fn the_sixth_claim_without_an_account_from_one_address_in_an_hour_is_refused_and_files_nothing() {
    let app = TestApp::spawn().await;
    for n in 1..=5 {
        let page = file_without_account(&app, &app.base, "127.0.0.1", "zh-CN", &format!("holder{n}@example.com")).await;
        assert_eq!(page.status, 303, "claim {n}: {}", page.body);
    }
    let sixth = file_without_account(&app, &app.base, "127.0.0.1", "zh-CN", "holder6@example.com").await;
    assert_eq!(sixth.status, 429);
    // When the first of the five is an hour old.
    let wait = retry_after(&sixth);
    assert!((55 * 60..=3600).contains(&wait), "{wait}");
    assert!(sixth.header("content-type").starts_with("text/html"));
    assert!(
        sixth.body.contains("您所在的网络提交此类请求过于频繁") && sixth.body.contains("分钟后再试"),
        "{}",
        sixth.body
    );
    assert!(!sixth.body.contains("holder6@example.com"), "no sign that anything was sent");

    assert_eq!(redress::db::cases::count(&app.db).await.unwrap(), 5, "the refused claim filed no case");
    let links = app.outbox().await.into_iter().filter(|n| n.event == "claim_received").count();
    assert_eq!(links, 5);

    // Signed-in customers file under their account, not under this limit.
    let customer = app.signed_in(Role::Customer, "holder@example.com", &[]).await;
    let fields = [("card_last4", "2015"), ("amount", "954.82"), ("date", "2026-11-12"), ("time", "13:20")];
    let filed = customer.post_form("/claims/new/no_receipt", &fields).await;
    assert_eq!(filed.status, 303, "{}", filed.body);
}

#[tokio::test]
async fn an_address_nobody_confirmed_gets_three_emails_an_hour_whoever_asks() {
    let app = behind_proxy().await;
    let victim = "someone@example.com";
    let b = app.browser();
    // Three different forms from three different client addresses: the budget is the address's.
    let pass = [("email", victim), ("password", "mangoes in june"), ("confirm", "mangoes in june")];
    assert_eq!(post_from(&app, &b, "203.0.113.1", "en", "/register", &pass).await.status, 200);
    assert_eq!(post_from(&app, &b, "203.0.113.2", "en", "/password/forgot", &[("email", victim)]).await.status, 200);
    let claim = file_without_account(&app, &app.base, "203.0.113.3", "en", victim).await;
    assert_eq!(claim.status, 303, "{}", claim.body);

    let fourth =
        post_from(&app, &b, "203.0.113.4", "en", "/password/forgot", &[("email", "SOMEONE@example.com")]).await;
    assert_eq!(fourth.status, 429);
    let wait = retry_after(&fourth);
    assert!((55 * 60..=3600).contains(&wait), "{wait}");
    // Told clearly what happened and what to do, not silently dropped.
    assert!(fourth.body.contains("SOMEONE@example.com has been given to us several times recently"), "{}", fourth.body);
    assert!(fourth.body.contains("Look in that inbox") && fourth.body.contains("try again in"), "{}", fourth.body);

    let zh = file_without_account(&app, &app.base, "203.0.113.5", "zh-CN", victim).await;
    assert_eq!(zh.status, 429);
    assert!(zh.body.contains("暂时不再向该地址发送邮件") && zh.body.contains("分钟后再试"), "{}", zh.body);
    assert_eq!(redress::db::cases::count(&app.db).await.unwrap(), 1, "the refused claim filed no case");

    let outbox = app.outbox().await;
    let to_victim: Vec<&str> =
        outbox.iter().filter(|n| n.recipient.eq_ignore_ascii_case(victim)).map(|n| n.event.as_str()).collect();
    assert_eq!(to_victim.len(), 3, "{to_victim:?}");
    for event in ["verify_email", "password_reset", "claim_received"] {
        assert!(to_victim.contains(&event), "{to_victim:?}");
    }

    // Other addresses are not affected.
    let other = post_from(&app, &b, "203.0.113.4", "en", "/password/forgot", &[("email", "other@example.com")]).await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn simultaneous_requests_cannot_overspend_a_budget() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let csrf = b.get("/").await.csrf();
    let emails: Vec<String> = (0..10).map(|n| format!("forgot{n}@example.com")).collect();
    let requests = emails.iter().map(|email| {
        let fields = [("_csrf", csrf.as_str()), ("email", email.as_str())];
        let b = &b;
        let origin = app.base.clone();
        async move { b.post_form_raw("/password/forgot", &fields, &[("origin", &origin)]).await.status.as_u16() }
    });
    let mut statuses = join_all(requests).await;
    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 429, 429]);
}

#[tokio::test]
async fn buckets_are_deleted_once_they_decide_nothing() {
    let app = TestApp::spawn().await;
    app.seed_user(Role::Agent, OWNER, &[]).await;
    assert_eq!(app.browser().login(OWNER, WRONG).await.status, 401);
    assert_eq!(app.post_form("/password/forgot", &[("email", OWNER)]).await.status, 200);
    let now = redress::db::now_unix();
    assert_eq!(redress::db::limits::prune(&app.db, now).await.unwrap(), 0, "all still in use");
    // The longest memory is a day (emails to one address).
    assert_eq!(redress::db::limits::prune(&app.db, now + 24 * 3600 + 60).await.unwrap(), 5);
}

#[tokio::test]
async fn under_the_api_a_refusal_is_json_saying_when_to_try_again() {
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use redress::auth::limits::Refused;
    use redress::web::AppError;
    use tower::ServiceExt;

    // No API route is limited today; every error, ours or not, goes through this one renderer.
    let app = TestApp::spawn().await;
    let state = redress::startup::app_state(app.config.clone(), app.db.clone()).await.unwrap();
    let refuse = async || -> Result<(), AppError> {
        Err(Refused::Emails { retry_after: 1500, email: "a@example.com".into() }.into())
    };
    let router = axum::Router::new()
        .route("/api/v1/limited", axum::routing::get(refuse))
        .route("/limited", axum::routing::get(refuse))
        .layer(axum::middleware::from_fn_with_state(state, redress::web::error::render_errors));
    let call = |path: &str, lang: &str| {
        let request = Request::get(path).header("accept-language", lang).body(Body::empty()).unwrap();
        router.clone().oneshot(request)
    };

    let api = call("/api/v1/limited", "en").await.unwrap();
    assert_eq!(api.status(), 429);
    assert_eq!(api.headers()["retry-after"], "1500");
    assert_eq!(api.headers()["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&to_bytes(api.into_body(), 1 << 20).await.unwrap()).unwrap();
    assert_eq!(body["error"], "too_many_emails");
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("a@example.com has been given to us") && message.ends_with("try again in 25 minutes."));

    let page = call("/limited", "zh-CN").await.unwrap();
    assert_eq!(page.status(), 429);
    assert_eq!(page.headers()["retry-after"], "1500");
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = String::from_utf8(to_bytes(page.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    assert!(html.contains("<html lang=\"zh-CN\"") && html.contains("或 25 分钟后再试"), "{html}");
}
