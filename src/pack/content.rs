//! What the evidence pack says, in the reader's language: the claim, the finding and its
//! explanation, the records it rests on, the history, the files, the UnionPay reason code and
//! where to go next. No I/O: the caller gathers the case's data.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::cases::view::explanation;
use crate::db::cases::CaseRow;
use crate::db::evidence::EvidenceRow;
use crate::domain::finding::Finding;
use crate::domain::money::Money;
use crate::domain::records::{JournalRow, SettlementEntry};
use crate::i18n::{Lang, format};

/// One settlement debit the finding rests on, with its terminal journal row when there is one.
pub struct PackRecord {
    pub debit: SettlementEntry,
    pub journal: Option<JournalRow>,
    /// The merchant's name in the reader's language and the terminal's location, when known.
    pub merchant_name: Option<String>,
}

/// One line of the case's history, already filtered for the reader.
pub struct TimelineEntry {
    pub at: Timestamp,
    /// Codes: `actor.<actor>`, `cases.event.<action>`, `state.<to_state>`.
    pub actor: String,
    pub action: String,
    pub to_state: String,
    pub note: Option<String>,
}

pub struct PackInput<'a> {
    pub case: &'a CaseRow,
    /// The shop the explanation names (`cases::view::explained_shop`).
    pub shop: Option<crate::domain::shop::Shop>,
    pub records: Vec<PackRecord>,
    pub timeline: Vec<TimelineEntry>,
    pub evidence: Vec<EvidenceRow>,
    pub lang: Lang,
    pub tz: &'a TimeZone,
    pub now: Timestamp,
    /// The case page, for the reader to find it again.
    pub case_url: String,
}

/// The pack as headed sections of text, before layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub title: String,
    /// Case number, when made, where it lives online.
    pub subtitle: Vec<String>,
    pub lang: Lang,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph.
    Text(String),
    /// A small heading inside a section (one record of several).
    Subheading(String),
    /// Label and value pairs, drawn as two columns.
    Fields(Vec<(String, String)>),
    /// Secondary text (drawn smaller, in grey).
    Note(String),
}

/// The UnionPay reason code an issuing bank files the dispute under, for a finding
/// (DESIGN.md §11), and the note that goes with it.
pub fn reason_code(finding: Finding) -> Option<&'static str> {
    match finding {
        Finding::ReversalDue | Finding::DuplicateAfterTimeout => Some("4502"),
        Finding::DuplicateConfirmed => Some("4512"),
        Finding::AmountDiscrepancy | Finding::AmountKeyedWrong => Some("4507"),
        Finding::NoRefundRecorded | Finding::RefundNotSettled => Some("4532"),
        _ => None,
    }
}

/// Every code of the table, in its order, for the reference table in the pack.
pub const REASON_CODES: [&str; 6] = ["4502", "6302", "4512", "4507", "4532", "4544"];

