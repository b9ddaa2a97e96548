//! The records browser (/records): every search field against the sample files, keyset pages that
//! lose and repeat nothing, who sees which rows, refused input, and the plans the searches get.
//!
//! Expected rows are computed from the sample CSV files themselves, so a test says "the rows the
//! file has with this RRN", not a count someone copied once.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use redress::db::browse::{self, Cursor, RecordKind, Search};
use redress::domain::money::{Currency, Money};
use redress::domain::role::Role;

use crate::helpers::{Browser, Page, TestApp, sample};

const MID: &str = "828844912590296";
const OTHER_MID: &str = "851424736185314";

type Row = HashMap<String, String>;
/// A search's query string and the sample rows it must find.
type Case<'a> = (&'a str, Box<dyn Fn(&Row) -> bool>);

fn rows_of(name: &str) -> Vec<Row> {
    let text = sample(name);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| headers.iter().zip(r.unwrap().iter()).map(|(h, v)| (h.into(), v.into())).collect())
        .collect()
}

fn journal_key(r: &Row) -> String {
    format!("{}/{}/{}/{}", r["merchant_id"], r["terminal_id"], r["batch_no"], r["trace_no"])
}

fn time_of(r: &Row) -> Timestamp {
    r.get("local_time").or_else(|| r.get("txn_time")).unwrap().parse().unwrap()
}

/// The keys of the sample rows that `keep` accepts.
fn expected(file: &str, keep: impl Fn(&Row) -> bool) -> HashSet<String> {
    let key = if file == "journal.csv" { journal_key } else { |r: &Row| r["entry_id"].clone() };
    rows_of(file).iter().filter(|r| keep(r)).map(key).collect()
}

async fn import_samples(app: &TestApp) {
    let token = redress::accounts::add_token(&app.db, "agent", &[], "samples").await.unwrap();
    for (path, file) in [("/api/v1/journal", "journal.csv"), ("/api/v1/settlement", "settlement.csv")] {
        let res = reqwest::Client::new()
            .post(format!("{}{path}", app.base))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(sample(file))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{file}: {}", res.text().await.unwrap());
    }
}

async fn get(b: &Browser, path: &str) -> Page {
    b.get_with(path, &[("accept-language", "en")]).await
}

/// The `data-key` of every result row, in page order.
fn keys(page: &Page) -> Vec<String> {
    page.attrs("table.records tbody tr", "data-key")
}

/// The "older records" link, as the browser would follow it (entities decoded).
fn older_link(page: &Page) -> Option<String> {
    let links = page.attrs("a[rel=next]", "href");
    assert!(links.len() <= 1, "{links:?}");
    links.into_iter().next()
}

