//! Multipart bodies screened as they stream to the handler: each part's headers (its field name
//! and file name) and each text field are held back until whole, screened, and only then passed
//! on; file contents pass untouched (a journal file is the importer's to screen, field by field).
//!
//! The boundary rules follow multer, which parses the same bytes behind axum's `Multipart`: a
//! part starts after `--BOUNDARY`, its headers end at the first blank line, its data ends at
//! `CRLF--BOUNDARY`, and `--BOUNDARY--` ends the body. On a refusal the stream fails, so the
//! handler never receives the part; the guard then answers with the refusal instead.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use memchr::memmem;

use super::{Refused, shape_of};
use crate::domain::screen::{Shape, screen};

/// Why the stream stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    Refused(Refused),
    /// Part headers or a text field beyond any form's size.
    TooLarge,
}

/// What the guard reads once the handler is done: whether the stream stopped.
pub struct Verdict(Arc<Mutex<Option<Stop>>>);

impl Verdict {
    pub fn take(&self) -> Option<Stop> {
        self.0.lock().map(|mut v| v.take()).unwrap_or(Some(Stop::TooLarge))
    }
}

/// Longest header block of one part.
const HEADERS_LIMIT: usize = 16 * 1024;

/// The boundary parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// `body` screened on its way through.
pub fn screened(body: Body, boundary: &str) -> (Body, Verdict) {
    let verdict = Arc::new(Mutex::new(None));
    let shared = verdict.clone();
    let scanner = Scanner::new(boundary);
    let stream = futures_util::stream::unfold(
        (body.into_data_stream(), scanner, shared, false),
        |(mut input, mut scanner, verdict, done)| async move {
            if done {
                return None;
            }
            let (result, done) = match input.next().await {
                Some(Ok(chunk)) => (scanner.feed(&chunk), false),
                Some(Err(e)) => return Some((Err(std::io::Error::other(e)), (input, scanner, verdict, true))),
                None => (scanner.finish(), true),
            };
            match result {
                Ok(bytes) => Some((Ok(bytes), (input, scanner, verdict, done))),
                Err(stop) => {
                    if let Ok(mut v) = verdict.lock() {
                        *v = Some(stop);
                    }
                    // The client is still sending; let it finish (up to a limit) so that it
                    // reads the answer instead of a broken connection.
                    super::drain(input).await;
                    let input = Body::empty().into_data_stream();
                    let refused = std::io::Error::new(std::io::ErrorKind::InvalidData, "refused by the screen");
                    Some((Err(refused), (input, scanner, verdict, true)))
                }
            }
        },
    );
    (Body::from_stream(stream), Verdict(verdict))
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    /// Before the first boundary.
    Preamble,
    /// Just after a boundary: `--` ends the body, anything else starts a part's headers.
    AfterBoundary,
    Headers,
    FileData,
    TextData {
        name: String,
    },
    /// After the closing boundary.
    Epilogue,
}

/// The screening state machine over the body's bytes: pure, so it is tested on byte strings.
struct Scanner {
    /// `CRLF--BOUNDARY`: what ends a part's data.
    delimiter: memmem::Finder<'static>,
    /// Bytes received but not yet passed on (a part header or text field not yet whole, or the
    /// tail of a chunk that may be the start of a delimiter).
    window: Vec<u8>,
    state: State,
}

impl Scanner {
    fn new(boundary: &str) -> Scanner {
        let delimiter = memmem::Finder::new(format!("\r\n--{boundary}").as_bytes()).into_owned();
        Scanner { delimiter, window: Vec::new(), state: State::Preamble }
    }

    fn delimiter_len(&self) -> usize {
        self.delimiter.needle().len()
    }

    /// Takes in a chunk; returns the bytes that may go on to the handler.
    fn feed(&mut self, chunk: &[u8]) -> Result<Bytes, Stop> {
        self.window.extend_from_slice(chunk);
        let decided = self.advance()?;
        Ok(Bytes::from(self.window.drain(..decided).collect::<Vec<u8>>()))
    }

    /// The body ended: a text field cut short is still screened before it goes on.
    fn finish(&mut self) -> Result<Bytes, Stop> {
        let decided = self.advance()?;
        if let State::TextData { name } = &self.state {
            screen_text(name, &self.window[decided..])?;
        }
        Ok(Bytes::from(std::mem::take(&mut self.window)))
    }

