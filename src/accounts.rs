//! Account operations shared by the command line and the admin pages' rules.

use anyhow::{Context, bail};

use crate::auth::{password, token};
use crate::db::users::{self, CreateUserError, NewUser};
use crate::db::{Db, DbError, api_tokens, merchants};
use crate::domain::account::{AccountError, EmailAddress, check_new_password};
use crate::domain::role::Role;
use crate::i18n::Lang;

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role).with_context(|| format!("unknown role {role:?}: use customer, merchant, agent or admin"))
}

/// Why a set of merchant bindings does not fit a role: a catalog key and its arguments.
#[derive(Debug, PartialEq)]
pub struct BindingProblem {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

/// The merchant binding rule, for users and API tokens alike: merchant staff work for at least
/// one registered merchant; other roles are bound to none.
pub async fn binding_problem(db: &Db, role: Role, merchant_ids: &[String]) -> Result<Option<BindingProblem>, DbError> {
    let problem = |key| Some(BindingProblem { key, args: Vec::new() });
    Ok(match role {
        Role::Merchant if merchant_ids.is_empty() => problem("admin.error.merchants_needed"),
        Role::Merchant => {
            let unknown = merchants::unknown_merchants(db, merchant_ids).await?;
            (!unknown.is_empty()).then(|| BindingProblem {
                key: "admin.error.unknown_merchants",
                args: vec![("ids", unknown.join(", "))],
            })
        }
        _ if !merchant_ids.is_empty() => problem("admin.error.merchants_only_for_merchant"),
        _ => None,
    })
}

/// The binding rule for the command line, in English.
async fn check_merchants(db: &Db, role: Role, merchant_ids: &[String]) -> anyhow::Result<()> {
    if let Some(p) = binding_problem(db, role, merchant_ids).await? {
        bail!("{} (--merchant)", Lang::En.t_args(p.key, &p.args));
    }
    Ok(())
}

/// Why a staff account could not be made, for the caller to say in its own words.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("a user with this email exists already")]
    EmailTaken,
    #[error("the merchants do not fit the role ({})", .0.key)]
    Binding(BindingProblem),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<DbError> for CreateError {
    fn from(e: DbError) -> Self {
        CreateError::Other(e.into())
    }
}

/// Creates a verified user bound to `merchant_ids` (an operator vouches for the address), in
/// one transaction: the command line and the admin page both come here. The caller has checked
/// the address and the password and says what is wrong with them in its own words.
pub async fn create_user(
    db: &Db,
    role: Role,
    email: &EmailAddress,
    merchant_ids: &[String],
    password: String,
) -> Result<i64, CreateError> {
    if let Some(p) = binding_problem(db, role, merchant_ids).await? {
        return Err(CreateError::Binding(p));
    }
    let hash = password::hash(password).await?;
    let mut tx = db.begin().await?;
    let new_user = NewUser {
        email: email.as_str(),
        email_norm: email.normalized(),
        password_hash: &hash,
        role: role.as_str(),
        lang: None,
        verified: true,
    };
    let id = match users::create(&mut tx, &new_user).await {
        Ok(id) => id,
        Err(CreateUserError::EmailTaken) => return Err(CreateError::EmailTaken),
        Err(CreateUserError::Db(e)) => return Err(e.into()),
    };
    users::set_merchants(&mut tx, id, merchant_ids).await?;
    tx.commit().await?;
    Ok(id)
}

/// `redress user add`: checks what was typed and creates the user, saying what is wrong in English.
pub async fn add_user(
    db: &Db,
    role: &str,
    email: &str,
    merchant_ids: &[String],
    password: String,
) -> anyhow::Result<i64> {
    let role = parse_role(role)?;
    let email = EmailAddress::parse(email).map_err(|e| match e {
        // Never repeated back, not even to the operator's terminal.
        AccountError::EmailFullCardNumber => anyhow::anyhow!("--email: {}", Lang::En.t("error.email_full_card_number")),
        _ => anyhow::anyhow!("{email:?} is not an email address"),
    })?;
    check_new_password(&password, &password, &email)
        .map_err(|e| anyhow::anyhow!("{}", Lang::En.t_args(&format!("error.{}", e.code()), &e.args())))?;
    match create_user(db, role, &email, merchant_ids, password).await {
        Ok(id) => Ok(id),
        Err(CreateError::EmailTaken) => bail!("a user with email {} exists already", email.as_str()),
        Err(CreateError::Binding(p)) => bail!("{} (--merchant)", Lang::En.t_args(p.key, &p.args)),
        Err(CreateError::Other(e)) => Err(e),
    }
}

/// Creates an API token and returns its secret (the only time it exists outside a hash).
pub async fn add_token(db: &Db, role: &str, merchant_ids: &[String], name: &str) -> anyhow::Result<String> {
    let role = parse_role(role)?;
    if name.trim().is_empty() {
        bail!("give the token a --name that says who uses it");
    }
    // The name is stored and listed on the admin page: the same screen as every web field.
    if let Err(refusal) = crate::domain::screen::screen(name, crate::domain::screen::Shape::Line) {
        bail!("--name: {}", Lang::En.t(refusal.message_key()));
    }
    check_merchants(db, role, merchant_ids).await?;
    let secret = token::generate();
    api_tokens::create(db, name.trim(), &token::digest(&secret), role.as_str(), merchant_ids, None).await?;
    Ok(secret)
}
