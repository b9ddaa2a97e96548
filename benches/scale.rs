//! Every page at scale (issue #19): a database grown to a million cases, each page loaded by a few
//! concurrent keep-alive connections, each against `/healthz` measured in the same run.
//!
//! The database is generated straight into the tables with SQL (`build`), repeatable by seed:
//! merchants and terminals from the demo, then journal rows, settlement entries (debits and some
//! credits), cases in a realistic mix of states, kinds, findings, merchants and deadlines (about
//! 30 % open), an event per case, and the debits the findings rest on. Then one server runs on it
//! (the real `Application`, on 127.0.0.1 port 0) with a signed-in agent, merchant user and
//! customer, and every page in `PAGES` (plus `SCALE_URLS`) is loaded between two loads of
//! `/healthz`. Printed per page: requests/s, p50 and p99 latency, ratio to `/healthz`, and the
//! process's resident memory (VmRSS, and VmHWM: the peak).
//!
//! Run: `cargo bench --bench scale` (SQLite in a temporary file);
//! `REDRESS_TEST_POSTGRES_URL=postgres://… cargo bench --bench scale` (PostgreSQL, a fresh schema).
//! Environment: SCALE_CASES (1000000), SCALE_RECORDS (1000000 journal rows and as many
//! settlement entries; the full size is 10000000), SCALE_SEED (19), SCALE_CONNS (8),
//! SCALE_SECS (3), SCALE_ONLY (run only pages whose name contains this), SCALE_URLS (more pages:
//! `role:/path` separated by spaces, role `agent`, `merchant`, `customer` or `api` (agent token)).
//! SCALE_KEEP=DIR keeps the built database for the next run with the same sizes and seed (SQLite:
//! a file in DIR; PostgreSQL: a schema named after them, with its sign-ins in DIR): building takes
//! minutes, and migrations added since it was built are applied to it on reuse.
//! Without `--bench` (`cargo test --benches`) a thousand cases are built and every page is only
//! checked to answer 200.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redress::config::Config;
use redress::db::Db;
use redress::startup::Application;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The demo merchant most cases belong to: its staff's queue is the largest.
const BIG_MERCHANT: &str = "806276126745394";
const OPEN: [&str; 6] =
    ["submitted", "awaiting_customer", "awaiting_merchant", "under_review", "refund_pending", "reversal_pending"];

fn env_num<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Engine {
    Sqlite,
    Postgres,
}

/// SQL that differs between the engines, for the generator only (the application's SQL is one
/// text for both).
struct Dialect(Engine);

impl Dialect {
    /// The WITH prefix that numbers rows `i` from 1 to `n` (SQLite has no generate_series built in).
    fn series(&self, n: u64) -> String {
        match self.0 {
            Engine::Sqlite => format!("WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < {n}) "),
            Engine::Postgres => String::new(),
        }
    }

    /// The FROM that goes with [`Dialect::series`].
    fn from_series(&self, n: u64) -> String {
        match self.0 {
            Engine::Sqlite => "g".into(),
            Engine::Postgres => format!("generate_series(1, {n}) AS g(i)"),
        }
    }

    /// `expr` as decimal text, zero-padded to `width`.
    fn pad(&self, expr: &str, width: usize) -> String {
        match self.0 {
            Engine::Sqlite => format!("printf('%0{width}d', {expr})"),
            Engine::Postgres => format!("lpad(CAST({expr} AS TEXT), {width}, '0')"),
        }
    }

    /// A pseudo-random number in 0..m from row number `i` and `salt`, the same on both engines.
    /// The salt changes the multiplier, not an offset: with `(i + salt) * K` every column was a
    /// shifted copy of every other (state fixed kind), and combinations like "under review and
    /// wrong amount" did not exist at all.
    fn hash(&self, salt: u64, m: u64) -> String {
        let k = 2_654_435_761 + 2 * salt;
        format!("((i * {k}) % 4294967291 % {m})")
    }

    fn insert(&self, table_and_columns: &str, n: u64, select: &str) -> String {
        let with = self.series(n);
        format!("INSERT INTO {table_and_columns} {with}SELECT {select} FROM {}", self.from_series(n))
    }
}

