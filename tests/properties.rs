//! Property tests for the parsers of outside text: journal and settlement files, amounts, cards,
//! times and claims. Each parser must never panic on any input, and where Redress also writes
//! the format, what it writes must read back as what it was written from.
//!
//! 256 cases per property (proptest's default; `PROPTEST_CASES` raises it). The coverage-guided
//! fuzz targets in fuzz/ check the same parsers over millions of inputs (`scripts/fuzz`).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::Offset;
use proptest::collection::vec;
use proptest::prelude::*;
use redress::domain::card::{MaskedCard, contains_full_card_number};
use redress::domain::claim::{ClaimInput, ClaimKind, Occurred};
use redress::domain::money::{Currency, Money, MoneyError};
use redress::domain::records::{
    JournalFields, JournalRow, SettlementEntry, SettlementFields, is_entry_id, parse_date, parse_instant,
};
use redress::import::Kind;
use redress::import::generate;
use redress::import::parse::{JOURNAL_COLUMNS, JournalReader, SETTLEMENT_COLUMNS, SettlementReader};

// One writer of parsed records and one card-number oracle, shared with the fuzz targets so the
// two kinds of test cannot drift apart.
#[path = "../fuzz/src/card_oracle.rs"]
mod card_oracle;
#[path = "../fuzz/src/record_text.rs"]
mod record_text;

use card_oracle::{luhn_check_digit, naive_contains_full_card_number};
use record_text::{csv_file, journal_record, rfc3339, settlement_record};

// ---- strategies ----

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::CNY),
        Just(Currency::USD),
        Just(Currency::JPY),
        Just(Currency::from_code("KWD").unwrap())
    ]
}

/// Any instant in 1970–2100, with any offset the record parser reads (±23:59, whole minutes).
fn instant() -> impl Strategy<Value = (Timestamp, Offset)> {
    (0i64..4_102_444_800, -1439i32..=1439).prop_map(|(second, minutes)| {
        (Timestamp::from_second(second).unwrap(), Offset::from_seconds(minutes * 60).unwrap())
    })
}

fn date() -> impl Strategy<Value = Date> {
    (0i16..=9999, 1i8..=12, 1i8..=31).prop_map(|(year, month, day)| {
        Date::new(year, month, day).unwrap_or_else(|_| Date::new(year, month, 28).unwrap())
    })
}

fn optional(pattern: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), pattern]
}

fn one_of(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(values).prop_map(str::to_owned)
}

/// An amount above zero in major units, and its currency code.
fn amount() -> impl Strategy<Value = (String, String)> {
    (1i64..1_000_000_000_000, currency())
        .prop_map(|(minor, c)| (Money::new(minor, c).major_string(), c.code().to_owned()))
}

/// The fields of a valid journal row, in `JOURNAL_COLUMNS` order.
fn journal_fields() -> impl Strategy<Value = [String; 17]> {
    let ids = ("[0-9A-Za-z]{1,15}", "[0-9A-Za-z]{8}", "[0-9]{6}", "[0-9]{6}", optional("[0-9A-Za-z]{12}"));
    let kinds = (
        optional("[0-9A-Za-z]{6}"),
        one_of(&["sale", "void", "refund", "reversal"]),
        one_of(&["approved", "declined", "no_response"]),
        one_of(&["true", "false"]),
        "[0-9]{6}\\*{3,9}[0-9]{4}",
    );
    let rest = (
        amount(),
        instant(),
        optional("[0-9]{6}"),
        optional("[0-9]{6}"),
        optional("[0-9A-Za-z]{2}"),
        prop_oneof![Just(""), Just("paper_out"), Just("printer_fault"), Just("comm_timeout"), Just("power_loss")],
    );
    (ids, kinds, rest).prop_map(|((mid, tid, batch, trace, rrn), (auth, txn_type, status, printed, card), rest)| {
        let ((amount, code), (at, offset), orig_trace, orig_batch, response, event) = rest;
        // Void, refund and reversal must name the sale they cancel.
        let orig_trace = if orig_trace.is_empty() && txn_type != "sale" { "000001".to_owned() } else { orig_trace };
        [
            mid,
            tid,
            batch,
            trace,
            rrn,
            auth,
            txn_type,
            status,
            printed,
            card,
            amount,
            code,
            rfc3339(at, offset),
            orig_trace,
            orig_batch,
            response,
            event.to_owned(),
        ]
    })
}

