//! What a customer may attach to a case: a few files of known kinds, recognised by content.

/// The kinds accepted, recognised by their first bytes — never by the name or the type the
/// browser claims, both of which the uploader controls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceType {
    Png,
    Jpeg,
    Pdf,
}

impl EvidenceType {
    pub fn sniff(bytes: &[u8]) -> Option<EvidenceType> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(EvidenceType::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(EvidenceType::Jpeg)
        } else if bytes.starts_with(b"%PDF-") {
            Some(EvidenceType::Pdf)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            EvidenceType::Png => "image/png",
            EvidenceType::Jpeg => "image/jpeg",
            EvidenceType::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            EvidenceType::Png => "png",
            EvidenceType::Jpeg => "jpg",
            EvidenceType::Pdf => "pdf",
        }
    }
}

pub const MAX_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_FILES_PER_CASE: i64 = 5;

/// A file name safe to store and to send back in a header: the given name's stem (letters,
/// digits, CJK, `-_. `) with the extension of the detected type, at most 80 characters.
pub fn safe_file_name(given: &str, kind: EvidenceType) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or("");
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let clean: String = stem
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' ' | '.'))
        .take(72)
        .collect::<String>()
        .trim_matches(['.', ' '])
        .to_owned();
    let stem = if clean.is_empty() { "evidence" } else { clean.as_str() };
    format!("{stem}.{}", kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_recognised_by_content_only() {
        assert_eq!(EvidenceType::sniff(b"\x89PNG\r\n\x1a\n rest"), Some(EvidenceType::Png));
        assert_eq!(EvidenceType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(EvidenceType::Jpeg));
        assert_eq!(EvidenceType::sniff(b"%PDF-1.7\n"), Some(EvidenceType::Pdf));
        assert_eq!(EvidenceType::sniff(b"<html><script>"), None);
        assert_eq!(EvidenceType::sniff(b"GIF89a"), None);
        assert_eq!(EvidenceType::sniff(b""), None);
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_file_name("银行短信 截图.PNG", EvidenceType::Png), "银行短信 截图.png");
        assert_eq!(safe_file_name("../../etc/passwd", EvidenceType::Pdf), "passwd.pdf");
        assert_eq!(safe_file_name("a\"; filename=x.html", EvidenceType::Jpeg), "a filenamex.jpg");
        assert_eq!(safe_file_name("statement.exe", EvidenceType::Pdf), "statement.pdf");
        assert_eq!(safe_file_name("", EvidenceType::Png), "evidence.png");
        assert_eq!(safe_file_name(&"x".repeat(200), EvidenceType::Png).len(), 76);
    }
}
