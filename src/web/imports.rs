//! The upload page: merchant staff bring their journals, the disputes desk both kinds of file.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::db::import_reports;
use crate::db::records::{self, ImportRow};
use crate::domain::role::Role;
use crate::i18n::Lang;
use crate::import::profile::{DEFAULT, builtin, choose};
use crate::import::report::problem_line;
use crate::import::{ImportReport, ImportRequest, Kind, import_profiled};
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

#[derive(Template, WebTemplate)]
#[template(path = "imports.html")]
pub struct ImportsPage {
    ctx: PageContext,
    may_import_settlement: bool,
    report: Option<ShownReport>,
    /// The report's problems in words.
    problem_lines: Vec<String>,
    imports: Vec<ImportRow>,
    error: Option<&'static str>,
    /// A problem with the chosen profile, in words.
    profile_error: Option<String>,
    /// The profiles to choose from: value, name and what it reads.
    profiles: Vec<ProfileChoice>,
}

/// A report as the page after an upload shows it, kept (as JSON) so that page is a GET: a
/// reload shows the report again and sends nothing (Post/Redirect/Get). Problems are kept in
/// both languages: the reader may switch.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ShownReport {
    pub file_name: String,
    pub accepted: bool,
    pub rows: u64,
    pub inserted: u64,
    pub unchanged: u64,
    pub conflicting: u64,
    pub bad_rows: u64,
    /// The problems in words, one list per language (`Lang::ALL` order).
    pub problems: Vec<Vec<String>>,
    pub conflicts: Vec<ShownConflict>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ShownConflict {
    pub line: u64,
    pub key: String,
}

impl ShownReport {
    fn of(r: &ImportReport) -> ShownReport {
        let problems = Lang::ALL
            .iter()
            .map(|&lang| r.file_problem.iter().chain(&r.problems).map(|p| problem_line(lang, p)).collect::<Vec<_>>())
            .collect();
        ShownReport {
            file_name: r.file_name.clone(),
            accepted: r.accepted,
            rows: r.rows,
            inserted: r.inserted,
            unchanged: r.unchanged,
            conflicting: r.conflicting,
            bad_rows: r.bad_rows,
            problems,
            conflicts: r.conflicts.iter().map(|c| ShownConflict { line: c.line, key: c.key.clone() }).collect(),
        }
    }

    fn problems_in(&self, lang: Lang) -> Vec<String> {
        let i = Lang::ALL.iter().position(|&l| l == lang).unwrap_or(0);
        self.problems.get(i).cloned().unwrap_or_default()
    }
}

pub struct ProfileChoice {
    pub name: String,
    pub label: String,
}

/// Built-in profiles, then those an admin uploaded, each with its kind in words.
async fn profile_choices(state: &AppState, ctx: &PageContext) -> Result<Vec<ProfileChoice>, AppError> {
    let kind_words = |kind: Option<&str>| match kind {
        Some(kind) => ctx.t(&format!("imports.kind.{kind}")).to_owned(),
        None => ctx.t("profiles.kind.both").to_owned(),
    };
    let mut all: Vec<ProfileChoice> = builtin::list()
        .into_iter()
        .map(|p| ProfileChoice {
            name: p.name.to_owned(),
            label: format!("{} ({})", p.name, kind_words(p.kind.map(|k| k.as_str()))),
        })
        .collect();
    for p in crate::db::profiles::list(&state.db).await? {
        let label = format!("{} ({})", p.name, kind_words(Some(&p.kind)));
        all.push(ProfileChoice { name: p.name, label });
    }
    Ok(all)
}

async fn page(
    state: &AppState,
    ctx: PageContext,
    user: &CurrentUser,
    report: Option<ShownReport>,
    error: Option<&'static str>,
) -> Result<ImportsPage, AppError> {
    page_with(state, ctx, user, report, error, None).await
}

async fn page_with(
    state: &AppState,
    ctx: PageContext,
    user: &CurrentUser,
    report: Option<ShownReport>,
    error: Option<&'static str>,
    profile_error: Option<String>,
) -> Result<ImportsPage, AppError> {
    let mine_only = (user.role == Role::Merchant).then_some(user.id);
    let imports = records::recent_imports(&state.db, mine_only, 20).await?;
    let problem_lines = report.as_ref().map(|r| r.problems_in(ctx.lang)).unwrap_or_default();
    let profiles = profile_choices(state, &ctx).await?;
    Ok(ImportsPage {
        may_import_settlement: user.role.is_staff(),
        ctx,
        report,
        problem_lines,
        imports,
        error,
        profile_error,
        profiles,
    })
}

