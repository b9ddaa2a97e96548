//! Terminal journal rows and settlement entries: their types and validation from raw CSV fields.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::Offset;

use crate::domain::card::MaskedCard;
use crate::domain::codes::code_enum;
use crate::domain::ids::{MerchantId, Rrn, TerminalId};
use crate::domain::money::{self, Currency, MinorError, Money, MoneyError};

code_enum! {
    pub enum TxnType {
        Sale = "sale",
        Void = "void",
        Refund = "refund",
        Reversal = "reversal",
    }
}

code_enum! {
    pub enum TxnStatus {
        Approved = "approved",
        Declined = "declined",
        NoResponse = "no_response",
    }
}

code_enum! {
    pub enum TerminalEvent {
        PaperOut = "paper_out",
        PrinterFault = "printer_fault",
        CommTimeout = "comm_timeout",
        PowerLoss = "power_loss",
    }
}

code_enum! {
    /// Seen from the cardholder: `debit` charged them, `credit` gave money back.
    pub enum Direction {
        Debit = "debit",
        Credit = "credit",
    }
}

impl TxnType {
    /// Void, refund and reversal undo an earlier sale and must name it.
    pub fn cancels_a_sale(self) -> bool {
        !matches!(self, TxnType::Sale)
    }
}

/// One problem with one field (or, with no column, with the whole line).
///
/// Never holds the offending value: it may be a card number, and reports end
/// up in logs, emails and screens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub column: Option<&'static str>,
    pub code: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl FieldError {
    pub fn new(column: &'static str, code: &'static str) -> FieldError {
        FieldError { column: Some(column), code, args: Vec::new() }
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn args(&self) -> Vec<(&'static str, String)> {
        self.args.clone()
    }
}

/// Raw journal fields as read from a file; an absent optional column is `""`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalFields<'a> {
    pub merchant_id: &'a str,
    pub terminal_id: &'a str,
    pub batch_no: &'a str,
    pub trace_no: &'a str,
    pub rrn: &'a str,
    pub auth_code: &'a str,
    pub txn_type: &'a str,
    pub status: &'a str,
    pub receipt_printed: &'a str,
    pub card: &'a str,
    pub amount: &'a str,
    pub currency: &'a str,
    pub local_time: &'a str,
    pub orig_trace_no: &'a str,
    pub orig_batch_no: &'a str,
    pub response_code: &'a str,
    pub terminal_event: &'a str,
}

/// Raw settlement fields as read from a file; an absent optional column is `""`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SettlementFields<'a> {
    pub entry_id: &'a str,
    pub merchant_id: &'a str,
    pub terminal_id: &'a str,
    pub trace_no: &'a str,
    pub rrn: &'a str,
    pub card: &'a str,
    pub direction: &'a str,
    pub amount: &'a str,
    pub currency: &'a str,
    pub txn_time: &'a str,
    pub settled_on: &'a str,
    pub orig_rrn: &'a str,
}

/// One line of a terminal journal (§3.1). Key: merchant, terminal, batch, trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalRow {
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub batch_no: String,
    pub trace_no: String,
    pub rrn: Option<Rrn>,
    pub auth_code: Option<String>,
    pub txn_type: TxnType,
    pub status: TxnStatus,
    pub receipt_printed: bool,
    pub card: MaskedCard,
    pub amount: Money,
    pub local_time: Timestamp,
    pub local_offset: Offset,
    pub orig_trace_no: Option<String>,
    pub orig_batch_no: Option<String>,
    pub response_code: Option<String>,
    pub terminal_event: Option<TerminalEvent>,
}

/// One line of an acquirer settlement file (§3.2). Key: `entry_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementEntry {
    pub entry_id: String,
    pub merchant_id: MerchantId,
    pub terminal_id: TerminalId,
    pub trace_no: String,
    pub rrn: Rrn,
    pub card: MaskedCard,
    pub direction: Direction,
    pub amount: Money,
    pub txn_time: Timestamp,
    pub txn_offset: Offset,
    pub settled_on: Date,
    pub orig_rrn: Option<Rrn>,
}

