//! The skeleton: probes, pages in both languages, errors, static files, headers, CSRF.

use redress::domain::role::Role;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let live = app.get("/healthz").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.body, "ok");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["status"], "ready");
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.db.close().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["error"], "database_unreachable");
}

#[tokio::test]
async fn home_page_speaks_the_default_language_then_the_browsers() {
    let app = TestApp::spawn().await;
    let zh = app.get("/").await;
    assert_eq!(zh.status, 200);
    assert_eq!(zh.lang(), "zh-CN");
    assert_eq!(zh.select_text("h1"), "刷卡消费出了问题？");

    let en = app.get_with("/", &[("accept-language", "en-GB,en;q=0.9")]).await;
    assert_eq!(en.lang(), "en");
    assert_eq!(en.select_text("h1"), "Charged at a card terminal and something went wrong?");
}

#[tokio::test]
async fn default_language_is_configurable() {
    let app = TestApp::spawn_with(&[("REDRESS_DEFAULT_LANG", "en")]).await;
    assert_eq!(app.get("/").await.lang(), "en");
    assert_eq!(app.get_with("/", &[("accept-language", "zh-CN")]).await.lang(), "zh-CN");
}

#[tokio::test]
async fn the_language_switch_sticks_and_returns_to_the_page() {
    let app = TestApp::spawn().await;
    let switched = app.post_form("/lang", &[("lang", "en"), ("next", "/?from=switch")]).await;
    assert_eq!(switched.status, 303);
    assert_eq!(switched.header("location"), "/?from=switch");
    assert!(switched.header("set-cookie").starts_with("lang=en"));
    // The choice beats the browser's Accept-Language.
    let page = app.get_with("/", &[("accept-language", "zh-CN")]).await;
    assert_eq!(page.lang(), "en");

    let offsite = app.post_form("/lang", &[("lang", "zh-CN"), ("next", "https://evil.example/")]).await;
    assert_eq!(offsite.header("location"), "/");
    assert_eq!(app.get("/").await.lang(), "zh-CN");
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let app = TestApp::spawn().await;
    let origin = [("origin", app.base.as_str())];
    let missing = app.post_form_raw("/lang", &[("lang", "en")], &origin).await;
    assert_eq!(missing.status, 403);
    let message = missing.select_text("#error-title + p");
    assert!(message.starts_with("表单已过期"), "{message}");

    let forged = app.post_form_raw("/lang", &[("_csrf", "00ff"), ("lang", "en")], &origin).await;
    assert_eq!(forged.status, 403);

    // A valid token from this session, but posted from another site.
    let csrf = app.get("/").await.csrf();
    let cross =
        app.post_form_raw("/lang", &[("_csrf", &csrf), ("lang", "en")], &[("origin", "https://evil.example")]).await;
    assert_eq!(cross.status, 403);

    // A token from another visitor's session is worthless here.
    let other = TestApp::spawn().await;
    let other_csrf = other.get("/").await.csrf();
    let _ = app.get("/").await;
    let stolen = app.post_form_raw("/lang", &[("_csrf", &other_csrf), ("lang", "en")], &origin).await;
    assert_eq!(stolen.status, 403);

    let ok = app.post_form_raw("/lang", &[("_csrf", &csrf), ("lang", "en")], &origin).await;
    assert_eq!(ok.status, 303);
}

#[tokio::test]
async fn unknown_pages_are_404_pages_and_api_errors_are_json() {
    let app = TestApp::spawn().await;
    let page = app.get_with("/no/such/page", &[("accept-language", "en")]).await;
    assert_eq!(page.status, 404);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(page.select_text("#error-title"), "Page not found");
    assert_eq!(page.select_text(".error-status"), "404");

    let api = app.get("/api/v1/nothing-here").await;
    assert_eq!(api.status, 404);
    assert!(api.header("content-type").starts_with("application/json"));
    let json = api.json();
    assert_eq!(json["error"], "not_found");
    assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = TestApp::spawn().await;
    let page = app.get("/").await;
    let css_path = page.attr("link[rel=stylesheet]", "href");
    assert!(css_path.starts_with("/static/app.css?v="), "{css_path}");
    for path in ["/", "/healthz", "/readyz", "/missing", "/api/v1/missing", css_path.as_str()] {
        let p = app.get(path).await;
        let csp = p.header("content-security-policy");
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(p.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(p.header("x-frame-options"), "DENY", "{path}");
        assert_eq!(p.header("referrer-policy"), "same-origin", "{path}");
        assert!(!p.header("x-request-id").is_empty(), "{path}");
    }
}

#[tokio::test]
async fn static_files_are_cacheable_forever_and_pages_are_not_cached() {
    let app = TestApp::spawn().await;
    let css = app.get("/static/app.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"));
    assert!(css.header("cache-control").contains("immutable"));
    assert_eq!(app.get("/").await.header("cache-control"), "no-store");
    assert_eq!(app.get("/static/../Cargo.toml").await.status, 404);
}

#[tokio::test]
async fn pages_have_no_inline_scripts_or_styles() {
    let app = TestApp::spawn().await;
    for lang in ["zh-CN", "en"] {
        for path in ["/", "/missing"] {
            let body = app.get_with(path, &[("accept-language", lang)]).await.body;
            assert!(!body.contains("<script>") && !body.contains("style=") && !body.contains("<style"), "{path}");
            assert!(!body.contains("⟨missing text⟩"), "{path} in {lang} has an untranslated text");
        }
    }
}

#[tokio::test]
async fn responses_are_compressed_for_clients_that_ask() {
    let app = TestApp::spawn().await;
    let page = app.get_with("/static/app.css", &[("accept-encoding", "gzip")]).await;
    assert_eq!(page.header("content-encoding"), "gzip");
}

#[tokio::test]
async fn error_pages_know_the_visitor_and_their_language_switch_works() {
    let app = TestApp::spawn().await;
    let agent = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let missing = agent.get("/no/such/page").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.select_text(".account-email"), "desk@example.com", "the signed-in person is shown");
    let csrf = missing.csrf();
    assert!(!csrf.is_empty());
    let switched = agent
        .post_form_raw(
            "/lang",
            &[("_csrf", &csrf), ("lang", "en"), ("next", "/no/such/page")],
            &[("origin", &app.base)],
        )
        .await;
    assert_eq!(switched.status, 303, "the switch on an error page is a valid form");
}
