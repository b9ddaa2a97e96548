//! What people read (issue 15): amounts, times and deadlines as DESIGN.md §8 writes them, words
//! for every code, the progress tracker and expected-by, and the anonymous filer's status link.

use redress::domain::role::Role;

use crate::helpers::*;

/// Sample claim 1: 954.82 CNY at 13:20 Shanghai time, a `reversal_due` now `reversal_pending`.
const REVERSAL: usize = 1;

/// Everything §8 forbids on a page a person reads, and what it asks for instead.
fn assert_reads_well(page: &Page, zh: bool) {
    let text = page.select_text("main");
    for raw in ["+08:00", "+00:00", "05:20", "2026-11-12", "954.82 CNY", "reversal_due", "reversal_pending", "_"] {
        assert!(!text.contains(raw), "{raw:?} on the page:\n{text}");
    }
    let (amount, time) =
        if zh { ("¥954.82", "2026年11月12日 13:20") } else { ("CNY 954.82", "12 Nov 2026, 13:20") };
    assert!(text.contains(amount), "no {amount} on the page:\n{text}");
    assert!(text.contains(time), "no {time} on the page:\n{text}");
}

#[tokio::test]
async fn the_case_page_writes_money_times_and_the_deadline_as_people_do() {
    let app = with_samples().await;
    let id = file(&app, REVERSAL).await;
    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    for (lang, zh) in [("zh-CN", true), ("en", false)] {
        let page = desk.get_with(&format!("/cases/{id}"), &[("accept-language", lang)]).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.lang(), lang);
        assert_reads_well(&page, zh);
        // Money is on its way: when it should arrive, as the end of a business day.
        let by = page.select_text(".expected-by strong");
        if zh {
            assert!(by.ends_with("18:00 前") && by.contains('年'), "{by}");
        } else {
            assert!(by.starts_with("by ") && by.ends_with(", 18:00"), "{by}");
        }
        // The tracker: filed and checked behind, the money now, its arrival still to come.
        assert_eq!(page.attrs(".tracker li", "class"), ["step done", "step done", "step current", "step todo"]);
        assert_eq!(page.count(".tracker [aria-current=step]"), 1);
        // Staff read what the customer was told as such, not in their own voice.
        assert!(page.has("blockquote.as-told"));
    }
}

#[tokio::test]
async fn the_history_tells_the_finding_in_words() {
    let app = with_samples().await;
    let id = file(&app, REVERSAL).await;
    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let page = desk.get_with(&format!("/cases/{id}"), &[("accept-language", "zh-CN")]).await;
    let history = page.select_text(".audit tbody");
    assert!(!history.contains("reversal_due"), "{history}");
    assert!(history.contains(redress::i18n::Lang::ZhCn.t("finding.reversal_due.title")), "{history}");
}

