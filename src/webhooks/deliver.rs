//! The webhook sender: leases due deliveries and POSTs them, signed, with the outbox's back-off
//! (`mail::sender`), safe to run in every `redress serve` on one database.
//!
//! - **Never twice after a 2xx**: a delivery is leased by one statement
//!   ([`store::lease_due`]), only the holder sends it, and a send ends ([`TIMEOUT`]) long before
//!   the lease does ([`LEASE`]; no send starts late in a lease). As with mail, the one window is
//!   a crash between the 2xx and recording it: the same payload `id` then arrives again.
//! - **Nothing lost**: a delivery leaves `pending` only as `delivered` or, after
//!   `REDRESS_MAIL_MAX_ATTEMPTS` attempts (the same retry policy as email), `failed`, which an
//!   admin can retry.
//! - **SSRF** (see `domain::webhook`): the client connects only to addresses its resolver
//!   checked, follows no redirect and uses no proxy; IP literals are checked before sending.
//!   Endpoints are checked when added too (`webhooks::add`), but only this check counts: DNS
//!   answers change.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::webhooks::{self as store, Leased};
use crate::db::{Db, DbError, now_unix};
use crate::domain::webhook::{is_forbidden, signature_header};
use crate::mail::sender::{backoff, one_line, with_retries};

/// The longest one delivery may take, connecting included: a slow receiver must not hold the
/// sender (or a lease) for long.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a lease lasts: many sends' worth, yet a dead server's deliveries resume within minutes.
pub const LEASE: Duration = Duration::from_secs(120);

#[derive(Clone, Debug)]
pub struct Settings {
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Deliveries leased at once.
    pub batch: usize,
    /// Requests in flight at once.
    pub parallel: usize,
    /// How often to look for due deliveries when there was nothing to do.
    pub poll: Duration,
    pub timeout: Duration,
}

impl Settings {
    /// The email outbox's retry policy (`REDRESS_MAIL_MAX_ATTEMPTS`, `REDRESS_MAIL_RETRY_*`).
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            max_attempts: config.mail.max_attempts,
            retry_base: Duration::from_secs(config.mail.retry_base_secs),
            retry_max: Duration::from_secs(config.mail.retry_max_secs),
            batch: 32,
            parallel: 8,
            poll: Duration::from_secs(1),
            timeout: TIMEOUT,
        }
    }
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub leased: usize,
    pub delivered: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub struct Deliverer {
    db: Db,
    settings: Arc<Settings>,
    /// Reaches public addresses only.
    guarded: reqwest::Client,
    /// For endpoints an admin allowed onto private addresses.
    open: reqwest::Client,
}

/// Resolves names like the system does, then keeps only public addresses: the client connects
/// to what this returns and nothing else, so a name cannot lead it inwards (DNS rebinding).
struct PublicOnly;

