//! Reads the text layer of a PDF, page by page, so that every passage can
//! say which page it is printed on.
//!
//! A PDF stores positioned runs of glyphs, not paragraphs: we walk each
//! page's content operators, decode the shown strings with the font's
//! encoding (lopdf handles standard encodings, `Differences` and ToUnicode
//! maps), and rebuild lines from the text-positioning operators. A vertical
//! jump larger than about one and a half lines ends a paragraph, which the
//! plain-text rules then group under headings. Metadata comes from the
//! Info dictionary. Encrypted or corrupt files are reported as errors,
//! never panics. Depends on lopdf; knows nothing of files.

use std::collections::BTreeMap;

use lopdf::content::Content;
use lopdf::{Dictionary, Document, Encoding, Object};

use super::markdown::FrontMatter;
use super::parsed::Parsed;
use super::plain;
use super::Section;

/// Largest decompressed content stream of one page we accept; guards
/// against a small file that inflates without bound.
const MAX_PAGE_CONTENT: usize = 16 * 1024 * 1024;

/// A gap between two baselines larger than this many font sizes starts a
/// new paragraph (line spacing is usually 1.15 to 1.3).
const PARAGRAPH_GAP: f32 = 1.6;

/// In a `TJ` array, a shift of more than this many thousandths of an em to
/// the right is a word space that was not drawn as a glyph.
const WORD_GAP: f32 = 200.0;

/// Parses a PDF file held in memory.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let document = Document::load_mem(bytes).map_err(|e| e.to_string())?;
    if document.is_encrypted() {
        return Err("the file is encrypted".to_string());
    }
    let mut sections: Vec<Section> = Vec::new();
    let mut last_heading: Option<String> = None;
    for (number, page_id) in document.get_pages() {
        let text =
            page_text(&document, page_id).map_err(|reason| format!("page {number}: {reason}"))?;
        for (i, mut section) in plain::parse_untitled(&text).into_iter().enumerate() {
            // Text at the top of a page continues the previous page's
            // section; it keeps that heading.
            if i == 0 && section.heading.is_none() {
                section.heading.clone_from(&last_heading);
            }
            last_heading.clone_from(&section.heading);
            section.page = Some(number);
            sections.push(section);
        }
    }
    Ok(Parsed {
        front: info(&document),
        body_title: None,
        sections,
    })
}

/// The text of one page, lines separated by `\n` and paragraphs by a blank
/// line.
fn page_text(document: &Document, page_id: lopdf::ObjectId) -> Result<String, String> {
    let fonts = document
        .get_page_fonts(page_id)
        .map_err(|e| e.to_string())?;
    let encodings: BTreeMap<Vec<u8>, Encoding<'_>> = fonts
        .into_iter()
        .filter_map(|(name, font)| match font.get_font_encoding(document) {
            Ok(encoding) => Some((name, encoding)),
            Err(err) => {
                tracing::debug!(font = %String::from_utf8_lossy(&name), %err, "font encoding unreadable; its text is skipped");
                None
            }
        })
        .collect();
    let data = document
        .get_page_content_with_limit(page_id, MAX_PAGE_CONTENT)
        .map_err(|e| e.to_string())?;
    let content = Content::decode(&data).map_err(|e| e.to_string())?;
    let mut state = TextState::default();
    for operation in &content.operations {
        let operands = &operation.operands;
        let number = |i: usize| operands.get(i).and_then(|o| o.as_float().ok());
        match operation.operator.as_str() {
            "BT" => state.begin(),
            "Tf" => {
                state.encoding = operands
                    .first()
                    .and_then(|o| o.as_name().ok())
                    .and_then(|name| encodings.get(name));
                state.font_size = number(1).unwrap_or(state.font_size).abs();
            }
            "TL" => state.leading = number(0).unwrap_or(state.leading),
            "Td" => state.move_by(number(1).unwrap_or(0.0), false),
            "TD" => state.move_by(number(1).unwrap_or(0.0), true),
            "Tm" => state.move_to(number(3).unwrap_or(1.0), number(5).unwrap_or(0.0)),
            "T*" => state.next_line(),
            "Tj" => state.show(operands),
            "TJ" => {
                if let Some(Object::Array(items)) = operands.first() {
                    state.show(items);
                }
            }
            "'" => {
                state.next_line();
                state.show(operands);
            }
            "\"" => {
                state.next_line();
                state.show(operands.get(2..).unwrap_or(&[]));
            }
            _ => {}
        }
    }
    Ok(state.text)
}

