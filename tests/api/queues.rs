//! Merchant staff's triage queue, the desk's console and its dashboard: who sees which cases, the
//! filters, keyset pages, and bad input.

use redress::domain::role::Role;

use crate::helpers::{Page, TestApp, case, file, file_for, with_samples};

/// Files sample claims; returns (case id, matched merchant) of each.
async fn filed(app: &TestApp, samples: &[usize]) -> Vec<(i64, Option<String>)> {
    let mut out = Vec::new();
    for n in samples {
        let id = file(app, *n).await;
        out.push((id, case(app, id).await.matched_merchant_id));
    }
    out
}

/// The case ids a queue page lists, in order: the link in each row's first cell.
fn listed(page: &Page) -> Vec<i64> {
    let links = page.attrs("table.queue tbody td:first-child a", "href");
    links.iter().map(|href| href.strip_prefix("/cases/").unwrap().parse().unwrap()).collect()
}

/// The bars of the dashboard chart `id`, top to bottom: (label, count, where a click leads).
fn bars(page: &Page, id: &str) -> Vec<(String, String, String)> {
    let bar = format!("section[aria-labelledby={id}-title] svg.chart a");
    let labels = page.select_all(&format!("{bar} .chart-label"));
    let counts = page.select_all(&format!("{bar} .chart-value"));
    let links = page.attrs(&bar, "href");
    assert!(labels.len() == counts.len() && counts.len() == links.len(), "{labels:?} {counts:?} {links:?}");
    labels.into_iter().zip(counts).zip(links).map(|((l, c), h)| (l, c, h)).collect()
}

#[tokio::test]
async fn merchant_staff_see_their_own_merchants_cases_soonest_deadline_first_and_no_contact_details() {
    let app = with_samples().await;
    let all = filed(&app, &(0..18).collect::<Vec<_>>()).await;
    let mid = all.iter().find(|(id, _)| *id == all[17].0).unwrap().1.clone().unwrap();
    let staff = app.signed_in(Role::Merchant, "till@shop.example", &[&mid]).await;

    let page = staff.get("/merchant/cases?state=all").await;
    assert_eq!(page.status, 200);
    let shown = listed(&page);
    let mine: Vec<i64> = all.iter().filter(|(_, m)| m.as_deref() == Some(&mid)).map(|(id, _)| *id).collect();
    assert!(!mine.is_empty());
    let mut sorted_shown = shown.clone();
    sorted_shown.sort();
    assert_eq!(sorted_shown, mine, "exactly this merchant's cases");
    assert!(!page.body.contains("@example.com"), "no customer contact details");

    // Soonest deadline first; cases without one last.
    let mut deadlines = Vec::new();
    for id in &shown {
        deadlines.push(case(&app, *id).await.deadline_at.unwrap_or(i64::MAX));
    }
    assert!(deadlines.windows(2).all(|w| w[0] <= w[1]), "{deadlines:?}");

    // The default is the open cases; a state narrows further.
    let open = listed(&staff.get("/merchant/cases").await);
    for id in &open {
        assert_ne!(case(&app, *id).await.state.as_str(), "resolved");
    }
    let waiting = listed(&staff.get("/merchant/cases?state=awaiting_merchant").await);
    assert!(waiting.contains(&all[17].0));
    for id in &waiting {
        assert_eq!(case(&app, *id).await.state.as_str(), "awaiting_merchant");
    }

    // Another merchant's id: nothing, as if it had no cases.
    let other = all.iter().find_map(|(_, m)| m.clone().filter(|m| *m != mid)).unwrap();
    let foreign = staff.get(&format!("/merchant/cases?state=all&merchant_id={other}")).await;
    assert_eq!(foreign.status, 200);
    assert!(listed(&foreign).is_empty());
    // 835883278854443 passes the Luhn check, like some real MIDs: still a merchant id.
    let luhn = staff.get("/merchant/cases?merchant_id=835883278854443").await;
    assert_eq!(luhn.status, 200);
    // The desk's fields are ignored on a merchant's queue.
    let sneaky = staff.get(&format!("/merchant/cases?state=all&case={}", all[0].0)).await;
    assert_eq!(listed(&sneaky).len(), shown.len());

    // A terminal narrows to it.
    let tid = case(&app, all[17].0).await.matched_terminal_id.unwrap();
    let by_terminal = listed(&staff.get(&format!("/merchant/cases?state=all&terminal_id={tid}")).await);
    assert!(by_terminal.contains(&all[17].0));
    for id in &by_terminal {
        assert_eq!(case(&app, *id).await.matched_terminal_id.as_deref(), Some(tid.as_str()));
    }

    // Bad choices are named in the visitor's language, and a card number is never shown back.
    let bad = staff.get_with("/merchant/cases?state=lost&deadline=soonish", &[("accept-language", "en")]).await;
    assert_eq!(bad.status, 422);
    for field in ["state", "deadline"] {
        assert!(bad.field_error(field).contains("Choose one of the options"), "{field}");
    }
    let card = staff.get("/merchant/cases?terminal_id=6228480402564890018").await;
    assert_eq!(card.status, 422);
    assert!(!card.body.contains("6228480402564890018"));
}