/// `a`, `b`, … picked by `h` (a number in 0..100) with cumulative percentages.
fn pick(h: &str, choices: &[(&str, u32)]) -> String {
    let mut sql = String::from("CASE");
    let mut upto = 0;
    for (value, pct) in choices {
        upto += pct;
        sql += &format!(" WHEN {h} < {upto} THEN {value}");
    }
    sql + " END"
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Built {
    agent_cookie: String,
    merchant_cookie: String,
    customer_cookie: String,
    customer_case: i64,
    api_token: String,
    rrn: String,
}

async fn execute(pool: &Pool, sql: &str) {
    let started = Instant::now();
    match pool {
        Pool::Sqlite(p) => {
            sqlx::query(sql).execute(p).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
        }
        Pool::Postgres(p) => {
            sqlx::query(sql).execute(p).await.unwrap_or_else(|e| panic!("{e}: {sql}"));
        }
    }
    let head: String = sql.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    eprintln!("  {head}: {:.1} s", started.elapsed().as_secs_f64());
}

enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

async fn signed_in(db: &Db, role: &str, email: &str, merchants: &[String]) -> (i64, String) {
    let id = redress::accounts::add_user(db, role, email, merchants, "scale-bench-password".into()).await.unwrap();
    let token = format!("{:0>43}", format!("scale{id}"));
    redress::db::users::create_session(db, &redress::auth::token::digest(&token), id).await.unwrap();
    (id, format!("redress_session={token}"))
}

/// Builds the database: see the module comment. Returns who is signed in where.
async fn build(db: &Db, pool: &Pool, engine: Engine, cases: u64, records: u64, seed: u64) -> Built {
    let d = Dialect(engine);
    redress::demo::load(db).await.unwrap();
    let (agent_id, agent_cookie) = signed_in(db, "agent", "agent@scale.example", &[]).await;
    let (_, merchant_cookie) = signed_in(db, "merchant", "staff@scale.example", &[BIG_MERCHANT.into()]).await;
    let (customer_id, customer_cookie) = signed_in(db, "customer", "customer@scale.example", &[]).await;
    let api_token = redress::accounts::add_token(db, "agent", &[], "scale").await.unwrap();
    execute(
        pool,
        "INSERT INTO imports (kind, file_name, sha256, via, accepted, row_count, inserted, unchanged, conflicting,
                              bad_rows, created_at)
         VALUES ('journal', 'scale', '', 'cli', TRUE, 0, 0, 0, 0, 0, 0)",
    )
    .await;
    let now = redress::db::now_unix();
    // 30 % of everything at the big merchant, the rest over 199 others; 5 terminals each.
    let merchant = |salt: u64| {
        let h = d.hash(seed + salt, 1000);
        format!(
            "CASE WHEN {h} < 300 THEN '{BIG_MERCHANT}' ELSE '9' || {} END",
            d.pad(&format!("{} + 1", d.hash(seed + salt + 1, 199)), 14)
        )
    };
    let terminal = |salt: u64| format!("'7' || {}", d.pad(&d.hash(seed + salt, 5), 7));
    let card = |i: &str| d.pad(&format!("{i} % 10000"), 4);
    let t = |i: &str| format!("({now} - 86400 * 120 + ({i} * 7) % (86400 * 120))");
    let import = "(SELECT MIN(id) FROM imports WHERE file_name = 'scale')";

    execute(
        pool,
        &d.insert(
            "journal_rows (merchant_id, terminal_id, batch_no, trace_no, rrn, txn_type, status, receipt_printed,
                           card, card_last4, amount_minor, currency, local_time, local_offset, import_id)",
            records,
            &format!(
                "{}, {}, {}, {}, {}, 'sale', {}, TRUE, '622848******' || {}, {}, 100 + {}, 'CNY', {}, 28800, {import}",
                merchant(1),
                terminal(3),
                d.pad("i / 1000000", 6),
                d.pad("i % 1000000", 6),
                d.pad("i", 12),
                pick(&d.hash(seed + 4, 100), &[("'approved'", 96), ("'no_response'", 2), ("'declined'", 2)]),
                card("i"),
                card("i"),
                d.hash(seed + 5, 100_000),
                t("i"),
            ),
        ),
    )
    .await;
    // Settlement: every journal row settled (RRN shared), and a credit for every 50th.
    execute(
        pool,
        &d.insert(
            "settlement_entries (entry_id, merchant_id, terminal_id, trace_no, rrn, card, card_last4, direction,
                                 amount_minor, currency, txn_time, txn_offset, settled_on, orig_rrn, import_id)",
            records,
            &format!(
                "'S' || i, {}, {}, {}, {}, '622848******' || {}, {}, CASE WHEN i % 50 = 0 THEN 'credit' ELSE 'debit' END,
                 100 + {}, 'CNY', {}, 28800, '2026-11-01', CASE WHEN i % 50 = 0 THEN {} END, {import}",
                merchant(1),
                terminal(3),
                d.pad("i % 1000000", 6),
                d.pad("i + 100000000000", 12),
                card("i"),
                card("i"),
                d.hash(seed + 5, 100_000),
                t("i"),
                d.pad("i - 1 + 100000000000", 12),
            ),
        ),
    )
    .await;
    // Cases: ~30 % open, spread over the deadline from ten days ago to ten days ahead.
    let state = pick(
        &d.hash(seed + 10, 100),
        &[
            ("'submitted'", 1),
            ("'awaiting_customer'", 5),
            ("'awaiting_merchant'", 8),
            ("'under_review'", 8),
            ("'refund_pending'", 4),
            ("'reversal_pending'", 4),
            ("'resolved'", 15),
            ("'rejected'", 3),
            ("'withdrawn'", 2),
            ("'closed'", 50),
        ],
    );
    let kind = pick(
        &d.hash(seed + 11, 100),
        &[("'no_receipt'", 40), ("'duplicate_charge'", 25), ("'wrong_amount'", 15), ("'refund_not_received'", 20)],
    );
    let finding = pick(
        &d.hash(seed + 12, 100),
        &[
            ("'reversal_due'", 20),
            ("'valid_sale_no_receipt'", 15),
            ("'duplicate_confirmed'", 15),
            ("'no_debit_found'", 10),
            ("'journal_missing'", 10),
            ("'amount_discrepancy'", 10),
            ("'no_refund_recorded'", 10),
            ("'already_reversed'", 5),
            ("'ambiguous'", 5),
        ],
    );
    let open_list = OPEN.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
    if engine == Engine::Postgres {
        // PostgreSQL's per-row counting trigger, a million times in one statement, updates the
        // same few thousand counter rows over and over: every update a new row version that the
        // statement's own snapshot keeps alive, so each one is slower than the last (40+ min).
        // The counters are rebuilt from the cases below, as migration 0016 first filled them.
        execute(pool, "ALTER TABLE cases DISABLE TRIGGER cases_counted").await;
    }
    execute(
        pool,
        &d.insert(
            "cases (kind, state, customer_user_id, contact_email, contact_email_norm, lang, via, card_last4, amount_minor,
                    currency, occurred_at, finding, remedy_kind, matched_merchant_id, matched_terminal_id, deadline_at,
                    assigned_to, state_entered_at, created_at, updated_at)",
            cases,
            &format!(
                "{kind}, {state}, CASE WHEN i % 1000 = 0 THEN {customer_id} END, 'c' || i || '@example.com',
                 'c' || i || '@example.com', 'zh-CN', 'web', {}, 100 + {}, 'CNY', '2026-11-01', {finding}, 'none',
                 {}, {}, NULL, CASE WHEN i % 20 = 0 THEN {agent_id} END, {now} - (i % 5000000), {now} - (i % 5000000),
                 {now} - (i % 3000000)",
                card("i"),
                d.hash(seed + 5, 100_000),
                merchant(20),
                terminal(23),
            ),
        ),
    )
    .await;
    execute(
        pool,
        &format!(
            "UPDATE cases SET deadline_at = {now} - 864000 + ((id * 7919) % 1728000)
             WHERE state IN ({open_list}) AND state <> 'awaiting_customer'"
        ),
    )
    .await;
    if engine == Engine::Postgres {
        execute(pool, "ALTER TABLE cases ENABLE TRIGGER cases_counted").await;
        execute(pool, "DELETE FROM case_counts").await;
        execute(pool, "DELETE FROM case_due_hours").await;
        execute(
            pool,
            "INSERT INTO case_counts (state, merchant_id, terminal_id, n)
             SELECT state, COALESCE(matched_merchant_id, ''), COALESCE(matched_terminal_id, ''), COUNT(*)
             FROM cases GROUP BY 1, 2, 3",
        )
        .await;
        execute(
            pool,
            &format!(
                "INSERT INTO case_due_hours (hour, n)
                 SELECT deadline_at / 3600, COUNT(*) FROM cases
                 WHERE deadline_at IS NOT NULL AND state IN ({open_list}) GROUP BY 1"
            ),
        )
        .await;
    }
    execute(
        pool,
        "INSERT INTO case_events (case_id, at, actor, action, from_state, to_state)
         SELECT id, created_at, 'customer', 'file', NULL, 'submitted' FROM cases",
    )
    .await;
    execute(
        pool,
        &format!(
            "INSERT INTO case_matches (case_id, position, settlement_id)
             SELECT id, 0, 1 + (id * 7) % {records} FROM cases WHERE matched_merchant_id IS NOT NULL"
        ),
    )
    .await;
    execute(pool, "ANALYZE").await;
    let customer_case: (i64,) = match pool {
        Pool::Sqlite(p) => {
            sqlx::query_as("SELECT MIN(id) FROM cases WHERE customer_user_id IS NOT NULL").fetch_one(p).await.unwrap()
        }
        Pool::Postgres(p) => {
            sqlx::query_as("SELECT MIN(id) FROM cases WHERE customer_user_id IS NOT NULL").fetch_one(p).await.unwrap()
        }
    };
    let rrn: (String,) = match pool {
        Pool::Sqlite(p) => sqlx::query_as(
            "SELECT s.rrn FROM case_matches m JOIN settlement_entries s ON s.id = m.settlement_id
             WHERE m.case_id = (SELECT MAX(id) FROM cases WHERE state = 'under_review')",
        )
        .fetch_one(p)
        .await
        .unwrap(),
        Pool::Postgres(p) => sqlx::query_as(
            "SELECT s.rrn FROM case_matches m JOIN settlement_entries s ON s.id = m.settlement_id
             WHERE m.case_id = (SELECT MAX(id) FROM cases WHERE state = 'under_review')",
        )
        .fetch_one(p)
        .await
        .unwrap(),
    };
    Built { agent_cookie, merchant_cookie, customer_cookie, customer_case: customer_case.0, api_token, rrn: rrn.0 }
}

