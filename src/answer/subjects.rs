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
use super::text::spaced_words;
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
    /// Names of two words or more, folded and spaced (« ad normandie »,
    /// « normandie numerique »): made of words every document says, they
    /// still name one thing.
    names: HashSet<String>,
    /// The folded, spaced text of every section, by topic.
    text_of: HashMap<String, String>,
}

impl Subjects {
    /// Gathers the analysed words of each section of `passages`: its
    /// title, heading and sentences.
    pub fn new(passages: &[Passage]) -> Self {
        let mut words_of: HashMap<String, HashSet<String>> = HashMap::new();
        let mut text_of: HashMap<String, String> = HashMap::new();
        let mut name_words = HashSet::new();
        let mut names = HashSet::new();
        for passage in passages {
            name_words.extend(search::analyze(&passage.doc_title));
            names.extend(multi_word_names(&passage.doc_title, 0));
            for sentence in &passage.sentences {
                names.extend(multi_word_names(sentence, 1));
            }
            let heading = passage.section.as_deref().unwrap_or_default();
            let section_text = text_of
                .entry(topic_of(passage))
                .or_insert_with(|| spaced_words(&format!("{} {heading}", passage.doc_title)));
            section_text.push_str(spaced_words(&passage.text).trim_start());
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
            names,
            text_of,
        }
    }

    /// Whether a message whose analysed words are `terms` names a subject
    /// that the section of topic `previous` does not speak of. An unknown
    /// topic (a question nothing answered) says nothing: false.
    pub fn moves_on_from(&self, previous: &str, message: &str, terms: &[String]) -> bool {
        let (Some(said_before), Some(text_before)) =
            (self.words_of.get(previous), self.text_of.get(previous))
        else {
            return false;
        };
        if let Some(name) = self
            .names_in(message)
            .find(|name| !text_before.contains(name.as_str()))
        {
            tracing::debug!(name, previous, "the message names another subject");
            return true;
        }
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
    pub fn names_one(&self, message: &str, terms: &[String]) -> bool {
        terms.iter().any(|term| self.names_a_subject(term)) || self.names_a_name(message)
    }

    /// Whether `term` (as the index analyses words) is said in a few
    /// documents only: « assurance », not « entreprise ».
    pub fn is_said_in_few_documents(&self, term: &str) -> bool {
        self.documents_saying
            .get(term)
            .is_some_and(|&documents| documents <= MOST_DOCUMENTS_OF_A_SUBJECT)
    }

    /// Whether `message` names something by a name of two words or more
    /// (« impulsion conseil », « ad normandie »).
    pub fn names_a_name(&self, message: &str) -> bool {
        self.names_in(message).next().is_some()
    }

    /// The names of two words or more that `message` holds, spaced.
    fn names_in<'a>(&'a self, message: &str) -> impl Iterator<Item = &'a String> {
        let spaced = spaced_words(message);
        self.names
            .iter()
            .filter(move |name| spaced.contains(name.as_str()))
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
            && self.is_said_in_few_documents(term)
    }
}

/// The names of two capitalised words or more in `text`, from its word
/// `first` on (a sentence's first word is capitalised anyway), folded and
/// spaced: « géré par l'AD Normandie » gives « ad normandie ». A leading
/// article is no part of the name, and punctuation ends one (« Rouen,
/// Caen » is a list).
fn multi_word_names(text: &str, first: usize) -> Vec<String> {
    let mut names = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let mut close = |run: &mut Vec<&str>| {
        if run.len() >= 2 {
            names.push(spaced_words(&run.join(" ")));
        }
        run.clear();
    };
    for (at, raw) in text.split_whitespace().enumerate() {
        let word = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let word = word
            .split_once(['\'', '’'])
            .map_or(word, |(_, after)| after);
        let capitalised = at >= first
            && word.chars().next().is_some_and(char::is_uppercase)
            && !(run.is_empty() && ARTICLES.contains(&word));
        if capitalised {
            run.push(word);
        } else {
            close(&mut run);
        }
        if raw.ends_with(|c: char| !c.is_alphanumeric()) {
            close(&mut run);
        }
    }
    close(&mut run);
    names
}

const ARTICLES: [&str; 4] = ["Le", "La", "Les", "The"];

/// The topic a follow-up to an answer from `passage` is searched with:
/// the document's title and the section's heading. The visitor's own
/// first question is a worse topic: its question words (« c'était où »)
/// pull the follow-up towards the fact already given, and its
/// misspellings match nothing.
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

    fn moves(subjects: &Subjects, previous: &str, message: &str) -> bool {
        let terms = crate::answer::question::content_terms(message);
        subjects.moves_on_from(previous, message, &terms)
    }

    fn names(subjects: &Subjects, message: &str) -> bool {
        let terms = crate::answer::question::content_terms(message);
        subjects.names_one(message, &terms)
    }

    #[test]
    fn a_name_the_last_section_does_not_say_moves_on() {
        let subjects = subjects();
        let after_export = "Impulsion Export Montant";
        assert!(moves(&subjects, after_export, "le datathon c'était quand"));
        assert!(moves(&subjects, after_export, "et l'atrium c ou"));
        // Another section of the same document is another subject too.
        assert!(moves(&subjects, "Newsletter Forum", "et le datathon ?"));
        assert!(!moves(&subjects, "Newsletter Datathon", "et le datathon ?"));
    }

    #[test]
    fn rare_common_words_numbers_and_english_grammar_follow_up() {
        let subjects = subjects();
        let after_export = "Impulsion Export Montant";
        // « réuni » is said in one document only, but names nothing.
        assert!(!moves(&subjects, after_export, "ça a réuni combien ?"));
        assert!(!moves(&subjects, after_export, "et en 2025 ?"));
        assert!(!moves(&subjects, after_export, "how much can i get"));
        // A word of every document is no subject.
        assert!(!moves(&subjects, after_export, "et en normandie ?"));
    }

    #[test]
    fn a_name_of_common_words_names_one_thing() {
        let subjects = Subjects::new(&[
            section(
                "export",
                "Impulsion Export",
                "Le dispositif",
                "Il est géré par l'AD Normandie, avec la Région Normandie.",
            ),
            section(
                "news",
                "Newsletter",
                "Forum",
                "Le forum de la Région Normandie a réuni des soignants.",
            ),
            section(
                "agency",
                "AD Normandie, l'agence",
                "Siège",
                "Son siège est à Colombelles, en Normandie.",
            ),
        ]);
        assert!(moves(&subjects, "Newsletter Forum", "ad normandie c ou"));
        assert!(!moves(
            &subjects,
            "Impulsion Export Le dispositif",
            "ad normandie c ou"
        ));
        assert!(names(&subjects, "l'ad normandie c quoi"));
        assert_eq!(
            multi_word_names("Le DataLab Normandie, Rouen, Caen et Le Havre", 0),
            vec![" datalab normandie "]
        );
    }

    #[test]
    fn an_unknown_previous_topic_says_nothing() {
        let subjects = subjects();
        assert!(!moves(&subjects, "Inconnu", "le datathon c'était quand"));
    }

    #[test]
    fn a_message_that_names_a_subject_does_not_point_back() {
        let subjects = subjects();
        assert!(names(&subjects, "et impulsion export c combien max"));
        assert!(!names(&subjects, "et c plafonné à combien ?"));
    }
}
