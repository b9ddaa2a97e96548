//! Drawing the laid-out pages into a PDF with krilla, in the two fonts built into the binary:
//! DejaVu Sans for Latin text, Droid Sans Fallback for Chinese (see `assets/fonts/README.md`).
//! krilla embeds only the glyphs a pack uses, so a pack stays small.

use krilla::Document as PdfDocument;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

use super::content::Document;
use super::layout::{self, Item, PAGE_HEIGHT, PAGE_WIDTH};

static LATIN: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static CJK: &[u8] = include_bytes!("../../assets/fonts/DroidSansFallbackFull.ttf");

/// Which of the two fonts draws a character: the Latin one when it has the glyph, else the
/// CJK one (which has no Latin letters of its own).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Face {
    Latin,
    Cjk,
}

/// Measures text the way it will be drawn.
struct Metrics {
    latin: FontRef<'static>,
    cjk: FontRef<'static>,
}

impl Metrics {
    fn new() -> anyhow::Result<Metrics> {
        Ok(Metrics { latin: FontRef::new(LATIN)?, cjk: FontRef::new(CJK)? })
    }

    fn face(&self, ch: char) -> Face {
        if self.latin.charmap().map(ch).is_some() { Face::Latin } else { Face::Cjk }
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let latin = self.latin.glyph_metrics(Size::new(size), LocationRef::default());
        let cjk = self.cjk.glyph_metrics(Size::new(size), LocationRef::default());
        let (latin_map, cjk_map) = (self.latin.charmap(), self.cjk.charmap());
        text.chars()
            .map(|ch| match latin_map.map(ch) {
                Some(g) => latin.advance_width(g).unwrap_or(0.0),
                None => cjk.advance_width(cjk_map.map(ch).unwrap_or_default()).unwrap_or(size),
            })
            .sum()
    }

    /// `text` cut into runs that one font draws.
    fn runs<'t>(&self, text: &'t str) -> Vec<(Face, &'t str)> {
        let mut runs: Vec<(Face, &str)> = Vec::new();
        let mut start = 0;
        let mut current: Option<Face> = None;
        for (i, ch) in text.char_indices() {
            // A space belongs to whichever run it is in: both fonts have one.
            let face = if ch == ' ' { current.unwrap_or(Face::Latin) } else { self.face(ch) };
            if current.is_some_and(|c| c != face) {
                runs.push((current.expect("checked"), &text[start..i]));
                start = i;
            }
            current = Some(face);
        }
        if let Some(face) = current {
            runs.push((face, &text[start..]));
        }
        runs
    }
}

pub fn pdf(document: &Document) -> anyhow::Result<Vec<u8>> {
    let metrics = Metrics::new()?;
    let measure = |text: &str, size: f32| metrics.width(text, size);
    let pages = layout::pages(document, &measure);

    let latin = Font::new(LATIN.into(), 0).ok_or_else(|| anyhow::anyhow!("the built-in Latin font does not load"))?;
    let cjk = Font::new(CJK.into(), 0).ok_or_else(|| anyhow::anyhow!("the built-in CJK font does not load"))?;
    let ink = Fill { paint: rgb::Color::new(0x1f, 0x29, 0x37).into(), ..Fill::default() };
    let muted = Fill { paint: rgb::Color::new(0x5b, 0x64, 0x70).into(), ..Fill::default() };
    let rule = Fill { paint: rgb::Color::new(0xc8, 0xcd, 0xd3).into(), ..Fill::default() };

    let mut pdf = PdfDocument::new();
    pdf.set_metadata(
        Metadata::new()
            .title(document.title.clone())
            .language(document.lang.code().to_owned())
            .creator("Redress".into()),
    );
    for page in &pages {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a valid page size");
        let mut pdf_page = pdf.start_page_with(settings);
        let mut surface = pdf_page.surface();
        for item in &page.items {
            match item {
                Item::Text { x, y, size, text, strong, muted: is_muted } => {
                    surface.set_fill(Some(if *is_muted { muted.clone() } else { ink.clone() }));
                    let mut at = *x;
                    for (face, run) in metrics.runs(text) {
                        let font = if face == Face::Latin { latin.clone() } else { cjk.clone() };
                        // Neither built-in font has a bold face: strong text is drawn with an
                        // outline of the same colour, which thickens it a little.
                        surface.draw_text(Point::from_xy(at, *y), font.clone(), *size, run, false, TextDirection::Auto);
                        if *strong {
                            surface.draw_text(
                                Point::from_xy(at + 0.25, *y),
                                font,
                                *size,
                                run,
                                false,
                                TextDirection::Auto,
                            );
                        }
                        at += metrics.width(run, *size);
                    }
                }
                Item::Rule { x, y, width } => {
                    let mut path = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(*x, *y, *width, 0.6) {
                        path.push_rect(rect);
                    }
                    if let Some(path) = path.finish() {
                        surface.set_fill(Some(rule.clone()));
                        surface.draw_path(&path);
                    }
                }
            }
        }
        surface.finish();
        pdf_page.finish();
    }
    pdf.finish().map_err(|e| anyhow::anyhow!("could not write the PDF: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_goes_to_the_cjk_font_and_latin_to_the_latin_one() {
        let m = Metrics::new().unwrap();
        assert_eq!(m.runs("RRN 123 参考号"), [(Face::Latin, "RRN 123 "), (Face::Cjk, "参考号")]);
        assert_eq!(m.runs("¥1,234.50"), [(Face::Latin, "¥1,234.50")]);
        // A CJK character is about one em; a Latin letter less.
        assert!((m.width("参", 10.0) - 10.0).abs() < 0.5);
        assert!(m.width("i", 10.0) < 5.0);
    }
}
