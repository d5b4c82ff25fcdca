//! The reader: picks the sentence that answers, from the passages retrieval
//! found, and decides whether it really does.
//!
//! Measured on this model and corpus (`shared/research/reader.md`): lexical
//! ranking alone puts the answer sentence first 9 times in 13; re-ranking the
//! top five by the model's query likelihood (how likely the question is after
//! reading the sentence) 11 in 13; adding the neighbouring sentence when the
//! best one leans on it (« Ce projet… ») covers the rest. Abstention rests on
//! three signals: the share of the question's content words the answer
//! covers, whether it holds the kind of fact asked for, and how much reading
//! the sentence raises the question's likelihood (PMI).

use std::collections::{HashMap, HashSet};

use crate::corpus::Passage;
use crate::search::{self, Hit};

use super::question::AnswerType;
use super::synonyms::{self, coverage};
use super::text::fold;

/// Words that make a sentence lean on the one before it.
const COREFERENCES: [&str; 16] = [
    "ce", "cet", "cette", "ces", "il", "elle", "ils", "elles", "celui-ci", "celle-ci", "cela",
    "ceci", "lui", "leur", "son", "sa",
];

/// Sentence-level document frequencies over the whole corpus, for weighting
/// the question's words by how rare they are.
#[derive(Debug, Default, Clone)]
pub struct SentenceStats {
    document_frequency: HashMap<String, usize>,
    sentences: usize,
}

impl SentenceStats {
    /// Counts, for each analysed term, the sentences that contain it.
    pub fn new(passages: &[Passage]) -> Self {
        let mut stats = Self::default();
        for passage in passages {
            for sentence in &passage.sentences {
                stats.sentences += 1;
                let terms: HashSet<String> = search::analyze(sentence).into_iter().collect();
                for term in terms {
                    *stats.document_frequency.entry(term).or_default() += 1;
                }
            }
        }
        stats
    }

    /// Whether the corpus mentions `term` at all: itself, a word of the
    /// same meaning, or, for a long enough term, a word one edit away or
    /// one it extends (a misspelling at the kiosk: « destinaton » is not
    /// stemmed like « destination »).
    pub fn knows(&self, term: &str) -> bool {
        const LONG: usize = 5;
        synonyms::alternatives(term)
            .iter()
            .any(|t| self.document_frequency.contains_key(t))
            || (term.chars().count() >= LONG
                && self.document_frequency.keys().any(|known| {
                    strsim::levenshtein(term, known) <= 1
                        || (known.chars().count() >= LONG && term.starts_with(known.as_str()))
                }))
    }

    /// Inverse document frequency (BM25's, kept positive).
    pub fn idf(&self, term: &str) -> f32 {
        let n = self.sentences as f32;
        let df = self.document_frequency.get(term).copied().unwrap_or(0) as f32;
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }
}

/// A sentence that may answer, with the passage it comes from.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Rank of its passage in the retrieval results.
    pub hit: usize,
    /// Index of the sentence within its passage.
    pub sentence: usize,
    /// Lexical score: the rarity-weighted question words it holds.
    pub lexical: f32,
    /// Cosine similarity of its meaning to the question's, when the corpus
    /// has meaning vectors.
    pub semantic: Option<f32>,
}

/// How much holding the kind of fact asked for weighs when choosing the
/// sentences the model re-ranks: about one moderately rare question word.
const ANSWER_TYPE_BONUS: f32 = 2.0;

/// How much closeness in meaning weighs when choosing the sentences the
/// model re-ranks: 0.1 of cosine similarity (the gap between a sentence on
/// the question's subject and one merely near it) counts as one moderately
/// rare question word.
const SEMANTIC_WEIGHT: f32 = 20.0;

