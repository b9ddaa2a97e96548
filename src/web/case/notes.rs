//! The history's notes in the reader's words: the audit log keeps codes and references in a
//! canonical form (`reversal_due`, `batch 000023 trace 004390 RRN …`, `954.82 CNY`) so that
//! they can be told in any language; nobody reads them that way (DESIGN.md §8).

use jiff::tz::TimeZone;

use crate::domain::finding::Finding;
use crate::i18n::{Lang, format};

/// `note` of an audit event of `action`, written for a reader of `lang`.
pub fn in_words(action: &str, note: &str, tz: &TimeZone, lang: Lang) -> String {
    match action {
        // Matching keeps the finding's code.
        "match" | "rematch" => match Finding::parse(note.trim()) {
            Some(f) => lang.t(&format!("finding.{}.title", f.as_str())).to_owned(),
            None => note.to_owned(),
        },
        // A credit: `2026-11-13 RRN`.
        "credit_imported" => match note.split_once(' ') {
            Some((day, rrn)) => lang.t_args(
                "reading.note.credit",
                &[("date", format::fact("settled_on", day, tz, lang)), ("rrn", rrn.to_owned())],
            ),
            None => note.to_owned(),
        },
        _ => note.split(" · ").map(|part| part_in_words(part, tz, lang)).collect::<Vec<_>>().join(" · "),
    }
}

/// One ` · `-separated part of an action's note (see `cases::act::event_note`).
fn part_in_words(part: &str, tz: &TimeZone, lang: Lang) -> String {
    if let Some((batch, trace, rrn)) = execution_reference(part) {
        let key = if rrn.is_empty() { "reading.note.execution" } else { "reading.note.execution_rrn" };
        let args = [("batch", batch.to_owned()), ("trace", trace.to_owned()), ("rrn", rrn.to_owned())];
        return lang.t_args(key, &args);
    }
    if let Some(amount) = part.strip_prefix("stated ") {
        let shown = format::fact("amount", amount, tz, lang);
        if shown != amount {
            return lang.t_args("reading.note.stated", &[("amount", shown)]);
        }
    }
    // An approved sum, or the person's own words (kept as written).
    format::fact("amount", part, tz, lang)
}

/// `batch 000023 trace 004390[ RRN 123456789012]` as its three parts (RRN empty when absent).
fn execution_reference(part: &str) -> Option<(&str, &str, &str)> {
    let rest = part.strip_prefix("batch ")?;
    let (batch, rest) = rest.split_once(" trace ")?;
    let (trace, rrn) = rest.split_once(" RRN ").unwrap_or((rest, ""));
    let six_digits = |s: &str| s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit());
    let rrn_ok = rrn.is_empty() || (rrn.len() == 12 && rrn.bytes().all(|b| b.is_ascii_alphanumeric()));
    (six_digits(batch) && six_digits(trace) && rrn_ok).then_some((batch, trace, rrn))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    #[test]
    fn codes_and_references_become_words() {
        let zh = |action, note| in_words(action, note, &tz(), Lang::ZhCn);
        let en = |action, note| in_words(action, note, &tz(), Lang::En);
        assert_eq!(zh("match", "reversal_due"), Lang::ZhCn.t("finding.reversal_due.title"));
        assert_eq!(en("rematch", "no_debit_found"), Lang::En.t("finding.no_debit_found.title"));
        assert_eq!(
            zh("merchant_confirm", "batch 000023 trace 004390 RRN 123456789012"),
            "批次号 000023，凭证号 004390，参考号 123456789012"
        );
        assert_eq!(en("mark_executed", "batch 000023 trace 004390"), "batch 000023, trace 004390");
        assert_eq!(zh("merchant_confirm", "stated 12.50 CNY · 打错了"), "商户确认的正确金额 ¥12.50 · 打错了");
        assert_eq!(en("approve_refund", "30341.70 CNY · checked"), "CNY 30,341.70 · checked");
        assert_eq!(zh("credit_imported", "2026-11-13 123456789012"), "2026年11月13日到账，参考号 123456789012");
        // People's own words are theirs: never rewritten.
        assert_eq!(en("reject", "batch of complaints"), "batch of complaints");
    }
}
