//! The askama template structs behind [`super::render`]: one text and one HTML template per event.
//!
//! Every template sees one view (`v`): the recipient's language, the subject, the link and its
//! label, and for case notices the [`CaseNotice`] with its codes already translated. Texts come
//! from the catalog through `v.t("email.…")`, which fills the standard placeholders, so a
//! template only decides *which* sentences and facts an event shows.

use askama::Template;

use super::CaseNotice;
use crate::domain::case_state::{CaseState, Event, PendingRemedy};
use crate::i18n::{Lang, catalog, fill};

/// What a case template sees.
pub(super) struct CaseView<'a> {
    pub lang: Lang,
    pub subject: String,
    pub link: &'a str,
    pub action: String,
    pub n: &'a CaseNotice,
    /// The case number as people read it, e.g. `#42`.
    pub case: String,
    /// The claim kind in words (the code itself when the catalog does not know it).
    pub kind: String,
    pub state: &'static str,
    pub remedy: Option<&'static str>,
}

impl<'a> CaseView<'a> {
    pub fn new(lang: Lang, event: Event, n: &'a CaseNotice) -> CaseView<'a> {
        // The same words the site uses for the kind (issue 15 item 4): one catalog key.
        let kind_key = format!("kind.{}", n.kind);
        let kind = if catalog().contains(&kind_key) { lang.t(&kind_key).to_owned() } else { n.kind.clone() };
        let mut view = CaseView {
            lang,
            subject: String::new(),
            link: &n.case_url,
            action: String::new(),
            n,
            case: case_number(lang, n.case_id),
            kind,
            state: lang.t(&format!("state.{}", n.state.as_str())),
            // A remedy notice without the remedy still names the one its state waits for.
            remedy: n
                .remedy
                .or(match n.state {
                    CaseState::RefundPending => Some(PendingRemedy::Refund),
                    CaseState::ReversalPending => Some(PendingRemedy::Reversal),
                    _ => None,
                })
                .map(|r| match r {
                    PendingRemedy::Refund => lang.t("email.remedy.refund"),
                    PendingRemedy::Reversal => lang.t("email.remedy.reversal"),
                }),
        };
        view.subject = match (event, n.decided) {
            (Event::Finding, true) => view.t("reading.email.decided.subject"),
            _ => view.t(subject_key(event)),
        };
        view.action = view.t("email.case.open");
        view
    }

    /// The catalog text for `key` with the case's placeholders filled in.
    pub fn t(&self, key: &str) -> String {
        let n = self.n;
        let or_empty = |v: &Option<String>| v.clone().unwrap_or_default();
        fill(
            self.lang.t(key),
            &[
                ("case", self.case.clone()),
                ("kind", self.kind.clone()),
                ("state", self.state.to_owned()),
                ("amount", or_empty(&n.amount)),
                ("remedy", self.remedy.unwrap_or_default().to_owned()),
                // In a sentence, a sum the caller did not give still reads naturally.
                (
                    "remedy_amount",
                    self.remedy_amount().unwrap_or_else(|| self.lang.t("email.amount.disputed").to_owned()),
                ),
                ("deadline", or_empty(&n.deadline)),
                ("credit_date", or_empty(&n.credit_date)),
                ("rrn", or_empty(&n.credit_rrn)),
                ("reason", or_empty(&n.reason)),
            ],
        )
    }

    pub fn action_line(&self) -> String {
        action_line(self.lang, &self.action)
    }

    /// One fact as a line of plain text: `Label: value`, punctuated for the language.
    pub fn fact(&self, label_key: &str, value: impl std::fmt::Display) -> String {
        self.lang
            .t_args("email.fact.line", &[("label", self.lang.t(label_key).to_owned()), ("value", value.to_string())])
    }

    /// The sum the remedy moves; the disputed amount when the caller gave no separate sum.
    pub fn remedy_amount(&self) -> Option<String> {
        self.n.remedy_amount.clone().or_else(|| self.n.amount.clone())
    }

    /// The plain-language explanation, one entry per paragraph (blank lines separate them).
    pub fn explanation(&self) -> Vec<&str> {
        paragraphs(self.n.explanation.as_deref().unwrap_or(""))
    }

    /// The reason given by a person (agent, system), one entry per paragraph.
    pub fn reason(&self) -> Vec<&str> {
        paragraphs(self.n.reason.as_deref().unwrap_or(""))
    }

    /// The opening line of a `finding` email: the records were checked, or the desk decided.
    pub fn finding_intro(&self) -> String {
        self.t(if self.n.decided { "reading.email.decided.intro" } else { "email.finding.intro" })
    }

    /// The sentence that tells the customer what happens next after a finding.
    pub fn finding_next(&self) -> String {
        self.t(match self.n.state {
            CaseState::Submitted => "email.finding.next.submitted",
            CaseState::AwaitingCustomer => "email.finding.next.awaiting_customer",
            CaseState::AwaitingMerchant => "email.finding.next.awaiting_merchant",
            CaseState::UnderReview => "email.finding.next.under_review",
            CaseState::RefundPending => "email.finding.next.refund_pending",
            CaseState::ReversalPending => "email.finding.next.reversal_pending",
            CaseState::Resolved => "email.finding.next.resolved",
            CaseState::Rejected | CaseState::Withdrawn | CaseState::Closed => "email.finding.next.other",
        })
    }
}

/// What an account template sees: no case, only the link to act on.
pub(super) struct AccountView<'a> {
    pub lang: Lang,
    pub subject: String,
    pub link: &'a str,
    pub action: String,
}

