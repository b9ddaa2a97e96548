//! The records browser: merchant staff search their own merchants' terminal journal, the disputes
//! desk every journal row and settlement entry.
//!
//! A GET form, so a search is a link that can be shared and bookmarked. Who may see what is
//! decided here, on the server, before any query runs: the merchants a search may reach are
//! fixed from the signed-in user, never taken from the request alone.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use serde::Deserialize;

use crate::db::browse::{self, Cursor, RecordKind, Search};
use crate::db::merchants;
use crate::db::records::{StoredJournal, StoredSettlement};
use crate::domain::money::{Currency, Money};
use crate::domain::records::{
    Direction, JournalRow, SettlementEntry, TerminalEvent, TxnStatus, TxnType, is_merchant_id, is_rrn, is_six_digits,
    is_terminal_id, parse_date, parse_instant,
};
use crate::domain::role::Role;
use crate::i18n::{Lang, format};
use crate::web::forms::FieldErrors;
use crate::web::screen::Refused;
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

/// Who may open the browser at all; what each of them sees is narrowed per request.
pub const READERS: &[Role] = &[Role::Merchant, Role::Agent, Role::Admin];

/// Rows per page: a screenful on a desk, still light on a phone.
pub const PAGE_SIZE: i64 = 50;

/// The deployment's currency (DESIGN §4): an amount typed without one is in yuan.
const DEFAULT_CURRENCY: Currency = Currency::CNY;

/// The form as typed. Every field is text, so whatever arrives can be shown again with a message.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    pub kind: String,
    pub rrn: String,
    pub trace_no: String,
    pub terminal_id: String,
    pub merchant_id: String,
    pub last4: String,
    pub amount: String,
    pub currency: String,
    pub from: String,
    pub to: String,
    pub before: String,
}

impl SearchForm {
    fn trimmed(mut self) -> SearchForm {
        for field in self.fields_mut() {
            *field = field.trim().to_owned();
        }
        self
    }

    fn fields_mut(&mut self) -> [&mut String; 11] {
        [
            &mut self.kind,
            &mut self.rrn,
            &mut self.trace_no,
            &mut self.terminal_id,
            &mut self.merchant_id,
            &mut self.last4,
            &mut self.amount,
            &mut self.currency,
            &mut self.from,
            &mut self.to,
            &mut self.before,
        ]
    }

    /// The query string of this search (empty fields left out), starting at `before` if given.
    fn query(&self, before: Option<Cursor>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("kind", &self.kind),
            ("rrn", &self.rrn),
            ("trace_no", &self.trace_no),
            ("terminal_id", &self.terminal_id),
            ("merchant_id", &self.merchant_id),
            ("last4", &self.last4),
            ("amount", &self.amount),
            ("currency", &self.currency),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        if let Some(c) = before {
            q.append_pair("before", &c.to_string());
        }
        let q = q.finish();
        if q.is_empty() { "/records".to_owned() } else { format!("/records?{q}") }
    }
}

/// A search as the form asked for it, checked, before the user's reach is applied.
#[derive(Debug, PartialEq, Eq)]
struct Asked {
    kind: RecordKind,
    merchant_id: Option<String>,
    search: Search,
}

