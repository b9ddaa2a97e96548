//! One screen for every text that enters (integrity findings 3 and 4): a full card number, in any
//! typing, is refused in every form field, JSON field, file name, email address, path segment and
//! file column, and is never stored, echoed or logged; control characters are refused with a clear
//! message before any query, on SQLite and PostgreSQL alike.
//!
//! The sweep at the end pushes 1,000 card numbers in five typings through all of those ways in,
//! against the real binary logging at debug level, and then looks for them — digits only, so
//! every typing counts — in the database, the log, the outbox and every page it was shown.

use redress::domain::role::Role;
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use reqwest::header::HeaderValue;
use serde_json::json;

use crate::helpers::{Browser, Page, SAMPLES, TestApp, post_json, postgres_url};

/// The Visa test number: what people are told never to type, typed anyway.
const PAN: &str = "4111111111111111";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR fake but well-typed";

// ---- card numbers and their typings ----

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Typing {
    Plain,
    Spaces,
    Dashes,
    Dots,
    FullWidth,
}

const TYPINGS: [Typing; 5] = [Typing::Plain, Typing::Spaces, Typing::Dashes, Typing::Dots, Typing::FullWidth];

/// `pan` as people type it: in groups of four split by a separator, or in full-width digits.
fn typed(pan: &str, typing: Typing) -> String {
    let grouped = |sep: &str| {
        let digits: Vec<char> = pan.chars().collect();
        digits.chunks(4).map(|g| g.iter().collect::<String>()).collect::<Vec<_>>().join(sep)
    };
    match typing {
        Typing::Plain => pan.to_owned(),
        Typing::Spaces => grouped(" "),
        Typing::Dashes => grouped("-"),
        Typing::Dots => grouped("."),
        Typing::FullWidth => {
            pan.chars().map(|c| char::from_u32('０' as u32 + c.to_digit(10).unwrap()).unwrap()).collect()
        }
    }
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d })
        .sum();
    sum.is_multiple_of(10)
}

/// `n` distinct Luhn-valid card numbers of 13–19 digits from a seeded generator.
fn card_numbers(n: usize, seed: u64) -> Vec<String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while out.len() < n {
        let len = rng.random_range(13..=19);
        let mut digits: Vec<u32> =
            (0..len - 1).map(|i| if i == 0 { rng.random_range(1..=9) } else { rng.random_range(0..=9) }).collect();
        let check = (0..10).find(|d| luhn(&[digits.as_slice(), &[*d]].concat())).unwrap();
        digits.push(check);
        let pan: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
        if seen.insert(pan.clone()) {
            out.push(pan);
        }
    }
    out
}

// ---- looking for them ----

/// Finds card numbers of a known set in any text, whatever their typing: the text is reduced to
/// its digits (full-width ones as ASCII), once as it is and once with `%XX` escapes decoded, and
/// every run of 13–19 of those digits is looked up. Separators, escapes and markup cannot hide
/// a number from it.
struct Watch {
    pans: HashSet<(usize, u64)>,
    /// The first seven digits of every number, as a bit set over 0..10^7: a cheap first test.
    prefixes: Vec<u64>,
}

impl Watch {
    fn new<S: AsRef<str>>(pans: &[S]) -> Watch {
        let mut prefixes = vec![0u64; 10_000_000 / 64 + 1];
        let mut set = HashSet::new();
        for pan in pans {
            let digits: Vec<u8> = pan.as_ref().bytes().map(|b| b - b'0').collect();
            set.insert((digits.len(), value(&digits)));
            let p = value(&digits[..7]) as usize;
            prefixes[p / 64] |= 1 << (p % 64);
        }
        Watch { pans: set, prefixes }
    }

    /// The watched card numbers `text` holds, in any typing.
    fn find(&self, text: &str) -> BTreeSet<String> {
        let mut found = self.find_in_digits(&digits_of(text));
        if text.contains('%') {
            found.extend(self.find_in_digits(&digits_of(&percent_decoded(text))));
        }
        found
    }

    fn find_in_digits(&self, digits: &[u8]) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for start in 0..digits.len().saturating_sub(12) {
            let p = value(&digits[start..start + 7]) as usize;
            if self.prefixes[p / 64] & (1 << (p % 64)) == 0 {
                continue;
            }
            for len in 13..=19.min(digits.len() - start) {
                let run = &digits[start..start + len];
                if self.pans.contains(&(len, value(run))) {
                    found.insert(run.iter().map(|d| char::from(b'0' + d)).collect());
                }
            }
        }
        found
    }
}

fn value(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |v, d| v * 10 + u64::from(*d))
}

fn digits_of(text: &str) -> Vec<u8> {
    text.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c as u8 - b'0'),
            '０'..='９' => Some((c as u32 - '０' as u32) as u8),
            _ => None,
        })
        .collect()
}

fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Everything a page sends back: status line, headers (a `Location` could carry a value), body.
fn shown(page: &Page) -> String {
    let headers: String =
        page.headers.iter().map(|(k, v)| format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes()))).collect();
    format!("{}\n{headers}\n{}", page.status, page.body)
}

/// Every text the database holds, with where it was found. On SQLite the files on disk as they
/// are (database, write-ahead log, shared memory); on PostgreSQL every row of every table in the
/// test's schema, as text.
async fn stored(app: &TestApp) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if postgres_url().is_some() {
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&app.database_url).await.unwrap();
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert!(tables.len() > 5, "the test's schema is the one dumped: {tables:?}");
        for (table,) in tables {
            let rows: Vec<(String,)> =
                sqlx::query_as(&format!("SELECT t::text FROM \"{table}\" t")).fetch_all(&pool).await.unwrap();
            out.extend(rows.into_iter().map(|(row,)| (format!("table {table}"), row)));
        }
        pool.close().await;
    } else {
        let path = app.database_url.strip_prefix("sqlite://").unwrap().to_owned();
        for suffix in ["", "-wal", "-shm", "-journal"] {
            if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                out.push((format!("file redress.db{suffix}"), String::from_utf8_lossy(&bytes).into_owned()));
            }
        }
        assert!(out.iter().any(|(w, _)| w.ends_with("-wal")), "the write-ahead log is read too");
    }
    out
}

