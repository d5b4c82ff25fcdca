//! Reads a plain-text document: first line as title, blank-line separated
//! paragraphs, and short title-like lines as section headings.
//!
//! Plain text is what we get when a newsletter is copied out of an e-mail
//! client, so structure must be guessed: a block that is a single short line
//! without final punctuation, followed by more text, is taken as a heading;
//! bullet lines (`-`, `*`, `•`, `–`) are paragraphs of their own, and the
//! lines under a bullet continue it. Pure; knows nothing of files.

use super::sentences::strip_bullet;
use super::typography::normalize;
use super::Section;

/// Longest line, in words, that may be taken for a heading.
const MAX_HEADING_WORDS: usize = 15;

/// A parsed text file: its title (first non-empty line) and sections.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct PlainText {
    pub(crate) title: Option<String>,
    pub(crate) sections: Vec<Section>,
}

/// Parses a plain-text document.
pub(crate) fn parse(text: &str) -> PlainText {
    let mut blocks = blocks(text);
    let title = match blocks.first_mut() {
        Some(first) => {
            let title = normalize(first.remove(0));
            if first.is_empty() {
                blocks.remove(0);
            }
            Some(title).filter(|t| !t.is_empty())
        }
        None => None,
    };

    let sections = sections_of(blocks);
    PlainText { title, sections }
}

/// Parses text that has no title line (a page of a PDF): blank-line
/// separated paragraphs and title-like lines as headings.
pub(crate) fn parse_untitled(text: &str) -> Vec<Section> {
    sections_of(blocks(text))
}

fn sections_of(blocks: Vec<Vec<&str>>) -> Vec<Section> {
    let mut sections = Vec::new();
    let mut current = Section {
        heading: None,
        paragraphs: Vec::new(),
        page: None,
    };
    let count = blocks.len();
    for (i, block) in blocks.into_iter().enumerate() {
        let is_last = i + 1 == count;
        if !is_last && looks_like_heading(&block) {
            let heading = Some(normalize(block[0]));
            let previous = std::mem::replace(
                &mut current,
                Section {
                    heading,
                    paragraphs: Vec::new(),
                    page: None,
                },
            );
            if previous.heading.is_some() || !previous.paragraphs.is_empty() {
                sections.push(previous);
            }
            continue;
        }
        current.paragraphs.extend(paragraphs(&block));
    }
    if current.heading.is_some() || !current.paragraphs.is_empty() {
        sections.push(current);
    }
    sections
}

/// Groups non-blank lines into blocks separated by blank lines.
fn blocks(text: &str) -> Vec<Vec<&str>> {
    let mut blocks = Vec::new();
    let mut current = Vec::new();
    for line in text.lines() {
        if normalize(line).is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

fn looks_like_heading(block: &[&str]) -> bool {
    let [line] = block else {
        return false;
    };
    if strip_bullet(line).is_some() {
        return false;
    }
    let line = normalize(line);
    let starts_well = line
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
    let ends_open = !line.ends_with(['.', '!', '?', '…', ':', ';', ',']);
    starts_well && ends_open && line.split_whitespace().count() <= MAX_HEADING_WORDS
}

/// Cuts a block into paragraphs: the whole block, or one per bullet (lines
/// before the first bullet form their own paragraph).
fn paragraphs(block: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in block {
        let content = match strip_bullet(line) {
            Some(rest) => {
                out.push(std::mem::take(&mut current));
                rest
            }
            None => line,
        };
        current.push(' ');
        current.push_str(content);
    }
    out.push(current);
    out.iter()
        .map(|p| normalize(p))
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(heading: Option<&str>, paragraphs: &[&str]) -> Section {
        Section::of(heading, paragraphs)
    }

    #[test]
    fn title_headings_and_paragraphs() {
        let text = "\n\nLettre – 2^e semestre\n\nSous-titre\n\nIntro sur\ndeux lignes.\n\nÉvénement à Caen\n\n\n\nTexte de l'événement.\n";
        let parsed = parse(text);
        assert_eq!(parsed.title.as_deref(), Some("Lettre – 2e semestre"));
        assert_eq!(
            parsed.sections,
            [
                section(Some("Sous-titre"), &["Intro sur deux lignes."]),
                section(Some("Événement à Caen"), &["Texte de l'événement."])
            ]
        );
    }

    #[test]
    fn bullets_and_their_continuations() {
        let text = "Titre\n\nÀ venir\n\n- Premier point.\n- Second point.\nSuite du second !";
        let parsed = parse(text);
        assert_eq!(
            parsed.sections,
            [section(
                Some("À venir"),
                &["Premier point.", "Second point. Suite du second !"]
            )]
        );
    }

    #[test]
    fn sentences_and_last_lines_are_not_headings() {
        let text = "Titre\n\nUne phrase complète.\n\nun début en minuscule\n\nQuestion ?\n\nDernière ligne sans point";
        let parsed = parse(text);
        assert_eq!(
            parsed.sections,
            [section(
                None,
                &[
                    "Une phrase complète.",
                    "un début en minuscule",
                    "Question ?",
                    "Dernière ligne sans point"
                ]
            )]
        );
    }

    #[test]
    fn long_line_is_a_paragraph() {
        let long = "Un très long paragraphe sans point final qui dépasse nettement la limite de mots fixée pour un titre de section";
        let parsed = parse(&format!("Titre\n\n{long}\n\nSuite."));
        assert_eq!(parsed.sections, [section(None, &[long, "Suite."])]);
    }

    #[test]
    fn title_block_with_more_lines_keeps_the_rest() {
        let parsed = parse("Titre\nPremière ligne du texte.\n\nSuite.");
        assert_eq!(parsed.title.as_deref(), Some("Titre"));
        assert_eq!(
            parsed.sections,
            [section(None, &["Première ligne du texte.", "Suite."])]
        );
    }

    #[test]
    fn empty_text() {
        assert_eq!(parse(" \n\u{00A0}\n"), PlainText::default());
    }
}
