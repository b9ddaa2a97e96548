//! A case as the people involved see it: the finding in plain words, the records it rests on,
//! what happens next and by when, and the history.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Path, State};

use crate::cases::view::{explanation, rfc3339};
use crate::db::cases::{self, CaseRow, EventRow};
use crate::domain::case_state::CaseState;
use crate::domain::money::{Currency, Money};
use crate::domain::records::{JournalRow, SettlementEntry};
use crate::domain::role::Role;
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

/// Whether `user` may open `case`: its customer, staff of the merchant it concerns, the desk.
pub fn may_see(user: &CurrentUser, case: &CaseRow) -> bool {
    match user.role {
        Role::Customer => case.customer_user_id == Some(user.id),
        Role::Merchant => case.matched_merchant_id.as_deref().is_some_and(|m| user.may_see_merchant(m)),
        Role::Agent | Role::Admin => true,
    }
}

pub struct MatchedView {
    pub rrn: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub trace_no: String,
    pub card: String,
    pub amount: String,
    pub time: String,
}

pub struct EventView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub to_state: String,
    pub note: Option<String>,
}

pub struct Receipt {
    pub merchant_name: String,
    pub row: JournalRow,
    pub time: String,
    pub amount: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/show.html")]
pub struct CasePage {
    ctx: PageContext,
    case: CaseRow,
    /// The customer's own free text and contact: not for merchant staff (DESIGN.md §1).
    show_contact: bool,
    amount: String,
    remedy_amount: Option<String>,
    deadline: Option<String>,
    title: String,
    explanation: String,
    matched: Vec<MatchedView>,
    events: Vec<EventView>,
    receipt: Option<Receipt>,
    /// Files on the case, when the viewer may see them.
    evidence: Vec<crate::db::evidence::EvidenceRow>,
    may_add_evidence: bool,
    /// The outcome of the last upload (`added`, `too_large`, …), from the redirect.
    evidence_notice: Option<String>,
}

impl CasePage {
    /// A catalog key built from a stored code: `prefix.<code>`.
    fn key(&self, prefix: &str, code: &str) -> String {
        format!("{prefix}.{code}")
    }
}

fn fmt_money(minor: i64, currency: &str) -> String {
    match Currency::from_code(currency) {
        Some(c) => format!("{} {}", Money::new(minor, c).major_string(), c.code()),
        None => format!("{minor} {currency}"),
    }
}

fn local_time(unix: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn matched_view(d: &SettlementEntry) -> MatchedView {
    MatchedView {
        rrn: d.rrn.clone(),
        merchant_id: d.merchant_id.clone(),
        terminal_id: d.terminal_id.clone(),
        trace_no: d.trace_no.clone(),
        card: d.card.as_str().to_owned(),
        amount: format!("{} {}", d.amount.major_string(), d.amount.currency.code()),
        time: rfc3339(d.txn_time, d.txn_offset).replace('T', " "),
    }
}

#[derive(serde::Deserialize)]
pub struct CaseQuery {
    evidence: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<CaseQuery>,
) -> Result<CasePage, AppError> {
    let case = cases::get(&state.db, id).await?.filter(|c| may_see(&user, c)).ok_or_else(AppError::not_found)?;
    let tz = &state.config.timezone;
    let matched = cases::matched_debits(&state.db, id).await?;
    let (title, text) = explanation(&case, ctx.lang).unwrap_or_default();
    let receipt = match (case.remedy_kind.as_str(), case.remedy_rrn.as_deref()) {
        ("receipt", Some(rrn)) => match cases::journal_by_rrn(&state.db, rrn).await? {
            Some(row) => {
                let merchant = crate::db::merchants::get_merchant(&state.db, &row.merchant_id).await?;
                let merchant_name = merchant
                    .map(|m| if ctx.lang.code() == "en" { m.name_en } else { m.name_zh })
                    .unwrap_or_else(|| row.merchant_id.clone());
                let time = rfc3339(row.local_time, row.local_offset).replace('T', " ");
                let amount = format!("{} {}", row.amount.major_string(), row.amount.currency.code());
                Some(Receipt { merchant_name, row, time, amount })
            }
            None => None,
        },
        _ => None,
    };
    let events = cases::events(&state.db, id)
        .await?
        .into_iter()
        .map(|e: EventRow| EventView {
            at: local_time(e.at, tz),
            actor: e.actor,
            action: e.action,
            to_state: e.to_state,
            note: e.note,
        })
        .collect();
    let evidence = if crate::web::evidence::may_see_evidence(&user, &case) {
        crate::db::evidence::of_case(&state.db, id).await?
    } else {
        Vec::new()
    };
    let may_add_evidence = user.role == Role::Customer
        && evidence.len() < crate::domain::evidence::MAX_FILES_PER_CASE as usize
        && CaseState::parse(&case.state).is_some_and(|s| s.is_open());
    let evidence_notice =
        q.evidence.filter(|e| matches!(e.as_str(), "added" | "too_large" | "too_many" | "wrong_type" | "missing"));
    Ok(CasePage {
        evidence,
        may_add_evidence,
        evidence_notice,
        show_contact: user.role != Role::Merchant,
        amount: fmt_money(case.amount_minor, &case.currency),
        remedy_amount: case.remedy_minor.map(|m| fmt_money(m, &case.currency)),
        deadline: case.deadline_at.map(|t| local_time(t, tz)),
        title,
        explanation: text,
        matched: matched.iter().map(matched_view).collect(),
        events,
        receipt,
        case,
        ctx,
    })
}

pub struct CaseSummary {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub title: String,
    pub amount: String,
    pub filed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "customer/home.html")]
pub struct MyCases {
    ctx: PageContext,
    cases: Vec<CaseSummary>,
}

pub async fn my_cases(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
) -> Result<MyCases, AppError> {
    let cases = cases::of_customer(&state.db, user.id)
        .await?
        .into_iter()
        .map(|c| CaseSummary {
            title: explanation(&c, ctx.lang).map(|(t, _)| t).unwrap_or_default(),
            amount: fmt_money(c.amount_minor, &c.currency),
            filed: local_time(c.created_at, &state.config.timezone),
            id: c.id,
            kind: c.kind,
            state: c.state,
        })
        .collect();
    Ok(MyCases { ctx, cases })
}
