//! A case as the people involved see it: the finding in plain words, the records it rests on,
//! what happens next and by when, and the history.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::cases::act::{applicable, guard_context, narrowable, remedy_needs_stated_amount};
use crate::cases::view::explanation;
use crate::db::cases::{self, CaseRow};
use crate::domain::case_input::{Need, Needs, needs};

use super::forms::ActForm;
use crate::domain::case_state::{ActionKind, Actor, CaseState, TransitionError, allowed_actions};
use crate::domain::claim::{ClaimKind, Occurred};
use crate::domain::finding::Finding;
use crate::domain::money::Money;
use crate::domain::progress;
use crate::domain::records::{JournalRow, SettlementEntry};
use crate::domain::role::Role;
use crate::domain::shop::Shop;
use crate::i18n::{Lang, format};
use crate::web::forms::FieldErrors;
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

/// Whether `user` may open `case`: its customer, staff of the merchant it concerns, the desk.
pub fn may_see(user: &CurrentUser, case: &CaseRow) -> bool {
    user.viewer().may_see_case(&case.scope())
}

pub struct MatchedView {
    /// The shop by name (and location), the way a customer remembers it; the ids follow.
    pub shop: Option<String>,
    pub rrn: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub trace_no: String,
    pub card: String,
    pub amount: String,
    pub time: String,
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
    /// The history; notes filtered for the viewer, account emails for the desk only.
    audit: Vec<AuditView>,
    /// Exceptions found in the records before the case (DESIGN.md §10).
    known_problems: Vec<crate::web::exceptions::KnownProblem>,
    /// Other cases on the same payment (§6), for the desk only: customers learn nothing of each other.
    related: Vec<i64>,
    is_desk: bool,
    receipt: Option<Receipt>,
    /// What the merchant said the terminal should have charged.
    stated_amount: Option<String>,
    /// The forms the viewer may submit now.
    actions: Vec<ActionView>,
    /// The customer may correct the claim (the case waits for them).
    add_info: bool,
    /// Desk users a case can be given to (desk viewers only), and who has it.
    assign: Option<Vec<DeskUser>>,
    assignee: Option<String>,
    /// A banner: the text and whether it is good news.
    notice: Option<(String, bool)>,
    failed: Option<String>,
    errors: FieldErrors,
    form: ActForm,
    /// The progress tracker, the next step's words (a catalog key for this viewer) and, while
    /// money is on its way, the day it should arrive and what to do if it does not (§11).
    tracker: Vec<TrackerStep>,
    /// What a wrong-amount claim says the terminal showed.
    expected_amount: Option<String>,
    next_step: String,
    expected_by: Option<String>,
    if_not_arrived: &'static str,
    /// When the customer says the payment happened, written for the reader, and as the date and
    /// time fields of the add-information form.
    occurred: String,
    occurred_parts: (String, String),
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

    /// The error for `field` of the form `form` (an action name or `assign`), if that form failed.
    fn error(&self, form: &str, field: &str) -> Option<&str> {
        if self.failed.as_deref() == Some(form) { self.errors.get(field) } else { None }
    }

    /// What the failed form `form` had in `field`, else `default`: a refused form keeps its values.
    fn value(&self, form: &str, field: &str, default: &str) -> String {
        if self.failed.as_deref() != Some(form) {
            return default.to_owned();
        }
        self.form.field(field).unwrap_or_default().to_owned()
    }

    /// The add-information form: the claim's fields, filled with what it says now (or what was
    /// just typed, when the form came back).
    fn add_info_fields(&self) -> Vec<FieldView> {
        let mut names = vec!["card_last4", "card_first6", "amount"];
        if self.case.kind == ClaimKind::WrongAmount {
            names.push("expected_amount");
        }
        names.extend(["occurred_date", "occurred_time", "merchant_id", "terminal_id", "merchant_name", "description"]);
        names
            .into_iter()
            .map(|name| FieldView {
                name,
                label: format!("cases.add_info.field.{name}"),
                value: self.claim_value(name),
                required: matches!(name, "card_last4" | "amount" | "occurred_date" | "expected_amount"),
                multiline: name == "description",
                inputmode: if matches!(name, "amount" | "expected_amount") { "decimal" } else { "text" },
                input_type: match name {
                    "occurred_date" => "date",
                    "occurred_time" => "time",
                    _ => "text",
                },
            })
            .collect()
    }

