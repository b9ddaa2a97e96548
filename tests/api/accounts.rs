//! Accounts: registration, verification, sign-in, sessions, throttling, password reset, tokens.

use redress::domain::role::Role;

use crate::helpers::{Page, TestApp, link_in, token_of};

fn session_cookie(page: &Page) -> String {
    page.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("redress_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_customer_registers_confirms_the_email_and_signs_in() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let form = b.get_with("/register", &[("accept-language", "en")]).await;
    assert_eq!(form.status, 200);

    // Mistakes are named next to their field and what was typed is kept.
    let bad =
        b.post_form("/register", &[("email", "li.wei@example"), ("password", "short"), ("confirm", "short")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.field_value("email"), "li.wei@example");
    assert_eq!(bad.attr("input#email", "aria-describedby"), "email-error");
    assert!(bad.field_error("email").contains("邮箱地址"), "the message sits under the address");

    let done = b
        .post_form(
            "/register",
            &[("email", "Li.Wei@Example.com"), ("password", "mangoes in june"), ("confirm", "mangoes in june")],
        )
        .await;
    assert_eq!(done.status, 200);

    // Not confirmed yet: no sign-in.
    let early = b.login("li.wei@example.com", "mangoes in june").await;
    assert_eq!(early.status, 403);

    let outbox = app.outbox().await;
    let mail = outbox.iter().find(|n| n.event == "verify_email").expect("verification mail queued");
    assert_eq!(mail.recipient, "Li.Wei@Example.com");
    let link = link_in(&mail.body_text, &format!("{}/verify-email?token=", app.base));
    let path = link.trim_start_matches(&app.base);

    // Opening the link only shows a button: mail scanners that follow links use nothing up.
    let page = b.get(path).await;
    assert_eq!(page.status, 200);
    let token = &token_of(&link);
    let confirmed = b.post_form("/verify-email", &[("token", token)]).await;
    assert_eq!(confirmed.status, 303);
    // Single use.
    let again = b.post_form("/verify-email", &[("token", token)]).await;
    assert_eq!(again.select_text("#message-title"), "该链接已失效");

    // Email is case-insensitive.
    let signed_in = b.login("LI.WEI@example.COM", "mangoes in june").await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.header("location"), "/my");
    assert_eq!(b.get("/my").await.status, 200);
}

#[tokio::test]
async fn registering_an_existing_email_reveals_nothing() {
    let app = TestApp::spawn().await;
    app.seed_user(Role::Customer, "taken@example.com", &[]).await;
    let b = app.browser();
    let page = b
        .post_form(
            "/register",
            &[("email", "TAKEN@example.com"), ("password", "another long pass"), ("confirm", "another long pass")],
        )
        .await;
    assert_eq!(page.status, 200);
    let fresh = b
        .post_form(
            "/register",
            &[("email", "fresh@example.com"), ("password", "another long pass"), ("confirm", "another long pass")],
        )
        .await;
    // The same page either way (only the echoed address differs).
    assert_eq!(
        page.body.replace("TAKEN@example.com", "X"),
        fresh.body.replace("fresh@example.com", "X").replace(&fresh.csrf(), &page.csrf())
    );
}

#[tokio::test]
async fn signing_in_issues_a_new_session_id_and_signing_out_ends_it() {
    let app = TestApp::spawn().await;
    let password = app.seed_user(Role::Agent, "agent@example.com", &[]).await;
    let b = app.browser();
    let anonymous = session_cookie(&b.get("/").await);
    assert!(!anonymous.is_empty());

    let login = b.login("agent@example.com", &password).await;
    assert_eq!(login.status, 303);
    let signed_in = session_cookie(&login);
    assert!(!signed_in.is_empty());
    assert_ne!(anonymous, signed_in, "the session id must change at sign-in");

    // The pre-login token (which an attacker could have planted) is not signed in.
    let thief = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let planted = thief.get(format!("{}/agent", app.base)).header("cookie", &anonymous).send().await.unwrap();
    assert_eq!(planted.status(), 303);
    let stolen = thief.get(format!("{}/agent", app.base)).header("cookie", &signed_in).send().await.unwrap();
    assert_eq!(stolen.status(), 200, "the signed-in cookie works");

    let out = b.post_form("/logout", &[]).await;
    assert_eq!(out.status, 303);
    // Server-side invalidation: the old cookie no longer works anywhere.
    let replay = thief.get(format!("{}/agent", app.base)).header("cookie", &signed_in).send().await.unwrap();
    assert_eq!(replay.status(), 303);
}

#[tokio::test]
async fn session_cookies_are_httponly_samesite_and_secure_over_https() {
    let app = TestApp::spawn().await;
    let cookie = app.get("/").await.header("set-cookie").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"));

    let https = TestApp::spawn_with(&[("REDRESS_BASE_URL", "https://disputes.example.cn")]).await;
    let page = https.get("/").await;
    let cookie = page.header("set-cookie");
    assert!(
        cookie.starts_with("__Host-redress_session=") && cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(page.header("strict-transport-security").contains("max-age="));
}

#[tokio::test]
async fn the_sixth_quick_wrong_password_is_refused_even_with_spoofed_addresses() {
    let app = TestApp::spawn().await;
    let password = app.seed_user(Role::Agent, "target@example.com", &[]).await;
    let b = app.browser();
    let csrf = b.get("/").await.csrf();
    for i in 0..5 {
        let spoof = format!("203.0.113.{i}");
        let page = b
            .post_form_raw(
                "/login",
                &[("_csrf", &csrf), ("email", "target@example.com"), ("password", "wrong password!")],
                &[("origin", &app.base), ("x-forwarded-for", &spoof)],
            )
            .await;
        assert_eq!(page.status, 401, "attempt {}", i + 1);
    }
    let sixth = b
        .post_form_raw(
            "/login",
            &[("_csrf", &csrf), ("email", "target@example.com"), ("password", "wrong password!")],
            &[("origin", &app.base), ("x-forwarded-for", "198.51.100.7")],
        )
        .await;
    assert_eq!(sixth.status, 429);
    // Even the right password waits now: the limit is checked before the password.
    assert_eq!(b.login("target@example.com", &password).await.status, 429);
    // Another account is not affected.
    let other = app.seed_user(Role::Agent, "other@example.com", &[]).await;
    assert_eq!(b.login("other@example.com", &other).await.status, 303);
}

#[tokio::test]
async fn unknown_accounts_and_wrong_passwords_get_the_same_answer() {
    let app = TestApp::spawn().await;
    app.seed_user(Role::Agent, "known@example.com", &[]).await;
    let b = app.browser();
    let wrong = b.login("known@example.com", "not the password").await;
    let unknown = b.login("nobody@example.com", "not the password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    let message = |p: &Page| p.select_text("[role=alert]");
    assert_eq!(message(&wrong), message(&unknown));
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_the_emailed_link_and_old_sessions_end() {
    let app = TestApp::spawn().await;
    let old_password = app.seed_user(Role::Agent, "desk@example.com", &[]).await;
    let other_device = app.browser();
    assert_eq!(other_device.login("desk@example.com", &old_password).await.status, 303);
    assert_eq!(other_device.get("/agent").await.status, 200);

    let b = app.browser();
    let sent = b.post_form("/password/forgot", &[("email", "DESK@example.com")]).await;
    assert_eq!(sent.status, 200);
    let nobody = b.post_form("/password/forgot", &[("email", "nobody@example.com")]).await;
    assert_eq!(nobody.status, 200, "the same answer for unknown addresses");

    let outbox = app.outbox().await;
    let resets: Vec<_> = outbox.iter().filter(|n| n.event == "password_reset").collect();
    assert_eq!(resets.len(), 1, "only the real account gets mail");
    let link = link_in(&resets[0].body_text, &format!("{}/password/reset?token=", app.base));
    let token = token_of(&link);
    assert_eq!(b.get(&format!("/password/reset?token={token}")).await.status, 200);

    let mismatch = b
        .post_form("/password/reset", &[("token", &token), ("password", "new long password"), ("confirm", "other")])
        .await;
    assert_eq!(mismatch.status, 422);
    let done = b
        .post_form(
            "/password/reset",
            &[("token", &token), ("password", "new long password"), ("confirm", "new long password")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.header("location"), "/login?notice=password_changed");

    assert_eq!(other_device.get("/agent").await.status, 303, "sessions signed in with the old password end");
    assert_eq!(b.login("desk@example.com", &old_password).await.status, 401);
    assert_eq!(b.login("desk@example.com", "new long password").await.status, 303);
    let reused = b
        .post_form(
            "/password/reset",
            &[("token", &token), ("password", "third long password"), ("confirm", "third long password")],
        )
        .await;
    assert_eq!(reused.select_text("#message-title"), "该链接已失效", "the link works once");
}

#[tokio::test]
async fn a_signed_in_persons_language_choice_is_their_setting() {
    let app = TestApp::spawn().await;
    let b = app.signed_in(Role::Agent, "lang@example.com", &[]).await;
    assert_eq!(b.get("/agent").await.lang(), "zh-CN");
    b.post_form("/lang", &[("lang", "en"), ("next", "/agent")]).await;
    // A new device without the cookie, with a Chinese browser, still gets English.
    let password = "pw-lang@example.com-long-enough";
    let device = app.browser();
    device.login("lang@example.com", password).await;
    assert_eq!(device.get_with("/agent", &[("accept-language", "zh-CN")]).await.lang(), "en");
}

#[tokio::test]
async fn api_tokens_authenticate_with_their_role_and_can_be_revoked() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let secret =
        redress::accounts::add_token(&app.db, "merchant", &["851424736185314".to_owned()], "POS vendor").await.unwrap();
    let client = reqwest::Client::new();
    let me = client.get(format!("{}/api/v1/me", app.base)).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let json: serde_json::Value = me.json().await.unwrap();
    assert_eq!(json["role"], "merchant");
    assert_eq!(json["merchants"][0], "851424736185314");

    for bad in ["", "Bearer nonsense", "Basic abc"] {
        let res = client.get(format!("{}/api/v1/me", app.base)).header("authorization", bad).send().await.unwrap();
        assert_eq!(res.status(), 401, "{bad:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
    }

    let admin = app.signed_in(Role::Admin, "root@example.com", &[]).await;
    let created = admin.post_form("/admin/tokens", &[("name", "bank channel"), ("role", "customer")]).await;
    assert_eq!(created.status, 303, "Post/Redirect/Get");
    let shown = admin.get(created.header("location")).await.select_text("code.secret");
    let ok = client.get(format!("{}/api/v1/me", app.base)).bearer_auth(&shown).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    // Shown once: the list page does not contain it.
    assert!(!admin.get("/admin/tokens").await.body.contains(&shown));

    let tokens = redress::db::api_tokens::list(&app.db).await.unwrap();
    let id = tokens.iter().find(|t| t.name == "bank channel").unwrap().id;
    assert_eq!(admin.post_form(&format!("/admin/tokens/{id}/revoke"), &[]).await.status, 303);
    let revoked = client.get(format!("{}/api/v1/me", app.base)).bearer_auth(&shown).send().await.unwrap();
    assert_eq!(revoked.status(), 401);
}

#[tokio::test]
async fn admins_create_merchant_staff_bound_to_their_merchants() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let admin = app.signed_in(Role::Admin, "root@example.com", &[]).await;

    let unknown = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "clerk@example.com"),
                ("role", "merchant"),
                ("password", "clerk password"),
                ("merchants", "999"),
            ],
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.field_error("merchants").contains("999"), "the unknown merchant is named at its field");
    // Merchants are chosen from those registered, by name and id (issue 15 item 4).
    assert!(unknown.has("input[type=checkbox][name=merchants][value='851424736185314']"), "{}", unknown.body);

    let created = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "clerk@example.com"),
                ("role", "merchant"),
                ("password", "clerk password"),
                ("merchants", "851424736185314"),
            ],
        )
        .await;
    assert_eq!(created.status, 303);
    let clerk = app.browser();
    assert_eq!(clerk.login("clerk@example.com", "clerk password").await.status, 303);
    let own = clerk.get("/merchant/m/851424736185314").await;
    assert_eq!(own.status, 200);
    let terminals = own.select_all("table tbody td:first-child");
    assert!(terminals.contains(&"55024556".to_owned()), "own terminals are listed: {terminals:?}");
    assert_eq!(clerk.get("/merchant/m/868625034637336").await.status, 404, "another merchant does not exist for them");

    // Disabling signs the clerk out at once.
    let users = redress::db::users::list(&app.db).await.unwrap();
    let id = users.iter().find(|u| u.email == "clerk@example.com").unwrap().id;
    assert_eq!(admin.post_form(&format!("/admin/users/{id}/disabled"), &[("disabled", "true")]).await.status, 303);
    assert_eq!(clerk.get("/merchant").await.status, 303);
    assert_eq!(clerk.login("clerk@example.com", "clerk password").await.status, 401);
}