/// The sentences of the retrieved passages worth re-ranking, `limit` at
/// most: best lexical matches first, where a sentence that holds the kind
/// of fact asked for (an amount for « quel plafond ? ») ranks as if it held
/// one more question word, so that the answer is not crowded out by
/// sentences that only repeat the question's words.
pub fn candidates(
    hits: &[Hit],
    question: &str,
    question_terms: &[String],
    answer_type: AnswerType,
    stats: &SentenceStats,
    similarity: &dyn Fn(&Passage, usize) -> Option<f32>,
    limit: usize,
) -> Vec<Candidate> {
    let mut found = Vec::new();
    let mut selection_score = Vec::new();
    for (hit_rank, hit) in hits.iter().enumerate() {
        let heading_terms: HashSet<String> = search::analyze(&format!(
            "{} {}",
            hit.passage.doc_title,
            hit.passage.heading()
        ))
        .into_iter()
        .collect();
        for (index, sentence) in hit.passage.sentences.iter().enumerate() {
            let terms: HashSet<String> = search::analyze(sentence).into_iter().collect();
            let mut lexical = 0.0;
            for term in question_terms {
                if synonyms::contains(&terms, term) {
                    lexical += stats.idf(term);
                } else if synonyms::contains(&heading_terms, term) {
                    // The heading says what the paragraph is about; a word
                    // found there counts, but less than in the sentence.
                    lexical += 0.5 * stats.idf(term);
                }
            }
            // Earlier passages were ranked higher by the search engine.
            lexical += 0.01 * (hits.len() - hit_rank) as f32;
            let typed =
                answer_type != AnswerType::Open && answer_type.is_answered_by(sentence, question);
            let semantic = similarity(&hit.passage, index);
            selection_score.push(
                lexical
                    + if typed { ANSWER_TYPE_BONUS } else { 0.0 }
                    + semantic.map_or(0.0, |cosine| SEMANTIC_WEIGHT * cosine),
            );
            found.push(Candidate {
                hit: hit_rank,
                sentence: index,
                lexical,
                semantic,
            });
        }
    }
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by(|&a, &b| selection_score[b].total_cmp(&selection_score[a]));
    order.truncate(limit);
    order.into_iter().map(|i| found[i].clone()).collect()
}

/// The sentences to quote for `candidate`: the sentence itself, the one
/// before when it starts by referring back (« Ce projet… »), the one after
/// when that one continues it, or when the sentence announces a list.
pub fn window(passage: &Passage, sentence: usize) -> (usize, usize) {
    let sentences = &passage.sentences;
    let mut start = sentence;
    let mut end = sentence + 1;
    if sentence > 0 && leans_back(&sentences[sentence]) {
        start = sentence - 1;
    }
    if let Some(next) = sentences.get(end) {
        if leans_back(next) || sentences[sentence].trim_end().ends_with(':') {
            end += 1;
        }
    }
    (start, end.min(sentences.len()))
}