/// The fields of a valid settlement entry, in `SETTLEMENT_COLUMNS` order. Entry ids are free
/// text (commas, quotes, Chinese), which makes the CSV writer quote them.
fn settlement_fields() -> impl Strategy<Value = [String; 12]> {
    let entry_id = prop_oneof!["[A-Za-z0-9]{1,20}", "[ -~]{1,40}", "\\PC{1,40}"]
        .prop_filter("a valid entry id that is not a card number", |id| {
            is_entry_id(id) && !contains_full_card_number(id)
        });
    let ids = (entry_id, "[0-9A-Za-z]{1,15}", "[0-9A-Za-z]{8}", "[0-9]{6}", "[0-9A-Za-z]{12}");
    let rest =
        ("[0-9]{6}\\*{3,9}[0-9]{4}", one_of(&["debit", "credit"]), amount(), instant(), date(), "[0-9A-Za-z]{12}");
    (ids, rest).prop_map(
        |((entry_id, mid, tid, trace, rrn), (card, direction, (amount, code), (at, offset), day, orig))| {
            // Only a credit names the debit it returns.
            let orig_rrn = if direction == "credit" { orig } else { String::new() };
            [
                entry_id,
                mid,
                tid,
                trace,
                rrn,
                card,
                direction,
                amount,
                code,
                rfc3339(at, offset),
                day.to_string(),
                orig_rrn,
            ]
        },
    )
}

fn journal_row(r: &[String; 17]) -> Result<JournalRow, String> {
    let fields = JournalFields {
        merchant_id: &r[0],
        terminal_id: &r[1],
        batch_no: &r[2],
        trace_no: &r[3],
        rrn: &r[4],
        auth_code: &r[5],
        txn_type: &r[6],
        status: &r[7],
        receipt_printed: &r[8],
        card: &r[9],
        amount: &r[10],
        currency: &r[11],
        local_time: &r[12],
        orig_trace_no: &r[13],
        orig_batch_no: &r[14],
        response_code: &r[15],
        terminal_event: &r[16],
    };
    JournalRow::from_fields(&fields).map_err(|e| format!("{e:?}"))
}

fn settlement_entry(r: &[String; 12]) -> Result<SettlementEntry, String> {
    let fields = SettlementFields {
        entry_id: &r[0],
        merchant_id: &r[1],
        terminal_id: &r[2],
        trace_no: &r[3],
        rrn: &r[4],
        card: &r[5],
        direction: &r[6],
        amount: &r[7],
        currency: &r[8],
        txn_time: &r[9],
        settled_on: &r[10],
        orig_rrn: &r[11],
    };
    SettlementEntry::from_fields(&fields).map_err(|e| format!("{e:?}"))
}

/// Text shaped like a CSV file: lines of comma-joined tokens, some valid field values, some
/// near misses, some anything, with quotes and line breaks of every kind.
fn csv_like_body() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        one_of(&[
            "806276126745394",
            "27161971",
            "000392",
            "000004275973",
            "sale",
            "refund",
            "approved",
            "true",
            "621700******9605",
            "4851.71",
            "CNY",
            "2026-11-08T16:28:11+08:00",
            "2026-11-06",
            "debit",
            "credit",
            "4111 1111 1111 1111",
            "\"",
            "\"\"",
            "\r",
            "\r\n",
        ]),
        "[ -~]{0,12}",
        "\\PC{0,6}",
    ];
    vec(vec(token, 0..20).prop_map(|fields| fields.join(",")), 0..8).prop_map(|lines| lines.join("\n"))
}

/// How people type a card number (§12): groups split by single spaces, hyphens or dots, and the
/// full-width digits and separators of a Chinese input method.
#[derive(Clone, Copy, Debug)]
enum Typing {
    Plain,
    Spaces,
    Hyphens,
    Dots,
    FullWidth,
    FullWidthIdeographicSpaces,
    FullWidthHyphens,
}

