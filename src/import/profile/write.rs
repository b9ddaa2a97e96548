//! Records written in a built-in profile's layout: `redress gen --profile` (big foreign files for
//! benchmarks) and the test fixtures (`tests/fixtures/profiles/`), from records in our formats.
//!
//! Each writer is the inverse of its built-in profile; a unit test reads what it writes back
//! through the profile and gets the same records.

use std::collections::HashMap;
use std::io::{self, Write};

use jiff::tz::TimeZone;

use crate::domain::records::{Direction, JournalRow, SettlementEntry, TxnStatus, TxnType};
use crate::import::Kind;

/// Which kind of record a built-in profile's writer takes; `None` for names without a writer.
pub fn kind_of(profile: &str) -> Option<Kind> {
    match profile {
        "cups-acom-settlement" | "acquirer-statement-tsv" => Some(Kind::Settlement),
        "terminal-log-gbk" => Some(Kind::Journal),
        _ => None,
    }
}

fn gbk(text: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(text).0.into_owned()
}

fn beijing(t: jiff::Timestamp) -> jiff::civil::DateTime {
    t.to_zoned(TimeZone::get("Asia/Shanghai").expect("zone in the database")).datetime()
}

fn fen(minor: i64) -> String {
    format!("{minor:012}")
}

/// `cups-acom-settlement`: fixed-width, one-byte gaps. A credit names its sale by the sale's
/// trace and transmission time (fields 18 and 28); a credit whose sale was not written before it
/// in this file (the generator's refunds may cross merchants) cannot say which, and is left out.
/// A credit whose RRN is its sale's is a reversal (0420), any other a refund (0220).
pub fn cups(entries: impl Iterator<Item = SettlementEntry>, out: &mut impl Write) -> io::Result<u64> {
    let mut sales: HashMap<String, (String, String, String)> = HashMap::new();
    let mut written = 0;
    for e in entries {
        let time = beijing(e.txn_time).strftime("%m%d%H%M%S").to_string();
        let (mti, code, orig_trace, orig_time) = match e.direction {
            Direction::Debit => {
                sales.insert(e.rrn.to_string(), (e.merchant_id.to_string(), e.trace_no.clone(), time.clone()));
                ("0200", "000000", String::new(), String::new())
            }
            Direction::Credit => {
                let orig = e.orig_rrn.as_ref().map(ToString::to_string).unwrap_or_default();
                match sales.get(&orig) {
                    Some((merchant, trace, t)) if *merchant == *e.merchant_id => {
                        let mti = if orig == *e.rrn { "0420" } else { "0220" };
                        let code = if mti == "0420" { "000000" } else { "200000" };
                        (mti, code, trace.clone(), t.clone())
                    }
                    _ => continue,
                }
            }
        };
        let fields: [(usize, String); 34] = [
            (11, "00049990000".into()),
            (11, "00049990000".into()),
            (6, e.trace_no.clone()),
            (10, time),
            (19, e.card.as_str().to_owned()),
            (12, fen(e.amount.minor)),
            (12, fen(0)),
            (12, fen(0)),
            (4, mti.into()),
            (6, code.into()),
            (4, "5411".into()),
            (8, e.terminal_id.to_string()),
            (15, e.merchant_id.to_string()),
            (12, e.rrn.to_string()),
            (2, "00".into()),
            (6, String::new()),
            (11, "00010344".into()),
            (6, orig_trace),
            (2, "00".into()),
            (3, "051".into()),
            (12, fen(0)),
            (12, fen(0)),
            (12, fen(0)),
            (1, "0".into()),
            (3, "156".into()),
            (1, "0".into()),
            (1, "0".into()),
            (10, orig_time),
            (11, "01030000".into()),
            (1, "0".into()),
            (2, "00".into()),
            (2, "00".into()),
            (12, fen(0)),
            (8, e.settled_on.strftime("%Y%m%d").to_string()),
        ];
        let mut line = Vec::with_capacity(400);
        for (i, (width, value)) in fields.iter().enumerate() {
            if i > 0 {
                line.push(b' ');
            }
            let bytes = gbk(value);
            line.extend_from_slice(&bytes);
            line.extend(std::iter::repeat_n(b' ', width.saturating_sub(bytes.len())));
        }
        while line.last() == Some(&b' ') {
            line.pop();
        }
        line.extend_from_slice(b"\r\n");
        out.write_all(&line)?;
        written += 1;
    }
    Ok(written)
}

