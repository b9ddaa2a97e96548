//! Case lists for the people who work cases: merchant staff's triage queue and the desk's console,
//! soonest deadline first, one page at a time; and the counts behind the desk's dashboard.
//!
//! Pages are cut by a keyset on (deadline, id) — cases without a deadline last — never by
//! OFFSET, for the same reasons as the records browser (`browse`).

use sqlx::FromRow;

use super::assemble::Sql;
use super::{Db, DbError};
use crate::db::assemble::fetch_assembled;
use crate::db::db_read;

/// The states in which someone still has to act.
pub const OPEN_STATES: &[&str] =
    &["submitted", "awaiting_customer", "awaiting_merchant", "under_review", "refund_pending", "reversal_pending"];

/// Sort key of a case without a deadline: after every real one (9999-12-31).
const NO_DEADLINE: i64 = 253_402_300_799;

/// Where a page starts: strictly after this (deadline, id). Written `<unix seconds>:<id>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueCursor {
    pub deadline: i64,
    pub id: i64,
}

impl QueueCursor {
    pub fn parse(text: &str) -> Option<QueueCursor> {
        let (deadline, id) = text.split_once(':')?;
        let number = |t: &str| if t.starts_with('+') { None } else { t.parse::<i64>().ok() };
        Some(QueueCursor { deadline: number(deadline)?, id: number(id)? })
    }
}

impl std::fmt::Display for QueueCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.deadline, self.id)
    }
}

/// Whose desk a case is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assignee {
    Nobody,
    User(i64),
}

/// A checked search. Every `Some` (and a non-empty `states`) narrows the list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueSearch {
    /// `None` for every merchant's cases (the desk); else only cases matched to these
    /// merchants (merchant staff). An empty list matches nothing.
    pub merchants: Option<Vec<String>>,
    /// Empty: every state.
    pub states: Vec<String>,
    pub kind: Option<String>,
    pub finding: Option<String>,
    pub terminal_id: Option<String>,
    pub assignee: Option<Assignee>,
    /// Deadline at or before this instant (overdue: now; due soon: a little later).
    pub due_by: Option<i64>,
    /// Filed at or before this instant (older than some age).
    pub filed_by: Option<i64>,
    pub case_id: Option<i64>,
    pub last4: Option<String>,
    /// A debit the finding rests on has this RRN.
    pub rrn: Option<String>,
    pub after: Option<QueueCursor>,
}

/// One case as a queue shows it: no contact details (merchant staff see these lists too).
#[derive(Clone, Debug, FromRow)]
pub struct QueueRow {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub finding: Option<String>,
    pub card_last4: String,
    pub amount_minor: i64,
    pub currency: String,
    pub matched_merchant_id: Option<String>,
    pub matched_terminal_id: Option<String>,
    pub deadline_at: Option<i64>,
    pub created_at: i64,
    pub assignee_email: Option<String>,
}

#[derive(Debug)]
pub struct QueuePage {
    pub rows: Vec<QueueRow>,
    /// Where the next page starts, if there is one.
    pub next: Option<QueueCursor>,
}

/// More single-value arms than this and a page falls back to one `IN (…)` query.
const MAX_ARMS: usize = 32;

/// The conditions every arm of a page shares (all filters but merchant and state).
fn common_conditions(q: &mut Sql, search: &QueueSearch) {
    for (column, value) in [
        ("c.kind", &search.kind),
        ("c.finding", &search.finding),
        ("c.matched_terminal_id", &search.terminal_id),
        ("c.card_last4", &search.last4),
    ] {
        if let Some(value) = value {
            let p = q.text(value);
            q.conditions.push(format!("{column} = {p}"));
        }
    }
    match search.assignee {
        None => {}
        Some(Assignee::Nobody) => q.conditions.push("c.assigned_to IS NULL".into()),
        Some(Assignee::User(id)) => {
            let p = q.int(id);
            q.conditions.push(format!("c.assigned_to = {p}"));
        }
    }
    if let Some(due) = search.due_by {
        // Every real deadline is below NO_DEADLINE, so this is `deadline_at <= due` on the sort key.
        let p = q.int(due.min(NO_DEADLINE - 1));
        q.conditions.push(format!("c.due_key <= {p}"));
    }
    if let Some(filed) = search.filed_by {
        let p = q.int(filed);
        q.conditions.push(format!("c.created_at <= {p}"));
    }
    if let Some(id) = search.case_id {
        let p = q.int(id);
        q.conditions.push(format!("c.id = {p}"));
    }
    if let Some(rrn) = &search.rrn {
        // Driven from the RRN's few debits (settlement_by_rrn, case_matches_by_settlement), not
        // checked case by case.
        let p = q.text(rrn);
        q.conditions.push(format!(
            "c.id IN (SELECT m.case_id FROM settlement_entries s JOIN case_matches m ON m.settlement_id = s.id
                      WHERE s.rrn = {p})"
        ));
    }
    if let Some(after) = search.after {
        let t = q.int(after.deadline);
        let id = q.int(after.id);
        q.conditions.push(format!("c.due_key >= {t}"));
        q.conditions.push(format!("(c.due_key > {t} OR c.id > {id})"));
    }
}