impl JournalRow {
    /// Validates every field and returns all problems of the row, in column order.
    pub fn from_fields(f: &JournalFields<'_>) -> Result<JournalRow, Vec<FieldError>> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let merchant_id = check_parsed(e, "merchant_id", f.merchant_id, MerchantId::parse, "merchant_id_invalid");
        let terminal_id = check_parsed(e, "terminal_id", f.terminal_id, TerminalId::parse, "terminal_id_invalid");
        let batch_no = check(e, "batch_no", f.batch_no, is_six_digits, "batch_no_invalid");
        let trace_no = check(e, "trace_no", f.trace_no, is_six_digits, "trace_no_invalid");
        let rrn = check_optional_parsed(e, "rrn", f.rrn, Rrn::parse, "rrn_invalid");
        let auth_code = check_optional(e, "auth_code", f.auth_code, is_auth_code, "auth_code_invalid");
        let txn_type = check_parsed(e, "txn_type", f.txn_type, TxnType::parse, "txn_type_invalid");
        let status = check_parsed(e, "status", f.status, TxnStatus::parse, "status_invalid");
        let receipt_printed =
            check_parsed(e, "receipt_printed", f.receipt_printed, parse_bool, "receipt_printed_invalid");
        let card = check_card(e, f.card);
        let amount = check_amount(e, f.amount, f.currency);
        let local_time = check_time(e, "local_time", f.local_time, "local_time_invalid");
        let orig_trace_no = check_optional(e, "orig_trace_no", f.orig_trace_no, is_six_digits, "orig_trace_no_invalid");
        if f.orig_trace_no.is_empty() && txn_type.is_some_and(TxnType::cancels_a_sale) {
            e.push(FieldError::new("orig_trace_no", "orig_trace_no_required"));
        }
        let orig_batch_no = check_optional(e, "orig_batch_no", f.orig_batch_no, is_six_digits, "orig_batch_no_invalid");
        let response_code =
            check_optional(e, "response_code", f.response_code, is_response_code, "response_code_invalid");
        let terminal_event = if f.terminal_event.is_empty() {
            Some(None)
        } else {
            check_parsed(e, "terminal_event", f.terminal_event, TerminalEvent::parse, "terminal_event_invalid")
                .map(Some)
        };

        match (
            merchant_id,
            terminal_id,
            batch_no,
            trace_no,
            rrn,
            auth_code,
            txn_type,
            status,
            receipt_printed,
            card,
            amount,
            local_time,
            orig_trace_no,
            orig_batch_no,
            response_code,
            terminal_event,
        ) {
            (
                Some(merchant_id),
                Some(terminal_id),
                Some(batch_no),
                Some(trace_no),
                Some(rrn),
                Some(auth_code),
                Some(txn_type),
                Some(status),
                Some(receipt_printed),
                Some(card),
                Some(amount),
                Some((local_time, local_offset)),
                Some(orig_trace_no),
                Some(orig_batch_no),
                Some(response_code),
                Some(terminal_event),
            ) if errors.is_empty() => Ok(JournalRow {
                merchant_id,
                terminal_id,
                batch_no,
                trace_no,
                rrn,
                auth_code,
                txn_type,
                status,
                receipt_printed,
                card,
                amount,
                local_time,
                local_offset,
                orig_trace_no,
                orig_batch_no,
                response_code,
                terminal_event,
            }),
            _ => Err(errors),
        }
    }

    /// The identity of a journal row: (merchant, terminal, batch, trace).
    pub fn key(&self) -> (&str, &str, &str, &str) {
        (&self.merchant_id, &self.terminal_id, &self.batch_no, &self.trace_no)
    }

    /// Batch of the sale this row cancels: `orig_batch_no`, else this row's own batch
    /// (§3.1). `None` when the row names no original sale.
    pub fn effective_orig_batch_no(&self) -> Option<&str> {
        self.orig_trace_no.as_ref()?;
        Some(self.orig_batch_no.as_deref().unwrap_or(&self.batch_no))
    }
}

impl SettlementEntry {
    /// Validates every field and returns all problems of the row, in column order.
    pub fn from_fields(f: &SettlementFields<'_>) -> Result<SettlementEntry, Vec<FieldError>> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let entry_id = check(e, "entry_id", f.entry_id, is_entry_id, "entry_id_invalid");
        let merchant_id = check_parsed(e, "merchant_id", f.merchant_id, MerchantId::parse, "merchant_id_invalid");
        let terminal_id = check_parsed(e, "terminal_id", f.terminal_id, TerminalId::parse, "terminal_id_invalid");
        let trace_no = check(e, "trace_no", f.trace_no, is_six_digits, "trace_no_invalid");
        let rrn = check_parsed(e, "rrn", f.rrn, Rrn::parse, "rrn_invalid");
        let card = check_card(e, f.card);
        let direction = check_parsed(e, "direction", f.direction, Direction::parse, "direction_invalid");
        let amount = check_amount(e, f.amount, f.currency);
        let txn_time = check_time(e, "txn_time", f.txn_time, "txn_time_invalid");
        let settled_on = check_parsed(e, "settled_on", f.settled_on, parse_date, "settled_on_invalid");
        let orig_rrn = check_optional_parsed(e, "orig_rrn", f.orig_rrn, Rrn::parse, "orig_rrn_invalid");
        if f.orig_rrn.is_empty() && direction == Some(Direction::Credit) {
            e.push(FieldError::new("orig_rrn", "orig_rrn_required"));
        }

        match (
            entry_id,
            merchant_id,
            terminal_id,
            trace_no,
            rrn,
            card,
            direction,
            amount,
            txn_time,
            settled_on,
            orig_rrn,
        ) {
            (
                Some(entry_id),
                Some(merchant_id),
                Some(terminal_id),
                Some(trace_no),
                Some(rrn),
                Some(card),
                Some(direction),
                Some(amount),
                Some((txn_time, txn_offset)),
                Some(settled_on),
                Some(orig_rrn),
            ) if errors.is_empty() => Ok(SettlementEntry {
                entry_id,
                merchant_id,
                terminal_id,
                trace_no,
                rrn,
                card,
                direction,
                amount,
                txn_time,
                txn_offset,
                settled_on,
                orig_rrn,
            }),
            _ => Err(errors),
        }
    }
}

