//! Getting terminal journals and settlement files into the system.
//!
//! One code path for the command line, the upload page and the API: [`import`] takes any byte
//! stream, parses it on a blocking thread (so memory stays flat whatever the file's size) and
//! inserts the rows inside one transaction: in batches on SQLite, through `COPY` into a stage and
//! one set-based insert on PostgreSQL (`db::copy`). A file with any bad row lands nothing;
//! rows already present with the same content are "unchanged", with other content "conflicts"
//! (reported, never overwritten).

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::db::copy::{self, Stage, Staged};
use crate::db::records::{self, BATCH_ROWS, ImportRecord};
use crate::db::{Backend, Db, DbError, Tx};
use crate::domain::codes::code_enum;
use crate::domain::records::{JournalRow, SettlementEntry};
pub use imported::Imported;
use parse::{FileError, JournalReader, RowError, SettlementReader};
use profile::Profile;
use profile::originals::{self, PendingQueue};
use profile::reader::ProfileReader;

pub mod cli;
pub mod generate;
pub mod imported;
pub mod parse;
pub mod profile;
pub mod report;

code_enum! {
    /// Which kind of file is imported; the spelling is the CLI argument, the upload form's
    /// value, the import's stored kind and the report's `kind`.
    pub enum Kind {
        Journal = "journal",
        Settlement = "settlement",
    }
}

/// Who imports, how, and within which merchants.
#[derive(Clone, Debug)]
pub struct ImportRequest {
    pub kind: Kind,
    pub file_name: String,
    /// `cli`, `web` or `api`.
    pub via: &'static str,
    pub user_id: Option<i64>,
    pub token_id: Option<i64>,
    /// The merchants whose rows this importer may bring in; `None` for all.
    pub merchant_scope: Option<Vec<String>>,
}

/// One problem, by line and column, as a stable code with its arguments.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Problem {
    pub line: u64,
    pub column: Option<&'static str>,
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Conflict {
    pub line: u64,
    /// The record's key, e.g. `851424736185314/55024556/000001/000996` or an entry id.
    pub key: String,
}

/// What happened to a file. `accepted` is false when anything was wrong with it; then nothing landed.
#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub import_id: i64,
    pub kind: Kind,
    pub file_name: String,
    /// The import profile the file was read with (§3.4); `None` for `redress-csv`.
    pub profile: Option<String>,
    pub sha256: String,
    pub accepted: bool,
    pub rows: u64,
    pub inserted: u64,
    pub unchanged: u64,
    pub conflicting: u64,
    pub bad_rows: u64,
    /// A problem with the file as a whole (header, encoding, a full card number).
    pub file_problem: Option<Problem>,
    /// Problems of individual rows, in file order (at most [`MAX_REPORTED`]).
    pub problems: Vec<Problem>,
    pub conflicts: Vec<Conflict>,
    /// The keys of the rows this import added, for the follow-up on open cases.
    #[serde(skip)]
    pub imported: Imported,
}

/// A report lists this many problems and conflicts at most; the counts stay exact.
pub const MAX_REPORTED: usize = 10_000;

/// Row code for a merchant user importing another merchant's rows.
pub const NOT_YOUR_MERCHANT: &str = "merchant_not_yours";

