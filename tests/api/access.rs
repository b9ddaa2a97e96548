//! Every route, as every kind of visitor: nobody gets what their role or merchant does not allow.

use redress::domain::role::Role;

use crate::helpers::{Browser, TestApp};

const MID_A: &str = "851424736185314";
const MID_B: &str = "868625034637336";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Customer,
    MerchantA,
    MerchantB,
    Agent,
    Admin,
}

use Who::*;

const EVERYONE: &[Who] = &[Anonymous, Customer, MerchantA, MerchantB, Agent, Admin];

/// (method, path, who may use it). Form posts carry a valid CSRF token and no fields: allowed
/// visitors get a validation answer, never 401/403/404 or a trip to the sign-in page.
fn routes() -> Vec<(&'static str, String, &'static [Who])> {
    vec![
        ("GET", "/".into(), EVERYONE),
        ("GET", "/login".into(), EVERYONE),
        ("GET", "/register".into(), EVERYONE),
        ("GET", "/password/forgot".into(), EVERYONE),
        ("GET", "/my".into(), &[Customer]),
        // Cardholders file claims; staff are told so at the form, not at its submit (issue 15).
        ("GET", "/claims/new".into(), &[Anonymous, Customer]),
        ("GET", "/claims/new/no_receipt".into(), &[Anonymous, Customer]),
        ("GET", "/cases/999999".into(), &[]),
        ("GET", "/imports".into(), &[MerchantA, MerchantB, Agent, Admin]),
        ("GET", "/records".into(), &[MerchantA, MerchantB, Agent, Admin]),
        ("GET", "/merchant".into(), &[MerchantA, MerchantB]),
        ("GET", format!("/merchant/m/{MID_A}"), &[MerchantA]),
        ("GET", format!("/merchant/m/{MID_B}"), &[MerchantB]),
        ("GET", "/agent".into(), &[Agent, Admin]),
        ("GET", "/merchant/cases".into(), &[MerchantA, MerchantB]),
        ("GET", "/agent/cases".into(), &[Agent, Admin]),
        ("GET", "/agent/dashboard".into(), &[Agent, Admin]),
        ("GET", "/merchant/exceptions".into(), &[MerchantA, MerchantB]),
        ("GET", "/agent/exceptions".into(), &[Agent, Admin]),
        ("GET", format!("/merchant/terminals/55024556?merchant={MID_A}"), &[MerchantA, Agent, Admin]),
        ("POST", "/exceptions/999999/dismiss".into(), &[]),
        ("POST", "/cases/999999/act/withdraw".into(), &[]),
        ("POST", "/cases/999999/assign".into(), &[]),
        ("GET", "/admin".into(), &[Admin]),
        ("GET", "/admin/users".into(), &[Admin]),
        ("GET", "/admin/merchants".into(), &[Admin]),
        ("GET", "/admin/tokens".into(), &[Admin]),
        ("GET", "/admin/outbox".into(), &[Admin]),
        ("POST", "/admin/users".into(), &[Admin]),
        ("POST", "/admin/merchants".into(), &[Admin]),
        ("POST", "/admin/terminals".into(), &[Admin]),
        ("POST", "/admin/tokens".into(), &[Admin]),
        ("POST", "/admin/tokens/999999/revoke".into(), &[]),
        ("POST", "/admin/outbox/retry".into(), &[Admin]),
        ("POST", "/admin/outbox/999999/retry".into(), &[]),
        ("POST", "/admin/users/999999/disabled".into(), &[]),
        ("GET", "/admin/users/999999/disable".into(), &[]),
        ("GET", "/admin/tokens/999999/revoke".into(), &[]),
    ]
}

async fn visitor(app: &TestApp, who: Who) -> Browser {
    match who {
        Anonymous => app.browser(),
        Customer => app.signed_in(Role::Customer, "customer@example.com", &[]).await,
        MerchantA => app.signed_in(Role::Merchant, "a@merchant.example", &[MID_A]).await,
        MerchantB => app.signed_in(Role::Merchant, "b@merchant.example", &[MID_B]).await,
        Agent => app.signed_in(Role::Agent, "agent@example.com", &[]).await,
        Admin => app.signed_in(Role::Admin, "admin@example.com", &[]).await,
    }
}

#[tokio::test]
async fn every_route_as_every_role_and_merchant() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let mut failures = Vec::new();
    for who in EVERYONE.iter().copied() {
        let b = visitor(&app, who).await;
        for (method, path, allowed) in routes() {
            let page = if method == "GET" { b.get(&path).await } else { b.post_form(&path, &[]).await };
            let status = page.status.as_u16();
            let to_login = status == 303 && page.header("location").starts_with("/login");
            let refused = to_login || matches!(status, 401 | 403 | 404);
            let may = allowed.contains(&who);
            if may == refused {
                failures.push(format!("{who:?} {method} {path}: {status} (allowed: {may})"));
            }
            if status >= 500 {
                failures.push(format!("{who:?} {method} {path}: server error {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "access violations:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn the_api_refuses_requests_without_a_token_and_ignores_session_cookies() {
    let app = TestApp::spawn().await;
    let agent = app.signed_in(Role::Agent, "agent@example.com", &[]).await;
    // A browser session is not an API credential: cross-site requests must not ride on cookies.
    let page = agent.get("/api/v1/me").await;
    assert_eq!(page.status, 401);
    assert_eq!(page.json()["error"], "unauthorized");
}