/// Whether a sentence starts with a word that refers to what came before.
pub fn leans_back(sentence: &str) -> bool {
    let first = sentence
        .split_whitespace()
        .next()
        .map(|w| super::text::fold(w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-')))
        .unwrap_or_default();
    COREFERENCES.contains(&first.as_str())
}

/// From this share of a question's content words unknown to the corpus,
/// the question is taken to be about something else (see
/// [`Evidence::answers`]).
const FOREIGN_SHARE: f32 = 1.0 / 3.0;

/// From this cosine similarity, a sentence is taken to be about what the
/// question asks even when it shares few of its words.
const SIMILAR: f32 = 0.6;

/// The evidence the abstention rule weighs for one candidate answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// Share of the question's content words found in the answer, its
    /// section or its document title.
    pub coverage: f32,
    /// Whether the answer holds the kind of fact asked for.
    pub type_ok: bool,
    /// Whether the answer only counts the things whose names are asked
    /// (see [`QuestionWords::only_counts_the_things_asked`]); `type_ok` is
    /// then false.
    pub only_counts: bool,
    /// How much reading the answer raises the question's mean
    /// log-likelihood (pointwise mutual information), in nats per token.
    pub pmi: f32,
    /// The share of the question's content words the corpus never
    /// mentions (« se garer », « cafétéria »).
    pub foreign_share: f32,
    /// Cosine similarity of the answer's meaning to the question's, when
    /// the corpus has meaning vectors.
    pub similarity: Option<f32>,
    /// The rarity-weighted share of the question's words that the corpus
    /// uses but the answer does not (see [`missing_known`]).
    pub missing_known: f32,
}

impl Evidence {
    /// The abstention rule. Coverage of at least half the content words and
    /// the right answer type separated answerable from unanswerable questions
    /// on the measured set; PMI guards the borderline coverage band, where a
    /// sentence shares the words but not the subject.
    /// A question that is largely about something the corpus never
    /// mentions cannot lean on PMI: the model finds « Où se garer près de
    /// l'agence ? » likely after any sentence about the agency. One
    /// unfamiliar word in a longer question is more often a paraphrase
    /// (« pourcentage » for « 50 % »), so it takes a third of the words.
    pub fn answers(&self) -> bool {
        let lexical = self.coverage >= 0.5
            && (self.is_well_covered() || (self.pmi >= 1.0 && self.foreign_share < FOREIGN_SHARE));
        let by_meaning = self.similarity.is_some_and(|s| s >= SIMILAR);
        self.type_ok && (lexical || by_meaning)
    }

    /// Whether the answer covers enough of the question to stand without
    /// the PMI guard.
    pub fn is_well_covered(&self) -> bool {
        self.coverage >= 0.66
    }
}

/// What the corpus statistics say of a question's content words, read
/// once per question (knowing a word scans the corpus vocabulary for its
/// misspellings) and shared by every candidate answer.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionWords {
    /// The question's content words.
    pub terms: Vec<String>,
    /// The share of them the corpus never mentions.
    pub foreign_share: f32,
    /// Those the corpus mentions, with their rarity (idf).
    pub known: Vec<(String, f32)>,
    /// Those that only tell the visitor's own situation (« boulangère »,
    /// « 4 mois » in « je suis boulangère, j'ai ouvert il y a 4 mois, je
    /// peux demander l'aide ? »): a sentence that holds them is the closer
    /// for it, one that lacks them misses nothing asked.
    pub told: HashSet<String>,
    /// Those that only say what kind of fact is asked (« jour » in « c'était
    /// quel jour », « monde » in « ya eu cb de monde »): the date or the
    /// count answers without them, so a sentence that lacks them misses
    /// nothing asked.
    pub of_the_kind: HashSet<String>,
    /// For the terms read by meaning (what an English question counts),
    /// the corpus terms whose words mean the same by the embedding model
    /// (« emplois » for « jobs »).
    pub near: HashMap<String, Vec<String>>,
    /// The term of what an English question counts (« jobs » in « how many
    /// jobs… »), when it can be looked for by meaning.
    pub counted: Option<String>,
    /// The term of the things whose names the question asks for
    /// (« entreprises » in « quelles entreprises… ? », see
    /// [`question::instances_asked`](super::question::instances_asked)).
    pub instances: Option<String>,
    /// The nouns an English visitor counts in telling their situation
    /// (« 40 permanent jobs »), each as written (folded) and as a term.
    pub told_counts: Vec<(String, String)>,
}

impl QuestionWords {
    /// Reads `terms` against `stats`.
    pub fn new(terms: Vec<String>, stats: &SentenceStats) -> Self {
        let known: Vec<(String, f32)> = terms
            .iter()
            .filter(|t| stats.knows(t))
            .map(|t| (t.clone(), stats.idf(t)))
            .collect();
        let foreign_share = if terms.is_empty() {
            0.0
        } else {
            (terms.len() - known.len()) as f32 / terms.len() as f32
        };
        Self {
            terms,
            foreign_share,
            known,
            told: HashSet::new(),
            of_the_kind: HashSet::new(),
            near: HashMap::new(),
            counted: None,
            instances: None,
            told_counts: Vec::new(),
        }
    }

