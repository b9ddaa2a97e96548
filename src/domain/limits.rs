//! Abuse limits (DESIGN.md §12) as arithmetic: how much one bucket allows, and when it allows more.
//!
//! A bucket (one account, one client address, one email address…) remembers its recent use as a
//! [`Usage`]; a [`Limit`] decides from it, at a given instant, whether one more is allowed and, if
//! not, when it will be. Keeping usages where every server sees them is `db::limits`' job; this
//! module has no clock and no I/O. Instants are Unix seconds, like everything stored.

use std::net::IpAddr;

pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// One rule a bucket obeys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `burst` at once, then one every `every` seconds (a token bucket: the allowance refills at
    /// that steady rate, so a quiet spell of `burst × every` restores the whole burst).
    Pace { burst: u32, every: i64 },
    /// At most `max` in any `per` seconds, counted exactly from the remembered instants.
    Window { max: u32, per: i64 },
}

/// The rules of one kind of bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// The kind of bucket, as operators read it in the database (`rate_limits.bucket`).
    pub name: &'static str,
    pub rules: &'static [Rule],
    /// How long the latest event is remembered beyond what the rules need, for
    /// [`Usage::active_since`].
    pub remember: i64,
}

/// Sign-in failures for one account from one client address: five quickly, then one a minute.
/// Remembered for the account window, because the per-account rule asks whether this address
/// failed on this account lately.
pub const SIGN_IN_ACCOUNT_ADDRESS: Limit = Limit {
    name: "sign_in_account_address",
    rules: &[Rule::Pace { burst: 5, every: MINUTE }],
    remember: SIGN_IN_ACCOUNT_WINDOW,
};

/// The per-account rule's window: an address that failed on the account within it is "recent".
pub const SIGN_IN_ACCOUNT_WINDOW: i64 = HOUR;

/// Sign-in failures for one account from anywhere: 50 an hour, ten addresses' quick bursts. It
/// never stops an address without recent failures on the account: see [`sign_in_allowed`].
pub const SIGN_IN_ACCOUNT: Limit =
    Limit { name: "sign_in_account", rules: &[Rule::Window { max: 50, per: SIGN_IN_ACCOUNT_WINDOW }], remember: 0 };

/// Sign-in failures from one client address on any accounts: 30 in 10 minutes, so one address
/// cannot try a common password on many accounts.
pub const SIGN_IN_ADDRESS: Limit =
    Limit { name: "sign_in_address", rules: &[Rule::Window { max: 30, per: 10 * MINUTE }], remember: 0 };

/// Claims filed without an account from one client address: 5 an hour.
pub const FILE_WITHOUT_ACCOUNT: Limit =
    Limit { name: "file_without_account", rules: &[Rule::Window { max: 5, per: HOUR }], remember: 0 };

/// Registrations from one client address: 5 an hour.
pub const REGISTER: Limit = Limit { name: "register", rules: &[Rule::Window { max: 5, per: HOUR }], remember: 0 };

/// "Forgot password" requests from one client address: 5 an hour.
pub const FORGOT_PASSWORD: Limit =
    Limit { name: "forgot_password", rules: &[Rule::Window { max: 5, per: HOUR }], remember: 0 };

/// Emails one address can be made to receive by people who have not proved they own it
/// (confirmation, password reset, the claim link): 3 an hour and 10 a day.
pub const EMAILS_TO_ADDRESS: Limit = Limit {
    name: "emails_to_address",
    rules: &[Rule::Window { max: 3, per: HOUR }, Rule::Window { max: 10, per: DAY }],
    remember: 0,
};

/// Not now: one more is allowed from `retry_at` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub retry_at: i64,
}

impl Refusal {
    /// Whole seconds to wait from `now`, at least one (for `Retry-After`).
    pub fn retry_after(&self, now: i64) -> u64 {
        u64::try_from(self.retry_at - now).unwrap_or(0).max(1)
    }
}

/// What a bucket remembers of its recent use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// The latest event, 0 when there was none.
    pub last: i64,
    /// For pace rules: when the allowance will be whole again (the "theoretical arrival time" of
    /// the generic cell rate algorithm); at or before now means whole.
    pub whole_at: i64,
    /// For window rules: the most recent events still inside the longest window, oldest first,
    /// no more than the largest window's `max`.
    pub times: Vec<i64>,
}

impl Usage {
    /// The stored text: `last whole_at t1 t2 …`.
    pub fn encode(&self) -> String {
        let mut out = format!("{} {}", self.last, self.whole_at);
        for t in &self.times {
            out.push(' ');
            out.push_str(&t.to_string());
        }
        out
    }

