//! Exceptions and terminal health (DESIGN.md §10, issue 17): found after imports, once; resolved
//! by the records; dismissed with a reason; linked to a later case; found by the periodic check
//! when only time makes them due; a flagged terminal alerts once a day; each merchant sees only
//! its own, by page and API.

use jiff::{SignedDuration, Timestamp};
use redress::domain::role::Role;
use serde_json::Value;

use crate::helpers::{TestApp, import, mails, post_claim};

const M1: &str = "806276126745394";
const T1: &str = "27161971";
const M2: &str = "814035381332293";
const T2: &str = "21107999";

const JOURNAL_HEAD: &str = "merchant_id,terminal_id,batch_no,trace_no,rrn,auth_code,txn_type,status,receipt_printed,card,amount,currency,local_time,orig_trace_no,orig_batch_no,response_code,terminal_event\n";
const SETTLEMENT_HEAD: &str =
    "entry_id,merchant_id,terminal_id,trace_no,rrn,card,direction,amount,currency,txn_time,settled_on,orig_rrn\n";

/// A journal sale: merchant, terminal, trace, RRN, status, card's last 4, amount, local time, event.
#[allow(clippy::too_many_arguments)]
fn sale(
    m: &str,
    t: &str,
    trace: &str,
    rrn: &str,
    status: &str,
    last4: &str,
    amount: &str,
    time: &str,
    event: &str,
) -> String {
    format!("{m},{t},000001,{trace},{rrn},,sale,{status},false,622848******{last4},{amount},CNY,{time},,,,{event}\n")
}

/// A settlement row.
#[allow(clippy::too_many_arguments)]
fn entry(
    id: &str,
    m: &str,
    t: &str,
    trace: &str,
    rrn: &str,
    last4: &str,
    dir: &str,
    amount: &str,
    time: &str,
    orig: &str,
) -> String {
    format!("{id},{m},{t},{trace},{rrn},622848******{last4},{dir},{amount},CNY,{time},2026-11-03,{orig}\n")
}

/// The records of the four kinds at M1 (and one unsettled sale at M2), journal first.
fn journal_file() -> String {
    let mut f = JOURNAL_HEAD.to_owned();
    // The terminal got no answer, but the card was charged: an orphan debit.
    f += &sale(M1, T1, "000101", "", "no_response", "1001", "100.00", "2026-11-02T10:00:00+08:00", "");
    // The same card, amount and terminal twice in ten minutes: the second is a suspect.
    f += &sale(M1, T1, "000102", "RRN000000102", "approved", "1002", "88.00", "2026-11-02T11:00:00+08:00", "");
    f += &sale(M1, T1, "000103", "RRN000000103", "approved", "1002", "88.00", "2026-11-02T11:10:00+08:00", "");
    // Approved, never settled: the merchant's money did not arrive.
    f += &sale(M1, T1, "000104", "RRN000000104", "approved", "1004", "66.00", "2026-11-02T12:00:00+08:00", "");
    // The terminal says 15.00, the host settled 150.00.
    f += &sale(M1, T1, "000105", "RRN000000105", "approved", "1005", "15.00", "2026-11-02T13:00:00+08:00", "");
    f += &sale(M2, T2, "000201", "RRN000000201", "approved", "2001", "55.00", "2026-11-02T14:00:00+08:00", "");
    f
}

fn settlement_file() -> String {
    let mut f = SETTLEMENT_HEAD.to_owned();
    f += &entry("E1", M1, T1, "000101", "RRN000000101", "1001", "debit", "100.00", "2026-11-02T02:00:30Z", "");
    f += &entry("E2", M1, T1, "000102", "RRN000000102", "1002", "debit", "88.00", "2026-11-02T03:00:00Z", "");
    f += &entry("E3", M1, T1, "000103", "RRN000000103", "1002", "debit", "88.00", "2026-11-02T03:10:00Z", "");
    f += &entry("E5", M1, T1, "000105", "RRN000000105", "1005", "debit", "150.00", "2026-11-02T05:00:00Z", "");
    f
}