/// The parts of a record the importer needs, for both record kinds.
trait ImportRow: Clone + PartialEq + Send + Sync + Staged + 'static {
    fn merchant_id(&self) -> &str;
    fn key_text(&self) -> String;
    fn rows(reader: Box<dyn Read + Send>) -> Result<Box<dyn Iterator<Item = parse::Item<Self>> + Send>, FileError>;
    /// The rows of a file read through an import profile (§3.4) of this kind; credits whose
    /// original the reader cannot link wait in `pending` for [`ImportRow::resolve_pending`].
    fn profiled(
        profile: Arc<Profile>,
        reader: Box<dyn Read + Send>,
        pending: PendingQueue,
    ) -> Result<Box<dyn Iterator<Item = parse::Item<Self>> + Send>, FileError>;
    /// Completes the pending rows of `batch` (good rows up to line `last`) from the database;
    /// returns the problems of those it cannot, which leave the batch.
    fn resolve_pending(
        tx: &mut Tx,
        pending: &PendingQueue,
        last: u64,
        batch: &mut Vec<(u64, Self)>,
        check: bool,
    ) -> impl Future<Output = Result<Vec<(u64, crate::domain::records::FieldError)>, DbError>> + Send;
    fn insert_sql(rows: usize, backend: Backend) -> records::InsertSql;
    fn insert(
        tx: &mut Tx,
        sql: &records::InsertSql,
        rows: &[Self],
        import_id: i64,
    ) -> impl Future<Output = Result<Vec<bool>, DbError>> + Send;
    fn stored(&self, tx: &mut Tx) -> impl Future<Output = Result<Option<Self>, DbError>> + Send;
    /// Adds this new row's keys to what the import brought in.
    fn note(&self, imported: &mut Imported);
}

impl ImportRow for JournalRow {
    fn merchant_id(&self) -> &str {
        &self.merchant_id
    }
    fn key_text(&self) -> String {
        format!("{}/{}/{}/{}", self.merchant_id, self.terminal_id, self.batch_no, self.trace_no)
    }
    fn rows(reader: Box<dyn Read + Send>) -> Result<Box<dyn Iterator<Item = parse::Item<Self>> + Send>, FileError> {
        Ok(Box::new(JournalReader::new(reader)?))
    }
    fn profiled(
        profile: Arc<Profile>,
        reader: Box<dyn Read + Send>,
        _pending: PendingQueue,
    ) -> Result<Box<dyn Iterator<Item = parse::Item<Self>> + Send>, FileError> {
        Ok(Box::new(ProfileReader::<_, Self>::new(profile, reader)?))
    }
    async fn resolve_pending(
        _tx: &mut Tx,
        _pending: &PendingQueue,
        _last: u64,
        _batch: &mut Vec<(u64, Self)>,
        _check: bool,
    ) -> Result<Vec<(u64, crate::domain::records::FieldError)>, DbError> {
        Ok(Vec::new())
    }
    fn insert_sql(rows: usize, backend: Backend) -> records::InsertSql {
        records::journal_insert(rows, backend)
    }
    async fn insert(
        tx: &mut Tx,
        sql: &records::InsertSql,
        rows: &[Self],
        import_id: i64,
    ) -> Result<Vec<bool>, DbError> {
        records::insert_journal_batch(tx, sql, rows, import_id).await
    }
    async fn stored(&self, tx: &mut Tx) -> Result<Option<Self>, DbError> {
        records::journal_by_key(tx, self.key()).await
    }
    fn note(&self, imported: &mut Imported) {
        imported.add_journal(self);
    }
}

impl ImportRow for SettlementEntry {
    fn merchant_id(&self) -> &str {
        &self.merchant_id
    }
    fn key_text(&self) -> String {
        self.entry_id.clone()
    }
    fn rows(reader: Box<dyn Read + Send>) -> Result<Box<dyn Iterator<Item = parse::Item<Self>> + Send>, FileError> {
        Ok(Box::new(SettlementReader::new(reader)?))
    }
    fn profiled(
        profile: Arc<Profile>,
        reader: Box<dyn Read + Send>,
        pending: PendingQueue,
    ) -> Result<Box<dyn Iterator<Item = parse::Item<Self>> + Send>, FileError> {
        Ok(Box::new(ProfileReader::<_, Self>::new(profile, reader)?.with_pending(pending)))
    }
    async fn resolve_pending(
        tx: &mut Tx,
        pending: &PendingQueue,
        last: u64,
        batch: &mut Vec<(u64, Self)>,
        check: bool,
    ) -> Result<Vec<(u64, crate::domain::records::FieldError)>, DbError> {
        originals::resolve(tx, pending, last, batch, check).await
    }
    fn insert_sql(rows: usize, backend: Backend) -> records::InsertSql {
        records::settlement_insert(rows, backend)
    }
    async fn insert(
        tx: &mut Tx,
        sql: &records::InsertSql,
        rows: &[Self],
        import_id: i64,
    ) -> Result<Vec<bool>, DbError> {
        records::insert_settlement_batch(tx, sql, rows, import_id).await
    }
    async fn stored(&self, tx: &mut Tx) -> Result<Option<Self>, DbError> {
        records::settlement_by_entry_id(tx, &self.entry_id).await
    }
    fn note(&self, imported: &mut Imported) {
        imported.add_settlement(self);
    }
}

