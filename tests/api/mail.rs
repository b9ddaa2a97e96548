//! Email notices end to end: the outbox, the sender and a real SMTP server (aiosmtpd) — mail
//! produced by the app arrives with the right recipient, subject, language, link and body; a
//! mail server outage loses nothing and, with `redress serve` restarted in between, delivers
//! every notice exactly once; two senders on one database never send a notice twice.

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::time::Duration;

use redress::db::Db;
use redress::db::outbox;
use redress::domain::case_state::{CaseState, PendingRemedy};
use redress::domain::money::{Currency, Money};
use redress::domain::role::Role;
use redress::i18n::{Lang, format};
use redress::mail::sender::{Sender, SenderSettings};
use redress::mail::smtp::SmtpSettings;
use redress::mail::{self, CaseNotice, Event};

use crate::helpers::{Browser, Page, Server, TestApp, eventually, link_in, token_of};
use crate::smtp_server::{Received, SmtpServer, free_port};

/// Retries within a second or two, so tests see several attempts quickly.
const FAST_RETRIES: [(&str, &str); 2] = [("REDRESS_MAIL_RETRY_BASE_SECS", "1"), ("REDRESS_MAIL_RETRY_MAX_SECS", "1")];

async fn app_sending_to(smtp_url: &str, extra: &[(&str, &str)]) -> TestApp {
    let mut vars = vec![("REDRESS_SMTP_URL", smtp_url)];
    vars.extend_from_slice(&FAST_RETRIES);
    vars.extend_from_slice(extra);
    TestApp::spawn_with(&vars).await
}

/// Posts a form as a visitor whose browser asks for `lang`.
async fn post_in(b: &Browser, base: &str, lang: &str, path: &str, fields: &[(&str, &str)]) -> Page {
    let csrf = b.get_with("/", &[("accept-language", lang)]).await.csrf();
    let mut all = vec![("_csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post_form_raw(path, &all, &[("origin", base), ("accept-language", lang)]).await
}

fn to_one<'a>(mails: &'a [Received], address: &str) -> &'a Received {
    let found: Vec<&Received> = mails.iter().filter(|m| m.envelope_to == address).collect();
    assert_eq!(found.len(), 1, "exactly one message to {address}");
    found[0]
}

/// Runs a query that yields rows of `T` on the test's database (the library keeps its SQLite
/// pools to itself, so SQLite gets a connection of its own).
async fn query<T>(app: &TestApp, sql: &str) -> Vec<T>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    match &app.db {
        Db::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await.unwrap(),
        Db::Sqlite(_) => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            let rows = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
    }
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    query::<(i64,)>(app, sql).await[0].0
}

/// The Message-ID each outbox row must arrive with, and the row's id and recipient.
async fn expected_message_ids(app: &TestApp, domain: &str) -> HashMap<String, (i64, String)> {
    let rows: Vec<(i64, String, String)> = query(app, "SELECT id, notice_key, recipient FROM outbox ORDER BY id").await;
    rows.into_iter().map(|(id, key, recipient)| (mail::smtp::message_id(id, &key, domain), (id, recipient))).collect()
}

