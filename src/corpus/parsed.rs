//! What each format's parser (Markdown, plain text, HTML, PDF, DOCX) hands
//! the loader, in a file of its own so that the parsers and the loader
//! that calls them do not import each other.

use super::markdown::FrontMatter;
use super::Section;

/// What a format parser hands back: metadata, a title found in the body,
/// and the sections.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Parsed {
    pub(crate) front: FrontMatter,
    /// A title read from the text itself (first `#` heading, first line,
    /// `<title>`, a DOCX `Title` paragraph), used when the metadata has none.
    pub(crate) body_title: Option<String>,
    pub(crate) sections: Vec<Section>,
}