pub fn document(input: &PackInput<'_>) -> Document {
    let lang = input.lang;
    let case = input.case;
    let t = |key: &str| lang.t(key).to_owned();
    let when = |at: Timestamp| lang.datetime(at, input.tz);
    let money = |m: Money| format::money(m, lang);

    let mut sections = Vec::new();

    // The claim, as filed.
    let mut claim = vec![
        (t("pack.field.kind"), t(&format!("kind.{}", case.kind.as_str()))),
        (t("pack.field.state"), t(&format!("state.{}", case.state.as_str()))),
        (t("pack.field.card"), masked_claim_card(case)),
        (t("cases.amount"), money(case.amount())),
    ];
    if let Some(expected) = case.expected_minor {
        claim.push((t("pack.field.expected"), money(Money::new(expected, case.currency))));
    }
    claim.push((t("pack.field.occurred"), format::claimed_time(&case.occurred_at, input.tz, lang)));
    if let Some(name) = &case.merchant_name {
        claim.push((t("pack.field.merchant_name"), name.clone()));
    }
    if let Some(mid) = &case.merchant_id {
        claim.push((t("term.mid"), mid.clone()));
    }
    if let Some(tid) = &case.terminal_id {
        claim.push((t("term.tid"), tid.clone()));
    }
    if let Some(text) = &case.description {
        claim.push((t("pack.field.description"), text.clone()));
    }
    claim.push((t("pack.field.filed"), when(Timestamp::from_second(case.created_at).unwrap_or(input.now))));
    sections.push(Section { heading: t("pack.section.claim"), blocks: vec![Block::Fields(claim)] });

    // The finding and what it means.
    let mut finding = Vec::new();
    match explanation(case, lang, input.tz, input.shop.as_ref()) {
        Some((title, text)) => {
            finding.push(Block::Subheading(title));
            finding.push(Block::Text(text));
        }
        None => finding.push(Block::Text(t("pack.finding.none"))),
    }
    let mut outcome = Vec::new();
    if let Some(amount) = case.remedy_amount() {
        outcome.push((t(&format!("pack.remedy.{}", case.remedy_kind.as_str())), money(amount)));
    }
    if let Some(deadline) = case.deadline_at.and_then(|s| Timestamp::from_second(s).ok()) {
        outcome.push((t("pack.field.deadline"), format::deadline(deadline, input.tz, lang)));
    }
    if let Some(rrn) = &case.executed_rrn {
        outcome.push((t("pack.field.executed_rrn"), rrn.clone()));
    }
    if !outcome.is_empty() {
        finding.push(Block::Fields(outcome));
    }
    sections.push(Section { heading: t("pack.section.finding"), blocks: finding });

    // The records the finding rests on.
    let mut records = Vec::new();
    if input.records.is_empty() {
        records.push(Block::Text(t("pack.records.none")));
    }
    for (i, r) in input.records.iter().enumerate() {
        let d = &r.debit;
        records.push(Block::Subheading(lang.t_args("pack.records.item", &[("n", (i + 1).to_string())])));
        let mut fields = vec![
            (t("pack.field.txn_time"), when(d.txn_time)),
            (t("pack.field.merchant_name"), r.merchant_name.clone().unwrap_or_else(|| t("pack.unknown"))),
            (t("term.mid"), d.merchant_id.to_string()),
            (t("term.tid"), d.terminal_id.to_string()),
        ];
        if let Some(j) = &r.journal {
            fields.push((t("cases.receipt.batch"), j.batch_no.clone()));
        }
        fields.push((t("cases.receipt.trace"), d.trace_no.clone()));
        fields.push((t("cases.receipt.rrn"), d.rrn.to_string()));
        fields.push((t("cases.receipt.card"), d.card.as_str().to_owned()));
        fields.push((t("pack.field.settled_amount"), money(d.amount)));
        fields.push((t("pack.field.settled_on"), d.settled_on.to_string()));
        if let Some(j) = &r.journal {
            fields.push((t("pack.field.terminal_amount"), money(j.amount)));
            fields.push((t("pack.field.terminal_status"), t(&format!("pack.status.{}", j.status.as_str()))));
        } else {
            fields.push((t("pack.field.terminal_amount"), t("pack.records.no_journal")));
        }
        records.push(Block::Fields(fields));
    }
    sections.push(Section { heading: t("pack.section.records"), blocks: records });

    // What happened, in order.
    let timeline: Vec<Block> = input
        .timeline
        .iter()
        .map(|e| {
            let mut line = format!(
                "{} · {} · {} → {}",
                when(e.at),
                t(&format!("actor.{}", e.actor)),
                t(&format!("cases.event.{}", e.action)),
                t(&format!("state.{}", e.to_state))
            );
            if let Some(note) = e.note.as_deref().filter(|n| !n.trim().is_empty()) {
                line.push_str(&format!(" — {note}"));
            }
            Block::Text(line)
        })
        .collect();
    sections.push(Section { heading: t("pack.section.timeline"), blocks: timeline });

    // The files on the case.
    let evidence = if input.evidence.is_empty() {
        vec![Block::Text(t("pack.evidence.none"))]
    } else {
        vec![Block::Fields(
            input
                .evidence
                .iter()
                .map(|e| {
                    let at = Timestamp::from_second(e.created_at).map(when).unwrap_or_default();
                    (e.file_name.clone(), format!("{} · {}", format::file_size(e.size_bytes), at))
                })
                .collect(),
        )]
    };
    sections.push(Section { heading: t("pack.section.evidence"), blocks: evidence });

    // The reason code for the issuing bank.
    let mut codes = Vec::new();
    match case.finding.and_then(reason_code) {
        Some(code) => codes.push(Block::Text(
            lang.t_args("pack.code.fits", &[("code", code.to_owned()), ("name", t(&format!("pack.code.{code}")))]),
        )),
        None => codes.push(Block::Text(t("pack.code.none"))),
    }
    codes.push(Block::Fields(REASON_CODES.iter().map(|c| (c.to_string(), t(&format!("pack.code.{c}")))).collect()));
    sections.push(Section { heading: t("pack.section.code"), blocks: codes });

    // Where to go next.
    sections.push(Section {
        heading: t("pack.section.next"),
        blocks: vec![
            Block::Text(t("pack.next.bank")),
            Block::Text(t("pack.next.unionpay")),
            Block::Text(t("pack.next.pboc")),
        ],
    });

    Document {
        title: t("pack.title"),
        subtitle: vec![
            lang.t_args("cases.number", &[("id", case.id.to_string())]),
            lang.t_args("pack.made", &[("at", when(input.now))]),
            input.case_url.clone(),
        ],
        lang,
        sections,
    }
}

/// The claim's card as the customer gave it: first six (if given) and last four.
fn masked_claim_card(case: &CaseRow) -> String {
    match &case.card_first6 {
        Some(first6) => format!("{first6}******{}", case.card_last4),
        None => format!("**** {}", case.card_last4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_codes_follow_the_design_table() {
        assert_eq!(reason_code(Finding::ReversalDue), Some("4502"));
        assert_eq!(reason_code(Finding::DuplicateAfterTimeout), Some("4502"));
        assert_eq!(reason_code(Finding::DuplicateConfirmed), Some("4512"));
        assert_eq!(reason_code(Finding::AmountKeyedWrong), Some("4507"));
        assert_eq!(reason_code(Finding::AmountDiscrepancy), Some("4507"));
        assert_eq!(reason_code(Finding::NoRefundRecorded), Some("4532"));
        assert_eq!(reason_code(Finding::RefundNotSettled), Some("4532"));
        assert_eq!(reason_code(Finding::NoDebitFound), None);
        assert_eq!(reason_code(Finding::AlreadyReversed), None);
    }

    #[test]
    fn every_code_has_words_in_both_languages() {
        for lang in Lang::ALL {
            for code in REASON_CODES {
                let words = lang.t(&format!("pack.code.{code}"));
                assert!(!words.is_empty() && words != "⟨missing text⟩", "{code} in {lang:?}: {words}");
            }
        }
    }
}