    /// Reads [`Usage::encode`]'s text; `None` when it is not that.
    pub fn decode(text: &str) -> Option<Usage> {
        let mut numbers = text.split_ascii_whitespace().map(|n| n.parse::<i64>().ok());
        let last = numbers.next()??;
        let whole_at = numbers.next()??;
        let times: Option<Vec<i64>> = numbers.collect();
        let times = times?;
        times.is_sorted().then_some(Usage { last, whole_at, times })
    }

    /// True when there was an event after `since`.
    pub fn active_since(&self, since: i64) -> bool {
        self.last > since
    }
}

impl Limit {
    /// Would one more be allowed at `now`? If not, when.
    pub fn check(&self, usage: &Usage, now: i64) -> Result<(), Refusal> {
        let mut retry_at = None;
        for rule in self.rules {
            let at = match *rule {
                Rule::Pace { burst, every } => {
                    // Allowed while the backlog is within the burst: `whole_at - now ≤ (burst-1)·every`.
                    let slack = i64::from(burst.saturating_sub(1)) * every;
                    (usage.whole_at - now > slack).then_some(usage.whole_at - slack)
                }
                Rule::Window { max, per } => {
                    let inside: Vec<i64> = usage.times.iter().copied().filter(|&t| t > now - per).collect();
                    let max = max as usize;
                    // Allowed once enough of them have left the window to leave room for one more.
                    (inside.len() >= max).then(|| inside[inside.len() - max] + per)
                }
            };
            if let Some(at) = at {
                retry_at = Some(retry_at.map_or(at, |r: i64| r.max(at)));
            }
        }
        match retry_at {
            Some(retry_at) => Err(Refusal { retry_at }),
            None => Ok(()),
        }
    }

    /// The usage after one more event at `now`, allowed or not.
    pub fn record(&self, usage: &Usage, now: i64) -> Usage {
        let mut next = usage.clone();
        next.last = next.last.max(now);
        for rule in self.rules {
            if let Rule::Pace { every, .. } = *rule {
                next.whole_at = next.whole_at.max(now) + every;
            }
        }
        if self.keep() > 0 {
            let at = next.times.partition_point(|&t| t <= now);
            next.times.insert(at, now);
            let horizon = now - self.longest_window();
            next.times.retain(|&t| t > horizon);
            let excess = next.times.len().saturating_sub(self.keep());
            next.times.drain(..excess);
        } else {
            next.times.clear();
        }
        next
    }

    /// One more at `now` if the rules allow it: the usage after it, or when to come back.
    pub fn admit(&self, usage: &Usage, now: i64) -> Result<Usage, Refusal> {
        self.check(usage, now)?;
        Ok(self.record(usage, now))
    }

    /// The usage without one event recorded at `at` (a use given back because the request it
    /// was taken for went no further). Pace rules get their interval back too.
    pub fn forget_one(&self, usage: &Usage, at: i64) -> Usage {
        let mut next = usage.clone();
        if let Some(i) = next.times.iter().rposition(|&t| t == at) {
            next.times.remove(i);
        }
        for rule in self.rules {
            if let Rule::Pace { every, .. } = *rule {
                next.whole_at -= every;
            }
        }
        next
    }

    /// From when forgetting this usage changes no decision: every rule has recovered and the
    /// latest event is past remembering. The stored bucket may be deleted then.
    pub fn forgettable_at(&self, usage: &Usage) -> i64 {
        let mut at = usage.last + self.remember;
        for rule in self.rules {
            let recovered = match *rule {
                Rule::Pace { .. } => usage.whole_at,
                Rule::Window { per, .. } => usage.times.last().map_or(0, |t| t + per),
            };
            at = at.max(recovered);
        }
        at
    }

    fn keep(&self) -> usize {
        self.rules
            .iter()
            .map(|r| match *r {
                Rule::Window { max, .. } => max as usize,
                Rule::Pace { .. } => 0,
            })
            .max()
            .unwrap_or(0)
    }

    fn longest_window(&self) -> i64 {
        self.rules
            .iter()
            .map(|r| match *r {
                Rule::Window { per, .. } => per,
                Rule::Pace { .. } => 0,
            })
            .max()
            .unwrap_or(0)
    }
}