/// What we track of the PDF text state: enough to place line breaks.
struct TextState<'a> {
    text: String,
    encoding: Option<&'a Encoding<'a>>,
    font_size: f32,
    /// Vertical scale of the text matrix.
    scale: f32,
    leading: f32,
    /// Baseline of the current line, in user space.
    y: f32,
    /// Baseline of the last line that showed text.
    shown_y: Option<f32>,
}

impl Default for TextState<'_> {
    fn default() -> Self {
        Self {
            text: String::new(),
            encoding: None,
            font_size: 12.0,
            scale: 1.0,
            leading: 0.0,
            y: 0.0,
            shown_y: None,
        }
    }
}

impl TextState<'_> {
    fn begin(&mut self) {
        self.scale = 1.0;
        self.y = 0.0;
    }

    fn move_by(&mut self, ty: f32, sets_leading: bool) {
        if sets_leading {
            self.leading = -ty;
        }
        self.y += ty * self.scale;
    }

    fn move_to(&mut self, scale: f32, y: f32) {
        self.scale = if scale.abs() > f32::EPSILON {
            scale
        } else {
            1.0
        };
        self.y = y;
    }

    fn next_line(&mut self) {
        let leading = if self.leading > 0.0 {
            self.leading
        } else {
            self.font_size * 1.2
        };
        self.y -= leading * self.scale;
    }

    /// Separates the coming text from what precedes it according to how
    /// far the baseline moved.
    fn separate(&mut self) {
        let line_height = (self.font_size * self.scale.abs()).max(1.0);
        match self.shown_y {
            None => {}
            Some(previous) => {
                let drop = previous - self.y;
                if drop > PARAGRAPH_GAP * line_height || drop < -line_height {
                    self.text.push_str("\n\n");
                } else if drop > 0.3 * line_height {
                    self.text.push('\n');
                } else if !self.text.ends_with(char::is_whitespace) {
                    self.text.push(' ');
                }
            }
        }
        self.shown_y = Some(self.y);
    }

    fn show(&mut self, items: &[Object]) {
        let Some(encoding) = self.encoding else {
            return;
        };
        let mut started = false;
        for item in items {
            match item {
                Object::String(bytes, _) => {
                    let Ok(decoded) = Document::decode_text(encoding, bytes) else {
                        continue;
                    };
                    if !started {
                        self.separate();
                        started = true;
                    }
                    self.text.push_str(&decoded);
                }
                Object::Integer(_) | Object::Real(_) => {
                    let shift = item.as_float().unwrap_or(0.0);
                    if started && -shift > WORD_GAP && !self.text.ends_with(' ') {
                        self.text.push(' ');
                    }
                }
                _ => {}
            }
        }
    }
}

/// Metadata from the Info dictionary: `Title`, `Subject` (source),
/// `Keywords` (tags), `CreationDate`, and the non-standard `URL`, `Lang`,
/// `ValidFrom` and `Deadline` keys our own generator writes.
fn info(document: &Document) -> FrontMatter {
    let Some(dict) = info_dictionary(document) else {
        return FrontMatter::default();
    };
    let text = |key: &[u8]| {
        dict.get(key)
            .ok()
            .and_then(|o| document.dereference(o).ok())
            .and_then(|(_, o)| lopdf::decode_text_string(o).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    FrontMatter {
        title: text(b"Title"),
        date: text(b"CreationDate").and_then(|d| pdf_date(&d)),
        url: text(b"URL"),
        source: text(b"Subject"),
        tags: text(b"Keywords")
            .map(|k| {
                k.split([',', ';'])
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        language: text(b"Lang"),
        valid_from: text(b"ValidFrom"),
        deadline: text(b"Deadline"),
    }
}

fn info_dictionary(document: &Document) -> Option<&Dictionary> {
    let info = document.trailer.get(b"Info").ok()?;
    let (_, object) = document.dereference(info).ok()?;
    object.as_dict().ok()
}

/// `D:20251231120000+01'00'` → `2025-12-31`.
fn pdf_date(raw: &str) -> Option<String> {
    let digits = raw.strip_prefix("D:").unwrap_or(raw);
    let digits = digits.get(..8)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!(
        "{}-{}-{}",
        &digits[..4],
        &digits[4..6],
        &digits[6..8]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates() {
        assert_eq!(
            pdf_date("D:20251231120000+01'00'").as_deref(),
            Some("2025-12-31")
        );
        assert_eq!(pdf_date("20240102").as_deref(), Some("2024-01-02"));
        assert_eq!(pdf_date("D:2025"), None);
        assert_eq!(pdf_date("hier"), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"").is_err());
        assert!(parse(b"%PDF-1.4\n1 0 obj << /Type /Catalog").is_err());
        assert!(parse(b"not a pdf at all").is_err());
    }
}
