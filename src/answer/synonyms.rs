//! A small French paraphrase lexicon for the reader: questions rarely use
//! the documents' own verbs (« qui a gagné ? » against « est le lauréat »,
//! « quand commence » against « démarreront »). Each group lists words of
//! one meaning; comparison happens on the index's stems, so every
//! inflection of a listed word counts.
//! [`coverage`], the share of a question's words a text holds, reads them
//! through it.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use crate::search;

/// Groups of words that a question and a document use for the same idea.
const GROUPS: &[&[&str]] = &[
    &[
        "gagner",
        "gagné",
        "gagnant",
        "remporter",
        "remporté",
        "lauréat",
        "lauréate",
        "vainqueur",
        "primé",
        "récompensé",
    ],
    &[
        "organiser",
        "organisé",
        "organisateur",
        "porter",
        "portée",
        "piloter",
        "piloté",
        "initiative",
    ],
    &[
        "soutenir",
        "soutient",
        "soutenu",
        "soutenue",
        "soutien",
        "financer",
        "financé",
        "financement",
        "appuyer",
    ],
    &[
        "participer",
        "participé",
        "participants",
        "réunir",
        "réuni",
        "rassembler",
        "rassemblé",
    ],
    &[
        "commencer",
        "commencent",
        "démarrer",
        "démarreront",
        "débuter",
        "début",
        "lancer",
        "lancement",
        "ouvrir",
        "ouvre",
        "ouverture",
        "inaugurer",
        "inauguration",
    ],
    &[
        "créer",
        "créé",
        "création",
        "fonder",
        "fondé",
        "fondation",
        "naissance",
    ],
    &[
        "dérouler",
        "déroulé",
        "tenir",
        "tenue",
        "tenues",
        "avoir lieu",
        "lieu",
        "accueillir",
        "accueilli",
    ],
    &["exposition", "expo", "exposé"],
    &["gérer", "géré", "gérée", "gère", "gestionnaire"],
    &[
        "thème",
        "sujet",
        "consacré",
        "consacrée",
        "dédié",
        "dédiée",
        "porte sur",
    ],
    &["objectif", "but", "viser", "vise", "ambition", "promouvoir"],
    &["durer", "dure", "durée", "pendant"],
    &[
        "présenter",
        "présenté",
        "présentée",
        "animer",
        "animé",
        "intervenant",
    ],
    &[
        "partenaire",
        "partenaires",
        "partenariat",
        "membre",
        "membres",
    ],
    &["entreprise", "entreprises", "société", "sociétés", "PME"],
    &[
        "personne",
        "personnes",
        "participant",
        "participants",
        "visiteur",
        "visiteurs",
        "public",
    ],
    &["équipe", "équipes", "groupe", "groupes"],
    &["ville", "lieu", "endroit", "où"],
    &[
        "plafond",
        "plafonné",
        "plafonnée",
        "maximum",
        "maximal",
        "au plus",
    ],
];

/// For each stem, the stems of its meaning (itself included).
static MEANINGS: LazyLock<HashMap<String, HashSet<String>>> = LazyLock::new(|| {
    let mut meanings: HashMap<String, HashSet<String>> = HashMap::new();
    for group in GROUPS {
        let stems: HashSet<String> = group
            .iter()
            .flat_map(|word| search::analyze(word))
            .collect();
        for stem in &stems {
            meanings
                .entry(stem.clone())
                .or_default()
                .extend(stems.iter().cloned());
        }
    }
    meanings
});

/// The stems that mean what `term` means, `term` included.
pub fn alternatives(term: &str) -> Vec<String> {
    match MEANINGS.get(term) {
        Some(stems) => stems.iter().cloned().collect(),
        None => vec![term.to_string()],
    }
}

/// Whether `term`, or a word of the same meaning, is among `terms`.
pub fn contains(terms: &HashSet<String>, term: &str) -> bool {
    terms.contains(term)
        || MEANINGS
            .get(term)
            .is_some_and(|same| same.iter().any(|s| terms.contains(s)))
}

/// Share of `question_terms` found in `text_terms`; a misspelt term counts
/// when it is one edit away from a term of the text (kiosk visitors type
/// fast on a touch screen).
pub fn coverage(question_terms: &[String], text_terms: &HashSet<String>) -> f32 {
    if question_terms.is_empty() {
        return 0.0;
    }
    let covered = question_terms
        .iter()
        .filter(|term| {
            contains(text_terms, term)
                || (term.chars().count() >= 5
                    && text_terms.iter().any(|t| strsim::levenshtein(term, t) <= 1))
        })
        .count();
    covered as f32 / question_terms.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> HashSet<String> {
        search::analyze(text).into_iter().collect()
    }

    #[test]
    fn paraphrases_meet_on_stems() {
        let document = terms("Le projet est le lauréat de cette édition");
        let asked = search::analyze("gagné");
        assert!(contains(&document, &asked[0]));
        let document = terms("les sessions qui démarreront en janvier");
        assert!(contains(&document, &search::analyze("commencent")[0]));
    }

    #[test]
    fn unrelated_words_do_not_meet() {
        let document = terms("Le projet est le lauréat de cette édition");
        assert!(!contains(&document, &search::analyze("budget")[0]));
    }

    #[test]
    fn coverage_tolerates_one_typo() {
        let text: HashSet<String> = ["exposit", "rouen"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            coverage(&["exposis".to_string(), "rouen".to_string()], &text),
            1.0
        );
        assert_eq!(
            coverage(&["train".to_string(), "rouen".to_string()], &text),
            0.5
        );
    }
}
