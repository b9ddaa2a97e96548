//! Terminal health (DESIGN.md §10): what a terminal did per day, and the flag raised when, over
//! the last 24 hours, its printer keeps failing, the host keeps not answering, or customers keep
//! saying they got no receipt.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::notices;
use crate::cases::MatchContext;
use crate::db::exceptions::{self as store, Activity};
use crate::db::{DbError, Tx};
use crate::domain::exceptions::{FlagReason, TerminalCounts, flag_reasons};
use crate::domain::records::{TerminalEvent, TxnStatus};

const DAY: SignedDuration = SignedDuration::from_hours(24);
const WEEK: SignedDuration = SignedDuration::from_hours(7 * 24);

/// Adds one journal row to the counts.
pub fn add(counts: &mut TerminalCounts, a: &Activity) {
    counts.transactions += 1;
    match TxnStatus::parse(&a.status) {
        Some(TxnStatus::NoResponse) => counts.no_response += 1,
        Some(TxnStatus::Declined) => counts.declined += 1,
        _ => {}
    }
    match a.terminal_event.as_deref().and_then(TerminalEvent::parse) {
        Some(TerminalEvent::PaperOut) => counts.paper_out += 1,
        Some(TerminalEvent::PrinterFault) => counts.printer_fault += 1,
        Some(TerminalEvent::CommTimeout) => counts.comm_timeout += 1,
        Some(TerminalEvent::PowerLoss) => counts.power_loss += 1,
        None => {}
    }
}

pub fn counts(activity: &[Activity]) -> TerminalCounts {
    let mut c = TerminalCounts::default();
    activity.iter().for_each(|a| add(&mut c, a));
    c
}

/// One day of a terminal's history, in the deployment's time zone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Day {
    pub date: Option<Date>,
    pub counts: TerminalCounts,
    /// Claims filed that day, by kind code.
    pub claims: BTreeMap<String, i64>,
    /// Exceptions found that day that are still open.
    pub open_exceptions: i64,
}

/// The last `days` days up to `today`, oldest first, every day present (quiet ones as zeros).
pub fn daily(
    activity: &[Activity],
    claims: &[(i64, String)],
    exceptions: &[(i64, String)],
    tz: &TimeZone,
    today: Date,
    days: i64,
) -> Vec<Day> {
    let first = today.checked_sub(jiff::Span::new().days(days - 1)).unwrap_or(today);
    let mut out: Vec<Day> = (0..days)
        .filter_map(|i| first.checked_add(jiff::Span::new().days(i)).ok())
        .map(|d| Day { date: Some(d), ..Day::default() })
        .collect();
    let slot = |at: i64| -> Option<usize> {
        let date = Timestamp::from_second(at).ok()?.to_zoned(tz.clone()).date();
        let i = first.until(date).ok()?.get_days();
        (0..days).contains(&i64::from(i)).then_some(i as usize)
    };
    for a in activity {
        if let Some(i) = slot(a.local_time) {
            add(&mut out[i].counts, a);
        }
    }
    for (at, kind) in claims {
        if let Some(i) = slot(*at) {
            *out[i].claims.entry(kind.clone()).or_default() += 1;
        }
    }
    for (at, state) in exceptions {
        match slot(*at) {
            Some(i) if state == "open" => out[i].open_exceptions += 1,
            _ => {}
        }
    }
    out
}

/// Looks at each terminal's last 24 hours and flags it when a threshold is reached: one flag,
/// and one `terminal_alert`, per terminal per day. Returns the alerts raised.
pub async fn check_terminals<'t>(
    tx: &mut Tx,
    ctx: &MatchContext<'_>,
    terminals: impl IntoIterator<Item = &'t (String, String)>,
    now: Timestamp,
) -> Result<u64, DbError> {
    let mut alerts = 0;
    for (merchant_id, terminal_id) in terminals {
        let activity = store::terminal_activity_tx(tx, merchant_id, terminal_id, (now - DAY).as_second()).await?;
        let day = counts(&activity);
        let claims = store::no_receipt_claims_tx(tx, merchant_id, terminal_id, (now - WEEK).as_second()).await?;
        let reasons = flag_reasons(&day, claims, ctx.terminal_flags);
        if reasons.is_empty() {
            continue;
        }
        let date = now.to_zoned(ctx.tz.clone()).date().to_string();
        let codes: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
        if store::flag(tx, merchant_id, terminal_id, &date, &codes.join(",")).await? {
            notices::terminal_alert(tx, ctx, merchant_id, terminal_id, &date, &reasons, &day, claims).await?;
            alerts += 1;
        }
    }
    Ok(alerts)
}

/// The reasons a stored flag names.
pub fn parse_reasons(text: &str) -> Vec<FlagReason> {
    text.split(',').filter_map(FlagReason::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(at: &str, status: &str, event: Option<&str>) -> Activity {
        Activity {
            local_time: at.parse::<Timestamp>().unwrap().as_second(),
            status: status.into(),
            terminal_event: event.map(Into::into),
        }
    }

    #[test]
    fn days_are_local_and_every_day_is_shown() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let today: Date = "2026-11-10".parse().unwrap();
        let activity = [
            // 23:30 UTC on the 9th is the 10th in Beijing.
            act("2026-11-09T23:30:00Z", "no_response", None),
            act("2026-11-09T01:00:00Z", "approved", Some("paper_out")),
            act("2026-10-01T01:00:00Z", "approved", None),
        ];
        let claims = [("2026-11-09T01:00:00Z".parse::<Timestamp>().unwrap().as_second(), "no_receipt".to_string())];
        let days = daily(&activity, &claims, &[], &tz, today, 30);
        assert_eq!(days.len(), 30);
        assert_eq!(days[29].date, Some(today));
        assert_eq!(days[29].counts.no_response, 1);
        assert_eq!(days[28].counts.paper_out, 1);
        assert_eq!(days[28].claims.get("no_receipt"), Some(&1));
        assert_eq!(days.iter().map(|d| d.counts.transactions).sum::<i64>(), 2, "older rows fall outside");
    }
}
