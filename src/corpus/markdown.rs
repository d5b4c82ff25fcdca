//! Reads a Markdown document: YAML front matter plus a body of headings,
//! paragraphs and lists.
//!
//! Only the words matter downstream, so inline markup (emphasis, links,
//! inline code) is reduced to its text, images and raw HTML are dropped, and
//! every list item becomes a paragraph of its own (a bullet is a complete
//! statement in our newsletters). Depends on pulldown-cmark and
//! serde_yaml_ng; knows nothing of files.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Deserialize;

use super::typography::normalize;
use super::Section;

/// The metadata an author may put in the front matter (or that a PDF, DOCX
/// or HTML file carries in its own properties); every field is optional
/// and unknown fields are ignored.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct FrontMatter {
    pub(crate) title: Option<String>,
    pub(crate) date: Option<String>,
    pub(crate) url: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) language: Option<String>,
    pub(crate) valid_from: Option<String>,
    pub(crate) deadline: Option<String>,
}

/// Why a front matter block could not be read.
#[derive(Debug)]
pub(crate) enum FrontMatterError {
    Unclosed,
    Yaml(serde_yaml_ng::Error),
}

/// A parsed Markdown file.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Markdown {
    pub(crate) front: FrontMatter,
    /// The first level-1 heading when it serves as the document title.
    pub(crate) h1_title: Option<String>,
    pub(crate) sections: Vec<Section>,
}

/// Splits `---` front matter from the body and parses both.
pub(crate) fn parse(text: &str) -> Result<Markdown, FrontMatterError> {
    let (yaml, body) = split_front_matter(text)?;
    let front = match yaml {
        Some(yaml) if !yaml.trim().is_empty() => {
            serde_yaml_ng::from_str(yaml).map_err(FrontMatterError::Yaml)?
        }
        _ => FrontMatter::default(),
    };
    let (h1_title, sections) = parse_body(body, front.title.as_deref());
    Ok(Markdown {
        front,
        h1_title,
        sections,
    })
}

/// Returns the YAML between a leading `---` line and the next `---` (or
/// `...`) line, and the body after it.
fn split_front_matter(text: &str) -> Result<(Option<&str>, &str), FrontMatterError> {
    let mut lines = text.split_inclusive('\n');
    match lines.next() {
        Some(first) if first.trim_end() == "---" => {}
        _ => return Ok((None, text)),
    }
    let yaml_start = text.find('\n').map_or(text.len(), |i| i + 1);
    let mut offset = yaml_start;
    for line in lines {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed == "..." {
            return Ok((
                Some(&text[yaml_start..offset]),
                &text[offset + line.len()..],
            ));
        }
        offset += line.len();
    }
    Err(FrontMatterError::Unclosed)
}

/// Accumulates sections while walking the Markdown events.
struct BodyBuilder<'t> {
    front_title: Option<&'t str>,
    h1_title: Option<String>,
    sections: Vec<Section>,
    current: Section,
    buffer: String,
    heading: Option<HeadingLevel>,
    image_depth: usize,
    seen_content: bool,
}

impl BodyBuilder<'_> {
    fn flush_paragraph(&mut self) {
        let text = normalize(&self.buffer);
        self.buffer.clear();
        if !text.is_empty() {
            self.current.paragraphs.push(text);
            self.seen_content = true;
        }
    }

    fn end_heading(&mut self, level: HeadingLevel) {
        let text = normalize(&self.buffer);
        self.buffer.clear();
        if text.is_empty() {
            return;
        }
        if level == HeadingLevel::H1 {
            // A leading `# Title` is the document title, not a section; when
            // the front matter already has the same title it is a repeat.
            if self.front_title == Some(text.as_str()) {
                return;
            }
            if self.front_title.is_none() && self.h1_title.is_none() && !self.seen_content {
                self.h1_title = Some(text);
                return;
            }
        }
        let previous = std::mem::replace(
            &mut self.current,
            Section {
                heading: Some(text),
                paragraphs: Vec::new(),
                page: None,
            },
        );
        if previous.heading.is_some() || !previous.paragraphs.is_empty() {
            self.sections.push(previous);
        }
        self.seen_content = true;
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                self.flush_paragraph();
                self.heading = Some(level);
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(level) = self.heading.take() {
                    self.end_heading(level);
                }
            }
            Event::Start(Tag::Image { .. }) => self.image_depth += 1,
            Event::End(TagEnd::Image) => self.image_depth = self.image_depth.saturating_sub(1),
            // Block starts and ends delimit paragraphs; a list item's own
            // text is flushed before a nested list starts.
            Event::Start(
                Tag::Paragraph
                | Tag::Item
                | Tag::CodeBlock(_)
                | Tag::BlockQuote(_)
                | Tag::TableRow
                | Tag::TableHead,
            )
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::TableRow
                | TagEnd::TableHead,
            )
            | Event::Rule => self.flush_paragraph(),
            Event::End(TagEnd::TableCell) => self.buffer.push_str(" | "),
            Event::Text(text) | Event::Code(text) if self.image_depth == 0 => {
                self.buffer.push_str(&text)
            }
            Event::SoftBreak | Event::HardBreak => self.buffer.push(' '),
            _ => {}
        }
    }
}

