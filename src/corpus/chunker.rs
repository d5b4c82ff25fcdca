//! Cuts documents into passages: one per paragraph, long paragraphs cut at
//! sentence boundaries.
//!
//! A passage is what the reader sees in a citation and what the re-ranker
//! scores, so it must be self-contained (it carries its document title,
//! section heading, date and source) and short enough for a 270M model's
//! context (at most [`MAX_PASSAGE_WORDS`] words). Pure; depends only on the
//! sentence splitter.

use super::sentences::split_sentences;
use super::{Document, Passage};

/// Upper bound on the words of one passage. A paragraph longer than this is
/// cut into pieces of similar size at sentence boundaries.
pub const MAX_PASSAGE_WORDS: usize = 120;

/// Cuts every document into passages, documents in the given order.
pub fn chunk_documents(documents: &[Document]) -> Vec<Passage> {
    documents.iter().flat_map(chunk_document).collect()
}

/// Cuts one document into passages, in reading order, with `order` counting
/// from 0.
pub fn chunk_document(document: &Document) -> Vec<Passage> {
    let mut passages = Vec::new();
    for (si, section) in document.sections.iter().enumerate() {
        for (pi, paragraph) in section.paragraphs.iter().enumerate() {
            let pieces = pack_sentences(split_sentences(paragraph), MAX_PASSAGE_WORDS);
            let cut = pieces.len() > 1;
            for (ci, sentences) in pieces.into_iter().enumerate() {
                let id = if cut {
                    format!("{}#s{si}.p{pi}.c{ci}", document.id)
                } else {
                    format!("{}#s{si}.p{pi}", document.id)
                };
                passages.push(Passage {
                    id,
                    doc_id: document.id.clone(),
                    doc_title: document.title.clone(),
                    section: section.heading.clone(),
                    date: document.date.clone(),
                    url: document.url.clone(),
                    source: document.source.clone(),
                    text: sentences.join(" "),
                    sentences,
                    page: section.page,
                    deadline: document.deadline.clone(),
                    order: passages.len(),
                });
            }
        }
    }
    passages
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Groups sentences into pieces of at most `max_words` words, balanced so
/// that a long paragraph does not end with a stub. A single sentence longer
/// than `max_words` is first cut at word boundaries.
fn pack_sentences(sentences: Vec<String>, max_words: usize) -> Vec<Vec<String>> {
    let sentences: Vec<String> = sentences
        .into_iter()
        .flat_map(|s| cut_long_sentence(s, max_words))
        .collect();
    let total: usize = sentences.iter().map(|s| word_count(s)).sum();
    if sentences.is_empty() {
        return Vec::new();
    }
    if total <= max_words {
        return vec![sentences];
    }
    let pieces_needed = total.div_ceil(max_words);
    let target = total.div_ceil(pieces_needed);

    let mut pieces = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut current_words = 0;
    for sentence in sentences {
        let words = word_count(&sentence);
        if !current.is_empty() && (current_words + words > max_words || current_words >= target) {
            pieces.push(std::mem::take(&mut current));
            current_words = 0;
        }
        current_words += words;
        current.push(sentence);
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// Cuts a sentence longer than `max_words` into word-aligned parts of equal
/// size; shorter sentences pass through.
fn cut_long_sentence(sentence: String, max_words: usize) -> Vec<String> {
    let words: Vec<&str> = sentence.split_whitespace().collect();
    if words.len() <= max_words {
        return vec![sentence];
    }
    let parts = words.len().div_ceil(max_words);
    let size = words.len().div_ceil(parts);
    words.chunks(size).map(|chunk| chunk.join(" ")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Section;

    fn doc(sections: Vec<(Option<&str>, Vec<String>)>) -> Document {
        Document {
            id: "dossier/news.md".into(),
            title: "Lettre".into(),
            date: Some("2025-12-31".into()),
            url: Some("https://example.org/news".into()),
            source: Some("Newsletter".into()),
            tags: vec![],
            language: "fr".into(),
            valid_from: None,
            deadline: None,
            sections: sections
                .into_iter()
                .map(|(heading, paragraphs)| Section {
                    heading: heading.map(str::to_string),
                    paragraphs,
                    page: None,
                })
                .collect(),
        }
    }

    /// A paragraph of `n` sentences of `words` words each.
    fn paragraph(n: usize, words: usize) -> String {
        (0..n)
            .map(|i| {
                let body = vec!["mot"; words - 1].join(" ");
                format!("Phrase{i} {body}.")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn one_passage_per_paragraph_with_metadata() {
        let d = doc(vec![
            (None, vec!["Introduction. Suite.".into()]),
            (
                Some("Événements"),
                vec!["Premier.".into(), "Second point".into()],
            ),
        ]);
        let passages = chunk_document(&d);
        assert_eq!(passages.len(), 3);
        assert_eq!(passages[0].id, "dossier/news.md#s0.p0");
        assert_eq!(passages[0].section, None);
        assert_eq!(passages[0].sentences, ["Introduction.", "Suite."]);
        assert_eq!(passages[2].id, "dossier/news.md#s1.p1");
        assert_eq!(passages[2].section.as_deref(), Some("Événements"));
        assert_eq!(passages[2].text, "Second point");
        for (i, p) in passages.iter().enumerate() {
            assert_eq!(p.order, i);
            assert_eq!(p.doc_id, "dossier/news.md");
            assert_eq!(p.doc_title, "Lettre");
            assert_eq!(p.date.as_deref(), Some("2025-12-31"));
            assert_eq!(p.url.as_deref(), Some("https://example.org/news"));
            assert_eq!(p.source.as_deref(), Some("Newsletter"));
        }
    }

    #[test]
    fn ids_are_stable_across_runs() {
        let d = doc(vec![(Some("A"), vec![paragraph(3, 10), paragraph(20, 15)])]);
        let first: Vec<String> = chunk_document(&d).into_iter().map(|p| p.id).collect();
        let second: Vec<String> = chunk_document(&d).into_iter().map(|p| p.id).collect();
        assert_eq!(first, second);
        let unique: std::collections::HashSet<_> = first.iter().collect();
        assert_eq!(unique.len(), first.len());
    }

    #[test]
    fn long_paragraph_is_cut_at_sentence_boundaries() {
        let text = paragraph(20, 15); // 300 words
        let d = doc(vec![(Some("A"), vec![text.clone()])]);
        let passages = chunk_document(&d);
        assert_eq!(
            passages.len(),
            3,
            "300 words need three pieces of at most 120"
        );
        for (ci, p) in passages.iter().enumerate() {
            assert_eq!(p.id, format!("dossier/news.md#s0.p0.c{ci}"));
            let words = word_count(&p.text);
            assert!(words <= MAX_PASSAGE_WORDS, "{words} words");
            assert!(words >= 90, "pieces are balanced, got {words} words");
            assert!(p.text.ends_with('.'), "cut at a sentence end: {}", p.text);
            assert_eq!(p.text, p.sentences.join(" "));
        }
        let rejoined: Vec<String> = passages.iter().map(|p| p.text.clone()).collect();
        assert_eq!(rejoined.join(" "), text);
    }

    #[test]
    fn paragraph_at_the_limit_is_not_cut() {
        let text = paragraph(8, 15); // exactly 120 words
        assert_eq!(chunk_document(&doc(vec![(None, vec![text])])).len(), 1);
    }

    #[test]
    fn giant_sentence_is_cut_at_words() {
        let words: Vec<String> = (0..250).map(|i| format!("w{i}")).collect();
        let text = words.join(" ");
        let passages = chunk_document(&doc(vec![(None, vec![text.clone()])]));
        assert_eq!(passages.len(), 3);
        assert!(passages
            .iter()
            .all(|p| word_count(&p.text) <= MAX_PASSAGE_WORDS));
        let rejoined: Vec<String> = passages.into_iter().map(|p| p.text).collect();
        assert_eq!(rejoined.join(" "), text);
    }

    #[test]
    fn order_continues_across_sections_and_pieces() {
        let d = doc(vec![
            (Some("A"), vec![paragraph(20, 15)]),
            (Some("B"), vec!["Fin.".into()]),
        ]);
        let orders: Vec<usize> = chunk_document(&d).iter().map(|p| p.order).collect();
        assert_eq!(orders, [0, 1, 2, 3]);
    }

    #[test]
    fn empty_paragraphs_and_sections_yield_nothing() {
        let d = doc(vec![
            (Some("Vide"), vec![]),
            (Some("Blanc"), vec!["   ".into()]),
        ]);
        assert!(chunk_document(&d).is_empty());
    }

    #[test]
    fn several_documents_keep_their_own_order() {
        let mut second = doc(vec![(None, vec!["Autre.".into()])]);
        second.id = "autre.md".into();
        let passages = chunk_documents(&[
            doc(vec![(None, vec!["Un.".into(), "Deux.".into()])]),
            second,
        ]);
        let keys: Vec<(&str, usize)> = passages
            .iter()
            .map(|p| (p.doc_id.as_str(), p.order))
            .collect();
        assert_eq!(
            keys,
            [
                ("dossier/news.md", 0),
                ("dossier/news.md", 1),
                ("autre.md", 0)
            ]
        );
    }
}