#[tokio::test]
async fn registration_mail_arrives_in_the_visitors_language_with_a_link_that_works() {
    let smtp = SmtpServer::start();
    let app = app_sending_to(&smtp.url(), &[]).await;
    for (lang, email) in [("en", "ann@example.com"), ("zh-CN", "li.wei@example.cn")] {
        let fields = [("email", email), ("password", "mangoes in june"), ("confirm", "mangoes in june")];
        let page = post_in(&app.browser(), &app.base, lang, "/register", &fields).await;
        assert_eq!(page.status, 200, "{}", page.body);
    }
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;

    let en = to_one(&mails, "ann@example.com");
    assert_eq!(en.to, "ann@example.com");
    assert_eq!(en.from, "Redress <no-reply@127.0.0.1>");
    assert_eq!(en.subject, "Confirm your email address for Redress");
    assert_eq!(en.content_type, "multipart/alternative");
    assert_eq!(en.auto_submitted, "auto-generated");
    assert_eq!(Page::of(&en.html).lang(), "en");
    assert!(en.text.contains("created a Redress account with this address"), "{}", en.text);
    let link = link_in(&en.text, &format!("{}/verify-email?token=", app.base));
    assert_eq!(Page::of(&en.html).attrs("a", "href"), [link.as_str()], "the HTML part links to the same place");

    let zh = to_one(&mails, "li.wei@example.cn");
    assert_eq!(zh.subject, "请确认您在 Redress 的邮箱地址");
    assert_eq!(Page::of(&zh.html).lang(), "zh-CN");
    assert!(zh.text.contains("使用此邮箱注册了 Redress 账户") && zh.text.contains("确认邮箱："), "{}", zh.text);

    // Both are recorded as sent, and arrived under the Message-ID derived from their outbox row.
    let ids = expected_message_ids(&app, "127.0.0.1").await;
    for m in [en, zh] {
        let (id, recipient) = ids.get(&m.message_id).unwrap_or_else(|| panic!("unexpected id {}", m.message_id));
        assert_eq!(recipient, &m.envelope_to);
        let row = outbox::get(&app.db, *id).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.attempts), ("sent", 1));
        assert!(row.sent_at.is_some());
    }

    // The emailed link confirms the address.
    let b = app.browser();
    let path = link.trim_start_matches(&app.base);
    assert_eq!(b.get(path).await.status, 200);
    let token = &token_of(&link);
    assert_eq!(b.post_form("/verify-email", &[("token", token)]).await.status, 303);
    assert_eq!(b.login("ann@example.com", "mangoes in june").await.status, 303);
}

