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
