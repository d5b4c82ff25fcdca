//! The agency's documents as data: loading them from `corpus/`, cleaning
//! their typography, and cutting them into passages and sentences.
//!
//! A [`Document`] is what an author wrote (title, date, sections of
//! paragraphs); a [`Passage`] is the unit we index, retrieve and cite (one
//! paragraph, or a sentence-aligned piece of a long one, carrying its
//! document's title, section heading, date and source). Everything here is
//! synchronous and pure apart from reading files; it knows nothing of
//! tantivy, the model or HTTP.

mod chunker;
mod docx;
mod html;
mod loader;
mod markdown;
mod parsed;
mod pdf;
mod plain;
mod sentences;
pub mod suggestions;
mod typography;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use chunker::{chunk_document, chunk_documents, MAX_PASSAGE_WORDS};
pub use loader::{load_dir, load_file, Skipped};
pub use sentences::split_sentences;
pub use suggestions::SuggestedQuestion;
pub use typography::normalize;

/// Errors raised while reading one document or the corpus folder.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid UTF-8.
    #[error("{path} is not valid UTF-8 (byte {valid_up_to})")]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// Length of the valid prefix, to help find the bad byte.
        valid_up_to: usize,
    },
    /// The YAML front matter does not parse or has fields of the wrong type.
    #[error("invalid front matter in {path}: {source}")]
    FrontMatter {
        /// The file.
        path: PathBuf,
        /// The YAML error.
        source: serde_yaml_ng::Error,
    },
    /// The front matter opens with `---` but is never closed.
    #[error("front matter in {path} is not closed by a `---` line")]
    UnclosedFrontMatter {
        /// The file.
        path: PathBuf,
    },
    /// The file extension is not one we know how to read.
    #[error(
        "{path}: unsupported file type (expected .md, .markdown, .txt, .html, .htm, .pdf or .docx)"
    )]
    Unsupported {
        /// The file.
        path: PathBuf,
    },
    /// A PDF, DOCX or HTML file could not be decoded (corrupt, encrypted,
    /// not what its extension says, or without any text).
    #[error("cannot read {path} as {format}: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The format we tried (`PDF`, `DOCX`, `HTML`).
        format: &'static str,
        /// What went wrong, in words.
        reason: String,
    },
}

/// Result alias for corpus operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One source document, as written by its author.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// Path relative to the corpus root, `/`-separated; stable across
    /// machines, so it can appear in passage ids and citations.
    pub id: String,
    /// Title from the front matter, else the first `#` heading (Markdown) or
    /// first line (text), else derived from the file name.
    pub title: String,
    /// Publication date, ISO `YYYY-MM-DD`, when known.
    pub date: Option<String>,
    /// Address of the original, when known.
    pub url: Option<String>,
    /// Free-text description of where the document comes from, when known.
    pub source: Option<String>,
    /// Subject tags from the front matter.
    pub tags: Vec<String>,
    /// Language code, `fr` unless the front matter says otherwise.
    pub language: String,
    /// First day the document's offer applies (`valid_from` in the front
    /// matter), ISO `YYYY-MM-DD`.
    pub valid_from: Option<String>,
    /// Last day to apply (`deadline` in the front matter), ISO `YYYY-MM-DD`.
    pub deadline: Option<String>,
    /// Sections in reading order.
    pub sections: Vec<Section>,
}

/// A run of paragraphs under one heading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// The heading text; `None` for text that precedes the first heading.
    pub heading: Option<String>,
    /// Paragraphs in order, typography normalised; each list item is its own
    /// paragraph.
    pub paragraphs: Vec<String>,
    /// The page of a paginated original (PDF) the section's text is on,
    /// from 1; a section that runs over a page break is split in two.
    pub page: Option<u32>,
}

impl Section {
    /// A section without a page, for the readers' tests.
    #[cfg(test)]
    pub(crate) fn of(heading: Option<&str>, paragraphs: &[&str]) -> Section {
        Section {
            heading: heading.map(str::to_string),
            paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
            page: None,
        }
    }

    /// Ends a parse: keeps the section being filled unless it is empty, and
    /// drops the separator table rows end with (« a | b | ») from every
    /// paragraph. Shared by the Markdown and HTML readers.
    pub(crate) fn close_all(mut sections: Vec<Section>, current: Section) -> Vec<Section> {
        if current.heading.is_some() || !current.paragraphs.is_empty() {
            sections.push(current);
        }
        for paragraph in sections.iter_mut().flat_map(|s| s.paragraphs.iter_mut()) {
            if let Some(stripped) = paragraph.strip_suffix(" |") {
                *paragraph = stripped.to_string();
            }
        }
        sections
    }
}

/// The unit that is indexed, retrieved and cited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    /// Stable id: document id, section index and paragraph index (plus a
    /// piece index when a long paragraph was cut), e.g. `news.md#s2.p0`.
    pub id: String,
    /// The [`Document::id`] it comes from.
    pub doc_id: String,
    /// The document's title.
    pub doc_title: String,
    /// The heading of the section it belongs to, if any.
    pub section: Option<String>,
    /// The document's date, ISO `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The document's URL.
    pub url: Option<String>,
    /// The document's source description.
    pub source: Option<String>,
    /// The passage text: its sentences joined by single spaces.
    pub text: String,
    /// The passage cut into sentences, in order.
    pub sentences: Vec<String>,
    /// The page of the original it is printed on (PDF), from 1.
    pub page: Option<u32>,
    /// The document's application deadline, ISO `YYYY-MM-DD`, if any.
    pub deadline: Option<String>,
    /// Position of the passage within its document, from 0; consecutive
    /// passages of a document have consecutive orders.
    pub order: usize,
}

impl Passage {
    /// A passage of one sentence, first of document `doc_id` (titled
    /// « Titre »), for unit tests.
    #[cfg(test)]
    pub(crate) fn of_sentence(doc_id: &str, text: &str) -> Self {
        Self {
            id: format!("{doc_id}#s0.p0"),
            doc_id: doc_id.into(),
            doc_title: "Titre".into(),
            section: None,
            date: None,
            url: None,
            source: None,
            text: text.into(),
            sentences: vec![text.into()],
            page: None,
            deadline: None,
            order: 0,
        }
    }

    /// A passage of `sentences` under `section`, first of a document titled
    /// « Titre », for unit tests.
    #[cfg(test)]
    pub(crate) fn of_sentences(section: &str, sentences: &[&str]) -> Self {
        Self {
            section: Some(section.into()),
            text: sentences.join(" "),
            sentences: sentences.iter().map(|s| s.to_string()).collect(),
            ..Self::of_sentence("doc", "")
        }
    }

    /// The section heading, or the document title for text before the
    /// first heading: what a citation names.
    pub fn heading(&self) -> &str {
        self.section.as_deref().unwrap_or(&self.doc_title)
    }
}