impl AccountView<'_> {
    pub fn action_line(&self) -> String {
        action_line(self.lang, &self.action)
    }
}

/// What the `claim_received` notice of a claim filed without an account sees: the case number
/// and the one-time link that proves the address and opens the case.
pub(super) struct ClaimLinkView<'a> {
    pub lang: Lang,
    pub subject: String,
    pub link: &'a str,
    pub action: String,
    pub case: String,
}

impl ClaimLinkView<'_> {
    pub fn action_line(&self) -> String {
        action_line(self.lang, &self.action)
    }

    /// The catalog text for `key` with `{case}` filled in.
    pub fn t(&self, key: &str) -> String {
        self.lang.t_args(key, &[("case", self.case.clone())])
    }
}

/// The call to action introducing the link in plain text, punctuated for the language.
fn action_line(lang: Lang, action: &str) -> String {
    lang.t_args("email.action_line", &[("action", action.to_owned())])
}

pub(super) fn case_number(lang: Lang, case_id: i64) -> String {
    lang.t_args("email.case.number", &[("id", case_id.to_string())])
}

pub(super) fn subject_key(event: Event) -> &'static str {
    match event {
        Event::ClaimReceived => "email.claim_received.subject",
        Event::Finding => "email.finding.subject",
        Event::MerchantActionRequired => "email.merchant_action_required.subject",
        Event::CustomerActionRequired => "email.customer_action_required.subject",
        Event::RemedyExecuted => "email.remedy_executed.subject",
        Event::MoneyArrived => "email.money_arrived.subject",
        Event::CaseResolved => "email.case_resolved.subject",
        Event::CaseRejected => "email.case_rejected.subject",
        Event::DeadlineMissed => "email.deadline_missed.subject",
    }
}

fn paragraphs(text: &str) -> Vec<&str> {
    text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect()
}

/// Declares the text and HTML template structs of one event.
macro_rules! templates {
    ($view:ident: $($text:ident $text_path:tt, $html:ident $html_path:tt;)*) => {$(
        #[derive(Template)]
        #[template(path = $text_path)]
        pub(super) struct $text<'a> {
            pub v: &'a $view<'a>,
        }

        #[derive(Template)]
        #[template(path = $html_path)]
        pub(super) struct $html<'a> {
            pub v: &'a $view<'a>,
        }
    )*};
}

templates! { CaseView:
    ClaimReceivedText "email/claim_received.txt", ClaimReceivedHtml "email/claim_received.html";
    FindingText "email/finding.txt", FindingHtml "email/finding.html";
    MerchantActionRequiredText "email/merchant_action_required.txt",
        MerchantActionRequiredHtml "email/merchant_action_required.html";
    CustomerActionRequiredText "email/customer_action_required.txt",
        CustomerActionRequiredHtml "email/customer_action_required.html";
    RemedyExecutedText "email/remedy_executed.txt", RemedyExecutedHtml "email/remedy_executed.html";
    MoneyArrivedText "email/money_arrived.txt", MoneyArrivedHtml "email/money_arrived.html";
    CaseResolvedText "email/case_resolved.txt", CaseResolvedHtml "email/case_resolved.html";
    CaseRejectedText "email/case_rejected.txt", CaseRejectedHtml "email/case_rejected.html";
    DeadlineMissedText "email/deadline_missed.txt", DeadlineMissedHtml "email/deadline_missed.html";
}

templates! { AccountView:
    VerifyEmailText "email/verify_email.txt", VerifyEmailHtml "email/verify_email.html";
    PasswordResetText "email/password_reset.txt", PasswordResetHtml "email/password_reset.html";
}

templates! { ClaimLinkView:
    ClaimLinkText "email/claim_received_link.txt", ClaimLinkHtml "email/claim_received_link.html";
}

/// Renders the text and HTML bodies of a case event.
pub(super) fn case_bodies(event: Event, v: &CaseView<'_>) -> askama::Result<(String, String)> {
    Ok(match event {
        Event::ClaimReceived => (ClaimReceivedText { v }.render()?, ClaimReceivedHtml { v }.render()?),
        Event::Finding => (FindingText { v }.render()?, FindingHtml { v }.render()?),
        Event::MerchantActionRequired => {
            (MerchantActionRequiredText { v }.render()?, MerchantActionRequiredHtml { v }.render()?)
        }
        Event::CustomerActionRequired => {
            (CustomerActionRequiredText { v }.render()?, CustomerActionRequiredHtml { v }.render()?)
        }
        Event::RemedyExecuted => (RemedyExecutedText { v }.render()?, RemedyExecutedHtml { v }.render()?),
        Event::MoneyArrived => (MoneyArrivedText { v }.render()?, MoneyArrivedHtml { v }.render()?),
        Event::CaseResolved => (CaseResolvedText { v }.render()?, CaseResolvedHtml { v }.render()?),
        Event::CaseRejected => (CaseRejectedText { v }.render()?, CaseRejectedHtml { v }.render()?),
        Event::DeadlineMissed => (DeadlineMissedText { v }.render()?, DeadlineMissedHtml { v }.render()?),
    })
}

/// Plain text from a template: conditionals leave blank lines and trailing spaces behind, which
/// mail clients show; keep single blank lines between paragraphs and nothing at line ends.
pub(super) fn tidy_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out.push('\n');
    out
}
