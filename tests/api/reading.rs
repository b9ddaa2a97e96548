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

/// Sample claim 1 was paid at terminal 88360045 ("儿童区") of 云杉书店, merchant 828844912590296.
const SHOP_ZH: &str = "云杉书店（儿童区）";
const SHOP_EN: &str = "Spruce Books (Children's corner)";
const REVERSAL_MID: &str = "828844912590296";
const REVERSAL_TID: &str = "88360045";

/// The shop is named before its ids, which stay as secondary detail.
fn names_the_shop_first(text: &str, shop: &str) {
    let name = text.find(shop).unwrap_or_else(|| panic!("no {shop:?} in {text}"));
    let tid = text.find(REVERSAL_TID).unwrap_or_else(|| panic!("no terminal id in {text}"));
    assert!(name < tid, "the terminal id comes before the shop's name: {text}");
}

#[tokio::test]
async fn explanations_records_and_emails_name_the_shop_not_only_its_ids() {
    let app = with_samples().await;
    let id = file(&app, REVERSAL).await;
    let desk = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    for (lang, shop) in [("zh-CN", SHOP_ZH), ("en", SHOP_EN)] {
        let page = desk.get_with(&format!("/cases/{id}"), &[("accept-language", lang)]).await;
        names_the_shop_first(&page.select_text(".finding blockquote.as-told"), shop);
        let records = page.select_text("section[aria-labelledby=records-title] tbody td.shop");
        assert!(records.starts_with(shop), "{records}");
        assert!(records.contains(REVERSAL_MID), "the merchant id stays as detail: {records}");
    }
    // The finding email says where, in the customer's language.
    let mail = mails(&app, "finding", "holder1@example.com").await;
    let mail = mail.first().expect("the customer is told the finding");
    names_the_shop_first(&mail.body_text, SHOP_ZH);
}

#[tokio::test]
async fn the_status_link_names_the_shop() {
    let app = with_samples().await;
    let visitor = app.browser();
    let sent = visitor
        .post_form(
            "/claims/new/no_receipt",
            &[
                ("card_last4", "2015"),
                ("amount", "954.82"),
                ("date", "2026-11-12"),
                ("time", "13:20"),
                ("contact_email", "walk-in@example.com"),
            ],
        )
        .await;
    let page = visitor.get_with(sent.header("location"), &[("accept-language", "en")]).await;
    names_the_shop_first(&page.select_text(".finding p.explanation"), SHOP_EN);
}