async fn assert_nothing_stored(app: &TestApp, watch: &Watch) {
    for (place, text) in stored(app).await {
        let found = watch.find(&text);
        assert!(found.is_empty(), "{place} holds {found:?}");
    }
    for mail in app.outbox().await {
        let found = watch.find(&format!("{mail:?}"));
        assert!(found.is_empty(), "the outbox holds {found:?}");
    }
}

fn assert_not_shown(page: &Page, watch: &Watch) {
    let found = watch.find(&shown(page));
    assert!(found.is_empty(), "the page shows {found:?} back:\n{}", page.body);
}

/// The `value` attribute of the input with this id.
fn input_value<'a>(body: &'a str, id: &str) -> &'a str {
    let at = body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no input #{id}"));
    let tag = &body[at..at + body[at..].find('>').unwrap()];
    tag.split("value=\"").nth(1).map_or("", |v| &v[..v.find('"').unwrap()])
}

const CARD_MESSAGE_EN: &str = "Never type a full card number.";
const CONTROL_MESSAGE_EN: &str = "control character";

async fn with_samples() -> TestApp {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    app.import_samples().await;
    app
}

/// A signed-in customer with a case (sample claim 1's debit), and the case's path.
async fn customer_with_case(app: &TestApp) -> (Browser, String) {
    let me = app.signed_in(Role::Customer, "holder@example.com", &[]).await;
    let filed = me
        .post_form(
            "/claims/new/no_receipt",
            &[("card_last4", "2015"), ("amount", "954.82"), ("date", "2026-11-12"), ("time", "13:20")],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    (me, filed.header("location").to_owned())
}

fn good_claim_form(extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut fields: Vec<(&'static str, String)> = vec![
        ("card_last4", "2015".into()),
        ("amount", "954.82".into()),
        ("currency", "CNY".into()),
        ("date", "2026-11-12".into()),
        ("time", "13:20".into()),
        ("merchant_name", "Good Shop".into()),
        ("description", "charged, no slip".into()),
        ("contact_email", "holder@example.com".into()),
    ];
    for (name, value) in extra {
        fields.retain(|(n, _)| n != name);
        fields.push((name, value.clone()));
    }
    fields
}

async fn post_owned(b: &Browser, path: &str, fields: &[(&str, String)], lang: &str) -> Page {
    let csrf = b.get("/").await.csrf();
    let mut all: Vec<(&str, &str)> = vec![("_csrf", &csrf)];
    all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
    let base = b.url("");
    b.post_form_raw(path, &all, &[("origin", base.as_str()), ("accept-language", lang)]).await
}

// ---- finding 3, path by path ----

#[tokio::test]
async fn a_card_number_in_an_email_address_is_refused_wherever_one_is_typed() {
    let app = with_samples().await;
    let watch = Watch::new(&[PAN]);
    let bank = app.token(Role::Customer, &[]).await;
    for typing in TYPINGS {
        let email = format!("{}@x.test", typed(PAN, typing));
        // An anonymous claim: the contact address.
        let visitor = app.browser();
        let page =
            post_owned(&visitor, "/claims/new/no_receipt", &good_claim_form(&[("contact_email", email.clone())]), "en")
                .await;
        assert_eq!(page.status, 422, "{typing:?}: {}", page.body);
        assert!(page.body.contains(CARD_MESSAGE_EN), "{}", page.body);
        assert_not_shown(&page, &watch);
        assert_eq!(input_value(&page.body, "merchant_name"), "Good Shop", "the other fields are kept");

        // Registration.
        let page = post_owned(
            &visitor,
            "/register",
            &[
                ("email", email.clone()),
                ("password", "long enough words".into()),
                ("confirm", "long enough words".into()),
            ],
            "en",
        )
        .await;
        assert_eq!(page.status, 422, "{typing:?}");
        assert!(page.body.contains(CARD_MESSAGE_EN));
        assert_not_shown(&page, &watch);

        // A bank's channel filing through the API.
        let claim = json!({"kind": "no_receipt", "card_last4": "2015", "amount": "954.82", "occurred_at": "2026-11-12", "contact_email": email});
        let (status, body) = post_json(&app, &bank, "/api/v1/claims", &claim).await;
        assert_eq!(status, 422, "{typing:?}: {body}");
        assert_eq!(body["fields"][0]["field"], "contact_email", "{body}");
        assert_eq!(body["fields"][0]["code"], "full_card_number", "{body}");
        assert!(watch.find(&body.to_string()).is_empty());
    }
    assert_eq!(redress::db::cases::count(&app.db).await.unwrap(), 0);
    assert_nothing_stored(&app, &watch).await;
}

#[tokio::test]
async fn evidence_file_names_in_every_typing_are_refused() {
    let app = with_samples().await;
    let watch = Watch::new(&[PAN]);
    let (me, case_path) = customer_with_case(&app).await;
    let upload = |name: String| {
        let (me, case_path, base) = (&me, &case_path, app.base.clone());
        async move {
            let csrf = me.get(case_path).await.csrf();
            let form = reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::bytes(PNG.to_vec()).file_name(name));
            let res = me
                .client
                .post(me.url(&format!("{case_path}/evidence?_csrf={csrf}")))
                .header("origin", base)
                .header("accept-language", "en")
                .multipart(form)
                .send()
                .await
                .unwrap();
            Browser::page(res).await
        }
    };
    for typing in TYPINGS {
        for name in [format!("{}.png", typed(PAN, typing)), format!("bank sms {} 2026.png", typed(PAN, typing))] {
            let page = upload(name.clone()).await;
            assert_eq!(page.status, 422, "{name}: {}", page.body);
            assert!(page.body.contains(CARD_MESSAGE_EN), "{}", page.body);
            assert_not_shown(&page, &watch);
        }
    }
    let page = upload("a\u{0}b.png".into()).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains(CONTROL_MESSAGE_EN), "{}", page.body);
    // The way in still works for a proper name.
    let page = upload("bank sms 2026-11-12.png".into()).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let case = me.get(&case_path).await;
    assert!(case.body.contains("bank sms 2026-11-12.png"));
    assert_not_shown(&case, &watch);
    assert_nothing_stored(&app, &watch).await;
}