    /// The same words, with the corpus terms near some of them in meaning
    /// (see [`near`](Self::near)): visitors ask in English (« jobs »), the
    /// documents say « emplois ».
    pub fn with_near_words(mut self, near: HashMap<String, Vec<String>>) -> Self {
        self.near = near;
        self
    }

    /// The same words, a sentence answering only where it speaks of
    /// `noun`, what an English question counts (« how many jobs… » is not
    /// answered by a count of companies). A French question's counted noun
    /// is checked with its kind of fact (see
    /// [`AnswerType::is_answered_by`]); an English one needs the corpus
    /// words near it in meaning, so give it only when they are known.
    pub fn with_counted(mut self, noun: Option<&str>) -> Self {
        self.counted = noun.and_then(|noun| search::analyze(noun).into_iter().next());
        self
    }

    /// The same words, a sentence answering only where it names the things
    /// `noun` asks for, not where it only counts them (« quelles entreprises
    /// ? » is not answered by « une centaine d'entreprises »). An English
    /// noun is looked for by the corpus words near it in meaning.
    pub fn with_instances_asked(mut self, noun: Option<&str>) -> Self {
        self.instances = noun.and_then(|noun| search::analyze(noun).into_iter().next());
        self
    }

    /// Whether `text` counts the things asked for without naming them: a
    /// count of them (« une centaine d'entreprises », « 12 partenaires »)
    /// with nothing after it that could list them (« : », « dont »,
    /// « notamment », « comme », a parenthesis, a series: « les 3 axes
    /// s'articulent autour de la cybersécurité, l'IA et… »).
    pub fn only_counts_the_things_asked(&self, text: &str) -> bool {
        let Some(asked) = &self.instances else {
            return false;
        };
        let folded = fold(text);
        let tokens: Vec<&str> = super::text::words(&folded).collect();
        let bounds = super::text::word_bounds(text);
        if bounds.len() != tokens.len() {
            return false;
        }
        let lists_after = |noun: usize| {
            let rest = &text[bounds[noun].1..];
            rest.contains([':', '(', ','])
                || tokens[noun + 1..].iter().any(|w| {
                    [
                        "dont",
                        "notamment",
                        "comme",
                        "et",
                        "including",
                        "such",
                        "and",
                    ]
                    .contains(w)
                })
        };
        let counts: Vec<usize> = search::analyze_words(text)
            .into_iter()
            .filter(|(term, _)| self.means(asked, term))
            .flat_map(|(_, word)| super::text::counts_of(&tokens, &fold(&word)))
            .map(|(_, noun)| noun)
            .collect();
        !counts.is_empty() && !counts.into_iter().any(lists_after)
    }

    /// The same words, those in `of_the_kind` naming the kind of fact
    /// asked rather than its topic; when every word does, all count as
    /// asked.
    pub fn with_kind_asked(mut self, of_the_kind: HashSet<String>) -> Self {
        if self
            .terms
            .iter()
            .any(|t| !of_the_kind.contains(t) && !self.told.contains(t))
        {
            self.of_the_kind = of_the_kind;
        }
        self
    }

    /// Whether `term` counts only where a sentence holds it.
    fn counts_where_held(&self, term: &str) -> bool {
        self.told.contains(term) || self.of_the_kind.contains(term)
    }

    /// The same words, those in `told` being the visitor's situation
    /// rather than what they ask; when every word is, all count as asked.
    pub fn with_situation(mut self, told: HashSet<String>) -> Self {
        if self.terms.iter().any(|t| !told.contains(t)) {
            self.told = told;
        }
        self
    }

    /// The share of the question's words `text_terms` holds: every word
    /// asked, and those of the visitor's situation only where they are held.
    fn coverage(&self, text_terms: &HashSet<String>) -> f32 {
        let counted: Vec<String> = self
            .terms
            .iter()
            .filter(|t| {
                !self.counts_where_held(t) || coverage(std::slice::from_ref(*t), text_terms) > 0.0
            })
            .cloned()
            .collect();
        coverage(&counted, text_terms)
    }