#[derive(serde::Deserialize)]
pub struct ShowQuery {
    /// The import whose report to show (where an upload redirects to).
    #[serde(default)]
    report: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let Some(id) = q.report else { return Ok(page(&state, ctx, &user, None, None).await?.into_response()) };
    // Merchant staff read the reports of their own uploads only, as in the list of imports.
    let (json, _) = import_reports::get(&state.db, id)
        .await?
        .filter(|(_, by)| user.role.is_staff() || *by == Some(user.id))
        .ok_or_else(AppError::not_found)?;
    let report: ShownReport = serde_json::from_str(&json).map_err(anyhow::Error::from)?;
    let status = if report.accepted { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, page(&state, ctx, &user, Some(report), None).await?).into_response())
}

/// The form sends `kind` and `profile` first, then `file`; the file is streamed into the importer
/// as it arrives.
pub async fn upload(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let mut kind = None;
    let mut profile_name = DEFAULT.to_owned();
    let field = loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("kind") => {
                kind = Kind::parse(&field.text().await.unwrap_or_default())
            }
            Ok(Some(field)) if field.name() == Some("profile") => {
                profile_name = field.text().await.unwrap_or_default().chars().take(200).collect()
            }
            Ok(Some(field)) if field.name() == Some("file") => break field,
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return refuse(&state, ctx, &user, "import.error.no_file").await,
        }
    };
    let Some(kind) = kind else { return refuse(&state, ctx, &user, "import.error.kind").await };
    let merchant_scope = match (user.role, kind) {
        (Role::Merchant, Kind::Journal) => Some(user.merchants.clone()),
        (Role::Merchant, Kind::Settlement) => return Err(AppError::forbidden()),
        _ => None,
    };
    let file_name: String = field.file_name().unwrap_or("upload.csv").chars().take(200).collect();
    if file_name.is_empty() {
        return refuse(&state, ctx, &user, "import.error.no_file").await;
    }
    let profile = match choose::by_name(&state.db, &profile_name, &state.config.timezone).await? {
        Ok(profile) => profile,
        Err(e) => {
            let message = e.message(ctx.lang);
            let page = page_with(&state, ctx, &user, None, None, Some(message)).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let request = ImportRequest { kind, file_name, via: "web", user_id: Some(user.id), token_id: None, merchant_scope };

    // The field borrows the request, the importer wants an owned reader: a bounded channel
    // between them keeps memory flat, and both run in this task.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let pump = async move {
        let mut field = field;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if tx.send(Ok(chunk)).await.is_err() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                    break;
                }
            }
        }
    };
    let reader = SyncIoBridge::new(StreamReader::new(tokio_stream::wrappers::ReceiverStream::new(rx)));
    let (_, report) = tokio::join!(pump, import_profiled(&state.db, &request, profile, reader, None));
    let report = report?;
    if report.accepted {
        refresh_cases(&state, &report.imported).await?;
    }
    let shown = ShownReport::of(&report);
    if report.import_id == 0 {
        let status = if report.accepted { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        return Ok((status, page(&state, ctx, &user, Some(shown), None).await?).into_response());
    }
    // Post/Redirect/Get: the report is a page of its own; a reload does not send the file again.
    import_reports::save(&state.db, report.import_id, &serde_json::to_string(&shown).map_err(anyhow::Error::from)?)
        .await?;
    Ok(Redirect::to(&format!("/imports?report={}", report.import_id)).into_response())
}

async fn refuse(
    state: &AppState,
    ctx: PageContext,
    user: &CurrentUser,
    key: &'static str,
) -> Result<Response, AppError> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page(state, ctx, user, None, Some(key)).await?).into_response())
}

/// New records may settle open cases: match them again, resolve those whose money arrived.
pub async fn refresh_cases(state: &AppState, imported: &crate::import::Imported) -> Result<(), AppError> {
    let ctx = state.match_context();
    let done = crate::cases::refresh::after_import(&state.db, &ctx, imported).await?;
    tracing::info!(rematched = done.rematched, resolved = done.resolved, "cases refreshed after import");
    Ok(())
}