/// Checks every field and names each problem next to its field, in `lang`.
fn check(form: &SearchForm, tz: &TimeZone, lang: Lang) -> Result<Asked, FieldErrors> {
    let mut errors = FieldErrors::default();
    let given = |s: &String| (!s.is_empty()).then(|| s.clone());

    let kind = match form.kind.as_str() {
        "" => RecordKind::Journal,
        text => RecordKind::parse(text).unwrap_or_else(|| {
            errors.add_key(lang, "kind", "browse.error.kind");
            RecordKind::Journal
        }),
    };
    let mut text_field = |name: &str, value: &String, valid: fn(&str) -> bool, code: &str| {
        let value = given(value)?;
        if valid(&value) {
            Some(value)
        } else {
            errors.add_code(lang, name, code, &[]);
            None
        }
    };
    let rrn = text_field("rrn", &form.rrn, is_rrn, "rrn_invalid");
    let trace_no = text_field("trace_no", &form.trace_no, is_six_digits, "trace_no_invalid");
    let terminal_id = text_field("terminal_id", &form.terminal_id, is_terminal_id, "terminal_id_invalid");
    let merchant_id = text_field("merchant_id", &form.merchant_id, is_merchant_id, "merchant_id_invalid");
    let last4 = given(&form.last4).filter(|v| {
        let ok = v.len() == 4 && v.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            errors.add_key(lang, "last4", "browse.error.last4");
        }
        ok
    });

    let currency = match form.currency.to_ascii_uppercase().as_str() {
        "" => Some(DEFAULT_CURRENCY),
        // A search form may forgive "cny"; the import contract does not.
        code => Currency::from_code(code).or_else(|| {
            errors.add_code(lang, "currency", "currency_invalid", &[]);
            None
        }),
    };
    let amount = match (given(&form.amount), currency) {
        (Some(text), Some(currency)) => {
            Money::parse_input(&text, currency).map_err(|e| errors.add_code(lang, "amount", e.code(), &e.args())).ok()
        }
        _ => None,
    };

    let from = given(&form.from).and_then(|text| match parse_when(&text, tz) {
        Some(when) => Some(when.start(tz)),
        None => {
            errors.add_key(lang, "from", "browse.error.time");
            None
        }
    });
    let until = given(&form.to).and_then(|text| match parse_when(&text, tz) {
        Some(when) => Some(when.end(tz)),
        None => {
            errors.add_key(lang, "to", "browse.error.time");
            None
        }
    });
    if let (Some(from), Some(until)) = (from, until)
        && until <= from
    {
        errors.add_key(lang, "to", "browse.error.range_reversed");
    }

    let before = given(&form.before).and_then(|text| {
        let cursor = Cursor::parse(&text);
        if cursor.is_none() {
            errors.add_key(lang, "form", "browse.error.cursor");
        }
        cursor
    });

    if !errors.is_empty() {
        return Err(errors);
    }
    let search = Search { merchants: None, rrn, terminal_id, trace_no, last4, amount, from, until, before };
    Ok(Asked { kind, merchant_id, search })
}

/// A small addition to the shared [`FieldErrors`] for this page.
trait AddKey {
    fn add_key(&mut self, lang: Lang, field: &str, key: &str);
}

impl AddKey for FieldErrors {
    fn add_key(&mut self, lang: Lang, field: &str, key: &str) {
        self.add(field, lang.t(key));
    }
}

/// A bound of the period as typed: a whole day, or a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    Day(Date),
    At(Timestamp),
}

impl When {
    /// The first second the bound includes, as Unix seconds.
    fn start(self, tz: &TimeZone) -> i64 {
        match self {
            When::Day(d) => day_start(d, tz),
            When::At(t) => t.as_second(),
        }
    }

    /// The first second after the bound: a day runs to its end, a moment includes its second
    /// (records are kept to the second, so "to 14:30" means up to 14:30:00 inclusive).
    fn end(self, tz: &TimeZone) -> i64 {
        match self {
            When::Day(d) => d.tomorrow().map_or(i64::MAX, |next| day_start(next, tz)),
            When::At(t) => t.as_second().saturating_add(1),
        }
    }
}

/// The start of a local day; jiff's start of day (not midnight) keeps days that begin in a DST
/// gap right.
fn day_start(d: Date, tz: &TimeZone) -> i64 {
    d.to_zoned(tz.clone()).and_then(|z| z.start_of_day()).map_or(i64::MIN, |z| z.timestamp().as_second())
}