#[derive(Debug, thiserror::Error)]
#[error("refused: {0} resolves only to loopback, private or link-local addresses")]
struct InnerAddress(String);

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all.into_iter().filter(|a| !is_forbidden(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(InnerAddress(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Makes ring (the provider lettre and the SMTP sessions already use) the process's default
/// rustls provider. reqwest is built without a provider of its own (aws-lc-rs would add a C
/// toolchain to the build), so any client built without a preconfigured TLS setup needs this;
/// ours pass theirs explicitly. Harmless when one is installed already.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn client(guarded: bool, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_platform_verifier())
        .expect("ring supports the default protocol versions")
        .with_no_client_auth();
    let builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("Redress-Webhooks/", env!("CARGO_PKG_VERSION")));
    if guarded { builder.dns_resolver(PublicOnly).build() } else { builder.build() }
}

/// The error and its causes on one line (reqwest keeps the interesting part in the sources).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    one_line(&text)
}

enum Outcome {
    Delivered(u16),
    Failed { problem: String, status: Option<u16>, permanent: bool },
}

impl Deliverer {
    pub fn new(db: Db, settings: Settings) -> reqwest::Result<Deliverer> {
        let guarded = client(true, settings.timeout)?;
        let open = client(false, settings.timeout)?;
        Ok(Deliverer { db, settings: Arc::new(settings), guarded, open })
    }

    /// Leases one batch of due deliveries and tries each once; untried ones are handed back
    /// when `stop` is cancelled.
    pub async fn deliver_due(&self, stop: &CancellationToken) -> Result<Round, DbError> {
        let s = &self.settings;
        let now = now_unix();
        let leased = store::lease_due(&self.db, now, now + LEASE.as_secs() as i64, s.batch as i64).await?;
        let mut round = Round { leased: leased.len(), ..Round::default() };
        let last_start = Instant::now() + LEASE.saturating_sub(s.timeout * 2);
        let slots = Arc::new(Semaphore::new(s.parallel.max(1)));
        let mut sends = JoinSet::new();
        let mut untried = Vec::new();
        for delivery in leased {
            let give_back = || stop.is_cancelled() || Instant::now() > last_start;
            if give_back() {
                untried.push(delivery.id);
                continue;
            }
            let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
            if give_back() {
                untried.push(delivery.id);
                continue;
            }
            let me = self.clone();
            sends.spawn(async move {
                let done = me.deliver(delivery).await;
                drop(slot);
                done
            });
        }
        while let Some(done) = sends.join_next().await {
            match done {
                Ok(true) => round.delivered += 1,
                Ok(false) => round.failed += 1,
                Err(e) => {
                    tracing::error!(error = %e, "webhooks: a delivery task failed");
                    round.failed += 1;
                }
            }
        }
        for id in untried {
            if let Err(e) = store::release(&self.db, id).await {
                tracing::warn!(delivery_id = id, error = %e, "webhooks: could not release a lease; it will run out");
            }
        }
        Ok(round)
    }

    async fn attempt(&self, d: &Leased) -> Outcome {
        // An IP literal never reaches the resolver: check it here. Names, `localhost` included,
        // are checked on what they resolve to now (`PublicOnly`).
        let literal = match url::Url::parse(&d.url).ok().and_then(|u| u.host().map(|h| h.to_owned())) {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => {
                let problem = format!("refused: {} is not a URL with a host", d.url);
                return Outcome::Failed { problem, status: None, permanent: true };
            }
        };
        if let Some(ip) = literal.filter(|ip| !d.allow_private && is_forbidden(*ip)) {
            let problem = format!("refused: {ip} is a loopback, private or link-local address");
            return Outcome::Failed { problem, status: None, permanent: true };
        }
        let t = jiff::Timestamp::now().as_second();
        let client = if d.allow_private { &self.open } else { &self.guarded };
        let request = client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Redress-Signature", signature_header(&d.secret, t, &d.body))
            .header("Redress-Event-Id", &d.event_id)
            .body(d.body.clone());
        match request.send().await {
            Ok(response) if response.status().is_success() => Outcome::Delivered(response.status().as_u16()),
            Ok(response) => {
                let status = response.status();
                let problem = match response.headers().get(reqwest::header::LOCATION) {
                    Some(_) if status.is_redirection() => format!("HTTP {status}: redirects are not followed"),
                    _ => format!("HTTP {status}"),
                };
                Outcome::Failed { problem, status: Some(status.as_u16()), permanent: false }
            }
            Err(e) => Outcome::Failed { problem: chain(&e), status: None, permanent: false },
        }
    }

    /// Tries one delivery and records the outcome. True when the endpoint answered 2xx.
    async fn deliver(&self, d: Leased) -> bool {
        match self.attempt(&d).await {
            Outcome::Delivered(status) => {
                let recorded = with_retries(|| store::mark_delivered(&self.db, d.id, status, now_unix())).await;
                if let Err(e) = recorded {
                    // Delivered but not recorded: after the lease it goes again, with the same id.
                    tracing::error!(delivery_id = d.id, error = %e, "webhooks: delivered, but could not record it");
                }
                true
            }
            Outcome::Failed { problem, status, permanent } => {
                let s = &self.settings;
                let failures = d.attempts.max(0) as u32 + 1;
                let give_up = permanent || failures >= s.max_attempts;
                let next = now_unix() + backoff(s.retry_base, s.retry_max, failures).as_secs().max(1) as i64;
                tracing::warn!(delivery_id = d.id, attempts = failures, give_up, error = %problem, "webhooks: delivery failed");
                if let Err(e) =
                    with_retries(|| store::record_failure(&self.db, d.id, &problem, status, next, give_up)).await
                {
                    tracing::error!(delivery_id = d.id, error = %e, "webhooks: could not record a failure");
                }
                false
            }
        }
    }

    /// Delivers until `stop` is cancelled: again at once after a full batch, else after `poll`.
    pub async fn run(self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let more = match self.deliver_due(&stop).await {
                Ok(round) => round.leased == self.settings.batch,
                Err(e) => {
                    tracing::warn!(error = %e, "webhooks: could not lease deliveries");
                    false
                }
            };
            if !more {
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.poll) => {}
                    _ = stop.cancelled() => {}
                }
            }
        }
    }
}

/// Starts the webhook sender; it ends once `stop` is cancelled.
pub fn spawn(config: &Config, db: &Db, stop: CancellationToken) -> JoinHandle<()> {
    let deliverer = Deliverer::new(db.clone(), Settings::from_config(config)).expect("the HTTP client builds");
    tokio::spawn(deliverer.run(stop))
}