/// `acquirer-statement-tsv`: GBK, tab-separated, four banner lines and two totals lines. Every
/// credit is written as a 退货 (refund); the fee is 0.6 % of a sale.
pub fn statement(entries: impl Iterator<Item = SettlementEntry>, out: &mut impl Write) -> io::Result<u64> {
    let mut entries = entries.peekable();
    let first = entries.peek().map(|e| e.settled_on.strftime("%Y%m%d").to_string()).unwrap_or_default();
    let banner = format!(
        "商户结算明细\r\n集团名称：示例商贸集团\r\n清算日期从{first}到{first}\r\n导出时间：{first} 08:00:00\r\n\
         清算日期\t交易日期\t交易时间\t商户号\t终端号\t流水号\t参考号\t卡号\t交易类型\t交易金额\t手续费\t结算金额\t原参考号\r\n"
    );
    out.write_all(&gbk(&banner))?;
    let (mut count, mut total, mut fees, mut net) = (0u64, 0i64, 0i64, 0i64);
    for e in entries {
        let at = beijing(e.txn_time);
        let (kind, fee) = match e.direction {
            Direction::Debit => ("消费", (e.amount.minor * 6 + 500) / 1000),
            Direction::Credit => ("退货", 0),
        };
        let money = |minor: i64| crate::domain::money::Money { minor, currency: e.amount.currency }.major_string();
        let sign = if e.direction == Direction::Debit { 1 } else { -1 };
        let line = [
            e.settled_on.strftime("%Y%m%d").to_string(),
            at.strftime("%Y-%m-%d").to_string(),
            at.strftime("%H:%M:%S").to_string(),
            e.merchant_id.to_string(),
            e.terminal_id.to_string(),
            e.trace_no.clone(),
            e.rrn.to_string(),
            e.card.as_str().to_owned(),
            kind.to_owned(),
            money(e.amount.minor),
            money(fee),
            money(e.amount.minor - fee),
            e.orig_rrn.as_ref().map(ToString::to_string).unwrap_or_default(),
        ]
        .join("\t");
        out.write_all(&gbk(&line))?;
        out.write_all(b"\r\n")?;
        count += 1;
        total += sign * e.amount.minor;
        fees += fee;
        net += sign * (e.amount.minor - fee);
    }
    let money = |minor: i64| {
        crate::domain::money::Money { minor, currency: crate::domain::money::Currency::CNY }.major_string()
    };
    let totals =
        format!("总笔数\t{count}\t交易金额\t{}\r\n结算金额\t{}\t手续费\t{}\r\n", money(total), money(net), money(fees));
    out.write_all(&gbk(&totals))?;
    Ok(count)
}

