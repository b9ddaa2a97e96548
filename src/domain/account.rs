//! Account rules: what an email address and a password must be.

use crate::domain::screen;

/// An email address as typed, with its case-insensitive form for uniqueness and look-ups.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress {
    as_typed: String,
    normalized: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("email_invalid")]
    EmailInvalid,
    /// A full card number in any part of the address: it would be stored, mailed and shown.
    #[error("email_full_card_number")]
    EmailFullCardNumber,
    #[error("password_too_short")]
    PasswordTooShort,
    #[error("password_too_long")]
    PasswordTooLong,
    #[error("password_is_email")]
    PasswordIsEmail,
    #[error("passwords_differ")]
    PasswordsDiffer,
}

impl AccountError {
    pub fn code(self) -> &'static str {
        match self {
            AccountError::EmailInvalid => "email_invalid",
            AccountError::EmailFullCardNumber => "email_full_card_number",
            AccountError::PasswordTooShort => "password_too_short",
            AccountError::PasswordTooLong => "password_too_long",
            AccountError::PasswordIsEmail => "password_is_email",
            AccountError::PasswordsDiffer => "passwords_differ",
        }
    }

    pub fn args(self) -> Vec<(&'static str, String)> {
        match self {
            AccountError::PasswordTooShort => vec![("min", PASSWORD_MIN_CHARS.to_string())],
            AccountError::PasswordTooLong => vec![("max", PASSWORD_MAX_CHARS.to_string())],
            _ => Vec::new(),
        }
    }
}

impl EmailAddress {
    /// A deliberately plain check: one `@`, a non-empty local part, a dotted domain, no spaces.
    /// Whether the address works is proven by the verification email, not by a regex.
    pub fn parse(text: &str) -> Result<EmailAddress, AccountError> {
        let text = text.trim();
        if screen::holds_card_number(text, screen::Shape::Line) {
            return Err(AccountError::EmailFullCardNumber);
        }
        let (local, domain) = text.rsplit_once('@').ok_or(AccountError::EmailInvalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty() && local.len() <= 64 && !local.contains('@');
        let plain = !text.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
        if !(domain_ok && local_ok && plain && text.len() <= 254) {
            return Err(AccountError::EmailInvalid);
        }
        Ok(EmailAddress { as_typed: text.to_owned(), normalized: text.to_lowercase() })
    }

    pub fn as_str(&self) -> &str {
        &self.as_typed
    }

    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

pub const PASSWORD_MIN_CHARS: usize = 10;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// Length is what makes a password strong (NIST SP 800-63B): no composition rules, a sane cap
/// so hashing stays cheap, and not the email address itself.
pub fn check_new_password(password: &str, confirm: &str, email: &EmailAddress) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(AccountError::PasswordTooLong);
    }
    if password.trim().eq_ignore_ascii_case(email.as_str()) {
        return Err(AccountError::PasswordIsEmail);
    }
    if password != confirm {
        return Err(AccountError::PasswordsDiffer);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        let e = EmailAddress::parse("  Li.Wei@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Li.Wei@Example.COM");
        assert_eq!(e.normalized(), "li.wei@example.com");
        assert!(EmailAddress::parse("李伟@例子.中国").is_ok());
        for bad in [
            "",
            "no-at",
            "@example.com",
            "a@b",
            "a@.com",
            "a@com.",
            "a b@example.com",
            "a@exa mple.com",
            "a@b..com",
            "<a@b.com>",
        ] {
            assert_eq!(EmailAddress::parse(bad), Err(AccountError::EmailInvalid), "{bad}");
        }
    }

    #[test]
    fn an_address_holding_a_card_number_in_any_part_is_refused() {
        for text in [
            "4111111111111111@example.com",
            "4111-1111-1111-1111@example.com",
            "4111.1111.1111.1111@example.com",
            "li.wei+4111111111111111@example.com",
            "４１１１１１１１１１１１１１１１@example.com",
            "someone@4111111111111111.example.com",
        ] {
            assert_eq!(EmailAddress::parse(text), Err(AccountError::EmailFullCardNumber), "{text}");
        }
        // Digits that are no card number are fine.
        assert!(EmailAddress::parse("wei2026@example.com").is_ok());
        assert!(EmailAddress::parse("4111111111111112@example.com").is_ok());
    }

    #[test]
    fn passwords() {
        let email = EmailAddress::parse("someone@example.com").unwrap();
        assert_eq!(check_new_password("short", "short", &email), Err(AccountError::PasswordTooShort));
        assert_eq!(check_new_password(&"x".repeat(129), &"x".repeat(129), &email), Err(AccountError::PasswordTooLong));
        assert_eq!(
            check_new_password("someone@example.com", "someone@example.com", &email),
            Err(AccountError::PasswordIsEmail)
        );
        assert_eq!(
            check_new_password("long enough words", "long enough word", &email),
            Err(AccountError::PasswordsDiffer)
        );
        assert_eq!(check_new_password("long enough words", "long enough words", &email), Ok(()));
        // Ten characters of Chinese is a fine passphrase.
        assert_eq!(check_new_password("我的密码是一二三四五", "我的密码是一二三四五", &email), Ok(()));
    }
}