#[tokio::test]
async fn creating_a_user_or_a_merchant_says_it_was_done_once() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let admin = app.signed_in(Role::Admin, "root@example.com", &[]).await;
    for (lang, said) in [("zh-CN", "已创建用户 clerk-zh@example.com"), ("en", "User clerk-en@example.com created")]
    {
        let email = if lang == "en" { "clerk-en@example.com" } else { "clerk-zh@example.com" };
        admin.post_form("/lang", &[("lang", lang), ("next", "/admin")]).await;
        let created = admin
            .post_form("/admin/users", &[("email", email), ("role", "agent"), ("password", "a long password 1")])
            .await;
        assert_eq!(created.status, 303, "{}", created.body);
        let page = admin.get(created.header("location")).await;
        assert!(page.select_text(".notice.ok").starts_with(said), "{}", page.select_text(".notice.ok"));
        // Shown once: a reload neither repeats it nor sends anything again.
        assert!(!admin.get("/admin/users").await.has(".notice.ok"));
    }
    let saved = admin
        .post_form(
            "/admin/merchants",
            &[("merchant_id", "123456789012345"), ("name_zh", "新店"), ("name_en", "New Shop")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let page = admin.get(saved.header("location")).await;
    assert!(page.select_text(".notice.ok").contains("New Shop (123456789012345)"), "{}", page.body);
}

#[tokio::test]
async fn disabling_a_user_and_revoking_a_token_ask_first_without_javascript() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in(Role::Admin, "root@example.com", &[]).await;
    app.seed_user(Role::Agent, "leaving@example.com", &[]).await;
    let users = admin.get_with("/admin/users", &[("accept-language", "en")]).await;
    let id = redress::db::users::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == "leaving@example.com")
        .unwrap()
        .id;
    // The list offers a link to a question, not a button that acts at once.
    let ask = format!("/admin/users/{id}/disable");
    assert!(users.attrs("a.button", "href").contains(&ask), "{}", users.body);
    assert!(!users.has(&format!("form[action='/admin/users/{id}/disabled'] input[value=true]")));
    for lang in ["zh-CN", "en"] {
        let question = admin.get_with(&ask, &[("accept-language", lang)]).await;
        assert_eq!(question.status, 200);
        assert_eq!(question.select_text(".confirm .subject"), "leaving@example.com");
        let l = redress::i18n::Lang::parse(lang).unwrap();
        assert_eq!(question.select_text(".confirm .consequence"), l.t("reading.admin.disable.consequence"));
        assert_eq!(question.attr(".confirm form", "method"), "post");
        assert_eq!(question.attr(".confirm form", "action"), format!("/admin/users/{id}/disabled"));
        assert!(!question.csrf().is_empty());
    }
    assert!(redress::db::users::get(&app.db, id).await.unwrap().unwrap().disabled_at.is_none(), "asking did nothing");
    let done = admin.post_form(&format!("/admin/users/{id}/disabled"), &[("disabled", "true")]).await;
    assert_eq!(done.status, 303);
    assert!(admin.get(done.header("location")).await.select_text(".notice.ok").contains("leaving@example.com"));
    assert!(redress::db::users::get(&app.db, id).await.unwrap().unwrap().disabled_at.is_some());

    let token = admin.post_form("/admin/tokens", &[("name", "bank channel"), ("role", "customer")]).await;
    assert_eq!(token.status, 303);
    let list = admin.get(token.header("location")).await;
    let id = redress::db::api_tokens::list(&app.db).await.unwrap()[0].id;
    let ask = format!("/admin/tokens/{id}/revoke");
    assert!(list.attrs("a.button", "href").contains(&ask), "{}", list.body);
    let question = admin.get_with(&ask, &[("accept-language", "en")]).await;
    assert!(question.select_text(".confirm .subject").starts_with("bank channel"));
    assert_eq!(question.attr(".confirm form", "action"), ask);
    assert!(redress::db::api_tokens::get(&app.db, id).await.unwrap().unwrap().revoked_at.is_none());
    let revoked = admin.post_form(&ask, &[]).await;
    assert_eq!(revoked.status, 303);
    assert!(redress::db::api_tokens::get(&app.db, id).await.unwrap().unwrap().revoked_at.is_some());
}

#[tokio::test]
async fn a_new_tokens_secret_is_shown_once_after_a_redirect_and_a_reload_sends_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.signed_in(Role::Admin, "root@example.com", &[]).await;
    let created = admin.post_form("/admin/tokens", &[("name", "channel"), ("role", "customer")]).await;
    assert_eq!(created.status, 303);
    let to = created.header("location").to_owned();
    assert!(!to.contains('?'), "nothing in the URL: {to}");
    let page = admin.get(&to).await;
    let secret = page.select_text("code.secret");
    assert!(secret.len() > 20);
    // A reload is a GET of the list: no secret, no second token.
    let again = admin.get(&to).await;
    assert!(!again.has("code.secret"));
    assert!(!again.body.contains(&secret));
    assert_eq!(redress::db::api_tokens::list(&app.db).await.unwrap().len(), 1);
    // The secret never went to the database: only its hash is kept.
    assert!(
        redress::db::api_tokens::find_active(&app.db, &redress::auth::token::digest(&secret)).await.unwrap().is_some()
    );
}

