//! The desk's dashboard (`/agent/dashboard`): cases by state, open cases against their deadline,
//! and the merchants and terminals with the most open cases, as server-drawn SVG charts whose bars
//! open the console filtered to them.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::db::queue;
use crate::domain::case_state::CaseState;
use crate::i18n::Lang;
use crate::web::charts::{BarChart, BarInput, bar_chart};
use crate::web::{AppError, AppState, PageContext};

/// Merchants and terminals shown: the ones with the most open cases.
const TOP: i64 = 10;

pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub total: i64,
    pub chart: BarChart,
}

#[derive(Template, WebTemplate)]
#[template(path = "agent/dashboard.html")]
pub struct DashboardPage {
    ctx: PageContext,
    charts: Vec<Chart>,
}

fn query(pairs: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        q.append_pair(k, v);
    }
    format!("/agent/cases?{}", q.finish())
}

fn chart(id: &'static str, title: String, inputs: Vec<BarInput>) -> Chart {
    let total = inputs.iter().map(|b| b.value).sum();
    Chart { id, title, total, chart: bar_chart(inputs) }
}

pub async fn show(State(state): State<AppState>, ctx: PageContext) -> Result<DashboardPage, AppError> {
    let lang = ctx.lang;
    let now = jiff::Timestamp::now().as_second();

    let counts = queue::count_by_state(&state.db).await?;
    let by_state = CaseState::ALL
        .iter()
        .map(|s| BarInput {
            label: lang.t(&format!("state.{}", s.as_str())).to_owned(),
            value: counts.iter().find(|(name, _)| name == s.as_str()).map_or(0, |(_, n)| *n),
            href: query(&[("state", s.as_str())]),
            class: "",
        })
        .collect();

    let buckets = queue::count_by_deadline(&state.db, now).await?;
    let by_deadline = ["overdue", "day", "three_days", "later", "none"]
        .iter()
        .map(|b| BarInput {
            label: lang.t(&format!("dashboard.deadline.{b}")).to_owned(),
            value: buckets.iter().find(|(name, _)| name == b).map_or(0, |(_, n)| *n),
            href: match *b {
                "overdue" | "day" | "three_days" => query(&[("deadline", b)]),
                _ => "/agent/cases".to_owned(),
            },
            class: if *b == "overdue" { "bad" } else { "" },
        })
        .collect();

    let by_merchant = queue::top_merchants(&state.db, TOP)
        .await?
        .into_iter()
        .map(|(mid, zh, en, n)| {
            let name = match lang {
                Lang::ZhCn => zh,
                Lang::En => en,
            };
            BarInput {
                label: if name.is_empty() { mid.clone() } else { name },
                value: n,
                href: query(&[("merchant_id", &mid)]),
                class: "",
            }
        })
        .collect();

    let by_terminal = queue::top_terminals(&state.db, TOP)
        .await?
        .into_iter()
        .map(|(mid, tid, n)| BarInput {
            label: format!("{mid} / {tid}"),
            value: n,
            href: query(&[("merchant_id", &mid), ("terminal_id", &tid)]),
            class: "",
        })
        .collect();

    let charts = vec![
        chart("by-state", lang.t("dashboard.by_state").to_owned(), by_state),
        chart("by-deadline", lang.t("dashboard.by_deadline").to_owned(), by_deadline),
        chart("by-merchant", lang.t_args("dashboard.by_merchant", &[("n", TOP.to_string())]), by_merchant),
        chart("by-terminal", lang.t_args("dashboard.by_terminal", &[("n", TOP.to_string())]), by_terminal),
    ];
    Ok(DashboardPage { ctx, charts })
}
