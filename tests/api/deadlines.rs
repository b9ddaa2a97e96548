//! The clock (DESIGN.md §6): passed deadlines go to the desk and tell the agents, quiet outcomes
//! close, and several servers sweeping one database handle each case exactly once.

use jiff::{SignedDuration, Timestamp};
use redress::cases::MatchContext;
use redress::cases::sweep::{self, Swept};
use redress::domain::role::Role;

use std::time::Duration;

use crate::helpers::{Server, case, events, eventually, file, file_for, mails, with_samples};

fn at(unix: i64) -> Timestamp {
    Timestamp::from_second(unix).unwrap()
}

#[tokio::test]
async fn a_passed_deadline_goes_to_the_desk_once_per_deadline_and_quiet_outcomes_close() {
    let app = with_samples().await;
    let _desk = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let ctx = MatchContext::new(&app.config);
    let waiting = file(&app, 17).await; // awaiting_merchant: 2 business days
    let outcome = file(&app, 0).await; // resolved at once
    let due = case(&app, waiting).await.deadline_at.expect("the merchant has a deadline");

    // Before the deadline nothing happens.
    let early = sweep::run_once(&app.db, &ctx, at(due - 1)).await.unwrap();
    assert_eq!(early, Swept::default());
    assert_eq!(case(&app, waiting).await.state.as_str(), "awaiting_merchant");

    // Past it: to the desk, the agents told, and a new deadline for their decision.
    let swept = sweep::run_once(&app.db, &ctx, at(due + 1)).await.unwrap();
    assert_eq!(swept, Swept { missed: 1, closed: 0 });
    let moved = case(&app, waiting).await;
    assert_eq!(moved.state.as_str(), "under_review");
    let decision_due = moved.deadline_at.unwrap();
    assert!(decision_due > due + 4 * 86_400, "five business days for the desk");
    assert_eq!(mails(&app, "deadline_missed", "desk@bank.example").await.len(), 1);
    let last = events(&app, waiting).await.pop().unwrap();
    assert_eq!(last, ("deadline_passed".to_owned(), "under_review".to_owned()));

    // Sweeping again at the same moment, or any time before the new deadline, does nothing more.
    assert_eq!(sweep::run_once(&app.db, &ctx, at(due + 1)).await.unwrap(), Swept::default());
    assert_eq!(sweep::run_once(&app.db, &ctx, at(decision_due - 1)).await.unwrap(), Swept::default());

    // The desk's own deadline passes: the case stays, the agents are told once.
    let version = case(&app, waiting).await.version;
    assert_eq!(sweep::run_once(&app.db, &ctx, at(decision_due + 1)).await.unwrap(), Swept { missed: 1, closed: 0 });
    let still = case(&app, waiting).await;
    assert_eq!((still.state.as_str(), still.version), ("under_review", version + 1));
    assert_eq!(mails(&app, "deadline_missed", "desk@bank.example").await.len(), 2);
    let later = at(decision_due + 1) + SignedDuration::from_hours(72);
    assert_eq!(sweep::run_once(&app.db, &ctx, later).await.unwrap(), Swept::default());

    // The resolved case closes after 30 quiet days, not before.
    let quiet_from = case(&app, outcome).await.updated_at;
    let almost = at(quiet_from) + SignedDuration::from_hours(30 * 24);
    assert_eq!(sweep::run_once(&app.db, &ctx, almost).await.unwrap().closed, 0);
    assert_eq!(case(&app, outcome).await.state.as_str(), "resolved");
    let past = almost + SignedDuration::from_secs(2);
    assert_eq!(sweep::run_once(&app.db, &ctx, past).await.unwrap().closed, 1);
    assert_eq!(case(&app, outcome).await.state.as_str(), "closed");
    assert_eq!(events(&app, outcome).await.pop().unwrap(), ("close".to_owned(), "closed".to_owned()));
    // The open case is never closed, however quiet.
    assert_eq!(case(&app, waiting).await.state.as_str(), "under_review");
}