#[tokio::test]
async fn filing_the_same_payment_again_without_an_account_reveals_nothing_of_the_first_case() {
    let app = with_samples().await;
    let claim = [
        ("card_last4", "2015"),
        ("amount", "954.82"),
        ("date", "2026-11-12"),
        ("time", "13:20"),
        ("contact_email", "walk-in@example.com"),
    ];
    let first = app.browser().post_form("/claims/new/no_receipt", &claim).await;
    let first_case = first.header("location").split('?').next().unwrap().to_owned();
    assert!(first_case.starts_with("/claims/status/"), "{first_case}");
    for lang in ["zh-CN", "en"] {
        // Another browser, the same address and payment: whoever typed them has proved nothing,
        // so they get no link to the case, only where the way back is (the first email).
        let visitor = app.browser();
        let again = visitor.post_form("/claims/new/no_receipt", &claim).await;
        assert_eq!(again.status, 303);
        let to = again.header("location");
        assert_eq!(to, "/claims/sent?already=1");
        let cookies: Vec<_> = again.headers.get_all("set-cookie").iter().filter_map(|c| c.to_str().ok()).collect();
        assert!(cookies.iter().all(|c| !c.contains("walk-in")), "no address echoed back: {cookies:?}");
        let page = visitor.get_with(to, &[("accept-language", lang)]).await;
        assert_eq!(page.status, 200);
        let l = redress::i18n::Lang::parse(lang).unwrap();
        let text: String = page.html().root_element().text().collect();
        assert!(text.contains(l.t("claims.sent.already")), "{text}");
        assert!(!page.body.contains("/claims/status/"), "{}", page.body);
        assert!(!page.body.contains("walk-in@example.com"));
    }
    assert_eq!(redress::db::cases::count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn the_outbox_comes_a_page_at_a_time_newest_first() {
    let app = TestApp::spawn().await;
    let mut tx = app.db.begin().await.unwrap();
    for n in 0..45 {
        let key = format!("test-{n}");
        let subject = format!("notice {n}");
        let notice = redress::db::outbox::NewNotice {
            notice_key: &key,
            event: "money_arrived",
            recipient: "someone@example.com",
            lang: "en",
            case_id: None,
            subject: &subject,
            body_text: "text",
            body_html: "<p>html</p>",
        };
        redress::db::outbox::enqueue(&mut tx, &notice).await.unwrap();
    }
    tx.commit().await.unwrap();
    let admin = app.signed_in(Role::Admin, "admin@example.com", &[]).await;
    let mut seen: Vec<String> = Vec::new();
    let mut next = Some("/admin/outbox".to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let page = admin.get_with(&path, &[("accept-language", "zh-CN")]).await;
        assert_eq!(page.status, 200);
        let subjects = page.select_all(".outbox-notice h2");
        assert!(subjects.len() <= 20, "{}", subjects.len());
        // Each notice says when, as §8 writes it, and what, in words.
        for line in page.select_all(".outbox-notice > p.muted") {
            assert!(line.contains('年') && !line.contains("money_arrived"), "{line}");
        }
        seen.extend(subjects);
        next = page.attrs(".pager a[rel=next]", "href").into_iter().next();
        pages += 1;
    }
    assert!(pages >= 3, "{pages} pages");
    seen.retain(|s| s.starts_with("notice "));
    let want: Vec<String> = (0..45).rev().map(|n| format!("notice {n}")).collect();
    assert_eq!(seen, want, "newest first, each once");
}

#[tokio::test]
async fn the_home_pages_cards_are_links_that_open_what_they_name() {
    let app = TestApp::spawn().await;
    for lang in ["zh-CN", "en"] {
        let home = app.visitor.get_with("/", &[("accept-language", lang)]).await;
        let cards = home.count(".card");
        assert_eq!(cards, 4, "one card per claim kind");
        assert_eq!(home.count("a.card[href]"), cards, "every card that looks clickable is a link");
        for href in home.attrs("a.card", "href") {
            let form = app.visitor.get_with(&href, &[("accept-language", lang)]).await;
            assert_eq!(form.status, 200, "{href}");
            assert!(form.has("form[method=post]"), "{href} opens the claim form");
        }
    }
}

#[tokio::test]
async fn merchants_are_ticked_by_name_not_typed_and_checked_by_the_server() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let admin = app.signed_in(Role::Admin, "root@example.com", &[]).await;
    for (lang, name) in [("zh-CN", "云杉书店"), ("en", "Spruce Books")] {
        for path in ["/admin/users", "/admin/tokens"] {
            let page = admin.get_with(path, &[("accept-language", lang)]).await;
            assert_eq!(page.count("input[type=text][name=merchants], input:not([type])[name=merchants]"), 0, "{path}");
            let boxes = page.attrs("fieldset.merchant-choices input[type=checkbox][name=merchants]", "value");
            assert!(boxes.contains(&REVERSAL_MID.to_owned()), "{path}: {boxes:?}");
            let label = page.select_text(&format!("label[for$='-{REVERSAL_MID}']"));
            assert!(label.starts_with(name) && label.ends_with(REVERSAL_MID), "{path}: {label}");
        }
    }
    // Two ticked boxes: one field each.
    let created = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "clerk@example.com"),
                ("role", "merchant"),
                ("password", "clerk password 1"),
                ("merchants", REVERSAL_MID),
                ("merchants", "868625034637336"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let id = redress::db::users::list(&app.db)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == "clerk@example.com")
        .unwrap()
        .id;
    assert_eq!(redress::db::users::merchants_of(&app.db, id).await.unwrap(), [REVERSAL_MID, "868625034637336"]);
    let page = admin.get("/admin/users").await;
    let ticked = page.attrs(&format!("form[action='/admin/users/{id}/merchants'] input[checked]"), "value");
    assert_eq!(ticked, [REVERSAL_MID, "868625034637336"]);

    // A value no box offers is refused by the server, and the boxes ticked stay ticked.
    let forged = admin
        .post_form(
            "/admin/tokens",
            &[("name", "shop till"), ("role", "merchant"), ("merchants", REVERSAL_MID), ("merchants", "999")],
        )
        .await;
    assert_eq!(forged.status, 422);
    assert!(forged.select_text(".notice.bad").contains("999"), "{}", forged.body);
    assert_eq!(forged.attrs("fieldset.merchant-choices input[checked]", "value"), [REVERSAL_MID]);
    assert!(redress::db::api_tokens::list(&app.db).await.unwrap().is_empty());
    let token = admin
        .post_form("/admin/tokens", &[("name", "shop till"), ("role", "merchant"), ("merchants", REVERSAL_MID)])
        .await;
    assert_eq!(token.status, 303);
}

