//! Remembered model results, for the questions visitors ask again.
//!
//! At the kiosk the same few questions come back all day (« C'est quand,
//! l'exposition ? »). Re-ranking scores `(passage sentence, question)` pairs
//! and span extraction copies from one quotation: both are pure functions
//! of their text, because the model computes each sequence exactly as it
//! would alone, whatever else shares its batch (see `llm::attention`). So
//! their results are kept in a bounded least-recently-used table and a
//! repeated question skips the model entirely. The key is the whole text
//! the model reads, so a re-indexed corpus or a different question never
//! meets a stale entry: old keys just age out.
//!
//! A question's meaning vector is remembered too (a few tens of
//! milliseconds each on two cores, and the kiosk's suggested questions are
//! tapped all day); the corpus's vectors are kept by the answer pipeline.
//!
//! Free generation is not remembered: sampling parameters, stop sequences
//! and streaming make a cached replay a different thing from a generation.

use std::num::NonZeroUsize;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use lru::LruCache;

use super::{Backend, GenerationSummary, Score};
use crate::llm::{self, GenerationParams};

/// Remembered results: about 200 bytes of text per entry.
const DEFAULT_ENTRIES: usize = 8192;
/// Remembered vectors of visitors' messages (as questions, or sorted as
/// small talk): 3 KB each (768 values), so about 3 MB.
const QUESTION_VECTORS: usize = 1024;

/// A [`Backend`] that remembers the scores and spans of `inner`.
pub struct Memo {
    inner: Arc<dyn Backend>,
    scores: Mutex<LruCache<(String, String), Score>>,
    spans: Mutex<LruCache<(String, String, usize), String>>,
    question_vectors: Mutex<LruCache<llm::Input, Vec<f32>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// How often the memo answered instead of the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoStats {
    /// Scores, spans and question vectors served from the table.
    pub hits: u64,
    /// Scores, spans and question vectors the models had to compute.
    pub misses: u64,
}

impl Memo {
    /// Remembers up to a default number of scores and spans of `inner`.
    pub fn new(inner: Arc<dyn Backend>) -> Self {
        Self::with_capacity(inner, DEFAULT_ENTRIES)
    }