// ---- field rules, public so forms and filters can use the same definitions ----

fn alphanumeric(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Merchant id: 1–15 ASCII letters or digits.
pub fn is_merchant_id(text: &str) -> bool {
    (1..=15).contains(&text.len()) && alphanumeric(text)
}

/// Terminal id: exactly 8 ASCII letters or digits.
pub fn is_terminal_id(text: &str) -> bool {
    text.len() == 8 && alphanumeric(text)
}

/// Batch and trace numbers: exactly 6 ASCII digits.
pub fn is_six_digits(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Retrieval reference number: exactly 12 ASCII letters or digits.
pub fn is_rrn(text: &str) -> bool {
    text.len() == 12 && alphanumeric(text)
}

/// Authorisation code: exactly 6 ASCII letters or digits.
pub fn is_auth_code(text: &str) -> bool {
    text.len() == 6 && alphanumeric(text)
}

/// Host response code: exactly 2 ASCII letters or digits (ISO 8583 field 39 is
/// alphanumeric: `00`, `05`, `96`, `A0`, `N7`).
pub fn is_response_code(text: &str) -> bool {
    text.len() == 2 && alphanumeric(text)
}

/// Settlement entry id: 1–40 characters, none of them control characters, no
/// whitespace at either end (which would make two ids that look the same differ).
pub fn is_entry_id(text: &str) -> bool {
    let count = text.chars().count();
    (1..=40).contains(&count) && !text.chars().any(char::is_control) && text.trim() == text
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

// ---- checkers: push the problem, return the value if the field is usable ----

type Errors = Vec<FieldError>;

fn required(errors: &mut Errors, column: &'static str) {
    errors.push(FieldError { column: Some(column), code: "field_required", args: vec![("column", column.to_owned())] });
}

fn check(
    errors: &mut Errors,
    column: &'static str,
    text: &str,
    valid: fn(&str) -> bool,
    code: &'static str,
) -> Option<String> {
    if text.is_empty() {
        required(errors, column);
        None
    } else if valid(text) {
        Some(text.to_owned())
    } else {
        errors.push(FieldError::new(column, code));
        None
    }
}

/// `Some(None)` for an empty field, `None` when the field is present but wrong.
fn check_optional(
    errors: &mut Errors,
    column: &'static str,
    text: &str,
    valid: fn(&str) -> bool,
    code: &'static str,
) -> Option<Option<String>> {
    if text.is_empty() {
        Some(None)
    } else if valid(text) {
        Some(Some(text.to_owned()))
    } else {
        errors.push(FieldError::new(column, code));
        None
    }
}

fn check_optional_parsed<T>(
    errors: &mut Errors,
    column: &'static str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    code: &'static str,
) -> Option<Option<T>> {
    if text.is_empty() {
        return Some(None);
    }
    let value = parse(text);
    if value.is_none() {
        errors.push(FieldError::new(column, code));
        return None;
    }
    Some(value)
}

fn check_parsed<T>(
    errors: &mut Errors,
    column: &'static str,
    text: &str,
    parse: fn(&str) -> Option<T>,
    code: &'static str,
) -> Option<T> {
    if text.is_empty() {
        required(errors, column);
        return None;
    }
    let value = parse(text);
    if value.is_none() {
        errors.push(FieldError::new(column, code));
    }
    value
}

fn check_card(errors: &mut Errors, text: &str) -> Option<MaskedCard> {
    if text.is_empty() {
        required(errors, "card");
        return None;
    }
    MaskedCard::parse(text)
        .map_err(|err| errors.push(FieldError { column: Some("card"), code: err.code(), args: err.args() }))
        .ok()
}

/// Amount and currency together: the amount's decimals depend on the currency.
fn check_amount(errors: &mut Errors, amount: &str, currency: &str) -> Option<Money> {
    let parsed_currency = if currency.is_empty() {
        required(errors, "currency");
        None
    } else {
        let parsed = Currency::from_code(currency);
        if parsed.is_none() {
            errors.push(FieldError::new("currency", "currency_invalid"));
        }
        parsed
    };
    if amount.is_empty() {
        required(errors, "amount");
        return None;
    }
    let push = |errors: &mut Errors, err: MoneyError| {
        errors.push(FieldError { column: Some("amount"), code: err.code(), args: err.args() });
    };
    let Some(currency) = parsed_currency else {
        // Still say whether the amount itself reads as a number; which number of
        // decimals is allowed cannot be known without the currency, so allow the most.
        let widest = 4;
        match money::parse_minor(amount, widest) {
            Err(MinorError::Invalid) => push(errors, MoneyError::Invalid { currency: Currency::CNY }),
            Err(MinorError::Negative) => push(errors, MoneyError::Negative),
            Ok(0) => errors.push(FieldError::new("amount", "amount_zero")),
            _ => {}
        }
        return None;
    };
    match Money::parse(amount, currency) {
        Ok(money) if money.minor == 0 => {
            errors.push(FieldError::new("amount", "amount_zero"));
            None
        }
        Ok(money) => Some(money),
        Err(err) => {
            push(errors, err);
            None
        }
    }
}

fn check_time(
    errors: &mut Errors,
    column: &'static str,
    text: &str,
    code: &'static str,
) -> Option<(Timestamp, Offset)> {
    check_parsed(errors, column, text, parse_instant, code)
}

// ---- time parsing ----

/// Parses an RFC 3339 date-time with offset: `2026-11-08T16:28:11+08:00`,
/// `2026-11-05T09:31:20Z`, also without seconds (`2026-11-12T13:20+08:00`), with
/// `t` or a space for `T`, and with fractional seconds, which are truncated: the
/// records are compared to the second and two imports of one file must be equal.
/// A time without an offset is refused: it would be ambiguous.
pub fn parse_instant(text: &str) -> Option<(Timestamp, Offset)> {
    let b = text.as_bytes();
    if b.len() < 17 {
        return None;
    }
    let date = parse_date(text.get(..10)?)?;
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let hour = two_digits(b, 11)?;
    if b[13] != b':' {
        return None;
    }
    let minute = two_digits(b, 14)?;
    let mut at = 16;
    let mut second = 0;
    if b.get(at) == Some(&b':') {
        second = two_digits(b, at + 1)?;
        at += 3;
        if b.get(at) == Some(&b'.') {
            let digits = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            at += 1 + digits;
        }
    }
    // A leap second (":60") is read as the last second of the minute, as jiff does; past
    // that the text is not a time.
    let second = match second {
        0..=59 => second,
        60 => 59,
        _ => return None,
    };
    let offset = match &b[at..] {
        b"Z" | b"z" => Offset::UTC,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            let hours = two_digits(rest, 0)?;
            let minutes = two_digits(rest, 3)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i32::from(hours) * 3600 + i32::from(minutes) * 60;
            Offset::from_seconds(if *sign == b'-' { -seconds } else { seconds }).ok()?
        }
        _ => return None,
    };
    let datetime = DateTime::from_parts(date, jiff::civil::Time::new(hour, minute, second, 0).ok()?);
    let timestamp = offset.to_timestamp(datetime).ok()?;
    Some((timestamp, offset))
}

/// Parses a calendar date written exactly as `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i16::from(two_digits(b, 0)?) * 100 + i16::from(two_digits(b, 2)?);
    Date::new(year, two_digits(b, 5)?, two_digits(b, 8)?).ok()
}

fn two_digits(b: &[u8], at: usize) -> Option<i8> {
    match b.get(at..at + 2)? {
        [t @ b'0'..=b'9', u @ b'0'..=b'9'] => Some(((t - b'0') * 10 + (u - b'0')) as i8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> JournalFields<'static> {
        JournalFields {
            merchant_id: "806276126745394",
            terminal_id: "27161971",
            batch_no: "000392",
            trace_no: "002242",
            rrn: "000004275973",
            auth_code: "565500",
            txn_type: "refund",
            status: "approved",
            receipt_printed: "true",
            card: "621700******9605",
            amount: "4851.71",
            currency: "CNY",
            local_time: "2026-11-08T16:28:11+08:00",
            orig_trace_no: "002241",
            orig_batch_no: "000392",
            response_code: "00",
            terminal_event: "",
        }
    }

    fn settlement() -> SettlementFields<'static> {
        SettlementFields {
            entry_id: "CLR000000172",
            merchant_id: "806276126745394",
            terminal_id: "62287436",
            trace_no: "004436",
            rrn: "000004272037",
            card: "625807******6831",
            direction: "debit",
            amount: "1521.86",
            currency: "CNY",
            txn_time: "2026-11-05T09:31:20Z",
            settled_on: "2026-11-06",
            orig_rrn: "",
        }
    }

    /// The codes of all problems, as (column, code).
    fn journal_problems(fields: JournalFields<'_>) -> Vec<(&'static str, &'static str)> {
        JournalRow::from_fields(&fields).unwrap_err().into_iter().map(|e| (e.column.unwrap(), e.code)).collect()
    }

    fn settlement_problems(fields: SettlementFields<'_>) -> Vec<(&'static str, &'static str)> {
        SettlementEntry::from_fields(&fields).unwrap_err().into_iter().map(|e| (e.column.unwrap(), e.code)).collect()
    }

    #[test]
    fn enums_use_the_csv_spellings() {
        for t in [TxnType::Sale, TxnType::Void, TxnType::Refund, TxnType::Reversal] {
            assert_eq!(TxnType::parse(t.as_str()), Some(t));
        }
        for s in [TxnStatus::Approved, TxnStatus::Declined, TxnStatus::NoResponse] {
            assert_eq!(TxnStatus::parse(s.as_str()), Some(s));
        }
        for e in
            [TerminalEvent::PaperOut, TerminalEvent::PrinterFault, TerminalEvent::CommTimeout, TerminalEvent::PowerLoss]
        {
            assert_eq!(TerminalEvent::parse(e.as_str()), Some(e));
        }
        for d in [Direction::Debit, Direction::Credit] {
            assert_eq!(Direction::parse(d.as_str()), Some(d));
        }
        assert_eq!(TxnStatus::NoResponse.as_str(), "no_response");
        assert_eq!(TerminalEvent::CommTimeout.to_string(), "comm_timeout");
        assert_eq!(TxnType::parse("Sale"), None);
        assert_eq!(TxnStatus::parse("no-response"), None);
        assert_eq!(Direction::parse(""), None);
    }

    #[test]
    fn every_spelling_is_the_csv_one() {
        fn texts<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
            all.iter().map(|&v| as_str(v)).collect()
        }
        assert_eq!(texts(&TxnType::ALL, TxnType::as_str), ["sale", "void", "refund", "reversal"]);
        assert_eq!(texts(&TxnStatus::ALL, TxnStatus::as_str), ["approved", "declined", "no_response"]);
        assert_eq!(
            texts(&TerminalEvent::ALL, TerminalEvent::as_str),
            ["paper_out", "printer_fault", "comm_timeout", "power_loss"]
        );
        assert_eq!(texts(&Direction::ALL, Direction::as_str), ["debit", "credit"]);
        for d in Direction::ALL {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
    }

    #[test]
    fn parses_a_valid_journal_row() {
        let row = JournalRow::from_fields(&journal()).unwrap();
        assert_eq!(row.key(), ("806276126745394", "27161971", "000392", "002242"));
        assert_eq!(row.rrn.as_deref(), Some("000004275973"));
        assert_eq!(row.txn_type, TxnType::Refund);
        assert!(row.receipt_printed);
        assert_eq!(row.amount, Money::new(485171, Currency::CNY));
        assert_eq!(row.local_time, "2026-11-08T08:28:11Z".parse::<Timestamp>().unwrap());
        assert_eq!(row.local_offset, Offset::from_seconds(8 * 3600).unwrap());
        assert_eq!(row.terminal_event, None);
        assert_eq!(row.effective_orig_batch_no(), Some("000392"));
    }

    #[test]
    fn optional_journal_fields_may_be_empty() {
        let fields = JournalFields {
            rrn: "",
            auth_code: "",
            txn_type: "sale",
            status: "no_response",
            orig_trace_no: "",
            orig_batch_no: "",
            response_code: "",
            terminal_event: "comm_timeout",
            ..journal()
        };
        let row = JournalRow::from_fields(&fields).unwrap();
        assert_eq!((row.rrn, row.auth_code, row.response_code), (None, None, None));
        assert_eq!(row.terminal_event, Some(TerminalEvent::CommTimeout));
        assert_eq!(row.status, TxnStatus::NoResponse);
    }

    #[test]
    fn orig_batch_defaults_to_own_batch() {
        let row = JournalRow::from_fields(&JournalFields { orig_batch_no: "", ..journal() }).unwrap();
        assert_eq!(row.orig_batch_no, None);
        assert_eq!(row.effective_orig_batch_no(), Some("000392"));
        let row = JournalRow::from_fields(&JournalFields { orig_batch_no: "000391", ..journal() }).unwrap();
        assert_eq!(row.effective_orig_batch_no(), Some("000391"));
        let sale = JournalFields { txn_type: "sale", orig_trace_no: "", orig_batch_no: "", ..journal() };
        assert_eq!(JournalRow::from_fields(&sale).unwrap().effective_orig_batch_no(), None);
    }

    #[test]
    fn same_text_gives_equal_rows() {
        assert_eq!(JournalRow::from_fields(&journal()), JournalRow::from_fields(&journal()));
        assert_eq!(SettlementEntry::from_fields(&settlement()), SettlementEntry::from_fields(&settlement()));
        let other = JournalRow::from_fields(&JournalFields { amount: "4851.70", ..journal() });
        assert_ne!(JournalRow::from_fields(&journal()), other);
        // "128.5" and "128.50" are the same money, so the same content.
        let a = JournalRow::from_fields(&JournalFields { amount: "128.5", ..journal() });
        let b = JournalRow::from_fields(&JournalFields { amount: "128.50", ..journal() });
        assert_eq!(a, b);
    }

    #[test]
    fn reports_each_bad_journal_field() {
        let cases: &[(JournalFields<'static>, &str, &str)] = &[
            (JournalFields { merchant_id: "8062761267453940", ..journal() }, "merchant_id", "merchant_id_invalid"),
            (JournalFields { merchant_id: "80627-612674", ..journal() }, "merchant_id", "merchant_id_invalid"),
            (JournalFields { terminal_id: "2716197", ..journal() }, "terminal_id", "terminal_id_invalid"),
            (JournalFields { terminal_id: "2716197_", ..journal() }, "terminal_id", "terminal_id_invalid"),
            (JournalFields { batch_no: "00039", ..journal() }, "batch_no", "batch_no_invalid"),
            (JournalFields { batch_no: "00039A", ..journal() }, "batch_no", "batch_no_invalid"),
            (JournalFields { trace_no: "2242", ..journal() }, "trace_no", "trace_no_invalid"),
            (JournalFields { trace_no: " 002242", ..journal() }, "trace_no", "trace_no_invalid"),
            (JournalFields { rrn: "00000427597", ..journal() }, "rrn", "rrn_invalid"),
            (JournalFields { auth_code: "56550", ..journal() }, "auth_code", "auth_code_invalid"),
            (JournalFields { txn_type: "purchase", ..journal() }, "txn_type", "txn_type_invalid"),
            (JournalFields { status: "APPROVED", ..journal() }, "status", "status_invalid"),
            (JournalFields { receipt_printed: "yes", ..journal() }, "receipt_printed", "receipt_printed_invalid"),
            (JournalFields { receipt_printed: "True", ..journal() }, "receipt_printed", "receipt_printed_invalid"),
            (JournalFields { receipt_printed: "1", ..journal() }, "receipt_printed", "receipt_printed_invalid"),
            (JournalFields { card: "621700**9605", ..journal() }, "card", "card_invalid"),
            (JournalFields { amount: "1,000.00", ..journal() }, "amount", "amount_invalid"),
            (JournalFields { amount: "-1.00", ..journal() }, "amount", "amount_negative"),
            (JournalFields { amount: "0.00", ..journal() }, "amount", "amount_zero"),
            (JournalFields { amount: "1.001", ..journal() }, "amount", "amount_too_many_decimals"),
            (JournalFields { amount: "99999999999999999999", ..journal() }, "amount", "amount_too_large"),
            (JournalFields { currency: "cny", ..journal() }, "currency", "currency_invalid"),
            (JournalFields { currency: "XAU", ..journal() }, "currency", "currency_invalid"),
            (JournalFields { local_time: "2026-11-08 16:28:11", ..journal() }, "local_time", "local_time_invalid"),
            (
                JournalFields { local_time: "2026-02-30T16:28:11+08:00", ..journal() },
                "local_time",
                "local_time_invalid",
            ),
            (JournalFields { orig_trace_no: "2241", ..journal() }, "orig_trace_no", "orig_trace_no_invalid"),
            (JournalFields { orig_trace_no: "", ..journal() }, "orig_trace_no", "orig_trace_no_required"),
            (JournalFields { orig_batch_no: "392", ..journal() }, "orig_batch_no", "orig_batch_no_invalid"),
            (JournalFields { response_code: "000", ..journal() }, "response_code", "response_code_invalid"),
            (JournalFields { response_code: "0", ..journal() }, "response_code", "response_code_invalid"),
            (JournalFields { terminal_event: "paper out", ..journal() }, "terminal_event", "terminal_event_invalid"),
        ];
        for (fields, column, code) in cases {
            assert_eq!(journal_problems(*fields), vec![(*column, *code)], "{fields:?}");
        }
    }

    #[test]
    fn void_and_reversal_need_the_original_trace_but_a_sale_does_not() {
        for txn_type in ["void", "reversal", "refund"] {
            let fields = JournalFields { txn_type, orig_trace_no: "", ..journal() };
            assert_eq!(journal_problems(fields), vec![("orig_trace_no", "orig_trace_no_required")]);
        }
        let sale = JournalFields { txn_type: "sale", orig_trace_no: "", orig_batch_no: "", ..journal() };
        assert!(JournalRow::from_fields(&sale).is_ok());
    }

    #[test]
    fn reports_all_problems_of_a_row_not_just_the_first() {
        let fields = JournalFields {
            merchant_id: "",
            trace_no: "12",
            card: "6217000000009605",
            amount: "abc",
            currency: "",
            local_time: "yesterday",
            ..journal()
        };
        assert_eq!(
            journal_problems(fields),
            vec![
                ("merchant_id", "field_required"),
                ("trace_no", "trace_no_invalid"),
                ("card", "card_invalid"),
                ("currency", "field_required"),
                ("amount", "amount_invalid"),
                ("local_time", "local_time_invalid"),
            ]
        );
    }

    #[test]
    fn required_problem_names_the_column() {
        let errors = JournalRow::from_fields(&JournalFields { batch_no: "", ..journal() }).unwrap_err();
        assert_eq!(errors[0].code(), "field_required");
        assert_eq!(errors[0].args(), vec![("column", "batch_no".to_owned())]);
    }

    #[test]
    fn amount_with_unknown_currency_is_still_checked() {
        let fields = JournalFields { currency: "ABC", amount: "-5", ..journal() };
        assert_eq!(journal_problems(fields), vec![("currency", "currency_invalid"), ("amount", "amount_negative")]);
        let fields = JournalFields { currency: "ABC", amount: "5.00", ..journal() };
        assert_eq!(journal_problems(fields), vec![("currency", "currency_invalid")]);
    }

    #[test]
    fn amount_decimals_follow_the_row_currency() {
        let yen = JournalFields { amount: "1280", currency: "JPY", ..journal() };
        assert_eq!(JournalRow::from_fields(&yen).unwrap().amount, Money::new(1280, Currency::JPY));
        let fields = JournalFields { amount: "1280.50", currency: "JPY", ..journal() };
        let errors = JournalRow::from_fields(&fields).unwrap_err();
        assert_eq!(errors[0].code, "amount_too_many_decimals");
        assert_eq!(errors[0].args, vec![("max", "0".to_owned()), ("currency", "JPY".to_owned())]);
    }

    #[test]
    fn reads_the_time_shapes_files_use() {
        let at = |text| parse_instant(text).map(|(ts, off)| (ts.to_string(), off.seconds()));
        let utc = |s: &str| Some((s.to_owned(), 0));
        assert_eq!(at("2026-11-08T16:28:11+08:00"), Some(("2026-11-08T08:28:11Z".to_owned(), 28800)));
        assert_eq!(at("2026-11-05T09:31:20Z"), utc("2026-11-05T09:31:20Z"));
        assert_eq!(at("2026-11-05t09:31:20z"), utc("2026-11-05T09:31:20Z"));
        assert_eq!(at("2026-11-05 09:31:20Z"), utc("2026-11-05T09:31:20Z"));
        assert_eq!(at("2026-11-12T13:20+08:00"), Some(("2026-11-12T05:20:00Z".to_owned(), 28800)));
        assert_eq!(at("2026-11-05T09:31:20.999Z"), utc("2026-11-05T09:31:20Z"));
        assert_eq!(at("2026-11-05T09:31:20.123456789-05:30"), Some(("2026-11-05T15:01:20Z".to_owned(), -19800)));
        assert_eq!(at("2026-11-05T09:31:20-00:00"), utc("2026-11-05T09:31:20Z"));
        assert_eq!(at("2016-12-31T23:59:60Z"), utc("2016-12-31T23:59:59Z"));
    }

    #[test]
    fn refuses_times_without_offset_or_malformed() {
        for text in [
            "2026-11-08T16:28:11",
            "2026-11-08",
            "2026-11-08T16:28:11+0800",
            "2026-11-08T16:28:11+08",
            "2026-11-08T16:28:11 +08:00",
            "2026-11-08T16:28:11.Z",
            "2026-11-08T24:00:00Z",
            "2026-11-08T16:61:00Z",
            // Found by fuzzing (fuzz/fuzz_targets/time.rs): seconds past the leap second were
            // read as :59.
            "2026-11-05T09:31:61Z",
            "2026-11-05T09:31:90.123267Z",
            "2026-11-08T16:28:11+24:00",
            "2026-11-08T16:28:11Z[Asia/Shanghai]",
            "2026-11-08T16:28:11+08:00[Asia/Shanghai]",
            "2026/11/08T16:28:11Z",
            "2026-11-8T16:28:11Z",
            "20261108T162811Z",
            " 2026-11-08T16:28:11Z",
            "2026-11-08T16:28:11Z ",
            "２０２６-11-08T16:28:11Z",
            "",
        ] {
            assert_eq!(parse_instant(text), None, "{text:?}");
        }
    }

    #[test]
    fn fractional_seconds_do_not_make_rows_differ() {
        let a = JournalRow::from_fields(&JournalFields { local_time: "2026-11-08T16:28:11.250+08:00", ..journal() });
        assert_eq!(a, JournalRow::from_fields(&journal()));
    }

    #[test]
    fn parses_strict_dates() {
        assert_eq!(parse_date("2026-11-06"), Some(jiff::civil::date(2026, 11, 6)));
        for text in ["2026-11-6", "2026-13-01", "2026-02-29", "26-11-06", "2026-11-06Z", "2026/11/06", ""] {
            assert_eq!(parse_date(text), None, "{text:?}");
        }
    }

    #[test]
    fn parses_a_valid_settlement_entry() {
        let entry = SettlementEntry::from_fields(&settlement()).unwrap();
        assert_eq!(entry.entry_id, "CLR000000172");
        assert_eq!(entry.direction, Direction::Debit);
        assert_eq!(entry.amount, Money::new(152186, Currency::CNY));
        assert_eq!(entry.txn_offset, Offset::UTC);
        assert_eq!(entry.settled_on, jiff::civil::date(2026, 11, 6));
        assert_eq!(entry.orig_rrn, None);
        let credit = SettlementFields { direction: "credit", orig_rrn: "000004267627", ..settlement() };
        assert_eq!(SettlementEntry::from_fields(&credit).unwrap().orig_rrn.as_deref(), Some("000004267627"));
    }

    #[test]
    fn reports_each_bad_settlement_field() {
        let long_id = "E".repeat(41);
        let cases: Vec<(SettlementFields<'_>, &str, &str)> = vec![
            (SettlementFields { entry_id: &long_id, ..settlement() }, "entry_id", "entry_id_invalid"),
            (SettlementFields { entry_id: "CLR\t1", ..settlement() }, "entry_id", "entry_id_invalid"),
            (SettlementFields { entry_id: " CLR1", ..settlement() }, "entry_id", "entry_id_invalid"),
            (SettlementFields { entry_id: "", ..settlement() }, "entry_id", "field_required"),
            (SettlementFields { merchant_id: "8062 76126745", ..settlement() }, "merchant_id", "merchant_id_invalid"),
            (SettlementFields { terminal_id: "622874361", ..settlement() }, "terminal_id", "terminal_id_invalid"),
            (SettlementFields { trace_no: "04436", ..settlement() }, "trace_no", "trace_no_invalid"),
            (SettlementFields { rrn: "", ..settlement() }, "rrn", "field_required"),
            (SettlementFields { rrn: "0000042720370", ..settlement() }, "rrn", "rrn_invalid"),
            (SettlementFields { card: "625807******683", ..settlement() }, "card", "card_invalid"),
            (SettlementFields { direction: "Debit", ..settlement() }, "direction", "direction_invalid"),
            (SettlementFields { amount: "1521.860", ..settlement() }, "amount", "amount_too_many_decimals"),
            (SettlementFields { amount: "0", ..settlement() }, "amount", "amount_zero"),
            (SettlementFields { txn_time: "2026-11-05T09:31:20", ..settlement() }, "txn_time", "txn_time_invalid"),
            (
                SettlementFields { settled_on: "2026-11-06T00:00:00Z", ..settlement() },
                "settled_on",
                "settled_on_invalid",
            ),
            (SettlementFields { orig_rrn: "12345", ..settlement() }, "orig_rrn", "orig_rrn_invalid"),
            (SettlementFields { direction: "credit", ..settlement() }, "orig_rrn", "orig_rrn_required"),
        ];
        for (fields, column, code) in cases {
            assert_eq!(settlement_problems(fields), vec![(column, code)], "{fields:?}");
        }
        let id40 = "条".repeat(40);
        assert!(SettlementEntry::from_fields(&SettlementFields { entry_id: &id40, ..settlement() }).is_ok());
    }

    #[test]
    fn field_rules() {
        assert!(is_merchant_id("8"));
        assert!(is_merchant_id("ABCdef123456789"));
        assert!(!is_merchant_id(""));
        assert!(!is_merchant_id("１２３"));
        assert!(is_merchant_id("851424736185314"));
        assert!(!is_merchant_id("8514247361853140"));
        assert!(!is_merchant_id("85142-473"));
        assert!(is_terminal_id("T0000001"));
        assert!(is_terminal_id("03503484"));
        assert!(!is_terminal_id("0350348"));
        assert!(!is_terminal_id("0350348x9"));
        assert!(is_rrn("ABC123456789"));
        assert!(is_auth_code("A1B2C3"));
        assert!(is_response_code("N7"));
        assert!(!is_six_digits("１２３４５６"));
    }
}