/// The statement behind a page, sorted by the stored key (`due_key`, id) that an index serves.
///
/// Several merchants or states (`IN` lists) would make each engine read every matching case and
/// sort them: an index on (merchant, state, due_key, id) is in order only within one merchant
/// and state. So each merchant × state pair becomes its own arm that reads one page off its index,
/// and only those few pages are merged and sorted.
fn page_sql(search: &QueueSearch, limit: i64) -> (String, Vec<super::assemble::Arg>) {
    let merchants: Vec<Option<&String>> = match &search.merchants {
        Some(list) => list.iter().map(Some).collect(),
        None => vec![None],
    };
    let states: Vec<Option<&String>> =
        if search.states.is_empty() { vec![None] } else { search.states.iter().map(Some).collect() };
    let arms = merchants.len() * states.len();
    let mut q = Sql::default();
    let columns = "c.id, c.kind, c.state, c.finding, c.card_last4, c.amount_minor, c.currency, c.matched_merchant_id,
                c.matched_terminal_id, c.deadline_at, c.created_at, u.email AS assignee_email";
    if arms <= 1 || arms > MAX_ARMS {
        if let Some(list) = &search.merchants {
            q.one_of("c.matched_merchant_id", list);
        }
        if !search.states.is_empty() {
            q.one_of("c.state", &search.states);
        }
        common_conditions(&mut q, search);
        let limit = q.int(limit + 1);
        let sql = format!(
            "SELECT {columns}
             FROM cases c LEFT JOIN users u ON u.id = c.assigned_to{}
             ORDER BY c.due_key, c.id LIMIT {limit}",
            q.where_clause()
        );
        return (sql, q.args);
    }
    let limit = q.int(limit + 1);
    let mut parts = Vec::with_capacity(arms);
    for merchant in &merchants {
        for state in &states {
            q.conditions.clear();
            if let Some(m) = merchant {
                let p = q.text(m);
                q.conditions.push(format!("c.matched_merchant_id = {p}"));
            }
            if let Some(s) = state {
                let p = q.text(s);
                q.conditions.push(format!("c.state = {p}"));
            }
            common_conditions(&mut q, search);
            parts.push(format!(
                "SELECT * FROM (SELECT c.id, c.due_key FROM cases c{} ORDER BY c.due_key, c.id LIMIT {limit}) a{}",
                q.where_clause(),
                parts.len()
            ));
        }
    }
    let sql = format!(
        "SELECT {columns}
         FROM ({}) p JOIN cases c ON c.id = p.id LEFT JOIN users u ON u.id = c.assigned_to
         ORDER BY p.due_key, p.id LIMIT {limit}",
        parts.join(" UNION ALL ")
    );
    (sql, q.args)
}

/// A page of cases, soonest deadline first. `limit` is the page size.
pub async fn page(db: &Db, search: &QueueSearch, limit: i64) -> Result<QueuePage, DbError> {
    if search.merchants.as_ref().is_some_and(Vec::is_empty) {
        return Ok(QueuePage { rows: Vec::new(), next: None });
    }
    let (sql, args) = page_sql(search, limit);
    let mut rows: Vec<QueueRow> = fetch_assembled!(db, &sql, &args)?;
    let limit = usize::try_from(limit).unwrap_or(0);
    if rows.len() <= limit {
        return Ok(QueuePage { rows, next: None });
    }
    rows.truncate(limit);
    let next = rows.last().map(|r| QueueCursor { deadline: r.deadline_at.unwrap_or(NO_DEADLINE), id: r.id });
    Ok(QueuePage { rows, next })
}

