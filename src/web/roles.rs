//! Each role's start page.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Path, State};

use crate::db::merchants::{self, MerchantRow, TerminalRow};
use crate::web::session::CurrentUser;
use crate::web::{AppError, AppState, PageContext};

#[derive(Template, WebTemplate)]
#[template(path = "merchant/home.html")]
pub struct MerchantHome {
    ctx: PageContext,
    merchants: Vec<MerchantRow>,
    /// Open exceptions of these merchants (DESIGN.md §10).
    open_exceptions: i64,
}

pub async fn merchant_home(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
) -> Result<MerchantHome, AppError> {
    let mut list = Vec::new();
    for id in &user.merchants {
        list.extend(merchants::get_merchant(&state.db, id).await?);
    }
    let open_exceptions = crate::web::exceptions::open_count(&state, Some(&user.merchants)).await?;
    Ok(MerchantHome { ctx, merchants: list, open_exceptions })
}

#[derive(Template, WebTemplate)]
#[template(path = "merchant/terminals.html")]
pub struct MerchantTerminals {
    ctx: PageContext,
    merchant: MerchantRow,
    terminals: Vec<TerminalRow>,
}

/// One merchant's terminals. Another merchant's id answers 404, as if it did not exist.
pub async fn merchant_terminals(
    State(state): State<AppState>,
    ctx: PageContext,
    Extension(user): Extension<CurrentUser>,
    Path(merchant_id): Path<String>,
) -> Result<MerchantTerminals, AppError> {
    if !user.viewer().may_see_merchant(&merchant_id) {
        return Err(AppError::not_found());
    }
    let merchant = merchants::get_merchant(&state.db, &merchant_id).await?.ok_or_else(AppError::not_found)?;
    let terminals = merchants::terminals_of(&state.db, &merchant_id).await?;
    Ok(MerchantTerminals { ctx, merchant, terminals })
}

#[derive(Template, WebTemplate)]
#[template(path = "agent/home.html")]
pub struct AgentHome {
    ctx: PageContext,
    summary: String,
    open_exceptions: i64,
}

pub async fn agent_home(State(state): State<AppState>, ctx: PageContext) -> Result<AgentHome, AppError> {
    let n = merchants::count_merchants(&state.db).await?;
    let summary = ctx.t_args("agent.home.merchants", &[("n", n.to_string())]);
    let open_exceptions = crate::web::exceptions::open_count(&state, None).await?;
    Ok(AgentHome { ctx, summary, open_exceptions })
}

#[derive(Template, WebTemplate)]
#[template(path = "admin/home.html")]
pub struct AdminHome {
    ctx: PageContext,
}

pub async fn admin_home(ctx: PageContext) -> AdminHome {
    AdminHome { ctx }
}