// ---------------------------------------------------------------- load

#[derive(Clone)]
struct Target {
    name: String,
    path: String,
    /// `Cookie: …` or `Authorization: …`, or nothing.
    header: Option<String>,
}

struct Measured {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// One GET on a keep-alive connection: the status and the body.
async fn get(stream: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) -> (u16, Vec<u8>) {
    stream.write_all(request).await.expect("write");
    buf.clear();
    let mut chunk = [0u8; 65536];
    loop {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body_start = end + 4;
        if let Some(len) = head.lines().find_map(|l| l.strip_prefix("content-length:")) {
            let len: usize = len.trim().parse().unwrap();
            if buf.len() >= body_start + len {
                return (status, buf[body_start..body_start + len].to_vec());
            }
        } else if head.contains("transfer-encoding: chunked") {
            if buf.ends_with(b"0\r\n\r\n") {
                return (status, dechunk(&buf[body_start..]));
            }
        } else {
            return (status, Vec::new());
        }
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
}

fn request(addr: SocketAddr, target: &Target) -> Vec<u8> {
    let extra = target.header.as_ref().map(|h| format!("{h}\r\n")).unwrap_or_default();
    format!("GET {} HTTP/1.1\r\nHost: {addr}\r\nAccept-Language: en\r\n{extra}\r\n", target.path).into_bytes()
}

/// One GET on a new connection (finding a page-2 link, checking a page answers).
async fn fetch(addr: SocketAddr, target: &Target) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut buf = Vec::new();
    let (status, body) = get(&mut stream, &request(addr, target), &mut buf).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn load(addr: SocketAddr, target: &Target, conns: usize, secs: f64) -> Measured {
    let stop = Arc::new(AtomicBool::new(false));
    let request = Arc::new(request(addr, target));
    let mut tasks = Vec::new();
    let started = Instant::now();
    for _ in 0..conns {
        let (stop, request) = (stop.clone(), request.clone());
        let path = target.path.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut buf = Vec::new();
            let mut times = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let (status, _) = get(&mut stream, &request, &mut buf).await;
                assert_eq!(status, 200, "{path}");
                times.push(t.elapsed().as_secs_f64());
            }
            times
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)] * 1000.0;
    Measured { rps: times.len() as f64 / elapsed, p50_ms: at(0.50), p99_ms: at(0.99) }
}