/// The plan behind a page (tests/api/plans.rs checks that no list reads the whole cases table).
pub async fn explain_page(db: &Db, search: &QueueSearch, limit: i64) -> Result<Vec<String>, DbError> {
    let (sql, args) = page_sql(search, limit);
    super::assemble::explain(db, &sql, &args).await
}

/// The distinct terminals of a merchant scope's cases, for the queue's terminal filter. Read from
/// the dashboard's counters (one row per state and terminal), not from the cases.
pub async fn terminals(db: &Db, merchants: Option<&[String]>) -> Result<Vec<String>, DbError> {
    if merchants.is_some_and(<[String]>::is_empty) {
        return Ok(Vec::new());
    }
    let (sql, q) = terminals_sql(merchants);
    let rows: Vec<(String,)> = fetch_assembled!(db, &sql, &q.args)?;
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

fn terminals_sql(merchants: Option<&[String]>) -> (String, Sql) {
    let mut q = Sql::default();
    q.conditions.push("terminal_id <> ''".into());
    q.conditions.push("n > 0".into());
    if let Some(merchants) = merchants {
        q.one_of("merchant_id", merchants);
    }
    let sql = format!("SELECT DISTINCT terminal_id FROM case_counts{} ORDER BY 1 LIMIT 500", q.where_clause());
    (sql, q)
}

/// The plan behind [`terminals`] (tests/api/plans.rs).
pub async fn explain_terminals(db: &Db, merchants: Option<&[String]>) -> Result<Vec<String>, DbError> {
    let (sql, q) = terminals_sql(merchants);
    super::assemble::explain(db, &sql, &q.args).await
}

// ---- the dashboard ----
//
// Read from `case_counts` and `case_due_hours`, which triggers keep in the transaction that
// changes a case (migration 0016): their size follows terminals and hours, not cases.

fn open_states() -> Vec<String> {
    OPEN_STATES.iter().map(|s| s.to_string()).collect()
}

/// Cases per state, every state that has any.
pub async fn count_by_state(db: &Db) -> Result<Vec<(String, i64)>, DbError> {
    Ok(db_read!(db, |c| sqlx::query_as(
        "SELECT state, CAST(SUM(n) AS BIGINT) FROM case_counts GROUP BY state HAVING SUM(n) > 0 ORDER BY state"
    )
    .fetch_all(c)
    .await)?)
}

/// Open cases whose deadline is at or before `by`: whole hours from the counters, and the
/// cases of `by`'s own hour from the (state, due_key) index.
fn due_up_to(q: &mut Sql, open: &str, by: i64) -> String {
    let hour = q.int(by.div_euclid(3600));
    let from = q.int(by.div_euclid(3600) * 3600);
    let to = q.int(by);
    format!(
        "(SELECT COALESCE(SUM(n), 0) FROM case_due_hours WHERE hour < {hour})
         + (SELECT COUNT(*) FROM cases WHERE state IN ({open}) AND due_key >= {from} AND due_key <= {to})"
    )
}

/// Open cases by where they stand against their deadline at `now`: `overdue`, due within a
/// day (`day`), within three days (`three_days`), `later`, or `none`.
pub async fn count_by_deadline(db: &Db, now: i64) -> Result<Vec<(String, i64)>, DbError> {
    let (sql, q) = deadline_sql(now);
    let rows: Vec<(i64, i64, i64, i64, i64)> = fetch_assembled!(db, &sql, &q.args)?;
    let (open_total, with_deadline, overdue, day, three_days) = rows.first().copied().unwrap_or_default();
    Ok(vec![
        ("overdue".into(), overdue),
        ("day".into(), day - overdue),
        ("three_days".into(), three_days - day),
        ("later".into(), with_deadline - three_days),
        ("none".into(), open_total - with_deadline),
    ])
}

/// The plan behind the dashboard's deadline counts (tests/api/plans.rs).
pub async fn explain_deadline_counts(db: &Db, now: i64) -> Result<Vec<String>, DbError> {
    let (sql, q) = deadline_sql(now);
    super::assemble::explain(db, &sql, &q.args).await
}

/// Open cases in total, with a deadline, and with one by now, a day and three days from now.
fn deadline_sql(now: i64) -> (String, Sql) {
    let mut q = Sql::default();
    let open = open_states().iter().map(|s| q.text(s)).collect::<Vec<_>>().join(", ");
    let marks = [now, now + 86_400, now + 3 * 86_400].map(|by| due_up_to(&mut q, &open, by));
    let sql = format!(
        "SELECT CAST((SELECT COALESCE(SUM(n), 0) FROM case_counts WHERE state IN ({open})) AS BIGINT),
                CAST((SELECT COALESCE(SUM(n), 0) FROM case_due_hours) AS BIGINT),
                CAST({} AS BIGINT), CAST({} AS BIGINT), CAST({} AS BIGINT)",
        marks[0], marks[1], marks[2]
    );
    (sql, q)
}

/// The merchants with the most open cases: (merchant id, name zh, name en, count).
pub async fn top_merchants(db: &Db, limit: i64) -> Result<Vec<(String, String, String, i64)>, DbError> {
    let mut q = Sql::default();
    q.one_of("k.state", &open_states());
    q.conditions.push("k.merchant_id <> ''".into());
    let limit = q.int(limit);
    // Summed by merchant first, then named: only the few merchants shown are joined.
    let sql = format!(
        "SELECT k.merchant_id, COALESCE(m.name_zh, ''), COALESCE(m.name_en, ''), k.n
         FROM (SELECT k.merchant_id, CAST(SUM(k.n) AS BIGINT) AS n FROM case_counts k{}
               GROUP BY k.merchant_id HAVING SUM(k.n) > 0 ORDER BY 2 DESC, 1 LIMIT {limit}) k
         LEFT JOIN merchants m ON m.merchant_id = k.merchant_id
         ORDER BY 4 DESC, 1",
        q.where_clause()
    );
    Ok(fetch_assembled!(db, &sql, &q.args)?)
}

/// The terminals with the most open cases: (merchant id, terminal id, count).
pub async fn top_terminals(db: &Db, limit: i64) -> Result<Vec<(String, String, i64)>, DbError> {
    let mut q = Sql::default();
    q.one_of("state", &open_states());
    q.conditions.push("terminal_id <> ''".into());
    let limit = q.int(limit);
    let sql = format!(
        "SELECT merchant_id, terminal_id, CAST(SUM(n) AS BIGINT) FROM case_counts{}
         GROUP BY merchant_id, terminal_id HAVING SUM(n) > 0 ORDER BY 3 DESC, 2 LIMIT {limit}",
        q.where_clause()
    );
    Ok(fetch_assembled!(db, &sql, &q.args)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let c = QueueCursor { deadline: 1_790_000_000, id: 42 };
        assert_eq!(QueueCursor::parse(&c.to_string()), Some(c));
        for junk in ["", "1", "a:b", "+1:2", "1:+2", "1:2:3"] {
            assert_eq!(QueueCursor::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn only_given_filters_become_conditions() {
        let (sql, args) = page_sql(&QueueSearch::default(), 50);
        assert!(!sql.contains("WHERE"), "{sql}");
        assert_eq!(args.len(), 1, "the limit alone");
        let search = QueueSearch {
            merchants: Some(vec!["M1".into()]),
            states: vec!["awaiting_merchant".into()],
            rrn: Some("000000000001".into()),
            after: Some(QueueCursor { deadline: 5, id: 7 }),
            ..QueueSearch::default()
        };
        let (sql, args) = page_sql(&search, 50);
        assert!(sql.contains("c.matched_merchant_id = $1"), "{sql}");
        assert!(sql.contains("c.state = $2"), "{sql}");
        assert!(sql.contains("s.rrn = $3"), "{sql}");
        assert!(sql.contains("OR c.id > $5"), "{sql}");
        assert_eq!(args.len(), 6);
        assert!(!sql.contains("COALESCE"), "sorted by the stored key an index serves: {sql}");
    }

    #[test]
    fn several_merchants_or_states_become_one_arm_each() {
        let search = QueueSearch {
            merchants: Some(vec!["M1".into(), "M2".into()]),
            states: vec!["awaiting_merchant".into(), "under_review".into(), "submitted".into()],
            kind: Some("no_receipt".into()),
            ..QueueSearch::default()
        };
        let (sql, args) = page_sql(&search, 50);
        assert_eq!(sql.matches("UNION ALL").count(), 5, "{sql}");
        assert!(!sql.contains(" IN ("), "{sql}");
        // The shared limit, then merchant, state and kind for each of the six arms.
        assert_eq!(args.len(), 1 + 6 * 3);
    }
}
