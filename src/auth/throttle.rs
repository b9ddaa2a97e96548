//! Login throttling per account and per client address (in memory, per process).
//!
//! Every attempt counts, successful or not, and is checked before the password is: a burst of
//! five quick attempts per account, then one a minute; per address, a burst of thirty.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

pub struct LoginThrottle {
    per_account: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
}

pub const ACCOUNT_BURST: u32 = 5;
const ADDRESS_BURST: u32 = 30;

impl Default for LoginThrottle {
    fn default() -> Self {
        let quota = |period: Duration, burst: u32| {
            Quota::with_period(period)
                .expect("period is positive")
                .allow_burst(NonZeroU32::new(burst).expect("burst > 0"))
        };
        LoginThrottle {
            per_account: RateLimiter::keyed(quota(Duration::from_secs(60), ACCOUNT_BURST)),
            per_address: RateLimiter::keyed(quota(Duration::from_secs(5), ADDRESS_BURST)),
        }
    }
}

impl LoginThrottle {
    /// Records an attempt; false when the account or the address has used its allowance.
    pub fn allow(&self, normalized_email: &str, address: IpAddr) -> bool {
        // Check both so that a blocked address still uses up the account's allowance and vice versa.
        let account_ok = self.per_account.check_key(&normalized_email.to_owned()).is_ok();
        let address_ok = self.per_address.check_key(&address).is_ok();
        account_ok && address_ok
    }

    /// Forgets keys that have fully recovered, so memory stays bounded.
    pub fn prune(&self) {
        self.per_account.retain_recent();
        self.per_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_quick_attempt_on_one_account_is_refused() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        for i in 0..ACCOUNT_BURST {
            // Different addresses each time: spoofing addresses does not help.
            let ip: IpAddr = format!("10.0.1.{i}").parse().unwrap();
            assert!(t.allow("a@example.com", ip));
        }
        assert!(!t.allow("a@example.com", ip));
        assert!(t.allow("b@example.com", ip), "other accounts are unaffected");
    }

    #[test]
    fn one_address_cannot_spray_many_accounts() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        let allowed = (0..100).filter(|i| t.allow(&format!("user{i}@example.com"), ip)).count();
        assert_eq!(allowed, ADDRESS_BURST as usize);
    }
}
