//! Operator pages: users, merchants and terminals, API tokens, the email outbox, webhooks.

pub mod merchants;
pub mod outbox;
pub mod profiles;
pub mod tokens;
pub mod users;
pub mod webhooks;

use askama::Template;
use askama_web::WebTemplate;

use crate::web::PageContext;

/// "Are you sure?" before an admin action that cannot be taken back in one click: a page (GET)
/// that names the thing and what will happen, with the form (POST, CSRF) that does it. Works
/// without JavaScript.
#[derive(Template, WebTemplate)]
#[template(path = "admin/confirm.html")]
pub struct ConfirmPage {
    pub ctx: PageContext,
    pub title: String,
    /// What is acted on: an address, a token's name.
    pub subject: String,
    /// What will happen, in words.
    pub consequence: String,
    pub action: String,
    /// Hidden fields the action takes besides the CSRF token.
    pub fields: Vec<(&'static str, &'static str)>,
    pub confirm: String,
    /// Where "cancel" goes back to.
    pub cancel: &'static str,
}

/// One registered merchant offered as a choice (a check box): its name and id, and whether it
/// is chosen.
pub struct MerchantChoice {
    pub merchant_id: String,
    pub name: String,
    pub checked: bool,
}

/// Every registered merchant as a choice, in the reader's language, `chosen` ones checked.
pub async fn merchant_choices(
    db: &crate::db::Db,
    lang: crate::i18n::Lang,
    chosen: &[String],
) -> Result<Vec<MerchantChoice>, crate::db::DbError> {
    Ok(crate::db::merchants::list_merchants(db)
        .await?
        .into_iter()
        .map(|m| MerchantChoice {
            checked: chosen.contains(&m.merchant_id),
            name: if lang == crate::i18n::Lang::En { m.name_en } else { m.name_zh },
            merchant_id: m.merchant_id,
        })
        .collect())
}

/// A form's fields as sent, in order; check boxes send one `merchants` field per ticked merchant.
pub type FormPairs = Vec<(String, String)>;

/// The value of the single field `name` (the last one sent), or empty.
pub fn field(pairs: &FormPairs, name: &str) -> String {
    pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// The merchant ids a form names: every ticked `merchants` box (and, for programs and old
/// forms, ids typed into one `merchants` field, separated by commas).
pub fn chosen_merchants(pairs: &FormPairs) -> Vec<String> {
    let all: Vec<&str> = pairs.iter().filter(|(k, _)| k == "merchants").map(|(_, v)| v.as_str()).collect();
    split_ids(&all.join(","))
}

/// Merchant ids typed into one field, separated by commas, spaces or new lines.
pub fn split_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = text
        .split(|c: char| c == ',' || c == '，' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_split_on_any_separator() {
        assert_eq!(super::split_ids(" b, a，c\nb "), vec!["a", "b", "c"]);
        assert!(super::split_ids("  ").is_empty());
    }
}