#[tokio::test]
async fn a_password_reset_mail_arrives_and_its_link_sets_a_new_password() {
    let smtp = SmtpServer::start();
    let app = app_sending_to(&smtp.url(), &[]).await;
    app.seed_user(Role::Agent, "desk@example.com", &[]).await;
    let b = app.browser();
    let sent = post_in(&b, &app.base, "en-GB,en;q=0.9", "/password/forgot", &[("email", "desk@example.com")]).await;
    assert_eq!(sent.status, 200);

    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    let m = to_one(&mails, "desk@example.com");
    assert_eq!(m.subject, "Reset your Redress password");
    assert_eq!(Page::of(&m.html).lang(), "en");
    assert!(m.text.contains("If you did not ask for this, ignore this email"), "{}", m.text);
    let link = link_in(&m.text, &format!("{}/password/reset?token=", app.base));
    let token = token_of(&link);
    let done = b
        .post_form(
            "/password/reset",
            &[("token", &token), ("password", "new long password"), ("confirm", "new long password")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(b.login("desk@example.com", "new long password").await.status, 303);
    assert_eq!(smtp.count(), 1, "one request, one email");
}

#[tokio::test]
async fn every_event_arrives_as_rendered_in_both_languages() {
    let smtp = SmtpServer::start();
    let app = app_sending_to(&smtp.url(), &[]).await;
    let base = url::Url::parse(&app.base).unwrap();
    let mut expected = Vec::new();
    let mut tx = app.db.begin().await.unwrap();
    for (i, event) in Event::ALL.into_iter().enumerate() {
        let case_id = 100 + i as i64;
        for lang in Lang::ALL {
            // Facts as the one formatting layer writes them for this reader (DESIGN.md §8).
            let cny = |minor| format::money(Money::new(minor, Currency::CNY), lang);
            let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
            let due: jiff::Timestamp = "2026-12-02T00:00:00+08:00".parse().unwrap();
            let notice = CaseNotice {
                case_url: mail::case_url(&base, case_id),
                amount: Some(cny(12850)),
                explanation: Some("Terminal 10000001 printed nothing; trace 000123 got no answer.".into()),
                remedy: Some(PendingRemedy::Refund),
                remedy_amount: Some(cny(2850)),
                deadline: Some(format::deadline(due, &tz, lang)),
                reason: Some("Merchant response".into()),
                credit_date: Some(format::date(jiff::civil::date(2026, 12, 3), lang)),
                credit_rrn: Some("612345678901".into()),
                ..CaseNotice::new(case_id, "wrong_amount", CaseState::RefundPending)
            };
            let recipient = format!("{}-{}@example.com", event.as_str(), lang.code().to_lowercase());
            assert!(mail::queue_case(&mut tx, event, 7, &recipient, lang, &notice).await.unwrap());
            // The same event occurrence for the same person queues nothing more.
            assert!(!mail::queue_case(&mut tx, event, 7, &recipient, lang, &notice).await.unwrap());
            expected.push((recipient, lang, mail::render(event, lang, &notice), notice.case_url.clone()));
        }
    }
    for lang in Lang::ALL {
        let link = format!("{}/some-link?token=t0k3n", app.base);
        for (event, rendered) in [
            (mail::VERIFY_EMAIL, mail::verify_email(lang, &link)),
            (mail::PASSWORD_RESET, mail::password_reset(lang, &link)),
            ("claim_link", mail::claim_link(lang, 77, &link)),
        ] {
            let recipient = format!("{event}-{}@example.com", lang.code().to_lowercase());
            let key = format!("{event}:test:{}", lang.code());
            assert!(mail::queue(&mut tx, &key, event, &recipient, lang, None, &rendered).await.unwrap());
            expected.push((recipient, lang, rendered, link.clone()));
        }
    }
    tx.commit().await.unwrap();

    let mails = smtp.wait_for(expected.len(), Duration::from_secs(30)).await;
    assert_eq!(mails.len(), 24);
    for (recipient, lang, rendered, link) in &expected {
        let m = to_one(&mails, recipient);
        assert_eq!(&m.to, recipient);
        assert_eq!(m.subject, rendered.subject, "{recipient}");
        assert_eq!(m.text.trim_end(), rendered.text.trim_end(), "{recipient}");
        assert_eq!(m.html.trim_end(), rendered.html.trim_end(), "{recipient}");
        let html = Page::of(&m.html);
        assert!(m.text.contains(link.as_str()) && html.attrs("a", "href") == [link.as_str()], "{recipient}");
        assert_eq!(html.lang(), lang.code(), "{recipient}");
        let case_event = !recipient.starts_with(mail::VERIFY_EMAIL)
            && !recipient.starts_with(mail::PASSWORD_RESET)
            && !recipient.starts_with("claim_link");
        if case_event {
            let number = link.rsplit('/').next().unwrap();
            assert!(m.subject.contains(&format!("#{number}")), "the subject names the case: {}", m.subject);
            let word = if *lang == Lang::En { "Case" } else { "案件" };
            assert!(m.subject.contains(word), "{lang:?} subject: {}", m.subject);
        }
    }
    let finding = to_one(&mails, "finding-zh-cn@example.com");
    assert!(finding.text.contains("Terminal 10000001 printed nothing"), "the explanation is in the body");
    assert!(to_one(&mails, "claim_link-zh-cn@example.com").subject.contains("#77"));
    let arrived = to_one(&mails, "money_arrived-en@example.com");
    assert!(arrived.text.contains("Reference number (RRN): 612345678901"), "{}", arrived.text);

    // Every email exactly as the outbox holds it, in both languages: any change to a text or a
    // template shows up as a snapshot to review (tests/api/snapshots, `cargo insta review`).
    let outbox = app.outbox().await;
    for (recipient, _, _, _) in &expected {
        let row = outbox.iter().find(|r| &r.recipient == recipient).unwrap();
        let email =
            format!("subject: {}\n---- text ----\n{}---- html ----\n{}", row.subject, row.body_text, row.body_html);
        let name = recipient.trim_end_matches("@example.com");
        insta::with_settings!({ filters => EMAIL_FILTERS.to_vec(), omit_expression => true }, {
            insta::assert_snapshot!(name, email);
        });
    }
}

/// What differs from run to run in an email, blanked in its snapshot: the test server's
/// address, case numbers, one-time tokens, dates and times. Applied in this order.
pub(crate) const EMAIL_FILTERS: [(&str, &str); 7] = [
    (r"http://127\.0\.0\.1:\d+", "[BASE_URL]"),
    (r"token=[^\s&<\x22]+", "token=[TOKEN]"),
    (r"/cases/\d+", "/cases/[ID]"),
    // A case number (`#42`), not a colour (`#1b2330`).
    (r"#\d+\b", "#[ID]"),
    (r"\d{4}-\d{2}-\d{2}|\d{4}年\d{1,2}月\d{1,2}日|\b\d{1,2} [A-Z][a-z]{2} \d{4}\b", "[DATE]"),
    (r"\b\d{1,2}:\d{2}(:\d{2})?\b", "[TIME]"),
    (r"\[DATE\],? \[TIME\]", "[DATE] [TIME]"),
];

#[tokio::test]
async fn without_a_mail_server_notices_wait_in_the_outbox() {
    let app = TestApp::spawn().await;
    let fields = [("email", "wait@example.com"), ("password", "mangoes in june"), ("confirm", "mangoes in june")];
    assert_eq!(post_in(&app.browser(), &app.base, "en", "/register", &fields).await.status, 200);
    // Longer than the sender's poll: a sender running by mistake would have tried by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rows = app.outbox().await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("pending", 0));
    let admin = app.signed_in(Role::Admin, "admin@example.com", &[]).await;
    let page = admin.get("/admin/outbox").await;
    let notice = format!("#notice-{}", rows[0].id);
    assert_eq!(page.select_all("article.outbox-notice h2"), ["Confirm your email address for Redress"]);
    // The event in words and the notice's language by its own name, never their codes.
    let line = page.select_text(&format!("{notice} > p.muted"));
    let event = redress::i18n::Lang::ZhCn.t("reading.event.verify_email");
    assert!(line.contains(&format!("{event} · wait@example.com · English")), "{line}");
}

#[tokio::test]
async fn failures_back_off_then_fail_and_an_admin_retry_delivers() {
    let port = free_port();
    let app = app_sending_to(&format!("smtp://127.0.0.1:{port}"), &[("REDRESS_MAIL_MAX_ATTEMPTS", "2")]).await;
    let fields = [("email", "late@example.com"), ("password", "mangoes in june"), ("confirm", "mangoes in june")];
    assert_eq!(post_in(&app.browser(), &app.base, "en", "/register", &fields).await.status, 200);
    // An address that can never work fails at once instead of being retried.
    let mut tx = app.db.begin().await.unwrap();
    let rendered = mail::verify_email(Lang::En, "https://x.example/");
    mail::queue(&mut tx, "broken:1", mail::VERIFY_EMAIL, "not an address", Lang::En, None, &rendered).await.unwrap();
    tx.commit().await.unwrap();

    eventually("both notices failed", Duration::from_secs(20), || async {
        outbox::counts(&app.db).await.unwrap().failed == 2
    })
    .await;
    let rows = app.outbox().await;
    let refused = rows.iter().find(|r| r.recipient == "late@example.com").unwrap();
    assert_eq!(refused.attempts, 2, "one retry after the first failure, then no more");
    let error = refused.last_error.as_deref().unwrap();
    assert!(error.contains("refused"), "{error}");
    assert!(!error.contains('\n'));
    let broken = rows.iter().find(|r| r.recipient == "not an address").unwrap();
    assert_eq!(broken.attempts, 1);
    assert!(broken.last_error.as_deref().unwrap().contains("not valid"));

    // Admins see why, and can try again once the mail server is back.
    let admin = app.signed_in(Role::Admin, "admin@example.com", &[]).await;
    let page = admin.get("/admin/outbox").await;
    let notice = format!("#notice-{}", refused.id);
    assert!(page.has(&format!(r#"{notice} form[action="/admin/outbox/{}/retry"]"#, refused.id)), "{}", page.body);
    assert!(page.select_text(&format!("{notice} .notice.bad")).contains("refused"), "the admin sees why");
    let maildir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start_at(port, &maildir.path().join("maildir"));
    let retried = admin.post_form(&format!("/admin/outbox/{}/retry", refused.id), &[]).await;
    assert_eq!(retried.status, 303);
    let mails = smtp.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(to_one(&mails, "late@example.com").subject, "Confirm your email address for Redress");
    eventually("the retried notice is sent", Duration::from_secs(10), || async {
        outbox::get(&app.db, refused.id).await.unwrap().unwrap().status == "sent"
    })
    .await;
    // Retrying something that has not failed is refused; the forged form without a token too.
    assert_eq!(admin.post_form(&format!("/admin/outbox/{}/retry", refused.id), &[]).await.status, 404);
    let forged = admin.post_form_raw(&format!("/admin/outbox/{}/retry", broken.id), &[], &[]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(outbox::get(&app.db, broken.id).await.unwrap().unwrap().status, "failed");
    // Retry-all gives the broken address its one more attempt, which fails again at once.
    assert_eq!(admin.post_form("/admin/outbox/retry", &[]).await.status, 303);
    eventually("the broken address failed again", Duration::from_secs(10), || async {
        let row = outbox::get(&app.db, broken.id).await.unwrap().unwrap();
        row.status == "failed" && row.attempts == 2
    })
    .await;
    assert_eq!(smtp.count(), 1);
}

#[tokio::test]
async fn a_lease_keeps_a_notice_from_every_other_sender_until_it_runs_out() {
    let app = TestApp::spawn().await;
    let mut tx = app.db.begin().await.unwrap();
    let rendered = mail::password_reset(Lang::En, "https://x.example/");
    for i in 0..10 {
        let key = format!("lease:{i}");
        mail::queue(&mut tx, &key, mail::PASSWORD_RESET, "a@example.com", Lang::En, None, &rendered).await.unwrap();
    }
    tx.commit().await.unwrap();
    let other = app.connect_again().await;
    let now = redress::db::now_unix();
    let first = outbox::claim_due(&app.db, now, now + 300, 4).await.unwrap();
    let second = outbox::claim_due(&other, now, now + 300, 100).await.unwrap();
    assert_eq!((first.len(), second.len()), (4, 6));
    let first_ids: HashSet<i64> = first.iter().map(|c| c.id).collect();
    assert!(second.iter().all(|c| !first_ids.contains(&c.id)), "no notice leased twice");
    assert!(first.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
    assert!(outbox::claim_due(&app.db, now, now + 300, 100).await.unwrap().is_empty());
    // A lease that ran out (its process died) makes the notice due again.
    let later = now + 301;
    assert_eq!(outbox::claim_due(&other, later, later + 300, 100).await.unwrap().len(), 10);
    // A released lease is due again at once.
    outbox::release(&app.db, first[0].id).await.unwrap();
    let again = outbox::claim_due(&app.db, later, later + 300, 100).await.unwrap();
    assert_eq!(again.iter().map(|c| c.id).collect::<Vec<_>>(), vec![first[0].id]);
    other.close().await;
}

fn sender_settings(smtp_url: &str) -> SenderSettings {
    SenderSettings {
        smtp: SmtpSettings::parse(smtp_url, None, None).unwrap(),
        from: "Redress <no-reply@redress.test>".parse().unwrap(),
        message_id_domain: "redress.test".into(),
        max_attempts: 10,
        retry_base: Duration::from_secs(1),
        retry_max: Duration::from_secs(1),
        // Small batches make the two senders take turns many times.
        batch: 8,
        connections: 2,
        poll: Duration::from_millis(50),
    }
}

/// Delivers until nothing is pending; returns how many notices this sender delivered.
async fn drain(sender: Sender, db: Db) -> usize {
    let stop = tokio_util::sync::CancellationToken::new();
    let mut sent = 0;
    loop {
        let round = sender.deliver_due(&stop).await.unwrap();
        sent += round.sent;
        assert_eq!(round.failed, 0);
        if round.leased == 0 {
            if outbox::counts(&db).await.unwrap().pending == 0 {
                return sent;
            }
            // The other sender holds the rest.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn two_senders_on_one_database_never_deliver_a_notice_twice() {
    const N: usize = 300;
    let smtp = SmtpServer::start();
    let app = TestApp::spawn().await;
    let rendered = mail::render(
        Event::CaseResolved,
        Lang::ZhCn,
        &CaseNotice {
            case_url: format!("{}/cases/1", app.base),
            ..CaseNotice::new(1, "no_receipt", CaseState::Resolved)
        },
    );
    let mut tx = app.db.begin().await.unwrap();
    for i in 0..N {
        let key = format!("two-senders:{i}");
        let recipient = format!("r{i}@example.com");
        mail::queue(&mut tx, &key, "case_resolved", &recipient, Lang::ZhCn, Some(1), &rendered).await.unwrap();
    }
    tx.commit().await.unwrap();

    // Two processes' worth of database connections and SMTP pools.
    let db_a = app.db.clone();
    let db_b = app.connect_again().await;
    let a = Sender::new(db_a.clone(), sender_settings(&smtp.url()));
    let b = Sender::new(db_b.clone(), sender_settings(&smtp.url()));
    let (sent_a, sent_b) = tokio::join!(drain(a, db_a), drain(b, db_b.clone()));
    assert_eq!(sent_a + sent_b, N);
    assert!(sent_a > 0 && sent_b > 0, "both senders took part ({sent_a} + {sent_b})");

    let mails = smtp.wait_for(N, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.count(), N, "no notice arrived twice");
    let ids: HashSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), N);
    let expected = expected_message_ids(&app, "redress.test").await;
    for m in &mails {
        assert_eq!(expected[&m.message_id].1, m.envelope_to);
    }
    assert_eq!(outbox::counts(&app.db).await.unwrap().sent, N as i64);
    db_b.close().await;
}

#[tokio::test]
async fn outage_drill_a_thousand_notices_survive_a_mail_server_outage_and_a_restart() {
    const N: usize = 1000;
    let app = TestApp::spawn().await;
    let work = tempfile::tempdir().unwrap();
    let log = work.path().join("serve.log");
    let maildir = work.path().join("maildir");
    let smtp_port = free_port();

    // The mail server is down from the start.
    let first = Server::start(&app.database_url, smtp_port, &log).await;
    let base = url::Url::parse("http://redress.test").unwrap();
    let mut rendered = Vec::new();
    for event in Event::ALL {
        for lang in Lang::ALL {
            let notice = CaseNotice {
                case_url: mail::case_url(&base, 5),
                ..CaseNotice::new(5, "no_receipt", CaseState::Resolved)
            };
            rendered.push((event, lang, mail::render(event, lang, &notice)));
        }
    }
    for chunk in 0..10 {
        let mut tx = app.db.begin().await.unwrap();
        for i in chunk * N / 10..(chunk + 1) * N / 10 {
            let (event, lang, r) = &rendered[i % rendered.len()];
            let recipient = format!("drill{i}@example.com");
            let key = format!("drill:{i}");
            assert!(mail::queue(&mut tx, &key, event.as_str(), &recipient, *lang, Some(5), r).await.unwrap());
        }
        tx.commit().await.unwrap();
    }

    eventually("every notice was tried once", Duration::from_secs(60), || async {
        scalar(&app, "SELECT COUNT(*) FROM outbox WHERE attempts >= 1").await == N as i64
    })
    .await;
    first.stop();

    // Nothing lost, nothing given up, and a clean stop left no lease behind.
    assert_eq!(outbox::counts(&app.db).await.unwrap(), outbox::Counts { pending: N as i64, sent: 0, failed: 0 });
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM outbox WHERE lease_until IS NOT NULL").await, 0);
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM outbox WHERE last_error LIKE '%refused%'").await, N as i64);

    // A new process picks up the retries where the old one left off...
    let second = Server::start(&app.database_url, smtp_port, &log).await;
    eventually("the restarted server retried", Duration::from_secs(30), || async {
        scalar(&app, "SELECT COUNT(*) FROM outbox WHERE attempts >= 2").await > 0
    })
    .await;
    // ...and once the mail server is back, delivers everything.
    let smtp = SmtpServer::start_at(smtp_port, &maildir);
    eventually("every notice was sent", Duration::from_secs(90), || async {
        outbox::counts(&app.db).await.unwrap().sent == N as i64
    })
    .await;
    // Late duplicates, if there were any, would show up here.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    second.stop();

    let mails = smtp.messages();
    assert_eq!(mails.len(), N, "every notice arrived exactly once");
    let expected = expected_message_ids(&app, "redress.test").await;
    let mut seen = HashSet::new();
    for m in &mails {
        assert!(seen.insert(m.message_id.clone()), "{} arrived twice", m.message_id);
        let (_, recipient) = expected.get(&m.message_id).unwrap_or_else(|| panic!("unknown {}", m.message_id));
        assert_eq!(recipient, &m.envelope_to);
    }
    assert_eq!(seen.len(), N);
    let counts = outbox::counts(&app.db).await.unwrap();
    assert_eq!(counts, outbox::Counts { pending: 0, sent: N as i64, failed: 0 });
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(log_text.matches("outbox sender stopped").count(), 2, "both servers stopped their sender:\n{log_text}");
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("openssl runs (apt-get install openssl)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A certificate authority, and a certificate for `localhost` it signed; returns the paths of
/// the authority's certificate, the server's certificate and the server's key.
fn test_certificates(dir: &std::path::Path) -> (String, String, String) {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (ca_key, ca, key, csr, cert, ext) =
        (path("ca.key"), path("ca.pem"), path("leaf.key"), path("leaf.csr"), path("leaf.pem"), path("leaf.ext"));
    std::fs::write(&ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
    let new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[
            &["req", "-x509", "-subj", "/CN=Redress test CA", "-days", "2", "-keyout", &ca_key, "-out", &ca][..],
            &new_key,
        ]
        .concat(),
    );
    openssl(&[&["req", "-subj", "/CN=localhost", "-keyout", &key, "-out", &csr][..], &new_key].concat());
    openssl(&[
        "x509",
        "-req",
        "-in",
        &csr,
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &ext,
        "-out",
        &cert,
    ]);
    (ca, cert, key)
}

/// One way of reaching a mail server, and how it must end.
struct TlsCase<'a> {
    name: &'static str,
    smtp_url: String,
    env: &'a [(&'a str, &'a str)],
    server: &'a SmtpServer,
    /// `None`: delivered; `Some(text)`: refused, with `text` in the recorded error.
    refusal: Option<&'static str>,
}

#[tokio::test]
async fn starttls_and_implicit_tls_deliver_only_to_a_verified_server() {
    let app = TestApp::spawn().await;
    let work = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(work.path());
    let log = work.path().join("serve.log");
    // SSL_CERT_FILE replaces the machine's trust store for the server process: it trusts our CA.
    let trust_ca = [("SSL_CERT_FILE", ca.as_str())];
    let starttls =
        SmtpServer::start_with(free_port(), &work.path().join("starttls"), &["--tlscert", &cert, "--tlskey", &key]);
    let implicit =
        SmtpServer::start_with(free_port(), &work.path().join("smtps"), &["--smtpscert", &cert, "--smtpskey", &key]);
    let plain = SmtpServer::start_with(free_port(), &work.path().join("plain"), &[]);
    let rendered = mail::verify_email(Lang::En, "https://redress.test/verify-email?token=x");

    let case = |name, smtp_url, env, server, refusal| TlsCase { name, smtp_url, env, server, refusal };
    let cases = [
        case("starttls", format!("smtp://localhost:{}?tls=starttls", starttls.port), &trust_ca, &starttls, None),
        case("smtps", format!("smtps://localhost:{}", implicit.port), &trust_ca, &implicit, None),
        // Required means required: a server without STARTTLS gets nothing.
        case(
            "no-starttls",
            format!("smtp://127.0.0.1:{}?tls=starttls", plain.port),
            &trust_ca,
            &plain,
            Some("STARTTLS"),
        ),
        // The STARTTLS server takes no mail in clear text: so the first case really was encrypted.
        case("plain", format!("smtp://localhost:{}?tls=none", starttls.port), &trust_ca, &starttls, Some("530")),
        // A certificate the machine does not trust is refused.
        case("untrusted", format!("smtps://localhost:{}", implicit.port), &[], &implicit, Some("TLS")),
    ];
    for TlsCase { name, smtp_url, env, server, refusal } in cases {
        let before = server.count();
        let mut tx = app.db.begin().await.unwrap();
        let to = format!("{name}@example.com");
        mail::queue(&mut tx, &format!("tls:{name}"), mail::VERIFY_EMAIL, &to, Lang::En, None, &rendered).await.unwrap();
        tx.commit().await.unwrap();
        let serve = Server::start_with(&app.database_url, &smtp_url, env, &log).await;
        let id: i64 = scalar(&app, &format!("SELECT id FROM outbox WHERE recipient = '{to}'")).await;
        eventually(&format!("{name}: the notice was tried"), Duration::from_secs(20), || async {
            outbox::get(&app.db, id).await.unwrap().unwrap().attempts >= 1
        })
        .await;
        serve.stop();
        let row = outbox::get(&app.db, id).await.unwrap().unwrap();
        match refusal {
            None => {
                assert_eq!(row.status, "sent", "{name}: {:?}", row.last_error);
                let mails = server.wait_for(before + 1, Duration::from_secs(5)).await;
                assert_eq!(to_one(&mails, &to).subject, rendered.subject);
            }
            Some(why) => {
                assert_eq!(row.status, "pending", "{name}");
                let error = row.last_error.unwrap_or_default();
                assert!(error.contains(why), "{name}: {error}");
                assert_eq!(server.count(), before, "{name}: nothing may arrive");
            }
        }
    }
}
