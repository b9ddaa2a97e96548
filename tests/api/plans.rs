//! Query plans behind the list pages and the dashboard (issue #19), on whichever engine the suite
//! runs on: none may read the whole cases table, and a list with one merchant and state at most
//! may not sort its matches (its index must give them in order). A million cases make either
//! mistake a page of seconds; here it fails before anyone waits.

use redress::db::queue::{self, Assignee, OPEN_STATES, QueueCursor, QueueSearch};

use crate::helpers::TestApp;

/// A step that reads every row of `cases`: SQLite's `SCAN c` (or `SCAN cases`) without an index,
/// PostgreSQL's sequential scan (the plan is taken with sequential scans discouraged).
fn scans_cases(line: &str) -> bool {
    let line = line.trim();
    let sqlite = ["SCAN c", "SCAN cases"]
        .iter()
        .any(|s| line == *s || line.starts_with(&format!("{s} ")) && !line.contains(" USING "));
    sqlite || line.contains("Seq Scan on cases")
}

/// A step that sorts what it read: SQLite's temporary B-tree, PostgreSQL's Sort node (taken with
/// sorts discouraged, so one appears only where no index gives the order).
fn sorts(line: &str) -> bool {
    let step = line.trim().trim_start_matches("->").trim();
    line.contains("TEMP B-TREE FOR ORDER BY") || step.starts_with("Sort ")
}

fn searches() -> Vec<(String, QueueSearch)> {
    let open: Vec<String> = OPEN_STATES.iter().map(|s| s.to_string()).collect();
    let scopes: [(&str, Option<Vec<String>>); 3] = [
        ("desk", None),
        ("one merchant", Some(vec!["806276126745394".into()])),
        ("two merchants", Some(vec!["806276126745394".into(), "814035381332293".into()])),
    ];
    let states: [(&str, Vec<String>); 3] =
        [("every state", Vec::new()), ("open", open), ("under_review", vec!["under_review".into()])];
    let filters: Vec<(&str, fn(&mut QueueSearch))> = vec![
        ("no filter", |_| {}),
        ("kind", |s| s.kind = Some("no_receipt".into())),
        ("finding", |s| s.finding = Some("ambiguous".into())),
        ("terminal", |s| s.terminal_id = Some("27161971".into())),
        ("last4", |s| s.last4 = Some("0042".into())),
        ("assignee", |s| s.assignee = Some(Assignee::User(7))),
        ("nobody's", |s| s.assignee = Some(Assignee::Nobody)),
        ("overdue", |s| s.due_by = Some(1_800_000_000)),
        ("older", |s| s.filed_by = Some(1_800_000_000)),
        ("rrn", |s| s.rrn = Some("000000000042".into())),
        ("case id", |s| s.case_id = Some(42)),
        ("page 2", |s| s.after = Some(QueueCursor { deadline: 1_800_000_000, id: 42 })),
    ];
    let mut all = Vec::new();
    for (scope, merchants) in &scopes {
        for (state, list) in &states {
            for (filter, apply) in &filters {
                let mut search =
                    QueueSearch { merchants: merchants.clone(), states: list.clone(), ..QueueSearch::default() };
                apply(&mut search);
                all.push((format!("{scope}, {state}, {filter}"), search));
            }
        }
    }
    all
}

#[tokio::test]
async fn no_list_reads_the_whole_cases_table_or_sorts_all_it_matches() {
    let app = TestApp::spawn().await;
    let mut bad = Vec::new();
    for (name, search) in searches() {
        let plan = queue::explain_page(&app.db, &search, 50).await.unwrap();
        let text = plan.join("\n");
        if plan.iter().any(|l| scans_cases(l)) {
            bad.push(format!("{name}: scans the cases table\n{text}"));
        }
        // One arm, filtered by neither a few known ids nor an RRN: the index must give the order.
        let one_arm = search.merchants.as_ref().is_none_or(|m| m.len() == 1) && search.states.len() <= 1;
        let few_ids = search.rrn.is_some() || search.case_id.is_some();
        if one_arm && !few_ids && plan.iter().any(|l| sorts(l)) {
            bad.push(format!("{name}: sorts every matching case\n{text}"));
        }
    }
    assert!(bad.is_empty(), "{} of {} list plans are wrong:\n\n{}", bad.len(), searches().len(), bad.join("\n\n"));
}

#[tokio::test]
async fn the_dashboard_counts_without_reading_the_cases() {
    let app = TestApp::spawn().await;
    let plan = queue::explain_deadline_counts(&app.db, 1_800_000_000).await.unwrap();
    assert!(!plan.iter().any(|l| scans_cases(l)), "{}", plan.join("\n"));
    // The plan reads the counters; the cases only through the (state, due_key) index.
    assert!(plan.iter().any(|l| l.contains("case_due_hours")), "{}", plan.join("\n"));
}

/// The desk's default list is one arm per open state; a kind, finding or assignee filter must
/// make each arm one range of an index led by that column and the state (migration 0017), not a
/// walk of one column's range testing the other row by row (`assignee=me` read every case
/// assigned to the agent once per state: seconds a page at a million cases).
#[tokio::test]
async fn a_state_arm_with_a_low_cardinality_filter_reads_one_range() {
    let app = TestApp::spawn().await;
    let open: Vec<String> = OPEN_STATES.iter().map(|s| s.to_string()).collect();
    let cases: [(&str, fn(&mut QueueSearch)); 3] = [
        ("cases_by_kind_state_due", |s| s.kind = Some("no_receipt".into())),
        ("cases_by_finding_state_due", |s| s.finding = Some("ambiguous".into())),
        ("cases_by_assignee_state_due", |s| s.assignee = Some(Assignee::User(7))),
    ];
    for (index, apply) in cases {
        let mut search = QueueSearch { states: open.clone(), ..QueueSearch::default() };
        apply(&mut search);
        let plan = queue::explain_page(&app.db, &search, 50).await.unwrap();
        let arms = plan.iter().filter(|l| l.contains(index)).count();
        assert!(
            arms >= OPEN_STATES.len(),
            "each of the {} arms through {index}:\n{}",
            OPEN_STATES.len(),
            plan.join("\n")
        );
    }
}

/// The terminal filter of every queue page lists its scope's terminals from the counters: the
/// desk's through an index in terminal order (no sort of every counter row), a merchant's through
/// the merchant's few rows (migration 0018).
#[tokio::test]
async fn the_terminal_filter_reads_its_terminals_through_an_index() {
    let app = TestApp::spawn().await;
    let desk = queue::explain_terminals(&app.db, None).await.unwrap();
    assert!(desk.iter().any(|l| l.contains("case_counts_by_terminal")), "{}", desk.join("\n"));
    assert!(!desk.iter().any(|l| sorts(l)), "{}", desk.join("\n"));
    let merchant = ["806276126745394".to_owned()];
    let one = queue::explain_terminals(&app.db, Some(&merchant)).await.unwrap();
    assert!(one.iter().any(|l| l.contains("case_counts_by_merchant_terminal")), "{}", one.join("\n"));
}