#[tokio::test]
async fn import_file_names_are_refused_through_the_upload_page_and_the_api() {
    use redress::db::records::{RecordTable, count_rows};
    let app = TestApp::spawn().await;
    let watch = Watch::new(&[PAN]);
    let journal = std::fs::read(format!("{SAMPLES}journal.csv")).unwrap();
    let agent = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let token = app.token(Role::Agent, &[]).await;
    for typing in TYPINGS {
        let name = format!("journal {}.csv", typed(PAN, typing));
        let csrf = agent.get("/imports").await.csrf();
        let form = reqwest::multipart::Form::new().text("kind", "journal").part(
            "file",
            reqwest::multipart::Part::bytes(journal.clone()).file_name(name.clone()).mime_str("text/csv").unwrap(),
        );
        let res = agent
            .client
            .post(agent.url(&format!("/imports?_csrf={csrf}")))
            .header("origin", &app.base)
            .header("accept-language", "en")
            .multipart(form)
            .send()
            .await
            .unwrap();
        let page = Browser::page(res).await;
        assert_eq!(page.status, 422, "{name}: {}", page.body);
        assert!(page.body.contains(CARD_MESSAGE_EN), "{}", page.body);
        assert_not_shown(&page, &watch);

        // The API names its file in a header; non-ASCII arrives as UTF-8 bytes.
        let res = reqwest::Client::new()
            .post(format!("{}/api/v1/journal", app.base))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .header("x-file-name", HeaderValue::from_bytes(name.as_bytes()).unwrap())
            .body(journal.clone())
            .send()
            .await
            .unwrap();
        let page = Browser::page(res).await;
        assert_eq!(page.status, 422, "{name}: {}", page.body);
        assert_eq!(page.json()["error"], "full_card_number");
        assert_not_shown(&page, &watch);
    }
    assert_eq!(count_rows(&app.db, RecordTable::Journal).await.unwrap(), 0, "nothing was imported");
    assert_nothing_stored(&app, &watch).await;
}

#[tokio::test]
async fn admin_fields_refuse_card_numbers_and_store_nothing() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let watch = Watch::new(&[PAN]);
    let admin = app.signed_in(Role::Admin, "root@example.com", &[]).await;
    let mid =
        std::fs::read_to_string(format!("{SAMPLES}journal.csv")).unwrap().lines().nth(1).unwrap()[..15].to_owned();
    for typing in TYPINGS {
        let card = typed(PAN, typing);
        let forms: [(&str, Vec<(&str, String)>); 5] = [
            (
                "/admin/merchants",
                vec![("merchant_id", "M7".into()), ("name_zh", card.clone()), ("name_en", "Shop".into())],
            ),
            (
                "/admin/merchants",
                vec![("merchant_id", "M7".into()), ("name_zh", "商店".into()), ("name_en", format!("Shop {card}"))],
            ),
            (
                "/admin/terminals",
                vec![("merchant_id", mid.clone()), ("terminal_id", "T0000007".into()), ("location", card.clone())],
            ),
            (
                "/admin/tokens",
                vec![("name", format!("channel {card}")), ("role", "agent".into()), ("merchants", String::new())],
            ),
            (
                "/admin/users",
                vec![
                    ("email", format!("{card}@x.test")),
                    ("role", "agent".into()),
                    ("password", "long enough words".into()),
                    ("merchants", String::new()),
                ],
            ),
        ];
        for (path, fields) in forms {
            let page = post_owned(&admin, path, &fields, "en").await;
            assert_eq!(page.status, 422, "{path} {typing:?}: {}", page.body);
            assert!(page.body.contains(CARD_MESSAGE_EN), "{path}: {}", page.body);
            assert_not_shown(&page, &watch);
        }
    }
    // A real merchant id that happens to pass the Luhn check is a merchant id here.
    let page = post_owned(
        &admin,
        "/admin/merchants",
        &[("merchant_id", "835883278854443".into()), ("name_zh", "商店".into()), ("name_en", "Shop".into())],
        "en",
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_nothing_stored(&app, &watch).await;
}