/// What the parsing thread sends: batches of good rows, bad rows, and the end.
enum Parsed<T> {
    Rows(Vec<(u64, T)>),
    Bad(RowError),
    FileBad(FileError),
    /// The number of data rows and the file's SHA-256.
    End(u64, String),
}

/// Counts and hashes the bytes as they are read. The hasher is shared because the reader itself
/// disappears into the CSV parser; it is locked once per buffer (kilobytes), not per byte.
struct Tap<R> {
    inner: R,
    hash: Arc<Mutex<Sha256>>,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.lock().expect("hasher lock").update(&buf[..n]);
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Imports one file. `bytes_read` (if given) follows the progress for a progress bar.
pub async fn import(
    db: &Db,
    request: &ImportRequest,
    reader: impl Read + Send + 'static,
    bytes_read: Option<Arc<AtomicU64>>,
) -> Result<ImportReport, DbError> {
    import_profiled(db, request, None, reader, bytes_read).await
}

/// Imports one file read through an import profile (§3.4); `None` is `redress-csv`. The
/// profile's name is kept with the import.
pub async fn import_profiled(
    db: &Db,
    request: &ImportRequest,
    profile: Option<Arc<Profile>>,
    reader: impl Read + Send + 'static,
    bytes_read: Option<Arc<AtomicU64>>,
) -> Result<ImportReport, DbError> {
    let started = std::time::Instant::now();
    let report = match request.kind {
        Kind::Journal => run::<JournalRow>(db, request, profile, Box::new(reader), bytes_read).await,
        Kind::Settlement => run::<SettlementEntry>(db, request, profile, Box::new(reader), bytes_read).await,
    }?;
    crate::metrics::import(&report, started.elapsed());
    Ok(report)
}

fn problem(line: u64, e: &crate::domain::records::FieldError) -> Problem {
    Problem { line, column: e.column, code: e.code(), args: e.args() }
}

async fn run<T: ImportRow>(
    db: &Db,
    request: &ImportRequest,
    profile: Option<Arc<Profile>>,
    reader: Box<dyn Read + Send>,
    bytes_read: Option<Arc<AtomicU64>>,
) -> Result<ImportReport, DbError> {
    // Four batches in flight: parsing and inserting overlap without the parser running ahead.
    let (tx_rows, mut rx_rows) = mpsc::channel::<Parsed<T>>(4);
    let bytes = bytes_read.unwrap_or_default();
    let profile_name = profile.as_ref().map(|p| p.name.clone());
    let wrong_kind = profile.as_ref().map(|p| p.kind).filter(|k| *k != request.kind);
    let pending = PendingQueue::default();
    let reader_pending = pending.clone();
    // Credits that name their sale by trace and time are looked up while the rows go in, which
    // a connection in the middle of a COPY cannot do (and this file's earlier rows would still
    // be in the stage): such files take the batches on PostgreSQL too.
    let looks_up = profile.as_ref().is_some_and(|p| p.links_originals());
    let parser = tokio::task::spawn_blocking(move || {
        let hash = Arc::new(Mutex::new(Sha256::new()));
        let tap = Tap { inner: reader, hash: hash.clone(), bytes };
        let rows = match (wrong_kind, profile) {
            (Some(kind), _) => Err(FileError::ProfileKind { profile_kind: kind.as_str() }),
            (None, Some(profile)) => T::profiled(profile, Box::new(tap), reader_pending),
            (None, None) => T::rows(Box::new(tap)),
        };
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                let _ = tx_rows.blocking_send(Parsed::FileBad(e));
                return;
            }
        };
        let mut count = 0;
        let mut batch = Vec::with_capacity(BATCH_ROWS);
        for item in rows {
            count += 1;
            match item {
                Ok((line, row)) => {
                    batch.push((line, row));
                    if batch.len() == BATCH_ROWS {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
                        if tx_rows.blocking_send(Parsed::Rows(full)).is_err() {
                            return;
                        }
                    }
                }
                Err(bad) => {
                    // After a file-rejecting row nothing else matters, and the rest is not read.
                    let stop = bad.rejects_file();
                    if tx_rows.blocking_send(Parsed::Bad(bad)).is_err() || stop {
                        return;
                    }
                }
            }
        }
        if !batch.is_empty() && tx_rows.blocking_send(Parsed::Rows(batch)).is_err() {
            return;
        }
        let digest = hex::encode(std::mem::take(&mut *hash.lock().expect("hasher lock")).finalize());
        let _ = tx_rows.blocking_send(Parsed::End(count, digest));
    });

    let mut report = ImportReport {
        import_id: 0,
        kind: request.kind,
        file_name: request.file_name.clone(),
        profile: profile_name.clone(),
        sha256: String::new(),
        accepted: false,
        rows: 0,
        inserted: 0,
        unchanged: 0,
        conflicting: 0,
        bad_rows: 0,
        file_problem: None,
        problems: Vec::new(),
        conflicts: Vec::new(),
        imported: Imported::default(),
    };
    let mut tx = db.begin().await?;
    let import_id = records::begin_import(
        &mut tx,
        request.kind.as_str(),
        &request.file_name,
        request.via,
        request.user_id,
        request.token_id,
    )
    .await?;
    let backend = db.backend();
    let mut sink = match backend {
        Backend::Postgres if !looks_up => {
            Sink::Copy { stage: Stage::begin::<T>(&mut tx).await?, staged: 0, candidates: Imported::default() }
        }
        _ => Sink::Batches { tx: &mut tx, full_sql: T::insert_sql(BATCH_ROWS, backend), backend },
    };
    let mut ended = false;

    while let Some(message) = rx_rows.recv().await {
        match message {
            Parsed::Rows(mut batch) => {
                let last = batch.last().map_or(0, |(line, _)| *line);
                if let Some(scope) = &request.merchant_scope {
                    batch.retain(|(line, row)| {
                        let ours = scope.iter().any(|m| m == row.merchant_id());
                        if !ours {
                            report.bad_rows += 1;
                            push_limited(
                                &mut report.problems,
                                Problem {
                                    line: *line,
                                    column: Some("merchant_id"),
                                    code: NOT_YOUR_MERCHANT,
                                    args: vec![("merchant_id", row.merchant_id().to_owned())],
                                },
                            );
                        }
                        ours
                    });
                }
                // Credits whose sale the profile reader could not find in the file (§3.4).
                let check = report.bad_rows == 0 && report.file_problem.is_none();
                match sink.tx() {
                    Some(tx) => {
                        for (line, p) in T::resolve_pending(tx, &pending, last, &mut batch, check).await? {
                            report.bad_rows += 1;
                            push_limited(&mut report.problems, problem(line, &p));
                        }
                    }
                    // Only a reader of a profile that `links_originals` queues credits, and such
                    // files take the batches: a credit here would be stored without its sale.
                    None => assert!(pending.lock().expect("pending lock").is_empty(), "pending credits on COPY"),
                }
                let (lines, rows): (Vec<u64>, Vec<T>) = batch.into_iter().unzip();
                sink.rows(&mut report, &lines, &rows, import_id).await?;
            }
            Parsed::Bad(bad) => {
                report.bad_rows += 1;
                if bad.rejects_file() {
                    // A full card number or unreadable bytes: the file is refused as a whole.
                    report.file_problem = bad.file_problem().map(|p| problem(bad.line, p));
                } else {
                    for p in &bad.problems {
                        push_limited(&mut report.problems, problem(bad.line, p));
                    }
                }
            }
            Parsed::FileBad(e) => {
                report.file_problem = Some(Problem { line: 1, column: None, code: e.code(), args: e.args() });
            }
            Parsed::End(rows, digest) => {
                report.rows = rows;
                report.sha256 = digest;
                ended = true;
            }
        }
    }
    parser.await.map_err(|e| DbError::Sqlx(sqlx::Error::Io(std::io::Error::other(e))))?;
    if !ended && report.file_problem.is_none() {
        report.file_problem = Some(Problem { line: 0, column: None, code: "file_read_failed", args: Vec::new() });
    }

    report.accepted = report.file_problem.is_none() && report.bad_rows == 0;
    // A statement of its own, so that nothing holding the transaction outlives it.
    let to_settle = match sink.into_stage() {
        Some((stage, staged, candidates)) if report.accepted => {
            stage.finish().await?;
            Some((staged, candidates))
        }
        Some((stage, ..)) => {
            stage.abort().await?;
            None
        }
        None => None,
    };
    if let Some((staged, candidates)) = to_settle {
        settle_staged::<T>(&mut tx, &mut report, staged, candidates, import_id).await?;
    }
    let record = ImportRecord {
        kind: request.kind.as_str(),
        file_name: &request.file_name,
        sha256: &report.sha256,
        via: request.via,
        user_id: request.user_id,
        token_id: request.token_id,
        accepted: report.accepted,
        row_count: report.rows as i64,
        inserted: report.inserted as i64,
        unchanged: report.unchanged as i64,
        conflicting: report.conflicting as i64,
        bad_rows: report.bad_rows as i64,
    };
    if report.accepted {
        records::finish_import(&mut tx, import_id, &record).await?;
        if let Some(name) = &profile_name {
            crate::db::profiles::set_import_profile(&mut tx, import_id, name).await?;
        }
        tx.commit().await?;
        report.import_id = import_id;
    } else {
        drop(tx); // rolls back every row of this file
        // Nothing landed, so nothing is unchanged or in conflict either: the same report from
        // the batches (which counted some before the bad row) and from COPY (which counts none).
        report.inserted = 0;
        report.unchanged = 0;
        report.conflicting = 0;
        report.conflicts.clear();
        report.imported = Imported::default();
        report.import_id = records::log_rejected_import(db, &record).await?;
        if let Some(name) = &profile_name {
            let mut tx = db.begin().await?;
            crate::db::profiles::set_import_profile(&mut tx, report.import_id, name).await?;
            tx.commit().await?;
        }
    }
    Ok(report)
}

