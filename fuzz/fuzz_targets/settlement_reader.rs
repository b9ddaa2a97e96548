//! Fuzzes `SettlementReader` over whole files: any bytes, or rows under a valid header.
//!
//! Without the header most inputs stop at the header checks; with it the fuzzer spends its runs
//! on rows. Invariants: see `redress_fuzz::reader_checks`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redress::import::parse::SETTLEMENT_COLUMNS;
use redress_fuzz::reader_checks::check_settlement_file;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return check_settlement_file(data);
    };
    if mode & 1 == 0 {
        return check_settlement_file(body);
    }
    let mut file = SETTLEMENT_COLUMNS.join(",").into_bytes();
    file.push(b'\n');
    file.extend_from_slice(body);
    check_settlement_file(&file);
});