#[tokio::test]
async fn a_refused_claim_form_empties_the_refused_field_and_keeps_the_others() {
    let app = with_samples().await;
    let watch = Watch::new(&[PAN]);
    let visitor = app.browser();
    for (field, value) in [
        ("date", typed(PAN, Typing::Dashes)),
        ("time", typed(PAN, Typing::Plain)),
        ("contact_email", format!("{}@x.test", typed(PAN, Typing::Dots))),
        ("description", format!("my card {}", typed(PAN, Typing::FullWidth))),
        ("amount", typed(PAN, Typing::Spaces)),
    ] {
        let page = post_owned(&visitor, "/claims/new/no_receipt", &good_claim_form(&[(field, value)]), "en").await;
        assert_eq!(page.status, 422, "{field}: {}", page.body);
        assert_not_shown(&page, &watch);
        assert!(page.body.contains(&format!("id=\"{field}-error\"")), "{field} has its message: {}", page.body);
        assert!(page.body.contains(CARD_MESSAGE_EN));
        if field != "description" {
            assert_eq!(input_value(&page.body, field), "", "{field} is emptied");
        }
        // Everything else is as typed.
        assert_eq!(input_value(&page.body, "merchant_name"), "Good Shop");
        assert_eq!(input_value(&page.body, "card_last4"), "2015");
        if field != "date" {
            assert_eq!(input_value(&page.body, "date"), "2026-11-12");
        }
    }
    assert_eq!(redress::db::cases::count(&app.db).await.unwrap(), 0);
    assert_nothing_stored(&app, &watch).await;
}

#[tokio::test]
async fn sign_in_registration_and_a_forgotten_password_never_show_a_card_number_back() {
    let app = TestApp::spawn().await;
    let watch = Watch::new(&[PAN]);
    app.seed_user(Role::Customer, "holder@example.com", &[]).await;
    let visitor = app.browser();
    for typing in TYPINGS {
        let card = typed(PAN, typing);
        let page = post_owned(
            &visitor,
            "/login",
            &[("email", card.clone()), ("password", "whatever it is".into()), ("next", "/my".into())],
            "en",
        )
        .await;
        assert_eq!(page.status, 422, "{}", page.body);
        assert!(page.body.contains(CARD_MESSAGE_EN));
        assert_not_shown(&page, &watch);
        assert!(page.body.contains(r#"name="next" value="/my""#), "the rest of the form is kept");

        let page = post_owned(
            &visitor,
            "/register",
            &[("email", format!("{card}@x.test")), ("password", card.clone()), ("confirm", card.clone())],
            "en",
        )
        .await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains(CARD_MESSAGE_EN));
        assert_not_shown(&page, &watch);

        let page = post_owned(&visitor, "/password/forgot", &[("email", format!("{card}@x.test"))], "en").await;
        assert_eq!(page.status, 422);
        assert!(page.body.contains(CARD_MESSAGE_EN));
        assert_not_shown(&page, &watch);
    }
    assert_nothing_stored(&app, &watch).await;
}

#[tokio::test]
async fn a_card_number_in_an_address_is_refused_and_the_page_does_not_repeat_it() {
    let app = TestApp::spawn().await;
    let watch = Watch::new(&[PAN, "4081136700579747"]);
    for path in [
        "/claims/new/4081136700579747".to_owned(),
        format!("/claims/new/{}", typed(PAN, Typing::Dots)),
        "/claims/new/4111%201111%201111%201111".to_owned(),
        "/nowhere/%EF%BC%94%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91%EF%BC%91".to_owned(),
        format!("/login?next=/cases/{PAN}"),
    ] {
        let page = app.get_with(&path, &[("accept-language", "en")]).await;
        assert!(page.status == 400 || page.status == 422, "{path}: {}", page.status);
        assert!(page.body.contains(CARD_MESSAGE_EN), "{path}: {}", page.body);
        assert_not_shown(&page, &watch);
    }
    let page = app.get_with("/claims/new/a%00b", &[("accept-language", "en")]).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains(CONTROL_MESSAGE_EN));
}

// ---- finding 4: control characters, before any query ----

#[tokio::test]
async fn control_characters_are_refused_with_a_clear_message_on_both_backends() {
    let app = with_samples().await;
    // Anonymous: the sign-in page.
    let visitor = app.browser();
    let page =
        post_owned(&visitor, "/login", &[("email", "a\0b@example.com".into()), ("password", "x".into())], "en").await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains(CONTROL_MESSAGE_EN), "{}", page.body);
    assert!(!page.body.contains('\0'));

    // A claim's description and merchant name.
    for (field, value) in
        [("description", "charged\0twice"), ("merchant_name", "Shop\0"), ("merchant_name", "Shop\u{1b}[2J")]
    {
        let page =
            post_owned(&visitor, "/claims/new/no_receipt", &good_claim_form(&[(field, value.into())]), "en").await;
        assert_eq!(page.status, 422, "{field}: {}", page.body);
        assert!(page.body.contains(CONTROL_MESSAGE_EN), "{}", page.body);
        assert!(page.body.contains(&format!("id=\"{field}-error\"")));
        assert_eq!(input_value(&page.body, "card_last4"), "2015", "the other fields are kept");
    }
    // Line breaks and tabs are part of writing a description.
    let page = post_owned(
        &visitor,
        "/claims/new/no_receipt",
        &good_claim_form(&[("description", "first line\r\n\tsecond line".into())]),
        "en",
    )
    .await;
    // Filed: redirected to the case's status page (no account here).
    assert_eq!(page.status.as_u16(), 303, "{}", page.body);
    assert!(page.header("location").starts_with("/claims/status/"), "{}", page.header("location"));

    // A note on a case.
    let (me, case_path) = customer_with_case(&app).await;
    let case = me.get(&case_path).await;
    let version = case.body.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let page = post_owned(
        &me,
        &format!("{case_path}/act/withdraw"),
        &[("version", version), ("reason", "no\0longer needed".into())],
        "en",
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains(CONTROL_MESSAGE_EN), "{}", page.body);

    // An admin form.
    let admin = app.signed_in(Role::Admin, "root@example.com", &[]).await;
    let page = post_owned(
        &admin,
        "/admin/merchants",
        &[("merchant_id", "M7".into()), ("name_zh", "商店\0".into()), ("name_en", "Shop".into())],
        "en",
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains(CONTROL_MESSAGE_EN), "{}", page.body);

    // The API and a search.
    let bank = app.token(Role::Customer, &[]).await;
    let claim = json!({"kind": "no_receipt", "card_last4": "2015", "amount": "954.82", "occurred_at": "2026-11-12", "contact_email": "a@example.com", "description": "x\u{0}y"});
    let (status, body) = post_json(&app, &bank, "/api/v1/claims", &claim).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "control_character");
    assert!(body["message"].as_str().unwrap().contains(CONTROL_MESSAGE_EN));
    let agent = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let page = agent.get_with("/records?rrn=%00", &[("accept-language", "en")]).await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains(CONTROL_MESSAGE_EN));

    let cases = redress::db::cases::count(&app.db).await.unwrap();
    assert_eq!(cases, 2, "only the two proper claims were filed");
}

