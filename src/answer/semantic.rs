//! Finding passages by meaning: the corpus sentences' vectors, the
//! question's, and the fusion of what they find with what BM25 finds.
//!
//! Visitors do not use the documents' words (« combien de sous » for
//! « montant », « c quand la fin » for « jusqu'au »), and lexical retrieval
//! misses what shares no word with the question. The embedding model places
//! a question and the sentence that answers it close together whatever
//! their words, in French or English. Both retrievals run, and their
//! rankings are fused by reciprocal rank (Cormack et al., 2009): a passage
//! ranked well by either comes up, one ranked well by both comes first,
//! and no score scale has to be matched to the other.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::corpus::Passage;
use crate::engine::{self, Engine};
use crate::llm::Input;
use crate::search::{
    self, vector_key, Hit, SentenceAt, SentenceVectors, VectorCache, VectorKey, WordVectors,
};

/// Sentences embedded per engine job: small enough that a visitor's
/// question waits at most one batch (about a second) behind a re-index.
const BATCH: usize = 16;

/// Lone words embedded per engine job: a word is a tenth of a sentence's
/// tokens, so a job of this many takes about as long as one of [`BATCH`]
/// sentences.
const WORD_BATCH: usize = 64;

/// A text embedded before the corpus, whose vector names the arithmetic
/// that made the cached ones (see [`arithmetic_of`]).
const PROBE: &str = "La Région Normandie aide les entreprises à innover.";

/// The smoothing constant of reciprocal-rank fusion; 60 is the value of
/// the original study, and the fusion is insensitive to it.
const RRF_K: f32 = 60.0;

/// Nearest sentences looked at per question.
pub(super) const NEAREST: usize = 24;

/// The title a sentence is embedded under: its document and section, so
/// that « Le plafond est de 50 000 € » is known to be about Impulsion
/// Conseil.
pub(super) fn title_of(passage: &Passage) -> String {
    let heading = passage.heading();
    if heading.is_empty() || heading == passage.doc_title {
        passage.doc_title.clone()
    } else {
        format!("{} — {heading}", passage.doc_title)
    }
}

fn key_of(model: &str, passage: &Passage, sentence: &str) -> VectorKey {
    vector_key(model, &format!("{}\n{sentence}", title_of(passage)))
}

/// The word a vocabulary term is read from is embedded alone, as
/// [`word_input`] gives it, under this key (a sentence's key starts with
/// its title, never with NUL).
fn word_key(model: &str, word: &str) -> VectorKey {
    vector_key(model, &format!("\0query\n{word}"))
}

/// Each index term of `passages` (sentences and titles) with the first
/// word it was read from.
fn vocabulary(passages: &[Passage]) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    let mut words = Vec::new();
    for passage in passages {
        let title = title_of(passage);
        for text in std::iter::once(&title).chain(&passage.sentences) {
            for (term, word) in search::analyze_words(text) {
                if seen.insert(term.clone()) {
                    words.push((term, word));
                }
            }
        }
    }
    words
}

/// How a lone word is given to the embedding model: as a query, under
/// whose prompt translations and other forms of a word come closest
/// (« expo » and « exposition » 0.87, « help » and « aide » 0.80) and
/// neighbouring words stay apart (« startup » and « entreprise » 0.66).
/// Under the document prompt, the first pairs fall to 0.67 and 0.60 and
/// the last rises to 0.695.
pub fn word_input(word: &str) -> Input {
    Input::Query(word.to_string())
}

/// From this cosine similarity two words are taken to mean the same.
/// Measured on word pairs, read as [`word_input`] gives them: translations
/// and other forms of a word reach 0.79 and more (« loan » and « prêt » 0.79,
/// « jobs » and « emplois » 0.85, « free » and « gratuit » 0.91), words
/// of neighbouring meaning that do not answer for each other stay under
/// 0.73 (« jobs » and « business » 0.72, « Rouen » and « Caen » 0.63,
/// « directeur » and « président » 0.52). Between the two lie pairs of
/// either kind (« price » and « tarif » 0.74), left out.
pub const SAME_MEANING: f32 = 0.75;

/// The question's `terms` that `words` (the corpus vocabulary) has no
/// vector for, each with the word of `query` it comes from.
pub(super) fn words_to_embed(
    query: &str,
    terms: &[String],
    words: Option<&WordVectors>,
) -> Vec<(String, String)> {
    let Some(words) = words else {
        return Vec::new();
    };
    let surface: HashMap<String, String> = search::analyze_words(query).into_iter().collect();
    terms
        .iter()
        .filter(|term| words.get(term).is_none())
        .map(|term| {
            let word = surface.get(term).unwrap_or(term);
            (term.clone(), word.clone())
        })
        .collect()
}

