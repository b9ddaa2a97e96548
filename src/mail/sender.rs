//! The outbox sender: a background task that leases due notices and delivers them over SMTP,
//! with exponential back-off on failure, safe to run in several processes on one database.
//!
//! Guarantees and their limits:
//! - **Nothing is lost**: a notice leaves `pending` only as `sent` (after the server accepted
//!   it) or `failed` (after `REDRESS_MAIL_MAX_ATTEMPTS`; an admin can retry it).
//! - **Nothing is sent twice by two processes**: a notice is leased by one statement
//!   ([`outbox::claim_due`]) and only the holder sends it; sends end long before the lease
//!   does ([`smtp::SEND_TIMEOUT`] < [`LEASE`]; no send starts late in a lease).
//! - **A crash between "the server accepted it" and "recorded as sent"** is the one window
//!   where a notice goes out again after the lease ends; it carries the same Message-ID
//!   ([`smtp::message_id`]), so mail systems and people can tell it is the same message.
//!
//! Every SMTP or network error counts as an attempt and is retried after the back-off: a 5xx
//! reply can come from a misconfigured server (wrong password, relay denied) as well as from a
//! bad address, and giving up on the first would fail the whole outbox at once. Only an address
//! that does not even parse fails at the first attempt.
//!
//! Leases compare the wall clocks of the processes sharing the database, so hosts running
//! `redress serve` side by side need synchronised clocks (NTP): a skew of minutes could let one
//! take over a notice another is still sending.

use std::sync::Arc;
use std::time::Duration;

