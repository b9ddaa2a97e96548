//! Every error code of the records, money, card and import modules has a message in
//! both languages, and every placeholder a message uses is one of the code's args.

use std::collections::{BTreeMap, BTreeSet};

use redress::domain::card::CardError;
use redress::domain::money::{Currency, MoneyError};
use redress::domain::records::{JournalFields, JournalRow, SettlementEntry, SettlementFields};
use redress::import::parse::{FileError, JournalReader};

type Args = BTreeSet<String>;

/// code -> (language -> message), read from the simple shape catalog.toml uses.
fn catalog() -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/i18n/records.toml")).unwrap();
    let mut entries: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut current = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(key) = line.strip_prefix("[\"error.").and_then(|l| l.strip_suffix("\"]")) {
            assert!(entries.insert(key.to_owned(), BTreeMap::new()).is_none(), "duplicate {key}");
            current = Some(key.to_owned());
        } else {
            let (lang, value) = line.split_once(" = ").unwrap_or_else(|| panic!("bad line {line}"));
            let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap().replace("\\\"", "\"");
            let code = current.clone().expect("message before any key");
            entries.get_mut(&code).unwrap().insert(lang.to_owned(), value);
        }
    }
    entries
}

fn placeholders(message: &str) -> Args {
    message.split('{').skip(1).filter_map(|rest| rest.split_once('}')).map(|(name, _)| name.to_owned()).collect()
}

fn add(codes: &mut BTreeMap<String, Args>, code: &str, args: Vec<(&'static str, String)>) {
    let names = args.into_iter().map(|(name, _)| name.to_owned()).collect();
    let previous = codes.insert(code.to_owned(), names);
    if let Some(previous) = previous {
        assert_eq!(previous, codes[code], "{code} has differing args");
    }
}

/// Every code, produced through the public API, with the names of its args.
fn produced_codes() -> BTreeMap<String, Args> {
    let mut codes = BTreeMap::new();
    for err in [
        MoneyError::Invalid { currency: Currency::CNY },
        MoneyError::Negative,
        MoneyError::TooManyDecimals { max: 2, currency: Currency::CNY },
        MoneyError::TooLarge,
        MoneyError::FullCardNumber,
    ] {
        add(&mut codes, err.code(), err.args());
    }
    add(&mut codes, CardError::NotMasked.code(), CardError::NotMasked.args());
    for err in [
        FileError::Empty,
        FileError::NotUtf8 { line: 1 },
        FileError::UnknownColumn { column: "x".into(), allowed: "a, b" },
        FileError::MissingColumn { column: "card" },
        FileError::DuplicateColumn { column: "card" },
        FileError::BlankColumnName { position: 3 },
        FileError::FullCardNumber { line: 1 },
        FileError::Read { kind: std::io::ErrorKind::Other },
    ] {
        add(&mut codes, err.code(), err.args());
    }

    let bad_journal = [
        JournalFields::default(),
        JournalFields {
            merchant_id: "-",
            terminal_id: "-",
            batch_no: "-",
            trace_no: "-",
            rrn: "-",
            auth_code: "-",
            txn_type: "void",
            status: "-",
            receipt_printed: "-",
            card: "-",
            amount: "0",
            currency: "-",
            local_time: "-",
            orig_trace_no: "",
            orig_batch_no: "-",
            response_code: "-",
            terminal_event: "-",
        },
        JournalFields { txn_type: "-", orig_trace_no: "-", ..JournalFields::default() },
    ];
    for fields in bad_journal {
        for err in JournalRow::from_fields(&fields).unwrap_err() {
            add(&mut codes, err.code(), err.args());
        }
    }
    let bad_settlement = [
        SettlementFields { direction: "credit", ..SettlementFields::default() },
        SettlementFields {
            entry_id: " x",
            direction: "-",
            amount: "1.001",
            currency: "CNY",
            txn_time: "-",
            settled_on: "-",
            orig_rrn: "-",
            ..SettlementFields::default()
        },
    ];
    for fields in bad_settlement {
        for err in SettlementEntry::from_fields(&fields).unwrap_err() {
            add(&mut codes, err.code(), err.args());
        }
    }
    for amount in ["-1", "99999999999999999999", "x"] {
        let err = redress::domain::money::Money::parse(amount, Currency::CNY).unwrap_err();
        add(&mut codes, err.code(), err.args());
    }

    let header = redress::import::parse::JOURNAL_COLUMNS.join(",");
    let text = format!("{header}\n4111111111111111\n");
    for row in JournalReader::new(text.as_bytes()).unwrap() {
        for problem in row.unwrap_err().problems {
            add(&mut codes, problem.code(), problem.args());
        }
    }
    let mut bytes = format!("{header}\n").into_bytes();
    bytes.extend_from_slice(b"\xff\n");
    for row in JournalReader::new(&bytes[..]).unwrap() {
        for problem in row.unwrap_err().problems {
            add(&mut codes, problem.code(), problem.args());
        }
    }
    // Produced only by an I/O failure part-way, which the parse module's own tests cover.
    add(&mut codes, redress::import::parse::READ_FAILED, Vec::new());
    codes
}

#[test]
fn every_code_has_both_languages_and_matching_placeholders() {
    let catalog = catalog();
    let codes = produced_codes();
    for (code, args) in &codes {
        let messages =
            catalog.get(code).unwrap_or_else(|| panic!("error.{code} is missing from src/i18n/records.toml"));
        for lang in ["en", "zh-CN"] {
            let message = messages.get(lang).unwrap_or_else(|| panic!("error.{code} has no {lang}"));
            assert!(!message.trim().is_empty());
            let used = placeholders(message);
            assert!(used.is_subset(args), "error.{code} {lang} uses {used:?}, args are {args:?}");
        }
    }
    let unused: Vec<_> = catalog.keys().filter(|code| !codes.contains_key(*code)).collect();
    assert!(unused.is_empty(), "catalog entries no code produces: {unused:?}");
}
