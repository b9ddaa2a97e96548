//! The forms on a case page that move the case: one POST per action, checked, applied by
//! `cases::act`, then back to the case page (303) or the page again with what went wrong.

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::forms::ActForm;
use super::page::{self as case_page, Feedback, may_see};
use crate::cases::act::{self, ActError, NewClaim, Step, Who, remedy_needs_stated_amount};
use crate::db::cases;
use crate::domain::case_input::{CaseFacts, check};
use crate::domain::case_state::{ActionKind, Actor};
use crate::web::forms::FieldErrors;
use crate::web::screen::Refused;
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

fn bad_request() -> AppError {
    AppError::new(axum::http::StatusCode::BAD_REQUEST, "bad_request", "error.http.bad_request")
}

pub async fn act(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Path((id, action)): Path<(i64, String)>,
    refused: Refused,
    axum::Form(form): axum::Form<ActForm>,
) -> Result<Response, AppError> {
    let case = cases::get(&state.db, id).await?.filter(|c| may_see(&user, c)).ok_or_else(AppError::not_found)?;
    let kind = ActionKind::parse(&action).ok_or_else(AppError::not_found)?;
    let version: i64 = form.version.trim().parse().map_err(|_| bad_request())?;
    let currency = case.currency;
    let choices = cases::matched_ids(&state.db, id).await?;
    let facts = CaseFacts { currency, debit_minor: case.amount_minor };

    let mut errors = FieldErrors::default();
    let input = match check(kind, &form.action, facts, remedy_needs_stated_amount(&case), &choices) {
        Ok(input) => Some(input),
        Err(problems) => {
            for p in problems {
                errors.add(p.field, ctx.t(&format!("action.error.{}", p.problem.code())));
            }
            None
        }
    };
    // Adding information re-validates the whole claim, exactly as filing does.
    let new_claim = if kind == ActionKind::AddInfo {
        match form
            .claim_input(case.kind.as_str(), case.currency.code(), &state.config.timezone)
            .validate(currency, jiff::Timestamp::now())
        {
            Ok(claim) => Some(claim),
            Err(problems) => {
                for p in problems {
                    // The page asks for the time as a date and a time field; the error goes by the date.
                    let field = match p.field.as_str() {
                        "occurred_at" => "occurred_date",
                        other => other,
                    };
                    errors.add(field, ctx.t_args(&p.message_key(), &p.args()));
                }
                None
            }
        }
    } else {
        None
    };
    // Fields refused at the door arrive emptied (never shown again): say why.
    refused.explain(&mut errors, ctx.lang);
    let (Some(input), true) = (input, errors.is_empty()) else {
        let feedback = Feedback::invalid(kind, errors, form);
        return case_page::render(&state, ctx, &user, id, feedback).await;
    };

    let who = Who { actor: Actor::from(user.role), user_id: Some(user.id) };
    let occurred_text = form.occurred_text(&state.config.timezone);
    let new = new_claim.as_ref().map(|claim| NewClaim { claim, occurred_text: &occurred_text });
    let step = Step { case_id: id, expected_version: version, who, kind, input: &input, new_claim: new };
    let outcome = act::act(&state.db, &state.match_context(), step).await;
    finish(&state, ctx, &user, id, kind.as_str(), outcome.map(|_| ())).await
}

pub async fn assign(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<i64>,
    refused: Refused,
    axum::Form(form): axum::Form<ActForm>,
) -> Result<Response, AppError> {
    let case = cases::get(&state.db, id).await?.filter(|c| may_see(&user, c)).ok_or_else(AppError::not_found)?;
    if !refused.is_empty() {
        // An emptied assignee would read as "nobody": refuse instead of unassigning.
        let mut errors = FieldErrors::default();
        refused.explain(&mut errors, ctx.lang);
        return case_page::render(&state, ctx, &user, case.id, Feedback::invalid_assign(errors, form)).await;
    }
    let version: i64 = form.version.trim().parse().map_err(|_| bad_request())?;
    let desk = cases::desk_users(&state.db).await?;
    let assignee = match form.assignee.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(text) => {
            let wanted = text.parse::<i64>().ok();
            match desk.iter().find(|(id, _)| Some(*id) == wanted) {
                Some((id, email)) => Some((*id, email.as_str())),
                None => {
                    let mut errors = FieldErrors::default();
                    errors.add("assignee", ctx.t("action.error.choice"));
                    let feedback = Feedback::invalid_assign(errors, form);
                    return case_page::render(&state, ctx, &user, case.id, feedback).await;
                }
            }
        }
    };
    let who = Who { actor: Actor::from(user.role), user_id: Some(user.id) };
    let outcome = act::assign(&state.db, id, version, who, assignee).await;
    finish(&state, ctx, &user, id, "assign", outcome).await
}

/// Back to the case on success; otherwise the page again, saying what happened.
async fn finish(
    state: &AppState,
    ctx: PageContext,
    user: &CurrentUser,
    id: i64,
    done: &str,
    outcome: Result<(), ActError>,
) -> Result<Response, AppError> {
    let feedback = match outcome {
        Ok(()) => return Ok(Redirect::to(&format!("/cases/{id}?done={done}")).into_response()),
        Err(ActError::Changed) => Feedback::changed(),
        Err(ActError::Refused(e)) => Feedback::refused(&e),
        Err(ActError::NotApplicable(_)) => Feedback::not_applicable(),
        Err(ActError::ExecutionElsewhere) => Feedback::execution_elsewhere(),
        Err(ActError::Other(e)) => return Err(AppError::from(e)),
    };
    case_page::render(state, ctx, user, id, feedback).await
}