fn parse_body(body: &str, front_title: Option<&str>) -> (Option<String>, Vec<Section>) {
    let mut builder = BodyBuilder {
        front_title,
        h1_title: None,
        sections: Vec::new(),
        current: Section {
            heading: None,
            paragraphs: Vec::new(),
            page: None,
        },
        buffer: String::new(),
        heading: None,
        image_depth: 0,
        seen_content: false,
    };
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(body, options) {
        builder.event(event);
    }
    builder.flush_paragraph();
    let BodyBuilder {
        h1_title,
        sections,
        current,
        ..
    } = builder;
    (h1_title, Section::close_all(sections, current))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(heading: Option<&str>, paragraphs: &[&str]) -> Section {
        Section::of(heading, paragraphs)
    }

    #[test]
    fn front_matter_fields_are_read() {
        let md = parse("---\ntitle: Lettre\ndate: 2025-12-31\ntags: [ia, data]\nlanguage: fr\nsource: La Région\nextra: ignored\n---\nTexte.\n").unwrap();
        assert_eq!(md.front.title.as_deref(), Some("Lettre"));
        assert_eq!(md.front.date.as_deref(), Some("2025-12-31"));
        assert_eq!(md.front.tags, ["ia", "data"]);
        assert_eq!(md.front.source.as_deref(), Some("La Région"));
        assert_eq!(md.front.url, None);
        assert_eq!(md.sections, [section(None, &["Texte."])]);
    }

    #[test]
    fn no_front_matter_and_h1_title() {
        let md = parse("# Le titre\n\nIntro.\n\n## Partie\n\nCorps.\n").unwrap();
        assert_eq!(md.front, FrontMatter::default());
        assert_eq!(md.h1_title.as_deref(), Some("Le titre"));
        assert_eq!(
            md.sections,
            [
                section(None, &["Intro."]),
                section(Some("Partie"), &["Corps."])
            ]
        );
    }

    #[test]
    fn h1_repeating_the_front_matter_title_is_dropped() {
        let md = parse("---\ntitle: Lettre\n---\n# Lettre\n\n## A\n\nx\n").unwrap();
        assert_eq!(md.h1_title, None);
        assert_eq!(md.sections, [section(Some("A"), &["x"])]);
    }

    #[test]
    fn invalid_or_unclosed_front_matter_is_an_error() {
        assert!(matches!(
            parse("---\ntitle: [unclosed\n---\nx"),
            Err(FrontMatterError::Yaml(_))
        ));
        assert!(matches!(
            parse("---\ntags: 3\n---\nx"),
            Err(FrontMatterError::Yaml(_))
        ));
        assert!(matches!(
            parse("---\ntitle: x\n\nbody without end"),
            Err(FrontMatterError::Unclosed)
        ));
    }

    #[test]
    fn empty_front_matter_is_fine() {
        let md = parse("---\n---\nTexte.").unwrap();
        assert_eq!(md.front, FrontMatter::default());
        assert_eq!(md.sections, [section(None, &["Texte."])]);
    }

    #[test]
    fn inline_markup_is_reduced_to_text() {
        let md = parse(
            "Un *texte* **gras**, un [lien](https://x.fr) et `code`. ![image](a.png) <b>html</b>\n",
        )
        .unwrap();
        assert_eq!(
            md.sections,
            [section(None, &["Un texte gras, un lien et code. html"])]
        );
    }

    #[test]
    fn list_items_are_paragraphs_and_continuations_join() {
        let md = parse("## À venir\n\n- Premier point.\n- Second point.\n  Suite du second.\n\nAprès la liste.\n").unwrap();
        assert_eq!(
            md.sections,
            [section(
                Some("À venir"),
                &[
                    "Premier point.",
                    "Second point. Suite du second.",
                    "Après la liste."
                ]
            )]
        );
    }

    #[test]
    fn nested_and_loose_lists() {
        let md =
            parse("- Parent\n  - Enfant un\n  - Enfant deux\n\n- Lâche\n\n  second paragraphe\n")
                .unwrap();
        assert_eq!(
            md.sections,
            [section(
                None,
                &[
                    "Parent",
                    "Enfant un",
                    "Enfant deux",
                    "Lâche",
                    "second paragraphe"
                ]
            )]
        );
    }

    #[test]
    fn typography_is_normalised_in_headings_and_text() {
        let md = parse("## La 2^e\u{00A0}édition\n\nLe 1^er   jour.\n").unwrap();
        assert_eq!(
            md.sections,
            [section(Some("La 2e édition"), &["Le 1er jour."])]
        );
    }

    #[test]
    fn tables_become_one_paragraph_per_row() {
        let md = parse("| Date | Lieu |\n|---|---|\n| 9 octobre | Caen |\n").unwrap();
        assert_eq!(
            md.sections,
            [section(None, &["Date | Lieu", "9 octobre | Caen"])]
        );
    }

    #[test]
    fn heading_without_paragraphs_is_kept() {
        let md = parse("## Vide\n## Plein\n\nTexte.").unwrap();
        assert_eq!(
            md.sections,
            [
                section(Some("Vide"), &[]),
                section(Some("Plein"), &["Texte."])
            ]
        );
    }
}
