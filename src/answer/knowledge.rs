//! What the pipeline knows of the corpus beyond the search index, rebuilt
//! whenever the corpus is: sentence statistics, spellings, names, the
//! passages as they may be quoted, and the questions it can suggest, with
//! their meaning vectors.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::language::Language;
use super::reader::SentenceStats;
use super::semantic::CorpusVectors;
use super::spelling::Spelling;
use super::subjects::Subjects;
use super::{compose, guard, names};
use crate::corpus::{Passage, SuggestedQuestion};
use crate::search::{SentenceVectors, WordVectors};

/// What the pipeline knows of the corpus beyond the index: sentence
/// statistics for ranking and the questions it can suggest.
pub(super) struct Knowledge {
    pub(super) stats: SentenceStats,
    /// How the documents spell their words, to spell visitors' the same.
    pub(super) spelling: Arc<Spelling>,
    /// The families of names the documents give (« Impulsion … »).
    pub(super) names: Arc<names::Names>,
    /// What each section speaks of, to tell a follow-up from a new subject.
    pub(super) subjects: Arc<Subjects>,
    pub(super) topics: Vec<String>,
    /// The words of the documents' titles, as the index analyses them:
    /// the names of what can be asked about (« Impulsion Export »).
    pub(super) title_terms: Arc<HashSet<String>>,
    /// The staff's suggested questions that the documents answer.
    pub(super) questions: Vec<SuggestedQuestion>,
    /// Every passage as it may be quoted (sentences that give the
    /// assistant orders taken out), in the order `vectors` indexes them.
    pub(super) passages: Arc<Vec<Passage>>,
    /// Where each passage is in `passages`, by id.
    pub(super) passage_index: HashMap<String, usize>,
    /// The sentences' meaning vectors, once computed (never without an
    /// embedding model).
    pub(super) vectors: Option<Arc<SentenceVectors>>,
    /// The vocabulary's meaning vectors, computed with `vectors`.
    pub(super) words: Option<Arc<WordVectors>>,
    /// The suggested questions' meaning vectors, in French and in English,
    /// in the order of `questions` (with `vectors`, when they could be
    /// computed).
    pub(super) question_vectors: Option<Arc<QuestionVectors>>,
}

/// Meaning vectors of the suggested questions, one per question and language.
pub(super) struct QuestionVectors {
    pub(super) french: Vec<Vec<f32>>,
    pub(super) english: Vec<Vec<f32>>,
}

impl Knowledge {
    pub(super) fn new(passages: &[Passage], questions: Vec<SuggestedQuestion>) -> Self {
        // Said once per corpus load rather than at each question that
        // retrieves them: staff should remove what someone slipped in.
        let mut poisoned = HashSet::new();
        for passage in passages {
            if guard::carries_instructions(passage) && poisoned.insert(passage.doc_id.as_str()) {
                tracing::warn!(
                    document = %passage.doc_id,
                    "the document gives orders to the assistant; those sentences are never used"
                );
            }
        }
        let mut seen = HashSet::new();
        let topics = passages
            .iter()
            .filter_map(|p| p.section.as_deref().map(|s| s.trim().to_string()))
            .filter(|s| !guard::instructs_the_assistant(s))
            .filter(|s| !s.is_empty() && seen.insert(s.clone()))
            .collect();
        let quotable: Vec<Passage> = passages
            .iter()
            .cloned()
            .filter_map(guard::without_instructions)
            .collect();
        let (questions, stale): (Vec<_>, Vec<_>) = questions
            .into_iter()
            .partition(|question| question.is_answered_by(&quotable));
        for question in stale {
            tracing::warn!(
                question = %question.fr,
                source = %question.source,
                answer = %question.answer,
                "suggested question no longer answered by its document; not offered"
            );
        }
        let passage_index = quotable
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let title_terms = passages
            .iter()
            .flat_map(|p| crate::search::analyze(&p.doc_title))
            .collect();
        Self {
            stats: SentenceStats::new(passages),
            title_terms: Arc::new(title_terms),
            spelling: Arc::new(Spelling::new(passages)),
            names: Arc::new(names::Names::new(passages)),
            subjects: Arc::new(Subjects::new(passages)),
            topics,
            questions,
            passages: Arc::new(quotable),
            passage_index,
            vectors: None,
            words: None,
            question_vectors: None,
        }
    }

    /// The same knowledge with the sentences' and words' vectors, and the
    /// suggested questions' when they were computed.
    pub(super) fn with_vectors(
        &self,
        vectors: CorpusVectors,
        question_vectors: Option<QuestionVectors>,
    ) -> Self {
        Self {
            stats: self.stats.clone(),
            spelling: Arc::clone(&self.spelling),
            names: Arc::clone(&self.names),
            subjects: Arc::clone(&self.subjects),
            topics: self.topics.clone(),
            title_terms: Arc::clone(&self.title_terms),
            questions: self.questions.clone(),
            passages: Arc::clone(&self.passages),
            passage_index: self.passage_index.clone(),
            vectors: Some(Arc::new(vectors.sentences)),
            words: Some(Arc::new(vectors.words)),
            question_vectors: question_vectors.map(Arc::new),
        }
    }

    /// The `count` suggested questions nearest in meaning to `vector`, in
    /// `language`, leaving out those `left_out` says; `None` without their
    /// vectors.
    pub(super) fn suggestions_near(
        &self,
        language: Language,
        vector: &[f32],
        count: usize,
        left_out: impl Fn(&SuggestedQuestion) -> bool,
    ) -> Option<Vec<String>> {
        let near = self.question_vectors.as_ref()?;
        let vectors = match language {
            Language::French => &near.french,
            Language::English => &near.english,
        };
        if vectors.len() != self.questions.len() {
            return None;
        }
        let mut order: Vec<(f32, &SuggestedQuestion)> = vectors
            .iter()
            .map(|v| crate::llm::embedding::cosine(v, vector))
            .zip(&self.questions)
            .collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0));
        Some(
            order
                .into_iter()
                .filter(|(_, question)| !left_out(question))
                .take(count)
                .map(|(_, question)| match language {
                    Language::French => question.fr.clone(),
                    Language::English => question.en.clone(),
                })
                .collect(),
        )
    }

    /// `count` questions to suggest in `language`, from the `start`-th
    /// on (wrapping): the staff's list when there is one, else questions
    /// about headings spread over the corpus.
    pub(super) fn suggestions(
        &self,
        language: Language,
        count: usize,
        start: usize,
    ) -> Vec<String> {
        if !self.questions.is_empty() {
            let all = &self.questions;
            return (0..count.min(all.len()))
                .map(|i| &all[(start + i) % all.len()])
                .map(|question| match language {
                    Language::French => question.fr.clone(),
                    Language::English => question.en.clone(),
                })
                .collect();
        }
        let step = (self.topics.len() / count.max(1)).max(1);
        self.topics
            .iter()
            .step_by(step)
            .take(count)
            .map(|topic| compose::question_about(language, &format!("« {topic} »")))
            .collect()
    }
}