    /// The terminal reference of an executed refund/reversal.
    fn execution_fields(&self, form: &str) -> Vec<FieldView> {
        ["batch_no", "trace_no", "rrn"]
            .into_iter()
            .map(|name| FieldView {
                name,
                label: format!("cases.act.field.{name}"),
                value: self.value(form, name, ""),
                required: name != "rrn",
                multiline: false,
                inputmode: if name == "rrn" { "text" } else { "numeric" },
                input_type: "text",
            })
            .collect()
    }

    /// The claim's current value of a field, for the add-information form.
    fn claim_value(&self, field: &str) -> String {
        let c = &self.case;
        let major = |minor: i64| Money::new(minor, c.currency).major_string();
        let current = match field {
            "card_last4" => c.card_last4.clone(),
            "card_first6" => c.card_first6.clone().unwrap_or_default(),
            "amount" => major(c.amount_minor),
            "expected_amount" => c.expected_minor.map(major).unwrap_or_default(),
            "occurred_date" => self.occurred_parts.0.clone(),
            "occurred_time" => self.occurred_parts.1.clone(),
            "merchant_id" => c.merchant_id.clone().unwrap_or_default(),
            "terminal_id" => c.terminal_id.clone().unwrap_or_default(),
            "merchant_name" => c.merchant_name.clone().unwrap_or_default(),
            "description" => c.description.clone().unwrap_or_default(),
            _ => String::new(),
        };
        self.value("add_info", field, &current)
    }

    /// The merchant's records are what the case waits for: offer the journal upload.
    fn journal_awaited(&self) -> bool {
        self.ctx.role() == "merchant" && self.case.finding == Some(Finding::JournalMissing)
    }

    /// The remedy's label for the state the case is in: owed while open, paid back once
    /// resolved (issue 15 item 4: a settled case does not still promise the money).
    /// A rejected, withdrawn or closed case promises nothing, so it shows no remedy line.
    fn remedy_label(&self) -> Option<String> {
        let kind = self.case.remedy_kind.as_str();
        match self.case.state {
            CaseState::Resolved => Some(format!("reading.remedy.done.{kind}")),
            s if s.is_open() => Some(format!("cases.remedy.{kind}")),
            _ => None,
        }
    }

    /// The finding's words were written when the claim was checked; once the case is over (or
    /// the money it promised has come) they are history, and the page says so (issue 15 item 4).
    fn finding_is_history(&self) -> bool {
        let money = matches!(self.case.remedy_kind.as_str(), "refund" | "reversal");
        match self.case.state {
            CaseState::Resolved => money,
            s => !s.is_open(),
        }
    }

    /// The add-information form's lead: correct the claim, or (ambiguous) say which payment.
    fn add_info_lead(&self) -> &'static str {
        if narrowable(&self.case) { "reading.narrow.lead" } else { "cases.add_info.lead" }
    }

    /// A file's size as people read it: `12.4 KB`, never `0 KB` for a small file.
    fn file_size(&self, bytes: &i64) -> String {
        format::file_size(*bytes)
    }

    fn failed_is(&self, form: &str) -> bool {
        self.failed.as_deref() == Some(form)
    }
}

pub struct TrackerStep {
    /// Catalog keys: `reading.step.<step>`, `reading.status.<status>`.
    pub label: String,
    pub status: &'static str,
    pub status_label: String,
}

