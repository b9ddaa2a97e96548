//! Catalog keys built at run time — `t(&format!("state.{}", …))`, `format!("action.{kind}")`,
//! `self.key("cases.next", &case.state)` — have words in both languages.
//!
//! The catalogue test in src/i18n finds the keys written literally as `t("…")`; a key put
//! together from a code is invisible to it, and a missing one only shows as "⟨missing text⟩"
//! in front of a user. So each such format is listed here with every value its code can give
//! it: the domain enums' `ALL` lists where they have one, every variant of an error enum (an
//! exhaustive `match` beside each list makes a new variant a compile error here), the
//! validators' answers to broken input, and the literal lists the web code itself keeps.

use std::collections::BTreeSet;

use jiff::Timestamp;
use redress::domain::account::AccountError;
use redress::domain::card::CardError;
use redress::domain::case_input::{InputProblem, Need, needs};
use redress::domain::case_state::{ActionKind, Actor, CaseState, GuardContext, TransitionError, allowed_actions};
use redress::domain::claim::{ClaimKind, ClaimProblem};
use redress::domain::finding::{Finding, RemedyKind, ReviewReason};
use redress::domain::money::{Currency, MoneyError};
use redress::domain::records::{JournalFields, JournalRow, SettlementEntry, SettlementFields};
use redress::domain::role::Role;
use redress::i18n::{Lang, catalog};
use redress::import::Kind;
use redress::import::parse::FileError;

