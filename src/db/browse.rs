//! The records browser's searches: journal rows and settlement entries by any mix of filters,
//! newest first, one page at a time.
//!
//! The SQL is assembled from the filters actually given instead of being written once as
//! `($1 IS NULL OR rrn = $1) AND …`: a condition that may switch itself off cannot drive an index
//! (SQLite plans a statement once, before it sees the values; PostgreSQL's generic plans do the
//! same), and every search here must be an index look-up on a table of millions of rows. Each
//! assembled text is still one text for both engines.
//!
//! Pages are cut by a keyset on (time, id), never by OFFSET: the next page starts strictly after
//! the last row shown, so the query costs the same on page 1 and page 10,000, and rows imported
//! meanwhile neither repeat nor hide rows on later pages.

use std::fmt::Write as _;

use super::assemble::{Arg, Sql};
use super::records::{STORED_JOURNAL_COLUMNS, STORED_SETTLEMENT_COLUMNS, StoredJournal, StoredSettlement};
use super::{Db, DbError};
use crate::db::assemble::fetch_assembled;
use crate::domain::codes::code_enum;
use crate::domain::money::Money;

code_enum! {
    /// Which records to search; the spelling is the browser's `kind` parameter.
    pub enum RecordKind {
        Journal = "journal",
        Settlement = "settlement",
    }
}

impl RecordKind {
    fn table(self) -> &'static str {
        match self {
            RecordKind::Journal => "journal_rows",
            RecordKind::Settlement => "settlement_entries",
        }
    }

    /// The instant a row is ordered and filtered by: when the terminal or the host saw it.
    fn time_column(self) -> &'static str {
        match self {
            RecordKind::Journal => "local_time",
            RecordKind::Settlement => "txn_time",
        }
    }

    fn columns(self) -> &'static str {
        match self {
            RecordKind::Journal => STORED_JOURNAL_COLUMNS,
            RecordKind::Settlement => STORED_SETTLEMENT_COLUMNS,
        }
    }
}

/// Where a page starts: strictly older than this (time, id). Written `<unix seconds>:<id>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub time: i64,
    pub id: i64,
}

impl Cursor {
    pub fn parse(text: &str) -> Option<Cursor> {
        let (time, id) = text.split_once(':')?;
        // `str::parse::<i64>` takes a leading '+'; a cursor we wrote never has one.
        let number = |t: &str| if t.starts_with('+') { None } else { t.parse::<i64>().ok() };
        Some(Cursor { time: number(time)?, id: number(id)? })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.time, self.id)
    }
}

/// A validated search. Every `Some` narrows the result; `None` leaves that field open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Search {
    /// The merchants whose records may come back: `None` for every merchant (the disputes desk),
    /// else only these (merchant staff's own, or the one merchant asked for). An empty list
    /// matches nothing.
    pub merchants: Option<Vec<String>>,
    pub rrn: Option<String>,
    pub terminal_id: Option<String>,
    pub trace_no: Option<String>,
    pub last4: Option<String>,
    /// Amount and currency together: 100.00 CNY is not 100.00 USD.
    pub amount: Option<Money>,
    /// Inclusive lower bound, Unix seconds.
    pub from: Option<i64>,
    /// Exclusive upper bound, Unix seconds.
    pub until: Option<i64>,
    pub before: Option<Cursor>,
}

/// One page of results, newest first, and where the next (older) page starts if there is one.
#[derive(Debug)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub older: Option<Cursor>,
}

/// The statement for one page: `limit` rows plus one, to learn whether an older page exists.
fn page_sql(kind: RecordKind, search: &Search, limit: i64) -> (String, Vec<Arg>) {
    let time = kind.time_column();
    let mut q = Sql::default();
    // Callers answer an empty list themselves (it matches nothing).
    if let Some(merchants) = search.merchants.as_deref() {
        q.one_of("merchant_id", merchants);
    }
    for (column, value) in [
        ("rrn", &search.rrn),
        ("terminal_id", &search.terminal_id),
        ("trace_no", &search.trace_no),
        ("card_last4", &search.last4),
    ] {
        if let Some(value) = value {
            let p = q.text(value);
            q.conditions.push(format!("{column} = {p}"));
        }
    }
    if let Some(amount) = search.amount {
        let minor = q.int(amount.minor);
        let currency = q.text(amount.currency.code());
        q.conditions.push(format!("amount_minor = {minor}"));
        q.conditions.push(format!("currency = {currency}"));
    }
    if let Some(from) = search.from {
        let p = q.int(from);
        q.conditions.push(format!("{time} >= {p}"));
    }
    if let Some(until) = search.until {
        let p = q.int(until);
        q.conditions.push(format!("{time} < {p}"));
    }
    if let Some(c) = search.before {
        let t = q.int(c.time);
        let id = q.int(c.id);
        // `time <= t` alone bounds an index range on either engine; the OR then drops the rows
        // of second t already shown (ids ≥ id). Row values `(time, id) < (t, id)` say the same,
        // but not every planner turns them into a range on an index whose prefix is merchant_id.
        q.conditions.push(format!("{time} <= {t}"));
        q.conditions.push(format!("({time} < {t} OR id < {id})"));
    }
    let mut sql = format!("SELECT {} FROM {}{}", kind.columns(), kind.table(), q.where_clause());
    let limit = q.int(limit + 1);
    // With an RRN, terminal or card to look up, that index finds a handful of rows and sorting
    // them is free. Left to itself, SQLite (no statistics gathered) would rather walk a
    // (merchant, time) index in order to skip that sort, reading every row of the merchant.
    // `time + 0` is not the column, so no index can deliver the order and the look-up wins.
    let order = if search.rrn.is_some() || search.terminal_id.is_some() || search.last4.is_some() {
        format!("{time} + 0")
    } else {
        time.to_owned()
    };
    let _ = write!(sql, " ORDER BY {order} DESC, id DESC LIMIT {limit}");
    (sql, q.args)
}