pub(crate) fn tracker_view(case: &CaseRow, visited: &[CaseState]) -> Vec<TrackerStep> {
    let money_owed = matches!(case.remedy_kind.as_str(), "refund" | "reversal");
    progress::tracker(case.state, visited, money_owed)
        .into_iter()
        .map(|(step, status)| TrackerStep {
            label: format!("reading.step.{}", step.as_str()),
            status: status.as_str(),
            status_label: format!("reading.status.{}", status.as_str()),
        })
        .collect()
}

/// What happens next, in the words of the one reading: the customer is told what they wait
/// for, staff what they must do (issue 15 item 6: staff never read the customer's voice).
pub(crate) fn next_step_key(state: CaseState, viewer: Role) -> String {
    let audience = match viewer {
        Role::Customer => return format!("cases.next.{}", state.as_str()),
        Role::Merchant => "merchant",
        Role::Agent | Role::Admin => "desk",
    };
    format!("reading.next.{audience}.{}", state.as_str())
}

/// A stored Unix second as the reader writes a time (DESIGN.md §8).
pub(crate) fn local_time(unix: i64, tz: &jiff::tz::TimeZone, lang: Lang) -> String {
    format::unix_datetime(unix, tz, lang)
}

fn matched_view(d: &SettlementEntry, shop: &Shop, tz: &jiff::tz::TimeZone, lang: Lang) -> MatchedView {
    MatchedView {
        shop: shop.name(lang == Lang::En).map(|_| format::shop(shop, lang)),
        rrn: d.rrn.to_string(),
        merchant_id: d.merchant_id.to_string(),
        terminal_id: d.terminal_id.to_string(),
        trace_no: d.trace_no.clone(),
        card: d.card.as_str().to_owned(),
        amount: format::money(d.amount, lang),
        time: format::datetime(d.txn_time, tz, lang),
    }
}

#[derive(serde::Deserialize)]
pub struct CaseQuery {
    evidence: Option<String>,
    /// The action just taken, for the confirmation banner.
    done: Option<String>,
    /// Why the visitor landed here instead of on a new case (`already_filed`).
    notice: Option<String>,
}

/// A banner above the case: a catalog key, its arguments, good news or bad.
pub struct Notice {
    pub key: String,
    pub args: Vec<(&'static str, String)>,
    pub ok: bool,
}

/// What the last attempt to act on the case left for the page to say.
pub struct Feedback {
    status: StatusCode,
    notice: Option<Notice>,
    /// The form that failed (`action.<kind>` name or `assign`), its errors and what was typed.
    failed: Option<String>,
    errors: FieldErrors,
    form: ActForm,
}

impl Feedback {
    pub fn none() -> Feedback {
        Feedback {
            status: StatusCode::OK,
            notice: None,
            failed: None,
            errors: FieldErrors::default(),
            form: ActForm::default(),
        }
    }

    fn bad(status: StatusCode, key: &str, args: Vec<(&'static str, String)>) -> Feedback {
        Feedback { status, notice: Some(Notice { key: key.to_owned(), args, ok: false }), ..Feedback::none() }
    }

    pub fn invalid(kind: ActionKind, errors: FieldErrors, form: ActForm) -> Feedback {
        Feedback {
            failed: Some(kind.as_str().to_owned()),
            errors,
            form,
            ..Feedback::bad(StatusCode::UNPROCESSABLE_ENTITY, "cases.act.invalid", Vec::new())
        }
    }

    pub fn invalid_assign(errors: FieldErrors, form: ActForm) -> Feedback {
        Feedback {
            failed: Some("assign".to_owned()),
            errors,
            form,
            ..Feedback::bad(StatusCode::UNPROCESSABLE_ENTITY, "cases.act.invalid", Vec::new())
        }
    }

    /// Someone else acted first: the page shows the case as it is now.
    pub fn changed() -> Feedback {
        Feedback::bad(StatusCode::CONFLICT, "cases.act.changed", Vec::new())
    }

    pub fn refused(e: &TransitionError) -> Feedback {
        let status = match e {
            TransitionError::NotAllowedForRole { .. } => StatusCode::FORBIDDEN,
            _ => StatusCode::CONFLICT,
        };
        Feedback::bad(status, &format!("error.{}", e.code()), e.args())
    }

    pub fn not_applicable() -> Feedback {
        Feedback::bad(StatusCode::CONFLICT, "error.not_allowed_in_state", Vec::new())
    }

    pub fn execution_elsewhere() -> Feedback {
        Feedback::bad(StatusCode::CONFLICT, "error.execution_recorded_elsewhere", Vec::new())
    }
}

/// One form the viewer may submit, built from the transition table and the action's fields.
pub struct ActionView {
    pub kind: String,
    /// Catalog keys of the button, the help line and the note's label.
    pub label: String,
    pub help: String,
    pub note_label: String,
    pub needs: Needs,
    /// Refund/reversal sums the form starts with (major units, no currency).
    pub default_amount: String,
    pub default_stated: String,
    /// The debits to pick from: settlement id and a line describing it.
    pub choices: Vec<(i64, String)>,
    /// Ends or refuses something: drawn as a warning.
    pub grave: bool,
}

impl ActionView {
    pub fn has_note(&self) -> bool {
        self.needs.note != Need::No
    }

