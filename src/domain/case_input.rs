//! What people type when they act on a case: reasons, notes, the reference of an executed
//! refund/reversal, amounts. Checked here, without I/O, into the data each action needs.
//!
//! Which fields an action needs follows from who takes it and what it decides:
//! - the desk writes a reason for every decision (approve, resolve, reject, pick the debit),
//!   because the customer is told it and the audit log must say why; asking the customer needs
//!   the question itself;
//! - a merchant contesting writes a note; confirming an execution gives the terminal's batch,
//!   trace and (when the host answered) RRN of the refund/reversal, and for `wrong_amount` the
//!   amount the terminal should have charged;
//! - a customer appealing says why; withdrawing or confirming the money arrived may add a note.

use crate::domain::case_state::ActionKind;
use crate::domain::money::{Currency, Money, MoneyError};
use crate::domain::records::{is_rrn, is_six_digits};
use crate::domain::screen::{self, Refusal, Shape};

/// Longest reason or note kept, in characters.
pub const NOTE_MAX_CHARS: usize = 2000;

/// The form fields of every action; blank strings count as absent.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActionForm {
    pub reason: Option<String>,
    pub batch_no: Option<String>,
    pub trace_no: Option<String>,
    pub rrn: Option<String>,
    /// The sum to pay back (desk approvals).
    pub amount: Option<String>,
    /// What the terminal should have charged (`wrong_amount`, merchant).
    pub stated_amount: Option<String>,
    /// The settlement debit the desk picks among `ambiguous` candidates.
    pub debit: Option<String>,
    /// "on" when a desk decision departs from the finding on purpose.
    pub overrides_finding: Option<String>,
}

/// The terminal's reference of the refund or reversal that was executed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    pub batch_no: String,
    pub trace_no: String,
    pub rrn: Option<String>,
}

/// What an action carries once its fields are checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionInput {
    /// The reason, note or question, trimmed.
    pub note: Option<String>,
    pub execution: Option<Execution>,
    /// Desk approvals: the sum to pay back and the debit (RRN) it returns.
    pub amount: Option<Money>,
    /// `wrong_amount`: what the terminal should have charged, per the merchant.
    pub stated_amount: Option<Money>,
    /// The settlement row id picked among the candidates.
    pub debit: Option<i64>,
    pub overrides_finding: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputProblem {
    Required,
    TooLong,
    FullCardNumber,
    /// NUL and the like (a note may hold line breaks and tabs).
    ControlCharacter,
    /// Not six digits (batch, trace).
    SixDigits,
    /// Not twelve letters or digits.
    Rrn,
    /// Not an amount in the case's currency, or not above zero.
    Amount,
    /// The stated amount must be below the debited amount and not negative.
    StatedAmount,
    /// The refund may not exceed the debit.
    AboveDebit,
    /// Not one of the offered choices.
    Choice,
}

impl InputProblem {
    /// Catalog key of the message: `action.error.<code>`.
    pub fn code(self) -> &'static str {
        match self {
            InputProblem::Required => "required",
            InputProblem::TooLong => "too_long",
            InputProblem::FullCardNumber => "full_card_number",
            InputProblem::ControlCharacter => "control_character",
            InputProblem::SixDigits => "six_digits",
            InputProblem::Rrn => "rrn",
            InputProblem::Amount => "amount",
            InputProblem::StatedAmount => "stated_amount",
            InputProblem::AboveDebit => "above_debit",
            InputProblem::Choice => "choice",
        }
    }
}

/// A problem with one named form field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputError {
    pub field: &'static str,
    pub problem: InputProblem,
}

/// Facts about the case the checks need.
#[derive(Clone, Copy, Debug)]
pub struct CaseFacts {
    pub currency: Currency,
    /// The debit as claimed, in minor units: a refund cannot exceed it.
    pub debit_minor: i64,
}

fn blank_to_none(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Which fields an action's form has, and which of them are required: pages build forms from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    pub note: Need,
    pub execution: bool,
    pub amount: bool,
    pub stated_amount: bool,
    pub debit: bool,
    pub may_override: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    No,
    Optional,
    Required,
}

/// The fields of `kind`'s form; `remedy_is_stated`: the merchant must state the right amount.
pub fn needs(kind: ActionKind, remedy_is_stated: bool) -> Needs {
    let base = Needs {
        note: Need::No,
        execution: false,
        amount: false,
        stated_amount: false,
        debit: false,
        may_override: false,
    };
    match kind {
        ActionKind::MerchantConfirm => Needs { execution: true, stated_amount: remedy_is_stated, ..base },
        ActionKind::MarkExecuted => Needs { execution: true, ..base },
        ActionKind::MerchantContest | ActionKind::Appeal | ActionKind::AskCustomer => {
            Needs { note: Need::Required, ..base }
        }
        ActionKind::ApproveRefund | ActionKind::ApproveReversal => {
            Needs { note: Need::Required, amount: true, may_override: true, ..base }
        }
        ActionKind::Resolve | ActionKind::Reject => Needs { note: Need::Required, may_override: true, ..base },
        ActionKind::PickDebit => Needs { note: Need::Required, debit: true, ..base },
        ActionKind::Withdraw | ActionKind::ConfirmArrived | ActionKind::AddInfo => {
            Needs { note: Need::Optional, ..base }
        }
        ActionKind::Accept
        | ActionKind::Match
        | ActionKind::Rematch
        | ActionKind::DeadlinePassed
        | ActionKind::CreditImported
        | ActionKind::Close => base,
    }
}

