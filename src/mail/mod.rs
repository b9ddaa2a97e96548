//! Email notices: what each event says, rendered in the recipient's language, queued in the outbox.

use askama::Template;

use crate::db::outbox::{self, NewNotice};
use crate::db::{DbError, Tx};
use crate::i18n::Lang;

/// A notice ready to send: subject, plain text and HTML.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "email/notice.html")]
struct NoticeHtml<'a> {
    lang: Lang,
    subject: &'a str,
    paragraphs: &'a [String],
    action: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "email/notice.txt")]
struct NoticeText<'a> {
    lang: Lang,
    paragraphs: &'a [String],
    action: Option<(&'a str, &'a str)>,
}

/// Renders the common notice layout: paragraphs and an optional call to action.
fn render(lang: Lang, subject: String, paragraphs: Vec<String>, action: Option<(&str, &str)>) -> Rendered {
    let html = NoticeHtml { lang, subject: &subject, paragraphs: &paragraphs, action }
        .render()
        .expect("notice templates render: they only print strings");
    let text = NoticeText { lang, paragraphs: &paragraphs, action }.render().expect("notice templates render");
    Rendered { subject, text, html }
}

pub fn verify_email(lang: Lang, link: &str) -> Rendered {
    render(
        lang,
        lang.t("email.verify.subject").into(),
        vec![lang.t("email.verify.body").into(), lang.t("email.link_expires_24h").into()],
        Some((lang.t("email.verify.action"), link)),
    )
}

pub fn password_reset(lang: Lang, link: &str) -> Rendered {
    render(
        lang,
        lang.t("email.reset.subject").into(),
        vec![lang.t("email.reset.body").into(), lang.t("email.reset.ignore").into()],
        Some((lang.t("email.reset.action"), link)),
    )
}

/// Queues `rendered` for `recipient` in the caller's transaction.
pub async fn queue(
    tx: &mut Tx,
    notice_key: &str,
    event: &str,
    recipient: &str,
    lang: Lang,
    case_id: Option<i64>,
    rendered: &Rendered,
) -> Result<bool, DbError> {
    outbox::enqueue(
        tx,
        &NewNotice {
            notice_key,
            event,
            recipient,
            lang: lang.code(),
            case_id,
            subject: &rendered.subject,
            body_text: &rendered.text,
            body_html: &rendered.html,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_render_in_both_languages_with_the_link_escaped_in_html() {
        let link = "https://redress.example/verify-email?token=a&b";
        let en = verify_email(Lang::En, link);
        assert!(en.text.contains(link));
        assert!(en.html.contains("https://redress.example/verify-email?token=a&#38;b"));
        assert!(en.html.contains(r#"lang="en""#));
        let zh = verify_email(Lang::ZhCn, link);
        assert_ne!(zh.subject, en.subject);
        assert!(zh.html.contains(r#"lang="zh-CN""#));
    }
}

/// `claim_received` for a claim filed without an account: the link that proves the address
/// and opens the case.
pub fn claim_link(lang: Lang, case_id: i64, link: &str) -> Rendered {
    let case = case_id.to_string();
    render(
        lang,
        lang.t_args("email.claim_link.subject", &[("case", case.clone())]),
        vec![lang.t_args("email.claim_link.body", &[("case", case)]), lang.t("email.claim_link.expires").into()],
        Some((lang.t("email.claim_link.action"), link)),
    )
}