    pub fn note_required(&self) -> bool {
        self.needs.note == Need::Required
    }
}

pub struct DeskUser {
    pub id: i64,
    pub email: String,
    pub current: bool,
    pub me: bool,
}

/// One input of a form the page builds.
pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub required: bool,
    pub multiline: bool,
    pub inputmode: &'static str,
    /// The input's `type`: `date` and `time` give the browser's pickers.
    pub input_type: &'static str,
}

pub struct AuditView {
    pub at: String,
    /// Catalog keys: `actor.<who>`, `cases.event.<action>`, `state.<from/to>`.
    pub actor_label: String,
    pub who: Option<String>,
    pub action_label: String,
    pub from_label: Option<String>,
    pub to_label: String,
    pub note: Option<String>,
    pub overrides_finding: bool,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<CaseQuery>,
) -> Result<Response, AppError> {
    let mut feedback = Feedback::none();
    if let Some(done) = q.done.filter(|d| d == "assign" || ActionKind::parse(d).is_some()) {
        feedback.notice = Some(Notice { key: format!("cases.done.{done}"), args: Vec::new(), ok: true });
    }
    if q.notice.as_deref() == Some("already_filed") {
        feedback.notice = Some(Notice { key: "cases.notice.already_filed".into(), args: Vec::new(), ok: true });
    }
    render_with(&state, ctx, &user, id, feedback, q.evidence).await
}

/// The case page, after an action that did not go through.
pub async fn render(
    state: &AppState,
    ctx: PageContext,
    user: &CurrentUser,
    id: i64,
    feedback: Feedback,
) -> Result<Response, AppError> {
    render_with(state, ctx, user, id, feedback, None).await
}

/// Which notes a viewer reads in the history. Merchant staff never read the customer's own
/// words (DESIGN.md §1); customers read what the desk and the merchant tell them, not the
/// desk's working notes on assignment.
pub(crate) fn note_visible(viewer: Role, actor: &str, action: &str) -> bool {
    match viewer {
        Role::Agent | Role::Admin => true,
        Role::Merchant => actor != "customer",
        Role::Customer => action != "assign",
    }
}

async fn render_with(
    state: &AppState,
    ctx: PageContext,
    user: &CurrentUser,
    id: i64,
    feedback: Feedback,
    evidence_query: Option<String>,
) -> Result<Response, AppError> {
    let case = cases::get(&state.db, id).await?.filter(|c| may_see(user, c)).ok_or_else(AppError::not_found)?;
    let tz = &state.config.timezone;
    let (matched_ids, matched): (Vec<i64>, Vec<SettlementEntry>) =
        cases::matched_debits_with_ids(&state.db, id).await?.into_iter().unzip();
    let shop = crate::cases::view::explained_shop(&state.db, &case).await?;
    let mut shops = Vec::with_capacity(matched.len());
    for d in &matched {
        shops.push(crate::db::merchants::shop(&state.db, d.merchant_id.as_str(), d.terminal_id.as_str()).await?);
    }
    let (title, text) = explanation(&case, ctx.lang, &state.config.timezone, shop.as_ref()).unwrap_or_default();
    let receipt = match (
        case.remedy_kind.as_str(),
        case.remedy_rrn.as_deref(),
        case.matched_merchant_id.as_deref(),
        case.matched_terminal_id.as_deref(),
    ) {
        ("receipt", Some(rrn), Some(merchant), Some(terminal)) => {
            match cases::journal_sale(&state.db, merchant, terminal, rrn).await? {
                Some(row) => {
                    let merchant = crate::db::merchants::get_merchant(&state.db, &row.merchant_id).await?;
                    let merchant_name = merchant
                        .map(|m| if ctx.lang.code() == "en" { m.name_en } else { m.name_zh })
                        .unwrap_or_else(|| row.merchant_id.to_string());
                    let time = format::datetime(row.local_time, tz, ctx.lang);
                    let amount = format::money(row.amount, ctx.lang);
                    Some(Receipt { merchant_name, row, time, amount })
                }
                None => None,
            }
        }
        _ => None,
    };
    let is_desk = user.role.is_staff();
    let events = cases::audit(&state.db, id).await?;
    // The states the case has been through draw the tracker's path.
    let visited: Vec<CaseState> = events
        .iter()
        .flat_map(|e| [Some(e.to_state.as_str()), e.from_state.as_deref()])
        .flatten()
        .filter_map(CaseState::parse)
        .collect();
    let audit: Vec<AuditView> = events
        .into_iter()
        .map(|e| AuditView {
            at: local_time(e.at, tz, ctx.lang),
            note: e
                .note
                .filter(|_| note_visible(user.role, &e.actor, &e.action))
                .map(|n| super::notes::in_words(&e.action, &n, tz, ctx.lang)),
            who: e.actor_email.filter(|_| is_desk),
            actor_label: format!("actor.{}", e.actor),
            action_label: format!("cases.event.{}", e.action),
            from_label: e.from_state.map(|f| format!("state.{f}")),
            to_label: format!("state.{}", e.to_state),
            overrides_finding: e.overrides_finding,
        })
        .collect();
    let evidence = if user.viewer().may_see_evidence(&case.scope()) {
        crate::db::evidence::of_case(&state.db, id).await?
    } else {
        Vec::new()
    };
    let case_state = case.state;
    let may_add_evidence = user.viewer().may_add_evidence(&case.scope())
        && evidence.len() < crate::domain::evidence::MAX_FILES_PER_CASE as usize;
    let evidence_notice = evidence_query
        .filter(|e| matches!(e.as_str(), "added" | "too_large" | "too_many" | "wrong_type" | "missing" | "closed"));

    let actor = Actor::from(user.role);
    let guard = guard_context(&case, jiff::Timestamp::now());
    let stated = remedy_needs_stated_amount(&case);
    let major = |minor: i64| Money::new(minor, case.currency).major_string();
    let choices: Vec<(i64, String)> =
        matched_ids.iter().copied().zip(matched.iter().map(|d| describe_debit(d, tz, ctx.lang))).collect();
    let mut add_info = false;
    let actions: Vec<ActionView> = allowed_actions(case_state, actor, &guard)
        .into_iter()
        .filter(|&kind| applicable(&case, kind, matched_ids.len()).is_ok())
        .filter(|&kind| {
            // Adding information has a form of its own: the claim's fields.
            if kind == ActionKind::AddInfo {
                add_info = true;
                return false;
            }
            true
        })
        .map(|kind| ActionView {
            kind: kind.as_str().to_owned(),
            label: format!("action.{kind}"),
            help: format!("cases.act.help.{kind}"),
            note_label: format!("cases.act.note.{kind}"),
            needs: needs(kind, stated),
            default_amount: major(case.remedy_minor.unwrap_or(case.amount_minor)),
            default_stated: case.expected_minor.map(major).unwrap_or_default(),
            choices: if kind == ActionKind::PickDebit { choices.clone() } else { Vec::new() },
            grave: matches!(kind, ActionKind::Reject | ActionKind::Withdraw | ActionKind::MerchantContest),
        })
        .collect();
    let desk = if is_desk { cases::desk_users(&state.db).await? } else { Vec::new() };
    let related = if is_desk { cases::related_cases(&state.db, id).await? } else { Vec::new() };
    let assignee = case.assigned_to.and_then(|uid| desk.iter().find(|(id, _)| *id == uid)).map(|(_, e)| e.clone());
    let assign = (is_desk && !case_state.is_terminal()).then(|| {
        desk.iter()
            .map(|(id, email)| DeskUser {
                id: *id,
                email: email.clone(),
                current: case.assigned_to == Some(*id),
                me: *id == user.id,
            })
            .collect()
    });
    let notice = feedback.notice.as_ref().map(|n| (ctx.t_args(&n.key, &n.args), n.ok));
    let status = feedback.status;
    let known_problems = crate::web::exceptions::known_problems(state, &ctx, id).await?;
    let page = CasePage {
        known_problems,
        evidence,
        may_add_evidence,
        evidence_notice,
        show_contact: user.viewer().may_see_contact(),
        amount: format::money(case.amount(), ctx.lang),
        remedy_amount: case.remedy_amount().map(|m| format::money(m, ctx.lang)),
        stated_amount: case.merchant_stated_minor.map(|m| format::money(Money::new(m, case.currency), ctx.lang)),
        deadline: case.deadline_at.map(|t| format::unix_deadline(t, tz, ctx.lang)),
        occurred: format::claimed_time(&case.occurred_at, tz, ctx.lang),
        tracker: tracker_view(&case, &visited),
        expected_amount: case.expected_minor.map(|m| format::money(Money::new(m, case.currency), ctx.lang)),
        next_step: if user.role == Role::Customer && case.state == CaseState::UnderReview && narrowable(&case) {
            "reading.next.customer.ambiguous".to_owned()
        } else {
            next_step_key(case.state, user.role)
        },
        expected_by: progress::awaits_money(case.state)
            .then(|| case.deadline_at.map(|t| format::unix_deadline(t, tz, ctx.lang)))
            .flatten(),
        if_not_arrived: if user.role == Role::Customer {
            "reading.expected_by.if_not.customer"
        } else {
            "reading.expected_by.if_not.staff"
        },
        occurred_parts: Occurred::parts_of_text(&case.occurred_at, tz),
        title,
        explanation: text,
        matched: matched.iter().zip(&shops).map(|(d, shop)| matched_view(d, shop, tz, ctx.lang)).collect(),
        audit,
        related,
        is_desk,
        receipt,
        actions,
        add_info,
        assign,
        assignee,
        notice,
        failed: feedback.failed,
        errors: feedback.errors,
        form: feedback.form,
        case,
        ctx,
    };
    Ok((status, page).into_response())
}

fn describe_debit(d: &SettlementEntry, tz: &jiff::tz::TimeZone, lang: Lang) -> String {
    format!(
        "{} · {} {} · {} · RRN {}",
        format::datetime(d.txn_time, tz, lang),
        d.merchant_id,
        d.terminal_id,
        format::money(d.amount, lang),
        d.rrn
    )
}

pub struct CaseSummary {
    pub id: i64,
    pub kind: &'static str,
    pub state: &'static str,
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
            title: explanation(&c, ctx.lang, &state.config.timezone, None).map(|(t, _)| t).unwrap_or_default(),
            amount: format::money(c.amount(), ctx.lang),
            filed: local_time(c.created_at, &state.config.timezone, ctx.lang),
            id: c.id,
            kind: c.kind.as_str(),
            state: c.state.as_str(),
        })
        .collect();
    Ok(MyCases { ctx, cases })
}