use lettre::Message;
use lettre::message::Mailbox;
use tokio::sync::{Mutex, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::smtp::{self, Outgoing, Session, SmtpSettings};
use crate::config::Config;
use crate::db::outbox::{self, Claimed};
use crate::db::{Db, DbError, now_unix};

/// How long a lease lasts. Long enough for a whole batch of slow sends, short enough that a
/// crashed process's notices go out again within minutes.
pub const LEASE: Duration = Duration::from_secs(300);

/// How the sender works; [`SenderSettings::from_config`] gives the production values.
#[derive(Clone, Debug)]
pub struct SenderSettings {
    pub smtp: SmtpSettings,
    pub from: Mailbox,
    /// The right-hand side of Message-IDs: the host of `REDRESS_BASE_URL`.
    pub message_id_domain: String,
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Notices leased at once.
    pub batch: usize,
    /// SMTP connections used in parallel (and kept open between notices).
    pub connections: u32,
    /// How often to look for due notices when there was nothing to do.
    pub poll: Duration,
}

impl SenderSettings {
    /// `None` when no mail server is configured: notices then stay in the outbox.
    pub fn from_config(config: &Config) -> Option<SenderSettings> {
        let smtp = config.mail.smtp.clone()?;
        Some(SenderSettings {
            smtp,
            from: config.mail_from.parse().expect("REDRESS_MAIL_FROM is checked when the configuration is read"),
            message_id_domain: config.base_url.host_str().unwrap_or("localhost").to_owned(),
            max_attempts: config.mail.max_attempts,
            retry_base: Duration::from_secs(config.mail.retry_base_secs),
            retry_max: Duration::from_secs(config.mail.retry_max_secs),
            batch: 32,
            connections: 4,
            poll: Duration::from_secs(1),
        })
    }

    /// The wait before attempt `failures + 1`, after `failures` failed ones: the base doubled
    /// per earlier failure, capped, plus up to a tenth more so that many notices failed together
    /// (a mail server outage) do not all come back in the same second.
    pub fn backoff(&self, failures: u32) -> Duration {
        backoff(self.retry_base, self.retry_max, failures)
    }
}

/// [`SenderSettings::backoff`] for any queue with the same retry policy (webhook deliveries too).
pub fn backoff(base: Duration, max: Duration, failures: u32) -> Duration {
    let doubling = 2u32.saturating_pow(failures.saturating_sub(1));
    let delay = base.saturating_mul(doubling).min(max);
    let jitter_ms = rand::random_range(0..=delay.as_millis() as u64 / 10);
    delay + Duration::from_millis(jitter_ms)
}

/// What one delivery round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    pub leased: usize,
    pub sent: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub struct Sender {
    db: Db,
    settings: Arc<SenderSettings>,
    /// Open SMTP sessions not in use right now (at most `connections`).
    idle: Arc<Mutex<Vec<Session>>>,
}

impl Sender {
    pub fn new(db: Db, settings: SenderSettings) -> Sender {
        Sender { db, settings: Arc::new(settings), idle: Arc::default() }
    }

    /// Leases one batch of due notices and tries each once. Stops starting sends when `stop`
    /// is cancelled and hands the untried notices back.
    pub async fn deliver_due(&self, stop: &CancellationToken) -> Result<Round, DbError> {
        let s = &self.settings;
        let now = now_unix();
        let leased = outbox::claim_due(&self.db, now, now + LEASE.as_secs() as i64, s.batch as i64).await?;
        let mut round = Round { leased: leased.len(), ..Round::default() };
        // A send may take up to SEND_TIMEOUT; starting one later than this could outlive the lease.
        let last_start = Instant::now() + LEASE.saturating_sub(smtp::SEND_TIMEOUT * 2);
        let slots = Arc::new(Semaphore::new(s.connections.max(1) as usize));
        let mut sends = JoinSet::new();
        let mut untried = Vec::new();
        let give_back = || stop.is_cancelled() || Instant::now() > last_start;
        for notice in leased {
            if give_back() {
                untried.push(notice.id);
                continue;
            }
            let slot = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
            // Waiting for a slot takes as long as a send: look again.
            if give_back() {
                untried.push(notice.id);
                continue;
            }
            let sender = self.clone();
            sends.spawn(async move {
                let outcome = sender.deliver(notice).await;
                drop(slot);
                outcome
            });
        }
        while let Some(outcome) = sends.join_next().await {
            match outcome {
                Ok(true) => round.sent += 1,
                Ok(false) => round.failed += 1,
                Err(e) => {
                    // A panic in one delivery must not stop the others; its lease runs out.
                    tracing::error!(error = %e, "outbox: a delivery task failed");
                    round.failed += 1;
                }
            }
        }
        for id in untried {
            if let Err(e) = outbox::release(&self.db, id).await {
                tracing::warn!(outbox_id = id, error = %e, "outbox: could not release a lease; it will run out");
            }
        }
        Ok(round)
    }

    /// Tries one notice and records the outcome. True when it was sent.
    async fn deliver(&self, notice: Claimed) -> bool {
        let s = &self.settings;
        let outgoing = Outgoing {
            message_id: smtp::message_id(notice.id, &notice.notice_key, &s.message_id_domain),
            to: &notice.recipient,
            subject: &notice.subject,
            text: &notice.body_text,
            html: &notice.body_html,
        };
        let result = match smtp::build_message(&s.from, &outgoing) {
            // An address that does not parse never will: no point in retrying.
            Err(problem) => Err((problem, true)),
            Ok(message) => match tokio::time::timeout(smtp::SEND_TIMEOUT, self.send(&message)).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(problem)) => Err((problem, false)),
                Err(_) => {
                    Err((format!("no answer from the mail server within {} s", smtp::SEND_TIMEOUT.as_secs()), false))
                }
            },
        };
        match result {
            Ok(()) => {
                let recorded = with_retries(|| outbox::mark_sent(&self.db, notice.id, now_unix())).await;
                if let Err(e) = recorded {
                    // Sent but not recorded: after the lease it goes out again, same Message-ID.
                    tracing::error!(outbox_id = notice.id, error = %e, "outbox: sent, but could not record it");
                }
                tracing::debug!(outbox_id = notice.id, event = %notice.event, "outbox: notice sent");
                true
            }
            Err((problem, permanent)) => {
                let failures = notice.attempts.max(0) as u32 + 1;
                let give_up = permanent || failures >= s.max_attempts;
                let next = now_unix() + s.backoff(failures).as_secs().max(1) as i64;
                tracing::warn!(
                    outbox_id = notice.id,
                    event = %notice.event,
                    attempts = failures,
                    give_up,
                    error = %problem,
                    "outbox: delivery failed"
                );
                if let Err(e) =
                    with_retries(|| outbox::record_failure(&self.db, notice.id, &problem, next, give_up)).await
                {
                    tracing::error!(outbox_id = notice.id, error = %e, "outbox: could not record a failure");
                }
                false
            }
        }
    }

    /// Sends over an idle session when there is a fresh one, else over a new one; a session
    /// that failed is dropped, because it may be stuck half-way through a transaction.
    async fn send(&self, message: &Message) -> Result<(), String> {
        let reused = {
            let mut idle = self.idle.lock().await;
            std::iter::from_fn(|| idle.pop()).find(Session::is_fresh)
        };
        let mut session = match reused {
            Some(session) => session,
            None => self.settings.smtp.connect().await?,
        };
        session.send(message).await.map_err(|e| one_line(&e))?;
        self.idle.lock().await.push(session);
        Ok(())
    }

    /// Delivers until `stop` is cancelled: at once again after a full batch, else after `poll`.
    /// Sends in flight finish and untried leases are handed back before it returns.
    pub async fn run(self, stop: CancellationToken) {
        tracing::info!(
            host = %self.settings.smtp.host,
            port = self.settings.smtp.port,
            tls = ?self.settings.smtp.tls,
            "outbox sender started"
        );
        while !stop.is_cancelled() {
            let more = match self.deliver_due(&stop).await {
                // A full batch means more may be due. Failures do not spin: each one is put off.
                Ok(round) => round.leased == self.settings.batch,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox: could not lease notices");
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
        for session in self.idle.lock().await.drain(..) {
            session.quit().await;
        }
    }
}

/// Starts the sender when `REDRESS_SMTP_URL` is set; without it notices wait in the outbox and
/// there is no task. The task ends once `stop` is cancelled (see [`Sender::run`]).
pub fn spawn(config: &Config, db: &Db, stop: CancellationToken) -> Option<JoinHandle<()>> {
    match SenderSettings::from_config(config) {
        None => {
            tracing::info!("no REDRESS_SMTP_URL: email notices stay in the outbox (/admin/outbox)");
            None
        }
        Some(settings) => Some(tokio::spawn(Sender::new(db.clone(), settings).run(stop))),
    }
}

/// Database writes after a send are worth a few tries: giving up on `mark_sent` means the
/// notice goes out a second time.
pub(crate) async fn with_retries<F, Fut>(mut f: F) -> Result<bool, DbError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<bool, DbError>>,
{
    let mut wait = Duration::from_millis(100);
    for _ in 0..4 {
        match f().await {
            Ok(done) => return Ok(done),
            Err(e) => tracing::warn!(error = %e, "outbox: database write failed, trying again"),
        }
        tokio::time::sleep(wait).await;
        wait *= 3;
    }
    f().await
}

/// Errors from lettre can include server replies over several lines; the outbox keeps one line,
/// short enough to read on the admin page.
pub(crate) fn one_line(e: &dyn std::fmt::Display) -> String {
    let line = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(base: u64, max: u64) -> SenderSettings {
        SenderSettings {
            smtp: SmtpSettings::parse("smtp://127.0.0.1:25", None, None).unwrap(),
            from: "Redress <no-reply@example.com>".parse().unwrap(),
            message_id_domain: "example.com".into(),
            max_attempts: 10,
            retry_base: Duration::from_secs(base),
            retry_max: Duration::from_secs(max),
            batch: 32,
            connections: 4,
            poll: Duration::from_secs(1),
        }
    }

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap_with_a_little_jitter() {
        let s = settings(30, 3600);
        for (failures, base) in [(1, 30), (2, 60), (3, 120), (4, 240), (7, 1920), (8, 3600), (30, 3600)] {
            for _ in 0..50 {
                let d = s.backoff(failures).as_secs_f64();
                assert!(d >= base as f64 && d <= base as f64 * 1.1 + 0.001, "{failures}: {d}");
            }
        }
        let spread: std::collections::HashSet<u128> = (0..50).map(|_| s.backoff(5).as_millis()).collect();
        assert!(spread.len() > 1, "no jitter");
    }

    #[test]
    fn error_lines_are_single_and_short() {
        assert_eq!(one_line(&"permanent error (550):\n  no such\r\n user"), "permanent error (550): no such user");
        let long = "x".repeat(1000);
        assert_eq!(one_line(&long).chars().count(), 301);
    }
}