/// A page of journal rows. `limit` is the page size.
pub async fn journal_page(db: &Db, search: &Search, limit: i64) -> Result<Page<StoredJournal>, DbError> {
    if search.merchants.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Page { rows: Vec::new(), older: None });
    }
    let (sql, args) = page_sql(RecordKind::Journal, search, limit);
    let rows: Vec<StoredJournal> = fetch_assembled!(db, &sql, &args)?;
    Ok(cut(rows, limit, |r| Cursor { time: r.local_time, id: r.id }))
}

/// A page of settlement entries. `limit` is the page size.
pub async fn settlement_page(db: &Db, search: &Search, limit: i64) -> Result<Page<StoredSettlement>, DbError> {
    if search.merchants.as_ref().is_some_and(Vec::is_empty) {
        return Ok(Page { rows: Vec::new(), older: None });
    }
    let (sql, args) = page_sql(RecordKind::Settlement, search, limit);
    let rows: Vec<StoredSettlement> = fetch_assembled!(db, &sql, &args)?;
    Ok(cut(rows, limit, |r| Cursor { time: r.txn_time, id: r.id }))
}

/// Keeps `limit` rows; the extra row fetched only says that an older page exists, which starts
/// after the last row kept.
fn cut<T>(mut rows: Vec<T>, limit: i64, cursor: impl Fn(&T) -> Cursor) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(0);
    if rows.len() <= limit {
        return Page { rows, older: None };
    }
    rows.truncate(limit);
    let older = rows.last().map(cursor);
    Page { rows, older }
}

/// The plan the database chooses for a search, one line per step: `EXPLAIN QUERY PLAN` on
/// SQLite, `EXPLAIN` on PostgreSQL. For operators and for the tests that keep searches on their
/// indexes.
///
/// On PostgreSQL, sequential scans, bitmap scans and sorts are discouraged for this one statement:
/// on a small table the planner rightly prefers reading it whole and sorting, which would hide
/// whether an index *could* find the rows, and deliver them in order — and that is what breaks
/// when a condition or an ORDER BY is written so that no index fits it.
pub async fn explain(db: &Db, kind: RecordKind, search: &Search, limit: i64) -> Result<Vec<String>, DbError> {
    let (sql, args) = page_sql(kind, search, limit);
    crate::db::assemble::explain(db, &sql, &args).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    #[test]
    fn record_kind_spellings_are_the_form_ones() {
        let texts: Vec<&str> = RecordKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(texts, ["journal", "settlement"]);
        for kind in RecordKind::ALL {
            assert_eq!(RecordKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(RecordKind::parse("Settlement"), None);
        assert_eq!(RecordKind::parse(""), None);
    }

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let c = Cursor { time: 1_794_133_691, id: 42 };
        assert_eq!(Cursor::parse(&c.to_string()), Some(c));
        assert_eq!(Cursor::parse("-5:3"), Some(Cursor { time: -5, id: 3 }));
        for bad in ["", ":", "1", "1:", ":2", "a:2", "1:b", "1:2:3", "+1:2", "1: 2", "99999999999999999999:1"] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_empty_search_lists_everything_newest_first() {
        let (sql, args) = page_sql(RecordKind::Journal, &Search::default(), 50);
        assert!(sql.ends_with("FROM journal_rows ORDER BY local_time DESC, id DESC LIMIT $1"), "{sql}");
        assert!(matches!(args[..], [Arg::Int(51)]));
    }

    #[test]
    fn only_the_given_filters_appear_numbered_in_order() {
        let search = Search {
            merchants: Some(vec!["A".into(), "B".into()]),
            terminal_id: Some("88360045".into()),
            trace_no: Some("000051".into()),
            amount: Some(Money::new(95482, Currency::CNY)),
            before: Some(Cursor { time: 10, id: 7 }),
            ..Search::default()
        };
        let (sql, args) = page_sql(RecordKind::Settlement, &search, 50);
        assert!(
            sql.contains(
                "WHERE merchant_id IN ($1, $2) AND terminal_id = $3 AND trace_no = $4 AND amount_minor = $5 \
                 AND currency = $6 AND txn_time <= $7 AND (txn_time < $7 OR id < $8) \
                 ORDER BY txn_time + 0 DESC, id DESC LIMIT $9"
            ),
            "{sql}"
        );
        assert_eq!(args.len(), 9);
        assert!(!sql.contains("IS NULL"), "no filter that switches itself off: {sql}");
    }

    #[test]
    fn one_merchant_is_an_equality_listed_in_index_order() {
        let search = Search { merchants: Some(vec!["A".into()]), ..Search::default() };
        let (sql, _) = page_sql(RecordKind::Journal, &search, 50);
        assert!(sql.contains("WHERE merchant_id = $1 ORDER BY local_time DESC"), "{sql}");
    }

    #[test]
    fn the_extra_row_becomes_the_cursor_of_the_older_page() {
        let page = cut(vec![5, 4, 3], 2, |&n| Cursor { time: n, id: n });
        assert_eq!(page.rows, vec![5, 4]);
        assert_eq!(page.older, Some(Cursor { time: 4, id: 4 }));
        let last = cut(vec![5, 4], 2, |&n| Cursor { time: n, id: n });
        assert_eq!((last.rows.len(), last.older), (2, None));
    }
}
