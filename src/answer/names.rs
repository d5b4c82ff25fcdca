//! The names the documents give to things of one family (« Impulsion
//! Conseil », « Impulsion Export », « Normandie Incubation »), learnt from
//! the corpus: a question that names one is not answered from a passage
//! about another of the family.
//!
//! « Is there a minimum investment for Impulsion Innovation? » was
//! answered by « Le programme d'investissement doit atteindre au moins
//! 150 000 euros. », a sentence of the Impulsion Développement page that
//! does not name its programme. Its passage says « Impulsion
//! Développement », never « Impulsion Innovation »: it speaks of another
//! programme, as a sentence naming another year speaks of another time.

use std::collections::HashMap;

use super::text::{fold, spaced_words, words};
use crate::corpus::Passage;

/// Folded first word → the folded words that follow it in a name, when
/// the documents give it at least two (a family, not one name).
#[derive(Debug, Default)]
pub struct Names {
    families: HashMap<String, Vec<String>>,
}

impl Names {
    /// Learns the names of `passages`: two capitalised words in a row, in
    /// titles and headings anywhere, in sentences after their first word
    /// (« Pour Impulsion Conseil… » does not make « Pour » a name).
    pub fn new(passages: &[Passage]) -> Self {
        let mut families: HashMap<String, Vec<String>> = HashMap::new();
        let mut titles_seen = std::collections::HashSet::new();
        for passage in passages {
            if titles_seen.insert(passage.doc_title.as_str()) {
                note_names(&passage.doc_title, 0, &mut families);
            }
            if let Some(section) = &passage.section {
                note_names(section, 0, &mut families);
            }
            for sentence in &passage.sentences {
                note_names(sentence, 1, &mut families);
            }
        }
        families.retain(|_, members| members.len() >= 2);
        Self { families }
    }

    /// Whether `context` (a passage with its title and heading) is about
    /// another member of a family that `question` names: it names another
    /// member and not the one asked about.
    pub fn about_another(&self, question: &str, context: &str) -> bool {
        let folded = fold(question);
        let asked: Vec<&str> = words(&folded).collect();
        let spaced = spaced_words(context);
        asked.windows(2).any(|pair| {
            let (head, member) = (pair[0], pair[1]);
            let Some(members) = self.families.get(head) else {
                return false;
            };
            members.iter().any(|m| m == member)
                && !spaced.contains(&format!(" {head} {member} "))
                && members
                    .iter()
                    .any(|other| spaced.contains(&format!(" {head} {other} ")))
        })
    }
}

/// Shortest first word of a family: « Le Havre » and « Le DataLab » are
/// not one family.
const SHORTEST_HEAD: usize = 4;

/// Adds the names of `text` to `families`, from its word `first` on.
fn note_names(text: &str, first: usize, families: &mut HashMap<String, Vec<String>>) {
    let raw: Vec<&str> = text.split_whitespace().collect();
    let capitalised: Vec<Option<&str>> = raw
        .iter()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .map(|w| {
            let is_name = w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().all(char::is_alphabetic);
            is_name.then_some(w)
        })
        .collect();
    for at in first..capitalised.len().saturating_sub(1) {
        // « Caisse d'Epargne Normandie, Orange »: a list, not a name.
        let ends_a_phrase = raw[at].ends_with(|c: char| !c.is_alphanumeric());
        if let (Some(head), Some(member), false) =
            (capitalised[at], capitalised[at + 1], ends_a_phrase)
        {
            if head.chars().count() < SHORTEST_HEAD {
                continue;
            }
            let member = fold(member);
            let members = families.entry(fold(head)).or_default();
            if !members.contains(&member) {
                members.push(member);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names::new(&[
            Passage::of_sentence("a", "Le dispositif Impulsion Conseil paie un consultant."),
            Passage::of_sentence("b", "Le dispositif Impulsion Export aide à exporter."),
            Passage::of_sentence("c", "Pour Orange, la Région Normandie investit."),
            Passage::of_sentence("d", "Avec Le Havre et Le DataLab, Normandie, Orange."),
        ])
    }

    #[test]
    fn a_passage_about_a_sibling_is_about_another_thing() {
        let names = names();
        let question = "Impulsion Conseil, c'est combien ?";
        assert!(names.about_another(question, "Impulsion Export : au plus 50 000 euros."));
        assert!(!names.about_another(question, "Impulsion Conseil : au plus 50 000 euros."));
        // A passage that names neither is not known to be about another.
        assert!(!names.about_another(question, "Au plus 50 000 euros."));
        // A passage that names both may compare them.
        assert!(!names.about_another(
            question,
            "Impulsion Conseil et Impulsion Export : 50 000 euros."
        ));
    }

    #[test]
    fn one_name_is_no_family_and_a_sentence_start_is_no_name() {
        let names = names();
        assert!(!names.about_another("Région Normandie", "Région Bretagne"));
        assert!(!names.families.contains_key("pour"));
        // Too short to head a family, and a list is no name.
        assert!(!names.families.contains_key("le"));
        assert!(!names.families.contains_key("normandie"));
    }
}