    /// Whether `text_terms` speak of what an English question counts
    /// (`counted`, see [`with_counted`](Self::with_counted)): the
    /// documents are French, so the word itself or a corpus word near it
    /// in meaning (« emplois » for « jobs »).
    fn speaks_of_what_is_counted(&self, text_terms: &HashSet<String>) -> bool {
        self.counted.as_ref().is_none_or(|counted| {
            coverage(std::slice::from_ref(counted), text_terms) > 0.0
                || text_terms.iter().any(|term| self.means(counted, term))
        })
    }

    /// Whether the corpus term `term` is `asked` or near it in meaning.
    fn means(&self, asked: &str, term: &str) -> bool {
        term == asked
            || self
                .near
                .get(asked)
                .is_some_and(|near| near.iter().any(|n| n == term))
    }

    /// The word of `text` that says what an English question counts, the
    /// same or near in meaning, folded: « entreprises » in « au sein d'une
    /// centaine d'entreprises » for « how many companies ».
    pub fn word_counted_in(&self, text: &str) -> Option<String> {
        let counted = self.counted.as_ref()?;
        search::analyze_words(text)
            .into_iter()
            .find(|(term, _)| self.means(counted, term))
            .map(|(_, word)| fold(&word))
    }

    /// The same words, with the nouns an English visitor counts in their
    /// situation (folded words, see
    /// [`question::counts_told_in_english`](super::question::counts_told_in_english)).
    pub fn with_told_counts(mut self, nouns: &[String]) -> Self {
        self.told_counts = nouns
            .iter()
            .filter_map(|noun| {
                let term = search::analyze(noun).into_iter().next()?;
                Some((noun.clone(), term))
            })
            .collect();
        self
    }

    /// For each noun an English visitor counts, the word of `text` that
    /// means it, folded: (« jobs », « emplois »).
    pub fn told_counts_in(&self, text: &str) -> Vec<(String, String)> {
        // Asked of every candidate: most questions tell no count.
        if self.told_counts.is_empty() {
            return Vec::new();
        }
        let said = search::analyze_words(text);
        self.told_counts
            .iter()
            .filter_map(|(noun, term)| {
                let (_, word) = said.iter().find(|(t, _)| self.means(term, t))?;
                Some((noun.clone(), fold(word)))
            })
            .collect()
    }

    /// Whether `text_terms` hold a word of the visitor's situation, when
    /// they told one in words the corpus uses: a rule that says nothing of
    /// a property manager does not tell whether a property manager may
    /// apply. Words the corpus never uses (an English « insurance broker »)
    /// cannot be looked for.
    fn touches_situation(&self, text_terms: &HashSet<String>) -> bool {
        let mut told_known = self
            .known
            .iter()
            .filter(|(t, _)| self.told.contains(t))
            .peekable();
        // As in `SentenceStats::knows`, a word that starts with a long
        // enough word of the text holds it (« exporting », « export »).
        let holds = |term: &str| {
            coverage(&[term.to_string()], text_terms) > 0.0
                || text_terms
                    .iter()
                    .any(|t| t.chars().count() >= 5 && term.starts_with(t.as_str()))
        };
        told_known.peek().is_none() || told_known.any(|(t, _)| holds(t))
    }

    fn missing_known(&self, text_terms: &HashSet<String>) -> f32 {
        let asked: Vec<(String, f32)> = self
            .known
            .iter()
            .filter(|(t, _)| !self.counts_where_held(t))
            .cloned()
            .collect();
        missing_known(&asked, text_terms)
    }
}

