//! The lists of cases people work from: merchant staff's triage queue (`/merchant/cases`, their
//! own merchants' cases only) and the desk's console (`/agent/cases`, every case), soonest
//! deadline first. A GET form, so a filtered queue is a link to keep.
//!
//! Reach is fixed here from the signed-in user before any query runs; the rows never carry a
//! customer's contact details, whoever looks.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::db::cases::desk_users;
use crate::db::queue::{self, Assignee, OPEN_STATES, QueueCursor, QueueRow, QueueSearch};
use crate::domain::case_state::CaseState;
use crate::domain::claim::ClaimKind;
use crate::domain::finding::Finding;
use crate::domain::money::{Currency, Money};
use crate::domain::records::{is_merchant_id, is_rrn, is_terminal_id};
use crate::i18n::{Lang, format};
use crate::web::forms::FieldErrors;
use crate::web::screen::Refused;
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

pub const PAGE_SIZE: i64 = 50;

/// Ages a queue can be narrowed to: filed at least this many days ago.
const AGES: &[u32] = &[2, 7, 30];

/// The form as typed; every field is text so whatever arrives can be shown again.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueForm {
    /// Empty: the open states; `all`; or one state.
    pub state: String,
    pub kind: String,
    pub finding: String,
    pub terminal_id: String,
    /// `overdue`, `day` (due within a day), `three_days`.
    pub deadline: String,
    /// Days since filing, one of [`AGES`].
    pub age: String,
    // The desk's only:
    pub merchant_id: String,
    /// `me`, `nobody`, or a desk user's id.
    pub assignee: String,
    pub case: String,
    pub last4: String,
    pub rrn: String,
    pub after: String,
}

impl QueueForm {
    fn fields_mut(&mut self) -> [(&'static str, &mut String); 12] {
        [
            ("state", &mut self.state),
            ("kind", &mut self.kind),
            ("finding", &mut self.finding),
            ("terminal_id", &mut self.terminal_id),
            ("deadline", &mut self.deadline),
            ("age", &mut self.age),
            ("merchant_id", &mut self.merchant_id),
            ("assignee", &mut self.assignee),
            ("case", &mut self.case),
            ("last4", &mut self.last4),
            ("rrn", &mut self.rrn),
            ("after", &mut self.after),
        ]
    }

    fn trimmed(mut self) -> QueueForm {
        for (_, value) in self.fields_mut() {
            *value = value.trim().to_owned();
        }
        self
    }

    /// This queue's address with its filters, starting after `after` when given.
    fn href(&self, path: &str, after: Option<QueueCursor>) -> String {
        let mut copy = self.clone();
        copy.after = after.map(|c| c.to_string()).unwrap_or_default();
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in copy.fields_mut() {
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        let q = q.finish();
        if q.is_empty() { path.to_owned() } else { format!("{path}?{q}") }
    }
}

/// Who is looking, which decides what the form may ask.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    Merchant,
    Desk,
}

/// Checks the form into a search, naming each problem next to its field in `lang`.
fn check(
    form: &QueueForm,
    audience: Audience,
    user: &CurrentUser,
    now: i64,
    lang: Lang,
) -> Result<QueueSearch, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut search = QueueSearch::default();
    let given = |s: &String| (!s.is_empty()).then(|| s.clone());