// ---- the sweep ----

fn is_mid(text: &str) -> bool {
    redress::domain::records::is_merchant_id(text)
}

/// One person of the sweep, against the real binary.
struct Person {
    base: String,
    client: reqwest::Client,
    csrf: String,
    token: Option<String>,
}

impl Person {
    async fn visitor(base: &str) -> Person {
        let client =
            reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut p = Person { base: base.to_owned(), client, csrf: String::new(), token: None };
        p.csrf = p.send(p.client.get(p.url("/"))).await.csrf();
        p
    }

    async fn signed_in(base: &str, email: &str, password: &str) -> Person {
        let mut p = Person::visitor(base).await;
        let page = p.post("/login", &[("email", email.to_owned()), ("password", password.to_owned())]).await;
        assert_eq!(page.status, 303, "sign-in of {email}: {}", page.body);
        p.csrf = p.send(p.client.get(p.url("/"))).await.csrf();
        p
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Page {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        match req.header("accept-language", "en").send().await {
            Ok(res) => Browser::page(res).await,
            // A server that answers before reading the whole body may close the connection
            // while the client still sends: counted as no answer (599), never as a refusal.
            Err(_) => Page {
                status: reqwest::StatusCode::from_u16(599).unwrap(),
                headers: reqwest::header::HeaderMap::new(),
                body: String::new(),
            },
        }
    }

    async fn post(&self, path: &str, fields: &[(&str, String)]) -> Page {
        let mut all: Vec<(&str, &str)> = vec![("_csrf", &self.csrf)];
        all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        self.send(self.client.post(self.url(path)).header("origin", &self.base).form(&all)).await
    }

    async fn get_query(&self, path: &str, fields: &[(&str, String)]) -> Page {
        self.send(self.client.get(self.url(path)).query(fields)).await
    }

    async fn multipart(&self, path: &str, form: reqwest::multipart::Form) -> Page {
        let url = self.url(&format!("{path}?_csrf={}", self.csrf));
        let page = self.send(self.client.post(url).header("origin", &self.base).multipart(form)).await;
        // An upload that ran redirects to its report (Post/Redirect/Get): the report is what is
        // shown, so it is what is checked (its status says whether the file was refused).
        match page.header("location") {
            to if page.status == 303 && to.starts_with("/imports?report=") => {
                let to = to.to_owned();
                self.send(self.client.get(self.url(&to))).await
            }
            _ => page,
        }
    }
}

/// The card numbers in every typing, shuffled, handed out field by field. A way in is swept
/// until every number in every typing has gone through it once and every one of its fields has
/// received every typing at every length (13–19 digits).
struct Feed {
    all: Vec<(Typing, usize, String)>,
    queue: VecDeque<(Typing, usize, String)>,
    rng: rand::rngs::StdRng,
    refills: usize,
    seen: BTreeMap<String, (bool, BTreeSet<(Typing, usize)>)>,
}

impl Feed {
    fn new(all: &[(Typing, usize, String)], seed: u64) -> Feed {
        let mut feed = Feed {
            all: all.to_vec(),
            queue: VecDeque::new(),
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            refills: 0,
            seen: BTreeMap::new(),
        };
        feed.refill();
        feed.refills = 0;
        feed
    }

    fn refill(&mut self) {
        let mut values = self.all.clone();
        values.shuffle(&mut self.rng);
        self.queue.extend(values);
        self.refills += 1;
    }

    /// Every typing and length a field can be given: a merchant-id field never gets 13–15 plain
    /// digits, which are a well-formed merchant id there (the screen lets those through by design).
    fn combos(&self, merchant_id: bool) -> BTreeSet<(Typing, usize)> {
        self.all.iter().filter(|v| !(merchant_id && is_mid(&v.2))).map(|v| (v.0, v.1)).collect()
    }

    fn done(&self) -> bool {
        let first_pass = self.queue.is_empty() || self.refills > 0;
        first_pass && self.seen.values().all(|(mid, seen)| *seen == self.combos(*mid))
    }

    /// The next value for the field `slot`.
    fn take(&mut self, slot: &str, merchant_id: bool) -> String {
        let at = loop {
            match self.queue.iter().position(|v| !(merchant_id && is_mid(&v.2))) {
                Some(at) => break at,
                None => self.refill(),
            }
        };
        let (typing, len, text) = self.queue.remove(at).unwrap();
        self.seen.entry(slot.to_owned()).or_insert((merchant_id, BTreeSet::new())).1.insert((typing, len));
        text
    }

    /// One value per field, decorated as the field expects (an address around an email's local
    /// part, an extension on a file name) so the value reaches the screen as a person sends it.
    fn fill<'a>(&mut self, way: &str, fields: &[&'a str]) -> Vec<(&'a str, String)> {
        fields
            .iter()
            .map(|&f| {
                let merchant_id = matches!(f, "merchant_id" | "merchants");
                let v = self.take(&format!("{way} {f}"), merchant_id);
                let v = if f.contains("email") { format!("{v}@x.test") } else { v };
                (f, v)
            })
            .collect()
    }
}

