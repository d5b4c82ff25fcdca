//! The questions staff suggest to visitors, listed beside the documents in
//! `suggestions.toml`: each in French and English, with the document and
//! the words of the fact that answer it.
//!
//! Written by people rather than generated: a visitor taps them without
//! reading twice, so each must be a question the documents answer. The
//! `answer` field lets the pipeline check that against the documents it
//! has (see [`SuggestedQuestion::is_answered_by`]) and drop a question
//! whose fact was edited away, instead of offering it and refusing.

use std::path::Path;

use serde::Deserialize;

use super::{Error, Passage, Result};

/// The file's name in the corpus folder.
pub const FILE_NAME: &str = "suggestions.toml";

/// One suggested question.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuggestedQuestion {
    /// The question in French.
    pub fr: String,
    /// The same question in English.
    pub en: String,
    /// The answering document, relative to the corpus folder.
    pub source: String,
    /// Words of the answering sentence, as the document writes them: the
    /// fact the question asks for.
    pub answer: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SuggestionsFile {
    #[serde(default)]
    question: Vec<SuggestedQuestion>,
}

/// The questions of `corpus_dir/suggestions.toml`; none when there is no
/// such file.
pub fn load(corpus_dir: &Path) -> Result<Vec<SuggestedQuestion>> {
    let path = corpus_dir.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Io { path, source }),
    };
    let file: SuggestionsFile = toml::from_str(&text).map_err(|error| Error::Unreadable {
        path: path.clone(),
        format: "TOML",
        reason: error.to_string(),
    })?;
    for question in &file.question {
        if [
            &question.fr,
            &question.en,
            &question.source,
            &question.answer,
        ]
        .iter()
        .any(|field| field.trim().is_empty())
        {
            return Err(Error::Unreadable {
                path,
                format: "TOML",
                reason: format!("a question has an empty field: {question:?}"),
            });
        }
    }
    Ok(file.question)
}

impl SuggestedQuestion {
    /// Whether one of `passages` of the named document holds the answer's
    /// words (compared without case, accents or typographic variants).
    pub fn is_answered_by(&self, passages: &[Passage]) -> bool {
        let answer = comparable(&self.answer);
        passages
            .iter()
            .filter(|passage| passage.doc_id == self.source)
            .any(|passage| comparable(&passage.text).contains(&answer))
    }

    /// Whether `quote` holds the answer's words (compared as
    /// [`is_answered_by`](Self::is_answered_by) compares them).
    pub fn is_answered_in(&self, quote: &str) -> bool {
        comparable(quote).contains(&comparable(&self.answer))
    }
}

/// Lower case, one kind of apostrophe, one kind of space, single spaces.
fn comparable(text: &str) -> String {
    text.to_lowercase()
        .replace(['\u{2019}', '\u{2018}'], "'")
        .split(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_projects_file_parses_and_every_question_is_answered() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let questions = load(&corpus).expect("suggestions.toml parses");
        assert!(questions.len() >= 8, "{questions:?}");
        let (documents, _) = super::super::load_dir(&corpus).expect("corpus");
        let passages = super::super::chunk_documents(&documents);
        for question in &questions {
            assert!(question.is_answered_by(&passages), "{question:?}");
        }
    }

    #[test]
    fn an_answer_edited_out_of_its_document_is_noticed() {
        let question = SuggestedQuestion {
            fr: "Quand ouvre l’exposition ?".into(),
            en: "When does the exhibition open?".into(),
            source: "expo.md".into(),
            answer: "12 février 2026".into(),
        };
        let open = Passage::of_sentence("expo.md", "L’exposition ouvre le 12\u{a0}février  2026.");
        assert!(question.is_answered_by(std::slice::from_ref(&open)));
        let moved = Passage::of_sentence("expo.md", "L’exposition ouvre au printemps.");
        assert!(!question.is_answered_by(&[moved]));
        let elsewhere = Passage::of_sentence("autre.md", open.text.as_str());
        assert!(!question.is_answered_by(&[elsewhere]));
        // A quote, wherever it came from, with its own spaces and case.
        assert!(question.is_answered_in("Elle ouvre le 12\u{202f}Février 2026 à Rouen."));
        assert!(!question.is_answered_in("Elle ouvre en février."));
    }

    #[test]
    fn a_missing_file_is_no_suggestion_and_a_bad_one_an_error() {
        let dir = tempfile::tempdir().expect("dir");
        assert!(load(dir.path()).expect("no file").is_empty());
        std::fs::write(
            dir.path().join(FILE_NAME),
            "[[question]]\nfr = \"Quoi ?\"\nen = \"\"\nsource = \"a.md\"\nanswer = \"x\"\n",
        )
        .expect("write");
        assert!(load(dir.path()).is_err());
        std::fs::write(dir.path().join(FILE_NAME), "[[question]]\nfr = 3\n").expect("write");
        assert!(load(dir.path()).is_err());
    }
}
