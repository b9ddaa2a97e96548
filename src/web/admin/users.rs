//! Admin: people and their roles and merchants.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::split_ids;
use crate::accounts::{CreateError, binding_problem};
use crate::db::users::{self, UserRow};
use crate::domain::account::{EmailAddress, check_new_password};
use crate::domain::role::Role;
use crate::web::forms::FieldErrors;
use crate::web::screen::Refused;
use crate::web::{AppError, AppState, PageContext};

pub struct UserView {
    pub user: UserRow,
    pub merchants: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    ctx: PageContext,
    users: Vec<UserView>,
    roles: [Role; 4],
    form: NewUserForm,
    errors: FieldErrors,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub merchants: String,
}

async fn page(
    state: &AppState,
    ctx: PageContext,
    form: NewUserForm,
    errors: FieldErrors,
) -> Result<UsersPage, AppError> {
    let mut views = Vec::new();
    for user in users::list(&state.db).await? {
        let merchants = users::merchants_of(&state.db, user.id).await?.join(", ");
        views.push(UserView { user, merchants });
    }
    Ok(UsersPage { ctx, users: views, roles: Role::ALL, form: NewUserForm { password: String::new(), ..form }, errors })
}

pub async fn list(State(state): State<AppState>, ctx: PageContext) -> Result<UsersPage, AppError> {
    page(&state, ctx, NewUserForm { role: "agent".into(), ..Default::default() }, FieldErrors::default()).await
}

pub async fn create(
    State(state): State<AppState>,
    ctx: PageContext,
    refused: Refused,
    Form(form): Form<NewUserForm>,
) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let mut errors = FieldErrors::default();
    let email = EmailAddress::parse(&form.email).map_err(|e| errors.add_code(lang, "email", e.code(), &e.args())).ok();
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.add("role", ctx.t("admin.error.role"));
    }
    if let Some(email) = &email
        && let Err(e) = check_new_password(&form.password, &form.password, email)
    {
        errors.add_code(lang, "password", e.code(), &e.args());
    }
    let merchant_ids = split_ids(&form.merchants);
    if let Some(role) = role
        && let Some(p) = binding_problem(&state.db, role, &merchant_ids).await?
    {
        errors.add("merchants", ctx.t_args(p.key, &p.args));
    }
    refused.explain(&mut errors, lang);
    let (Some(email), Some(role), true) = (email, role, errors.is_empty()) else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, ctx, form, errors).await?).into_response());
    };

    match crate::accounts::create_user(&state.db, role, &email, &merchant_ids, form.password.clone()).await {
        Ok(id) => {
            tracing::info!(user_id = id, role = role.as_str(), "user created by admin");
            Ok(Redirect::to("/admin/users").into_response())
        }
        Err(CreateError::EmailTaken) => {
            errors.add("email", ctx.t("admin.error.email_taken"));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, ctx, form, errors).await?).into_response())
        }
        Err(CreateError::Binding(p)) => {
            errors.add("merchants", ctx.t_args(p.key, &p.args));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&state, ctx, form, errors).await?).into_response())
        }
        Err(CreateError::Other(e)) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct DisableForm {
    #[serde(default)]
    disabled: String,
}

pub async fn set_disabled(
    State(state): State<AppState>,
    axum::Extension(me): axum::Extension<crate::web::session::CurrentUser>,
    Path(id): Path<i64>,
    Form(form): Form<DisableForm>,
) -> Result<Response, AppError> {
    users::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let disabled = form.disabled == "true";
    // Locking oneself out leaves a deployment with no one to undo it.
    if disabled && id == me.id {
        return Err(AppError::new(StatusCode::BAD_REQUEST, "cannot_disable_self", "admin.error.disable_self"));
    }
    users::set_disabled(&state.db, id, disabled).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Deserialize)]
pub struct MerchantsForm {
    #[serde(default)]
    merchants: String,
}

pub async fn set_merchants(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<MerchantsForm>,
) -> Result<Response, AppError> {
    let user = users::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let ids = split_ids(&form.merchants);
    // The form is offered for merchant staff only; other roles have no merchants to edit.
    if user.role != Role::Merchant.as_str() {
        return Err(AppError::new(
            StatusCode::BAD_REQUEST,
            "not_merchant_staff",
            "admin.error.merchants_only_for_merchant",
        ));
    }
    if let Some(p) = binding_problem(&state.db, Role::Merchant, &ids).await? {
        return Err(AppError::new(StatusCode::BAD_REQUEST, "invalid_merchants", p.key).with_args(p.args));
    }
    let mut tx = state.db.begin().await?;
    users::set_merchants(&mut tx, id, &ids).await?;
    tx.commit().await?;
    Ok(Redirect::to("/admin/users").into_response())
}