    search.states = match form.state.as_str() {
        "" => OPEN_STATES.iter().map(|s| s.to_string()).collect(),
        "all" => Vec::new(),
        text => match CaseState::parse(text) {
            Some(state) => vec![state.as_str().to_owned()],
            None => {
                errors.add("state", lang.t("queue.error.choice"));
                Vec::new()
            }
        },
    };
    search.kind = given(&form.kind).filter(|k| {
        let ok = ClaimKind::parse(k).is_some();
        if !ok {
            errors.add("kind", lang.t("queue.error.choice"));
        }
        ok
    });
    search.finding = given(&form.finding).filter(|f| {
        let ok = Finding::ALL.iter().any(|x| x.as_str() == f);
        if !ok {
            errors.add("finding", lang.t("queue.error.choice"));
        }
        ok
    });
    let mut text = |name: &str, value: &String, valid: fn(&str) -> bool, key: &str| {
        let value = given(value)?;
        if valid(&value) {
            Some(value)
        } else {
            errors.add(name, lang.t(key));
            None
        }
    };
    search.terminal_id = text("terminal_id", &form.terminal_id, is_terminal_id, "error.terminal_id_invalid");
    let merchant_id = text("merchant_id", &form.merchant_id, is_merchant_id, "error.merchant_id_invalid");
    search.rrn = text("rrn", &form.rrn, is_rrn, "error.rrn_invalid");
    search.last4 =
        text("last4", &form.last4, |v| v.len() == 4 && v.bytes().all(|b| b.is_ascii_digit()), "browse.error.last4");
    search.case_id = given(&form.case).and_then(|t| match t.trim_start_matches('#').parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            errors.add("case", lang.t("queue.error.case"));
            None
        }
    });
    search.due_by = match form.deadline.as_str() {
        "" => None,
        "overdue" => Some(now),
        "day" => Some(now + 86_400),
        "three_days" => Some(now + 3 * 86_400),
        _ => {
            errors.add("deadline", lang.t("queue.error.choice"));
            None
        }
    };
    search.filed_by = given(&form.age).and_then(|t| match t.parse::<u32>() {
        Ok(days) if AGES.contains(&days) => Some(now - i64::from(days) * 86_400),
        _ => {
            errors.add("age", lang.t("queue.error.choice"));
            None
        }
    });
    search.assignee = match form.assignee.as_str() {
        "" => None,
        "nobody" => Some(Assignee::Nobody),
        "me" => Some(Assignee::User(user.id)),
        id => match id.parse::<i64>() {
            Ok(id) => Some(Assignee::User(id)),
            Err(_) => {
                errors.add("assignee", lang.t("queue.error.choice"));
                None
            }
        },
    };
    search.after = given(&form.after).and_then(|t| {
        let cursor = QueueCursor::parse(&t);
        if cursor.is_none() {
            errors.add("form", lang.t("browse.error.cursor"));
        }
        cursor
    });
    search.merchants = match (audience, merchant_id) {
        (Audience::Desk, None) => None,
        (Audience::Desk, Some(m)) => Some(vec![m]),
        (Audience::Merchant, None) => Some(user.merchants.clone()),
        // Another merchant's id narrows to nothing rather than saying it exists.
        (Audience::Merchant, Some(m)) => Some(if user.merchants.contains(&m) { vec![m] } else { Vec::new() }),
    };
    if errors.is_empty() { Ok(search) } else { Err(errors) }
}

/// A case as a queue row shows it.
pub struct QueueItem {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub finding: Option<String>,
    pub card_last4: String,
    pub amount: String,
    pub merchant_id: String,
    pub terminal_id: String,
    pub deadline: String,
    pub overdue: bool,
    pub age_days: i64,
    pub assignee: String,
}

fn item(row: QueueRow, now: i64, tz: &jiff::tz::TimeZone, lang: Lang) -> QueueItem {
    QueueItem {
        amount: Currency::from_code(&row.currency)
            .map(|c| format::money(Money::new(row.amount_minor, c), lang))
            .unwrap_or_else(|| format!("{} {}", row.amount_minor, row.currency)),
        deadline: row.deadline_at.map(|d| format::unix_deadline(d, tz, lang)).unwrap_or_default(),
        overdue: row.deadline_at.is_some_and(|d| d <= now),
        age_days: (now - row.created_at).max(0) / 86_400,
        assignee: row.assignee_email.unwrap_or_default(),
        merchant_id: row.matched_merchant_id.unwrap_or_default(),
        terminal_id: row.matched_terminal_id.unwrap_or_default(),
        id: row.id,
        kind: row.kind,
        state: row.state,
        finding: row.finding,
        card_last4: row.card_last4,
    }
}

/// A choice of a select: value and label.
pub struct Choice {
    pub value: String,
    pub label: String,
}

fn choice(value: impl Into<String>, label: impl Into<String>) -> Choice {
    Choice { value: value.into(), label: label.into() }
}