/// Evidence that `text`, found under `heading` (document title and
/// section), answers `question`, the visitor's own words: a fact they
/// named is no answer. `words` are the content words searched, which for a
/// follow-up include the topic handed on from the previous answer (a
/// title such as « … à Caen » names the very place a follow-up asks for).
pub fn evidence(
    question: &str,
    words: &QuestionWords,
    answer_type: AnswerType,
    (heading, text): (&str, &str),
    pmi: f32,
    similarity: Option<f32>,
) -> Evidence {
    let terms: HashSet<String> = search::analyze(&format!("{heading} {text}"))
        .into_iter()
        .collect();
    let only_counts = words.only_counts_the_things_asked(text);
    Evidence {
        coverage: words.coverage(&terms),
        type_ok: answer_type.is_answered_by(text, question)
            && words.speaks_of_what_is_counted(&terms)
            && !only_counts
            && (answer_type != AnswerType::Condition || words.touches_situation(&terms)),
        only_counts,
        pmi,
        foreign_share: words.foreign_share,
        similarity,
        missing_known: words.missing_known(&terms),
    }
}

/// Candidates ordered by closeness in meaning, words counting half as
/// much (both in standard units among the candidates); the PMI, which
/// needs the model's scoring pass, is left at 0.
pub fn rank_by_meaning(candidates: Vec<Candidate>) -> Vec<(Candidate, f32, f32)> {
    let semantic: Vec<f32> = candidates
        .iter()
        .map(|c| c.semantic.unwrap_or(0.0))
        .collect();
    let lexical: Vec<f32> = candidates.iter().map(|c| c.lexical).collect();
    let (z_semantic, z_lexical) = (standardize(&semantic), standardize(&lexical));
    let mut ranked: Vec<(Candidate, f32, f32)> = candidates
        .into_iter()
        .enumerate()
        .map(|(i, c)| (c, z_semantic[i] + 0.5 * z_lexical[i], 0.0))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
}

/// The rarity-weighted share of the question's words that the corpus uses
/// but the answer (with its section and title) does not: a question about
/// « le directeur actuel » when the sentence names « le premier directeur »
/// misses a word the documents would have used. Words the corpus never
/// uses (a visitor's own wording) do not count: they are paraphrases more
/// often than missing facts.
pub fn missing_known(known: &[(String, f32)], text_terms: &HashSet<String>) -> f32 {
    let (mut missing, mut total) = (0.0, 0.0);
    for (term, weight) in known {
        total += weight;
        if coverage(std::slice::from_ref(term), text_terms) == 0.0 {
            missing += weight;
        }
    }
    if total > 0.0 {
        missing / total
    } else {
        0.0
    }
}