    /// Remembers up to `entries` scores and as many spans (at least one).
    pub fn with_capacity(inner: Arc<dyn Backend>, entries: usize) -> Self {
        let entries = NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN);
        Self {
            inner,
            scores: Mutex::new(LruCache::new(entries)),
            spans: Mutex::new(LruCache::new(entries)),
            question_vectors: Mutex::new(LruCache::new(
                entries.min(NonZeroUsize::new(QUESTION_VECTORS).unwrap_or(NonZeroUsize::MIN)),
            )),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> MemoStats {
        MemoStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    fn count(&self, hits: usize, misses: usize) {
        self.hits.fetch_add(hits as u64, Ordering::Relaxed);
        self.misses.fetch_add(misses as u64, Ordering::Relaxed);
    }
}

/// Whether `input`'s vector is remembered: a visitor's message comes
/// back, a corpus sentence is embedded once.
fn is_remembered(input: &llm::Input) -> bool {
    match input {
        llm::Input::Query(_) | llm::Input::Classified(_) => true,
        llm::Input::Document { .. } => false,
    }
}

/// The table, even if a thread panicked while holding it: entries are
/// inserted whole, so a poisoned table is still a consistent one.
fn table<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Backend for Memo {
    fn score(&self, prompt: &str, continuation: &str) -> Result<Score, llm::Error> {
        let pair = [(prompt.to_string(), continuation.to_string())];
        let mut scores = self.score_batch(&pair)?;
        scores
            .pop()
            .ok_or_else(|| llm::Error::InvalidRequest("no score for one pair".into()))
    }

    /// Only the pairs not remembered go to the model, still as one batch.
    fn score_batch(&self, pairs: &[(String, String)]) -> Result<Vec<Score>, llm::Error> {
        let mut results: Vec<Option<Score>> = {
            let mut scores = table(&self.scores);
            pairs.iter().map(|pair| scores.get(pair).copied()).collect()
        };
        let missing: Vec<usize> = (0..pairs.len()).filter(|&i| results[i].is_none()).collect();
        self.count(pairs.len() - missing.len(), missing.len());
        if !missing.is_empty() {
            let asked: Vec<(String, String)> = missing.iter().map(|&i| pairs[i].clone()).collect();
            let computed = self.inner.score_batch(&asked)?;
            if computed.len() != asked.len() {
                return Err(llm::Error::InvalidRequest(format!(
                    "{} scores for {} pairs",
                    computed.len(),
                    asked.len()
                )));
            }
            let mut scores = table(&self.scores);
            for ((&i, pair), score) in missing.iter().zip(asked).zip(computed) {
                scores.put(pair, score);
                results[i] = Some(score);
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    fn extract_span(
        &self,
        prompt: &str,
        source: &str,
        max_tokens: usize,
    ) -> Result<String, llm::Error> {
        let key = (prompt.to_string(), source.to_string(), max_tokens);
        if let Some(span) = table(&self.spans).get(&key).cloned() {
            self.count(1, 0);
            return Ok(span);
        }
        self.count(0, 1);
        let span = self.inner.extract_span(prompt, source, max_tokens)?;
        table(&self.spans).put(key, span.clone());
        Ok(span)
    }

    fn generate(
        &self,
        prompt: &str,
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationSummary, llm::Error> {
        self.inner.generate(prompt, params, on_text)
    }

    fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
        self.inner.count_tokens(text)
    }

    fn memo_stats(&self) -> Option<MemoStats> {
        Some(self.stats())
    }

    fn embedding_dimension(&self) -> Option<usize> {
        self.inner.embedding_dimension()
    }

    /// Visitors' messages' vectors are remembered; documents' go through
    /// (the answer pipeline keeps the corpus's vectors itself). Only the
    /// inputs not remembered go to the model, still as one batch.
    fn embed(&self, inputs: &[llm::Input]) -> Result<Vec<Vec<f32>>, llm::Error> {
        let mut results: Vec<Option<Vec<f32>>> = {
            let mut vectors = table(&self.question_vectors);
            inputs
                .iter()
                .map(|input| vectors.get(input).cloned())
                .collect()
        };
        let missing: Vec<usize> = (0..inputs.len())
            .filter(|&i| results[i].is_none())
            .collect();
        let messages_missing = missing
            .iter()
            .filter(|&&i| is_remembered(&inputs[i]))
            .count();
        self.count(inputs.len() - missing.len(), messages_missing);
        if !missing.is_empty() {
            let asked: Vec<llm::Input> = missing.iter().map(|&i| inputs[i].clone()).collect();
            let computed = self.inner.embed(&asked)?;
            if computed.len() != asked.len() {
                return Err(llm::Error::InvalidRequest(format!(
                    "{} vectors for {} texts",
                    computed.len(),
                    asked.len()
                )));
            }
            let mut vectors = table(&self.question_vectors);
            for ((&i, input), vector) in missing.iter().zip(asked).zip(computed) {
                if is_remembered(&input) {
                    vectors.put(input, vector.clone());
                }
                results[i] = Some(vector);
            }
        }
        Ok(results.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores a pair by the length of its texts and counts what it is asked.
    #[derive(Default)]
    struct Counting {
        pairs_scored: AtomicU64,
        batches: AtomicU64,
        spans: AtomicU64,
        texts_embedded: AtomicU64,
    }

    impl Backend for Counting {
        fn score(&self, prompt: &str, continuation: &str) -> Result<Score, llm::Error> {
            self.pairs_scored.fetch_add(1, Ordering::Relaxed);
            Ok(Score {
                logprob_sum: -((prompt.len() * 100 + continuation.len()) as f32),
                tokens: continuation.len(),
            })
        }

        fn score_batch(&self, pairs: &[(String, String)]) -> Result<Vec<Score>, llm::Error> {
            self.batches.fetch_add(1, Ordering::Relaxed);
            pairs.iter().map(|(p, c)| self.score(p, c)).collect()
        }

        fn extract_span(&self, prompt: &str, _: &str, max: usize) -> Result<String, llm::Error> {
            self.spans.fetch_add(1, Ordering::Relaxed);
            Ok(format!("{prompt}/{max}"))
        }

        fn generate(
            &self,
            _: &str,
            _: &GenerationParams,
            _: &mut dyn FnMut(&str) -> ControlFlow<()>,
        ) -> Result<GenerationSummary, llm::Error> {
            Err(llm::Error::InvalidRequest("not used".into()))
        }

        fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
            Ok(text.len())
        }

        /// A vector saying which text it is: its length, then 1 for a question,
        /// 2 for a message to sort, 0 for a document.
        fn embed(&self, inputs: &[llm::Input]) -> Result<Vec<Vec<f32>>, llm::Error> {
            self.texts_embedded
                .fetch_add(inputs.len() as u64, Ordering::Relaxed);
            Ok(inputs
                .iter()
                .map(|input| match input {
                    llm::Input::Query(text) => vec![text.len() as f32, 1.0],
                    llm::Input::Classified(text) => vec![text.len() as f32, 2.0],
                    llm::Input::Document { text, .. } => vec![text.len() as f32, 0.0],
                })
                .collect())
        }
    }

    fn pairs(texts: &[(&str, &str)]) -> Vec<(String, String)> {
        texts
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect()
    }

    fn memo(entries: usize) -> (Memo, Arc<Counting>) {
        let counting = Arc::new(Counting::default());
        (Memo::with_capacity(counting.clone(), entries), counting)
    }

    #[test]
    fn a_repeated_batch_is_answered_from_memory_with_the_same_scores() {
        let (memo, model) = memo(DEFAULT_ENTRIES);
        let asked = pairs(&[
            ("Texte : a", " q ?"),
            ("Texte : bb", " q ?"),
            ("Question :", " q ?"),
        ]);
        let first = memo.score_batch(&asked).unwrap();
        let again = memo.score_batch(&asked).unwrap();
        assert_eq!(first, again);
        assert_eq!(model.pairs_scored.load(Ordering::Relaxed), 3);
        assert_eq!(model.batches.load(Ordering::Relaxed), 1);
        assert_eq!(memo.stats(), MemoStats { hits: 3, misses: 3 });
    }

    #[test]
    fn only_unknown_pairs_reach_the_model_and_results_keep_their_order() {
        let (memo, model) = memo(DEFAULT_ENTRIES);
        memo.score_batch(&pairs(&[("a", " x"), ("b", " x")]))
            .unwrap();
        let mixed = pairs(&[("c", " x"), ("a", " x"), ("d", " x"), ("b", " x")]);
        let scores = memo.score_batch(&mixed).unwrap();
        let direct = Counting::default().score_batch(&mixed).unwrap();
        assert_eq!(scores, direct);
        // 2 pairs the first time, then only c and d.
        assert_eq!(model.pairs_scored.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn the_oldest_entries_make_room() {
        let (memo, model) = memo(2);
        memo.score("a", " x").unwrap();
        memo.score("b", " x").unwrap();
        memo.score("c", " x").unwrap();
        memo.score("a", " x").unwrap();
        assert_eq!(model.pairs_scored.load(Ordering::Relaxed), 4);
        memo.score("c", " x").unwrap();
        assert_eq!(model.pairs_scored.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn spans_are_remembered_per_prompt_source_and_length() {
        let (memo, model) = memo(DEFAULT_ENTRIES);
        assert_eq!(memo.extract_span("p", "s", 12).unwrap(), "p/12");
        assert_eq!(memo.extract_span("p", "s", 12).unwrap(), "p/12");
        assert_eq!(memo.extract_span("p", "s", 8).unwrap(), "p/8");
        assert_eq!(memo.extract_span("p", "t", 12).unwrap(), "p/12");
        assert_eq!(model.spans.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn questions_vectors_are_remembered_and_documents_go_through_in_order() {
        let (memo, model) = memo(DEFAULT_ENTRIES);
        let question = |text: &str| llm::Input::Query(text.to_string());
        let document = |text: &str| llm::Input::Document {
            title: None,
            text: text.to_string(),
        };
        memo.embed(&[question("c quand l'expo")]).unwrap();
        let mixed = [
            document("un passage"),
            question("c quand l'expo"),
            question("et le prix"),
        ];
        let vectors = memo.embed(&mixed).unwrap();
        assert_eq!(vectors, Counting::default().embed(&mixed).unwrap());
        // The first question once; then the passage and the new question.
        assert_eq!(model.texts_embedded.load(Ordering::Relaxed), 3);
        memo.embed(&[document("un passage")]).unwrap();
        assert_eq!(model.texts_embedded.load(Ordering::Relaxed), 4);
        assert_eq!(memo.stats(), MemoStats { hits: 1, misses: 2 });
    }

    #[test]
    fn a_message_sorted_as_small_talk_is_remembered_apart_from_the_same_words_asked() {
        let (memo, model) = memo(DEFAULT_ENTRIES);
        let asked = llm::Input::Query("t'es qui".to_string());
        let sorted = llm::Input::Classified("t'es qui".to_string());
        let first = memo.embed(&[asked.clone(), sorted.clone()]).unwrap();
        assert_ne!(first[0], first[1], "each kind of input has its own vector");
        let again = memo.embed(&[sorted, asked]).unwrap();
        assert_eq!(again, vec![first[1].clone(), first[0].clone()]);
        assert_eq!(model.texts_embedded.load(Ordering::Relaxed), 2);
        assert_eq!(memo.stats(), MemoStats { hits: 2, misses: 2 });
    }
}
