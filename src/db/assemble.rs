//! SQL assembled from the filters a search actually gives, for the searches that must stay index
//! look-ups whatever mix of fields is filled in (see `browse` for why `($1 IS NULL OR …)` won't do).
//! Each assembled text is still one text for both engines.

pub(crate) enum Arg {
    Text(String),
    Int(i64),
}

/// The conditions of a statement and their arguments, numbered `$1…` in the order added.
#[derive(Default)]
pub(crate) struct Sql {
    pub conditions: Vec<String>,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    pub fn text(&mut self, value: &str) -> String {
        self.arg(Arg::Text(value.to_owned()))
    }

    pub fn int(&mut self, value: i64) -> String {
        self.arg(Arg::Int(value))
    }

    /// `column IN ($n, …)`, or `column = $n` for one value, so the plan is the plain look-up.
    pub fn one_of(&mut self, column: &str, values: &[String]) {
        let list: Vec<String> = values.iter().map(|v| self.text(v)).collect();
        let condition = match list.as_slice() {
            [one] => format!("{column} = {one}"),
            many => format!("{column} IN ({})", many.join(", ")),
        };
        self.conditions.push(condition);
    }

    /// ` WHERE a AND b …`, or nothing without conditions.
    pub fn where_clause(&self) -> String {
        if self.conditions.is_empty() { String::new() } else { format!(" WHERE {}", self.conditions.join(" AND ")) }
    }
}

/// Binds the arguments in order; a macro because the query's type differs per backend.
macro_rules! bind_assembled {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args {
            q = match arg {
                $crate::db::assemble::Arg::Text(s) => q.bind(s.as_str()),
                $crate::db::assemble::Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}

/// Fetches every row of an assembled statement on whichever backend `db` is.
macro_rules! fetch_assembled {
    ($db:expr, $sql:expr, $args:expr) => {
        $crate::db::db_read!($db, |c| $crate::db::assemble::bind_assembled!(sqlx::query_as($sql), $args)
            .fetch_all(c)
            .await)
    };
}
pub(crate) use {bind_assembled, fetch_assembled};

/// The engine's plan for an assembled statement, one line per step (EXPLAIN QUERY PLAN's details
/// on SQLite, EXPLAIN's lines on PostgreSQL). PostgreSQL is told to avoid sequential scans and
/// sorts (and bitmap scans, which hide the order an index gives), so either appears only where no index can spare it, whatever the table's size: the plan
/// tests then need no million rows to mean something. Nothing is executed.
pub(crate) async fn explain(db: &super::Db, sql: &str, args: &[Arg]) -> Result<Vec<String>, super::DbError> {
    let mut tx = db.begin().await?;
    let sqlite_sql = format!("EXPLAIN QUERY PLAN {sql}");
    let pg_sql = format!("EXPLAIN {sql}");
    let lines = match &mut tx {
        super::Tx::Sqlite(t) => {
            let rows: Vec<(i64, i64, i64, String)> =
                bind_assembled!(sqlx::query_as(&sqlite_sql), args).fetch_all(&mut **t).await?;
            rows.into_iter().map(|(_, _, _, detail)| detail).collect()
        }
        super::Tx::Postgres(t) => {
            for setting in ["enable_seqscan", "enable_bitmapscan", "enable_sort"] {
                sqlx::query(&format!("SET LOCAL {setting} = off")).execute(&mut **t).await?;
            }
            let rows: Vec<(String,)> = bind_assembled!(sqlx::query_as(&pg_sql), args).fetch_all(&mut **t).await?;
            rows.into_iter().map(|(line,)| line).collect()
        }
    };
    drop(tx); // rolls back the SET LOCAL
    Ok(lines)
}