/// Standard scores (mean 0, deviation 1), so signals on different scales
/// can be added; all zeros when the values do not vary.
pub fn standardize(values: &[f32]) -> Vec<f32> {
    let n = values.len() as f32;
    if values.is_empty() {
        return Vec::new();
    }
    let mean = values.iter().sum::<f32>() / n;
    let deviation = (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / n).sqrt();
    if deviation < 1e-6 {
        return vec![0.0; values.len()];
    }
    values.iter().map(|v| (v - mean) / deviation).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::question;

    fn passage(sentences: &[&str]) -> Passage {
        Passage::of_sentences("Section", sentences)
    }

    #[test]
    fn a_sentence_that_refers_back_brings_its_antecedent() {
        let p = passage(&[
            "La Région soutient le projet X.",
            "Ce projet réunit 12 partenaires.",
            "Fin.",
        ]);
        assert_eq!(window(&p, 1), (0, 2));
        assert_eq!(
            window(&p, 0),
            (0, 2),
            "the next sentence continues the first"
        );
        assert_eq!(window(&p, 2), (2, 3));
    }

    #[test]
    fn abstention_needs_coverage_and_type() {
        let good = Evidence {
            coverage: 0.75,
            type_ok: true,
            only_counts: false,
            pmi: 0.2,
            foreign_share: 0.0,
            similarity: None,
            missing_known: 0.0,
        };
        assert!(good.answers());
        // Close in meaning answers without the words, never without the type.
        let paraphrase = Evidence {
            coverage: 0.2,
            similarity: Some(0.7),
            ..good
        };
        assert!(paraphrase.answers());
        assert!(!Evidence {
            type_ok: false,
            ..paraphrase
        }
        .answers());
        assert!(!Evidence {
            similarity: Some(0.3),
            ..paraphrase
        }
        .answers());
        assert!(!Evidence {
            type_ok: false,
            ..good
        }
        .answers());
        assert!(!Evidence {
            coverage: 0.4,
            ..good
        }
        .answers());
        assert!(!Evidence {
            coverage: 0.5,
            pmi: 0.3,
            ..good
        }
        .answers());
        assert!(Evidence {
            coverage: 0.5,
            pmi: 2.0,
            ..good
        }
        .answers());
        assert!(!Evidence {
            coverage: 0.5,
            pmi: 2.0,
            foreign_share: 0.5,
            ..good
        }
        .answers());
        assert!(Evidence {
            coverage: 0.5,
            pmi: 2.0,
            foreign_share: 0.2,
            ..good
        }
        .answers());
        assert!(Evidence {
            foreign_share: 0.5,
            ..good
        }
        .answers());
    }

    #[test]
    fn the_corpus_knows_its_words_their_misspellings_and_synonyms_only() {
        let stats = SentenceStats::new(&[passage(&[
            "L'exposition Destination IA ouvre à Rouen.",
            "Le parking est gratuit.",
        ])]);
        let foreign = |q: &str| QuestionWords::new(search::analyze(q), &stats).foreign_share;
        assert_eq!(foreign("exposition Rouen"), 0.0);
        assert_eq!(
            foreign("expositon destinaton"),
            0.0,
            "misspelt, or stemmed apart from the corpus's word"
        );
        assert_eq!(foreign("cafétéria Rouen"), 0.5);
        assert_eq!(foreign(""), 0.0);
        // Only known words weigh in what a sentence misses.
        let words = QuestionWords::new(search::analyze("cafétéria Rouen"), &stats);
        assert_eq!(words.known.len(), 1);
        let sentence: HashSet<String> = search::analyze("Le parking est gratuit.")
            .into_iter()
            .collect();
        assert_eq!(missing_known(&words.known, &sentence), 1.0);
    }

    #[test]
    fn the_visitor_s_situation_counts_only_where_a_sentence_holds_it() {
        let stats = SentenceStats::new(&[passage(&[
            "Le dispositif vise les entreprises ayant au moins 6 mois d'activité.",
            "Le dispositif aide les commerces à passer au numérique.",
            "La gestion immobilière est exclue.",
        ])]);
        let analyzed =
            |text: &str| -> HashSet<String> { search::analyze(text).into_iter().collect() };
        let question = "boulangère ouvert 4 mois demander dispositif numérique";
        let told = analyzed("boulangère ouvert 4 mois");
        let words = QuestionWords::new(search::analyze(question), &stats).with_situation(told);
        let rule = analyzed("Le dispositif vise les entreprises ayant au moins 6 mois d'activité.");
        let description = analyzed("Le dispositif aide les commerces à passer au numérique.");
        // Asked: « demander », « dispositif », « numérique »; « mois » is told
        // and counts for the sentence that holds it.
        assert_eq!(words.coverage(&description), 2.0 / 3.0);
        assert_eq!(words.coverage(&rule), 2.0 / 4.0);
        assert!(words.touches_situation(&rule));
        assert!(!words.touches_situation(&description));
        // What is told is not missed.
        assert_eq!(words.missing_known(&description), 0.0);
        // When everything is told, everything is asked.
        let all_told = QuestionWords::new(search::analyze("boulangère ouvert"), &stats)
            .with_situation(analyzed("boulangère ouvert"));
        assert!(all_told.told.is_empty());
        // Told words the corpus never uses cannot be looked for.
        let english = QuestionWords::new(search::analyze("insurance broker apply"), &stats)
            .with_situation(analyzed("insurance broker"));
        assert!(english.touches_situation(&analyzed("La gestion immobilière est exclue.")));
    }

    #[test]
    fn a_count_of_the_things_asked_does_not_name_them() {
        let counted = "Le projet réunit 12 partenaires (et des écoles) au sein d'une centaine d'entreprises bêta-testeuses.";
        let listed = "Le projet réunit 3 entreprises : Alpha, Beta et Gamma.";
        let stats = SentenceStats::new(&[passage(&[counted, listed])]);
        let question = "quelles entreprises testent le projet ?";
        let words = QuestionWords::new(search::analyze(question), &stats)
            .with_instances_asked(question::instances_asked(question).as_deref());
        assert!(
            words.only_counts_the_things_asked(counted),
            "a parenthesis before the count lists nothing"
        );
        assert!(!words.only_counts_the_things_asked(listed));
        let series = "Les 3 entreprises du projet sont dans le cyber, l'IA et la santé.";
        assert!(!words.only_counts_the_things_asked(series));
        assert!(!words.only_counts_the_things_asked("Alpha et Beta testent le projet."));
        let how_many = QuestionWords::new(search::analyze("combien d'entreprises ?"), &stats);
        assert!(!how_many.only_counts_the_things_asked(counted));
        // In English, by the corpus words near in meaning.
        let companies = search::analyze("companies").remove(0);
        let entreprises = search::analyze("entreprises").remove(0);
        let english = QuestionWords::new(search::analyze("which companies test it"), &stats)
            .with_near_words(HashMap::from([(companies, vec![entreprises])]))
            .with_instances_asked(Some("companies"));
        assert!(english.only_counts_the_things_asked(counted));
    }

    #[test]
    fn an_english_count_is_answered_where_a_word_near_in_meaning_is_counted() {
        let stats = SentenceStats::new(&[passage(&["Le projet crée au moins 30 emplois."])]);
        let analyzed =
            |text: &str| -> HashSet<String> { search::analyze(text).into_iter().collect() };
        let jobs = analyzed("Le projet crée au moins 30 emplois.");
        let companies = analyzed("Plus de 200 entreprises ont été aidées.");
        let question = search::analyze("how many jobs created");
        let unchecked = QuestionWords::new(question.clone(), &stats);
        assert!(unchecked.speaks_of_what_is_counted(&companies));
        let job = search::analyze("jobs").remove(0);
        let emploi = search::analyze("emplois").remove(0);
        let words = QuestionWords::new(question, &stats)
            .with_near_words(HashMap::from([(job, vec![emploi])]))
            .with_counted(Some("jobs"));
        assert!(words.speaks_of_what_is_counted(&jobs));
        assert!(!words.speaks_of_what_is_counted(&companies));
        assert!(words.speaks_of_what_is_counted(&analyzed("Deux jobs d'été.")));
        assert_eq!(
            words
                .word_counted_in("Le projet crée au moins 30 emplois.")
                .as_deref(),
            Some("emplois")
        );
        assert_eq!(words.word_counted_in("Plus de 200 entreprises."), None);
    }

    #[test]
    fn the_words_of_the_kind_asked_are_not_missed() {
        let stats = SentenceStats::new(&[passage(&[
            "La première édition s'est tenue le 9 octobre 2025 à Caen.",
            "Chaque jour, une conférence.",
        ])]);
        let asked = "les assises, c'était quel jour ?";
        let of_the_kind = question::words_of_the_kind_asked(asked, AnswerType::of(asked));
        assert_eq!(of_the_kind, search::analyze("jour").into_iter().collect());
        let words =
            QuestionWords::new(question::content_terms(asked), &stats).with_kind_asked(of_the_kind);
        let date: HashSet<String> =
            search::analyze("La première édition s'est tenue le 9 octobre 2025 à Caen.")
                .into_iter()
                .collect();
        assert_eq!(words.missing_known(&date), 0.0);
        // An open question may be about the very word.
        let open = "c'est quoi le lieu";
        assert!(question::words_of_the_kind_asked(open, AnswerType::of(open)).is_empty());
    }

    #[test]
    fn standard_scores_center_and_scale() {
        let z = standardize(&[1.0, 2.0, 3.0]);
        assert!((z[1]).abs() < 1e-6 && z[2] > 1.0 && z[0] < -1.0);
        assert_eq!(standardize(&[2.0, 2.0]), vec![0.0, 0.0]);
    }
}
