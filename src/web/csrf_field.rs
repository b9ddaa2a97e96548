//! The CSRF token of a multipart upload, read from the form's first field, so that upload forms
//! need not carry it in their action URL (`?_csrf=` ends up in history, logs and referrers).
//! Only the start of the body is read; the rest streams on to the handler untouched.

/// The most of a body's start read to find the token: the token field is first and small.
pub const HEAD_LIMIT: usize = 8 * 1024;

/// What the start of a multipart body says about its first field.
#[derive(Debug, PartialEq, Eq)]
pub enum FirstField {
    /// The first field is `name` and this is its value.
    Value(String),
    /// The first field is complete and is not `name` (or the body is not as expected).
    Absent,
    /// More of the body is needed to tell.
    NeedMore,
}

/// The `boundary` parameter of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// Reads the first field of a multipart body from its start `head`, if it is `name`.
pub fn first_field(head: &[u8], boundary: &str, name: &str) -> FirstField {
    let opening = format!("--{boundary}\r\n");
    if head.len() < opening.len() {
        return if opening.as_bytes().starts_with(head) { FirstField::NeedMore } else { FirstField::Absent };
    }
    if !head.starts_with(opening.as_bytes()) {
        return FirstField::Absent;
    }
    let rest = &head[opening.len()..];
    let Some(end_of_headers) = find(rest, b"\r\n\r\n") else { return more_or_absent(head) };
    let headers = String::from_utf8_lossy(&rest[..end_of_headers]);
    let wanted = format!("name=\"{name}\"");
    let is_it = headers.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("content-disposition:") && line.split(';').any(|p| p.trim() == wanted)
    });
    if !is_it {
        return FirstField::Absent;
    }
    let value = &rest[end_of_headers + 4..];
    let closing = format!("\r\n--{boundary}");
    match find(value, closing.as_bytes()) {
        Some(end) => match std::str::from_utf8(&value[..end]) {
            Ok(v) => FirstField::Value(v.to_owned()),
            Err(_) => FirstField::Absent,
        },
        None => more_or_absent(head),
    }
}

fn more_or_absent(head: &[u8]) -> FirstField {
    if head.len() < HEAD_LIMIT { FirstField::NeedMore } else { FirstField::Absent }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\ntok-123\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nx\r\n--XyZ--\r\n";

    #[test]
    fn the_token_is_read_from_the_first_field_however_the_body_arrives() {
        assert_eq!(boundary("multipart/form-data; boundary=XyZ").as_deref(), Some("XyZ"));
        assert_eq!(boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(), Some("XyZ"));
        assert_eq!(boundary("text/plain; boundary=XyZ"), None);
        assert_eq!(first_field(BODY.as_bytes(), "XyZ", "_csrf"), FirstField::Value("tok-123".into()));
        for cut in [0, 3, 10, 40, 60, 68] {
            assert_eq!(first_field(&BODY.as_bytes()[..cut], "XyZ", "_csrf"), FirstField::NeedMore, "{cut}");
        }
    }

    #[test]
    fn another_first_field_or_a_strange_body_has_no_token() {
        assert_eq!(first_field(BODY.as_bytes(), "XyZ", "file"), FirstField::Absent);
        assert_eq!(first_field(b"garbage that is long enough", "XyZ", "_csrf"), FirstField::Absent);
        let endless =
            format!("--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}", "a".repeat(HEAD_LIMIT));
        assert_eq!(first_field(endless.as_bytes(), "XyZ", "_csrf"), FirstField::Absent);
    }
}