/// Resident memory of this process (server and load generator), in MB: now and the peak.
/// The process's resident memory in MB: in all (VmRSS), its peak (VmHWM), and of it the part
/// that is mapped file pages (RssFile: SQLite's memory-mapped database, page cache the kernel can
/// drop) rather than the heap and stacks (RssAnon).
fn memory_mb() -> (f64, f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
    };
    let mb = |name: &str| kb(name).unwrap_or(0.0) / 1024.0;
    (mb("VmRSS:"), mb("VmHWM:"), mb("RssFile:"))
}

fn pages(built: &Built) -> Vec<Target> {
    let agent = Some(format!("Cookie: {}", built.agent_cookie));
    let merchant = Some(format!("Cookie: {}", built.merchant_cookie));
    let customer = Some(format!("Cookie: {}", built.customer_cookie));
    let api = Some(format!("Authorization: Bearer {}", built.api_token));
    let t =
        |name: &str, path: String, header: &Option<String>| Target { name: name.into(), path, header: header.clone() };
    let mut list = vec![
        t("static /static/app.css", "/static/app.css".into(), &None),
        t("merchant queue (open)", "/merchant/cases".into(), &merchant),
        t("merchant queue state=awaiting_merchant", "/merchant/cases?state=awaiting_merchant".into(), &merchant),
        t("merchant queue kind=no_receipt", "/merchant/cases?kind=no_receipt".into(), &merchant),
        t("merchant queue state=all", "/merchant/cases?state=all".into(), &merchant),
        t("merchant queue overdue", "/merchant/cases?deadline=overdue".into(), &merchant),
        t("desk console (open)", "/agent/cases".into(), &agent),
        t("desk console state=under_review", "/agent/cases?state=under_review".into(), &agent),
        t("desk console kind=wrong_amount", "/agent/cases?kind=wrong_amount".into(), &agent),
        t("desk console finding=ambiguous", "/agent/cases?finding=ambiguous&state=all".into(), &agent),
        t("desk console state=all", "/agent/cases?state=all".into(), &agent),
        t("desk console rrn", format!("/agent/cases?state=all&rrn={}", built.rrn), &agent),
        t("desk console assignee=me", "/agent/cases?assignee=me".into(), &agent),
        t("desk console last4", "/agent/cases?state=all&last4=0042".into(), &agent),
        t("desk console merchant", format!("/agent/cases?merchant_id={BIG_MERCHANT}"), &agent),
        t("desk dashboard", "/agent/dashboard".into(), &agent),
        t("customer case page", format!("/cases/{}", built.customer_case), &customer),
        t("records browser last4", "/records?last4=0042".into(), &agent),
        t("api case", format!("/api/v1/cases/{}", built.customer_case), &api),
        t("api list", "/api/v1/cases".into(), &api),
        t("api list state=under_review", "/api/v1/cases?state=under_review".into(), &api),
        t("api list merchant", format!("/api/v1/cases?merchant_id={BIG_MERCHANT}"), &api),
    ];
    for spec in std::env::var("SCALE_URLS").unwrap_or_default().split_whitespace() {
        let Some((role, path)) = spec.split_once(':') else { continue };
        let header = match role {
            "agent" => &agent,
            "merchant" => &merchant,
            "customer" => &customer,
            "api" => &api,
            _ => &None,
        };
        list.push(t(spec, path.into(), header));
    }
    list
}

