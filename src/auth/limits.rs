//! Abuse limits (DESIGN.md §12) as handlers use them: failed sign-ins, and the forms that email an
//! address nobody has proved yet (registration, "forgot password", filing without an account).
//!
//! The rules are in `domain::limits`; the buckets are rows in the database (`db::limits`), so
//! every server sharing it spends one budget. Bucket names are keyed hashes of what they count:
//! the table holds no email or client addresses, nor whatever was typed into the sign-in form (a
//! card number included), and hashing guesses without the key recovers nothing.

use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::db::{self, Db, DbError, limits as store};
use crate::domain::account::EmailAddress;
use crate::domain::limits::{self as rules, Limit, Refusal, Usage};

type HmacSha256 = Hmac<Sha256>;

/// How often a compare-and-set is retried when other requests keep changing the same bucket.
const MAX_TRIES: u32 = 20;

/// Why a request was refused, and how many seconds to wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Too many failed sign-ins: for this account from this address, from this address on any
    /// account, or for this account while this address has failed on it lately.
    SignIn { retry_after: u64 },
    /// Too many uses of this form from this client address.
    Requests { retry_after: u64 },
    /// This email address was given to us too often lately.
    Emails { retry_after: u64, email: String },
}

impl Refused {
    pub fn retry_after(&self) -> u64 {
        match self {
            Refused::SignIn { retry_after }
            | Refused::Requests { retry_after }
            | Refused::Emails { retry_after, .. } => *retry_after,
        }
    }

    /// The stable code for JSON errors.
    pub fn code(&self) -> &'static str {
        match self {
            Refused::SignIn { .. } | Refused::Requests { .. } => "too_many_requests",
            Refused::Emails { .. } => "too_many_emails",
        }
    }

    /// The catalog message; it takes `{wait}` (and `{email}`, see [`Refused::args`]).
    pub fn message_key(&self) -> &'static str {
        match self {
            Refused::SignIn { .. } => "limits.sign_in",
            Refused::Requests { .. } => "limits.requests",
            Refused::Emails { .. } => "limits.emails",
        }
    }

    /// The message's arguments other than `{wait}`, which depends on the reader's language.
    pub fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Refused::Emails { email, .. } => vec![("email", email.clone())],
            _ => Vec::new(),
        }
    }
}

/// The forms that send email to the address typed into them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmailingForm {
    FileWithoutAccount,
    Register,
    ForgotPassword,
}

impl EmailingForm {
    fn limit(self) -> &'static Limit {
        match self {
            EmailingForm::FileWithoutAccount => &rules::FILE_WITHOUT_ACCOUNT,
            EmailingForm::Register => &rules::REGISTER,
            EmailingForm::ForgotPassword => &rules::FORGOT_PASSWORD,
        }
    }
}

/// The limits, with the key that names their buckets.
pub struct Limits {
    key: Vec<u8>,
}

impl Limits {
    /// `secret` is the deployment's signing key, the same in every process.
    pub fn new(secret: &[u8]) -> Limits {
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(b"redress rate-limit buckets");
        Limits { key: mac.finalize().into_bytes().to_vec() }
    }

    /// `kind:hash`: the kind stays readable for operators, what it counts does not.
    fn bucket(&self, limit: &Limit, parts: &[&str]) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        format!("{}:{}", limit.name, hex::encode(&mac.finalize().into_bytes()[..16]))
    }

    /// What the limits know about a sign-in attempt, read before its password is checked.
    /// `account` is the typed email, normalised; unknown accounts are limited like known ones,
    /// so the limits do not tell which exist.
    pub async fn sign_in(&self, db: &Db, account: &str, client: IpAddr) -> Result<SignIn, DbError> {
        let client = rules::client_key(client);
        let names = [
            self.bucket(&rules::SIGN_IN_ACCOUNT_ADDRESS, &[account, &client]),
            self.bucket(&rules::SIGN_IN_ACCOUNT, &[account]),
            self.bucket(&rules::SIGN_IN_ADDRESS, &[&client]),
        ];
        let stored = store::get_three(db, [&names[0], &names[1], &names[2]]).await?;
        let known = |name: &str| match stored.iter().find(|b| b.bucket == name) {
            Some(b) => (decode(&b.bucket, &b.usage), b.version),
            None => (Usage::default(), 0),
        };
        let limits = [&rules::SIGN_IN_ACCOUNT_ADDRESS, &rules::SIGN_IN_ACCOUNT, &rules::SIGN_IN_ADDRESS];
        let read = |i: usize| {
            let (usage, version) = known(&names[i]);
            Known { limit: limits[i], bucket: names[i].clone(), usage, version }
        };
        let (pair, account, address) = (read(0), read(1), read(2));
        Ok(SignIn { now: db::now_unix(), pair, account, address })
    }

    /// Admits one use of `form` from `client` naming `email`, or says why not and spends nothing:
    /// a refused request must leave nothing half done, so it is asked before any work.
    ///
    /// The email budget is kept for every address these forms name, whether or not an account
    /// has confirmed it, and whether or not this particular request ends up sending anything:
    /// answering differently would tell strangers which addresses have accounts.
    pub async fn admit_emailing(
        &self,
        db: &Db,
        form: EmailingForm,
        client: IpAddr,
        email: &EmailAddress,
    ) -> Result<Result<(), Refused>, DbError> {
        let per_client = form.limit();
        let client_bucket = self.bucket(per_client, &[&rules::client_key(client)]);
        let admitted_at = match change(db, per_client, &client_bucket, None, |u, now| per_client.admit(u, now)).await? {
            Ok(at) => at,
            Err(retry_after) => return Ok(Err(Refused::Requests { retry_after })),
        };
        let emails = &rules::EMAILS_TO_ADDRESS;
        let email_bucket = self.bucket(emails, &[email.normalized()]);
        if let Err(retry_after) = change(db, emails, &email_bucket, None, |u, now| emails.admit(u, now)).await? {
            // Give back the use just taken: this request does nothing.
            let given_back = |u: &Usage, _| Ok(per_client.forget_one(u, admitted_at));
            if change(db, per_client, &client_bucket, None, given_back).await?.is_err() {
                tracing::warn!(bucket = %client_bucket, "could not give back a refused request's use");
            }
            return Ok(Err(Refused::Emails { retry_after, email: email.as_str().to_owned() }));
        }
        Ok(Ok(()))
    }
}