/// For each of `terms`, the corpus terms near it in meaning: read from
/// `words` for a corpus term, from `embedded` for the others.
pub(super) fn near_words<'a>(
    terms: &[String],
    words: Option<&WordVectors>,
    embedded: impl Iterator<Item = (&'a String, &'a Vec<f32>)>,
) -> HashMap<String, Vec<String>> {
    let Some(words) = words else {
        return HashMap::new();
    };
    let embedded: HashMap<&String, &Vec<f32>> = embedded.collect();
    terms
        .iter()
        .filter_map(|term| {
            let vector = words
                .get(term)
                .or_else(|| embedded.get(term).map(|v| v.as_slice()))?;
            let near: Vec<String> = words
                .near(vector, SAME_MEANING)
                .into_iter()
                .filter(|t| t != term)
                .collect();
            (!near.is_empty()).then(|| (term.clone(), near))
        })
        .collect()
}

/// The meaning vectors of a corpus: its sentences' and its words'.
pub(super) struct CorpusVectors {
    pub(super) sentences: SentenceVectors,
    pub(super) words: WordVectors,
}

/// Computes the vectors of every sentence and every vocabulary word of
/// `passages` that `cache` does not hold (through the engine, in small
/// jobs), saves the cache with only the vectors in use, and returns them.
pub(super) async fn embed_corpus(
    engine: &Engine,
    model: &str,
    cache_path: Option<PathBuf>,
    passages: &[Passage],
) -> engine::Result<Option<CorpusVectors>> {
    let Some(dimension) = engine.embedding_dimension() else {
        return Ok(None);
    };
    let model = &format!("{model} {}", arithmetic_of(engine).await?);
    let mut cache = match &cache_path {
        Some(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || VectorCache::open(&path, dimension))
                .await
                .unwrap_or_else(|_| VectorCache::in_memory(dimension))
        }
        None => VectorCache::in_memory(dimension),
    };
    let mut missing: Vec<(VectorKey, Input)> = Vec::new();
    let mut wanted = HashSet::new();
    for passage in passages {
        for sentence in &passage.sentences {
            let key = key_of(model, passage, sentence);
            if wanted.insert(key) && cache.get(&key).is_none() {
                missing.push((
                    key,
                    Input::Document {
                        title: Some(title_of(passage)),
                        text: sentence.clone(),
                    },
                ));
            }
        }
    }
    let sentences_missing = missing.len();
    let vocabulary = vocabulary(passages);
    for (_, word) in &vocabulary {
        let key = word_key(model, word);
        if wanted.insert(key) && cache.get(&key).is_none() {
            missing.push((key, word_input(word)));
        }
    }
    if !missing.is_empty() {
        tracing::info!(
            sentences = sentences_missing,
            words = missing.len() - sentences_missing,
            cached = wanted.len() - missing.len(),
            "embedding the corpus sentences and words"
        );
    }
    let started = std::time::Instant::now();
    let (sentences, words) = missing.split_at(sentences_missing);
    for batch in sentences.chunks(BATCH).chain(words.chunks(WORD_BATCH)) {
        let inputs: Vec<Input> = batch.iter().map(|(_, input)| input.clone()).collect();
        let vectors = engine.embed(inputs).await?;
        for ((key, _), vector) in batch.iter().zip(vectors) {
            cache.insert(*key, vector);
        }
    }
    if !missing.is_empty() {
        tracing::info!(
            texts = missing.len(),
            seconds = started.elapsed().as_secs_f64(),
            "corpus sentences and words embedded"
        );
    }
    let mut vectors = SentenceVectors::new(dimension);
    for (p, passage) in passages.iter().enumerate() {
        for (s, sentence) in passage.sentences.iter().enumerate() {
            if let Some(vector) = cache.get(&key_of(model, passage, sentence)) {
                vectors.push(
                    SentenceAt {
                        passage: p,
                        sentence: s,
                    },
                    vector,
                );
            }
        }
    }
    let mut words = WordVectors::new(dimension);
    for (term, word) in &vocabulary {
        if let Some(vector) = cache.get(&word_key(model, word)) {
            words.push(term, vector);
        }
    }
    let saved = tokio::task::spawn_blocking(move || cache.retain_and_save(&wanted)).await;
    match saved {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, "could not save the vector cache; they will be computed again at the next start")
        }
        Err(error) => tracing::warn!(%error, "vector cache task failed"),
    }
    Ok(Some(CorpusVectors {
        sentences: vectors,
        words,
    }))
}