fn typed(digits: &[u8], typing: Typing, group_sizes: &[usize]) -> String {
    let (full_width, separator) = match typing {
        Typing::Plain => (false, None),
        Typing::Spaces => (false, Some(' ')),
        Typing::Hyphens => (false, Some('-')),
        Typing::Dots => (false, Some('.')),
        Typing::FullWidth => (true, None),
        Typing::FullWidthIdeographicSpaces => (true, Some('\u{3000}')),
        Typing::FullWidthHyphens => (true, Some('－')),
    };
    let mut sizes = group_sizes.iter().copied().chain(std::iter::repeat(4));
    let mut left = sizes.next().unwrap();
    let mut out = String::new();
    for (i, &d) in digits.iter().enumerate() {
        if i > 0 && left == 0 {
            out.extend(separator);
            left = sizes.next().unwrap();
        }
        out.push(if full_width { char::from_u32('０' as u32 + u32::from(d)).unwrap() } else { char::from(b'0' + d) });
        left -= 1;
    }
    out
}

fn typing() -> impl Strategy<Value = Typing> {
    prop_oneof![
        Just(Typing::Plain),
        Just(Typing::Spaces),
        Just(Typing::Hyphens),
        Just(Typing::Dots),
        Just(Typing::FullWidth),
        Just(Typing::FullWidthIdeographicSpaces),
        Just(Typing::FullWidthHyphens),
    ]
}

/// 13–19 digits whose last digit completes the Luhn sum.
fn luhn_number() -> impl Strategy<Value = Vec<u8>> {
    vec(0u8..10, 12..=18).prop_map(|mut body| {
        body.push(luhn_check_digit(&body));
        body
    })
}

/// Any character but a digit: a digit right beside the number would make it part of a longer
/// run, which §4 does not count as a card number.
fn boundary() -> impl Strategy<Value = char> {
    proptest::sample::select(vec![' ', '-', '.', ',', ':', '/', '\n', 'x', '卡', '号', '\u{3000}', '*', '#', '（'])
}

// ---- properties ----