/// Reads `YYYY-MM-DD`, a local `YYYY-MM-DD HH:MM[:SS]` (also with `T`, as a phone's date-time
/// picker sends it) in the deployment's zone, or an RFC 3339 time with its own offset.
fn parse_when(text: &str, tz: &TimeZone) -> Option<When> {
    if text.len() == 10 {
        return parse_date(text).map(When::Day);
    }
    if let Some((t, _)) = parse_instant(text) {
        return Some(When::At(t));
    }
    let b = text.as_bytes();
    if !(b.len() == 16 || b.len() == 19) || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' {
        return None;
    }
    let date = parse_date(text.get(..10)?)?;
    let number = |at: usize| -> Option<i8> {
        let digits = text.get(at..at + 2)?;
        if digits.bytes().all(|c| c.is_ascii_digit()) { digits.parse().ok() } else { None }
    };
    let second = if b.len() == 19 {
        if b[16] != b':' {
            return None;
        }
        number(17)?
    } else {
        0
    };
    let time = Time::new(number(11)?, number(14)?, second, 0).ok()?;
    // A local time that happens twice (DST ends) or never (DST begins) is read as clocks read
    // it: the earlier of the two, or shifted forward past the gap.
    let zoned = tz.to_ambiguous_zoned(DateTime::from_parts(date, time)).compatible().ok()?;
    Some(When::At(zoned.timestamp()))
}

// ---- the page ----

/// One journal row, as words and formatted values for the table.
pub struct JournalLine {
    /// The record's key, `merchant/terminal/batch/trace`, for links and tests.
    pub key: String,
    pub time: String,
    /// The same moment in the deployment's zone, when the terminal wrote another offset.
    pub time_here: Option<String>,
    pub merchant_id: String,
    pub terminal_id: String,
    pub batch_no: String,
    pub trace_no: String,
    pub rrn: Option<String>,
    pub auth_code: Option<String>,
    pub card: String,
    pub txn_type: &'static str,
    /// For a void, refund or reversal: the sale it cancels, in words.
    pub cancels: Option<String>,
    pub status: &'static str,
    pub response_code: Option<String>,
    pub amount: String,
    pub receipt: &'static str,
    pub event: Option<&'static str>,
}

pub struct SettlementLine {
    pub entry_id: String,
    pub time: String,
    pub time_here: Option<String>,
    pub merchant_id: String,
    pub terminal_id: String,
    pub trace_no: String,
    pub rrn: String,
    pub card: String,
    pub direction: &'static str,
    pub amount: String,
    pub settled_on: String,
    pub orig_rrn: Option<String>,
}

/// A merchant the signed-in merchant user may choose.
pub struct OwnMerchant {
    pub merchant_id: String,
    pub name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "records/browse.html")]
pub struct BrowsePage {
    ctx: PageContext,
    form: SearchForm,
    errors: FieldErrors,
    /// The disputes desk: both kinds, any merchant.
    staff: bool,
    own_merchants: Vec<OwnMerchant>,
    kind: RecordKind,
    /// False when the form was refused: then no table at all.
    searched: bool,
    journal: Vec<JournalLine>,
    settlement: Vec<SettlementLine>,
    older_href: Option<String>,
    newest_href: Option<String>,
}

impl BrowsePage {
    fn is_journal(&self) -> bool {
        self.kind == RecordKind::Journal
    }

    fn row_count(&self) -> usize {
        self.journal.len() + self.settlement.len()
    }
}

