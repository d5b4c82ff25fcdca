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

use crate::corpus::Passage;
use crate::engine::{self, Engine};
use crate::llm::Input;
use crate::search::{vector_key, Hit, SentenceAt, SentenceVectors, VectorCache, VectorKey};

/// Sentences embedded per engine job: small enough that a visitor's
/// question waits at most one batch (about a second) behind a re-index.
const BATCH: usize = 16;

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

/// Computes the vectors of every sentence of `passages` that `cache` does
/// not hold (through the engine, in small jobs), saves the cache with only
/// the vectors in use, and returns the sentences' vectors.
pub(super) async fn embed_corpus(
    engine: &Engine,
    model: &str,
    cache_path: Option<PathBuf>,
    passages: &[Passage],
) -> engine::Result<Option<SentenceVectors>> {
    let Some(dimension) = engine.embedding_dimension() else {
        return Ok(None);
    };
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
    if !missing.is_empty() {
        tracing::info!(
            sentences = missing.len(),
            cached = wanted.len() - missing.len(),
            "embedding the corpus sentences"
        );
    }
    let started = std::time::Instant::now();
    for batch in missing.chunks(BATCH) {
        let inputs: Vec<Input> = batch.iter().map(|(_, input)| input.clone()).collect();
        let vectors = engine.embed(inputs).await?;
        for ((key, _), vector) in batch.iter().zip(vectors) {
            cache.insert(*key, vector);
        }
    }
    if !missing.is_empty() {
        tracing::info!(
            sentences = missing.len(),
            seconds = started.elapsed().as_secs_f64(),
            "corpus sentences embedded"
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
    let saved = tokio::task::spawn_blocking(move || cache.retain_and_save(&wanted)).await;
    match saved {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, "could not save the vector cache; they will be computed again at the next start")
        }
        Err(error) => tracing::warn!(%error, "vector cache task failed"),
    }
    Ok(Some(vectors))
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
    use super::*;

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
    fn a_sentence_is_embedded_under_its_document_and_section() {
        assert_eq!(title_of(&passage("a")), "Doc — Section");
    }
}