/// Where the rows of a file go as they are parsed.
enum Sink<'t> {
    /// Multi-row INSERTs of [`BATCH_ROWS`] rows (SQLite).
    Batches { tx: &'t mut Tx, full_sql: records::InsertSql, backend: Backend },
    /// One `COPY` stream into a stage table, settled once the file has been read (PostgreSQL).
    /// `candidates` are the keys of every staged row: what the import brought in if all were new.
    Copy { stage: Stage<'t>, staged: u64, candidates: Imported },
}

impl<'t> Sink<'t> {
    /// The transaction, for look-ups between batches; `None` while a `COPY` holds it.
    fn tx(&mut self) -> Option<&mut Tx> {
        match self {
            Sink::Batches { tx, .. } => Some(&mut **tx),
            Sink::Copy { .. } => None,
        }
    }

    /// The stage of a `COPY` sink, ending the sink's hold on the transaction otherwise.
    fn into_stage(self) -> Option<(Stage<'t>, u64, Imported)> {
        match self {
            Sink::Batches { .. } => None,
            Sink::Copy { stage, staged, candidates } => Some((stage, staged, candidates)),
        }
    }

    async fn rows<T: ImportRow>(
        &mut self,
        report: &mut ImportReport,
        lines: &[u64],
        rows: &[T],
        import_id: i64,
    ) -> Result<(), DbError> {
        match self {
            Sink::Batches { tx, full_sql, backend } => {
                insert_rows(tx, report, (&*full_sql, *backend), lines, rows, import_id).await
            }
            Sink::Copy { stage, staged, candidates } => {
                if rows.is_empty() || report.bad_rows > 0 || report.file_problem.is_some() {
                    return Ok(());
                }
                stage.push(lines, rows).await?;
                *staged += rows.len() as u64;
                for row in rows {
                    if candidates.everything {
                        break;
                    }
                    row.note(candidates);
                }
                Ok(())
            }
        }
    }
}

/// Moves the staged rows of an accepted file into the records table and counts them as
/// [`insert_rows`] does.
async fn settle_staged<T: ImportRow>(
    tx: &mut Tx,
    report: &mut ImportReport,
    staged: u64,
    candidates: Imported,
    import_id: i64,
) -> Result<(), DbError> {
    let settled = copy::settle::<T>(tx, import_id, staged, MAX_REPORTED).await?;
    report.inserted = settled.inserted;
    report.conflicting = settled.conflicting;
    report.unchanged = staged - settled.inserted - settled.conflicting;
    report.conflicts = settled.conflicts.into_iter().map(|(line, key)| Conflict { line, key }).collect();
    report.imported = if settled.inserted == staged {
        candidates
    } else if settled.inserted == 0 {
        Imported::default()
    } else {
        // Some rows were new and some not: only the stored rows tell which.
        let mut imported = Imported::default();
        T::new_rows(tx, import_id, |row| {
            row.note(&mut imported);
            !imported.everything
        })
        .await?;
        imported
    };
    Ok(())
}

fn push_limited<T>(list: &mut Vec<T>, item: T) {
    if list.len() < MAX_REPORTED {
        list.push(item);
    }
}

/// Inserts a batch (unless the file is already known to be bad: then only parsing goes on, to
/// report every bad row) and sorts the rows that were not new into unchanged and conflicting.
async fn insert_rows<T: ImportRow>(
    tx: &mut Tx,
    report: &mut ImportReport,
    (full_sql, backend): (&records::InsertSql, Backend),
    lines: &[u64],
    rows: &[T],
    import_id: i64,
) -> Result<(), DbError> {
    if rows.is_empty() || report.bad_rows > 0 || report.file_problem.is_some() {
        return Ok(());
    }
    let sql_owned;
    let sql = if rows.len() == BATCH_ROWS {
        full_sql
    } else {
        sql_owned = T::insert_sql(rows.len(), backend);
        &sql_owned
    };
    let inserted = T::insert(tx, sql, rows, import_id).await?;
    for ((row, line), new) in rows.iter().zip(lines).zip(inserted) {
        if new {
            report.inserted += 1;
            row.note(&mut report.imported);
        } else if row.stored(tx).await?.as_ref() == Some(row) {
            report.unchanged += 1;
        } else {
            report.conflicting += 1;
            push_limited(&mut report.conflicts, Conflict { line: *line, key: row.key_text() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Kind;

    #[test]
    fn kind_spellings_are_the_cli_and_report_ones() {
        let texts: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(texts, ["journal", "settlement"]);
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(Kind::parse("Journal"), None);
    }
}