/// Checks the fields `kind` needs; other fields are ignored. `stated_remedy`: the case's remedy
/// waits for the merchant to state the right amount (`amount_keyed_wrong`). `choices`: the
/// settlement ids the desk may pick among.
pub fn check(
    kind: ActionKind,
    form: &ActionForm,
    facts: CaseFacts,
    stated_remedy: bool,
    choices: &[i64],
) -> Result<ActionInput, Vec<InputError>> {
    let need = needs(kind, stated_remedy);
    let mut errors = Vec::new();
    let mut fail = |field: &'static str, problem: InputProblem| errors.push(InputError { field, problem });

    // Every typed field goes through the screen before anything else looks at it.
    let screened = |field: &'static str, value: &Option<String>, fail: &mut dyn FnMut(&'static str, InputProblem)| {
        let text = blank_to_none(value)?;
        let shape = if field == "reason" { Shape::Text } else { Shape::Line };
        match screen::screen(text, shape) {
            Ok(()) => Some(text.to_owned()),
            Err(Refusal::CardNumber) => {
                fail(field, InputProblem::FullCardNumber);
                None
            }
            Err(Refusal::ControlCharacter) => {
                fail(field, InputProblem::ControlCharacter);
                None
            }
        }
    };

    let mut input = ActionInput {
        note: None,
        execution: None,
        amount: None,
        stated_amount: None,
        debit: None,
        overrides_finding: false,
    };

    if need.note != Need::No {
        let present = blank_to_none(&form.reason).is_some();
        match screened("reason", &form.reason, &mut fail) {
            Some(text) if text.chars().count() > NOTE_MAX_CHARS => fail("reason", InputProblem::TooLong),
            Some(text) => input.note = Some(text),
            None if !present && need.note == Need::Required => fail("reason", InputProblem::Required),
            None => {}
        }
    }

    if need.execution {
        let batch = screened("batch_no", &form.batch_no, &mut fail);
        let trace = screened("trace_no", &form.trace_no, &mut fail);
        let rrn_text = screened("rrn", &form.rrn, &mut fail);
        let batch = match batch {
            Some(b) if is_six_digits(&b) => Some(b),
            Some(_) => {
                fail("batch_no", InputProblem::SixDigits);
                None
            }
            None if blank_to_none(&form.batch_no).is_none() => {
                fail("batch_no", InputProblem::Required);
                None
            }
            None => None,
        };
        let trace = match trace {
            Some(t) if is_six_digits(&t) => Some(t),
            Some(_) => {
                fail("trace_no", InputProblem::SixDigits);
                None
            }
            None if blank_to_none(&form.trace_no).is_none() => {
                fail("trace_no", InputProblem::Required);
                None
            }
            None => None,
        };
        let rrn_ok = match &rrn_text {
            Some(r) if !is_rrn(r) => {
                fail("rrn", InputProblem::Rrn);
                false
            }
            _ => true,
        };
        if let (Some(batch_no), Some(trace_no), true) = (batch, trace, rrn_ok) {
            input.execution = Some(Execution { batch_no, trace_no, rrn: rrn_text.map(|r| r.to_ascii_uppercase()) });
        }
    }

    let money = |field: &'static str, value: &Option<String>, fail: &mut dyn FnMut(&'static str, InputProblem)| {
        let text = screened(field, value, fail);
        match text {
            Some(t) => match Money::parse_input(&t, facts.currency) {
                Ok(m) => Some(m),
                Err(MoneyError::FullCardNumber) => {
                    fail(field, InputProblem::FullCardNumber);
                    None
                }
                Err(_) => {
                    fail(field, InputProblem::Amount);
                    None
                }
            },
            None if blank_to_none(value).is_none() => {
                fail(field, InputProblem::Required);
                None
            }
            None => None,
        }
    };

    if need.amount {
        match money("amount", &form.amount, &mut fail) {
            Some(m) if m.minor <= 0 => fail("amount", InputProblem::Amount),
            Some(m) if m.minor > facts.debit_minor => fail("amount", InputProblem::AboveDebit),
            Some(m) => input.amount = Some(m),
            None => {}
        }
    }

    if need.stated_amount {
        match money("stated_amount", &form.stated_amount, &mut fail) {
            Some(m) if m.minor < 0 || m.minor >= facts.debit_minor => fail("stated_amount", InputProblem::StatedAmount),
            Some(m) => input.stated_amount = Some(m),
            None => {}
        }
    }

    if need.debit {
        match blank_to_none(&form.debit).and_then(|d| d.parse::<i64>().ok()) {
            Some(id) if choices.contains(&id) => input.debit = Some(id),
            Some(_) => fail("debit", InputProblem::Choice),
            None => fail("debit", InputProblem::Required),
        }
    }

    if need.may_override {
        input.overrides_finding = matches!(blank_to_none(&form.overrides_finding), Some("on" | "true" | "1"));
    }

    if errors.is_empty() { Ok(input) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny() -> Currency {
        Currency::from_code("CNY").unwrap()
    }

    fn facts() -> CaseFacts {
        CaseFacts { currency: cny(), debit_minor: 12_850 }
    }

    fn form() -> ActionForm {
        ActionForm::default()
    }

    fn errors(kind: ActionKind, f: &ActionForm) -> Vec<(&'static str, InputProblem)> {
        check(kind, f, facts(), false, &[7, 9]).unwrap_err().into_iter().map(|e| (e.field, e.problem)).collect()
    }

    #[test]
    fn desk_decisions_need_a_reason() {
        for kind in [ActionKind::Resolve, ActionKind::Reject, ActionKind::AskCustomer, ActionKind::MerchantContest] {
            assert_eq!(errors(kind, &form()), vec![("reason", InputProblem::Required)], "{kind}");
            let blank = ActionForm { reason: Some("   ".into()), ..form() };
            assert_eq!(errors(kind, &blank), vec![("reason", InputProblem::Required)], "{kind}");
        }
        let ok = ActionForm { reason: Some("  card holder sent the slip  ".into()), ..form() };
        let input = check(ActionKind::Reject, &ok, facts(), false, &[]).unwrap();
        assert_eq!(input.note.as_deref(), Some("card holder sent the slip"));
    }

    #[test]
    fn optional_notes_may_be_left_out_and_accept_reads_nothing() {
        let input = check(ActionKind::Withdraw, &form(), facts(), false, &[]).unwrap();
        assert_eq!(input.note, None);
        let noisy = ActionForm { reason: Some("x".repeat(NOTE_MAX_CHARS + 1)), amount: Some("abc".into()), ..form() };
        assert_eq!(check(ActionKind::Accept, &noisy, facts(), false, &[]).unwrap().note, None);
    }

    #[test]
    fn notes_have_a_length_limit_counted_in_characters() {
        let at_limit = ActionForm { reason: Some("退".repeat(NOTE_MAX_CHARS)), ..form() };
        assert!(check(ActionKind::Appeal, &at_limit, facts(), false, &[]).is_ok());
        let over = ActionForm { reason: Some("退".repeat(NOTE_MAX_CHARS + 1)), ..form() };
        assert_eq!(errors(ActionKind::Appeal, &over), vec![("reason", InputProblem::TooLong)]);
    }

    #[test]
    fn a_full_card_number_in_any_field_is_refused() {
        let f = ActionForm {
            reason: Some("my card 6228480402564890018".into()),
            batch_no: Some("4111111111111111".into()),
            trace_no: Some("000123".into()),
            ..form()
        };
        assert_eq!(errors(ActionKind::MerchantContest, &f), vec![("reason", InputProblem::FullCardNumber)]);
        assert_eq!(errors(ActionKind::MarkExecuted, &f), vec![("batch_no", InputProblem::FullCardNumber)]);
        // Zero padding hides it from the text screen, not from the amount as kept.
        let f = ActionForm { reason: Some("ok".into()), amount: Some("00004111111111111111".into()), ..form() };
        assert_eq!(errors(ActionKind::ApproveRefund, &f), vec![("amount", InputProblem::FullCardNumber)]);
    }

    #[test]
    fn control_characters_are_refused_but_a_note_keeps_its_line_breaks() {
        let f = ActionForm { reason: Some("slip\0attached".into()), ..form() };
        assert_eq!(errors(ActionKind::MerchantContest, &f), vec![("reason", InputProblem::ControlCharacter)]);
        let f = ActionForm { batch_no: Some("000\u{0}12".into()), trace_no: Some("000123".into()), ..form() };
        assert_eq!(errors(ActionKind::MarkExecuted, &f), vec![("batch_no", InputProblem::ControlCharacter)]);
        let f = ActionForm { reason: Some("line one\r\n\tline two".into()), ..form() };
        assert!(check(ActionKind::MerchantContest, &f, facts(), false, &[]).is_ok());
    }

    #[test]
    fn an_execution_needs_batch_and_trace_of_six_digits_and_a_well_formed_rrn() {
        assert_eq!(
            errors(ActionKind::MarkExecuted, &form()),
            vec![("batch_no", InputProblem::Required), ("trace_no", InputProblem::Required)]
        );
        let bad = ActionForm {
            batch_no: Some("12345".into()),
            trace_no: Some("12a456".into()),
            rrn: Some("123".into()),
            ..form()
        };
        assert_eq!(
            errors(ActionKind::MarkExecuted, &bad),
            vec![
                ("batch_no", InputProblem::SixDigits),
                ("trace_no", InputProblem::SixDigits),
                ("rrn", InputProblem::Rrn)
            ]
        );
        let good = ActionForm {
            batch_no: Some("000012".into()),
            trace_no: Some(" 000345 ".into()),
            rrn: Some("abc123456789".into()),
            ..form()
        };
        let input = check(ActionKind::MarkExecuted, &good, facts(), false, &[]).unwrap();
        assert_eq!(
            input.execution,
            Some(Execution { batch_no: "000012".into(), trace_no: "000345".into(), rrn: Some("ABC123456789".into()) })
        );
        let no_rrn = ActionForm { rrn: None, ..good };
        assert_eq!(check(ActionKind::MarkExecuted, &no_rrn, facts(), false, &[]).unwrap().execution.unwrap().rrn, None);
    }

    #[test]
    fn the_stated_amount_is_asked_only_for_a_keyed_wrong_amount_and_must_be_below_the_debit() {
        let exec = ActionForm { batch_no: Some("000001".into()), trace_no: Some("000002".into()), ..form() };
        assert!(check(ActionKind::MerchantConfirm, &exec, facts(), false, &[]).is_ok());
        let missing = check(ActionKind::MerchantConfirm, &exec, facts(), true, &[]).unwrap_err();
        assert_eq!(missing, vec![InputError { field: "stated_amount", problem: InputProblem::Required }]);
        for (text, ok) in [("128.50", false), ("200", false), ("-1", false), ("0", true), ("95.40", true)] {
            let f = ActionForm { stated_amount: Some(text.into()), ..exec.clone() };
            let result = check(ActionKind::MerchantConfirm, &f, facts(), true, &[]);
            assert_eq!(result.is_ok(), ok, "{text}");
            if ok {
                assert_eq!(
                    result.unwrap().stated_amount.unwrap().major_string(),
                    Money::parse(text, cny()).unwrap().major_string()
                );
            }
        }
        let garbage = ActionForm { stated_amount: Some("12.345".into()), ..exec };
        assert_eq!(
            check(ActionKind::MerchantConfirm, &garbage, facts(), true, &[]).unwrap_err()[0].problem,
            InputProblem::Amount
        );
    }

    #[test]
    fn approvals_need_an_amount_above_zero_and_at_most_the_debit() {
        let base = ActionForm { reason: Some("checked the journal".into()), ..form() };
        assert_eq!(errors(ActionKind::ApproveRefund, &base), vec![("amount", InputProblem::Required)]);
        for (text, problem) in
            [("0", InputProblem::Amount), ("128.51", InputProblem::AboveDebit), ("1,0", InputProblem::Amount)]
        {
            let f = ActionForm { amount: Some(text.into()), ..base.clone() };
            assert_eq!(errors(ActionKind::ApproveReversal, &f), vec![("amount", problem)], "{text}");
        }
        let f = ActionForm { amount: Some("128.50".into()), overrides_finding: Some("on".into()), ..base };
        let input = check(ActionKind::ApproveRefund, &f, facts(), false, &[]).unwrap();
        assert_eq!(input.amount.unwrap().minor, 12_850);
        assert!(input.overrides_finding);
    }

    #[test]
    fn the_picked_debit_must_be_one_of_the_candidates() {
        let base = ActionForm { reason: Some("the slip shows 14:02".into()), ..form() };
        assert_eq!(errors(ActionKind::PickDebit, &base), vec![("debit", InputProblem::Required)]);
        let other = ActionForm { debit: Some("8".into()), ..base.clone() };
        assert_eq!(errors(ActionKind::PickDebit, &other), vec![("debit", InputProblem::Choice)]);
        let chosen = ActionForm { debit: Some("9".into()), ..base };
        assert_eq!(check(ActionKind::PickDebit, &chosen, facts(), false, &[7, 9]).unwrap().debit, Some(9));
    }

    #[test]
    fn only_desk_decisions_can_be_marked_as_overriding_the_finding() {
        let f = ActionForm { reason: Some("why".into()), overrides_finding: Some("on".into()), ..form() };
        assert!(check(ActionKind::Reject, &f, facts(), false, &[]).unwrap().overrides_finding);
        assert!(!check(ActionKind::Appeal, &f, facts(), false, &[]).unwrap().overrides_finding);
    }
}