#[derive(Template, WebTemplate)]
#[template(path = "cases/queue.html")]
pub struct QueuePage {
    ctx: PageContext,
    desk: bool,
    path: &'static str,
    form: QueueForm,
    errors: FieldErrors,
    items: Vec<QueueItem>,
    next_href: Option<String>,
    first_href: Option<String>,
    states: Vec<Choice>,
    kinds: Vec<Choice>,
    findings: Vec<Choice>,
    terminals: Vec<String>,
    desk_users: Vec<Choice>,
    ages: Vec<Choice>,
}

impl QueuePage {
    fn selected(&self, field: &str, value: &str) -> bool {
        let current = match field {
            "state" => &self.form.state,
            "kind" => &self.form.kind,
            "finding" => &self.form.finding,
            "terminal_id" => &self.form.terminal_id,
            "deadline" => &self.form.deadline,
            "age" => &self.form.age,
            "assignee" => &self.form.assignee,
            _ => return false,
        };
        current == value
    }
}

pub async fn merchant_queue(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    refused: Refused,
    Query(form): Query<QueueForm>,
) -> Result<Response, AppError> {
    show(state, ctx, user, form, refused, Audience::Merchant).await
}

pub async fn desk_console(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    refused: Refused,
    Query(form): Query<QueueForm>,
) -> Result<Response, AppError> {
    show(state, ctx, user, form, refused, Audience::Desk).await
}

async fn show(
    state: AppState,
    ctx: PageContext,
    user: CurrentUser,
    form: QueueForm,
    refused: Refused,
    audience: Audience,
) -> Result<Response, AppError> {
    let mut form = form.trimmed();
    if audience == Audience::Merchant {
        // Fields of the desk's console only: ignored rather than refused on a merchant's queue.
        for field in [&mut form.assignee, &mut form.case, &mut form.last4, &mut form.rrn] {
            field.clear();
        }
    }
    let now = jiff::Timestamp::now().as_second();
    let lang = ctx.lang;
    let desk = audience == Audience::Desk;
    let path = if desk { "/agent/cases" } else { "/merchant/cases" };
    let scope = if desk { None } else { Some(user.merchants.as_slice()) };
    let mut page = QueuePage {
        desk,
        path,
        errors: FieldErrors::default(),
        items: Vec::new(),
        next_href: None,
        first_href: None,
        states: std::iter::once(choice(String::new(), lang.t("queue.state.open")))
            .chain(std::iter::once(choice("all", lang.t("queue.state.all"))))
            .chain(CaseState::ALL.iter().map(|s| choice(s.as_str(), lang.t(&format!("state.{}", s.as_str())))))
            .collect(),
        kinds: ClaimKind::ALL.iter().map(|k| choice(k.as_str(), lang.t(&format!("kind.{}", k.as_str())))).collect(),
        findings: Finding::ALL
            .iter()
            .map(|f| choice(f.as_str(), lang.t(&format!("finding.{}.title", f.as_str()))))
            .collect(),
        terminals: queue::terminals(&state.db, scope).await?,
        desk_users: if desk {
            desk_users(&state.db).await?.into_iter().map(|(id, email)| choice(id.to_string(), email)).collect()
        } else {
            Vec::new()
        },
        ages: AGES
            .iter()
            .map(|d| choice(d.to_string(), lang.t_args("queue.age.days", &[("n", d.to_string())])))
            .collect(),
        form: QueueForm::default(),
        ctx,
    };

    // A field refused at the door arrives emptied (it is never shown again): say why, in place
    // of what the check says about the empty field.
    let checked = check(&form, audience, &user, now, lang)
        .and_then(|search| if refused.is_empty() { Ok(search) } else { Err(FieldErrors::default()) });
    let search = match checked {
        Ok(search) => search,
        Err(mut errors) => {
            refused.explain(&mut errors, lang);
            page.ctx.path = form.href(path, None);
            page.form = form;
            page.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let result = queue::page(&state.db, &search, PAGE_SIZE).await?;
    let tz = &state.config.timezone;
    page.items = result.rows.into_iter().map(|r| item(r, now, tz, lang)).collect();
    page.next_href = result.next.map(|c| form.href(path, Some(c)));
    page.first_href = search.after.map(|_| form.href(path, None));
    page.form = form;
    Ok(page.into_response())
}