pub async fn browse(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    refused: Refused,
    Query(form): Query<SearchForm>,
) -> Result<Response, AppError> {
    let form = form.trimmed();
    let staff = user.role.is_staff();
    let tz = &state.config.timezone;
    // A field refused at the door arrives emptied (it is never shown again): say why, in place
    // of what the check says about the empty field.
    let checked = check(&form, tz, ctx.lang)
        .and_then(|asked| if refused.is_empty() { Ok(asked) } else { Err(FieldErrors::default()) })
        .map_err(|mut errors| {
            refused.explain(&mut errors, ctx.lang);
            errors
        });

    // Reach first: a merchant user learns nothing about other merchants, not even whether a
    // field typed for them was well-formed.
    if let Ok(asked) = &checked {
        if !staff && asked.kind == RecordKind::Settlement {
            return Err(AppError::forbidden());
        }
        if let Some(m) = &asked.merchant_id
            && !user.viewer().may_see_record(m)
        {
            return Err(AppError::not_found());
        }
    }

    let mut own_merchants = Vec::new();
    if !staff {
        for id in &user.merchants {
            let name = merchants::get_merchant(&state.db, id).await?.map(|m| match ctx.lang {
                Lang::ZhCn => m.name_zh,
                Lang::En => m.name_en,
            });
            own_merchants.push(OwnMerchant { merchant_id: id.clone(), name: name.unwrap_or_default() });
        }
    }
    let mut page = BrowsePage {
        form: SearchForm::default(),
        errors: FieldErrors::default(),
        staff,
        own_merchants,
        kind: RecordKind::Journal,
        searched: false,
        journal: Vec::new(),
        settlement: Vec::new(),
        older_href: None,
        newest_href: None,
        ctx,
    };

    let asked = match checked {
        Ok(asked) => asked,
        Err(errors) => {
            page.kind = RecordKind::parse(&form.kind).unwrap_or(RecordKind::Journal);
            page.form = form;
            page.ctx.path = page.form.query(None);
            page.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };

    let mut search = asked.search;
    search.merchants = match asked.merchant_id {
        Some(m) => Some(vec![m]),
        None if staff => None,
        None => Some(user.merchants.clone()),
    };
    let lang = page.ctx.lang;
    let older = match asked.kind {
        RecordKind::Journal => {
            let found = browse::journal_page(&state.db, &search, PAGE_SIZE).await?;
            for row in found.rows {
                page.journal.push(journal_line(row, lang, tz)?);
            }
            found.older
        }
        RecordKind::Settlement => {
            let found = browse::settlement_page(&state.db, &search, PAGE_SIZE).await?;
            for row in found.rows {
                page.settlement.push(settlement_line(row, lang, tz)?);
            }
            found.older
        }
    };
    page.kind = asked.kind;
    page.searched = true;
    page.older_href = older.map(|c| form.query(Some(c)));
    page.newest_href = search.before.map(|_| form.query(None));
    page.form = form;
    Ok(page.into_response())
}

fn journal_line(stored: StoredJournal, lang: Lang, tz: &TimeZone) -> Result<JournalLine, AppError> {
    let row: JournalRow = stored.into_domain()?;
    let cancels = row.orig_trace_no.as_ref().map(|trace| {
        let batch = row.effective_orig_batch_no().unwrap_or(&row.batch_no).to_owned();
        lang.t_args("browse.cancels", &[("batch", batch), ("trace", trace.clone())])
    });
    Ok(JournalLine {
        key: format!("{}/{}/{}/{}", row.merchant_id, row.terminal_id, row.batch_no, row.trace_no),
        time: time_text(row.local_time, row.local_offset),
        time_here: time_here(row.local_time, row.local_offset, tz),
        txn_type: lang.t(txn_type_key(row.txn_type)),
        status: lang.t(status_key(row.status)),
        receipt: lang.t(if row.receipt_printed { "browse.receipt.yes" } else { "browse.receipt.no" }),
        event: row.terminal_event.map(|e| lang.t(event_key(e))),
        amount: format::money(row.amount, lang),
        card: row.card.as_str().to_owned(),
        cancels,
        merchant_id: row.merchant_id.into(),
        terminal_id: row.terminal_id.into(),
        batch_no: row.batch_no,
        trace_no: row.trace_no,
        rrn: row.rrn.map(String::from),
        auth_code: row.auth_code,
        response_code: row.response_code,
    })
}

fn settlement_line(stored: StoredSettlement, lang: Lang, tz: &TimeZone) -> Result<SettlementLine, AppError> {
    let entry: SettlementEntry = stored.into_domain()?;
    Ok(SettlementLine {
        time: time_text(entry.txn_time, entry.txn_offset),
        time_here: time_here(entry.txn_time, entry.txn_offset, tz),
        direction: lang.t(direction_key(entry.direction)),
        amount: format::money(entry.amount, lang),
        card: entry.card.as_str().to_owned(),
        settled_on: format::date(entry.settled_on, lang),
        entry_id: entry.entry_id,
        merchant_id: entry.merchant_id.into(),
        terminal_id: entry.terminal_id.into(),
        trace_no: entry.trace_no,
        rrn: entry.rrn.into(),
        orig_rrn: entry.orig_rrn.map(String::from),
    })
}

/// Date, time and offset; a narrow column may break after the date, never inside the time
/// and its offset (a no-break space joins them).
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S\u{a0}%:z";

/// The moment as the terminal or host wrote it, offset included: what the slip or the clearing
/// file shows, so it can be compared by eye.
fn time_text(t: Timestamp, offset: Offset) -> String {
    t.to_zoned(TimeZone::fixed(offset)).strftime(TIME_FORMAT).to_string()
}

fn time_here(t: Timestamp, offset: Offset, tz: &TimeZone) -> Option<String> {
    (tz.to_offset(t) != offset).then(|| t.to_zoned(tz.clone()).strftime(TIME_FORMAT).to_string())
}

fn txn_type_key(t: TxnType) -> &'static str {
    match t {
        TxnType::Sale => "browse.txn_type.sale",
        TxnType::Void => "browse.txn_type.void",
        TxnType::Refund => "browse.txn_type.refund",
        TxnType::Reversal => "browse.txn_type.reversal",
    }
}