/// `values`, each as its own string.
fn all<T>(values: impl IntoIterator<Item = T>, as_str: impl Fn(T) -> &'static str) -> Vec<String> {
    values.into_iter().map(|v| as_str(v).to_owned()).collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

/// The actions some signed-in person may take in some state, in any circumstance: the forms a
/// case page can offer (adding information has a form of its own and literal keys).
fn offered_actions() -> Vec<ActionKind> {
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    let mut offered = BTreeSet::new();
    for state in CaseState::ALL {
        for actor in Actor::ALL.into_iter().filter(|a| *a != Actor::System) {
            for (age, accepted, executed) in [(1, false, false), (1, true, true), (90 * 86_400, false, false)] {
                let ctx = GuardContext {
                    now: Timestamp::from_second(at.as_second() + age).unwrap(),
                    entered_state_at: at,
                    last_activity_at: at,
                    outcome_accepted: accepted,
                    remedy_marked_executed: executed,
                };
                offered.extend(allowed_actions(state, actor, &ctx).into_iter().map(|k| k.as_str()));
            }
        }
    }
    ActionKind::ALL.into_iter().filter(|k| offered.contains(k.as_str()) && *k != ActionKind::AddInfo).collect()
}

/// Every problem a typed action field can have (`action.error.<code>`).
fn input_problems() -> Vec<InputProblem> {
    use InputProblem::*;
    let listed =
        [Required, TooLong, FullCardNumber, ControlCharacter, SixDigits, Rrn, Amount, StatedAmount, AboveDebit, Choice];
    // A new variant stops this compiling until it is added to the list above.
    for p in listed {
        match p {
            Required | TooLong | FullCardNumber | ControlCharacter | SixDigits | Rrn | Amount | StatedAmount
            | AboveDebit | Choice => {}
        }
    }
    listed.to_vec()
}

/// The codes of `error.<code>`: every error a page, a report or the API words with it.
fn error_codes() -> Vec<String> {
    let at = Timestamp::from_second(1_800_000_000).unwrap();
    let transitions = [
        TransitionError::NotAllowedInState { state: CaseState::Resolved, action: ActionKind::Appeal },
        TransitionError::NotAllowedForRole {
            state: CaseState::UnderReview,
            action: ActionKind::Reject,
            actor: Actor::Customer,
        },
        TransitionError::AppealWindowClosed { closed_at: at },
        TransitionError::OutcomeAlreadyAccepted,
        TransitionError::RemedyAlreadyExecuted,
        TransitionError::NotQuietYet { quiet_until: at },
    ];
    for e in &transitions {
        match e {
            TransitionError::NotAllowedInState { .. }
            | TransitionError::NotAllowedForRole { .. }
            | TransitionError::AppealWindowClosed { .. }
            | TransitionError::OutcomeAlreadyAccepted
            | TransitionError::RemedyAlreadyExecuted
            | TransitionError::NotQuietYet { .. } => {}
        }
    }
    let accounts = [
        AccountError::EmailInvalid,
        AccountError::PasswordTooShort,
        AccountError::PasswordTooLong,
        AccountError::PasswordIsEmail,
        AccountError::PasswordsDiffer,
        AccountError::EmailFullCardNumber,
    ];
    for e in accounts {
        match e {
            AccountError::EmailInvalid
            | AccountError::PasswordTooShort
            | AccountError::PasswordTooLong
            | AccountError::PasswordIsEmail
            | AccountError::PasswordsDiffer
            | AccountError::EmailFullCardNumber => {}
        }
    }
    let money = [
        MoneyError::Invalid { currency: Currency::CNY },
        MoneyError::Negative,
        MoneyError::TooManyDecimals { max: 2, currency: Currency::CNY },
        MoneyError::TooLarge,
        MoneyError::FullCardNumber,
    ];
    for e in &money {
        match e {
            MoneyError::Invalid { .. }
            | MoneyError::Negative
            | MoneyError::TooManyDecimals { .. }
            | MoneyError::TooLarge
            | MoneyError::FullCardNumber => {}
        }
    }
    let cards = [CardError::NotMasked];
    for e in cards {
        match e {
            CardError::NotMasked => {}
        }
    }
    let files = [
        FileError::Empty,
        FileError::NotUtf8 { line: 1 },
        FileError::UnknownColumn { column: "x".into(), allowed: "" },
        FileError::MissingColumn { column: "rrn" },
        FileError::DuplicateColumn { column: "rrn" },
        FileError::BlankColumnName { position: 1 },
        FileError::FullCardNumber { line: 1 },
        FileError::Read { kind: std::io::ErrorKind::Other },
        FileError::ProfileColumn { column: "x".into() },
        FileError::ProfileKind { profile_kind: "journal" },
    ];
    for e in &files {
        match e {
            FileError::Empty
            | FileError::NotUtf8 { .. }
            | FileError::UnknownColumn { .. }
            | FileError::MissingColumn { .. }
            | FileError::DuplicateColumn { .. }
            | FileError::BlankColumnName { .. }
            | FileError::FullCardNumber { .. }
            | FileError::Read { .. }
            | FileError::ProfileColumn { .. }
            | FileError::ProfileKind { .. } => {}
        }
    }

    let mut codes: Vec<String> = transitions.iter().map(|e| e.code().to_owned()).collect();
    codes.extend(accounts.map(|e| e.code().to_owned()));
    codes.extend(money.iter().map(|e| e.code().to_owned()));
    codes.extend(cards.map(|e| e.code().to_owned()));
    codes.extend(files.iter().map(|e| e.code().to_owned()));
    codes.extend(record_field_codes());
    // Import problems that are not a field's: a card number in a line, a line of the wrong
    // length, a line that could not be read, another merchant's row.
    codes.extend(strings(&[
        redress::import::parse::FULL_CARD_NUMBER,
        redress::import::parse::FIELD_COUNT,
        redress::import::parse::READ_FAILED,
        redress::import::NOT_YOUR_MERCHANT,
        // Lines read through an import profile.
        redress::import::profile::reader::ROW_NOT_DECODABLE,
        redress::import::profile::reader::VALUE_UNMAPPED,
        redress::import::profile::reader::TIME_UNREADABLE,
        redress::import::profile::reader::LINE_TOO_LONG,
        redress::import::profile::reader::ORIG_NOT_IN_FILE,
    ]));
    // The records browser's own checks (src/web/records.rs).
    codes.extend(strings(&[
        "rrn_invalid",
        "trace_no_invalid",
        "terminal_id_invalid",
        "merchant_id_invalid",
        "currency_invalid",
    ]));
    codes
}

/// The codes the record validators give imported rows: every column broken, blank, or wrong in
/// the ways that depend on another column.
fn record_field_codes() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let journal = JournalFields {
        merchant_id: "828844912590296",
        terminal_id: "88360045",
        batch_no: "000085",
        trace_no: "000051",
        rrn: "000004267530",
        auth_code: "565500",
        txn_type: "sale",
        status: "approved",
        receipt_printed: "true",
        card: "623668******2015",
        amount: "954.82",
        currency: "CNY",
        local_time: "2026-11-12T13:20:33+08:00",
        orig_trace_no: "",
        orig_batch_no: "",
        response_code: "00",
        terminal_event: "",
    };
    assert!(JournalRow::from_fields(&journal).is_ok(), "the well-formed journal row is accepted");
    let junk = "?!";
    let journal_cases = [
        JournalFields {
            merchant_id: junk,
            terminal_id: junk,
            batch_no: junk,
            trace_no: junk,
            rrn: junk,
            auth_code: junk,
            txn_type: junk,
            status: junk,
            receipt_printed: junk,
            card: junk,
            amount: junk,
            currency: junk,
            local_time: junk,
            orig_trace_no: junk,
            orig_batch_no: junk,
            response_code: junk,
            terminal_event: junk,
        },
        JournalFields::default(),
        JournalFields { amount: "0.00", ..journal },
        JournalFields { amount: "-1.00", ..journal },
        JournalFields { amount: "1.234", ..journal },
        JournalFields { amount: "99999999999999999999", ..journal },
        JournalFields { txn_type: "refund", ..journal },
        JournalFields { txn_type: "void", ..journal },
    ];
    for fields in &journal_cases {
        if let Err(problems) = JournalRow::from_fields(fields) {
            codes.extend(problems.iter().map(|p| p.code().to_owned()));
        }
    }
    let settlement = SettlementFields {
        entry_id: "CLR000000004",
        merchant_id: "828844912590296",
        terminal_id: "88360045",
        trace_no: "000051",
        rrn: "000004267530",
        card: "623668******2015",
        direction: "debit",
        amount: "954.82",
        currency: "CNY",
        txn_time: "2026-11-12T05:20:36+00:00",
        settled_on: "2026-11-13",
        orig_rrn: "",
    };
    assert!(SettlementEntry::from_fields(&settlement).is_ok(), "the well-formed settlement entry is accepted");
    let settlement_cases = [
        SettlementFields {
            entry_id: junk,
            merchant_id: junk,
            terminal_id: junk,
            trace_no: junk,
            rrn: junk,
            card: junk,
            direction: junk,
            amount: junk,
            currency: junk,
            txn_time: junk,
            settled_on: junk,
            orig_rrn: junk,
        },
        SettlementFields::default(),
        SettlementFields { amount: "0.00", ..settlement },
        SettlementFields { amount: "-1.00", ..settlement },
        SettlementFields { direction: "credit", ..settlement },
        SettlementFields { entry_id: " CLR000000004", ..settlement },
    ];
    for fields in &settlement_cases {
        if let Err(problems) = SettlementEntry::from_fields(fields) {
            codes.extend(problems.iter().map(|p| p.code().to_owned()));
        }
    }
    codes
}

