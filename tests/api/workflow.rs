//! Walking cases through DESIGN.md §6 by the right people, in the browser's way (forms with
//! CSRF), and what happens when the wrong person, a stale page or two people at once try.

use redress::domain::role::Role;

use crate::helpers::{Browser, Page, case, events, file, import, mails, sample_claim, with_samples};

/// Files sample claim `n` through the form, as the signed-in customer `me`.
async fn file_as(me: &Browser, n: usize) -> i64 {
    let claim = sample_claim(n);
    let at = claim["occurred_at"].as_str().unwrap();
    let (date, time) = (&at[..10], &at[11..16]);
    let mut fields: Vec<(&str, &str)> = vec![("date", date), ("time", time)];
    for key in ["card_last4", "card_first6", "amount", "currency", "expected_amount", "merchant_id"] {
        if let Some(v) = claim[key].as_str() {
            fields.push((key, v));
        }
    }
    let page = me.post_form(&format!("/claims/new/{}", claim["kind"].as_str().unwrap()), &fields).await;
    assert_eq!(page.status, 303, "{}", page.body);
    page.header("location").trim_start_matches("/cases/").parse().unwrap()
}

/// Takes `action` on case `id` from the version the page shows, with `fields`.
async fn act(who: &Browser, id: i64, action: &str, fields: &[(&str, &str)]) -> Page {
    let page = who.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let version = page.field_value("version");
    let mut all: Vec<(&str, &str)> = vec![("version", &version)];
    all.extend_from_slice(fields);
    who.post_form(&format!("/cases/{id}/act/{action}"), &all).await
}