/// The page after the first, from the first page's "next" link (`after=`).
async fn page_two(addr: SocketAddr, target: &Target) -> Option<Target> {
    let (_, body) = fetch(addr, target).await;
    // The JSON lists give an opaque `next` to pass as `cursor`; the pages link `after=…`.
    let (param, cursor) = if body.starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(&body).ok()?;
        ("cursor", json["next"].as_str()?.to_owned())
    } else {
        let at = body.find("after=")?;
        ("after", body[at + 6..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '%').collect())
    };
    let sep = if target.path.contains('?') { '&' } else { '?' };
    Some(Target {
        name: format!("{} page 2", target.name),
        path: format!("{}{sep}{param}={cursor}", target.path),
        header: target.header.clone(),
    })
}

fn main() {
    let timed = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if std::env::args().any(|a| a == "refresh") {
        rt.block_on(refresh(timed));
    } else {
        rt.block_on(run(timed));
    }
}

// ---------------------------------------------------------------- work after an import

/// A fresh migrated database with the demo merchants: a SQLite file in `dir`, or a new schema.
async fn fresh(dir: &std::path::Path, name: &str) -> (Db, Pool, Engine) {
    match std::env::var("REDRESS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => {
            let schema = format!("scale_{name}_{:08x}", rand::random::<u32>());
            let admin = PgPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
            sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.unwrap();
            let options = PgConnectOptions::from_str(&url).unwrap().options([("search_path", schema.as_str())]);
            let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
            let db = Db::from_pg_pool(pool.clone());
            db.migrate().await.unwrap();
            (db, Pool::Postgres(pool), Engine::Postgres)
        }
        None => {
            let url = format!("sqlite://{}", dir.join(format!("{name}.db")).display());
            let db = Db::connect(&redress::secret::SecretUrl::new(url.clone())).await.unwrap();
            db.migrate().await.unwrap();
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            (db, Pool::Sqlite(pool), Engine::Sqlite)
        }
    }
}

