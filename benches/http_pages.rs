//! Web pages over SQLite: how close a page that runs one indexed query gets to a bare handler.
//!
//! One process serves, on 127.0.0.1 port 0 each:
//! - `bare`: an axum handler returning "Hello, World!" (the baseline every ratio divides by);
//! - `template`: the page's askama template with fixed data, no query (splits render from query);
//! - `ours`: `Db::connect` on a migrated, demo-seeded SQLite file, one point query through the
//!   `read!` macro (`db::merchants::get_merchant`) rendered with the template;
//! - `naive`: the same handler and template over `SqlitePoolOptions::new().max_connections(4)`
//!   with default connect options, on the same file;
//! - with `-- tune`: the same page over read pools with other sizes and settings, plus a
//!   query-only loop (no HTTP) per pool.
//!
//! Each is loaded with `wrk -t2 -c32 -d5s` (an in-process keep-alive client if wrk is missing)
//! after a 1 s warm-up. Every target runs between two runs of the baseline and is divided by their
//! mean (the machine is shared: its speed drifts); the order rotates each round. Also printed: the
//! serving process's CPU time and context switches per request (from /proc), which a noisy
//! neighbour disturbs far less than requests/s.
//!
//! Run: `nice -n 10 cargo bench --bench http_pages` (`-- tune` for the pool matrix).
//! Environment: HTTP_PAGES_ROUNDS (3), HTTP_PAGES_SECS (5), HTTP_PAGES_CONNS (32).
//! Without `--bench` (`cargo test --benches`) every server is only checked to answer, untimed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use redress::db::merchants::{MerchantRow, get_merchant};
use redress::db::{self, Db};
use redress::secret::SecretUrl;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A demo merchant (`redress::demo`).
const MERCHANT: &str = "806276126745394";

#[derive(Template)]
#[template(
    source = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ m.name_en }}</title></head>
<body><main><h1>{{ m.name_en }}</h1><p lang="zh">{{ m.name_zh }}</p>
<dl><dt>Merchant id</dt><dd>{{ m.merchant_id }}</dd></dl></main></body></html>
"#,
    ext = "html"
)]
struct MerchantPage<'a> {
    m: &'a MerchantRow,
}

fn render(m: &MerchantRow) -> Result<Html<String>, StatusCode> {
    MerchantPage { m }.render().map(Html).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}

async fn merchant_page(State(db): State<Db>, Path(id): Path<String>) -> Result<Html<String>, StatusCode> {
    let m =
        get_merchant(&db, &id).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?.ok_or(StatusCode::NOT_FOUND)?;
    render(&m)
}

async fn template_only(State(m): State<Arc<MerchantRow>>) -> Result<Html<String>, StatusCode> {
    render(&m)
}

/// Changes to the read pool of `Db::connect`; `None` keeps our setting.
#[derive(Clone, Copy, PartialEq, Default)]
struct Tuning {
    readers: Option<u32>,
    min_connections: Option<u32>,
    test_before_acquire: Option<bool>,
    statement_cache: Option<usize>,
    /// sqlx's default connect options instead of ours (WAL stays: it is stored in the file).
    sqlx_default_options: bool,
}

impl Tuning {
    fn label(&self) -> String {
        let mut s = String::from("ours with");
        if let Some(n) = self.readers {
            s += &format!(" readers={n}");
        }
        if let Some(n) = self.min_connections {
            s += &format!(" min_connections={n}");
        }
        if let Some(on) = self.test_before_acquire {
            s += &format!(" test_before_acquire={on}");
        }
        if let Some(n) = self.statement_cache {
            s += &format!(" statement_cache={n}");
        }
        if self.sqlx_default_options {
            s += " sqlx default connect options";
        }
        s
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Target {
    Bare,
    Template,
    Ours,
    Naive,
    Tuned(Tuning),
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::Bare => "(a) bare".into(),
            Target::Template => "template only".into(),
            Target::Ours => "(b) ours (Db::connect)".into(),
            Target::Naive => "(c) naive SqlitePool".into(),
            Target::Tuned(t) => format!("    {}", t.label()),
        }
    }

    fn path(&self) -> String {
        match self {
            Target::Bare => "/plaintext".into(),
            Target::Template => "/template".into(),
            _ => format!("/merchant/{MERCHANT}"),
        }
    }

