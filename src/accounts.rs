//! Account operations shared by the command line and the admin pages' rules.

use anyhow::{Context, bail};

use crate::auth::{password, token};
use crate::db::users::{self, CreateUserError, NewUser};
use crate::db::{Db, api_tokens, merchants};
use crate::domain::account::{EmailAddress, check_new_password};
use crate::domain::role::Role;
use crate::i18n::Lang;

fn parse_role(role: &str) -> anyhow::Result<Role> {
    Role::parse(role).with_context(|| format!("unknown role {role:?}: use customer, merchant, agent or admin"))
}

/// Checks the merchant binding rules: merchant users/tokens need known merchants, others none.
async fn check_merchants(db: &Db, role: Role, merchant_ids: &[String]) -> anyhow::Result<()> {
    match role {
        Role::Merchant if merchant_ids.is_empty() => bail!("a merchant user or token needs at least one --merchant"),
        Role::Merchant => {
            let unknown = merchants::unknown_merchants(db, merchant_ids).await?;
            if !unknown.is_empty() {
                bail!("these merchant ids are not registered: {}", unknown.join(", "));
            }
        }
        _ if !merchant_ids.is_empty() => bail!("only merchant users and tokens take --merchant"),
        _ => {}
    }
    Ok(())
}

/// Creates a verified user (an operator vouches for the address).
pub async fn add_user(
    db: &Db,
    role: &str,
    email: &str,
    merchant_ids: &[String],
    password: String,
) -> anyhow::Result<i64> {
    let role = parse_role(role)?;
    let email = EmailAddress::parse(email).map_err(|_| anyhow::anyhow!("{email:?} is not an email address"))?;
    check_new_password(&password, &password, &email)
        .map_err(|e| anyhow::anyhow!("{}", Lang::En.t_args(&format!("error.{}", e.code()), &e.args())))?;
    check_merchants(db, role, merchant_ids).await?;
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
        Err(CreateUserError::EmailTaken) => bail!("a user with email {} exists already", email.as_str()),
        Err(CreateUserError::Db(e)) => return Err(e.into()),
    };
    users::set_merchants(&mut tx, id, merchant_ids).await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates an API token and returns its secret (the only time it exists outside a hash).
pub async fn add_token(db: &Db, role: &str, merchant_ids: &[String], name: &str) -> anyhow::Result<String> {
    let role = parse_role(role)?;
    if name.trim().is_empty() {
        bail!("give the token a --name that says who uses it");
    }
    check_merchants(db, role, merchant_ids).await?;
    let secret = token::generate();
    api_tokens::create(db, name.trim(), &token::digest(&secret), role.as_str(), merchant_ids, None).await?;
    Ok(secret)
}