/// What the sweep saw: requests by answer, bytes looked through, and every card number found
/// where it must not be.
#[derive(Default)]
struct Tally {
    requests: usize,
    by_status: BTreeMap<u16, usize>,
    page_bytes: usize,
    leaks: BTreeMap<String, BTreeSet<String>>,
}

impl Tally {
    fn page(&mut self, way: &str, page: &Page, watch: &Watch) {
        self.requests += 1;
        *self.by_status.entry(page.status.as_u16()).or_default() += 1;
        let text = shown(page);
        self.page_bytes += text.len();
        let found = watch.find(&text);
        if !found.is_empty() {
            self.leaks.entry(format!("page of {way}")).or_default().extend(found);
        }
    }
}

const CLAIM_FIELDS: &[&str] = &[
    "card_last4",
    "card_first6",
    "amount",
    "currency",
    "expected_amount",
    "date",
    "time",
    "merchant_id",
    "terminal_id",
    "merchant_name",
    "description",
    "contact_email",
];
const ACT_FIELDS: &[&str] = &[
    "version",
    "reason",
    "batch_no",
    "trace_no",
    "rrn",
    "amount",
    "stated_amount",
    "debit",
    "overrides_finding",
    "card_last4",
    "card_first6",
    "expected_amount",
    "occurred_at",
    "merchant_id",
    "terminal_id",
    "merchant_name",
    "description",
    "assignee",
];
const API_CLAIM_FIELDS: &[&str] = &[
    "kind",
    "card_last4",
    "card_first6",
    "amount",
    "currency",
    "expected_amount",
    "occurred_at",
    "merchant_id",
    "terminal_id",
    "merchant_name",
    "description",
    "contact_email",
];