/// What the cache's keys name besides the model's name: the bits of its
/// vector for [`PROBE`]. The cache outlives the binary, and kernels that
/// sum in another order give other vectors for the same texts: with every
/// Q8_0 matrix summed another way, old corpus vectors beside new question
/// vectors moved three visitors' training answers, which a fresh cache
/// did not. Every instruction set gives the same bits, so machines that
/// share the arithmetic share the name.
async fn arithmetic_of(engine: &Engine) -> engine::Result<String> {
    let probe = Input::Document {
        title: None,
        text: PROBE.into(),
    };
    let vectors = engine.embed(vec![probe]).await?;
    let mut hasher = Sha256::new();
    for value in vectors.iter().flatten() {
        hasher.update(value.to_le_bytes());
    }
    let digest = hasher.finalize();
    Ok(digest[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect())
}

/// The passages to read for a question: BM25's `hits` and the passages of
/// the sentences nearest in meaning (`nearest`, closest first, indexing
/// `passages`), fused by reciprocal rank, `limit` at most.
pub(super) fn fuse(
    hits: Vec<Hit>,
    nearest: &[(SentenceAt, f32)],
    passages: &Arc<Vec<Passage>>,
    limit: usize,
) -> Vec<Hit> {
    let mut fused: HashMap<String, (f32, Hit)> = HashMap::new();
    for (rank, hit) in hits.into_iter().enumerate() {
        let score = 1.0 / (RRF_K + rank as f32 + 1.0);
        fused.insert(hit.passage.id.clone(), (score, hit));
    }
    let mut seen = HashSet::new();
    let mut rank = 0;
    for (at, _) in nearest {
        let Some(passage) = passages.get(at.passage) else {
            continue;
        };
        if !seen.insert(at.passage) {
            continue;
        }
        let score = 1.0 / (RRF_K + rank as f32 + 1.0);
        rank += 1;
        fused
            .entry(passage.id.clone())
            .and_modify(|(total, _)| *total += score)
            .or_insert_with(|| {
                (
                    score,
                    Hit {
                        passage: passage.clone(),
                        score: 0.0,
                        snippet_html: String::new(),
                    },
                )
            });
    }
    let mut ranked: Vec<(f32, Hit)> = fused.into_values().collect();
    ranked.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.passage.id.cmp(&b.1.passage.id))
    });
    ranked.truncate(limit);
    ranked.into_iter().map(|(_, hit)| hit).collect()
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::llm;

    fn passage(id: &str) -> Passage {
        Passage {
            id: id.into(),
            doc_id: "doc".into(),
            doc_title: "Doc".into(),
            section: Some("Section".into()),
            source: None,
            date: None,
            url: None,
            text: "Une phrase.".into(),
            sentences: vec!["Une phrase.".into()],
            page: None,
            deadline: None,
            order: 0,
        }
    }

    fn hit(id: &str) -> Hit {
        Hit {
            passage: passage(id),
            score: 1.0,
            snippet_html: String::new(),
        }
    }

    #[test]
    fn fusion_brings_up_what_either_found_and_first_what_both_found() {
        let passages = Arc::new(vec![passage("a"), passage("b"), passage("z")]);
        let at = |passage| SentenceAt {
            passage,
            sentence: 0,
        };
        let nearest = [(at(2), 0.7), (at(1), 0.6), (at(2), 0.5)];
        let fused = fuse(vec![hit("a"), hit("b")], &nearest, &passages, 10);
        let ids: Vec<&str> = fused.iter().map(|h| h.passage.id.as_str()).collect();
        // b: second by words and second by meaning beats a (first by words
        // only) and z (first by meaning only); z is found although BM25 missed it.
        assert_eq!(ids, ["b", "a", "z"]);
        assert_eq!(fuse(vec![hit("a")], &nearest, &passages, 1).len(), 1);
    }

    #[test]
    fn the_question_s_words_the_corpus_lacks_are_embedded_and_matched_to_its_words() {
        let mut words = WordVectors::new(2);
        words.push("emploi", &[1.0, 0.0]);
        words.push("projet", &[0.0, 1.0]);
        let query = "Combien de jobs pour le projet ?";
        let terms = search::analyze(query);
        let unknown = words_to_embed(query, &terms, Some(&words));
        assert_eq!(unknown, [("job".to_string(), "jobs".to_string())]);
        assert!(words_to_embed(query, &terms, None).is_empty());
        let jobs = vec![0.8, 0.6];
        let near = near_words(
            &terms,
            Some(&words),
            std::iter::once((&unknown[0].0, &jobs)),
        );
        assert_eq!(near.get("job"), Some(&vec!["emploi".to_string()]));
        assert!(
            !near.contains_key("projet"),
            "a corpus word is near only to itself here, which is no news"
        );
    }

    #[test]
    fn the_vocabulary_is_every_term_of_titles_and_sentences_once() {
        let mut passage = passage("p");
        passage.sentences = vec!["Les entreprises aidées.".into(), "Une entreprise.".into()];
        let vocabulary = vocabulary(&[passage]);
        let firms: Vec<&(String, String)> = vocabulary
            .iter()
            .filter(|(_, word)| word.starts_with("entreprise"))
            .collect();
        assert_eq!(firms.len(), 1, "{vocabulary:?}");
        assert_eq!(firms[0].1, "entreprises", "read from the first word met");
        assert!(
            vocabulary.iter().any(|(_, word)| word == "section"),
            "{vocabulary:?}"
        );
    }

    #[test]
    fn a_sentence_is_embedded_under_its_document_and_section() {
        assert_eq!(title_of(&passage("a")), "Doc — Section");
    }

    /// An embedding model whose vectors are the text's length times
    /// `scale`: another `scale` is the same model with other arithmetic.
    struct Lengths {
        scale: f32,
        embedded: AtomicUsize,
    }

    impl Lengths {
        fn engine(scale: f32) -> (Engine, Arc<Self>) {
            let backend = Arc::new(Self {
                scale,
                embedded: AtomicUsize::new(0),
            });
            (Engine::start(backend.clone(), 4), backend)
        }
    }

    impl engine::Backend for Lengths {
        fn score(&self, _: &str, _: &str) -> Result<engine::Score, llm::Error> {
            Err(llm::Error::InvalidRequest("not used".into()))
        }

        fn extract_span(&self, _: &str, _: &str, _: usize) -> Result<String, llm::Error> {
            Err(llm::Error::InvalidRequest("not used".into()))
        }

        fn generate(
            &self,
            _: &str,
            _: &llm::GenerationParams,
            _: &mut dyn FnMut(&str) -> ControlFlow<()>,
        ) -> Result<engine::GenerationSummary, llm::Error> {
            Err(llm::Error::InvalidRequest("not used".into()))
        }

        fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
            Ok(text.len())
        }

        fn embedding_dimension(&self) -> Option<usize> {
            Some(2)
        }

        fn embed(&self, inputs: &[Input]) -> Result<Vec<Vec<f32>>, llm::Error> {
            self.embedded.fetch_add(inputs.len(), Ordering::Relaxed);
            Ok(inputs
                .iter()
                .map(|input| match input {
                    Input::Query(text) | Input::Classified(text) => text.len(),
                    Input::Document { text, .. } => text.len(),
                })
                .map(|length| vec![length as f32 * self.scale, 1.0])
                .collect())
        }
    }

    #[tokio::test]
    async fn cached_vectors_are_reused_only_under_the_same_arithmetic() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Some(dir.path().join("vectors.bin"));
        let passages = [passage("a")];
        let (first, _) = Lengths::engine(1.0);
        embed_corpus(&first, "m", cache.clone(), &passages)
            .await
            .unwrap();
        let (same, counted) = Lengths::engine(1.0);
        embed_corpus(&same, "m", cache.clone(), &passages)
            .await
            .unwrap();
        assert_eq!(
            counted.embedded.load(Ordering::Relaxed),
            1,
            "the probe only"
        );
        let (other, counted) = Lengths::engine(2.0);
        let vectors = embed_corpus(&other, "m", cache, &passages)
            .await
            .unwrap()
            .unwrap();
        let words = vocabulary(&passages).len();
        assert!(words >= 2, "the title's and the sentence's words");
        assert_eq!(
            counted.embedded.load(Ordering::Relaxed),
            2 + words,
            "the probe, the sentence and its words"
        );
        assert_eq!(vectors.words.len(), words);
        let length = "Une phrase.".len() as f32;
        let nearest = vectors.sentences.nearest(&[2.0 * length, 1.0], 1);
        assert_eq!(nearest.len(), 1);
        assert!((nearest[0].1 - (4.0 * length * length + 1.0)).abs() < 1e-3);
    }
}