fn status_key(s: TxnStatus) -> &'static str {
    match s {
        TxnStatus::Approved => "browse.status.approved",
        TxnStatus::Declined => "browse.status.declined",
        TxnStatus::NoResponse => "browse.status.no_response",
    }
}

fn event_key(e: TerminalEvent) -> &'static str {
    match e {
        TerminalEvent::PaperOut => "browse.event.paper_out",
        TerminalEvent::PrinterFault => "browse.event.printer_fault",
        TerminalEvent::CommTimeout => "browse.event.comm_timeout",
        TerminalEvent::PowerLoss => "browse.event.power_loss",
    }
}

fn direction_key(d: Direction) -> &'static str {
    match d {
        Direction::Debit => "browse.direction.debit",
        Direction::Credit => "browse.direction.credit",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn ts(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_second()
    }

    /// The form as axum's `Query` fills it from these fields.
    fn form(pairs: &[(&str, &str)]) -> SearchForm {
        let mut f = SearchForm::default();
        for &(k, v) in pairs {
            let field = match k {
                "kind" => &mut f.kind,
                "rrn" => &mut f.rrn,
                "trace_no" => &mut f.trace_no,
                "terminal_id" => &mut f.terminal_id,
                "merchant_id" => &mut f.merchant_id,
                "last4" => &mut f.last4,
                "amount" => &mut f.amount,
                "currency" => &mut f.currency,
                "from" => &mut f.from,
                "to" => &mut f.to,
                "before" => &mut f.before,
                _ => panic!("no field {k}"),
            };
            *field = v.to_owned();
        }
        f.trimmed()
    }

    fn errors_of(pairs: &[(&str, &str)]) -> Vec<String> {
        match check(&form(pairs), &shanghai(), Lang::En) {
            Ok(_) => Vec::new(),
            Err(e) => e.all().iter().map(|(f, _)| f.clone()).collect(),
        }
    }

    #[test]
    fn an_empty_form_is_every_journal_row() {
        let asked = check(&SearchForm::default(), &shanghai(), Lang::En).unwrap();
        assert_eq!(asked, Asked { kind: RecordKind::Journal, merchant_id: None, search: Search::default() });
    }

    #[test]
    fn every_field_is_read_exactly() {
        let asked = check(
            &form(&[
                ("kind", "settlement"),
                ("rrn", "000004267530"),
                ("trace_no", "000051"),
                ("terminal_id", " 88360045 "),
                ("merchant_id", "828844912590296"),
                ("last4", "2015"),
                ("amount", "954.82"),
                ("from", "2026-11-12"),
                ("to", "2026-11-12"),
                ("before", "1794464436:9"),
            ]),
            &shanghai(),
            Lang::En,
        )
        .unwrap();
        assert_eq!(asked.kind, RecordKind::Settlement);
        assert_eq!(asked.merchant_id.as_deref(), Some("828844912590296"));
        let s = asked.search;
        assert_eq!(s.terminal_id.as_deref(), Some("88360045"));
        assert_eq!(s.amount, Some(Money::new(95482, Currency::CNY)));
        // The whole local day in Shanghai, which is 16:00 UTC the day before to 16:00 UTC.
        assert_eq!(s.from, Some(ts("2026-11-11T16:00:00Z")));
        assert_eq!(s.until, Some(ts("2026-11-12T16:00:00Z")));
        assert_eq!(s.before, Some(Cursor { time: 1_794_464_436, id: 9 }));
    }

    #[test]
    fn amounts_follow_their_currency() {
        let s = |pairs: &[(&str, &str)]| check(&form(pairs), &shanghai(), Lang::En).unwrap().search.amount;
        assert_eq!(s(&[("amount", "100")]), Some(Money::new(10000, Currency::CNY)));
        assert_eq!(s(&[("amount", "1280"), ("currency", "jpy")]), Some(Money::new(1280, Currency::JPY)));
        assert_eq!(errors_of(&[("amount", "12.345")]), ["amount"]);
        assert_eq!(errors_of(&[("amount", "12.5"), ("currency", "JPY")]), ["amount"]);
        // Amounts as a bank SMS writes them (DESIGN.md §8); commas must group thousands.
        assert_eq!(s(&[("amount", "¥1,000")]), Some(Money::new(100_000, Currency::CNY)));
        assert_eq!(errors_of(&[("amount", "12,00")]), ["amount"]);
        assert_eq!(errors_of(&[("amount", "1e3")]), ["amount"]);
        assert_eq!(errors_of(&[("amount", "10"), ("currency", "XAU")]), ["currency"]);
    }

    #[test]
    fn times_are_read_in_the_deployment_zone_unless_they_carry_an_offset() {
        let s = |pairs: &[(&str, &str)]| check(&form(pairs), &shanghai(), Lang::En).unwrap().search;
        assert_eq!(s(&[("from", "2026-11-12 13:20")]).from, Some(ts("2026-11-12T05:20:00Z")));
        assert_eq!(s(&[("from", "2026-11-12T13:20")]).from, Some(ts("2026-11-12T05:20:00Z")));
        assert_eq!(s(&[("from", "2026-11-12 13:20:33")]).from, Some(ts("2026-11-12T05:20:33Z")));
        assert_eq!(s(&[("from", "2026-11-12T05:20:33Z")]).from, Some(ts("2026-11-12T05:20:33Z")));
        // A moment as the upper bound includes its own second.
        assert_eq!(s(&[("to", "2026-11-12 13:20:33")]).until, Some(ts("2026-11-12T05:20:34Z")));
        assert_eq!(s(&[("to", "2026-11-12T13:20:33+08:00")]).until, Some(ts("2026-11-12T05:20:34Z")));
    }

    #[test]
    fn days_follow_daylight_saving_time() {
        let ny = TimeZone::get("America/New_York").unwrap();
        // 2026-03-08 is 23 hours long in New York.
        let asked = check(&form(&[("from", "2026-03-08"), ("to", "2026-03-08")]), &ny, Lang::En).unwrap();
        assert_eq!(asked.search.until.unwrap() - asked.search.from.unwrap(), 23 * 3600);
        assert_eq!(asked.search.from, Some(ts("2026-03-08T05:00:00Z")));
    }

    #[test]
    fn bad_values_are_named_by_field() {
        assert_eq!(errors_of(&[("rrn", "12345")]), ["rrn"]);
        assert_eq!(errors_of(&[("trace_no", "51")]), ["trace_no"]);
        assert_eq!(errors_of(&[("terminal_id", "8836-0045")]), ["terminal_id"]);
        assert_eq!(errors_of(&[("merchant_id", "8288449125902960")]), ["merchant_id"]);
        assert_eq!(errors_of(&[("last4", "201")]), ["last4"]);
        assert_eq!(errors_of(&[("last4", "２０１５")]), ["last4"]);
        assert_eq!(errors_of(&[("kind", "cases")]), ["kind"]);
        for bad in ["yesterday", "2026-13-01", "2026-11-12 25:00", "12/11/2026", "2026-11-12T13", "2026-11-12 13:2"] {
            assert_eq!(errors_of(&[("from", bad)]), ["from"], "{bad:?}");
        }
        assert_eq!(errors_of(&[("from", "2026-11-13"), ("to", "2026-11-12")]), ["to"]);
        assert_eq!(errors_of(&[("from", "2026-11-12 10:00"), ("to", "2026-11-12 09:59")]), ["to"]);
        assert_eq!(errors_of(&[("before", "x")]), ["form"]);
        assert_eq!(errors_of(&[("rrn", "12345"), ("last4", "x"), ("amount", "-1")]), ["rrn", "last4", "amount"]);
    }

    #[test]
    fn a_merchant_id_that_happens_to_pass_luhn_is_still_a_merchant_id() {
        // A sample merchant's real MID; 15 digits that pass the Luhn check (the screen lets it
        // through in this field: `domain::screen`).
        let asked = check(&form(&[("merchant_id", "835883278854443")]), &shanghai(), Lang::En).unwrap();
        assert_eq!(asked.merchant_id.as_deref(), Some("835883278854443"));
    }

    #[test]
    fn links_keep_the_search_and_move_the_cursor() {
        let f = form(&[("kind", "journal"), ("last4", "2015"), ("from", "2026-11-12 13:20"), ("before", "1:2")]);
        assert_eq!(f.query(None), "/records?kind=journal&last4=2015&from=2026-11-12+13%3A20");
        assert_eq!(
            f.query(Some(Cursor { time: 5, id: 6 })),
            "/records?kind=journal&last4=2015&from=2026-11-12+13%3A20&before=5%3A6"
        );
        assert_eq!(SearchForm::default().query(None), "/records");
    }

    #[test]
    fn times_show_their_own_offset_and_the_local_one_when_it_differs() {
        let t: Timestamp = "2026-11-05T09:31:20Z".parse().unwrap();
        assert_eq!(time_text(t, Offset::UTC), "2026-11-05 09:31:20\u{a0}+00:00");
        assert_eq!(time_here(t, Offset::UTC, &shanghai()).as_deref(), Some("2026-11-05 17:31:20\u{a0}+08:00"));
        assert_eq!(time_here(t, jiff::tz::offset(8), &shanghai()), None);
    }

    #[test]
    fn every_word_for_a_record_value_is_in_the_catalog() {
        let keys = [TxnType::Sale, TxnType::Void, TxnType::Refund, TxnType::Reversal]
            .map(txn_type_key)
            .into_iter()
            .chain([TxnStatus::Approved, TxnStatus::Declined, TxnStatus::NoResponse].map(status_key))
            .chain(
                [
                    TerminalEvent::PaperOut,
                    TerminalEvent::PrinterFault,
                    TerminalEvent::CommTimeout,
                    TerminalEvent::PowerLoss,
                ]
                .map(event_key),
            )
            .chain([Direction::Debit, Direction::Credit].map(direction_key))
            .chain(["browse.receipt.yes", "browse.receipt.no", "browse.error.kind", "browse.error.last4"])
            .chain(["browse.error.time", "browse.error.range_reversed", "browse.error.cursor", "browse.cancels"])
            .chain(["browse.amount"]);
        for key in keys {
            assert!(crate::i18n::catalog().contains(key), "{key} is not in the catalog");
        }
    }
}
