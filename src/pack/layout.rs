//! Lines and pages: the pack's sections broken to fit an A4 page. Pure: text is measured by the
//! function the caller passes, so the rules are tested without fonts.

use super::content::{Block, Document};

/// A4 in PDF points.
pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 56.0;
const TITLE_SIZE: f32 = 18.0;
const HEADING_SIZE: f32 = 13.0;
const SUBHEADING_SIZE: f32 = 10.5;
const BODY_SIZE: f32 = 10.0;
const NOTE_SIZE: f32 = 8.5;
/// Line pitch as a multiple of the font size (CJK text needs more air than Latin).
const LEADING: f32 = 1.55;
/// The label column of a field list, as a share of the text width.
const LABEL_SHARE: f32 = 0.32;

/// Width of `text` at `size` points.
pub type Measure<'a> = &'a dyn Fn(&str, f32) -> f32;

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Text whose baseline starts at (`x`, `y`), `y` measured down from the top of the page.
    Text { x: f32, y: f32, size: f32, text: String, strong: bool, muted: bool },
    /// A thin horizontal line.
    Rule { x: f32, y: f32, width: f32 },
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
}

struct Cursor<'a> {
    pages: Vec<Page>,
    y: f32,
    measure: Measure<'a>,
}

impl Cursor<'_> {
    fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("the cursor starts with a page")
    }

    /// Makes room for `height` more points, starting a new page when this one is full.
    fn room(&mut self, height: f32) {
        if self.y + height > PAGE_HEIGHT - MARGIN {
            self.pages.push(Page::default());
            self.y = MARGIN;
        }
    }

    /// Writes `text` as wrapped lines from `x`, `width` wide.
    fn lines(&mut self, text: &str, x: f32, width: f32, size: f32, strong: bool, muted: bool) {
        for line in wrap(text, width, size, self.measure) {
            let pitch = size * LEADING;
            self.room(pitch);
            self.y += pitch;
            let y = self.y - size * (LEADING - 1.0) / 2.0;
            self.page().items.push(Item::Text { x, y, size, text: line, strong, muted });
        }
    }
}

pub fn pages(document: &Document, measure: Measure<'_>) -> Vec<Page> {
    let width = PAGE_WIDTH - 2.0 * MARGIN;
    let mut c = Cursor { pages: vec![Page::default()], y: MARGIN, measure };
    c.lines(&document.title, MARGIN, width, TITLE_SIZE, true, false);
    for line in &document.subtitle {
        c.lines(line, MARGIN, width, NOTE_SIZE, false, true);
    }
    for section in &document.sections {
        // A heading never ends a page: keep room for it and two lines after it.
        c.room(HEADING_SIZE * LEADING + 2.0 * BODY_SIZE * LEADING + 12.0);
        c.y += 12.0;
        c.lines(&section.heading, MARGIN, width, HEADING_SIZE, true, false);
        c.y += 3.0;
        let y = c.y;
        c.page().items.push(Item::Rule { x: MARGIN, y, width });
        c.y += 4.0;
        for block in &section.blocks {
            match block {
                Block::Text(text) => c.lines(text, MARGIN, width, BODY_SIZE, false, false),
                Block::Note(text) => c.lines(text, MARGIN, width, NOTE_SIZE, false, true),
                Block::Subheading(text) => {
                    c.room(SUBHEADING_SIZE * LEADING + BODY_SIZE * LEADING);
                    c.y += 4.0;
                    c.lines(text, MARGIN, width, SUBHEADING_SIZE, true, false);
                }
                Block::Fields(fields) => {
                    let label_width = width * LABEL_SHARE;
                    let value_x = MARGIN + label_width + 8.0;
                    let value_width = width - label_width - 8.0;
                    for (label, value) in fields {
                        let labels = wrap(label, label_width, BODY_SIZE, measure);
                        let values = wrap(value, value_width, BODY_SIZE, measure);
                        let rows = labels.len().max(values.len()).max(1);
                        // A label and its value stay on one page.
                        c.room(rows as f32 * BODY_SIZE * LEADING);
                        let top = c.y;
                        c.lines(label, MARGIN, label_width, BODY_SIZE, false, true);
                        let after_label = c.y;
                        c.y = top;
                        c.lines(value, value_x, value_width, BODY_SIZE, false, false);
                        c.y = c.y.max(after_label);
                    }
                }
            }
        }
    }
    c.pages
}