/// `terminal-log-gbk`: GBK, comma-separated, codes for type and answer, amounts in fen.
pub fn terminal_log(rows: impl Iterator<Item = JournalRow>, out: &mut impl Write) -> io::Result<u64> {
    out.write_all(&gbk(
        "商户号,终端号,批次号,凭证号,参考号,授权码,交易类型,应答码,冲正标志,冲正原因,卡号,金额,交易日期,交易时间,原凭证号,打印状态,设备事件\r\n",
    ))?;
    let mut written = 0;
    for r in rows {
        let at = beijing(r.local_time);
        let kind = match r.txn_type {
            TxnType::Sale => "01",
            TxnType::Refund => "04",
            TxnType::Void => "31",
            TxnType::Reversal => "21",
        };
        let code = r.response_code.clone().unwrap_or_default();
        let (answer, flag, reason) = match r.status {
            TxnStatus::Approved => (code.as_str(), "0", ""),
            TxnStatus::Declined => (code.as_str(), "0", ""),
            // An answer that came but failed its check keeps its code; none came: 98.
            TxnStatus::NoResponse if code == "00" => ("00", "1", "A0"),
            TxnStatus::NoResponse => ("", "1", "98"),
        };
        let printed = if r.receipt_printed { "已打印" } else { "未打印" };
        let event = match r.terminal_event {
            None => "",
            Some(e) => match e.as_str() {
                "paper_out" => "缺纸",
                "printer_fault" => "打印机故障",
                "comm_timeout" => "通讯超时",
                _ => "掉电",
            },
        };
        let line = [
            r.merchant_id.to_string(),
            r.terminal_id.to_string(),
            r.batch_no.clone(),
            r.trace_no.clone(),
            r.rrn.as_ref().map(ToString::to_string).unwrap_or_default(),
            r.auth_code.clone().unwrap_or_default(),
            kind.to_owned(),
            answer.to_owned(),
            flag.to_owned(),
            reason.to_owned(),
            r.card.as_str().to_owned(),
            fen(r.amount.minor),
            at.strftime("%Y%m%d").to_string(),
            at.strftime("%H%M%S").to_string(),
            r.orig_trace_no.clone().unwrap_or_default(),
            printed.to_owned(),
            event.to_owned(),
        ]
        .join(",");
        out.write_all(&gbk(&line))?;
        out.write_all(b"\r\n")?;
        written += 1;
    }
    Ok(written)
}