    /// Moves through the window as far as it can; returns how many bytes are decided.
    fn advance(&mut self) -> Result<usize, Stop> {
        let mut at = 0;
        loop {
            let rest = &self.window[at..];
            match &self.state {
                State::Preamble => {
                    // The first boundary may open the body, without the CRLF before it.
                    let opening = &self.delimiter.needle()[2..];
                    match memmem::find(rest, opening) {
                        Some(i) => {
                            at += i + opening.len();
                            self.state = State::AfterBoundary;
                        }
                        None => return Ok(at + rest.len().saturating_sub(opening.len() - 1)),
                    }
                }
                State::AfterBoundary => {
                    if rest.len() < 2 {
                        return Ok(at);
                    }
                    self.state = if rest.starts_with(b"--") { State::Epilogue } else { State::Headers };
                }
                State::Headers => match memmem::find(rest, b"\r\n\r\n") {
                    Some(i) => {
                        self.state = screen_headers(&rest[..i])?;
                        at += i + 4;
                    }
                    None if rest.len() > HEADERS_LIMIT => return Err(Stop::TooLarge),
                    None => return Ok(at),
                },
                State::FileData => match self.delimiter.find(rest) {
                    Some(i) => {
                        at += i + self.delimiter_len();
                        self.state = State::AfterBoundary;
                    }
                    // The tail may be the start of the delimiter: keep it until the next chunk.
                    None => return Ok(at + rest.len().saturating_sub(self.delimiter_len() - 1)),
                },
                State::TextData { name } => match self.delimiter.find(rest) {
                    Some(i) if i > super::TEXT_PART_LIMIT => return Err(Stop::TooLarge),
                    Some(i) => {
                        screen_text(name, &rest[..i])?;
                        at += i + self.delimiter_len();
                        self.state = State::AfterBoundary;
                    }
                    None if rest.len() > super::TEXT_PART_LIMIT => return Err(Stop::TooLarge),
                    None => return Ok(at),
                },
                State::Epilogue => return Ok(self.window.len()),
            }
        }
    }
}

fn refused_one(field: &str, refusal: crate::domain::screen::Refusal) -> Stop {
    let mut refused = Refused::default();
    refused.push(field, refusal);
    Stop::Refused(refused)
}

/// Screens a part's header block line by line (as sent and `%XX`-decoded: field and file
/// names live here) and says what kind of part follows.
fn screen_headers(block: &[u8]) -> Result<State, Stop> {
    let text = String::from_utf8_lossy(block);
    let mut name = None;
    let mut is_file = false;
    for line in text.split("\r\n") {
        if let Some(refusal) = super::refused_in_text(line, Shape::Line) {
            // Name the field when it can be told and its name is not what was refused.
            let name = disposition_param(line, "name").filter(|n| screen(n, Shape::Line).is_ok());
            return Err(refused_one(&name.unwrap_or_default(), refusal));
        }
        let Some((header, value)) = line.split_once(':') else { continue };
        if header.trim().eq_ignore_ascii_case("content-disposition") {
            name = disposition_param(value, "name");
            is_file = disposition_param(value, "filename").is_some();
        }
    }
    // The field name is screened above with its line; a refused name never gets this far.
    let name = name.unwrap_or_default();
    Ok(if is_file { State::FileData } else { State::TextData { name } })
}

fn screen_text(name: &str, data: &[u8]) -> Result<(), Stop> {
    let shape = shape_of(name);
    match screen(&String::from_utf8_lossy(data), shape) {
        Ok(()) => Ok(()),
        Err(refusal) => Err(refused_one(name, refusal)),
    }
}

