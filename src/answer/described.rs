//! An aid the visitor describes instead of naming: « l'aide pour payer un
//! consultant, c combien max », « le prêt de la région pour acheter des
//! machines, ya des intérêts ? », « is there a grant for solar panels? ».
//!
//! Visitors rarely know the programmes' names. Read alone, such a question
//! meets its detail (« combien max ») in every programme's page, and the
//! sentence nearest in meaning is any programme's ceiling. What it describes
//! is told by a whole document: the one whose sentences, taken together,
//! are nearest the question. When one document is clearly nearer than the
//! others, the question is read as if it had named it, as a follow-up is
//! read with the topic it follows.
//!
//! A programme that fits the description may leave out what the visitor
//! told of their case: « I own an insurance brokerage and would like to
//! bring in a consultant » describes Impulsion Conseil, which excludes
//! « la finance, l'assurance et la gestion immobilière ». Its exclusion is
//! then the reply, shown as what the documents say, not the programme.
//!
//! A question's aid words alone can choose a document: « la subvention
//! pour les panneaux solaires c combien mini » is nearest the page that
//! speaks most of subsidies' amounts, Impulsion Conseil. So a question that
//! asks a fact of the aid is read with the document only when the document
//! says one of the visitor's words; an open one gets the document's
//! description, which names the programme for the visitor to judge.

use std::collections::{HashMap, HashSet};

use super::text::spaced_words;
use crate::corpus::Passage;
use crate::search::{self, SentenceVectors};

/// Words a visitor asks for an aid with, folded (« aidés » is « aides »).
const AID_WORDS: [&str; 25] = [
    "aide",
    "aides",
    "aider",
    "aidee",
    "aidees",
    "pret",
    "prets",
    "subvention",
    "subventions",
    "financement",
    "financements",
    "financer",
    "dispositif",
    "soutien",
    "soutenir",
    "grant",
    "grants",
    "loan",
    "loans",
    "funding",
    "fund",
    "subsidy",
    "scheme",
    "aid",
    "support",
];

/// How many of a document's sentences nearest the question speak for it:
/// one is any programme's ceiling or rate; three are what it is about.
const SENTENCES_OF_A_DOCUMENT: usize = 3;

/// How much nearer the chosen document must be than the next one. Chosen
/// on the training halves (visitors, visitors2, English, eligibility,
/// whichaid): at 0.03 and 0.04 a question the documents do not answer was
/// read with a programme and answered; at 0.07 two answers were lost.
const LEAD: f32 = 0.05;

/// What a programme's sentence leaves out, folded and spaced: the words
/// after « mais pas » or « sauf » (« …du matériel informatique, mais pas
/// les imprimantes, les écrans… »: the software it names is aided), or
/// the whole sentence that says « exclu » (« Le foncier et l'immobilier
/// sont exclus. »). `None` for a sentence that excludes nothing.
pub fn excluded_part(sentence: &str) -> Option<String> {
    let spaced = spaced_words(sentence);
    // « Seule la prospection de nouveaux pays est aidée, pas celle des
    // pays où l'entreprise vend déjà » excludes by a qualifier its words
    // do not carry (« pays » alone is what is aided): left out.
    for marker in [" mais pas ", " sauf "] {
        if let Some(at) = spaced.find(marker) {
            return Some(spaced[at + marker.len() - 1..].to_string());
        }
    }
    spaced
        .split_whitespace()
        .any(|word| word.starts_with("exclu"))
        .then_some(spaced)
}

/// The first sentence of document `doc_id` whose excluded part (see
/// [`excluded_part`]) says one of `told`, the terms of what the visitor
/// told or asked (as the index analyses them), when the document says that
/// term nowhere else: its passage, and the sentence. « ni le petit matériel » does
/// not exclude « les petits commerces » from a programme for « très
/// petites entreprises ».
pub fn exclusion_of<'a>(
    passages: &'a [Passage],
    doc_id: &str,
    told: &HashSet<String>,
) -> Option<(&'a Passage, &'a str)> {
    let mut said_elsewhere: HashSet<String> = HashSet::new();
    let mut exclusions: Vec<(&'a Passage, &'a str, Vec<String>)> = Vec::new();
    for passage in passages.iter().filter(|p| p.doc_id == doc_id) {
        said_elsewhere.extend(search::analyze(&passage.doc_title));
        for sentence in &passage.sentences {
            let spaced = spaced_words(sentence);
            let kept = match excluded_part(sentence) {
                Some(part) => {
                    let kept = spaced.replacen(&part, " ", 1);
                    exclusions.push((passage, sentence, search::analyze(&part)));
                    kept
                }
                None => spaced,
            };
            said_elsewhere.extend(search::analyze(&kept));
        }
    }
    exclusions
        .into_iter()
        .find(|(_, _, excluded)| {
            excluded
                .iter()
                .any(|term| told.contains(term) && !said_in(&said_elsewhere, term))
        })
        .map(|(passage, sentence, _)| (passage, sentence))
}