/// Two servers (two connection pools) sweep the same 40 overdue cases at once: each case moves
/// once, has one `deadline_passed` event and one `deadline_missed` notice per agent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sweepers_on_one_database_handle_each_case_exactly_once() {
    const N: usize = 40;
    let app = with_samples().await;
    let _desk = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let _night = app.signed_in(Role::Agent, "night@bank.example", &[]).await;
    let mut ids = Vec::new();
    for i in 0..N {
        ids.push(file_for(&app, 17, &format!("holder17-{i}")).await);
    }
    let due = case(&app, ids[N - 1]).await.deadline_at.unwrap();
    let now = at(due + 1);

    // A lease keeps a case from a second sweeper until it runs out.
    let quiet_before = now.as_second() - 30 * 86_400;
    let other = app.connect_again().await;
    let held =
        redress::db::cases::lease_due(&app.db, now.as_second(), quiet_before, now.as_second() + 60, 3).await.unwrap();
    assert_eq!(held.len(), 3);
    let rest =
        redress::db::cases::lease_due(&other, now.as_second(), quiet_before, now.as_second() + 60, 100).await.unwrap();
    assert_eq!(rest.len(), N - 3, "the second sweeper skips the three held cases");
    assert!(rest.iter().all(|r| held.iter().all(|h| h.id != r.id)));

    // Leases run out a minute later; then both sweep together, in small batches.
    let later = now + SignedDuration::from_secs(120);
    let (ctx_a, ctx_b) = (MatchContext::new(&app.config), MatchContext::new(&app.config));
    let (a, b) =
        tokio::join!(sweep::run_in_batches(&app.db, &ctx_a, later, 4), sweep::run_in_batches(&other, &ctx_b, later, 4));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.missed + b.missed, N as u64, "every case once ({} + {})", a.missed, b.missed);
    for id in &ids {
        assert_eq!(case(&app, *id).await.state.as_str(), "under_review");
        let passed = events(&app, *id).await.into_iter().filter(|(a, _)| a == "deadline_passed").count();
        assert_eq!(passed, 1, "case {id}");
    }
    for agent in ["desk@bank.example", "night@bank.example"] {
        assert_eq!(mails(&app, "deadline_missed", agent).await.len(), N, "{agent}");
    }
    other.close().await;
}

/// The same as real processes: two `redress serve` on one database (SQLite file or PostgreSQL)
/// find 30 cases overdue as they start, and between them move each case, and tell each agent
/// about it, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_sweeping_one_database_handle_each_case_once() {
    const N: usize = 30;
    let app = with_samples().await;
    let _desk = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let _night = app.signed_in(Role::Agent, "night@bank.example", &[]).await;
    let mut ids = Vec::new();
    for i in 0..N {
        ids.push(file_for(&app, 17, &format!("holder17-{i}")).await);
    }
    let past = Timestamp::now().as_second() - 60;
    let mut tx = app.db.begin().await.unwrap();
    tx.execute_sql(&format!(
        "UPDATE cases SET deadline_at = {past} WHERE state IN ('awaiting_merchant', 'under_review')"
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    // Nothing listens on this port: notices stay in the outbox, where they are counted.
    let smtp = format!("smtp://127.0.0.1:{}", crate::smtp_server::free_port());
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("serve.log");
    let (a, b) = tokio::join!(
        Server::start_with(&app.database_url, &smtp, &[], &log),
        Server::start_with(&app.database_url, &smtp, &[], &log)
    );
    // Cases already `under_review` do not change state, only gain the event: wait for that too,
    // or a sweep slowed by a busy machine is taken for one that did nothing.
    eventually("every overdue case is with the desk, its deadline reported", Duration::from_secs(30), || async {
        let mut all = true;
        for id in &ids {
            all &= case(&app, *id).await.state.as_str() == "under_review";
            all &= events(&app, *id).await.iter().any(|(a, _)| a == "deadline_passed");
        }
        all
    })
    .await;
    // Give a late second sweep its chance to do anything twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    a.stop();
    b.stop();

    for id in &ids {
        let passed = events(&app, *id).await.into_iter().filter(|(a, _)| a == "deadline_passed").count();
        assert_eq!(passed, 1, "case {id}");
    }
    for agent in ["desk@bank.example", "night@bank.example"] {
        assert_eq!(mails(&app, "deadline_missed", agent).await.len(), N, "{agent}");
    }
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.contains("deadline sweep"), "the servers' sweeps did the work:\n{log}");
}