/// A parameter of a `Content-Disposition` value, found as multer finds it: `NAME=` at the start
/// of a parameter, the value quoted (with `\"` escapes) or up to `;` or a space.
fn disposition_param(value: &str, wanted: &str) -> Option<String> {
    let mut rest = value;
    while let Some(i) = rest.find(wanted) {
        let after = &rest[i + wanted.len()..];
        let starts_param = i == 0 || rest[..i].ends_with(|c: char| c.is_ascii_whitespace() || c == ';');
        let Some(after_eq) = after.trim_start().strip_prefix('=').filter(|_| starts_param) else {
            rest = after;
            continue;
        };
        let after_eq = after_eq.trim_start();
        if let Some(quoted) = after_eq.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => return Some(out),
                    '\\' => out.extend(chars.next()),
                    c => out.push(c),
                }
            }
            return Some(out);
        }
        let end = after_eq.find([';', ' ']).unwrap_or(after_eq.len());
        return Some(after_eq[..end].to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::screen::Refusal;

    const BOUNDARY: &str = "XyZ";

    fn part(disposition: &str, data: &str) -> String {
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\nContent-Type: text/plain\r\n\r\n{data}\r\n"
        )
    }

    fn body(parts: &[String]) -> String {
        format!("{}--{BOUNDARY}--\r\n", parts.concat())
    }

    /// Feeds `body` in chunks of `size`; returns what went on, or why it stopped.
    fn run(body: &str, size: usize) -> Result<Vec<u8>, Stop> {
        let mut scanner = Scanner::new(BOUNDARY);
        let mut out = Vec::new();
        for chunk in body.as_bytes().chunks(size) {
            out.extend_from_slice(&scanner.feed(chunk)?);
        }
        out.extend_from_slice(&scanner.finish()?);
        Ok(out)
    }

    fn refusal(result: Result<Vec<u8>, Stop>) -> Option<(String, Refusal)> {
        match result {
            Err(Stop::Refused(r)) => r.fields().first().map(|f| (f.field.clone(), f.refusal)),
            _ => None,
        }
    }

    #[test]
    fn a_clean_body_passes_byte_for_byte_in_any_chunking() {
        let text = body(&[
            part(r#"name="kind""#, "journal"),
            part(
                r#"name="file"; filename="journal 2026-11.csv""#,
                "merchant_id,card\r\n835883278854443,622848******1234\r\n",
            ),
        ]);
        for size in [1, 2, 3, 7, 64, 10_000] {
            assert!(run(&text, size).unwrap() == text.as_bytes(), "chunks of {size}");
        }
    }

    #[test]
    fn file_names_in_every_typing_are_refused() {
        for name in [
            "4111111111111111.png",
            "scan 4111 1111 1111 1111.png",
            "4111-1111-1111-1111.png",
            "4111.1111.1111.1111.png",
            "４１１１１１１１１１１１１１１１.png",
            "%34%31%31%31%31%31%31%31%31%31%31%31%31%31%31%31.png",
        ] {
            let text = body(&[part(&format!(r#"name="file"; filename="{name}""#), "%PDF-1.7")]);
            for size in [1, 5, 4096] {
                assert_eq!(refusal(run(&text, size)), Some(("file".into(), Refusal::CardNumber)), "{name} / {size}");
            }
        }
        let text = body(&[part("name=\"file\"; filename=\"a\u{0}b.png\"", "x")]);
        assert_eq!(refusal(run(&text, 3)), Some(("file".into(), Refusal::ControlCharacter)));
    }

    #[test]
    fn text_fields_are_screened_by_their_name_and_file_data_is_not() {
        let text = body(&[part(r#"name="kind""#, "journal 4111 1111 1111 1111")]);
        assert_eq!(refusal(run(&text, 4)), Some(("kind".into(), Refusal::CardNumber)));
        let text = body(&[part(r#"name="description""#, "line one\r\nline two")]);
        assert!(run(&text, 4).is_ok());
        // File contents are the importer's (or the evidence sniffer's) to judge.
        let text = body(&[part(r#"name="file"; filename="j.csv""#, "card\r\n4111111111111111\r\n")]);
        assert!(run(&text, 4).is_ok());
        // A field name holding a card number is refused without being named.
        let text = body(&[part(r#"name="4111111111111111""#, "x")]);
        assert_eq!(refusal(run(&text, 4)), Some((String::new(), Refusal::CardNumber)));
    }

    #[test]
    fn nothing_of_a_refused_part_goes_on_before_the_refusal() {
        let clean = part(r#"name="kind""#, "journal");
        let text = body(&[clean.clone(), part(r#"name="file"; filename="4111111111111111.csv""#, "data")]);
        let mut scanner = Scanner::new(BOUNDARY);
        let mut passed = Vec::new();
        let mut stopped = false;
        for chunk in text.as_bytes().chunks(3) {
            match scanner.feed(chunk) {
                Ok(bytes) => passed.extend_from_slice(&bytes),
                Err(_) => {
                    stopped = true;
                    break;
                }
            }
        }
        assert!(stopped);
        let passed = String::from_utf8(passed).unwrap();
        assert!(!passed.contains("4111"), "{passed}");
        assert!(passed.starts_with(&clean[..clean.len() - 2]), "the clean part went on: {passed}");
    }

    #[test]
    fn oversized_headers_or_text_fields_stop_the_stream() {
        let text = format!("--{BOUNDARY}\r\nX-Long: {}", "a".repeat(HEADERS_LIMIT + 10));
        assert!(matches!(run(&text, 1000), Err(Stop::TooLarge)));
        let text = body(&[part(r#"name="kind""#, &"a".repeat(super::super::TEXT_PART_LIMIT + 10))]);
        assert!(matches!(run(&text, 1000), Err(Stop::TooLarge)));
    }

    #[test]
    fn boundaries_and_parameters_are_read_as_multer_reads_them() {
        assert_eq!(boundary("multipart/form-data; boundary=abc"), Some("abc".into()));
        assert_eq!(boundary("multipart/form-data; charset=utf-8; Boundary=\"a b\""), Some("a b".into()));
        assert_eq!(boundary("multipart/form-data"), None);
        let value = r#" form-data; name="file"; filename="a \"b\".png""#;
        assert_eq!(disposition_param(value, "name").as_deref(), Some("file"));
        assert_eq!(disposition_param(value, "filename").as_deref(), Some(r#"a "b".png"#));
        assert_eq!(disposition_param(" form-data; filename=x.png", "name"), None);
        assert_eq!(disposition_param(" form-data; name=kind", "name").as_deref(), Some("kind"));
    }
}