/// Greedy line breaking: between words in Latin text, between any two characters in CJK text,
/// and inside a word only when the word alone is wider than the line. `\n` always breaks.
pub fn wrap(text: &str, width: f32, size: f32, measure: Measure<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for piece in pieces(paragraph) {
            let candidate = format!("{line}{piece}");
            if measure(candidate.trim_end(), size) <= width
                || line.trim().is_empty() && fits(piece, width, size, measure)
            {
                line = candidate;
                continue;
            }
            if !line.trim().is_empty() {
                lines.push(line.trim_end().to_owned());
                line.clear();
            }
            let piece = piece.trim_start();
            if fits(piece, width, size, measure) {
                line.push_str(piece);
            } else {
                // A word wider than the line (a long URL): cut it where it must be cut.
                for ch in piece.chars() {
                    let candidate = format!("{line}{ch}");
                    if measure(&candidate, size) > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                    }
                    line.push(ch);
                }
            }
        }
        lines.push(line.trim_end().to_owned());
    }
    lines
}

fn fits(piece: &str, width: f32, size: f32, measure: Measure<'_>) -> bool {
    measure(piece.trim(), size) <= width
}

/// Units that stay together on a line: a Latin word with the spaces before it, or one CJK
/// character (with the punctuation that must not start a line).
fn pieces(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_word = false;
    for (i, ch) in text.char_indices() {
        if is_cjk(ch) {
            if no_line_start(ch) {
                continue;
            }
            if i > start {
                out.push(&text[start..i]);
            }
            start = i;
            in_word = false;
        } else if ch == ' ' {
            if in_word {
                out.push(&text[start..i]);
                start = i;
                in_word = false;
            }
        } else {
            let prev_cjk = text[..i].chars().next_back().is_some_and(|p| is_cjk(p) && !no_line_start(p));
            if prev_cjk && i > start {
                out.push(&text[start..i]);
                start = i;
            }
            in_word = true;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

fn is_cjk(ch: char) -> bool {
    matches!(ch as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x2FA1F)
}

/// Closing punctuation stays with the character before it (the line-breaking rule of 禁则).
fn no_line_start(ch: char) -> bool {
    "，。、；：！？）》」』】,.;:!?)".contains(ch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::pack::content::Section;

    /// Every character is 0.5 em wide, CJK ones a whole em.
    fn measure(text: &str, size: f32) -> f32 {
        text.chars().map(|c| if is_cjk(c) { size } else { size * 0.5 }).sum()
    }

    #[test]
    fn latin_breaks_between_words() {
        // 10 pt: 5 points a character, 60 points = 12 characters.
        assert_eq!(wrap("the quick brown fox jumps", 60.0, 10.0, &measure), ["the quick", "brown fox", "jumps"]);
    }

    #[test]
    fn chinese_breaks_between_characters_but_not_before_closing_punctuation() {
        let lines = wrap("商户已确认退款，请留意。", 50.0, 10.0, &measure);
        assert_eq!(lines, ["商户已确认", "退款，请留", "意。"]);
        assert!(lines.iter().all(|l| !l.starts_with('，') && !l.starts_with('。')));
    }

    #[test]
    fn mixed_text_keeps_numbers_whole() {
        let lines = wrap("参考号 123456789012 已到账", 80.0, 10.0, &measure);
        assert!(lines.iter().any(|l| l.contains("123456789012")), "{lines:?}");
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut() {
        let lines = wrap("https://example.com/cases/12345", 50.0, 10.0, &measure);
        assert!(lines.len() > 1 && lines.iter().all(|l| measure(l, 10.0) <= 50.0), "{lines:?}");
        assert_eq!(lines.concat(), "https://example.com/cases/12345");
    }

    #[test]
    fn long_documents_run_onto_more_pages_within_the_margins() {
        let document = Document {
            title: "Title".into(),
            subtitle: vec![],
            lang: Lang::En,
            sections: (0..40)
                .map(|i| Section {
                    heading: format!("Section {i}"),
                    blocks: vec![Block::Fields(vec![("label".into(), "value ".repeat(30))])],
                })
                .collect(),
        };
        let pages = pages(&document, &measure);
        assert!(pages.len() > 2, "{}", pages.len());
        for item in pages.iter().flat_map(|p| &p.items) {
            if let Item::Text { y, x, text, size, .. } = item {
                assert!(*y > MARGIN && *y <= PAGE_HEIGHT - MARGIN, "{y}");
                assert!(x + measure(text, *size) <= PAGE_WIDTH - MARGIN + 0.01, "{text}");
            }
        }
    }
}