#[tokio::test]
async fn switching_language_on_the_claim_form_keeps_what_was_typed() {
    let app = with_samples().await;
    let visitor = app.browser();
    let form = visitor.get_with("/claims/new/wrong_amount", &[("accept-language", "zh-CN")]).await;
    // The switch submits the claim form itself (no script needed): its values travel along.
    let switch = form.attr("button[value=en]", "form");
    assert_eq!(switch, "claim-form");
    assert_eq!(form.attr("button[value=en]", "name"), "switch_lang");
    assert!(form.has("form#claim-form"));
    let token = form.field_value("filing_token");
    let typed = [
        ("filing_token", token.as_str()),
        ("card_last4", "2015"),
        ("amount", "¥954.82"),
        ("expected_amount", "900"),
        ("date", "2026-11-12"),
        ("time", "13:20"),
        ("merchant_name", "明月茶楼"),
        ("description", "机器显示 900 元"),
        ("contact_email", "walk-in@example.com"),
        ("switch_lang", "en"),
    ];
    let switched = visitor.post_form("/claims/new/wrong_amount", &typed).await;
    assert_eq!(switched.status, 200, "{}", switched.body);
    assert_eq!(switched.lang(), "en");
    for (name, value) in &typed[..9] {
        assert_eq!(switched.field_value(name), *value, "{name} kept");
    }
    assert!(!switched.has(".field-error"), "nothing refused: it was not a filing");
    assert_eq!(redress::db::cases::count(&app.db).await.unwrap(), 0, "switching files nothing");
    // The choice is remembered, and the switch back works the same way.
    assert_eq!(visitor.get("/claims/new").await.lang(), "en");
    assert_eq!(switched.attr("button[value=zh-CN]", "form"), "claim-form");
    let back = visitor.post_form("/claims/new/wrong_amount", &[("amount", "954.82"), ("switch_lang", "zh-CN")]).await;
    assert_eq!((back.lang().as_str(), back.field_value("amount").as_str()), ("zh-CN", "954.82"));
    // Elsewhere the switch is its own form, as before.
    let home = visitor.get("/").await;
    assert_eq!(home.attrs("button[value=en]", "form"), Vec::<String>::new());
}

#[tokio::test]
async fn english_readers_see_terminal_locations_in_english_when_one_is_given() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let clerk = app.signed_in(Role::Merchant, "clerk@example.com", &[REVERSAL_MID]).await;
    let path = format!("/merchant/m/{REVERSAL_MID}");
    for (lang, location) in [("zh-CN", "儿童区"), ("en", "Children's corner")] {
        let page = clerk.get_with(&path, &[("accept-language", lang)]).await;
        let rows = page.select_all("tbody tr");
        assert!(rows.iter().any(|r| r.starts_with(REVERSAL_TID) && r.contains(location)), "{lang}: {rows:?}");
    }
    // The admin gives both when registering a terminal; without an English one, everyone reads the one given.
    let admin = app.signed_in(Role::Admin, "root@example.com", &[]).await;
    for (tid, en) in [("77777777", "North gate"), ("88888888", "")] {
        let saved = admin
            .post_form(
                "/admin/terminals",
                &[("merchant_id", REVERSAL_MID), ("terminal_id", tid), ("location", "北门"), ("location_en", en)],
            )
            .await;
        assert_eq!(saved.status, 303, "{}", saved.body);
    }
    let en = clerk.get_with(&path, &[("accept-language", "en")]).await.select_all("tbody tr");
    assert!(en.iter().any(|r| r.starts_with("77777777") && r.contains("North gate")), "{en:?}");
    assert!(en.iter().any(|r| r.starts_with("88888888") && r.contains("北门")), "{en:?}");
    let zh = clerk.get_with(&path, &[("accept-language", "zh-CN")]).await.select_all("tbody tr");
    assert!(zh.iter().any(|r| r.starts_with("77777777") && r.contains("北门")), "{zh:?}");
}

