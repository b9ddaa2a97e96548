//! Webhooks (DESIGN.md §7): endpoints that receive each case event they may see, as signed JSON.
//!
//! Events are written to `webhook_deliveries` in the transaction of the change that causes them
//! (next to the email notices, `cases::notify`), and [`deliver`] sends them in the background
//! with the outbox's leases and back-off. Why private addresses are refused: see
//! `domain::webhook`.

use std::net::IpAddr;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::json;

use crate::accounts::{BindingProblem, binding_problem};
use crate::cases::view;
use crate::db::cases::{self, CaseRow};
use crate::db::webhooks::{self as store, NewEndpoint};
use crate::db::{Db, DbError, Tx};
use crate::domain::access::Viewer;
use crate::domain::case_state::Event;
use crate::domain::role::Role;
use crate::domain::webhook::{Events, UrlProblem, check_url, is_forbidden};

pub mod deliver;

/// Queues `events` of the case as it now stands for every active endpoint that takes them and
/// may see the case. `occurrence` (the audit event's id) names the event: the same change
/// written twice is one delivery per endpoint.
pub async fn queue(
    tx: &mut Tx,
    tz: &TimeZone,
    case: &CaseRow,
    events: &[Event],
    occurrence: i64,
) -> Result<(), DbError> {
    if events.is_empty() {
        return Ok(());
    }
    let subscribers = store::active_in_tx(tx).await?;
    if subscribers.is_empty() {
        return Ok(());
    }
    // One instant for the event, whichever endpoint receives it.
    let created_at = Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut body = None;
    for sub in &subscribers {
        let Some(role) = Role::parse(&sub.role) else { continue };
        let viewer = Viewer { role, user_id: None, token_id: None, merchants: &sub.merchants };
        if !viewer.may_see_case(&case.scope()) {
            continue;
        }
        let Ok(wanted) = Events::parse(&[sub.events.as_str()]) else { continue };
        // The case JSON is read once, and only when someone will receive it.
        let case_json = match &body {
            Some(json) => json,
            None => {
                let matched = cases::matched_debits_in_tx(tx, case.id).await?;
                body.insert(view::case_json(case, &matched, tz))
            }
        };
        let mut seen = Vec::new();
        for &event in events.iter().filter(|e| wanted.includes(**e)) {
            if seen.contains(&event) {
                continue;
            }
            seen.push(event);
            let id = event_id(occurrence, event);
            let payload = json!({
                "id": id,
                "event": event.as_str(),
                "created_at": created_at,
                "case": case_json,
            });
            store::enqueue(tx, sub.id, &id, event.as_str(), Some(case.id), &payload.to_string()).await?;
        }
    }
    Ok(())
}

/// The payload's `id`: the same for every endpoint and every attempt, so a receiver can tell a
/// repeated delivery (sent, then the server died before recording it) from a new event.
pub fn event_id(occurrence: i64, event: Event) -> String {
    format!("evt_{occurrence}_{}", event.as_str())
}

/// What an admin (page or command line) asks for.
pub struct Request<'a> {
    pub url: &'a str,
    pub events: &'a [String],
    /// Empty: every case (the desk's scope); else only these merchants' cases.
    pub merchants: &'a [String],
    pub allow_private: bool,
    pub created_by: Option<i64>,
}

/// Why an endpoint was not added.
#[derive(Debug)]
pub enum AddError {
    Url(UrlProblem),
    /// An event name that is not a case event (empty: none given).
    Events(String),
    Merchants(BindingProblem),
    Db(DbError),
}

impl From<DbError> for AddError {
    fn from(e: DbError) -> AddError {
        AddError::Db(e)
    }
}

impl AddError {
    /// The catalog key and arguments that say what is wrong.
    pub fn message(&self) -> (&'static str, Vec<(&'static str, String)>) {
        match self {
            AddError::Url(p) => (p.message_key(), Vec::new()),
            AddError::Events(name) if name.is_empty() => ("webhooks.error.no_events", Vec::new()),
            AddError::Events(name) => ("webhooks.error.unknown_event", vec![("name", name.clone())]),
            AddError::Merchants(p) => (p.key, p.args.clone()),
            AddError::Db(_) => ("error.http.internal", Vec::new()),
        }
    }
}

/// Adds an endpoint and returns its id and signing secret (shown once). A URL whose host is, or
/// resolves to, an inner address is refused unless `allow_private`; deliveries check again.
pub async fn add(db: &Db, req: &Request<'_>) -> Result<(i64, String), AddError> {
    let url = check_url(req.url, req.allow_private).map_err(AddError::Url)?;
    if !req.allow_private
        && let Some(url::Host::Domain(name)) = url.host()
        && resolves_inwards(name, url.port_or_known_default().unwrap_or(443)).await
    {
        return Err(AddError::Url(UrlProblem::Private));
    }
    let events = Events::parse(req.events).map_err(AddError::Events)?;
    let role = if req.merchants.is_empty() { Role::Agent } else { Role::Merchant };
    if let Some(p) = binding_problem(db, role, req.merchants).await? {
        return Err(AddError::Merchants(p));
    }
    let secret = format!("whsec_{}", crate::auth::token::generate());
    let id = store::create(
        db,
        &NewEndpoint {
            url: url.as_str(),
            events: &events.stored(),
            role: role.as_str(),
            merchant_ids: req.merchants,
            secret: &secret,
            allow_private: req.allow_private,
            created_by: req.created_by,
        },
    )
    .await?;
    Ok((id, secret))
}

/// True when the name resolves to any inner address now. A name that does not resolve yet is
/// let through: every delivery resolves it again and refuses inner addresses then.
async fn resolves_inwards(name: &str, port: u16) -> bool {
    let lookup = tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((name, port))).await;
    match lookup {
        Ok(Ok(addrs)) => addrs.map(|a| a.ip()).any(|ip: IpAddr| is_forbidden(ip)),
        _ => false,
    }
}
