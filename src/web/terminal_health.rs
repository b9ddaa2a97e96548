//! `/merchant/terminals/{terminal_id}` (DESIGN.md §10): one terminal's last 30 days per day, its
//! 7- and 30-day totals, and its flag with the reasons. Merchant staff see their own merchants'
//! terminals; the desk every terminal.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Path, Query, State};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::day_charts::{DayChart, Series, day_chart};
use super::exceptions::FLAG_WINDOW;
use crate::db::exceptions as store;
use crate::domain::exceptions::{TerminalCounts, per_mille};
use crate::domain::records::is_terminal_id;
use crate::exceptions::health::{Day, daily, parse_reasons};
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

const DAYS: i64 = 30;
const CLAIM_KINDS: [&str; 4] = ["no_receipt", "duplicate_charge", "wrong_amount", "refund_not_received"];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HealthQuery {
    pub merchant: String,
}

/// Totals over a period, as the summary table shows them.
pub struct Totals {
    pub label: &'static str,
    pub transactions: i64,
    pub no_response: String,
    pub declined: String,
    pub events: Vec<i64>,
    pub claims: i64,
    pub open_exceptions: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "exceptions/terminal.html")]
pub struct HealthPage {
    ctx: PageContext,
    merchant_id: String,
    terminal_id: String,
    flag: Option<(String, Vec<&'static str>)>,
    totals: Vec<Totals>,
    event_labels: Vec<&'static str>,
    charts: Vec<DayChart>,
}

fn rate(part: i64, whole: i64) -> String {
    let r = per_mille(part, whole);
    format!("{}.{} %", r / 10, r % 10)
}

fn totals(label: &'static str, days: &[Day]) -> Totals {
    let mut c = TerminalCounts::default();
    for d in days {
        c.transactions += d.counts.transactions;
        c.no_response += d.counts.no_response;
        c.declined += d.counts.declined;
        c.paper_out += d.counts.paper_out;
        c.printer_fault += d.counts.printer_fault;
        c.comm_timeout += d.counts.comm_timeout;
        c.power_loss += d.counts.power_loss;
    }
    Totals {
        label,
        transactions: c.transactions,
        no_response: rate(c.no_response, c.transactions),
        declined: rate(c.declined, c.transactions),
        events: vec![c.paper_out, c.printer_fault, c.comm_timeout, c.power_loss],
        claims: days.iter().map(|d| d.claims.values().sum::<i64>()).sum(),
        open_exceptions: days.iter().map(|d| d.open_exceptions).sum(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Path(terminal_id): Path<String>,
    Query(q): Query<HealthQuery>,
) -> Result<HealthPage, AppError> {
    if !is_terminal_id(&terminal_id) {
        return Err(AppError::not_found());
    }
    let viewer = user.viewer();
    // The merchant named, else the viewer's merchant that has this terminal.
    let merchant_id = if !q.merchant.is_empty() {
        Some(q.merchant.clone())
    } else {
        store::merchants_of_terminal(&state.db, &terminal_id).await?.into_iter().find(|m| viewer.may_see_merchant(m))
    };
    let merchant_id = merchant_id.filter(|m| viewer.may_see_merchant(m)).ok_or_else(AppError::not_found)?;

    let now = Timestamp::now();
    let tz = &state.config.timezone;
    let today = now.to_zoned(tz.clone()).date();
    let since = (now - SignedDuration::from_hours(24 * (DAYS + 1))).as_second();
    let activity = store::terminal_activity(&state.db, &merchant_id, &terminal_id, since).await?;
    let claims = store::terminal_claims(&state.db, &merchant_id, &terminal_id, since).await?;
    let exceptions = store::terminal_exceptions(&state.db, &merchant_id, &terminal_id, since).await?;
    let days = daily(&activity, &claims, &exceptions, tz, today, DAYS);

    let flag = store::flag_of(&state.db, &merchant_id, &terminal_id, (now - FLAG_WINDOW).as_second())
        .await?
        .map(|f| (f.day, parse_reasons(&f.reasons).into_iter().map(|r| r.as_str()).collect()));
    let totals =
        vec![totals("health.period.7", &days[days.len().saturating_sub(7)..]), totals("health.period.30", &days)];
    let labels: Vec<String> =
        days.iter().map(|d| d.date.map(|d| format!("{}/{}", d.month(), d.day())).unwrap_or_default()).collect();
    let series = |label: &str, class: &'static str, f: &dyn Fn(&Day) -> i64| Series {
        label: ctx.t(label).to_owned(),
        class,
        values: days.iter().map(f).collect(),
    };
    let charts = vec![
        day_chart(
            "transactions",
            ctx.t("health.chart.transactions").to_owned(),
            labels.clone(),
            vec![series("health.transactions", "s1", &|d| d.counts.transactions)],
            true,
            false,
        ),
        day_chart(
            "rates",
            ctx.t("health.chart.rates").to_owned(),
            labels.clone(),
            vec![
                series("health.no_response_rate", "s2", &|d| per_mille(d.counts.no_response, d.counts.transactions)),
                series("health.declined_rate", "s3", &|d| per_mille(d.counts.declined, d.counts.transactions)),
            ],
            false,
            true,
        ),
        day_chart(
            "events",
            ctx.t("health.chart.events").to_owned(),
            labels.clone(),
            vec![
                series("health.event.paper_out", "s2", &|d| d.counts.paper_out),
                series("health.event.printer_fault", "s3", &|d| d.counts.printer_fault),
                series("health.event.comm_timeout", "s4", &|d| d.counts.comm_timeout),
                series("health.event.power_loss", "s5", &|d| d.counts.power_loss),
            ],
            true,
            false,
        ),
        day_chart(
            "claims",
            ctx.t("health.chart.claims").to_owned(),
            labels.clone(),
            CLAIM_KINDS
                .iter()
                .zip(["s2", "s3", "s4", "s5"])
                .map(|(kind, class)| Series {
                    label: ctx.t(&format!("health.claim.{kind}")).to_owned(),
                    class,
                    values: days.iter().map(|d| d.claims.get(*kind).copied().unwrap_or(0)).collect(),
                })
                .collect(),
            true,
            false,
        ),
        day_chart(
            "exceptions",
            ctx.t("health.chart.exceptions").to_owned(),
            labels,
            vec![series("health.open_exceptions", "s2", &|d| d.open_exceptions)],
            true,
            false,
        ),
    ];
    Ok(HealthPage {
        event_labels: vec![
            "health.event.paper_out",
            "health.event.printer_fault",
            "health.event.comm_timeout",
            "health.event.power_loss",
        ],
        ctx,
        merchant_id,
        terminal_id,
        flag,
        totals,
        charts,
    })
}

impl HealthPage {
    fn reason_key(&self, code: &str) -> String {
        format!("health.reason.{code}")
    }
}
