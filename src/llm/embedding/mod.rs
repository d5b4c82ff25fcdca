//! Sentence embeddings with EmbeddingGemma-300M: a question and the corpus
//! sentences become unit vectors whose dot product says how close their
//! meanings are, whatever words they use and in French or English alike.
//!
//! The model is a Gemma 3 text model read **bidirectionally** (every token
//! sees the whole text), so it runs on the same blocks as the generator
//! ([`super::layer`]) with the causal mask off. Its tokens' final states are
//! averaged, projected by two dense layers (768 → 3072 → 768, no bias, no
//! activation) and normalised to length 1, as sentence-transformers does.
//!
//! The published weights are 1.2 GB of F32 in a zip of a sentence-
//! transformers folder. They are read straight out of that zip and
//! quantised to Q8_0 as they stream in (see [`load`]), so neither the F32
//! weights nor an unpacked copy ever exist: the model holds about 330 MB,
//! two thirds of it the token table, from which rows are looked up.

mod load;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use candle_core::quantized::QTensor;
use candle_core::{Device, Tensor};

use super::attention::Heads;
use super::cache::KvCache;
use super::config::Config;
use super::layer::{BlockContext, Segment};
use super::ops::{rms_norm, Rope};
use super::tokenizer::TextTokenizer;
use super::weights::LayerWeights;
use super::{Error, Result};

/// Longest text embedded, in tokens; longer ones are cut. Sentences and
/// passages of the corpus are far shorter, and up to the sliding window
/// (512) every layer sees the whole text.
pub const MAX_TOKENS: usize = 512;

/// The start of the document prompt EmbeddingGemma was trained with; a
/// known title replaces its « none ».
const UNTITLED: &str = "title: none";

/// Texts pushed through the layers together: their rows share every
/// weight read, and a batch's activations stay within a few megabytes.
const BATCH_TOKENS: usize = 2048;

/// A text to embed, with what it is to the model: it was trained with
/// one prompt before questions and another before the documents that
/// answer them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Input {
    /// A visitor's question.
    Query(String),
    /// A message to sort into kinds by the labelled examples nearest it
    /// (small talk): the model's classification prompt, under which the
    /// same message and examples part the kinds better than as questions.
    Classified(String),
    /// A sentence or passage of the corpus, with the title of what it
    /// comes from when known (« Impulsion Conseil — Montant de l'aide »).
    Document {
        /// Document and section, or `None`.
        title: Option<String>,
        /// The text itself.
        text: String,
    },
}

/// The prompts sentence-transformers puts before each kind of text.
#[derive(Debug, Clone)]
struct Prompts {
    query: String,
    classification: String,
    document: String,
}

/// A loaded EmbeddingGemma. Immutable and `Send + Sync`.
pub struct Embedder {
    config: Config,
    embed: Arc<QTensor>,
    layers: Vec<LayerWeights>,
    output_norm: Vec<f32>,
    /// `(3072, 768)` then `(768, 3072)`, F32: 19 MB, and exact.
    dense: [Tensor; 2],
    rope_local: Rope,
    rope_global: Rope,
    /// Gemma 3's tokenizer, shared with the language model: EmbeddingGemma
    /// reads the same 262,144 pieces, and its own `tokenizer.json` would
    /// cost another ~130 MB to hold (the ids are checked equal against
    /// sentence-transformers' in `tests/embedding.rs`).
    tokenizer: Arc<TextTokenizer>,
    prompts: Prompts,
    /// Bytes held by the weights, for the load log and the bench.
    bytes: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("config", &self.config)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Reads the sentence-transformers folder zipped at `path` (as `eulcat
    /// pull` installs it), quantising the layers as they stream in; texts
    /// are cut into tokens by `tokenizer`, Gemma 3's.
    pub fn load(path: &Path, tokenizer: Arc<TextTokenizer>) -> Result<Self> {
        let started = Instant::now();
        let parts = load::read_zip(path)?;
        let config = parts.config;
        let vocab = parts.embed.shape().dims()[0];
        if tokenizer.vocab_size() != vocab {
            return Err(Error::UnsupportedModel(format!(
                "embedding model: its token table has {vocab} rows, the tokenizer {} pieces",
                tokenizer.vocab_size()
            )));
        }
        let rope_local = Rope::new(config.head_dim, config.rope_local_base, MAX_TOKENS);
        let rope_global = Rope::new(config.head_dim, config.rope_global_base, MAX_TOKENS);
        let embedder = Self {
            config,
            embed: parts.embed,
            layers: parts.layers,
            output_norm: parts.output_norm,
            dense: parts.dense,
            rope_local,
            rope_global,
            tokenizer,
            prompts: parts.prompts,
            bytes: parts.bytes,
        };
        tracing::info!(
            path = %path.display(),
            megabytes = embedder.bytes as f64 / 1e6,
            seconds = started.elapsed().as_secs_f64(),
            "embedding model loaded"
        );
        Ok(embedder)
    }

    /// Length of the vectors.
    pub fn dimension(&self) -> usize {
        self.config.hidden
    }

    /// Bytes the weights hold in memory.
    pub fn weight_bytes(&self) -> usize {
        self.bytes
    }

    /// The text exactly as the model reads it: the prompt of its kind, then
    /// the text. A document's title takes the place of « none » in the
    /// model's `title: none | text: ` prompt, the form it was trained on.
    pub fn prompted(&self, input: &Input) -> String {
        match input {
            Input::Query(text) => format!("{}{text}", self.prompts.query),
            Input::Classified(text) => format!("{}{text}", self.prompts.classification),
            Input::Document { title, text } => {
                let prompt = &self.prompts.document;
                match (title, prompt.strip_prefix(UNTITLED)) {
                    (Some(title), Some(rest)) => format!("title: {title}{rest}{text}"),
                    _ => format!("{prompt}{text}"),
                }
            }
        }
    }