#[tokio::test]
async fn the_desk_console_filters_searches_and_pages_every_case() {
    let app = with_samples().await;
    let agent = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let mut ids = Vec::new();
    for round in 0..3 {
        for n in 0..18 {
            ids.push(file_for(&app, n, &format!("holder{n}-{round}")).await);
        }
    }
    // 54 cases, 50 a page: two pages, no case twice, none missing.
    let first = agent.get("/agent/cases?state=all").await;
    assert_eq!(first.status, 200);
    let page1 = listed(&first);
    assert_eq!(page1.len(), 50);
    let second = agent.get(&first.attr("a[rel=next]", "href")).await;
    let page2 = listed(&second);
    assert_eq!(page2.len(), 4);
    assert!(!second.body.contains("rel=\"next\""));
    let mut seen: Vec<i64> = page1.iter().chain(&page2).copied().collect();
    seen.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(seen, expected);

    // Case number, card digits and RRN.
    assert_eq!(listed(&agent.get(&format!("/agent/cases?state=all&case={}", ids[5])).await), vec![ids[5]]);
    let c = case(&app, ids[0]).await;
    let by_card = listed(&agent.get(&format!("/agent/cases?state=all&last4={}", c.card_last4)).await);
    assert!(by_card.contains(&ids[0]) && by_card.contains(&ids[18]));
    let rrn = redress::db::cases::matched_debits(&app.db, ids[0]).await.unwrap()[0].rrn.clone();
    let mut by_rrn = listed(&agent.get(&format!("/agent/cases?state=all&rrn={rrn}")).await);
    // Soonest deadline first: the later copies went to the desk (claimed elsewhere, §6).
    by_rrn.sort();
    assert_eq!(by_rrn, vec![ids[0], ids[18], ids[36]]);

    // Taking a case: "mine" and "nobody" split the desk's work.
    let me = redress::db::users::find_by_email(&app.db, "desk@bank.example").await.unwrap().unwrap().id;
    let target = ids[16]; // under review
    let page = agent.get(&format!("/cases/{target}")).await;
    let version = case(&app, target).await.version.to_string();
    assert!(page.has(&format!(r#"form[action="/cases/{target}/assign"]"#)), "the desk may take the case");
    let taken = agent
        .post_form(&format!("/cases/{target}/assign"), &[("version", &version), ("assignee", &me.to_string())])
        .await;
    assert_eq!(taken.status, 303);
    assert_eq!(listed(&agent.get("/agent/cases?assignee=me").await), vec![target]);
    assert!(!listed(&agent.get("/agent/cases?assignee=nobody").await).contains(&target));
    let mine = agent.get("/agent/cases?assignee=me").await;
    assert_eq!(mine.select_all("table.queue tbody td:last-child"), ["desk@bank.example"], "the assignee column");

    // Bad input: named, 422.
    let bad = agent.get_with("/agent/cases?case=abc&rrn=short&after=junk", &[("accept-language", "zh-CN")]).await;
    assert_eq!(bad.status, 422);
    assert!(bad.field_error("case").contains("请填写案件编号"));
    assert!(bad.field_error("rrn").contains("参考号必须是 12 位"));
}

#[tokio::test]
async fn the_dashboard_counts_cases_by_state_deadline_merchant_and_terminal() {
    let app = with_samples().await;
    let agent = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let all = filed(&app, &(0..18).collect::<Vec<_>>()).await;
    let page = agent.get_with("/agent/dashboard", &[("accept-language", "en")]).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.count("svg.chart"), 4);
    assert_eq!(page.select_text("#by-state-title .muted"), "(18 in all)", "every case once in the state chart");
    let by_state = bars(&page, "by-state");
    assert_eq!(by_state.len(), 10, "a bar for every state");
    assert_eq!(by_state.iter().map(|(_, n, _)| n.parse::<usize>().unwrap()).sum::<usize>(), 18);

    // The resolved bar says how many cases are resolved and opens them in the console.
    let mut resolved = 0;
    for (id, _) in &all {
        if case(&app, *id).await.state.as_str() == "resolved" {
            resolved += 1;
        }
    }
    let description = page.select_text("#by-state-desc");
    assert!(description.split("; ").any(|d| d == format!("Resolved: {resolved}")), "{description}");
    let bar = by_state.iter().find(|(label, _, _)| label == "Resolved").unwrap();
    assert_eq!((bar.1.as_str(), bar.2.as_str()), (resolved.to_string().as_str(), "/agent/cases?state=resolved"));
    // The busiest terminal's bar opens its cases.
    let (_, _, busiest) = &bars(&page, "by-terminal")[0];
    assert!(busiest.starts_with("/agent/cases?merchant_id=") && busiest.contains("&terminal_id="), "{busiest}");
    // No script and no inline style: the CSP stays strict.
    assert!(!page.body.contains("<script") && !page.body.contains("style="));
}
