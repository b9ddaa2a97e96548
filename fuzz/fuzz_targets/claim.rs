//! Fuzzes the validation of what people type: a claim's fields (`ClaimInput::validate`, §4) and
//! the fields of a case action (`case_input::check`).
//!
//! Each field is absent, blank, one of a few realistic values (so the fuzzer reaches the checks
//! that need the other fields valid) or arbitrary text. An accepted claim or action must hold
//! only what the rules allow; a refused one must name each field at most once; and nothing
//! kept or said back may show a full card number.
#![no_main]

use jiff::{SignedDuration, Timestamp};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use redress::domain::card::contains_full_card_number;
use redress::domain::case_input::{self, ActionForm, CaseFacts};
use redress::domain::case_state::ActionKind;
use redress::domain::claim::{
    ClaimField, ClaimInput, ClaimKind, DESCRIPTION_MAX_CHARS, FUTURE_TOLERANCE, MERCHANT_NAME_MAX_CHARS, Occurred,
};
use redress::domain::money::{Currency, Money};
use redress::domain::records::{is_merchant_id, is_terminal_id};
use redress::domain::screen::holds_card_number;

#[derive(Arbitrary, Debug)]
enum Value {
    Absent,
    Blank,
    Typical(u8),
    Text(String),
}

impl Value {
    fn get(&self, typical: &[&str]) -> Option<String> {
        match self {
            Value::Absent => None,
            Value::Blank => Some(" \t ".to_owned()),
            Value::Typical(i) => Some(typical[usize::from(*i) % typical.len()].to_owned()),
            Value::Text(text) => Some(text.clone()),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Input {
    Claim { fields: [Value; 11], default_currency: u8, now_minutes: i32 },
    Action { kind: u8, fields: [Value; 8], currency: u8, debit_minor: i64, stated_remedy: bool, choices: Vec<i64> },
}

const CURRENCIES: [&str; 4] = ["CNY", "USD", "JPY", "KWD"];

fn currency(i: u8) -> Currency {
    Currency::from_code(CURRENCIES[usize::from(i) % CURRENCIES.len()]).expect("known codes")
}

/// Realistic values per field, in `ClaimField::ALL` order, taken from the unit tests.
const CLAIM_TYPICAL: [&[&str]; 11] = [
    &["no_receipt", "duplicate_charge", "wrong_amount", "refund_not_received", "NoReceipt"],
    &["2470", "247", "24x0"],
    &["622848", "62284"],
    &["2220.99", "95.40", "0", "1e3", "2220.999"],
    &["CNY", "usd", "JPY", "KWD", "XAU", "RMB"],
    &["95.40", "2220.99", "3000"],
    &["2026-11-05T17:15:05+08:00", "2026-11-05", "2026-11-21 00:04:00Z", "2026-11-22", "2026-11-05T17:15:05"],
    &["835883278854443", "806276126745394", "M1", "8062761267453949"],
    &["27161971", "2716197"],
    &["星巴克 Starbucks"],
    &["charged twice at the till", "card 6228 4804 0256 4890 018"],
];

const ACTION_TYPICAL: [&[&str]; 8] = [
    &["checked the journal", "my card 6228480402564890018"],
    &["000012", "12345"],
    &["000345", "12a456"],
    &["abc123456789", "123"],
    &["128.50", "0", "128.51", "1,0"],
    &["95.40", "128.50", "-1", "0"],
    &["7", "9", "8"],
    &["on", "true", "off"],
];

const ACTION_KINDS: [ActionKind; 19] = [
    ActionKind::Match,
    ActionKind::Rematch,
    ActionKind::AddInfo,
    ActionKind::MerchantConfirm,
    ActionKind::MerchantContest,
    ActionKind::DeadlinePassed,
    ActionKind::MarkExecuted,
    ActionKind::CreditImported,
    ActionKind::ConfirmArrived,
    ActionKind::ApproveRefund,
    ActionKind::ApproveReversal,
    ActionKind::Resolve,
    ActionKind::Reject,
    ActionKind::AskCustomer,
    ActionKind::PickDebit,
    ActionKind::Appeal,
    ActionKind::Accept,
    ActionKind::Withdraw,
    ActionKind::Close,
];

fn shows_card_number(money: Option<Money>) -> bool {
    money.is_some_and(|m| contains_full_card_number(&m.major_string()))
}

fn check_claim(fields: &[Value; 11], default_currency: Currency, now: Timestamp) {
    let v: Vec<Option<String>> = fields.iter().zip(CLAIM_TYPICAL).map(|(value, typical)| value.get(typical)).collect();
    let input = ClaimInput {
        kind: v[0].clone(),
        card_last4: v[1].clone(),
        card_first6: v[2].clone(),
        amount: v[3].clone(),
        currency: v[4].clone(),
        expected_amount: v[5].clone(),
        occurred_at: v[6].clone(),
        merchant_id: v[7].clone(),
        terminal_id: v[8].clone(),
        merchant_name: v[9].clone(),
        description: v[10].clone(),
    };
    // `Debug` must redact every field holding a card number, as the screen reads each field: a
    // well-formed merchant id that happens to pass Luhn is a merchant id in its own field (§12).
    // (Checked per value: the escaped text as a whole can join an escape's digit, `\0`, to
    // digits after it.)
    let logged = format!("{input:?}");
    let shapes = ClaimField::ALL.map(ClaimField::shape);
    let held = v.iter().zip(shapes).filter_map(|(value, shape)| value.as_deref().map(|t| (t.trim(), shape)));
    for (value, _) in held.filter(|(t, shape)| holds_card_number(t, *shape)) {
        assert!(!logged.contains(&format!("{value:?}")), "Debug shows a full card number: {logged}");
    }
    let result = input.validate(default_currency, now);
    assert_eq!(result, input.validate(default_currency, now), "validation is not deterministic");
    let trimmed = |i: usize| v[i].as_deref().map(str::trim).filter(|t| !t.is_empty());
    match result {
        Ok(claim) => {
            assert_eq!(Some(claim.kind), trimmed(0).and_then(ClaimKind::parse));
            assert_eq!(Some(claim.card_last4.as_str()), trimmed(1));
            assert!(claim.card_last4.len() == 4 && claim.card_last4.bytes().all(|b| b.is_ascii_digit()));
            if let Some(first6) = &claim.card_first6 {
                assert!(first6.len() == 6 && first6.bytes().all(|b| b.is_ascii_digit()));
            }
            assert!(claim.amount.minor > 0);
            match claim.expected_amount {
                Some(expected) => {
                    assert_eq!(claim.kind, ClaimKind::WrongAmount);
                    assert_eq!(expected.currency, claim.amount.currency);
                    assert!(0 < expected.minor && expected.minor < claim.amount.minor);
                }
                None => assert_ne!(claim.kind, ClaimKind::WrongAmount),
            }
            if let Occurred::At(at) = claim.occurred {
                assert!(at <= now.saturating_add(FUTURE_TOLERANCE).unwrap_or(Timestamp::MAX));
            }
            assert!(claim.merchant_id.as_deref().is_none_or(is_merchant_id));
            assert!(claim.terminal_id.as_deref().is_none_or(is_terminal_id));
            assert!(claim.merchant_name.as_ref().is_none_or(|n| n.chars().count() <= MERCHANT_NAME_MAX_CHARS));
            assert!(claim.description.as_ref().is_none_or(|d| d.chars().count() <= DESCRIPTION_MAX_CHARS));
            let kept = [
                &Some(claim.card_last4.clone()),
                &claim.card_first6,
                &claim.terminal_id,
                &claim.merchant_name,
                &claim.description,
            ];
            for text in kept.into_iter().flatten() {
                assert!(!contains_full_card_number(text), "a kept field shows a full card number: {text:?}");
            }
            assert!(
                !shows_card_number(Some(claim.amount)) && !shows_card_number(claim.expected_amount),
                "a kept amount shows a full card number: {:?} {:?}",
                claim.amount,
                claim.expected_amount
            );
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            let order: Vec<usize> =
                errors.iter().map(|e| ClaimField::ALL.iter().position(|f| *f == e.field).expect("a field")).collect();
            assert!(order.windows(2).all(|w| w[0] < w[1]), "not one error per field in field order: {errors:?}");
            for error in &errors {
                assert!(!error.code().is_empty() && !error.message_key().is_empty());
                let said = format!("{error} {:?}", error.args());
                assert!(!contains_full_card_number(&said), "an error shows a full card number: {said}");
            }
        }
    }
}

fn check_action(kind: ActionKind, fields: &[Value; 8], facts: CaseFacts, stated_remedy: bool, choices: &[i64]) {
    let v: Vec<Option<String>> = fields.iter().zip(ACTION_TYPICAL).map(|(value, typical)| value.get(typical)).collect();
    let form = ActionForm {
        reason: v[0].clone(),
        batch_no: v[1].clone(),
        trace_no: v[2].clone(),
        rrn: v[3].clone(),
        amount: v[4].clone(),
        stated_amount: v[5].clone(),
        debit: v[6].clone(),
        overrides_finding: v[7].clone(),
    };
    match case_input::check(kind, &form, facts, stated_remedy, choices) {
        Ok(input) => {
            if let Some(note) = &input.note {
                assert!(note.trim() == note && !note.is_empty());
                assert!(note.chars().count() <= case_input::NOTE_MAX_CHARS);
                assert!(!contains_full_card_number(note), "a kept note shows a full card number");
            }
            if let Some(execution) = &input.execution {
                let six = |t: &str| t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit());
                assert!(six(&execution.batch_no) && six(&execution.trace_no));
                if let Some(rrn) = &execution.rrn {
                    assert!(rrn.len() == 12 && rrn.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
                }
            }
            if let Some(amount) = input.amount {
                assert!(0 < amount.minor && amount.minor <= facts.debit_minor);
                assert_eq!(amount.currency, facts.currency);
            }
            if let Some(stated) = input.stated_amount {
                assert!(0 <= stated.minor && stated.minor < facts.debit_minor);
            }
            assert!(input.debit.is_none_or(|d| choices.contains(&d)));
        }
        Err(errors) => assert!(!errors.is_empty()),
    }
}

fuzz_target!(|input: Input| match input {
    Input::Claim { fields, default_currency, now_minutes } => {
        let base: Timestamp = "2026-11-21T00:00:00Z".parse().expect("a valid instant");
        let Ok(now) = base.checked_add(SignedDuration::from_mins(i64::from(now_minutes))) else { return };
        check_claim(&fields, currency(default_currency), now);
    }
    Input::Action { kind, fields, currency: c, debit_minor, stated_remedy, choices } => {
        let kind = ACTION_KINDS[usize::from(kind) % ACTION_KINDS.len()];
        check_action(kind, &fields, CaseFacts { currency: currency(c), debit_minor }, stated_remedy, &choices);
    }
});