#[tokio::test]
async fn sweep_a_thousand_card_numbers_in_every_typing_through_every_way_in() {
    let started = Instant::now();
    let pans = card_numbers(1000, 0x5c12_2026);
    for pan in &pans {
        assert!(redress::domain::screen::contains_full_card_number(pan), "{pan} is a card number");
    }
    let values: Vec<(Typing, usize, String)> =
        pans.iter().flat_map(|p| TYPINGS.map(|t| (t, p.len(), typed(p, t)))).collect();
    let watch = Watch::new(&pans);

    let app = with_samples().await;
    let mid =
        std::fs::read_to_string(format!("{SAMPLES}journal.csv")).unwrap().lines().nth(1).unwrap()[..15].to_owned();
    let customer_pw = app.seed_user(Role::Customer, "holder@example.com", &[]).await;
    let agent_pw = app.seed_user(Role::Agent, "desk@example.com", &[]).await;
    let merchant_pw = app.seed_user(Role::Merchant, "till@example.com", &[&mid]).await;
    let admin_pw = app.seed_user(Role::Admin, "root@example.com", &[]).await;
    let bank_token = app.token(Role::Customer, &[]).await;
    let agent_token = app.token(Role::Agent, &[]).await;

    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("serve.log");
    let server = Serve::start(&app.database_url, &log).await;
    let base = server.base.clone();

    let anonymous = Person::visitor(&base).await;
    let customer = Person::signed_in(&base, "holder@example.com", &customer_pw).await;
    let agent = Person::signed_in(&base, "desk@example.com", &agent_pw).await;
    let merchant = Person::signed_in(&base, "till@example.com", &merchant_pw).await;
    let admin = Person::signed_in(&base, "root@example.com", &admin_pw).await;
    let mut bank = Person::visitor(&base).await;
    bank.token = Some(bank_token);
    let mut desk_api = Person::visitor(&base).await;
    desk_api.token = Some(agent_token);

    // A case to act on and attach evidence to, filed the ordinary way.
    let filed = customer
        .post(
            "/claims/new/no_receipt",
            &[
                ("card_last4", "2015".into()),
                ("amount", "954.82".into()),
                ("date", "2026-11-12".into()),
                ("time", "13:20".into()),
            ],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let case_path = filed.header("location").to_owned();
    let merchant_user_id = redress::db::users::find_by_email(&app.db, "till@example.com").await.unwrap().unwrap().id;

    let mut tally = Tally::default();
    let kinds = ["no_receipt", "duplicate_charge", "wrong_amount", "refund_not_received"];
    let actions = ["add_info", "withdraw", "appeal", "accept"];

    // 1. Every form field (URL-encoded bodies): each round sends every form once, each field a
    //    different number, until every number in every typing went through one.
    let mut feed = Feed::new(&values, 1);
    let mut round = 0;
    while !feed.done() {
        let kind = kinds[round % kinds.len()];
        let forms: Vec<(&Person, String, &str, &[&str])> = vec![
            (&anonymous, format!("/claims/new/{kind}"), "claim form", CLAIM_FIELDS),
            (&customer, format!("/claims/new/{kind}"), "customer claim form", &CLAIM_FIELDS[..11]),
            (&anonymous, "/login".into(), "sign-in", &["email", "password", "next"]),
            (&anonymous, "/register".into(), "registration", &["email", "password", "confirm"]),
            (&anonymous, "/password/forgot".into(), "forgotten password", &["email"]),
            (&anonymous, "/password/reset".into(), "new password", &["token", "password", "confirm"]),
            (&anonymous, "/lang".into(), "language switch", &["lang", "next"]),
            (&anonymous, "/claims/confirm".into(), "claim link", &["token"]),
            (&anonymous, "/verify-email".into(), "address check", &["token"]),
            (&customer, format!("{case_path}/act/{}", actions[round % actions.len()]), "customer action", ACT_FIELDS),
            (&agent, format!("{case_path}/act/resolve"), "desk action", ACT_FIELDS),
            (&agent, format!("{case_path}/assign"), "assignment", &["version", "assignee"]),
            (&admin, "/admin/users".into(), "new user", &["email", "role", "password", "merchants"]),
            (&admin, "/admin/merchants".into(), "new merchant", &["merchant_id", "name_zh", "name_en"]),
            (&admin, "/admin/terminals".into(), "new terminal", &["merchant_id", "terminal_id", "location"]),
            (&admin, "/admin/tokens".into(), "new token", &["name", "role", "merchants"]),
            (&admin, format!("/admin/users/{merchant_user_id}/merchants"), "user's merchants", &["merchants"]),
            (&admin, format!("/admin/users/{merchant_user_id}/disabled"), "user switched off", &["disabled"]),
            (&agent, "/logout".into(), "sign-out", &["next"]),
        ];
        for (who, path, way, fields) in forms {
            let filled = feed.fill(way, fields);
            let page = who.post(&path, &filled).await;
            tally.page(way, &page, &watch);
        }
        round += 1;
    }
    let form_rounds = round;
    let mut seen = feed.seen;

    // 2. Every query value of the pages that take one.
    let mut feed = Feed::new(&values, 2);
    while !feed.done() {
        let queries: Vec<(&Person, &str, &str, &[&str])> = vec![
            (
                &agent,
                "/agent/cases",
                "desk console",
                &[
                    "state",
                    "kind",
                    "finding",
                    "terminal_id",
                    "deadline",
                    "age",
                    "merchant_id",
                    "assignee",
                    "case",
                    "last4",
                    "rrn",
                    "after",
                ],
            ),
            (
                &agent,
                "/records",
                "records browser",
                &[
                    "kind",
                    "rrn",
                    "trace_no",
                    "terminal_id",
                    "merchant_id",
                    "last4",
                    "amount",
                    "currency",
                    "from",
                    "to",
                    "before",
                ],
            ),
            (
                &merchant,
                "/merchant/cases",
                "merchant queue",
                &["state", "kind", "finding", "terminal_id", "deadline", "age", "merchant_id"],
            ),
            (&merchant, "/records", "merchant records", &["rrn", "last4", "amount", "from"]),
            (&anonymous, "/login", "sign-in page", &["next", "notice"]),
            (&anonymous, "/password/reset", "new password page", &["token"]),
            (&anonymous, "/claims/confirm", "claim link page", &["token"]),
            (&anonymous, "/verify-email", "address check page", &["token"]),
            (&anonymous, "/", "home page", &["q"]),
            (&customer, case_path.as_str(), "case page", &["done", "evidence"]),
            (&desk_api, "/api/v1/me", "API", &["q"]),
        ];
        for (who, path, way, fields) in queries {
            let filled = feed.fill(way, fields);
            let page = who.get_query(path, &filled).await;
            tally.page(way, &page, &watch);
        }
    }
    seen.append(&mut feed.seen);

    // 3. Every JSON field of the API.
    let mut feed = Feed::new(&values, 3);
    while !feed.done() {
        let filled = feed.fill("API claim", API_CLAIM_FIELDS);
        let body: serde_json::Map<String, serde_json::Value> =
            filled.into_iter().map(|(k, v)| (k.to_owned(), serde_json::Value::String(v))).collect();
        let page = bank.send(bank.client.post(bank.url("/api/v1/claims")).json(&body)).await;
        tally.page("API claim", &page, &watch);
    }
    seen.append(&mut feed.seen);

    // 4. Every path segment a route takes, and one no route takes. Request ids ride along: they
    //    are logged and sent back.
    let mut feed = Feed::new(&values, 4);
    while !feed.done() {
        let paths: Vec<(&Person, &str, &str, bool)> = vec![
            (&anonymous, "/claims/new/{}", "claim kind in the path", false),
            (&anonymous, "/{}", "unknown path", false),
            (&customer, "/cases/{}", "case id in the path", false),
            (&customer, "/cases/{}/evidence/1", "evidence case id in the path", false),
            (&merchant, "/merchant/m/{}", "merchant id in the path", true),
            (&desk_api, "/api/v1/cases/{}", "API case id in the path", false),
        ];
        for (who, template, way, merchant_id) in paths {
            let segment = feed.take(way, merchant_id);
            let request_id = feed.take(&format!("{way} request id"), false);
            let url = who.url(&template.replace("{}", &segment));
            let req =
                who.client.get(url).header("x-request-id", HeaderValue::from_bytes(request_id.as_bytes()).unwrap());
            let page = who.send(req).await;
            tally.page(way, &page, &watch);
        }
    }
    seen.append(&mut feed.seen);

    // 5. Every file name (evidence, the upload page, the API header) and the upload page's own
    //    text field.
    let journal = std::fs::read(format!("{SAMPLES}journal.csv")).unwrap();
    let mut feed = Feed::new(&values, 5);
    while !feed.done() {
        let name = feed.take("evidence file name", false);
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(PNG.to_vec()).file_name(format!("{name}.png")));
        let page = customer.multipart(&format!("{case_path}/evidence"), form).await;
        tally.page("evidence file name", &page, &watch);

        let name = feed.take("upload file name", false);
        let form = reqwest::multipart::Form::new()
            .text("kind", "journal")
            .part("file", reqwest::multipart::Part::bytes(journal.clone()).file_name(format!("{name}.csv")));
        let page = agent.multipart("/imports", form).await;
        tally.page("upload file name", &page, &watch);

        let kind = feed.take("upload kind field", false);
        let form = reqwest::multipart::Form::new()
            .text("kind", kind)
            .part("file", reqwest::multipart::Part::bytes(journal.clone()).file_name("journal.csv"));
        let page = agent.multipart("/imports", form).await;
        tally.page("upload kind field", &page, &watch);

        let name = feed.take("API file name", false);
        let req = desk_api
            .client
            .post(desk_api.url("/api/v1/journal"))
            .header("content-type", "text/csv")
            .header("x-file-name", HeaderValue::from_bytes(format!("{name}.csv").as_bytes()).unwrap())
            .body(journal.clone());
        let page = desk_api.send(req).await;
        tally.page("API file name", &page, &watch);
    }
    seen.append(&mut feed.seen);

    // 6. Every column of both file kinds, through the API and the upload page.
    let headers = |kind: &str| -> Vec<String> {
        let text = std::fs::read_to_string(format!("{SAMPLES}{kind}.csv")).unwrap();
        text.lines().next().unwrap().split(',').map(str::to_owned).collect()
    };
    let mut feed = Feed::new(&values, 6);
    let mut files = 0;
    while !feed.done() {
        for (kind, via_api) in [("journal", true), ("settlement", true), ("journal", false), ("settlement", false)] {
            let columns = headers(kind);
            let mut csv = columns.join(",") + "\n";
            for _ in 0..40 {
                let row: Vec<String> =
                    columns.iter().map(|c| feed.take(&format!("{kind} column {c}"), c == "merchant_id")).collect();
                csv += &(row.join(",") + "\n");
            }
            let page = if via_api {
                let req = desk_api
                    .client
                    .post(desk_api.url(&format!("/api/v1/{kind}")))
                    .header("content-type", "text/csv")
                    .header("x-file-name", format!("sweep-{kind}.csv"))
                    .body(csv);
                desk_api.send(req).await
            } else {
                let form = reqwest::multipart::Form::new().text("kind", kind).part(
                    "file",
                    reqwest::multipart::Part::bytes(csv.into_bytes()).file_name(format!("sweep-{kind}.csv")),
                );
                agent.multipart("/imports", form).await
            };
            tally.page(&format!("{kind} file"), &page, &watch);
            files += 1;
        }
    }
    seen.append(&mut feed.seen);
    let sent = Instant::now();

    server.stop();
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("DEBUG"), "the log is the server's, at debug level");
    let found = watch.find(&log_text);
    if !found.is_empty() {
        tally.leaks.entry("server log".into()).or_default().extend(found);
    }
    let mut stored_bytes = 0;
    for (place, text) in stored(&app).await {
        stored_bytes += text.len();
        let found = watch.find(&text);
        if !found.is_empty() {
            tally.leaks.entry(place).or_default().extend(found);
        }
    }
    let outbox = app.outbox().await;
    for mail in &outbox {
        let found = watch.find(&format!("{mail:?}"));
        if !found.is_empty() {
            tally.leaks.entry("outbox".into()).or_default().extend(found);
        }
    }

    let backend = if postgres_url().is_some() { "PostgreSQL" } else { "SQLite" };
    println!(
        "sweep on {backend}: {} card numbers × {} typings = {} values; {} requests ({form_rounds} form rounds, {files} files) \
         in {:.1} s, answers {:?}; looked through {} MB of pages, {} MB of debug log, {} kB of stored data, {} outbox mails; \
         {} fields, each given all 5 typings at all 7 lengths; {:.1} s in all",
        pans.len(),
        TYPINGS.len(),
        values.len(),
        tally.requests,
        sent.duration_since(started).as_secs_f64(),
        tally.by_status,
        tally.page_bytes / 1_000_000,
        log_text.len() / 1_000_000,
        stored_bytes / 1_000,
        outbox.len(),
        seen.len(),
        started.elapsed().as_secs_f64(),
    );
    let leaks: Vec<String> = tally
        .leaks
        .iter()
        .map(|(place, found)| {
            format!("{place}: {} numbers, e.g. {:?}", found.len(), found.iter().take(3).collect::<Vec<_>>())
        })
        .collect();
    assert!(leaks.is_empty(), "card numbers found where they must never be:\n{}", leaks.join("\n"));
    // Each way in ran until its fields were covered; this says so in the failure output if not.
    let uncovered: Vec<_> =
        seen.iter().filter(|(_, (mid, combos))| combos.len() < if *mid { 32 } else { 35 }).collect();
    assert!(uncovered.is_empty(), "fields that did not get every typing at every length: {uncovered:?}");
    let accepted: usize = tally.by_status.iter().filter(|(s, _)| !(400..500).contains(*s)).map(|(_, n)| n).sum();
    assert_eq!(accepted, 0, "every request held a card number and was refused: {:?}", tally.by_status);
    assert!(started.elapsed() < Duration::from_secs(20 * 60));
}

/// `redress serve` on a free port, logging at debug level into `log`.
struct Serve {
    child: std::process::Child,
    base: String,
}

impl Serve {
    async fn start(database_url: &str, log: &std::path::Path) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_redress"))
            .arg("serve")
            .env("REDRESS_DATABASE_URL", database_url)
            .env("REDRESS_ADDR", format!("127.0.0.1:{port}"))
            .env("REDRESS_BASE_URL", &base)
            .env_remove("REDRESS_SMTP_URL")
            .env("RUST_LOG", "debug")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let server = Serve { child, base };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if client.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status() == 200) {
                return server;
            }
            assert!(Instant::now() < deadline, "redress serve did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, as an operator stops it; waits for it to exit so the log is complete.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        let started = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(started.elapsed() < Duration::from_secs(15), "redress serve did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        // Reached with the server still running only when the test failed midway.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
