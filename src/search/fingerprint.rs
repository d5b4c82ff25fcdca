//! The corpus fingerprint: a hash that changes whenever the index built from
//! a list of passages would differ.
//!
//! It covers every passage field in order plus the schema and analyzer
//! versions, so editing a document, adding one, or changing how text is
//! analysed all force a rebuild, while restarting with the same corpus does
//! not. Pure; depends only on sha2.

use sha2::{Digest, Sha256};

use super::analyzer::ANALYZER_VERSION;
use super::schema::SCHEMA_VERSION;
use crate::corpus::Passage;

/// Hex SHA-256 of the passages (all fields, in order) and of the index
/// format versions.
pub fn corpus_fingerprint(passages: &[Passage]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!(
        "eulcat-index schema={SCHEMA_VERSION} analyzer={ANALYZER_VERSION}\n"
    ));
    for passage in passages {
        // Length-prefixed fields: no two different passages hash alike by
        // moving text from one field to the next.
        let optional = |value: &Option<String>| {
            value
                .as_deref()
                .map_or(String::from("\u{0}"), str::to_string)
        };
        let fields = [
            passage.id.clone(),
            passage.doc_id.clone(),
            passage.doc_title.clone(),
            optional(&passage.section),
            optional(&passage.date),
            optional(&passage.url),
            optional(&passage.source),
            passage.text.clone(),
            passage.sentences.join("\u{1}"),
            passage.order.to_string(),
            passage
                .page
                .map_or(String::from("\u{0}"), |p| p.to_string()),
            optional(&passage.deadline),
        ];
        for field in fields {
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(text: &str) -> Passage {
        Passage::of_sentence("a.md", text)
    }

    #[test]
    fn same_passages_same_fingerprint() {
        assert_eq!(
            corpus_fingerprint(&[passage("Un.")]),
            corpus_fingerprint(&[passage("Un.")])
        );
        assert_eq!(corpus_fingerprint(&[]).len(), 64);
    }

    #[test]
    fn any_change_changes_the_fingerprint() {
        let base = corpus_fingerprint(&[passage("Un.")]);
        assert_ne!(base, corpus_fingerprint(&[passage("Deux.")]));
        assert_ne!(base, corpus_fingerprint(&[passage("Un."), passage("Un.")]));
        let mut dated = passage("Un.");
        dated.date = Some("2025-12-31".into());
        assert_ne!(base, corpus_fingerprint(&[dated]));
        let mut empty_section = passage("Un.");
        empty_section.section = Some(String::new());
        assert_ne!(
            base,
            corpus_fingerprint(&[empty_section]),
            "None and empty differ"
        );
        let mut paged = passage("Un.");
        paged.page = Some(1);
        assert_ne!(base, corpus_fingerprint(&[paged]));
    }
}