/// A bucket as read, with the version a change must still find.
struct Known {
    limit: &'static Limit,
    bucket: String,
    usage: Usage,
    version: i64,
}

/// A sign-in attempt's view of its three buckets.
pub struct SignIn {
    now: i64,
    pair: Known,
    account: Known,
    address: Known,
}

impl SignIn {
    /// Whether the password may be checked at all (`domain::limits::sign_in_allowed`).
    pub fn check(&self) -> Result<(), Refused> {
        rules::sign_in_allowed(&self.pair.usage, &self.account.usage, &self.address.usage, self.now)
            .map_err(|r| Refused::SignIn { retry_after: r.retry_after(self.now) })
    }

    /// Records a failed attempt in all three buckets. Only failures are recorded: a successful
    /// sign-in never spends anything.
    pub async fn failed(self, db: &Db) -> Result<(), DbError> {
        for known in [self.pair, self.account, self.address] {
            let limit = known.limit;
            let first = Some((known.usage, known.version));
            if change(db, limit, &known.bucket, first, |u, now| Ok(limit.record(u, now))).await?.is_err() {
                tracing::warn!(bucket = %known.bucket, "could not record a failed sign-in: bucket too contended");
            }
        }
        Ok(())
    }
}

/// Changes one bucket by compare-and-set. `decide` gets the current usage and the instant and
/// returns the new usage, or a refusal (then nothing is written). Returns the instant of the
/// change, or the seconds to wait. `first` is a usage and version already read, tried first.
async fn change(
    db: &Db,
    limit: &Limit,
    bucket: &str,
    mut first: Option<(Usage, i64)>,
    decide: impl Fn(&Usage, i64) -> Result<Usage, Refusal>,
) -> Result<Result<i64, u64>, DbError> {
    for attempt in 0..MAX_TRIES {
        let (usage, version) = match first.take() {
            Some(read) => read,
            None => match store::get(db, bucket).await? {
                Some(b) => (decode(bucket, &b.usage), b.version),
                None => (Usage::default(), 0),
            },
        };
        let now = db::now_unix();
        let next = match decide(&usage, now) {
            Ok(next) => next,
            Err(refusal) => return Ok(Err(refusal.retry_after(now))),
        };
        if store::put(db, bucket, &next.encode(), limit.forgettable_at(&next), version).await? {
            return Ok(Ok(now));
        }
        // Another request changed the bucket in between: read it again, after a short random
        // pause so that the same requests do not collide again.
        let pause = rand::random_range(1..=2 * u64::from(attempt + 1));
        tokio::time::sleep(Duration::from_millis(pause)).await;
    }
    // Refusing briefly is safer than letting a flood through unmetered.
    tracing::warn!(bucket, "rate-limit bucket changed by others on every try");
    Ok(Err(1))
}

/// A stored usage; text that is not one (hand-edited, say) counts as no use, and is logged.
fn decode(bucket: &str, text: &str) -> Usage {
    Usage::decode(text).unwrap_or_else(|| {
        tracing::warn!(bucket, usage = text, "unreadable rate-limit usage; starting afresh");
        Usage::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_hide_what_they_count_but_keep_their_kind() {
        let limits = Limits::new(b"a secret of some length, for the test");
        let a = limits.bucket(&rules::SIGN_IN_ACCOUNT, &["6228480402564890018"]);
        assert!(a.starts_with("sign_in_account:"), "{a}");
        assert!(!a.contains("6228"), "{a}");
        assert_eq!(a, limits.bucket(&rules::SIGN_IN_ACCOUNT, &["6228480402564890018"]));
        assert_ne!(a, limits.bucket(&rules::SIGN_IN_ADDRESS, &["6228480402564890018"]));
        // Parts are separated: ("ab", "c") is not ("a", "bc").
        let pair = |x, y| limits.bucket(&rules::SIGN_IN_ACCOUNT_ADDRESS, &[x, y]);
        assert_ne!(pair("ab", "c"), pair("a", "bc"));
        // Another deployment's key names other buckets.
        let other = Limits::new(b"another secret of some length, too");
        assert_ne!(a, other.bucket(&rules::SIGN_IN_ACCOUNT, &["6228480402564890018"]));
    }
}