/// Whether `terms` hold `term`, or a word of three letters or more that
/// starts it or that it starts: the stemmer cuts « petites » to « pet » but
/// keeps « petit », and the exclusion must not hang on that.
fn said_in(terms: &HashSet<String>, term: &str) -> bool {
    terms.contains(term)
        || terms.iter().any(|said| {
            said.chars().count().min(term.chars().count()) >= 3
                && (said.starts_with(term) || term.starts_with(said.as_str()))
        })
}

/// Whether the document of `described` (any of its passages) says one of
/// `told` (terms as the index analyses them) in its title or its text.
pub fn says_any(passages: &[Passage], described: &Passage, told: &HashSet<String>) -> bool {
    let says = |text: &str| search::analyze(text).iter().any(|t| told.contains(t));
    says(&described.doc_title)
        || passages
            .iter()
            .filter(|passage| passage.doc_id == described.doc_id)
            .any(|passage| says(&passage.text))
}

/// Whether `message` already names the document titled `title`: it holds
/// more than half of the title's terms (« un projet de soutien à
/// l'innovation en collaboration »). Retrieval finds a named document by
/// itself; « aide export » names too little of « Impulsion Export ».
pub fn names_the_title(message: &str, title: &str) -> bool {
    let said: HashSet<String> = search::analyze(message).into_iter().collect();
    let title: HashSet<String> = search::analyze(title).into_iter().collect();
    let named = title.iter().filter(|term| said.contains(*term)).count();
    2 * named > title.len()
}

/// Whether `message` asks for an aid by one of the words any aid is asked
/// with (« aide », « prêt », « grant »…).
pub fn asks_for_an_aid(message: &str) -> bool {
    spaced_words(message)
        .split_whitespace()
        .any(|word| AID_WORDS.contains(&word))
}