#[tokio::test]
async fn the_amount_field_takes_what_a_bank_sms_writes_and_the_time_comes_from_pickers() {
    let app = with_samples().await;
    let customer = app.signed_in(Role::Customer, "holder1@example.com", &[]).await;
    let form = customer.get("/claims/new/no_receipt").await;
    assert_eq!(form.attr("input[name=date]", "type"), "date");
    assert_eq!(form.attr("input[name=time]", "type"), "time");
    let filed = customer
        .post_form(
            "/claims/new/no_receipt",
            &[("card_last4", "2015"), ("amount", "￥９５４．８２元"), ("date", "2026-11-12"), ("time", "13:20")],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let page = customer.get(filed.header("location")).await;
    assert_reads_well(&page, true);
    assert_eq!(page.attrs(".tracker li", "class").len(), 4);
}

#[tokio::test]
async fn adding_information_asks_for_a_date_and_a_time_not_rfc_3339() {
    let app = with_samples().await;
    let customer = app.signed_in(Role::Customer, "nobody@example.com", &[]).await;
    // No debit on that day: the case waits for the customer, with the add-information form.
    let filed = customer
        .post_form(
            "/claims/new/no_receipt",
            &[("card_last4", "2015"), ("amount", "954.82"), ("date", "2026-10-01"), ("time", "09:00")],
        )
        .await;
    let case_path = filed.header("location").to_owned();
    let page = customer.get(&case_path).await;
    assert_eq!(page.attr("input[name=occurred_date]", "type"), "date");
    assert_eq!(page.attr("input[name=occurred_time]", "type"), "time");
    assert_eq!(page.field_value("occurred_date"), "2026-10-01");
    assert_eq!(page.field_value("occurred_time"), "09:00");
    let version = page.field_value("version");
    let id = case_path.trim_start_matches("/cases/");
    let fixed = customer
        .post_form(
            &format!("/cases/{id}/act/add_info"),
            &[
                ("version", &version),
                ("card_last4", "2015"),
                ("amount", "¥954.82"),
                ("occurred_date", "2026-11-12"),
                ("occurred_time", "13:20"),
            ],
        )
        .await;
    assert_eq!(fixed.status, 303, "{}", fixed.body);
    let page = customer.get(&case_path).await;
    assert_reads_well(&page, true);
    assert_eq!(page.count("input[name=occurred_date]"), 0, "no add-information form once matched");
}

#[tokio::test]
async fn a_claim_filed_without_an_account_shows_its_result_through_a_signed_link() {
    let app = with_samples().await;
    let visitor = app.browser();
    let sent = visitor
        .post_form(
            "/claims/new/no_receipt",
            &[
                ("card_last4", "2015"),
                ("amount", "RMB 954.82"),
                ("date", "2026-11-12"),
                ("time", "13:20"),
                ("contact_email", "walk-in@example.com"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303);
    let link = sent.header("location").to_owned();
    assert!(link.starts_with("/claims/status/"), "{link}");
    let page = visitor.get(&link).await;
    assert_eq!(page.status, 200);
    assert_reads_well(&page, true);
    let id = redress::db::cases::count(&app.db).await.unwrap();
    assert!(page.select_text("h1").contains(&id.to_string()));
    assert_eq!(page.select_text(".finding h2"), redress::i18n::Lang::ZhCn.t("finding.reversal_due.title"));
    assert!(page.has(".expected-by"), "money is awaited: when");
    assert_eq!(page.select_text(".detail"), "walk-in@example.com");

    // Without cookies, from anywhere: the link alone opens it; it shows no contact.
    let stranger = app.browser();
    let again = stranger.get(&link).await;
    assert_eq!(again.status, 200);
    assert!(!again.body.contains("walk-in@example.com"));

    // The signature covers the case and the expiry: nothing else opens with it.
    let (path, query) = link.split_once('?').unwrap();
    let other = format!("/claims/status/{}?{query}", id + 1);
    let until: i64 = query.split('&').next().unwrap().trim_start_matches("until=").parse().unwrap();
    let longer = format!("{path}?{}", query.replace(&until.to_string(), &(until + 86_400).to_string()));
    let forged = format!("{path}?until={until}&sig=AAAA");
    for bad in [other, longer, forged] {
        let refused = stranger.get(&bad).await;
        assert_eq!(
            refused.select_text("h1"),
            redress::i18n::Lang::ZhCn.t("reading.status_link.invalid.title"),
            "{bad}"
        );
        assert!(!refused.body.contains("954.82"), "{bad}");
    }
}

#[tokio::test]
async fn the_outbox_names_events_in_words_with_their_time() {
    let app = with_samples().await;
    file(&app, REVERSAL).await;
    let admin = app.signed_in(Role::Admin, "admin@example.com", &[]).await;
    let page = admin.get_with("/admin/outbox", &[("accept-language", "en")]).await;
    let lines = page.select_all(".outbox-notice > p.muted");
    assert!(!lines.is_empty());
    for line in &lines {
        for code in ["finding", "merchant_action_required", "claim_received", "zh-CN"] {
            assert!(!line.split(" · ").any(|part| part == code), "{code} in {line}");
        }
        assert!(line.contains("2026") || line.contains(", "), "{line}");
    }
}

#[tokio::test]
async fn an_ambiguous_case_is_narrowed_by_the_customer_and_matched_again() {
    let app = with_samples().await;
    let customer = app.signed_in(Role::Customer, "holder6@example.com", &[]).await;
    // Sample claim 6: two debits of ¥1,683.65 on cards ending 3894 fit.
    let claim = [("card_last4", "3894"), ("amount", "1683.65"), ("date", "2026-11-11"), ("time", "19:20")];
    let filed = customer.post_form("/claims/new/no_receipt", &claim).await;
    let case_path = filed.header("location").to_owned();
    let id: i64 = case_path.trim_start_matches("/cases/").parse().unwrap();
    assert_eq!(case(&app, id).await.finding.map(|f| f.as_str()), Some("ambiguous"));
    let page = customer.get(&case_path).await;
    // Not a dead end: the page says what to add, and offers the form to add it.
    assert_eq!(page.select_text(".next-step"), redress::i18n::Lang::ZhCn.t("reading.next.customer.ambiguous"));
    assert!(page.has("form[action$='/act/add_info']"), "{}", page.body);
    let version = page.field_value("version");
    let narrowed = customer
        .post_form(
            &format!("{case_path}/act/add_info"),
            &[
                ("version", &version),
                ("card_last4", "3894"),
                ("card_first6", "622848"),
                ("amount", "1683.65"),
                ("occurred_date", "2026-11-11"),
                ("occurred_time", "19:20"),
            ],
        )
        .await;
    assert_eq!(narrowed.status, 303, "{}", narrowed.body);
    let after = case(&app, id).await;
    assert_ne!(after.finding.map(|f| f.as_str()), Some("ambiguous"), "matched again to one debit");
    let page = customer.get(&case_path).await;
    assert_eq!(page.count("section[aria-labelledby=records-title] tbody tr"), 1);
    assert!(events(&app, id).await.iter().any(|(action, _)| action == "add_info"));
}

#[tokio::test]
async fn a_desk_approval_is_mailed_as_the_desks_decision_not_as_what_the_records_showed() {
    let app = with_samples().await;
    let id = file(&app, 6).await; // ambiguous: the desk decides
    let agent = app.signed_in(Role::Agent, "desk@bank.example", &[]).await;
    let page = agent.get(&format!("/cases/{id}")).await;
    let version = page.field_value("version");
    let done = agent
        .post_form(
            &format!("/cases/{id}/act/approve_refund"),
            &[("version", &version), ("amount", "¥1,683.65"), ("reason", "The slip matches.")],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let mail = mails(&app, "finding", "holder6@example.com").await;
    let mail = mail.first().expect("the customer is told");
    assert_eq!(
        mail.subject,
        redress::i18n::Lang::ZhCn.t("reading.email.decided.subject").replace("{case}", &format!("#{id}"))
    );
    assert!(mail.body_text.contains("¥1,683.65"), "{}", mail.body_text);
    assert!(mail.body_text.contains("The slip matches."), "{}", mail.body_text);
    let intro = redress::i18n::Lang::ZhCn.t("reading.email.decided.intro").replace("{case}", &format!("#{id}"));
    assert!(mail.body_text.contains(&intro), "told the desk decided: {}", mail.body_text);
}