/// The actions a case page offers, in page order: the last part of each action form's address.
fn offered(page: &Page) -> Vec<String> {
    let forms = page.attrs(r#"form[action*="/act/"]"#, "action");
    forms.iter().map(|action| action.rsplit('/').next().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_merchant_confirms_the_refund_and_the_settlement_credit_resolves_the_case() {
    let app = with_samples().await;
    let customer = app.signed_in(Role::Customer, "holder17@example.com", &[]).await;
    // Sample 17: no refund recorded → the merchant must agree to refund.
    let id = file_as(&customer, 17).await;
    let before = case(&app, id).await;
    assert_eq!(before.state.as_str(), "awaiting_merchant");
    let mid = before.matched_merchant_id.clone().unwrap();
    let staff = app.signed_in(Role::Merchant, "till@shop.example", &[&mid]).await;
    let other_mid = if mid == "806276126745394" { "814035381332293" } else { "806276126745394" };
    let other = app.signed_in(Role::Merchant, "other@shop.example", &[other_mid]).await;

    // The other merchant does not even learn the case exists.
    assert_eq!(other.get(&format!("/cases/{id}")).await.status, 404);
    let version = before.version.to_string();
    let foreign = other
        .post_form(
            &format!("/cases/{id}/act/merchant_confirm"),
            &[("version", &version), ("batch_no", "000001"), ("trace_no", "000002")],
        )
        .await;
    assert_eq!(foreign.status, 404);

    // The page offers the merchant the confirmation, never the customer's address.
    let page = staff.get(&format!("/cases/{id}")).await;
    assert_eq!(offered(&page), ["merchant_confirm", "merchant_contest"]);
    assert!(!page.body.contains("/act/approve_refund"), "merchants do not decide");
    assert!(!page.body.contains("holder17@example.com"));

    // A bad trace number: nothing changes, the typed values come back with the message.
    let bad = act(&staff, id, "merchant_confirm", &[("batch_no", "000031"), ("trace_no", "31")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.attr("#merchant_confirm-batch_no", "value"), "000031", "keeps what was typed");
    assert_eq!(bad.attr("#merchant_confirm-trace_no", "value"), "31");
    let message = bad.select_text("#merchant_confirm-trace_no ~ .field-error");
    assert!(message.contains("6 位数字"), "the message sits under the trace number: {message}");
    assert!(!bad.has("#merchant_confirm-batch_no ~ .field-error"), "the batch number was fine");
    assert_eq!(case(&app, id).await.version, before.version);

    let done =
        act(&staff, id, "merchant_confirm", &[("batch_no", "000031"), ("trace_no", "000457"), ("rrn", "")]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after = case(&app, id).await;
    assert_eq!(after.state.as_str(), "refund_pending");
    assert_eq!(after.executed_trace_no.as_deref(), Some("000457"));
    assert!(after.remedy_executed_at.is_some());
    assert!(after.deadline_at.is_some(), "the remedy has 5 business days");
    assert_eq!(mails(&app, "remedy_executed", "holder17@example.com").await.len(), 1);
    // Confirming twice is refused by the table: the state moved on.
    // The page no longer offers it; a hand-made post is refused by the table's guard.
    assert!(!staff.get(&format!("/cases/{id}")).await.body.contains("/act/mark_executed"));
    let version = after.version.to_string();
    let again = staff
        .post_form(
            &format!("/cases/{id}/act/mark_executed"),
            &[("version", &version), ("batch_no", "000031"), ("trace_no", "000457")],
        )
        .await;
    assert_eq!(again.status, 409, "already confirmed executed");
    assert_eq!(case(&app, id).await.version, after.version);

    // The acquirer's credit for that debit arrives: the case resolves by itself.
    let rrn = after.remedy_rrn.clone().unwrap();
    let credit = format!(
        "entry_id,merchant_id,terminal_id,trace_no,rrn,card,direction,amount,currency,txn_time,settled_on,orig_rrn\n\
         WF-CREDIT-1,{mid},{tid},000457,900000000457,{card},credit,1338.60,CNY,2026-11-20T10:00:00+08:00,2026-11-21,{rrn}\n",
        tid = after.matched_terminal_id.clone().unwrap(),
        card = redress::db::cases::matched_debits(&app.db, id).await.unwrap()[0].card.as_str(),
    );
    let agent = app.token(Role::Agent, &[]).await;
    import(&app, &agent, "settlement", credit).await;
    assert_eq!(case(&app, id).await.state.as_str(), "resolved");
    let arrived = mails(&app, "money_arrived", "holder17@example.com").await;
    assert_eq!(arrived.len(), 1);
    assert!(arrived[0].body_text.contains("900000000457"), "names the credit's RRN");
    let page = customer.get(&format!("/cases/{id}")).await;
    assert_eq!(offered(&page), ["appeal", "accept"]);
}

#[tokio::test]
async fn a_merchant_states_the_right_amount_and_the_refund_follows_it() {
    let app = with_samples().await;
    let id = file(&app, 13).await; // amount keyed wrong: 30341.70 instead of 3034.17
    let mid = case(&app, id).await.matched_merchant_id.unwrap();
    let staff = app.signed_in(Role::Merchant, "till@shop.example", &[&mid]).await;
    let missing = act(&staff, id, "merchant_confirm", &[("batch_no", "000001"), ("trace_no", "000009")]).await;
    assert_eq!(missing.status, 422, "the stated amount is required for a keyed-wrong amount");
    let done = act(
        &staff,
        id,
        "merchant_confirm",
        &[("batch_no", "000001"), ("trace_no", "000009"), ("stated_amount", "3000.00")],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after = case(&app, id).await;
    assert_eq!(after.state.as_str(), "refund_pending");
    assert_eq!(after.merchant_stated_minor, Some(300_000));
    assert_eq!(after.remedy_minor, Some(3_034_170 - 300_000));
}

#[tokio::test]
async fn a_merchant_contest_goes_to_the_desk_which_rejects_and_the_customer_appeals() {
    let app = with_samples().await;
    let customer = app.signed_in(Role::Customer, "holder4@example.com", &[]).await;
    let id = file_as(&customer, 17).await;
    let mid = case(&app, id).await.matched_merchant_id.unwrap();
    let staff = app.signed_in(Role::Merchant, "till@shop.example", &[&mid]).await;
    let agent = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;

    let no_reason = act(&staff, id, "merchant_contest", &[("reason", "  ")]).await;
    assert_eq!(no_reason.status, 422);
    let contest = act(&staff, id, "merchant_contest", &[("reason", "Refunded in cash at the counter.")]).await;
    assert_eq!(contest.status, 303);
    assert_eq!(case(&app, id).await.state.as_str(), "under_review");

    // The customer cannot decide their own case.
    let self_decided = act(&customer, id, "withdraw", &[]).await;
    assert_eq!(self_decided.status, 303, "but may withdraw…");
    assert_eq!(case(&app, id).await.state.as_str(), "withdrawn");

    // A fresh case for the rest of the path.
    let id = file_as(&customer, 17).await;
    act(&staff, id, "merchant_contest", &[("reason", "Refunded in cash at the counter.")]).await;
    let by_customer = act(&customer, id, "reject", &[("reason", "I give up")]).await;
    assert!(by_customer.status == 403 || by_customer.status == 409, "{}", by_customer.status);
    assert_eq!(case(&app, id).await.state.as_str(), "under_review");

    let reject = act(
        &agent,
        id,
        "reject",
        &[("reason", "The merchant's cash refund slip is on file."), ("overrides_finding", "on")],
    )
    .await;
    assert_eq!(reject.status, 303, "{}", reject.body);
    assert_eq!(case(&app, id).await.state.as_str(), "rejected");
    let mail = mails(&app, "case_rejected", "holder4@example.com").await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].body_text.contains("cash refund slip"), "the reason reaches the customer");
    let audit = redress::db::cases::audit(&app.db, id).await.unwrap();
    let decision = audit.iter().find(|e| e.action == "reject").unwrap();
    assert!(decision.overrides_finding);
    assert_eq!(decision.actor_email.as_deref(), Some("desk@bank.example"));
    // The desk sees who did what; the merchant reads the desk's reason but not the customer's words.
    let desk_view = agent.get(&format!("/cases/{id}")).await;
    let who = desk_view.select_all("table.audit tbody td:nth-child(2) .muted");
    assert!(who.contains(&"desk@bank.example".to_owned()) && who.contains(&"till@shop.example".to_owned()), "{who:?}");

    let appeal = act(&customer, id, "appeal", &[("reason", "我有银行流水为证。")]).await;
    assert_eq!(appeal.status, 303);
    assert_eq!(case(&app, id).await.state.as_str(), "under_review");
    let merchant_view = staff.get(&format!("/cases/{id}")).await;
    assert!(!merchant_view.body.contains("我有银行流水为证"), "customer's words stay hidden from the merchant");
    let notes = merchant_view.select_all("ol.timeline .note");
    assert!(notes.iter().any(|n| n.contains("cash refund slip")), "{notes:?}");
    let history: Vec<String> = events(&app, id).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(history, ["file", "match", "merchant_contest", "reject", "appeal"]);
}

#[tokio::test]
async fn an_agent_resolves_an_ambiguous_case_by_picking_the_debit() {
    let app = with_samples().await;
    let id = file(&app, 6).await; // two debits fit
    let before = case(&app, id).await;
    assert_eq!((before.state.as_str(), before.finding.map(|f| f.as_str())), ("under_review", Some("ambiguous")));
    let agent = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let page = agent.get(&format!("/cases/{id}")).await;
    let desk = ["approve_refund", "approve_reversal", "resolve", "reject", "ask_customer", "pick_debit"];
    assert_eq!(offered(&page), desk, "the desk may pick the debit among its other decisions");
    let ids = redress::db::cases::matched_ids(&app.db, id).await.unwrap();
    assert_eq!(ids.len(), 2);

    let stray = act(&agent, id, "pick_debit", &[("debit", "999999"), ("reason", "slip")]).await;
    assert_eq!(stray.status, 422, "only a candidate can be picked");
    let picked = ids[1].to_string();
    let done = act(&agent, id, "pick_debit", &[("debit", &picked), ("reason", "The slip shows 19:38.")]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after = case(&app, id).await;
    assert_ne!(after.finding.map(|f| f.as_str()), Some("ambiguous"));
    assert_eq!(redress::db::cases::matched_ids(&app.db, id).await.unwrap(), vec![ids[1]]);
    let history: Vec<String> = events(&app, id).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(history, ["file", "match", "pick_debit", "match"]);
    assert!(!agent.get(&format!("/cases/{id}")).await.body.contains("/act/pick_debit"));
}

#[tokio::test]
async fn a_customer_adds_information_and_the_claim_is_matched_again() {
    let app = with_samples().await;
    let customer = app.signed_in(Role::Customer, "holder5@example.com", &[]).await;
    let id = file_as(&customer, 5).await; // no debit found
    assert_eq!(case(&app, id).await.state.as_str(), "awaiting_customer");
    let page = customer.get(&format!("/cases/{id}")).await;
    assert_eq!(offered(&page), ["add_info", "withdraw"]);

    let full_card = act(
        &customer,
        id,
        "add_info",
        &[
            ("card_last4", "2470"),
            ("amount", "2220.99"),
            ("occurred_at", "2026-11-05"),
            ("description", "card 6228480402564890018"),
        ],
    )
    .await;
    assert_eq!(full_card.status, 422);
    assert!(!full_card.body.contains("6228480402564890018"), "a full card number is never echoed");

    // The right amount and day: the sale of sample claim 0.
    let done = act(
        &customer,
        id,
        "add_info",
        &[("card_last4", "2470"), ("amount", "2220.99"), ("occurred_at", "2026-11-05T17:15:05+08:00")],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after = case(&app, id).await;
    assert_eq!(after.finding.map(|f| f.as_str()), Some("valid_sale_no_receipt"));
    assert_eq!(after.state.as_str(), "resolved");
    assert_eq!(after.amount_minor, 222_099);
    let accepted = act(&customer, id, "accept", &[]).await;
    assert_eq!(accepted.status, 303);
    let page = customer.get(&format!("/cases/{id}")).await.body;
    assert!(!page.contains("/act/appeal"), "accepting waives the appeal");
}

#[tokio::test]
async fn a_stale_page_is_told_the_case_changed_and_nothing_is_applied() {
    let app = with_samples().await;
    let id = file(&app, 16).await; // under review
    let agent = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let stale = agent.get(&format!("/cases/{id}")).await;
    let version = stale.field_value("version");
    let me_id = redress::db::users::find_by_email(&app.db, "desk@bank.example").await.unwrap().unwrap().id.to_string();
    let assigned =
        agent.post_form(&format!("/cases/{id}/assign"), &[("version", &version), ("assignee", &me_id)]).await;
    assert_eq!(assigned.status, 303);
    assert!(case(&app, id).await.assigned_to.is_some());

    let late = agent
        .post_form(
            &format!("/cases/{id}/act/approve_refund"),
            &[("version", &version), ("amount", "1325.23"), ("reason", "Merchant agreed by phone.")],
        )
        .await;
    assert_eq!(late.status, 409);
    let notice = late.select_text(".notice[role=alert]");
    assert!(notice.contains("其他人已更改"), "{notice}");
    assert_eq!(case(&app, id).await.state.as_str(), "under_review");
}

/// DESIGN.md §6: two people acting at once — one wins, the other is told. 100 approvals of the
/// same refund from the same page version, all in flight together.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_a_hundred_concurrent_approvals_exactly_one_wins() {
    let app = with_samples().await;
    let id = file(&app, 16).await;
    let mut agents = Vec::new();
    for n in 0..4 {
        agents.push(app.signed_in(Role::Agent, &format!("desk{n}@bank.example"), &[]).await);
    }
    let page = agents[0].get(&format!("/cases/{id}")).await;
    let version = page.field_value("version");
    let csrfs: Vec<String> = {
        let mut out = Vec::new();
        for a in &agents {
            out.push(a.get("/").await.csrf());
        }
        out
    };
    let mut tasks = Vec::new();
    for n in 0..100 {
        let who = n % agents.len();
        let client = agents[who].client.clone();
        let url = agents[who].url(&format!("/cases/{id}/act/approve_refund"));
        let origin = app.base.clone();
        let fields = vec![
            ("_csrf".to_owned(), csrfs[who].clone()),
            ("version".to_owned(), version.clone()),
            ("amount".to_owned(), "1325.23".to_owned()),
            ("reason".to_owned(), format!("approval {n}")),
        ];
        tasks.push(tokio::spawn(async move {
            client.post(url).header("origin", origin).form(&fields).send().await.unwrap().status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let won = statuses.iter().filter(|&&s| s == 303).count();
    let told = statuses.iter().filter(|&&s| s == 409).count();
    assert_eq!((won, told), (1, 99), "{statuses:?}");
    let after = case(&app, id).await;
    assert_eq!(after.state.as_str(), "refund_pending");
    assert_eq!(after.version, version.parse::<i64>().unwrap() + 1);
    let approvals = events(&app, id).await.into_iter().filter(|(a, _)| a == "approve_refund").count();
    assert_eq!(approvals, 1);
    let findings = mails(&app, "finding", "holder16@example.com").await.len();
    assert_eq!(findings, 2, "the first finding and the one approval, nothing more");
}

/// The arrows the other journeys leave out: the desk asks, the customer answers, the desk
/// approves a reversal and records its execution, the customer confirms the money arrived; the
/// desk resolves another case outright. Each step sends the notice §7 names, to the customer.
#[tokio::test]
async fn the_desk_asks_approves_a_reversal_records_it_and_the_customer_confirms_the_money() {
    let app = with_samples().await;
    let customer = app.signed_in(Role::Customer, "holder16@example.com", &[]).await;
    let agent = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let id = file_as(&customer, 16).await; // refund recorded, not settled: under review
    assert_eq!(case(&app, id).await.state.as_str(), "under_review");

    let ask = act(&agent, id, "ask_customer", &[("reason", "Please upload the refund slip.")]).await;
    assert_eq!(ask.status, 303, "{}", ask.body);
    assert_eq!(case(&app, id).await.state.as_str(), "awaiting_customer");
    let asked = mails(&app, "customer_action_required", "holder16@example.com").await;
    assert_eq!(asked.len(), 1);
    assert!(asked[0].body_text.contains("refund slip"), "the question reaches the customer");

    // The customer answers with the same claim: matched again, back to the desk.
    let answer = act(
        &customer,
        id,
        "add_info",
        &[("card_last4", "7790"), ("amount", "1325.23"), ("occurred_at", "2026-11-06T11:34+08:00")],
    )
    .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(case(&app, id).await.state.as_str(), "under_review");

    // Approving more than the debit is refused and changes nothing.
    let too_much = act(&agent, id, "approve_reversal", &[("amount", "9999.00"), ("reason", "x")]).await;
    assert_eq!(too_much.status, 422);
    let approve = act(
        &agent,
        id,
        "approve_reversal",
        &[("amount", "1325.23"), ("reason", "The refund never left the terminal.")],
    )
    .await;
    assert_eq!(approve.status, 303, "{}", approve.body);
    let pending = case(&app, id).await;
    assert_eq!((pending.state.as_str(), pending.remedy_kind.as_str()), ("reversal_pending", "reversal"));
    assert_eq!(pending.remedy_minor, Some(132_523));
    assert_eq!(pending.remedy_rrn.as_deref(), Some("000004268296"));

    let executed = act(&agent, id, "mark_executed", &[("batch_no", "000044"), ("trace_no", "000812")]).await;
    assert_eq!(executed.status, 303, "{}", executed.body);
    assert_eq!(case(&app, id).await.executed_trace_no.as_deref(), Some("000812"));
    assert_eq!(mails(&app, "remedy_executed", "holder16@example.com").await.len(), 1);

    let arrived = act(&customer, id, "confirm_arrived", &[]).await;
    assert_eq!(arrived.status, 303, "{}", arrived.body);
    assert_eq!(case(&app, id).await.state.as_str(), "resolved");
    assert_eq!(mails(&app, "case_resolved", "holder16@example.com").await.len(), 1);
    let history: Vec<String> = events(&app, id).await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        history,
        ["file", "match", "ask_customer", "add_info", "match", "approve_reversal", "mark_executed", "confirm_arrived"]
    );

    // Another case resolved by the desk directly, with its reason told to the customer.
    let other = file_as(&customer, 6).await; // ambiguous: under review
    let resolve = act(&agent, other, "resolve", &[("reason", "The merchant refunded in cash.")]).await;
    assert_eq!(resolve.status, 303, "{}", resolve.body);
    assert_eq!(case(&app, other).await.state.as_str(), "resolved");
    let resolved = mails(&app, "case_resolved", "holder16@example.com").await;
    assert_eq!(resolved.len(), 2);
    assert!(resolved.iter().any(|m| m.body_text.contains("refunded in cash")));
}