    /// The token ids of `input` as the model reads it (with `<bos>` and
    /// `<eos>`), cut to [`MAX_TOKENS`].
    pub fn tokens(&self, input: &Input) -> Result<Vec<u32>> {
        self.encode(&self.prompted(input))
    }

    /// The token ids of `prompted`, read as it is (no prompt added), with
    /// `<bos>` and `<eos>`, cut to [`MAX_TOKENS`].
    pub fn encode(&self, prompted: &str) -> Result<Vec<u32>> {
        let mut ids = self.tokenizer.encode_with_bos(prompted)?;
        ids.push(self.tokenizer.eos_id());
        if ids.len() > MAX_TOKENS {
            // Keep the closing `<eos>`: the model always saw one last.
            let last = ids[ids.len() - 1];
            ids.truncate(MAX_TOKENS - 1);
            ids.push(last);
        }
        Ok(ids)
    }

    /// Unit vectors of `inputs`, in order.
    pub fn embed(&self, inputs: &[Input]) -> Result<Vec<Vec<f32>>> {
        let tokenized: Vec<Vec<u32>> = inputs
            .iter()
            .map(|input| self.tokens(input))
            .collect::<Result<_>>()?;
        self.embed_tokens(&tokenized)
    }

    /// Unit vectors of already tokenized texts (see [`Self::tokens`]).
    pub fn embed_tokens(&self, texts: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
        let mut vectors = Vec::with_capacity(texts.len());
        let mut batch: Vec<&[u32]> = Vec::new();
        let mut batch_tokens = 0;
        for tokens in texts {
            if tokens.is_empty() || tokens.len() > MAX_TOKENS {
                return Err(Error::InvalidRequest(format!(
                    "a text to embed must have 1 to {MAX_TOKENS} tokens, not {}",
                    tokens.len()
                )));
            }
            if batch_tokens + tokens.len() > BATCH_TOKENS && !batch.is_empty() {
                vectors.extend(self.embed_batch(&batch)?);
                batch.clear();
                batch_tokens = 0;
            }
            batch.push(tokens);
            batch_tokens += tokens.len();
        }
        if !batch.is_empty() {
            vectors.extend(self.embed_batch(&batch)?);
        }
        Ok(vectors)
    }

    /// One forward pass over several texts laid end to end: each attends
    /// only to itself, the matrix products take all rows at once.
    fn embed_batch(&self, texts: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let config = &self.config;
        let vocab = self.embed.shape().dims()[0];
        let all: Vec<u32> = texts.concat();
        if let Some(&bad) = all.iter().find(|&&t| t as usize >= vocab) {
            return Err(Error::InvalidRequest(format!(
                "token id {bad} out of vocabulary"
            )));
        }
        let ids = Tensor::new(all.as_slice(), &Device::Cpu)?;
        let mut x: Vec<f32> = self.embed.embedding(&ids)?.flatten_all()?.to_vec1()?;
        let scale = (config.hidden as f32).sqrt();
        x.iter_mut().for_each(|v| *v *= scale);
        let mut caches: Vec<KvCache> = texts
            .iter()
            .map(|_| {
                // No window on the caches: a text is read in one piece, and
                // every key must stay for the positions before it.
                KvCache::new(
                    (0..config.layers).map(|_| None),
                    config.kv_heads * config.head_dim,
                )
            })
            .collect();
        for (i, layer) in self.layers.iter().enumerate() {
            let global = config.is_global(i);
            let context = BlockContext {
                shape: Heads {
                    heads: config.heads,
                    kv_heads: config.kv_heads,
                    head_dim: config.head_dim,
                    window: (!global).then_some(config.sliding_window),
                    bidirectional: true,
                },
                eps: config.rms_eps,
                rope: if global {
                    &self.rope_global
                } else {
                    &self.rope_local
                },
            };
            let mut segments: Vec<Segment<'_>> = caches
                .iter_mut()
                .zip(texts)
                .map(|(cache, text)| Segment {
                    rows: text.len(),
                    pos: 0,
                    cache: cache.layer_mut(i),
                })
                .collect();
            layer.forward(&mut x, &mut segments, context)?;
        }
        rms_norm(&mut x, &self.output_norm, config.rms_eps);
        let hidden = config.hidden;
        let mut pooled = Vec::with_capacity(texts.len() * hidden);
        let mut row = 0;
        for text in texts {
            let mut mean = vec![0f32; hidden];
            for r in row..row + text.len() {
                for (m, v) in mean.iter_mut().zip(&x[r * hidden..(r + 1) * hidden]) {
                    *m += v;
                }
            }
            let count = text.len() as f32;
            pooled.extend(mean.into_iter().map(|m| m / count));
            row += text.len();
        }
        let mut y = Tensor::from_vec(pooled, (texts.len(), hidden), &Device::Cpu)?;
        for dense in &self.dense {
            y = y.matmul(&dense.t()?)?;
        }
        let rows: Vec<Vec<f32>> = y.to_vec2()?;
        Ok(rows.into_iter().map(unit).collect())
    }
}

/// `v` scaled to length 1 (left as is when it is zero).
fn unit(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Dot product of two unit vectors: their cosine similarity.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_vectors_have_length_one_and_zero_stays_zero() {
        let v = unit(vec![3.0, 4.0]);
        assert!((cosine(&v, &v) - 1.0).abs() < 1e-6);
        assert_eq!(v, vec![0.6, 0.8]);
        assert_eq!(unit(vec![0.0, 0.0]), vec![0.0, 0.0]);
    }
}