    /// Opens the database this target reads through, if any.
    async fn open(&self, url: &str) -> Option<Db> {
        Some(match *self {
            Target::Bare | Target::Template => return None,
            Target::Ours => Db::connect(&SecretUrl::new(url.to_owned())).await.expect("Db::connect"),
            Target::Naive => {
                let options = SqliteConnectOptions::from_str(url).expect("url");
                let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.expect("naive pool");
                Db::from_sqlite_pools(pool.clone(), pool)
            }
            Target::Tuned(t) => {
                let mut options = if t.sqlx_default_options {
                    SqliteConnectOptions::from_str(url).expect("url")
                } else {
                    db::sqlite_connect_options(url).expect("url")
                };
                if let Some(n) = t.statement_cache {
                    options = options.statement_cache_capacity(n);
                }
                let write =
                    SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await.expect("writer");
                let mut read = db::sqlite_read_pool_options();
                if let Some(n) = t.readers {
                    read = read.max_connections(n);
                }
                if let Some(n) = t.min_connections {
                    read = read.min_connections(n);
                }
                if let Some(on) = t.test_before_acquire {
                    read = read.test_before_acquire(on);
                }
                let read = read.connect_with(options.read_only(true)).await.expect("read pool");
                Db::from_sqlite_pools(read, write)
            }
        })
    }

    async fn router(&self, db: Option<Db>) -> Router {
        match self {
            Target::Bare => Router::new().route("/plaintext", get(|| async { "Hello, World!" })),
            Target::Template => {
                let m = MerchantRow {
                    merchant_id: MERCHANT.into(),
                    name_zh: "沪上味道餐厅".into(),
                    name_en: "Hushang Flavours Restaurant".into(),
                };
                Router::new().route("/template", get(template_only)).with_state(Arc::new(m))
            }
            _ => Router::new().route("/merchant/{id}", get(merchant_page)).with_state(db.expect("a database")),
        }
    }
}

struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
    db: Option<Db>,
}

