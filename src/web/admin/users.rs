//! Admin: people and their roles and merchants.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::ConfirmPage;
use super::{FormPairs, MerchantChoice, chosen_merchants, field, merchant_choices};
use crate::accounts::{CreateError, binding_problem};
use crate::db::users::{self, UserRow};
use crate::domain::account::{EmailAddress, check_new_password};
use crate::domain::role::Role;
use crate::web::flash::{self, Flash, Incoming};
use crate::web::forms::FieldErrors;
use crate::web::screen::Refused;
use crate::web::session::{CurrentUser, SessionToken};
use crate::web::{AppError, AppState, PageContext};

pub struct UserView {
    pub user: UserRow,
    /// The merchants they work for, by name; every merchant to choose from (merchant staff).
    pub merchants: String,
    pub choices: Vec<MerchantChoice>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    ctx: PageContext,
    users: Vec<UserView>,
    roles: [Role; 4],
    form: NewUserForm,
    /// The merchants a new merchant user may work for, those in the form ticked.
    choices: Vec<MerchantChoice>,
    errors: FieldErrors,
    /// What the last action did (a user created, disabled), shown once.
    done: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct NewUserForm {
    pub email: String,
    pub role: String,
    pub password: String,
    pub merchants: Vec<String>,
}

impl NewUserForm {
    fn from_pairs(pairs: &FormPairs) -> NewUserForm {
        NewUserForm {
            email: field(pairs, "email"),
            role: field(pairs, "role"),
            password: field(pairs, "password"),
            merchants: chosen_merchants(pairs),
        }
    }
}

async fn page(
    state: &AppState,
    ctx: PageContext,
    form: NewUserForm,
    errors: FieldErrors,
) -> Result<UsersPage, AppError> {
    let mut views = Vec::new();
    for user in users::list(&state.db).await? {
        let ids = users::merchants_of(&state.db, user.id).await?;
        let choices = merchant_choices(&state.db, ctx.lang, &ids).await?;
        let merchants = choices.iter().filter(|c| c.checked).map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
        views.push(UserView { user, merchants, choices });
    }
    let choices = merchant_choices(&state.db, ctx.lang, &form.merchants).await?;
    Ok(UsersPage {
        ctx,
        users: views,
        roles: Role::ALL,
        form: NewUserForm { password: String::new(), ..form },
        choices,
        errors,
        done: None,
    })
}

const PATH: &str = "/admin/users";

pub async fn list(State(state): State<AppState>, ctx: PageContext, flash: Incoming) -> Result<Response, AppError> {
    let lang = ctx.lang;
    let mut page =
        page(&state, ctx, NewUserForm { role: "agent".into(), ..Default::default() }, FieldErrors::default()).await?;
    page.done = flash.flash.as_ref().map(|f| f.text(lang));
    Ok(flash.finish(PATH, page))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(session): Extension<SessionToken>,
    refused: Refused,
    Form(pairs): Form<FormPairs>,
) -> Result<Response, AppError> {
    let form = NewUserForm::from_pairs(&pairs);
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
    let merchant_ids = form.merchants.clone();
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
            let done = Flash::new("reading.admin.user_created")
                .arg("email", email.as_str())
                .arg("role", ctx.t(&format!("role.{}", role.as_str())));
            Ok(flash::redirect(&state, &session, PATH, PATH, &done))
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

/// Asks before disabling: the person is signed out and cannot sign in until enabled again.
pub async fn confirm_disable(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(me): Extension<CurrentUser>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let user = users::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    if id == me.id {
        return Err(AppError::new(StatusCode::BAD_REQUEST, "cannot_disable_self", "admin.error.disable_self"));
    }
    let page = ConfirmPage {
        title: ctx.t("reading.admin.disable.title").to_owned(),
        subject: user.email.clone(),
        consequence: ctx.t("reading.admin.disable.consequence").to_owned(),
        action: format!("/admin/users/{id}/disabled"),
        fields: vec![("disabled", "true")],
        confirm: ctx.t("admin.action.disable").to_owned(),
        cancel: PATH,
        ctx,
    };
    Ok(page.into_response())
}

pub async fn set_disabled(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    Extension(session): Extension<SessionToken>,
    Path(id): Path<i64>,
    Form(form): Form<DisableForm>,
) -> Result<Response, AppError> {
    let user = users::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let disabled = form.disabled == "true";
    // Locking oneself out leaves a deployment with no one to undo it.
    if disabled && id == me.id {
        return Err(AppError::new(StatusCode::BAD_REQUEST, "cannot_disable_self", "admin.error.disable_self"));
    }
    users::set_disabled(&state.db, id, disabled).await?;
    let key = if disabled { "reading.admin.user_disabled" } else { "reading.admin.user_enabled" };
    Ok(flash::redirect(&state, &session, PATH, PATH, &Flash::new(key).arg("email", user.email)))
}

pub async fn set_merchants(
    State(state): State<AppState>,
    Extension(session): Extension<SessionToken>,
    Path(id): Path<i64>,
    Form(pairs): Form<FormPairs>,
) -> Result<Response, AppError> {
    let user = users::get(&state.db, id).await?.ok_or_else(AppError::not_found)?;
    let ids = chosen_merchants(&pairs);
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
    let done = Flash::new("reading.admin.merchants_saved").arg("email", user.email);
    Ok(flash::redirect(&state, &session, PATH, PATH, &done))
}