/// `{name}` placeholders of a text.
fn placeholders(text: &str) -> BTreeSet<&str> {
    text.split('{').skip(1).filter_map(|rest| rest.split_once('}')).map(|(name, _)| name).collect()
}

#[test]
fn every_key_built_at_run_time_has_words_in_both_languages() {
    let states = all(CaseState::ALL, CaseState::as_str);
    let kinds = all(ClaimKind::ALL, ClaimKind::as_str);
    let offered = offered_actions();
    let with_note: Vec<ActionKind> =
        offered.iter().copied().filter(|&k| [false, true].iter().any(|&s| needs(k, s).note != Need::No)).collect();
    let mut audit_actions = all(ActionKind::ALL, ActionKind::as_str);
    audit_actions.extend(strings(&["file", "assign", "evidence"]));
    let mut done = all(ActionKind::ALL, ActionKind::as_str);
    done.push("assign".into());
    let mut actors = all(Actor::ALL, Actor::as_str);
    actors.push("api".into());
    for kind in [Kind::Journal, Kind::Settlement] {
        match kind {
            Kind::Journal | Kind::Settlement => {}
        }
    }

    // (the format, where it is built, the values it takes)
    let families: Vec<(&str, &str, Vec<String>)> = vec![
        ("state.{}", "queues, dashboard, case page, customer list, emails", states.clone()),
        ("cases.next.{}", "case page", states.clone()),
        ("reading.next.merchant.{}", "case page, merchant staff", states.clone()),
        ("reading.next.desk.{}", "case page, the desk", states),
        ("kind.{}", "claim forms, case page, queues, customer list, emails", kinds.clone()),
        ("home.{}", "claims/choose.html", kinds.clone()),
        ("claims.lead.{}", "claims/form.html", kinds.clone()),
        ("claims.field.amount.{}", "claims/form.html", kinds.clone()),
        (
            "reading.step.{}",
            "progress tracker",
            strings(&[
                "filed",
                "checked",
                "customer",
                "merchant",
                "desk",
                "money",
                "arrived",
                "resolved",
                "rejected",
                "withdrawn",
            ]),
        ),
        ("reading.status.{}", "progress tracker", strings(&["done", "current", "todo"])),
        ("reading.remedy.done.{}", "case page, resolved", all(RemedyKind::ALL, RemedyKind::as_str)),
        ("finding.{}.title", "case page, queues, emails", all(Finding::ALL, Finding::as_str)),
        ("finding.{}.explain", "case page, emails", all(Finding::ALL, Finding::as_str)),
        ("review.{}.explain", "case page, emails", all(ReviewReason::ALL, ReviewReason::as_str)),
        ("cases.remedy.{}", "case page", all(RemedyKind::ALL, RemedyKind::as_str)),
        ("role.{}", "admin users and tokens", all(Role::ALL, Role::as_str)),
        ("actor.{}", "case page audit log", actors),
        ("cases.event.{}", "case page audit log and timeline", audit_actions),
        ("cases.done.{}", "case page after an action (?done=)", done),
        ("action.{}", "case page action forms", all(offered.clone(), ActionKind::as_str)),
        ("cases.act.help.{}", "case page action forms", all(offered, ActionKind::as_str)),
        ("cases.act.note.{}", "case page action forms", all(with_note, ActionKind::as_str)),
        (
            "cases.add_info.field.{}",
            "case page add-information form",
            strings(&[
                "card_last4",
                "card_first6",
                "amount",
                "expected_amount",
                "occurred_at",
                "merchant_id",
                "terminal_id",
                "merchant_name",
                "description",
            ]),
        ),
        ("cases.act.field.{}", "case page execution fields", strings(&["batch_no", "trace_no", "rrn"])),
        ("action.error.{}", "case page action forms", all(input_problems(), InputProblem::code)),
        (
            "evidence.notice.{}",
            "case page after an upload (?evidence=)",
            strings(&["added", "too_large", "too_many", "wrong_type", "missing"]),
        ),
        ("imports.kind.{}", "imports.html", all([Kind::Journal, Kind::Settlement], Kind::as_str)),
        ("admin.outbox.status.{}", "admin/outbox.html", strings(&["pending", "sent", "failed"])),
        ("dashboard.deadline.{}", "dashboard", strings(&["overdue", "day", "three_days", "later", "none"])),
        ("queue.deadline.{}", "cases/queue.html", strings(&["overdue", "day", "three_days"])),
        ("claim.error.{}", "claim forms and the claims API", strings(&ClaimProblem::OWN_CODES)),
        ("error.{}", "form errors, import reports, API messages", error_codes()),
    ];

    let mut missing = Vec::new();
    let mut uneven = Vec::new();
    for (format, place, values) in &families {
        assert!(!values.is_empty(), "{format}: no values");
        for value in values {
            let key = format.replace("{}", value);
            if !catalog().contains(&key) {
                missing.push(format!("{key}  ({format}, {place})"));
                continue;
            }
            let texts = Lang::ALL.map(|lang| lang.t(&key));
            if texts.iter().any(|t| t.trim().is_empty()) {
                missing.push(format!("{key}: a language has no words ({place})"));
            }
            if placeholders(texts[0]) != placeholders(texts[1]) {
                uneven.push(format!("{key}: {:?} / {:?}", texts[0], texts[1]));
            }
        }
    }
    assert!(missing.is_empty(), "keys built at run time without words:\n{}", missing.join("\n"));
    assert!(uneven.is_empty(), "the languages fill in different placeholders:\n{}", uneven.join("\n"));
}