/// The cells of the result row `key`, left to right: each cell's own text, and the text of
/// each of its smaller `.sub` lines.
fn row(page: &Page, key: &str) -> Vec<(String, Vec<String>)> {
    let html = page.html();
    let cells = scraper::Selector::parse(&format!(r#"tr[data-key="{key}"] > td"#)).unwrap();
    let words = |text: String| text.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
    let found: Vec<(String, Vec<String>)> = html
        .select(&cells)
        .map(|td| {
            let (mut own, mut subs) = (String::new(), Vec::new());
            for child in td.children() {
                match scraper::ElementRef::wrap(child) {
                    Some(e) if e.value().classes().any(|c| c == "sub") => subs.push(words(e.text().collect())),
                    Some(e) => own.extend(e.text()),
                    None => own.push_str(child.value().as_text().map_or("", |t| &**t)),
                }
            }
            (words(own), subs)
        })
        .collect();
    assert!(!found.is_empty(), "no row {key}:\n{}", page.body);
    found
}

/// Every page of a search, following "older" links: the keys in order and the size of each page.
async fn walk(b: &Browser, first: &str) -> (Vec<String>, Vec<usize>) {
    let (mut all, mut sizes) = (Vec::new(), Vec::new());
    let mut next = Some(first.to_owned());
    while let Some(path) = next {
        let page = get(b, &path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let found = keys(&page);
        sizes.push(found.len());
        all.extend(found);
        next = older_link(&page);
        assert!(sizes.len() <= 100, "the walk does not end");
    }
    (all, sizes)
}

async fn found(b: &Browser, path: &str) -> HashSet<String> {
    let (keys, _) = walk(b, path).await;
    let set: HashSet<String> = keys.iter().cloned().collect();
    assert_eq!(set.len(), keys.len(), "{path} repeated a row");
    set
}

fn shanghai_day(r: &Row) -> String {
    time_of(r).to_zoned(TimeZone::get("Asia/Shanghai").unwrap()).date().to_string()
}

#[tokio::test]
async fn each_search_field_finds_exactly_the_rows_the_files_have() {
    let app = TestApp::spawn().await;
    import_samples(&app).await;
    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;

    // The example of the issue: one settlement entry, on terminal 88360045, trace 000051.
    let page = get(&desk, "/records?kind=settlement&rrn=000004267530").await;
    assert_eq!(page.status, 200);
    assert_eq!(keys(&page), ["CLR000000004"]);
    // Time, terminal, trace, RRN, card, direction, amount, settled on.
    let r = row(&page, "CLR000000004");
    assert_eq!(r[0].0, "2026-11-12 05:20:36\u{a0}+00:00", "the host's time with its offset");
    assert_eq!(r[0].1, ["2026-11-12 13:20:36\u{a0}+08:00"], "and the same moment here");
    assert_eq!((r[1].0.as_str(), r[2].0.as_str()), ("88360045", "000051"));
    assert_eq!(r[1].1, [format!("Merchant ID {MID}")]);
    assert_eq!(r[3].0, "000004267530");
    assert_eq!(r[4].0, "623668******2015", "masked card shown");
    assert_eq!(r[5].0, "Debit (cardholder charged)");
    assert_eq!(r[6].0, "CNY 954.82", "amount with its currency");

    // Its journal row has no RRN: the terminal never got the host's answer.
    let page = get(&desk, "/records?terminal_id=88360045&trace_no=000051").await;
    assert_eq!(keys(&page), [format!("{MID}/88360045/000085/000051")]);
    // Time, terminal, trace, RRN, card, type, status, amount, receipt.
    let r = row(&page, &format!("{MID}/88360045/000085/000051"));
    assert_eq!(r[0], ("2026-11-12 13:20:33\u{a0}+08:00".to_owned(), vec![]), "already local: no second line");
    assert_eq!(r[3].0, "none (no host answer)");
    assert_eq!(r[6].0, "No response from the host");
    assert_eq!(r[8].0, "Not printed");
    assert!(r[8].1.iter().any(|sub| sub.ends_with("Communication timed out")), "{:?}", r[8]);

    let journal: &[Case] = &[
        ("rrn=000004275973", Box::new(|r| r["rrn"] == "000004275973")),
        ("terminal_id=88360045", Box::new(|r| r["terminal_id"] == "88360045")),
        ("trace_no=000051", Box::new(|r| r["trace_no"] == "000051")),
        ("last4=2015", Box::new(|r| r["card"].ends_with("2015"))),
        ("amount=954.82", Box::new(|r| r["amount"] == "954.82")),
        ("last4=2015&amount=954.82", Box::new(|r| r["card"].ends_with("2015") && r["amount"] == "954.82")),
        ("amount=954.82&currency=USD", Box::new(|_| false)),
        (&format!("merchant_id={MID}"), Box::new(|r| r["merchant_id"] == MID)),
        ("from=2026-11-12&to=2026-11-12", Box::new(|r| shanghai_day(r) == "2026-11-12")),
        ("from=2026-11-12", Box::new(|r| shanghai_day(r).as_str() >= "2026-11-12")),
        ("to=2026-11-05", Box::new(|r| shanghai_day(r).as_str() <= "2026-11-05")),
        (
            "from=2026-11-12+13:00&to=2026-11-12+14:00",
            Box::new(|r| {
                let t = time_of(r);
                t >= "2026-11-12T05:00:00Z".parse().unwrap() && t <= "2026-11-12T06:00:00Z".parse().unwrap()
            }),
        ),
        (
            "last4=2015&from=2026-11-12T05:00:00Z&to=2026-11-12T06:00:00Z",
            Box::new(|r| {
                let t = time_of(r);
                r["card"].ends_with("2015")
                    && t >= "2026-11-12T05:00:00Z".parse().unwrap()
                    && t <= "2026-11-12T06:00:00Z".parse().unwrap()
            }),
        ),
        (
            &format!("merchant_id={MID}&terminal_id=88360045&last4=2015"),
            Box::new(|r| r["merchant_id"] == MID && r["terminal_id"] == "88360045" && r["card"].ends_with("2015")),
        ),
    ];
    for (query, keep) in journal {
        let want = expected("journal.csv", keep);
        assert!(!want.is_empty() || query.contains("USD"), "{query}: pick a search the sample answers");
        assert_eq!(found(&desk, &format!("/records?{query}")).await, want, "{query}");
        assert_eq!(found(&desk, &format!("/records?kind=journal&{query}")).await, want, "{query}");
    }

    let settlement: &[Case] = &[
        (
            "terminal_id=88360045&trace_no=000051",
            Box::new(|r| r["terminal_id"] == "88360045" && r["trace_no"] == "000051"),
        ),
        ("last4=2015&amount=954.82", Box::new(|r| r["card"].ends_with("2015") && r["amount"] == "954.82")),
        ("from=2026-11-06&to=2026-11-06", Box::new(|r| shanghai_day(r) == "2026-11-06")),
        (&format!("merchant_id={MID}"), Box::new(|r| r["merchant_id"] == MID)),
        ("rrn=000004267530", Box::new(|r| r["rrn"] == "000004267530")),
    ];
    for (query, keep) in settlement {
        let want = expected("settlement.csv", keep);
        assert!(!want.is_empty(), "{query}: pick a search the sample answers");
        assert_eq!(found(&desk, &format!("/records?kind=settlement&{query}")).await, want, "{query}");
    }

    // Credits show too, with the debit they return.
    let credit = rows_of("settlement.csv").into_iter().find(|r| r["direction"] == "credit").unwrap();
    let page =
        get(&desk, &format!("/records?kind=settlement&last4={}", &credit["card"][credit["card"].len() - 4..])).await;
    assert!(keys(&page).contains(&credit["entry_id"]));
    let r = row(&page, &credit["entry_id"]);
    assert_eq!(r[5].0, "Credit (money back to the cardholder)");
    assert_eq!(r[3].0, credit["rrn"]);
    assert!(r[3].1.contains(&format!("returns {}", credit["orig_rrn"])), "{:?}", r[3]);

    // Nothing matches: said in words, not an empty table.
    let page = get(&desk, "/records?rrn=ZZZZZZZZZZZZ").await;
    assert_eq!(page.status, 200);
    assert!(keys(&page).is_empty());
    assert_eq!(page.select_text("section[aria-labelledby=results-title] .notice"), "No records match this search.");
}

#[tokio::test]
async fn pages_walk_every_row_once_newest_first() {
    let app = TestApp::spawn().await;
    import_samples(&app).await;
    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;

    for (kind, file) in [("journal", "journal.csv"), ("settlement", "settlement.csv")] {
        let (walked, sizes) = walk(&desk, &format!("/records?kind={kind}")).await;
        assert_eq!(sizes, [50, 50, 50, 50, 50, 50, 44], "{kind}: pages of 50");
        let unique: HashSet<&String> = walked.iter().collect();
        assert_eq!((walked.len(), unique.len()), (344, 344), "{kind}: every row once");

        let rows = rows_of(file);
        let time: HashMap<String, Timestamp> = rows
            .iter()
            .map(|r| (if kind == "journal" { journal_key(r) } else { r["entry_id"].clone() }, time_of(r)))
            .collect();
        assert!(walked.windows(2).all(|w| time[&w[0]] >= time[&w[1]]), "{kind}: newest first");
    }

    // The first page has no way back; later pages lead back to the newest.
    let first = get(&desk, "/records").await;
    assert!(!first.body.contains("Back to the newest"));
    let second = get(&desk, &older_link(&first).unwrap()).await;
    assert_eq!(second.select_text(".pager a:not([rel])"), "← Back to the newest");
    assert_eq!(second.attr(".pager a:not([rel])", "href"), "/records");
}

#[tokio::test]
async fn pages_cut_inside_one_second_lose_and_repeat_nothing() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let token = redress::accounts::add_token(&app.db, "agent", &[], "ties").await.unwrap();
    // 120 sales in the same second on one terminal, then 5 a second earlier: page borders fall
    // inside the tie, where only the id orders the rows.
    let mut csv = String::from(
        "merchant_id,terminal_id,batch_no,trace_no,rrn,auth_code,txn_type,status,receipt_printed,card,amount,currency,local_time\n",
    );
    for i in 0..125 {
        let time = if i < 120 { "2026-11-20T10:00:00+08:00" } else { "2026-11-20T09:59:59+08:00" };
        csv.push_str(&format!(
            "{MID},TIE00001,000001,{i:06},{:012},,sale,approved,true,622848******1234,1.00,CNY,{time}\n",
            900_000 + i
        ));
    }
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/journal", app.base))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let (walked, sizes) = walk(&desk, "/records?terminal_id=TIE00001").await;
    assert_eq!(sizes, [50, 50, 25]);
    let unique: HashSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), 125);
    // Within the second, the later import id first; the earlier second last.
    assert_eq!(walked[0], format!("{MID}/TIE00001/000001/000119"));
    assert_eq!(walked[119], format!("{MID}/TIE00001/000001/000000"));
    assert_eq!(walked[120], format!("{MID}/TIE00001/000001/000124"));
    assert_eq!(walked[124], format!("{MID}/TIE00001/000001/000120"));

    // A merchant user walks the same rows the same way.
    let staff = app.signed_in(Role::Merchant, "staff@merchant.example", &[MID]).await;
    let (mine, _) = walk(&staff, "/records?terminal_id=TIE00001").await;
    assert_eq!(mine, walked);
}