/// Imports `rows` generated settlement rows and runs the post-import step: the seconds taken by
/// the step alone and by both.
async fn import_and_refresh(db: &Db, config: &Config, rows: u64, seed: u64, everything: bool) -> (f64, f64) {
    use redress::import::{ImportRequest, Imported, Kind, import};
    let mut csv = Vec::new();
    redress::import::generate::write(Kind::Settlement, rows, seed, &mut csv).unwrap();
    let request = ImportRequest {
        kind: Kind::Settlement,
        file_name: format!("refresh-{seed}.csv"),
        via: "cli",
        user_id: None,
        token_id: None,
        merchant_scope: None,
    };
    let started = Instant::now();
    let report = import(db, &request, std::io::Cursor::new(csv), None).await.unwrap();
    assert!(report.accepted && report.inserted == report.rows && report.rows > 0, "{report:?}");
    let ctx = redress::cases::MatchContext::new(config);
    let step = Instant::now();
    let keys = if everything { Imported::everything() } else { report.imported.clone() };
    redress::cases::refresh::after_import(db, &ctx, &keys).await.unwrap();
    (step.elapsed().as_secs_f64(), started.elapsed().as_secs_f64())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Issue #19: an import of 10 rows with 100,000 open cases waiting for records, against the same
/// import with none waiting, in the same run (two databases, rounds alternating).
/// `cargo bench --bench scale -- refresh`; SCALE_WAITING (100000), SCALE_ROUNDS (7).
async fn refresh(timed: bool) {
    let waiting: u64 = if timed { env_num("SCALE_WAITING", 100_000) } else { 100 };
    let rounds: u64 = if timed { env_num("SCALE_ROUNDS", 7) } else { 1 };
    let dir = tempfile::tempdir().unwrap();
    let (none_db, _, _) = fresh(dir.path(), "none").await;
    let (waiting_db, pool, engine) = fresh(dir.path(), "waiting").await;
    let d = Dialect(engine);
    let now = redress::db::now_unix();
    let started = Instant::now();
    execute(
        &pool,
        &d.insert(
            "cases (kind, state, contact_email, contact_email_norm, lang, via, card_last4, amount_minor, currency,
                    occurred_at, finding, remedy_kind, state_entered_at, created_at, updated_at)",
            waiting,
            &format!(
                "'no_receipt', CASE WHEN i % 2 = 0 THEN 'awaiting_customer' ELSE 'awaiting_merchant' END,
                 'w' || i || '@example.com', 'w' || i || '@example.com', 'en', 'web', {}, 100 + i % 100000, 'CNY',
                 '2026-11-01', CASE WHEN i % 2 = 0 THEN 'no_debit_found' ELSE 'journal_missing' END, 'none',
                 {now}, {now}, {now}",
                d.pad("i % 10000", 4)
            ),
        ),
    )
    .await;
    execute(&pool, "ANALYZE").await;
    eprintln!("{waiting} waiting cases in {:.0} s", started.elapsed().as_secs_f64());
    let env = std::collections::HashMap::from([("REDRESS_BASE_URL".to_owned(), "http://127.0.0.1".to_owned())]);
    let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let (mut none, mut some) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        none.push(import_and_refresh(&none_db, &config, 10, 1000 + round, false).await);
        some.push(import_and_refresh(&waiting_db, &config, 10, 2000 + round, false).await);
    }
    let (full_step, _) = import_and_refresh(&waiting_db, &config, 10, 3000, true).await;
    let step = |v: &[(f64, f64)]| median(v.iter().map(|x| x.0).collect());
    let total = |v: &[(f64, f64)]| median(v.iter().map(|x| x.1).collect());
    println!(
        "{} import of a generated 10-row settlement file (9–10 new rows), median of {rounds} rounds",
        if engine == Engine::Sqlite { "SQLite" } else { "PostgreSQL" }
    );
    println!("| open cases waiting | post-import step ms | import + step ms |");
    println!("|---:|---:|---:|");
    println!("| 0 | {:.2} | {:.2} |", step(&none) * 1e3, total(&none) * 1e3);
    println!("| {waiting} | {:.2} | {:.2} |", step(&some) * 1e3, total(&some) * 1e3);
    println!("| {waiting}, every waiting case read (before) | {:.2} | |", full_step * 1e3);
    println!("ratio waiting / none (import + step): {:.2}", total(&some) / total(&none));
}