#[tokio::test]
async fn an_upload_redirects_to_its_report_and_a_reload_sends_nothing() {
    let app = TestApp::spawn().await;
    app.load_merchants().await;
    let agent = app.signed_in(Role::Agent, "desk@example.com", &[]).await;
    let upload = |body: String| {
        vec![
            ("kind", reqwest::multipart::Part::text("journal")),
            ("file", reqwest::multipart::Part::text(body).file_name("journal.csv").mime_str("text/csv").unwrap()),
        ]
    };
    // The upload forms carry their CSRF token as a field, not in their action.
    for (who, path) in [(&agent, "/imports")] {
        let page = who.get(path).await;
        assert!(page.attrs("form[enctype='multipart/form-data']", "action").iter().all(|a| !a.contains("_csrf")));
        assert_eq!(page.attrs("form[enctype='multipart/form-data'] > input:first-child", "name"), ["_csrf"]);
    }
    let unsigned = reqwest::multipart::Form::new()
        .text("kind", "journal")
        .part("file", reqwest::multipart::Part::text(sample("journal.csv")).file_name("journal.csv"));
    let refused =
        agent.client.post(agent.url("/imports")).header("origin", &app.base).multipart(unsigned).send().await.unwrap();
    assert_eq!(refused.status(), 403, "no token, no upload");
    let sent = multipart(&app, &agent, "/imports", upload(sample("journal.csv"))).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let report = sent.header("location").to_owned();
    assert!(report.starts_with("/imports?report=") && !report.contains("_csrf"), "{report}");
    for (lang, title) in [("en", "Imported journal.csv."), ("zh-CN", "")] {
        let page = agent.get_with(&report, &[("accept-language", lang)]).await;
        assert_eq!(page.status, 200);
        if !title.is_empty() {
            assert_eq!(page.select_text("#report-title.ok"), title);
        }
        assert_eq!(page.select_all(".report .counts dd")[..2], ["344", "344"]);
    }
    // The reload was a GET: one import, not two.
    assert_eq!(redress::db::records::recent_imports(&app.db, None, 10).await.unwrap().len(), 1);

    // A rejected file's report reads in the reader's language, whatever language it was sent in.
    let bad = sample("journal.csv").replacen("approved", "maybe", 1);
    let sent = multipart(&app, &agent, "/imports", upload(bad)).await;
    assert_eq!(sent.status, 303);
    let report = sent.header("location").to_owned();
    let en = agent.get_with(&report, &[("accept-language", "en")]).await;
    let zh = agent.get_with(&report, &[("accept-language", "zh-CN")]).await;
    assert_eq!(en.status, 422);
    assert_eq!(en.count(".report .problems li"), 1);
    assert_ne!(en.select_text(".report .problems li"), zh.select_text(".report .problems li"));

    // Merchant staff read only their own uploads' reports.
    let clerk = app.signed_in(Role::Merchant, "clerk@example.com", &[REVERSAL_MID]).await;
    assert_eq!(clerk.get(&report).await.status, 404);
}

/// Sends a multipart form as the page's form does: the page's CSRF token as its first field
/// (`fields` follow), never in the URL.
async fn multipart(app: &TestApp, who: &Browser, path: &str, fields: Vec<(&str, reqwest::multipart::Part)>) -> Page {
    let csrf = who.get("/imports").await.csrf();
    let mut form = reqwest::multipart::Form::new().text("_csrf", csrf);
    for (name, part) in fields {
        form = form.part(name.to_owned(), part);
    }
    let request = who.client.post(who.url(path)).header("origin", &app.base);
    Browser::page(request.multipart(form).send().await.unwrap()).await
}