/// The document `question` (a meaning vector) describes, when
/// one is nearer it than every other by [`LEAD`]: each document is scored
/// by the mean similarity of its [`SENTENCES_OF_A_DOCUMENT`] sentences
/// nearest the question.
pub fn document_described<'a>(
    vectors: &SentenceVectors,
    passages: &'a [Passage],
    question: &[f32],
) -> Option<&'a Passage> {
    let mut nearest_of: HashMap<&str, (&'a Passage, Vec<f32>)> = HashMap::new();
    for (at, similarity) in vectors.nearest(question, vectors.len()) {
        let Some(passage) = passages.get(at.passage) else {
            continue;
        };
        let (_, similarities) = nearest_of
            .entry(passage.doc_id.as_str())
            .or_insert_with(|| (passage, Vec::new()));
        if similarities.len() < SENTENCES_OF_A_DOCUMENT {
            similarities.push(similarity);
        }
    }
    let mut scored: Vec<(&Passage, f32)> = nearest_of
        .into_values()
        .map(|(passage, similarities)| {
            let mean = similarities.iter().sum::<f32>() / similarities.len() as f32;
            (passage, mean)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    tracing::debug!(
        scored = ?scored.iter().map(|(p, s)| (&p.doc_title, s)).collect::<Vec<_>>(),
        "documents by the question's nearest sentences"
    );
    match scored.as_slice() {
        [(passage, first), (_, second), ..] if first - second >= LEAD => Some(passage),
        [(passage, _)] => Some(passage),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::SentenceAt;

    #[test]
    fn an_aid_is_asked_for_by_any_of_its_words_in_either_language() {
        for asked in [
            "aide pour payer un consultant cb max",
            "le pret de la region pour acheter des machines ya des interets",
            "la région peut m'aider jusqu'à combien ?",
            "Is there a grant for solar panels?",
            "any loan for buying machines",
        ] {
            assert!(asks_for_an_aid(asked), "{asked}");
        }
        for not_asked in ["c quoi le datathon", "l'atrium c grand comment ?"] {
            assert!(!asks_for_an_aid(not_asked), "{not_asked}");
        }
    }

    fn passage(doc_id: &str, title: &str, sentences: usize) -> Passage {
        Passage {
            doc_title: title.into(),
            sentences: (0..sentences).map(|i| format!("Phrase {i}.")).collect(),
            ..Passage::of_sentence(doc_id, "Phrase.")
        }
    }

    fn vectors(rows: &[(usize, usize, [f32; 2])]) -> SentenceVectors {
        let mut vectors = SentenceVectors::new(2);
        for &(passage, sentence, vector) in rows {
            vectors.push(SentenceAt { passage, sentence }, &vector);
        }
        vectors
    }

    #[test]
    fn the_document_described_is_the_one_whose_nearest_sentences_are_near_together() {
        let passages = [
            passage("conseil", "Impulsion Conseil", 3),
            passage("export", "Impulsion Export", 3),
        ];
        // Export holds the single nearest sentence (its ceiling), Conseil
        // the three that are about the question.
        let vectors = vectors(&[
            (0, 0, [0.8, 0.6]),
            (0, 1, [0.8, 0.6]),
            (0, 2, [0.8, 0.6]),
            (1, 0, [1.0, 0.0]),
            (1, 1, [0.0, 1.0]),
            (1, 2, [0.0, 1.0]),
        ]);
        let described = document_described(&vectors, &passages, &[1.0, 0.0]);
        assert_eq!(
            described.map(|p| p.doc_title.as_str()),
            Some("Impulsion Conseil")
        );
    }

    #[test]
    fn no_document_is_described_when_two_are_about_as_near() {
        let passages = [
            passage("conseil", "Impulsion Conseil", 1),
            passage("export", "Impulsion Export", 1),
        ];
        let vectors = vectors(&[(0, 0, [0.8, 0.6]), (1, 0, [0.78, 0.62])]);
        assert!(document_described(&vectors, &passages, &[1.0, 0.0]).is_none());
    }

    #[test]
    fn what_a_sentence_leaves_out_is_after_its_but_not_or_all_of_it_when_it_excludes() {
        assert_eq!(
            excluded_part(
                "Le matériel informatique, mais pas les imprimantes, les écrans ni le petit matériel."
            )
            .as_deref(),
            Some(" les imprimantes les ecrans ni le petit materiel ")
        );
        assert_eq!(
            excluded_part("Le foncier et l'immobilier sont exclus.").as_deref(),
            Some(" le foncier et l immobilier sont exclus ")
        );
        assert_eq!(
            excluded_part("Le logiciel ne compte que s'il accompagne un investissement."),
            None
        );
    }

    #[test]
    fn an_exclusion_is_found_only_for_what_the_visitor_told() {
        let passages = [Passage {
            sentences: vec![
                "Elle aide les PME à faire appel à des consultants.".into(),
                "La finance, l'assurance et la gestion immobilière sont exclues.".into(),
            ],
            ..Passage::of_sentence("conseil", "Phrase.")
        }];
        let told = |words: &str| search::analyze(words).into_iter().collect::<HashSet<_>>();
        let found = exclusion_of(&passages, "conseil", &told("courtier en assurance"));
        assert_eq!(
            found.map(|(_, sentence)| sentence),
            Some("La finance, l'assurance et la gestion immobilière sont exclues.")
        );
        assert!(exclusion_of(&passages, "conseil", &told("hôtel consultant")).is_none());
        assert!(exclusion_of(&passages, "export", &told("assurance")).is_none());
    }

    #[test]
    fn a_word_the_document_says_beside_its_exclusion_is_not_excluded() {
        let passages = [Passage {
            sentences: vec![
                "Le dispositif vise les très petites entreprises.".into(),
                "Il finance des logiciels.".into(),
                "Le matériel informatique, mais pas les imprimantes ni le petit matériel.".into(),
            ],
            ..Passage::of_sentence("transition", "Phrase.")
        }];
        let told = |words: &str| search::analyze(words).into_iter().collect::<HashSet<_>>();
        assert!(exclusion_of(&passages, "transition", &told("petits commerces")).is_none());
        let found = exclusion_of(&passages, "transition", &told("imprimante"));
        assert!(found.is_some_and(|(_, sentence)| sentence.contains("imprimantes")));
    }

    #[test]
    fn a_title_is_named_by_most_of_its_words() {
        let title = "Impulsion Innovation et soutien à l'innovation en collaboration";
        assert!(names_the_title(
            "un projet de soutien à l'innovation en collaboration ?",
            title
        ));
        assert!(!names_the_title(
            "l aide export c combien",
            "Impulsion Export"
        ));
    }
}
