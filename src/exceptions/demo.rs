//! `redress demo`'s exceptions (DESIGN.md §10): each kind of exception, and a terminal whose
//! printer keeps running out of paper, with a month of history to draw. Times are relative to
//! now, so the demo shows them as recent whenever it is loaded.

use jiff::{SignedDuration, Timestamp};

use crate::cases::MatchContext;
use crate::db::Db;
use crate::db::exceptions::{self as store, Filter};
use crate::import::{ImportRequest, Kind, import};

pub const MERCHANT: &str = "806276126745394";
/// Where each kind of exception happens.
pub const TROUBLE_TERMINAL: &str = "75942573";
/// The terminal that is flagged, with its history.
pub const FLAGGED_TERMINAL: &str = "80081074";

const JOURNAL_HEAD: &str = "merchant_id,terminal_id,batch_no,trace_no,rrn,auth_code,txn_type,status,receipt_printed,card,amount,currency,local_time,orig_trace_no,orig_batch_no,response_code,terminal_event\n";
const SETTLEMENT_HEAD: &str =
    "entry_id,merchant_id,terminal_id,trace_no,rrn,card,direction,amount,currency,txn_time,settled_on,orig_rrn\n";

fn local(t: Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").expect("the zone database has Shanghai"))
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// The demo's journal and settlement files, as of `now`.
pub fn files(now: Timestamp) -> (String, String) {
    let mut j = JOURNAL_HEAD.to_owned();
    let mut s = SETTLEMENT_HEAD.to_owned();
    let days_ago = |d: i64, min: i64| now - SignedDuration::from_hours(24 * d) + SignedDuration::from_mins(min);
    let settled =
        |t: Timestamp| (t + SignedDuration::from_hours(24)).to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    let mut sale = |trace: &str, rrn: &str, status: &str, last4: &str, amount: &str, at: Timestamp, event: &str| {
        j += &format!(
            "{MERCHANT},{TROUBLE_TERMINAL},000801,{trace},{rrn},,sale,{status},false,622848******{last4},{amount},CNY,{},,,,{event}\n",
            local(at)
        );
    };
    let base = days_ago(8, 0);
    sale("700001", "", "no_response", "7001", "230.00", base, "comm_timeout");
    sale("700002", "DEMO70000002", "approved", "7002", "45.00", base + SignedDuration::from_mins(60), "");
    sale("700003", "DEMO70000003", "approved", "7002", "45.00", base + SignedDuration::from_mins(68), "");
    sale("700004", "DEMO70000004", "approved", "7003", "1288.00", base + SignedDuration::from_mins(120), "");
    sale("700005", "DEMO70000005", "approved", "7005", "12.80", base + SignedDuration::from_mins(180), "");
    let mut debit = |id: &str, trace: &str, rrn: &str, last4: &str, amount: &str, at: Timestamp| {
        s += &format!(
            "{id},{MERCHANT},{TROUBLE_TERMINAL},{trace},{rrn},622848******{last4},debit,{amount},CNY,{at},{},\n",
            settled(at)
        );
    };
    debit("DEMO-EX-1", "700001", "DEMO70000001", "7001", "230.00", base + SignedDuration::from_secs(20));
    debit("DEMO-EX-2", "700002", "DEMO70000002", "7002", "45.00", base + SignedDuration::from_mins(60));
    debit("DEMO-EX-3", "700003", "DEMO70000003", "7002", "45.00", base + SignedDuration::from_mins(68));
    debit("DEMO-EX-5", "700005", "DEMO70000005", "7005", "128.00", base + SignedDuration::from_mins(180));

    // A month of the flagged terminal: a few sales a day, paper running out now and then, the
    // host not answering some days, and three times out of paper in the last day.
    let mut trace = 0;
    for day in (0..30).rev() {
        let events: &[&str] = match day {
            0 => &["paper_out", "paper_out", "printer_fault"],
            3 | 4 | 11 | 18 => &["paper_out"],
            7 => &["power_loss"],
            _ => &[],
        };
        for n in 0..6 {
            trace += 1;
            let at = now - SignedDuration::from_hours(24 * day + 1) - SignedDuration::from_mins(37 * n);
            let status = if matches!(day, 2 | 9) && n < 2 { "no_response" } else { "approved" };
            let rrn = if status == "approved" { format!("DEMO8{trace:07}") } else { String::new() };
            let event = events.get(n as usize).copied().unwrap_or("");
            j += &format!(
                "{MERCHANT},{FLAGGED_TERMINAL},000802,{trace:06},{rrn},,sale,{status},{},622848******{:04},{}.00,CNY,{},,,,{event}\n",
                event.is_empty(),
                8000 + trace,
                20 + trace % 50,
                local(at)
            );
            if status == "approved" {
                s += &format!(
                    "DEMO-FL-{trace},{MERCHANT},{FLAGGED_TERMINAL},{trace:06},{rrn},622848******{:04},debit,{}.00,CNY,{},{},\n",
                    8000 + trace,
                    20 + trace % 50,
                    at,
                    settled(at)
                );
            }
        }
    }
    (j, s)
}

/// Loads the demo's exceptions once, then runs detection over everything imported so far.
pub async fn load(db: &Db, ctx: &MatchContext<'_>) -> anyhow::Result<String> {
    let shown = Filter { terminal_id: Some(TROUBLE_TERMINAL.into()), limit: 1, ..Filter::default() };
    if store::list(db, &shown).await?.is_empty() {
        let (journal, settlement) = files(Timestamp::now());
        for (kind, text) in [(Kind::Journal, journal), (Kind::Settlement, settlement)] {
            let request = ImportRequest {
                kind,
                file_name: format!("demo-exceptions-{}.csv", kind.as_str()),
                via: "cli",
                user_id: None,
                token_id: None,
                merchant_scope: None,
            };
            let report = import(db, &request, std::io::Cursor::new(text.into_bytes()), None).await?;
            anyhow::ensure!(report.accepted, "the demo's exception records were refused: {:?}", report.problems);
        }
    }
    let done = super::after_import(db, ctx).await?;
    Ok(format!(
        "exceptions found: {}, flagged terminals: {} (see /merchant/terminals/{FLAGGED_TERMINAL})\n",
        done.found, done.alerts
    ))
}