async fn start(target: Target, url: &str) -> Server {
    let db = target.open(url).await;
    let router = target.router(db.clone()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    Server { addr, task, db }
}

async fn stop(server: Server) {
    server.task.abort();
    if let Some(db) = server.db {
        db.close().await;
    }
}

#[derive(Clone, Copy)]
struct Load {
    secs: u64,
    conns: u32,
    wrk: bool,
}

/// Requests served and the seconds they took.
fn load(load: Load, addr: SocketAddr, path: &str, secs: u64) -> (u64, f64) {
    if load.wrk {
        let url = format!("http://{addr}{path}");
        let out = Command::new("wrk")
            .args(["-t2", &format!("-c{}", load.conns), &format!("-d{secs}s"), "--timeout", "5s", &url])
            .output()
            .expect("run wrk");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
        assert!(!text.contains("Non-2xx"), "errors while loading {url}:\n{text}");
        if text.contains("Socket errors") {
            eprintln!("warning: wrk reported socket errors for {url}:\n{text}");
        }
        // "  123456 requests in 5.00s, 12.34MB read"
        let line = text.lines().find(|l| l.contains(" requests in ")).expect("wrk summary line");
        let mut words = line.split_whitespace();
        let requests: u64 = words.next().and_then(|w| w.parse().ok()).expect("request count");
        let elapsed = words.nth(2).map(|w| w.trim_end_matches(',')).and_then(duration_secs).expect("elapsed");
        (requests, elapsed)
    } else {
        in_process_load(addr, path, load.conns, Duration::from_secs(secs))
    }
}

/// wrk prints durations as "5.00s", "1.00m" or "999.00ms".
fn duration_secs(text: &str) -> Option<f64> {
    if let Some(ms) = text.strip_suffix("ms") {
        ms.parse::<f64>().ok().map(|v| v / 1000.0)
    } else if let Some(m) = text.strip_suffix('m') {
        m.parse::<f64>().ok().map(|v| v * 60.0)
    } else {
        text.strip_suffix('s')?.parse().ok()
    }
}

/// The fallback load generator: `conns` keep-alive connections on two threads of their own.
fn in_process_load(addr: SocketAddr, path: &str, conns: u32, duration: Duration) -> (u64, f64) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let request: Arc<[u8]> = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").into_bytes().into();
    rt.block_on(async move {
        let started = Instant::now();
        let deadline = started + duration;
        let clients: Vec<_> = (0..conns)
            .map(|_| {
                let request = request.clone();
                tokio::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.expect("connect");
                    let mut buf = Vec::with_capacity(4096);
                    let mut done = 0u64;
                    while Instant::now() < deadline {
                        let status = http_get(&mut stream, &request, &mut buf).await;
                        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&buf));
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        let mut total = 0;
        for client in clients {
            total += client.await.expect("client");
        }
        (total, started.elapsed().as_secs_f64())
    })
}

/// Sends one request on a keep-alive connection; leaves the whole response in `buf`.
async fn http_get(stream: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) -> u16 {
    stream.write_all(request).await.expect("write");
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .expect("content-length");
        while buf.len() < end + 4 + length {
            let n = stream.read(&mut chunk).await.expect("read body");
            assert!(n > 0, "server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
        }
        return status;
    }
}

/// This process's CPU seconds (user + system), system CPU seconds and context switches, all threads.
fn usage() -> (f64, f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime, fields 14 and 15 of proc(5), in USER_HZ (100 on Linux).
    let cpu = (ticks(11) + ticks(12)) as f64 / 100.0;
    let sys = ticks(12) as f64 / 100.0;
    let mut switches = 0;
    for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
        let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
        for line in status.lines().filter(|l| l.contains("ctxt_switches:")) {
            switches += line.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    (cpu, sys, switches)
}

#[derive(Clone, Copy)]
struct Measured {
    rps: f64,
    cpu_us: f64,
    /// The part of `cpu_us` spent in the kernel (thread wake-ups, sockets).
    sys_us: f64,
    switches: f64,
}

fn measure(rt: &tokio::runtime::Runtime, target: Target, url: &str, opts: Load) -> Measured {
    let server = rt.block_on(start(target, url));
    let path = target.path();
    load(opts, server.addr, &path, 1); // warm-up: connections opened, statements prepared
    let (cpu0, sys0, sw0) = usage();
    let (requests, secs) = load(opts, server.addr, &path, opts.secs);
    let (cpu1, sys1, sw1) = usage();
    rt.block_on(stop(server));
    let n = requests.max(1) as f64;
    Measured {
        rps: requests as f64 / secs,
        cpu_us: (cpu1 - cpu0) * 1e6 / n,
        sys_us: (sys1 - sys0) * 1e6 / n,
        switches: (sw1 - sw0) as f64 / n,
    }
}

/// Query-only throughput (no HTTP): `tasks` concurrent loops of `get_merchant` for `secs`.
async fn queries_per_sec(db: &Db, tasks: usize, secs: f64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let loops: Vec<_> = (0..tasks)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    get_merchant(&db, MERCHANT).await.expect("query").expect("merchant");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let mut total = 0;
    for l in loops {
        total += l.await.expect("loop");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn env_num<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn range(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpu.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores, {}", model.unwrap_or("unknown CPU"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let timed = args.iter().any(|a| a == "--bench");
    let tune = args.iter().any(|a| a == "tune");

    // Like `#[tokio::main]` in src/main.rs: one worker thread per core.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    rt.block_on(async {
        let db = Db::connect(&SecretUrl::new(url.clone())).await.expect("connect");
        db.migrate().await.expect("migrate");
        redress::demo::load(&db).await.expect("demo data");
        db.close().await;
    });

    // What `Db::connect` did before tuning, kept to show the difference in the same run.
    let before_tuning = Tuning { test_before_acquire: Some(true), ..Tuning::default() };
    let mut targets = vec![Target::Template, Target::Ours, Target::Tuned(before_tuning), Target::Naive];
    if tune || !timed {
        for readers in [1, 2, 8, 16] {
            targets.push(Target::Tuned(Tuning { readers: Some(readers), ..Tuning::default() }));
        }
        let ours = db::sqlite_read_pool_options();
        targets.extend(
            [
                Tuning { min_connections: Some(ours.get_max_connections()), ..Tuning::default() },
                Tuning { readers: Some(8), test_before_acquire: Some(true), ..Tuning::default() },
                Tuning { statement_cache: Some(0), ..Tuning::default() },
                Tuning { sqlx_default_options: true, ..Tuning::default() },
            ]
            .map(Target::Tuned),
        );
    }
    // Any other argument keeps only the targets whose label contains it (`-- tune readers=`).
    let filters: Vec<&String> = args.iter().skip(1).filter(|a| !a.starts_with("--") && *a != "tune").collect();
    if !filters.is_empty() {
        targets.retain(|t| filters.iter().any(|f| t.label().contains(f.as_str())));
    }

    if !timed {
        // `cargo test --benches`: prove every server answers, without timing anything.
        let rt_ref = &rt;
        for target in std::iter::once(Target::Bare).chain(targets.iter().copied()) {
            let server = rt_ref.block_on(start(target, &url));
            let body = rt_ref.block_on(async {
                let mut stream = TcpStream::connect(server.addr).await.expect("connect");
                let mut buf = Vec::new();
                let request = format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", target.path());
                assert_eq!(http_get(&mut stream, request.as_bytes(), &mut buf).await, 200);
                String::from_utf8_lossy(&buf).into_owned()
            });
            assert!(body.contains("Hello, World!") || body.contains("Hushang Flavours Restaurant"), "{body}");
            rt_ref.block_on(stop(server));
        }
        println!("http_pages: every server answered (run `cargo bench --bench http_pages` to measure)");
        return;
    }

    let wrk = Command::new("wrk").arg("--version").output().map(|o| !o.stdout.is_empty()).unwrap_or(false);
    let opts = Load { secs: env_num("HTTP_PAGES_SECS", 5), conns: env_num("HTTP_PAGES_CONNS", 32), wrk };
    let rounds: usize = env_num("HTTP_PAGES_ROUNDS", 3);
    println!("http_pages: {}", machine());
    println!(
        "load: {} -c{} -d{}s after a 1 s warm-up, {rounds} rounds; each target between two runs of (a)",
        if wrk { "wrk -t2" } else { "in-process client (wrk not found), 2 threads" },
        opts.conns,
        opts.secs
    );

    // Per target: (req/s ratio, CPU ratio, absolute figures), one entry per round.
    let mut results: BTreeMap<usize, Vec<(f64, f64, Measured)>> = BTreeMap::new();
    let mut baselines: Vec<Measured> = Vec::new();
    let line = |label: &str, m: &Measured| {
        println!(
            "  {label:<52} {:>9.0} req/s  {:>6.1} µs CPU/req (kernel {:>5.1})  {:>5.2} ctx-sw/req",
            m.rps, m.cpu_us, m.sys_us, m.switches
        );
    };
    for round in 0..rounds {
        println!("\nround {}", round + 1);
        let mut before = measure(&rt, Target::Bare, &url, opts);
        line("(a) bare", &before);
        baselines.push(before);
        let mut order: Vec<usize> = (0..targets.len()).collect();
        order.rotate_left(round % targets.len());
        for i in order {
            let m = measure(&rt, targets[i], &url, opts);
            line(&targets[i].label(), &m);
            // Every target sits between two baselines; it is compared with their mean.
            let after = measure(&rt, Target::Bare, &url, opts);
            line("(a) bare", &after);
            baselines.push(after);
            let rps = m.rps / ((before.rps + after.rps) / 2.0);
            let cpu = ((before.cpu_us + after.cpu_us) / 2.0) / m.cpu_us;
            results.entry(i).or_default().push((rps, cpu, m));
            before = after;
        }

        if tune {
            println!("  query-only, no HTTP (queries/s with 1 task | 32 tasks):");
            for target in targets.iter().filter(|t| !matches!(t, Target::Template)) {
                let (one, many) = rt.block_on(async {
                    let db = target.open(&url).await.expect("a database");
                    queries_per_sec(&db, 32, 1.0).await; // warm-up
                    let one = queries_per_sec(&db, 1, 2.0).await;
                    let many = queries_per_sec(&db, 32, 2.0).await;
                    db.close().await;
                    (one, many)
                });
                println!("    {:<50} {:>9.0} | {:>9.0}", target.label(), one, many);
            }
        }
    }

    println!("\nsummary over {rounds} rounds, min–max. ratio = req/s ÷ the mean of the bare runs either side;");
    println!("CPU ratio = bare CPU/req ÷ this CPU/req (≈ the req/s ratio when the server has the cores to itself)");
    let span = |values: &[f64], scale: f64, decimals: usize| {
        let (lo, hi) = range(values);
        format!("{:.*}–{:.*}", decimals, lo * scale, decimals, hi * scale)
    };
    println!(
        "  {:<48} {:>11} {:>11} {:>13} {:>11} {:>11} {:>9}",
        "", "ratio %", "CPU ratio %", "req/s", "CPU µs/req", "kernel µs", "ctx-sw"
    );
    let bare = |f: fn(&Measured) -> f64| baselines.iter().map(f).collect::<Vec<_>>();
    println!(
        "  {:<48} {:>11} {:>11} {:>13} {:>11} {:>11} {:>9}",
        "(a) bare",
        "100",
        "100",
        span(&bare(|m| m.rps), 1.0, 0),
        span(&bare(|m| m.cpu_us), 1.0, 1),
        span(&bare(|m| m.sys_us), 1.0, 1),
        span(&bare(|m| m.switches), 1.0, 1)
    );
    for (i, rs) in &results {
        let col = |f: fn(&(f64, f64, Measured)) -> f64| rs.iter().map(f).collect::<Vec<_>>();
        println!(
            "  {:<48} {:>11} {:>11} {:>13} {:>11} {:>11} {:>9}",
            targets[*i].label().trim(),
            span(&col(|r| r.0), 100.0, 1),
            span(&col(|r| r.1), 100.0, 1),
            span(&col(|r| r.2.rps), 1.0, 0),
            span(&col(|r| r.2.cpu_us), 1.0, 1),
            span(&col(|r| r.2.sys_us), 1.0, 1),
            span(&col(|r| r.2.switches), 1.0, 1)
        );
    }
}