#[tokio::test]
async fn merchant_staff_see_their_merchants_journal_and_nothing_else() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    import_samples(&app).await;
    let staff = app.signed_in(Role::Merchant, "staff@merchant.example", &[MID]).await;

    let own = expected("journal.csv", |r| r["merchant_id"] == MID);
    assert_eq!(found(&staff, "/records").await, own);
    assert_eq!(found(&staff, &format!("/records?merchant_id={MID}")).await, own);
    let page = get(&staff, "/records").await;
    assert_eq!(page.select_text(r#"select#merchant_id option[value=""]"#), "All my merchants");
    assert!(!page.body.contains("name=\"kind\""), "journal only");

    // Another merchant's records, asked for by RRN, terminal or card: no rows.
    let theirs = rows_of("journal.csv").into_iter().find(|r| r["merchant_id"] == OTHER_MID).unwrap();
    for query in [
        format!("rrn={}", theirs["rrn"]),
        format!("terminal_id={}&trace_no={}", theirs["terminal_id"], theirs["trace_no"]),
        format!("last4={}&amount={}", &theirs["card"][theirs["card"].len() - 4..], theirs["amount"]),
    ] {
        let page = get(&staff, &format!("/records?{query}")).await;
        assert_eq!(page.status, 200, "{query}");
        assert!(keys(&page).is_empty(), "{query}: {:?}", keys(&page));
        assert!(!page.body.contains(&theirs["card"]), "{query}");
    }
    // The settlement example belongs to this merchant, but settlement is for the desk.
    assert!(keys(&get(&staff, "/records?rrn=000004267530").await).is_empty(), "no journal row has it");

    // Naming another merchant, or the settlement records, is refused without showing anything.
    let page = get(&staff, &format!("/records?merchant_id={OTHER_MID}")).await;
    assert_eq!(page.status, 404);
    assert!(keys(&page).is_empty() && !page.body.contains(&theirs["card"]));
    let page = get(&staff, &format!("/records?merchant_id={OTHER_MID}&rrn={}", theirs["rrn"])).await;
    assert_eq!(page.status, 404);
    let page = get(&staff, "/records?kind=settlement&rrn=000004267530").await;
    assert_eq!(page.status, 403);
    assert!(!page.body.contains("CLR000000004"));

    // Staff of two merchants see both, or the one they pick.
    let both = app.signed_in(Role::Merchant, "both@merchant.example", &[MID, OTHER_MID]).await;
    let other = expected("journal.csv", |r| r["merchant_id"] == OTHER_MID);
    assert_eq!(found(&both, "/records").await, own.union(&other).cloned().collect());
    assert_eq!(found(&both, &format!("/records?merchant_id={OTHER_MID}")).await, other);
    assert_eq!(
        found(&both, &format!("/records?merchant_id={OTHER_MID}&terminal_id=88360045")).await,
        HashSet::new(),
        "88360045 is {MID}'s terminal"
    );
}

#[tokio::test]
async fn customers_and_visitors_are_turned_away() {
    let app = TestApp::spawn().await;
    import_samples(&app).await;
    let customer = app.signed_in(Role::Customer, "card@holder.example", &[]).await;
    let page = get(&customer, "/records?kind=settlement").await;
    assert_eq!(page.status, 403);
    assert!(!page.body.contains("CLR0000"));

    let page = get(&app.browser(), "/records?rrn=000004267530").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), "/login?next=%2Frecords%3Frrn%3D000004267530");

    // The nav offers the page to those who may use it.
    app.load_merchants().await;
    for (role, email, merchants) in
        [(Role::Merchant, "m@merchant.example", &[MID][..]), (Role::Agent, "a@example.com", &[])]
    {
        let b = app.signed_in(role, email, merchants).await;
        assert!(get(&b, "/").await.has(r#"header nav a[href="/records"]"#), "{role:?}");
    }
    assert!(!get(&customer, "/").await.body.contains("href=\"/records\""));
}

#[tokio::test]
async fn refused_input_comes_back_with_the_message_next_to_the_field() {
    let app = TestApp::spawn().await;
    import_samples(&app).await;
    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;

    for (query, field, message) in [
        ("rrn=12345", "rrn", "Reference number (RRN) must be 12 letters or digits"),
        ("trace_no=51", "trace_no", "Trace number must be 6 digits"),
        ("terminal_id=8836004", "terminal_id", "Terminal ID must be exactly 8 letters or digits"),
        ("merchant_id=8288-4491", "merchant_id", "Merchant ID must be 1 to 15 letters or digits"),
        ("last4=20", "last4", "Enter exactly the last 4 digits of the card"),
        ("amount=954.825", "amount", "An amount in CNY can have at most 2 digits after the decimal point."),
        ("amount=954.82&currency=EURO", "currency", "The currency must be a 3-letter currency code"),
        ("from=last+week", "from", "Write a date like 2026-11-12"),
        ("from=2026-11-12&to=2026-11-11", "to", "The end of the period must come after its start."),
        ("kind=everything", "kind", "Choose terminal journal or settlement records."),
    ] {
        let page = get(&desk, &format!("/records?{query}")).await;
        assert_eq!(page.status, 422, "{query}");
        let shown = page.field_error(field);
        assert!(shown.starts_with(message), "{query}: message tied to {field}: {shown}");
        assert_eq!(page.attr(&format!("#{field}"), "aria-describedby"), format!("{field}-error"), "{query}");
        assert_eq!(page.count(".field-error"), 1, "{query}: one message");
        assert!(keys(&page).is_empty(), "{query}: no results under a refused search");
    }
    // What was typed is shown again to be corrected.
    let kept = get(&desk, "/records?rrn=12345&last4=2015").await;
    assert_eq!((kept.field_value("rrn"), kept.field_value("last4")), ("12345".to_owned(), "2015".to_owned()));

    // In the user's language.
    let page = desk.get_with("/records?rrn=12345", &[("accept-language", "zh-CN")]).await;
    assert_eq!(page.status, 422);
    assert!(page.field_error("rrn").starts_with("参考号必须是 12 位字母或数字"), "{}", page.field_error("rrn"));

    // A damaged page link.
    let page = get(&desk, "/records?before=yesterday").await;
    assert_eq!(page.status, 422);
    assert!(page.select_text("[role=alert]").starts_with("This page link is damaged."));

    // A full card number is answered, and never shown back.
    let page = get(&desk, "/records?last4=6228480012345671").await;
    assert_eq!(page.status, 422);
    assert!(page.field_error("last4").starts_with("Never type a full card number."), "{}", page.field_error("last4"));
    assert!(!page.body.contains("6228480012345671"));
}

/// The searches the issue names run on indexes on both engines (EXPLAIN QUERY PLAN on SQLite;
/// EXPLAIN on PostgreSQL, with scans of the whole table and sorts discouraged so that a table this
/// small does not hide it), and
/// the plain listings read their index in order instead of sorting.
#[tokio::test]
async fn searches_run_on_indexes() {
    let app = TestApp::spawn().await;
    import_samples(&app).await;
    let amount = Some(Money::new(95482, Currency::CNY));
    let day = (Some(1_794_412_800), Some(1_794_499_200));
    let cursor = Some(Cursor { time: 1_794_464_433, id: 100 });
    let terminal = Some("88360045".to_owned());
    let trace = Some("000051".to_owned());
    let mid = || Some(vec![MID.to_owned()]);
    use RecordKind::{Journal, Settlement};
    // (kind, search, indexes either of which serves it, whether the index also gives the order)
    let cases: Vec<(RecordKind, Search, &[&str], bool)> = vec![
        (Journal, Search { rrn: Some("000004275973".into()), ..Search::default() }, &["journal_by_rrn"], false),
        (
            Journal,
            Search { terminal_id: terminal.clone(), trace_no: trace.clone(), ..Search::default() },
            &["journal_by_terminal"],
            false,
        ),
        (
            Journal,
            Search { merchants: mid(), terminal_id: terminal.clone(), trace_no: trace.clone(), ..Search::default() },
            &["journal_by_terminal_trace", "journal_by_terminal"],
            false,
        ),
        (
            Journal,
            Search { last4: Some("2015".into()), amount, from: day.0, until: day.1, ..Search::default() },
            &["journal_by_card"],
            false,
        ),
        (Journal, Search { before: cursor, ..Search::default() }, &["journal_by_time"], true),
        (
            Journal,
            Search { merchants: mid(), before: cursor, ..Search::default() },
            &["journal_by_merchant_time"],
            true,
        ),
        (Settlement, Search { rrn: Some("000004267530".into()), ..Search::default() }, &["settlement_by_rrn"], false),
        (
            Settlement,
            Search { terminal_id: terminal.clone(), trace_no: trace.clone(), ..Search::default() },
            &["settlement_by_terminal"],
            false,
        ),
        (
            Settlement,
            Search { last4: Some("2015".into()), amount, from: day.0, until: day.1, ..Search::default() },
            &["settlement_by_card"],
            false,
        ),
        (
            Settlement,
            Search { from: day.0, until: day.1, before: cursor, ..Search::default() },
            &["settlement_by_time"],
            true,
        ),
    ];
    let sqlite = crate::helpers::postgres_url().is_none();
    for (kind, search, indexes, in_order) in cases {
        let plan = browse::explain(&app.db, kind, &search, 50).await.unwrap();
        let text = plan.join("\n");
        println!("{kind:?} {search:?}\n{text}\n");
        let named = |index: &&str| text.split_whitespace().any(|word| word == *index);
        assert!(indexes.iter().any(named), "{kind:?} {search:?} should use one of {indexes:?}:\n{text}");
        if sqlite {
            // A bare "SCAN table" reads every row; with an index the line names it.
            assert!(
                !plan.iter().any(|l| matches!(l.trim(), "SCAN journal_rows" | "SCAN settlement_entries")),
                "{text}"
            );
        } else {
            assert!(!text.contains("Seq Scan"), "{text}");
        }
        if in_order {
            assert!(!text.contains("TEMP B-TREE") && !text.contains("Sort"), "{kind:?} {search:?} sorts:\n{text}");
        }
    }
}