/// `GET /api/v1/exceptions?{query}` with `token`: (status, body).
async fn api(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/exceptions?{query}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Every exception `token` may see: (kind, state, trace) sorted.
async fn seen(app: &TestApp, token: &str) -> Vec<(String, String, String)> {
    let (status, body) = api(app, token, "limit=500").await;
    assert_eq!(status, 200, "{body}");
    let mut out: Vec<_> = body["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["exception"].as_str().unwrap().to_owned(),
                e["state"].as_str().unwrap().to_owned(),
                e["trace_no"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn ex(kind: &str, state: &str, trace: &str) -> (String, String, String) {
    (kind.to_owned(), state.to_owned(), trace.to_owned())
}

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    app.seed_user(Role::Merchant, "staff1@m1.example", &[M1]).await;
    app.seed_user(Role::Merchant, "staff2@m2.example", &[M2]).await;
    app.seed_user(Role::Agent, "desk@bank.example", &[]).await;
    let agent = app.token(Role::Agent, &[]).await;
    (app, agent)
}

#[tokio::test]
async fn each_kind_is_found_once_resolved_by_the_records_and_kept_to_its_merchant() {
    let (app, agent) = setup().await;
    import(&app, &agent, "journal", journal_file()).await;
    // Old sales with no settlement yet: all four approved ones are unsettled.
    assert_eq!(
        seen(&app, &agent).await,
        vec![
            ex("unsettled_sale", "open", "000102"),
            ex("unsettled_sale", "open", "000103"),
            ex("unsettled_sale", "open", "000104"),
            ex("unsettled_sale", "open", "000105"),
            ex("unsettled_sale", "open", "000201"),
        ]
    );

    import(&app, &agent, "settlement", settlement_file()).await;
    let after = vec![
        ex("amount_mismatch", "open", "000105"),
        ex("duplicate_suspect", "open", "000103"),
        ex("orphan_debit", "open", "000101"),
        // The debits arrived: those sales are settled after all.
        ex("unsettled_sale", "open", "000104"),
        ex("unsettled_sale", "open", "000201"),
        ex("unsettled_sale", "resolved", "000102"),
        ex("unsettled_sale", "resolved", "000103"),
        ex("unsettled_sale", "resolved", "000105"),
    ];
    let mut sorted = after.clone();
    sorted.sort();
    assert_eq!(seen(&app, &agent).await, sorted);

    // The same files again find nothing new, and send nothing.
    import(&app, &agent, "settlement", settlement_file()).await;
    import(&app, &agent, "journal", journal_file()).await;
    assert_eq!(seen(&app, &agent).await, sorted);
    let digests = mails(&app, "exceptions_found", "staff1@m1.example").await;
    assert_eq!(digests.len(), 2, "one digest per import that found something for M1");
    let settlement_digest = &digests[0];
    for word in ["000101", "000103", "000105", T1] {
        assert!(settlement_digest.body_text.contains(word), "{word} in {}", settlement_digest.body_text);
    }
    assert_eq!(mails(&app, "exceptions_found", "staff2@m2.example").await.len(), 1);
    assert_eq!(mails(&app, "exceptions_found", "desk@bank.example").await.len(), 3, "the desk: M1 twice, M2 once");

    // Credits back end the orphan and the duplicate.
    let mut credits = SETTLEMENT_HEAD.to_owned();
    credits += &entry(
        "C1",
        M1,
        T1,
        "000301",
        "RRN000000301",
        "1001",
        "credit",
        "100.00",
        "2026-11-04T02:00:00Z",
        "RRN000000101",
    );
    credits += &entry(
        "C3",
        M1,
        T1,
        "000303",
        "RRN000000303",
        "1002",
        "credit",
        "88.00",
        "2026-11-04T02:00:00Z",
        "RRN000000103",
    );
    import(&app, &agent, "settlement", credits).await;
    let now = seen(&app, &agent).await;
    assert!(now.contains(&ex("orphan_debit", "resolved", "000101")), "{now:?}");
    assert!(now.contains(&ex("duplicate_suspect", "resolved", "000103")), "{now:?}");
    assert!(now.contains(&ex("amount_mismatch", "open", "000105")), "nothing resolves a mismatch by itself");

    // Each merchant sees its own only.
    let m1 = app.token(Role::Merchant, &[M1]).await;
    let m2 = app.token(Role::Merchant, &[M2]).await;
    assert!(seen(&app, &m1).await.iter().all(|(_, _, trace)| trace != "000201"));
    assert_eq!(seen(&app, &m2).await, vec![ex("unsettled_sale", "open", "000201")]);
    let (status, body) = api(&app, &m2, &format!("merchant_id={M1}")).await;
    assert_eq!((status, body["exceptions"].as_array().unwrap().len()), (200, 0));
    let customer = app.token(Role::Customer, &[]).await;
    assert_eq!(api(&app, &customer, "").await.0, 403);
    assert_eq!(api(&app, &agent, "exception=lost").await.0, 400);
}

#[tokio::test]
async fn the_api_shape_and_cursor_follow_the_contract() {
    let (app, agent) = setup().await;
    import(&app, &agent, "journal", journal_file()).await;
    import(&app, &agent, "settlement", settlement_file()).await;
    let (status, first) = api(&app, &agent, "limit=2&state=open").await;
    assert_eq!(status, 200);
    let list = first["exceptions"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    let mut keys: Vec<&str> = list[0].as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "amount",
            "case_id",
            "currency",
            "exception",
            "found_at",
            "id",
            "merchant_id",
            "rrn",
            "state",
            "terminal_id",
            "trace_no",
            "txn_time"
        ]
    );
    assert!(list[0]["id"].as_i64() > list[1]["id"].as_i64(), "newest first");
    let cursor = first["next"].as_str().expect("more pages");
    let (_, second) = api(&app, &agent, &format!("limit=2&state=open&cursor={cursor}")).await;
    let ids: Vec<i64> = second["exceptions"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.iter().all(|id| *id < list[1]["id"].as_i64().unwrap()));
    let (_, mismatch) = api(&app, &agent, "exception=amount_mismatch").await;
    let m = &mismatch["exceptions"][0];
    assert_eq!(
        (m["amount"].as_str(), m["currency"].as_str(), m["rrn"].as_str()),
        (Some("150.00"), Some("CNY"), Some("RRN000000105"))
    );
    let (_, by_terminal) = api(&app, &agent, &format!("terminal_id={T2}")).await;
    assert_eq!(by_terminal["exceptions"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_merchant_dismisses_with_a_written_reason_and_never_another_merchants() {
    let (app, agent) = setup().await;
    import(&app, &agent, "journal", journal_file()).await;
    let (_, body) = api(&app, &agent, "").await;
    let id_of = |trace: &str| {
        body["exceptions"].as_array().unwrap().iter().find(|e| e["trace_no"] == trace).unwrap()["id"].as_i64().unwrap()
    };
    let (mine, theirs) = (id_of("000104"), id_of("000201"));

    let staff = app.browser();
    staff.login("staff1@m1.example", "pw-staff1@m1.example-long-enough").await;
    let page = staff.get("/merchant/exceptions").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.count("table.exceptions tbody tr"), 4, "M1's four, not M2's");
    assert!(!page.has("#exception-{theirs}".replace("{theirs}", &theirs.to_string()).as_str()));
    assert!(page.has(&format!("#exception-{mine} a.journal-link")));
    let csrf = page.csrf();

    let refused = staff.post_form(&format!("/exceptions/{mine}/dismiss"), &[("_csrf", &csrf), ("reason", "  ")]).await;
    assert_eq!(refused.status, 422);
    assert!(refused.has(&format!("#reason-error-{mine}")));
    let other =
        staff.post_form(&format!("/exceptions/{theirs}/dismiss"), &[("_csrf", &csrf), ("reason", "not ours")]).await;
    assert_eq!(other.status, 404, "another merchant's exception does not exist for this viewer");

    let done = staff
        .post_form(
            &format!("/exceptions/{mine}/dismiss"),
            &[("_csrf", &csrf), ("reason", "Test sale on the training terminal")],
        )
        .await;
    assert_eq!(done.status, 303);
    let stored = redress::db::exceptions::get(&app.db, mine).await.unwrap().unwrap();
    assert_eq!(stored.state.as_str(), "dismissed");
    assert_eq!(stored.stored.reason.as_deref(), Some("Test sale on the training terminal"));
    let page = staff.get("/merchant/exceptions?state=dismissed").await;
    assert_eq!(page.count("table.exceptions tbody tr"), 1);
    assert!(page.select_text(&format!("#exception-{mine} .reason")).contains("training terminal"));
    // Dismissed is final: a second dismissal changes nothing.
    let again = staff.post_form(&format!("/exceptions/{mine}/dismiss"), &[("_csrf", &csrf), ("reason", "again")]).await;
    assert_eq!(again.status, 303);
    assert_eq!(
        redress::db::exceptions::get(&app.db, mine).await.unwrap().unwrap().stored.reason.as_deref(),
        Some("Test sale on the training terminal")
    );
    // Without the form's token nothing happens.
    let forged = staff
        .post_form_raw(&format!("/exceptions/{mine}/dismiss"), &[("reason", "x")], &[("origin", app.base.as_str())])
        .await;
    assert_eq!(forged.status, 403);

    // The desk sees every merchant's, the most money first, and counts on its home page.
    let desk = app.browser();
    desk.login("desk@bank.example", "pw-desk@bank.example-long-enough").await;
    let page = desk.get("/agent/exceptions").await;
    assert_eq!(page.count("table.exceptions tbody tr"), 5);
    let amounts = page.select_all("table.exceptions tbody td.amount");
    assert!(amounts[0].contains("88.00"), "{amounts:?}");
    assert!(desk.get("/agent").await.select_text(".exceptions-count").contains('4'));
    assert!(staff.get("/merchant").await.select_text(".exceptions-count").contains('3'));
}

#[tokio::test]
async fn a_later_case_on_the_debit_links_it_and_its_remedy_resolves_it() {
    let (app, agent) = setup().await;
    import(&app, &agent, "journal", journal_file()).await;
    import(&app, &agent, "settlement", settlement_file()).await;
    let bank = app.token(Role::Customer, &[]).await;
    let case = post_claim(
        &app,
        &bank,
        serde_json::json!({"kind": "no_receipt", "card_last4": "1001", "amount": "100.00", "currency": "CNY",
                           "occurred_at": "2026-11-02T10:00+08:00", "contact_email": "holder@example.com"}),
    )
    .await;
    assert_eq!(case["state"], "reversal_pending", "{case}");
    let case_id = case["id"].as_i64().unwrap();
    let (_, body) = api(&app, &agent, "exception=orphan_debit").await;
    let orphan = &body["exceptions"][0];
    assert_eq!((orphan["state"].as_str(), orphan["case_id"].as_i64()), (Some("linked"), Some(case_id)));

    let desk = app.browser();
    desk.login("desk@bank.example", "pw-desk@bank.example-long-enough").await;
    let page = desk.get(&format!("/cases/{case_id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.has("section.known-problem"), "the case says the problem was known");
    let list = desk.get("/agent/exceptions?state=linked").await;
    assert_eq!(list.attr("a.case-link", "href"), format!("/cases/{case_id}"));

    let mut credit = SETTLEMENT_HEAD.to_owned();
    credit += &entry(
        "C1",
        M1,
        T1,
        "000301",
        "RRN000000301",
        "1001",
        "credit",
        "100.00",
        "2026-11-04T02:00:00Z",
        "RRN000000101",
    );
    import(&app, &agent, "settlement", credit).await;
    assert_eq!(crate::helpers::case(&app, case_id).await.state.as_str(), "resolved");
    let (_, body) = api(&app, &agent, "exception=orphan_debit").await;
    assert_eq!(body["exceptions"][0]["state"], "resolved");
}

/// Local time in Beijing, as a journal writes it.
fn beijing(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[tokio::test]
async fn the_periodic_check_finds_what_only_time_makes_due() {
    let (app, agent) = setup().await;
    let now = Timestamp::now();
    let at = now - SignedDuration::from_mins(30);
    let mut journal = JOURNAL_HEAD.to_owned();
    journal += &sale(M1, T1, "000401", "", "no_response", "4001", "42.00", &beijing(at), "");
    let mut settlement = SETTLEMENT_HEAD.to_owned();
    settlement += &entry("E41", M1, T1, "000401", "RRN000000401", "4001", "debit", "42.00", &at.to_string(), "");
    import(&app, &agent, "journal", journal).await;
    import(&app, &agent, "settlement", settlement).await;
    assert!(seen(&app, &agent).await.is_empty(), "not yet due");

    let ctx = redress::cases::MatchContext::new(&app.config);
    let early = redress::exceptions::check::run_once(&app.db, &ctx, now).await.unwrap();
    assert_eq!(early.found, 0);
    let later = now + SignedDuration::from_hours(24 * 8);
    let done = redress::exceptions::check::run_once(&app.db, &ctx, later).await.unwrap();
    assert_eq!(done.found, 1);
    assert_eq!(seen(&app, &agent).await, vec![ex("orphan_debit", "open", "000401")]);
    assert_eq!(mails(&app, "exceptions_found", "staff1@m1.example").await.len(), 1);
    // Nothing is left to find twice.
    assert_eq!(redress::exceptions::check::run_once(&app.db, &ctx, later).await.unwrap().found, 0);
}

#[tokio::test]
async fn a_flagged_terminal_raises_one_alert_a_day_and_shows_its_history() {
    let (app, agent) = setup().await;
    let now = Timestamp::now();
    let terminal = "62287436"; // M1's second till
    let rows = |from: u32, n: u32| {
        let mut f = JOURNAL_HEAD.to_owned();
        for i in from..from + n {
            let at = beijing(now - SignedDuration::from_mins(10 * i64::from(i) + 5));
            f += &sale(
                M1,
                terminal,
                &format!("{:06}", 500 + i),
                &format!("RRN000000{:03}", 500 + i),
                "approved",
                "5001",
                "9.90",
                &at,
                "paper_out",
            );
        }
        f
    };
    import(&app, &agent, "journal", rows(0, 3)).await;
    let alerts = mails(&app, "terminal_alert", "staff1@m1.example").await;
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].body_text.contains(terminal));
    assert!(mails(&app, "terminal_alert", "staff2@m2.example").await.is_empty());
    import(&app, &agent, "journal", rows(3, 2)).await;
    assert_eq!(mails(&app, "terminal_alert", "staff1@m1.example").await.len(), 1, "one a day");

    let staff = app.browser();
    staff.login("staff1@m1.example", "pw-staff1@m1.example-long-enough").await;
    let page = staff.get(&format!("/merchant/terminals/{terminal}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.has("section.flag"));
    assert_eq!(page.count("figure.day-chart"), 5);
    assert_eq!(page.count("figure.day-chart svg > title"), 5, "each chart has a title");
    assert_eq!(page.count("figure.day-chart details table"), 5, "and its numbers as a table");
    assert_eq!(page.count("figure.day-chart svg a"), 0, "no links inside a drawing");
    let sizes = page.attrs("figure.day-chart svg text", "font-size");
    assert!(!sizes.is_empty() && sizes.iter().all(|s| s.parse::<u32>().unwrap() >= 12), "{sizes:?}");
    assert_eq!(page.count("script"), 0);
    let events = page.select_all("#chart-events details tbody tr td");
    assert!(events.iter().any(|c| c == "5" || c == "3" || c == "2"), "paper-out days are counted: {events:?}");
    let list = staff.get("/merchant/exceptions").await;
    assert_eq!(list.count("ol.flagged > li"), 1);

    let other = app.browser();
    other.login("staff2@m2.example", "pw-staff2@m2.example-long-enough").await;
    assert_eq!(other.get(&format!("/merchant/terminals/{terminal}")).await.status, 404);
    assert_eq!(other.get(&format!("/merchant/terminals/{terminal}?merchant={M1}")).await.status, 404);
    assert_eq!(other.get("/merchant/exceptions").await.count("ol.flagged > li"), 0);
    let desk = app.browser();
    desk.login("desk@bank.example", "pw-desk@bank.example-long-enough").await;
    assert_eq!(desk.get(&format!("/merchant/terminals/{terminal}?merchant={M1}")).await.status, 200);
}

#[tokio::test]
async fn the_demo_shows_each_kind_and_a_flagged_terminal_with_history() {
    let app = TestApp::spawn().await;
    redress::demo::load_all(&app.db, &app.config).await.unwrap();
    let agent = app.token(Role::Agent, &[]).await;
    let kinds: std::collections::BTreeSet<String> =
        seen(&app, &agent).await.into_iter().filter(|(_, state, _)| state == "open").map(|(kind, _, _)| kind).collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    let terminal = redress::exceptions::demo::FLAGGED_TERMINAL;
    let flagged = redress::db::exceptions::flagged(&app.db, None, 0).await.unwrap();
    assert!(flagged.iter().any(|f| f.terminal_id == terminal), "{flagged:?}");
    let desk = app.browser();
    desk.login("agent@redress.demo", redress::demo::PASSWORD).await;
    let page = desk.get(&format!("/merchant/terminals/{terminal}")).await;
    assert!(page.has("section.flag"));
    let days_with_sales =
        page.select_all("#chart-transactions details tbody tr td").iter().filter(|c| c.as_str() != "0").count();
    assert!(days_with_sales >= 25, "a month of history: {days_with_sales}");
    // Loading the demo again adds nothing.
    let before = seen(&app, &agent).await.len();
    redress::demo::load_all(&app.db, &app.config).await.unwrap();
    assert_eq!(seen(&app, &agent).await.len(), before);
}

#[tokio::test]
async fn a_sale_and_its_void_in_one_file_leave_detection_working() {
    // Not yet due, the sale is looked at twice in one pass: as a row of the file and as the sale
    // its void cancels. Both ask to look again later; PostgreSQL refused the two in one upsert,
    // which failed the import's step and every later import's detection with it.
    let (app, agent) = setup().await;
    let now =
        Timestamp::now().to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))).strftime("%Y-%m-%dT%H:%M:%S+08:00");
    let mut today = JOURNAL_HEAD.to_owned();
    today += &sale(M1, T1, "000401", "RRN000000401", "approved", "1040", "40.00", &now.to_string(), "");
    today += &format!(
        "{M1},{T1},000001,000402,RRN000000402,,void,approved,false,622848******1040,40.00,CNY,{now},000401,,,\n"
    );
    import(&app, &agent, "journal", today).await;

    // A later file with a sale long past its wait is still looked at.
    let mut old = JOURNAL_HEAD.to_owned();
    old += &sale(M2, T2, "000501", "RRN000000501", "approved", "5001", "50.00", "2026-11-02T14:00:00+08:00", "");
    import(&app, &agent, "journal", old).await;
    assert_eq!(seen(&app, &agent).await, vec![ex("unsettled_sale", "open", "000501")]);
}

/// 1,200 sales at each of two merchants, a problem of each kind every hundred rows: more rows
/// than one batched look-up takes (`db::exceptions::CHUNK`), so every kind is decided from
/// records read several statements apart.
fn big_files() -> (String, String) {
    let start: Timestamp = "2026-11-02T00:00:00+08:00".parse().unwrap();
    let (mut journal, mut settlement) = (JOURNAL_HEAD.to_owned(), SETTLEMENT_HEAD.to_owned());
    for (m, t, card_base) in [(M1, T1, 0), (M2, T2, 5000)] {
        for i in 0..1200u32 {
            let at = start + SignedDuration::from_mins(i64::from(i));
            let trace = format!("{:06}", 100_000 + i);
            let rrn = format!("RRN{:09}", 100_000 + i);
            // The row after a `21` repeats its card and amount a minute later: a duplicate.
            let twin = if i % 100 == 22 { i - 1 } else { i };
            let last4 = format!("{:04}", card_base + twin);
            let amount = format!("{}.00", 10 + twin % 50);
            // A `7` got no answer on the terminal (and no RRN), but was charged: an orphan.
            let (status, journal_rrn) = if i % 100 == 7 { ("no_response", "") } else { ("approved", rrn.as_str()) };
            journal += &sale(m, t, &trace, journal_rrn, status, &last4, &amount, &beijing(at), "");
            // A `0` never settles; a `13` settles for ten times the amount.
            let debit_amount = if i % 100 == 13 { format!("{}.00", (10 + twin % 50) * 10) } else { amount.clone() };
            if i % 100 != 0 {
                let id = format!("BIG-{}-{i}", if m == M1 { "a" } else { "b" });
                settlement += &entry(&id, m, t, &trace, &rrn, &last4, "debit", &debit_amount, &at.to_string(), "");
            }
        }
    }
    (journal, settlement)
}

#[tokio::test]
async fn an_import_larger_than_a_batch_finds_each_exception_once_and_keeps_it_to_its_merchant() {
    let (app, agent) = setup().await;
    let (journal, settlement) = big_files();
    // The steady state: a sale's debit is there when its journal arrives.
    import(&app, &agent, "settlement", settlement.clone()).await;
    import(&app, &agent, "journal", journal.clone()).await;
    // The same traces at each merchant.
    let expected = {
        let trace = |i: u32| format!("{:06}", 100_000 + i);
        let mut all = Vec::new();
        for hundred in (0..1200).step_by(100) {
            all.push(ex("unsettled_sale", "open", &trace(hundred)));
            all.push(ex("orphan_debit", "open", &trace(hundred + 7)));
            all.push(ex("amount_mismatch", "open", &trace(hundred + 13)));
            all.push(ex("duplicate_suspect", "open", &trace(hundred + 22)));
        }
        all.sort();
        all
    };
    let m1 = app.token(Role::Merchant, &[M1]).await;
    let m2 = app.token(Role::Merchant, &[M2]).await;
    assert_eq!(seen(&app, &m1).await, expected);
    assert_eq!(seen(&app, &m2).await, expected);
    assert_eq!(seen(&app, &agent).await.len(), 96);

    // Again: nothing new, and no second digest.
    import(&app, &agent, "settlement", settlement).await;
    import(&app, &agent, "journal", journal).await;
    assert_eq!(seen(&app, &agent).await.len(), 96);
    assert_eq!(mails(&app, "exceptions_found", "staff1@m1.example").await.len(), 1);
    assert_eq!(mails(&app, "exceptions_found", "staff2@m2.example").await.len(), 1);
}

/// What an engine does for each of detection's batched look-ups must be an index search per key:
/// a full read of the journal or the settlement table would make every import as slow as the
/// database is large. For the look-ups by RRN the RRN's own index (not the terminal's) is used.
#[tokio::test]
async fn every_batched_lookup_searches_an_index_for_each_key() {
    use redress::db::exceptions::{Lookup, explain_lookups};
    let app = TestApp::spawn().await;
    for (lookup, plan) in explain_lookups(&app.db).await.unwrap() {
        let text = plan.join("\n");
        let scans = plan.iter().any(|l| {
            let l = l.trim().trim_start_matches("->").trim();
            let sqlite_scan = ["SCAN journal_rows", "SCAN settlement_entries"]
                .iter()
                .any(|s| (l == *s || l.starts_with(&format!("{s} "))) && !l.contains(" USING "));
            sqlite_scan || l.contains("Seq Scan on journal_rows") || l.contains("Seq Scan on settlement_entries")
        });
        assert!(!scans, "{lookup:?} reads a whole table:\n{text}");
        let index = match lookup {
            Lookup::JournalByRrn => Some("journal_by_rrn"),
            // (merchant, terminal, trace) or (terminal, trace): either finds the key's rows.
            Lookup::JournalByTrace => Some("journal_by_terminal"),
            Lookup::JournalByOrigTrace => Some("journal_by_orig_trace"),
            Lookup::DebitsByRrn => Some("settlement_by_rrn"),
            Lookup::DebitsByTrace => Some("settlement_by_terminal"),
            Lookup::CreditsByOrigRrn => Some("settlement_by_orig_rrn"),
            Lookup::Neighbours | Lookup::JournalById | Lookup::SettlementById => None,
        };
        if let Some(index) = index {
            assert!(text.contains(index), "{lookup:?} does not use {index}:\n{text}");
        }
        if lookup == Lookup::Neighbours {
            assert!(
                text.contains("settlement_candidates") || text.contains("settlement_by_card"),
                "neighbours by card, amount and time:\n{text}"
            );
        }
    }
}

/// The two notices of §10 exactly as the outbox holds them, in both languages, text and HTML
/// (as `mail.rs` keeps the others): a digest of what an import found, and a terminal's alert.
#[tokio::test]
async fn the_exception_notices_read_as_written_in_both_languages() {
    let (app, agent) = setup().await;
    let en = redress::accounts::add_user(
        &app.db,
        "merchant",
        "staff1-en@m1.example",
        &[M1.to_owned()],
        "pw-staff1-en-long-enough".into(),
    )
    .await
    .unwrap();
    redress::db::users::set_lang(&app.db, en, "en").await.unwrap();
    import(&app, &agent, "settlement", settlement_file()).await;
    import(&app, &agent, "journal", journal_file()).await;
    // Three paper-outs within the day flag M1's second till.
    let mut paper = JOURNAL_HEAD.to_owned();
    for i in 0..3 {
        let at = beijing(Timestamp::now() - SignedDuration::from_mins(10 * i + 5));
        let (trace, rrn) = (format!("{:06}", 600 + i), format!("RRN000000{:03}", 600 + i));
        paper += &sale(M1, "62287436", &trace, &rrn, "approved", "6001", "9.90", &at, "paper_out");
    }
    import(&app, &agent, "journal", paper).await;
    for event in ["exceptions_found", "terminal_alert"] {
        for (to, lang) in [("staff1@m1.example", "zh-cn"), ("staff1-en@m1.example", "en")] {
            let sent = mails(&app, event, to).await;
            assert_eq!(sent.len(), 1, "{event} to {to}");
            let row = &sent[0];
            let email =
                format!("subject: {}\n---- text ----\n{}---- html ----\n{}", row.subject, row.body_text, row.body_html);
            insta::with_settings!({ filters => crate::mail::EMAIL_FILTERS.to_vec(), omit_expression => true }, {
                insta::assert_snapshot!(format!("{event}-{lang}"), email);
            });
        }
    }
}
