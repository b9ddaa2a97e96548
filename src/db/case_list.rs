//! `GET /api/v1/cases`: the cases a caller may see, newest first, one keyset page at a time.
//!
//! Pages start after an id (`id < cursor`), never at an OFFSET: a page costs the same however
//! deep it is, and cases filed meanwhile do not shift the pages that follow. Only the filters
//! given become conditions (`assemble`), so each search stays on an index: the scope's
//! (`filed_by_token`, `id`) or (`matched_merchant_id`, `id`), a state's (`state`, `id`), else the
//! primary key read backwards (migration 0015).

use super::assemble::{Arg, Sql, fetch_assembled};
use super::cases::{CASE_COLUMNS, CaseRow, StoredCase, typed};
use super::{Db, DbError};

/// Whose cases: the same rule as `domain::access::Viewer::may_see_case`, as SQL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The disputes desk and operators.
    Every,
    /// A bank channel's token: the cases it filed.
    FiledBy(i64),
    /// Merchant staff: the cases resting on these merchants' records (none when empty).
    Merchants(Vec<String>),
}

/// The filters of §9, already checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub state: Option<String>,
    pub kind: Option<String>,
    pub finding: Option<String>,
    pub merchant_id: Option<String>,
    /// Unix seconds: cases changed at or after it.
    pub updated_since: Option<i64>,
    /// Strictly older than this case id.
    pub before_id: Option<i64>,
}

fn page_sql(scope: &Scope, f: &Filters, limit: i64) -> (String, Vec<Arg>) {
    let mut q = Sql::default();
    match scope {
        Scope::Every => {}
        Scope::FiledBy(token) => {
            let p = q.int(*token);
            q.conditions.push(format!("filed_by_token = {p}"));
        }
        Scope::Merchants(ids) => q.one_of("matched_merchant_id", ids),
    }
    for (column, value) in
        [("state", &f.state), ("kind", &f.kind), ("finding", &f.finding), ("matched_merchant_id", &f.merchant_id)]
    {
        if let Some(value) = value {
            let p = q.text(value);
            q.conditions.push(format!("{column} = {p}"));
        }
    }
    if let Some(since) = f.updated_since {
        let p = q.int(since);
        q.conditions.push(format!("updated_at >= {p}"));
    }
    if let Some(before) = f.before_id {
        let p = q.int(before);
        q.conditions.push(format!("id < {p}"));
    }
    let limit = q.int(limit + 1);
    (format!("SELECT {CASE_COLUMNS} FROM cases{} ORDER BY id DESC LIMIT {limit}", q.where_clause()), q.args)
}

/// One page of `limit` cases and the id the next page starts before, if there is one.
pub async fn page(db: &Db, scope: &Scope, f: &Filters, limit: i64) -> Result<(Vec<CaseRow>, Option<i64>), DbError> {
    if matches!(scope, Scope::Merchants(ids) if ids.is_empty()) {
        return Ok((Vec::new(), None));
    }
    let (sql, args) = page_sql(scope, f, limit);
    let rows: Vec<StoredCase> = fetch_assembled!(db, &sql, &args)?;
    let mut cases = typed(rows)?;
    let keep = usize::try_from(limit).unwrap_or(0);
    if cases.len() <= keep {
        return Ok((cases, None));
    }
    cases.truncate(keep);
    let next = cases.last().map(|c| c.id);
    Ok((cases, next))
}

/// The plan the database picks for a page (SQLite's `EXPLAIN QUERY PLAN` details, PostgreSQL's
/// `EXPLAIN` lines with sequential scans and sorts discouraged; see `assemble::explain`), for the
/// tests that keep the list on its indexes.
pub async fn explain(db: &Db, scope: &Scope, f: &Filters, limit: i64) -> Result<Vec<String>, DbError> {
    let (sql, args) = page_sql(scope, f, limit);
    crate::db::assemble::explain(db, &sql, &args).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_scope_and_given_filters_become_conditions() {
        let (sql, args) = page_sql(&Scope::Every, &Filters::default(), 50);
        assert!(sql.ends_with("FROM cases ORDER BY id DESC LIMIT $1"), "{sql}");
        assert_eq!(args.len(), 1);
        let f = Filters { state: Some("resolved".into()), before_id: Some(90), ..Filters::default() };
        let (sql, args) = page_sql(&Scope::FiledBy(7), &f, 10);
        assert!(
            sql.ends_with("WHERE filed_by_token = $1 AND state = $2 AND id < $3 ORDER BY id DESC LIMIT $4"),
            "{sql}"
        );
        assert_eq!(args.len(), 4);
        let (sql, _) = page_sql(&Scope::Merchants(vec!["A".into(), "B".into()]), &Filters::default(), 10);
        assert!(sql.contains("WHERE matched_merchant_id IN ($1, $2)"), "{sql}");
    }
}
