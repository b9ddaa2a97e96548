//! Operator pages: users, merchants and terminals, API tokens, the email outbox, webhooks.

pub mod merchants;
pub mod outbox;
pub mod profiles;
pub mod tokens;
pub mod users;
pub mod webhooks;

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