/// `redress gen --profile NAME`: the generator's rows (`generate::write`, same seed, same
/// transactions) in the profile's layout, streamed through a pipe.
pub fn generated(profile: &str, rows: u64, seed: u64, out: &mut impl Write) -> io::Result<u64> {
    use crate::import::parse::{JournalReader, SettlementReader};
    let kind = kind_of(profile).ok_or_else(|| io::Error::other(format!("no writer for profile {profile}")))?;
    let (reader, writer) = io::pipe()?;
    let producer =
        std::thread::spawn(move || super::super::generate::write(kind, rows, seed, io::BufWriter::new(writer)));
    let bad = |e| io::Error::other(format!("generated file unreadable: {e}"));
    let written = match kind {
        Kind::Journal => {
            let rows =
                JournalReader::new(io::BufReader::new(reader)).map_err(bad)?.filter_map(|r| r.ok().map(|(_, r)| r));
            terminal_log(rows, out)?
        }
        Kind::Settlement => {
            let entries =
                SettlementReader::new(io::BufReader::new(reader)).map_err(bad)?.filter_map(|r| r.ok().map(|(_, e)| e));
            if profile == "cups-acom-settlement" { cups(entries, out)? } else { statement(entries, out)? }
        }
    };
    producer.join().map_err(|_| io::Error::other("generator failed"))??;
    out.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::import::parse::{JournalReader, SettlementReader};
    use crate::import::profile::builtin;
    use crate::import::profile::reader::ProfileReader;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/profiles");

    fn canonical_journal() -> Vec<JournalRow> {
        let text = std::fs::read(format!("{DIR}/journal.csv")).unwrap();
        JournalReader::new(&text[..]).unwrap().map(|r| r.unwrap().1).collect()
    }

    fn canonical_settlement() -> Vec<SettlementEntry> {
        let text = std::fs::read(format!("{DIR}/settlement.csv")).unwrap();
        SettlementReader::new(&text[..]).unwrap().map(|r| r.unwrap().1).collect()
    }

    fn written(profile: &str) -> Vec<u8> {
        let mut out = Vec::new();
        match profile {
            "terminal-log-gbk" => terminal_log(canonical_journal().into_iter(), &mut out).unwrap(),
            "cups-acom-settlement" => cups(canonical_settlement().into_iter(), &mut out).unwrap(),
            _ => statement(canonical_settlement().into_iter(), &mut out).unwrap(),
        };
        out
    }

    fn fixture_name(profile: &str) -> String {
        let ext = match profile {
            "cups-acom-settlement" => "txt",
            "acquirer-statement-tsv" => "tsv",
            _ => "csv",
        };
        format!("{DIR}/{profile}.{ext}")
    }

    /// The committed fixtures are the writers' output for the canonical files;
    /// `REDRESS_WRITE_FIXTURES=1 cargo test --lib fixtures` writes them again.
    #[test]
    fn fixtures_are_the_writers_output() {
        for profile in ["terminal-log-gbk", "cups-acom-settlement", "acquirer-statement-tsv"] {
            let bytes = written(profile);
            if std::env::var("REDRESS_WRITE_FIXTURES").is_ok() {
                std::fs::write(fixture_name(profile), &bytes).unwrap();
            }
            assert_eq!(std::fs::read(fixture_name(profile)).unwrap(), bytes, "{profile}");
        }
    }

    fn through<T: crate::import::profile::reader::Target>(profile: &str) -> Vec<T> {
        let p = Arc::new(builtin::get(profile).unwrap());
        let bytes = std::fs::read(fixture_name(profile)).unwrap();
        ProfileReader::<_, T>::new(p, std::io::Cursor::new(bytes))
            .unwrap()
            .map(|r| r.unwrap_or_else(|e| panic!("{profile}: {e:?}")).1)
            .collect()
    }

    #[test]
    fn the_terminal_log_reads_back_as_the_same_journal() {
        assert_eq!(through::<JournalRow>("terminal-log-gbk"), canonical_journal());
    }

    #[test]
    fn settlement_fixtures_read_back_as_the_same_entries() {
        for profile in ["cups-acom-settlement", "acquirer-statement-tsv"] {
            let read: Vec<SettlementEntry> = through(profile);
            let mut ids: Vec<&str> = read.iter().map(|e| e.entry_id.as_str()).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), read.len(), "{profile}: entry ids are unique");
            let canonical = canonical_settlement();
            assert_eq!(read.len(), canonical.len(), "{profile}");
            for (mut r, c) in read.into_iter().zip(canonical) {
                r.entry_id.clone_from(&c.entry_id);
                assert_eq!(r, c, "{profile}");
            }
        }
    }

    #[test]
    fn the_year_end_rule_puts_december_before_a_january_settlement() {
        let read: Vec<SettlementEntry> = through("cups-acom-settlement");
        assert!(read.iter().any(|e| e.txn_time.to_string().starts_with("2025-12-31")));
        assert!(read.iter().all(|e| e.settled_on.to_string() == "2026-01-01"));
    }

    #[test]
    fn generated_foreign_files_read_without_errors() {
        for profile in ["terminal-log-gbk", "cups-acom-settlement", "acquirer-statement-tsv"] {
            let mut out = Vec::new();
            let written = generated(profile, 500, 3, &mut out).unwrap();
            let p = Arc::new(builtin::get(profile).unwrap());
            let read = match p.kind {
                Kind::Journal => {
                    ProfileReader::<_, JournalRow>::new(p, &out[..]).unwrap().map(|r| r.map(|_| ())).collect::<Vec<_>>()
                }
                Kind::Settlement => {
                    ProfileReader::<_, SettlementEntry>::new(p, &out[..]).unwrap().map(|r| r.map(|_| ())).collect()
                }
            };
            assert_eq!(read.len() as u64, written, "{profile}");
            assert!(read.iter().all(Result::is_ok), "{profile}: {:?}", read.iter().find(|r| r.is_err()));
        }
    }
}
