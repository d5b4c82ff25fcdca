//! What each section of the documents is about, learnt from its words: a
//! short message after an answer may follow it up (« et c plafonné à
//! combien ») or change the subject (« le datathon c'était quand »).
//!
//! Both are short and name little, so the count of a message's words does
//! not tell them apart. Its words do: « datathon » is said in one section
//! of the documents, and the section about Impulsion Export never says it.
//! A word said in few sections names a subject; a message that names one
//! the previous answer's section does not hold has moved on, and is read
//! alone rather than with that section's topic.

use std::collections::{HashMap, HashSet};

use super::question::ENGLISH_GRAMMAR;
use crate::corpus::Passage;
use crate::search;

/// A word said in more documents than this is common ground (« aide »,
/// « entreprise », « plafonné »), not the name of a subject.
const MOST_DOCUMENTS_OF_A_SUBJECT: usize = 3;

/// The words of every section, by the topic a follow-up is searched with
/// (the document's title and the section's heading), and how many
/// sections say each word.
#[derive(Debug, Default)]
pub struct Subjects {
    words_of: HashMap<String, HashSet<String>>,
    documents_saying: HashMap<String, usize>,
    /// The words of names: of the documents' titles, and capitalised
    /// within a sentence (« L'Atrium », « BOOST AI »). A rare common word
    /// (« montant », « durée ») names no subject: « ok et le montant max ? »
    /// follows up.
    name_words: HashSet<String>,
}

impl Subjects {
    /// Gathers the analysed words of each section of `passages`: its
    /// title, heading and sentences.
    pub fn new(passages: &[Passage]) -> Self {
        let mut words_of: HashMap<String, HashSet<String>> = HashMap::new();
        let mut name_words = HashSet::new();
        for passage in passages {
            name_words.extend(search::analyze(&passage.doc_title));
            for sentence in &passage.sentences {
                let capitalised = sentence
                    .split_whitespace()
                    .skip(1)
                    .filter(|word| word.starts_with(char::is_uppercase));
                for word in capitalised {
                    name_words.extend(search::analyze(word));
                }
            }
            let topic = topic_of(passage);
            let words = words_of.entry(topic).or_insert_with(|| {
                let heading = passage.section.as_deref().unwrap_or_default();
                search::analyze(&format!("{} {heading}", passage.doc_title))
                    .into_iter()
                    .collect()
            });
            words.extend(search::analyze(&passage.text));
        }
        let mut documents_saying: HashMap<String, HashSet<&str>> = HashMap::new();
        for passage in passages {
            for word in search::analyze(&format!("{} {}", passage.doc_title, passage.text)) {
                documents_saying
                    .entry(word)
                    .or_default()
                    .insert(passage.doc_id.as_str());
            }
        }
        let documents_saying = documents_saying
            .into_iter()
            .map(|(word, documents)| (word, documents.len()))
            .collect();
        Self {
            words_of,
            documents_saying,
            name_words,
        }
    }

    /// Whether a message whose analysed words are `terms` names a subject
    /// that the section of topic `previous` does not speak of. An unknown
    /// topic (a question nothing answered) says nothing: false.
    pub fn moves_on_from(&self, previous: &str, terms: &[String]) -> bool {
        let Some(said_before) = self.words_of.get(previous) else {
            return false;
        };
        let new_subject = terms
            .iter()
            .find(|term| self.names_a_subject(term) && !said_before.contains(*term));
        if let Some(term) = new_subject {
            tracing::debug!(term, previous, "the message names another subject");
        }
        new_subject.is_some()
    }

    /// Whether `terms` name a subject of the documents at all: « et
    /// impulsion export c combien max » does not point back, whatever its
    /// « et ».
    pub fn names_one(&self, terms: &[String]) -> bool {
        terms.iter().any(|term| self.names_a_subject(term))
    }

    /// A word of a name, said in a few documents. Numbers are left out (« et en 2024 ? »
    /// asks the same subject at another time), and so are letters and
    /// English grammar, which the French analyzer keeps: « how much can i
    /// get » names nothing.
    fn names_a_subject(&self, term: &str) -> bool {
        term.chars().count() >= 3
            && !term.bytes().all(|b| b.is_ascii_digit())
            && !ENGLISH_GRAMMAR.contains(&term)
            && self.name_words.contains(term)
            && self
                .documents_saying
                .get(term)
                .is_some_and(|&documents| documents <= MOST_DOCUMENTS_OF_A_SUBJECT)
    }
}

/// The topic a follow-up to an answer from `passage` is searched with:
/// the document's title and the section's heading.
pub fn topic_of(passage: &Passage) -> String {
    match &passage.section {
        Some(section) => format!("{} {section}", passage.doc_title),
        None => passage.doc_title.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(doc_id: &str, title: &str, heading: &str, text: &str) -> Passage {
        Passage {
            doc_title: title.into(),
            section: Some(heading.into()),
            ..Passage::of_sentence(doc_id, text)
        }
    }

    fn subjects() -> Subjects {
        Subjects::new(&[
            section(
                "export",
                "Impulsion Export",
                "Montant",
                "Le montant de la subvention est plafonné à 75 000 euros en Normandie.",
            ),
            section(
                "conseil",
                "Impulsion Conseil",
                "Montant",
                "Le montant est plafonné à 15 000 euros en Normandie.",
            ),
            section(
                "news",
                "Newsletter",
                "Datathon",
                "Le Datathon Normandie a réuni 80 participants en Normandie en 2025.",
            ),
            section(
                "news",
                "Newsletter",
                "Forum",
                "Le forum a réuni des soignants en Normandie en 2025.",
            ),
            section(
                "expo",
                "Exposition",
                "Lieu",
                "Elle est à Rouen en Normandie, à L'Atrium.",
            ),
        ])
    }

    fn terms(message: &str) -> Vec<String> {
        crate::answer::question::content_terms(message)
    }

    #[test]
    fn a_name_the_last_section_does_not_say_moves_on() {
        let subjects = subjects();
        let after_export = "Impulsion Export Montant";
        assert!(subjects.moves_on_from(after_export, &terms("le datathon c'était quand")));
        assert!(subjects.moves_on_from(after_export, &terms("et l'atrium c ou")));
        // Another section of the same document is another subject too.
        assert!(subjects.moves_on_from("Newsletter Forum", &terms("et le datathon ?")));
        assert!(!subjects.moves_on_from("Newsletter Datathon", &terms("et le datathon ?")));
    }

    #[test]
    fn rare_common_words_numbers_and_english_grammar_follow_up() {
        let subjects = subjects();
        let after_export = "Impulsion Export Montant";
        // « réuni » is said in one document only, but names nothing.
        assert!(!subjects.moves_on_from(after_export, &terms("ça a réuni combien ?")));
        assert!(!subjects.moves_on_from(after_export, &terms("et en 2025 ?")));
        assert!(!subjects.moves_on_from(after_export, &terms("how much can i get")));
        // A word of every document is no subject.
        assert!(!subjects.moves_on_from(after_export, &terms("et en normandie ?")));
    }

    #[test]
    fn an_unknown_previous_topic_says_nothing() {
        let subjects = subjects();
        assert!(!subjects.moves_on_from("Inconnu", &terms("le datathon c'était quand")));
    }

    #[test]
    fn a_message_that_names_a_subject_does_not_point_back() {
        let subjects = subjects();
        assert!(subjects.names_one(&terms("et impulsion export c combien max")));
        assert!(!subjects.names_one(&terms("et c plafonné à combien ?")));
    }
}