async fn run(timed: bool) {
    let cases: u64 = if timed { env_num("SCALE_CASES", 1_000_000) } else { 1_000 };
    let records: u64 = if timed { env_num("SCALE_RECORDS", 1_000_000) } else { 1_000 };
    let seed: u64 = env_num("SCALE_SEED", 19);
    let conns: usize = env_num("SCALE_CONNS", 8);
    let secs: f64 = env_num("SCALE_SECS", 3.0);
    let only = std::env::var("SCALE_ONLY").ok();

    let dir = tempfile::tempdir().unwrap();
    let keep = std::env::var("SCALE_KEEP").ok().filter(|k| !k.is_empty()).map(std::path::PathBuf::from);
    let kept_name = format!("scale_{cases}_{records}_{seed}");
    let work_dir = keep.clone().unwrap_or_else(|| dir.path().to_owned());
    std::fs::create_dir_all(&work_dir).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sqlite_url = format!("sqlite://{}", work_dir.join(format!("{kept_name}.db")).display());
    let pg = std::env::var("REDRESS_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    let built_file = work_dir.join(format!("{kept_name}.{}.json", if pg.is_some() { "pg" } else { "sqlite" }));
    let kept: Option<Built> =
        keep.as_ref().and_then(|_| std::fs::read(&built_file).ok()).and_then(|b| serde_json::from_slice(&b).ok());
    if kept.is_none() && pg.is_none() {
        let _ = std::fs::remove_file(work_dir.join(format!("{kept_name}.db")));
    }
    let (db, pool, engine, url) = match &pg {
        Some(url) => {
            let schema =
                if keep.is_some() { kept_name.clone() } else { format!("scale_{:08x}", rand::random::<u32>()) };
            let admin = PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
            if kept.is_none() {
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&admin).await.unwrap();
                sqlx::query(&format!("CREATE SCHEMA {schema}")).execute(&admin).await.unwrap();
            }
            let options = PgConnectOptions::from_str(url).unwrap().options([("search_path", schema.as_str())]);
            let pool = PgPoolOptions::new().max_connections(8).connect_with(options).await.unwrap();
            (Db::from_pg_pool(pool.clone()), Pool::Postgres(pool), Engine::Postgres, format!("PostgreSQL ({schema})"))
        }
        None => {
            let db = Db::connect(&redress::secret::SecretUrl::new(sqlite_url.clone())).await.unwrap();
            let pool = sqlx::SqlitePool::connect(&sqlite_url).await.unwrap();
            (db, Pool::Sqlite(pool), Engine::Sqlite, "SQLite".to_owned())
        }
    };
    db.migrate().await.unwrap();
    let built = match kept {
        Some(built) => {
            eprintln!("reusing the database built before ({}) on {url}", built_file.display());
            // Its sign-ins would have run out between runs (two hours idle).
            let now = redress::db::now_unix();
            execute(&pool, &format!("UPDATE sessions SET created_at = {now}, last_seen_at = {now}")).await;
            execute(&pool, "ANALYZE").await;
            built
        }
        None => {
            eprintln!("building {cases} cases, {records} journal rows and {records} settlement entries on {url}");
            let started = Instant::now();
            let built = build(&db, &pool, engine, cases, records, seed).await;
            eprintln!("built in {:.0} s", started.elapsed().as_secs_f64());
            if keep.is_some() {
                std::fs::write(&built_file, serde_json::to_vec(&built).unwrap()).unwrap();
            }
            built
        }
    };

    if engine == Engine::Sqlite {
        // What building and ANALYZE wrote, out of the WAL before the load starts (see Db::migrate).
        execute(&pool, "PRAGMA wal_checkpoint(TRUNCATE)").await;
    }
    let env = std::collections::HashMap::from([
        ("REDRESS_DATABASE_URL".to_owned(), sqlite_url.clone()),
        ("REDRESS_ADDR".to_owned(), addr.to_string()),
        ("REDRESS_BASE_URL".to_owned(), format!("http://{addr}")),
    ]);
    let config = Config::from_lookup(|k| env.get(k).cloned()).unwrap();
    let app = Application::with_parts(config, db.clone(), listener).await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));

    let healthz = Target { name: "/healthz".into(), path: "/healthz".into(), header: None };
    let mut targets = Vec::new();
    for target in pages(&built) {
        if only.as_ref().is_some_and(|o| !target.name.contains(o.as_str())) {
            continue;
        }
        let (status, body) = fetch(addr, &target).await;
        assert_eq!(status, 200, "{} answered {status}: {}", target.path, &body[..body.len().min(500)]);
        let lists = target.path.contains("/cases?") || target.path.ends_with("/cases");
        targets.push(target.clone());
        if lists && let Some(two) = page_two(addr, &target).await {
            assert_eq!(fetch(addr, &two).await.0, 200, "{}", two.path);
            targets.push(two);
        }
    }
    if !timed {
        eprintln!("{} pages answer (untimed: pass --bench to measure)", targets.len());
        let _ = stop.send(());
        server.await.unwrap().unwrap();
        return;
    }
    println!("{url}, {cases} cases, {records} journal + {records} settlement rows, {conns} connections, {secs} s each");
    println!("| page | req/s | p50 ms | p99 ms | /healthz req/s | ratio | RSS MB | of it file MB | peak RSS MB |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let _ = load(addr, &healthz, conns, 1.0).await; // warm-up
    for target in &targets {
        let before = load(addr, &healthz, conns, secs / 2.0).await;
        let _ = load(addr, target, conns, 0.5).await; // warm-up of this page's cache
        let m = load(addr, target, conns, secs).await;
        let after = load(addr, &healthz, conns, secs / 2.0).await;
        let base = (before.rps + after.rps) / 2.0;
        let (rss, peak, file) = memory_mb();
        println!(
            "| {} | {:.0} | {:.1} | {:.1} | {:.0} | {:.3} | {:.0} | {:.0} | {:.0} |",
            target.name,
            m.rps,
            m.p50_ms,
            m.p99_ms,
            base,
            m.rps / base,
            rss,
            file,
            peak
        );
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