proptest! {
    #[test]
    fn amount_parsing_never_panics(text in "\\PC*", c in currency()) {
        if let Ok(money) = Money::parse(&text, c) {
            prop_assert!(money.minor >= 0);
            prop_assert_eq!(Money::parse(&money.major_string(), c), Ok(money));
        }
    }

    #[test]
    fn amount_parsing_never_panics_on_number_like_text(text in "-?[0-9]{0,22}(\\.[0-9]{0,6})?\\.?", c in currency()) {
        if let Ok(money) = Money::parse(&text, c) {
            prop_assert_eq!(Money::parse(&money.major_string(), c), Ok(money));
        }
    }

    #[test]
    fn amounts_round_trip_through_their_text(minor in 0..=i64::MAX, c in currency()) {
        // CNY and USD have exponent 2, JPY 0, KWD 3. Written out, an amount of 13 digits or more
        // can read as a card number, and is then refused rather than kept.
        let money = Money::new(minor, c);
        let text = money.major_string();
        let expected = if contains_full_card_number(&text) { Err(MoneyError::FullCardNumber) } else { Ok(money) };
        prop_assert_eq!(Money::parse(&text, c), expected);
    }

    #[test]
    fn negative_amounts_are_written_and_then_refused(minor in i64::MIN..0, c in currency()) {
        prop_assert_eq!(Money::parse(&Money::new(minor, c).major_string(), c), Err(MoneyError::Negative));
    }

    #[test]
    fn currency_codes_never_panic_and_read_back(code in prop_oneof!["[A-Z]{3}", "\\PC{0,5}"]) {
        if let Some(c) = Currency::from_code(&code) {
            prop_assert_eq!(c.code(), code.as_str());
            prop_assert!(c.exponent() <= 4);
        }
    }

    #[test]
    fn journal_reader_never_panics_on_bytes(bytes in vec(any::<u8>(), 0..1024)) {
        if let Ok(reader) = JournalReader::new(&bytes[..]) {
            for item in reader {
                let line = item.as_ref().map_or_else(|e| e.line, |(line, _)| *line);
                prop_assert!(line >= 1);
            }
        }
    }

    #[test]
    fn journal_reader_never_panics_on_rows(body in csv_like_body()) {
        let text = format!("{}\n{body}", JOURNAL_COLUMNS.join(","));
        let reader = JournalReader::new(text.as_bytes()).unwrap();
        let mut previous = 1;
        for item in reader {
            let line = item.as_ref().map_or_else(|e| e.line, |(line, _)| *line);
            // A lone '\r' ends a record without starting a line.
            prop_assert!(line > previous || (text.contains('\r') && line == previous), "{line} after {previous}");
            previous = line;
        }
    }

    #[test]
    fn settlement_reader_never_panics_on_bytes(bytes in vec(any::<u8>(), 0..1024)) {
        if let Ok(reader) = SettlementReader::new(&bytes[..]) {
            for item in reader {
                let line = item.as_ref().map_or_else(|e| e.line, |(line, _)| *line);
                prop_assert!(line >= 1);
            }
        }
    }

    #[test]
    fn settlement_reader_never_panics_on_rows(body in csv_like_body()) {
        let text = format!("{}\n{body}", SETTLEMENT_COLUMNS.join(","));
        let reader = SettlementReader::new(text.as_bytes()).unwrap();
        let mut previous = 1;
        for item in reader {
            let line = item.as_ref().map_or_else(|e| e.line, |(line, _)| *line);
            prop_assert!(line > previous || (text.contains('\r') && line == previous), "{line} after {previous}");
            previous = line;
        }
    }

    #[test]
    fn valid_journal_rows_are_accepted_and_read_back_equal(records in vec(journal_fields(), 1..6)) {
        let rows: Vec<JournalRow> = records.iter().map(|r| journal_row(r).unwrap()).collect();
        let written: Vec<[String; 17]> = rows.iter().map(journal_record).collect();
        prop_assert_eq!(&written, &records);
        let file = csv_file(&JOURNAL_COLUMNS, &written);
        let read: Vec<_> = JournalReader::new(&file[..]).unwrap().collect();
        let expected: Vec<_> = rows.into_iter().zip(2..).map(|(row, line)| Ok((line, row))).collect();
        prop_assert_eq!(read, expected);
    }

    #[test]
    fn valid_settlement_entries_are_accepted_and_read_back_equal(records in vec(settlement_fields(), 1..6)) {
        let entries: Vec<SettlementEntry> = records.iter().map(|r| settlement_entry(r).unwrap()).collect();
        let written: Vec<[String; 12]> = entries.iter().map(settlement_record).collect();
        prop_assert_eq!(&written, &records);
        let file = csv_file(&SETTLEMENT_COLUMNS, &written);
        let read: Vec<_> = SettlementReader::new(&file[..]).unwrap().collect();
        let expected: Vec<_> = entries.into_iter().zip(2..).map(|(entry, line)| Ok((line, entry))).collect();
        prop_assert_eq!(read, expected);
    }

    #[test]
    fn generated_journals_parse_and_write_back_byte_for_byte(seed in any::<u64>(), rows in 0u64..60) {
        let mut file = Vec::new();
        generate::write(Kind::Journal, rows, seed, &mut file).unwrap();
        let parsed: Vec<JournalRow> =
            JournalReader::new(&file[..]).unwrap().map(|item| item.map(|(_, row)| row).unwrap()).collect();
        prop_assert_eq!(parsed.len() as u64, rows);
        let written: Vec<[String; 17]> = parsed.iter().map(journal_record).collect();
        prop_assert_eq!(String::from_utf8(csv_file(&JOURNAL_COLUMNS, &written)).unwrap(), String::from_utf8(file).unwrap());
    }

    #[test]
    fn generated_settlements_parse_and_write_back_byte_for_byte(seed in any::<u64>(), rows in 0u64..60) {
        let mut file = Vec::new();
        generate::write(Kind::Settlement, rows, seed, &mut file).unwrap();
        let parsed: Vec<SettlementEntry> =
            SettlementReader::new(&file[..]).unwrap().map(|item| item.map(|(_, e)| e).unwrap()).collect();
        let written: Vec<[String; 12]> = parsed.iter().map(settlement_record).collect();
        prop_assert_eq!(
            String::from_utf8(csv_file(&SETTLEMENT_COLUMNS, &written)).unwrap(),
            String::from_utf8(file).unwrap()
        );
    }

    #[test]
    fn card_screen_finds_a_luhn_number_in_every_typing(
        digits in luhn_number(),
        typing in typing(),
        group_sizes in vec(1usize..=6, 0..19),
        prefix in "\\PC{0,20}",
        left in boundary(),
        right in boundary(),
        suffix in "\\PC{0,20}",
    ) {
        let number = typed(&digits, typing, &group_sizes);
        let text = format!("{prefix}{left}{number}{right}{suffix}");
        prop_assert!(contains_full_card_number(&text), "{:?} not found in {:?}", number, text);
    }

    #[test]
    fn card_screen_agrees_with_the_rule_as_written(text in "[0-9０-９ \\-\u{3000}－.x]{0,60}") {
        prop_assert_eq!(contains_full_card_number(&text), naive_contains_full_card_number(&text));
    }

    #[test]
    fn card_parsing_never_panics(text in "\\PC*") {
        let _ = contains_full_card_number(&text);
        if let Ok(card) = MaskedCard::parse(&text) {
            prop_assert_eq!(card.as_str(), text.as_str());
            prop_assert_eq!(MaskedCard::parse(card.as_str()), Ok(card));
        }
    }

    #[test]
    fn masked_cards_parse_back_from_their_text(first6 in "[0-9]{6}", stars in 3usize..=9, last4 in "[0-9]{4}") {
        let text = format!("{first6}{}{last4}", "*".repeat(stars));
        let card = MaskedCard::parse(&text).unwrap();
        prop_assert_eq!(MaskedCard::parse(card.as_str()), Ok(card.clone()));
        prop_assert_eq!((card.first6(), card.last4()), (first6.as_str(), last4.as_str()));
        prop_assert!(!contains_full_card_number(card.as_str()));
    }

    #[test]
    fn time_parsing_never_panics(text in prop_oneof![
        "\\PC{0,40}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{0,12})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?)?",
    ]) {
        let _ = parse_date(&text);
        let _ = Occurred::parse(&text);
        if let Some((at, offset)) = parse_instant(&text) {
            prop_assert_eq!(parse_instant(&rfc3339(at, offset)), Some((at, offset)));
        }
    }

    #[test]
    fn instants_round_trip_through_rfc3339((at, offset) in instant()) {
        prop_assert_eq!(parse_instant(&rfc3339(at, offset)), Some((at, offset)));
    }

    #[test]
    fn dates_round_trip(day in date()) {
        prop_assert_eq!(parse_date(&day.to_string()), Some(day));
        prop_assert_eq!(Occurred::parse(&day.to_string()), Some(Occurred::Day(day)));
    }

    #[test]
    fn claim_validation_never_panics(fields in vec(proptest::option::of("\\PC{0,30}"), 11)) {
        let input = ClaimInput {
            kind: fields[0].clone(),
            card_last4: fields[1].clone(),
            card_first6: fields[2].clone(),
            amount: fields[3].clone(),
            currency: fields[4].clone(),
            expected_amount: fields[5].clone(),
            occurred_at: fields[6].clone(),
            merchant_id: fields[7].clone(),
            terminal_id: fields[8].clone(),
            merchant_name: fields[9].clone(),
            description: fields[10].clone(),
        };
        let _ = format!("{input:?}");
        let _ = input.validate(Currency::CNY, "2026-11-21T00:00:00Z".parse().unwrap());
    }

    #[test]
    fn valid_claims_are_accepted_as_typed(
        kind in proptest::sample::select(ClaimKind::ALL.to_vec()),
        last4 in "[0-9]{4}",
        minor in 2i64..1_000_000_000,
        expected_share in 1i64..100,
        day in (2000i16..=2025, 1i8..=12, 1i8..=28),
        mid in proptest::option::of("[0-9A-Za-z]{1,15}"),
        padding in "[ \t]{0,2}",
    ) {
        let amount = Money::new(minor, Currency::CNY);
        let expected = Money::new((minor * expected_share / 100).max(1).min(minor - 1), Currency::CNY);
        let wrong_amount = kind == ClaimKind::WrongAmount;
        let day = Date::new(day.0, day.1, day.2).unwrap();
        let padded = |text: String| Some(format!("{padding}{text}{padding}"));
        let input = ClaimInput {
            kind: padded(kind.as_str().to_owned()),
            card_last4: padded(last4.clone()),
            amount: padded(amount.major_string()),
            expected_amount: if wrong_amount { padded(expected.major_string()) } else { None },
            occurred_at: padded(day.to_string()),
            merchant_id: mid.clone(),
            ..ClaimInput::default()
        };
        let claim = input.validate(Currency::CNY, "2026-11-21T00:00:00Z".parse().unwrap()).unwrap();
        prop_assert_eq!(claim.kind, kind);
        prop_assert_eq!(claim.card_last4, last4);
        prop_assert_eq!(claim.amount, amount);
        prop_assert_eq!(claim.expected_amount, wrong_amount.then_some(expected));
        prop_assert_eq!(claim.occurred, Occurred::Day(day));
        prop_assert_eq!(claim.merchant_id, mid);
    }
}