/// Whether a sign-in attempt may go on to have its password checked, given the failures recorded
/// for this account from this address (`pair`), for the account from anywhere, and for the address
/// on any account.
///
/// The per-account rule only stops addresses that failed on this account within its window: a
/// stranger guessing from many addresses makes every one of them wait, but the owner, coming
/// from an address with no recent failures, still signs in with the right password.
pub fn sign_in_allowed(pair: &Usage, account: &Usage, address: &Usage, now: i64) -> Result<(), Refusal> {
    SIGN_IN_ACCOUNT_ADDRESS.check(pair, now)?;
    SIGN_IN_ADDRESS.check(address, now)?;
    if let Err(busy) = SIGN_IN_ACCOUNT.check(account, now) {
        let since = now - SIGN_IN_ACCOUNT_WINDOW;
        if pair.active_since(since) {
            // Either the account calms down or this address's failures leave the window.
            let clean_at = pair.last + SIGN_IN_ACCOUNT_WINDOW;
            return Err(Refusal { retry_at: busy.retry_at.min(clean_at) });
        }
    }
    Ok(())
}

/// The part of a client address that identifies one client. An IPv6 user is usually given a
/// whole /64, so the address's last 64 bits cost nothing to change; the prefix is the client.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", std::net::Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_790_000_000;

    fn after(limit: &Limit, times: &[i64]) -> Usage {
        times.iter().fold(Usage::default(), |u, &t| limit.record(&u, t))
    }

    #[test]
    fn five_quick_sign_in_failures_then_one_a_minute() {
        let l = SIGN_IN_ACCOUNT_ADDRESS;
        let mut u = Usage::default();
        for i in 0..5 {
            u = l.admit(&u, T0 + i).unwrap_or_else(|_| panic!("failure {} is allowed", i + 1));
        }
        let refusal = l.check(&u, T0 + 5).unwrap_err();
        // The allowance refills one a minute from the first failure.
        assert_eq!(refusal.retry_at, T0 + 60);
        assert_eq!(refusal.retry_after(T0 + 5), 55);
        assert!(l.check(&u, T0 + 59).is_err());
        let u = l.admit(&u, T0 + 60).expect("one a minute after the burst");
        assert_eq!(l.check(&u, T0 + 61).unwrap_err().retry_at, T0 + 120);
        // A quiet spell restores the whole burst.
        let mut u = l.admit(&after(&l, &[T0, T0, T0, T0, T0]), T0 + 60).unwrap();
        for i in 0..5 {
            u = l.admit(&u, T0 + 60 + 6 * MINUTE + i).expect("burst restored");
        }
        assert!(l.check(&u, T0 + 60 + 6 * MINUTE + 5).is_err());
    }

    #[test]
    fn a_window_allows_its_maximum_in_any_stretch_of_its_length() {
        let l = Limit { name: "t", rules: &[Rule::Window { max: 5, per: HOUR }], remember: 0 };
        let u = after(&l, &[T0, T0 + 10, T0 + 20, T0 + 30, T0 + 40]);
        let refusal = l.check(&u, T0 + 50).unwrap_err();
        // The first one leaves the window an hour after it happened.
        assert_eq!(refusal.retry_at, T0 + HOUR);
        assert!(l.check(&u, T0 + HOUR - 1).is_err());
        let u = l.admit(&u, T0 + HOUR).expect("room again when the first one left");
        assert_eq!(l.check(&u, T0 + HOUR).unwrap_err().retry_at, T0 + 10 + HOUR);
        // Only what the rule needs is kept.
        assert_eq!(u.times, vec![T0 + 10, T0 + 20, T0 + 30, T0 + 40, T0 + HOUR]);
    }

    #[test]
    fn refused_attempts_are_not_recorded_by_admit() {
        let l = Limit { name: "t", rules: &[Rule::Window { max: 2, per: HOUR }], remember: 0 };
        let u = after(&l, &[T0, T0 + 1]);
        assert!(l.admit(&u, T0 + 2).is_err());
        // Hammering while refused does not push the retry time back.
        assert_eq!(l.check(&u, T0 + 3000).unwrap_err().retry_at, T0 + HOUR);
    }

    #[test]
    fn a_use_given_back_frees_its_place() {
        let l = Limit { name: "t", rules: &[Rule::Window { max: 2, per: HOUR }], remember: 0 };
        let u = after(&l, &[T0, T0 + 1]);
        let u = l.forget_one(&u, T0 + 1);
        assert_eq!(u.times, vec![T0]);
        assert!(l.check(&u, T0 + 2).is_ok());
        // Nothing recorded at that instant: nothing changes.
        assert_eq!(l.forget_one(&u, T0 + 7).times, vec![T0]);
        let p = SIGN_IN_ACCOUNT_ADDRESS;
        assert_eq!(p.forget_one(&after(&p, &[T0, T0]), T0).whole_at, T0 + MINUTE);
    }

    #[test]
    fn emails_to_one_address_three_an_hour_and_ten_a_day() {
        let l = EMAILS_TO_ADDRESS;
        let u = after(&l, &[T0, T0 + 60, T0 + 120]);
        assert_eq!(l.check(&u, T0 + 180).unwrap_err().retry_at, T0 + HOUR);
        // Three an hour, until the tenth of the day.
        let mut u = Usage::default();
        let mut sent = Vec::new();
        let mut now = T0;
        while now < T0 + DAY {
            match l.admit(&u, now) {
                Ok(next) => {
                    u = next;
                    sent.push(now);
                }
                Err(r) => now = r.retry_at,
            }
        }
        assert_eq!(sent.len(), 10, "{sent:?}");
        assert_eq!(&sent[..3], &[T0, T0, T0]);
        assert_eq!(sent[3], T0 + HOUR);
        // The eleventh waits until the first of the day is a day old.
        assert_eq!(l.check(&u, T0 + DAY - 1).unwrap_err().retry_at, T0 + DAY);
        // The longer window is the later answer when both refuse.
        let ten_quick: Vec<i64> = (0..10).map(|i| T0 + i * 7 * MINUTE).collect();
        let u = after(&l, &ten_quick);
        assert_eq!(l.check(&u, T0 + 70 * MINUTE).unwrap_err().retry_at, T0 + DAY);
    }

    #[test]
    fn a_stranger_cannot_lock_the_owner_out() {
        let none = Usage::default();
        // 50 failures on the account from other addresses in the last hour.
        let account = after(&SIGN_IN_ACCOUNT, &(0..50).map(|i| T0 + i).collect::<Vec<_>>());
        assert!(SIGN_IN_ACCOUNT.check(&account, T0 + 60).is_err());
        // The owner's address has no recent failures: the password is checked.
        assert_eq!(sign_in_allowed(&none, &account, &none, T0 + 60), Ok(()));
        // An address that failed on this account in the last hour waits for the earlier of the
        // account calming down and its own failure leaving the window.
        let pair = after(&SIGN_IN_ACCOUNT_ADDRESS, &[T0 + 30]);
        let refusal = sign_in_allowed(&pair, &account, &none, T0 + 60).unwrap_err();
        assert_eq!(refusal.retry_at, T0 + HOUR);
        // A failure more than an hour old no longer counts as recent.
        let old = after(&SIGN_IN_ACCOUNT_ADDRESS, &[T0 - HOUR - 1]);
        assert_eq!(sign_in_allowed(&old, &account, &none, T0 + 60), Ok(()));
        // With the account quiet, one failure from this address changes nothing.
        assert_eq!(sign_in_allowed(&pair, &none, &none, T0 + 60), Ok(()));
    }

    #[test]
    fn one_address_cannot_spray_many_accounts() {
        let address = after(&SIGN_IN_ADDRESS, &(0..30).map(|i| T0 + i).collect::<Vec<_>>());
        let none = Usage::default();
        let refusal = sign_in_allowed(&none, &none, &address, T0 + 40).unwrap_err();
        assert_eq!(refusal.retry_at, T0 + 10 * MINUTE);
    }

    #[test]
    fn a_usage_is_forgettable_once_it_decides_nothing() {
        let u = after(&SIGN_IN_ACCOUNT_ADDRESS, &[T0, T0]);
        // Allowance whole at T0+120, but the failure is remembered for the account window.
        assert_eq!(SIGN_IN_ACCOUNT_ADDRESS.forgettable_at(&u), T0 + HOUR);
        let u = after(&EMAILS_TO_ADDRESS, &[T0, T0 + 5]);
        assert_eq!(EMAILS_TO_ADDRESS.forgettable_at(&u), T0 + 5 + DAY);
        assert_eq!(EMAILS_TO_ADDRESS.forgettable_at(&Usage::default()), 0);
    }

    #[test]
    fn usage_text_round_trips_and_garbage_is_not_a_usage() {
        let u = after(&EMAILS_TO_ADDRESS, &[T0, T0 + 5, T0 + 9]);
        assert_eq!(u.encode(), format!("{} 0 {T0} {} {}", T0 + 9, T0 + 5, T0 + 9));
        assert_eq!(Usage::decode(&u.encode()), Some(u));
        assert_eq!(Usage::decode("0 0"), Some(Usage::default()));
        for bad in ["", "1", "1 x", "1 2 3 x", "1 2 9 3"] {
            assert_eq!(Usage::decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        assert_eq!(Refusal { retry_at: T0 + 90 }.retry_after(T0), 90);
        assert_eq!(Refusal { retry_at: T0 }.retry_after(T0), 1);
        assert_eq!(Refusal { retry_at: T0 - 5 }.retry_after(T0), 1);
    }

    #[test]
    fn an_ipv6_client_is_its_64_bit_prefix() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.7"), "203.0.113.7");
        assert_eq!(key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }
}
