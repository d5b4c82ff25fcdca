//! [`LanguageModel`]: loading and the forward pass over a [`KvCache`].

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};

use super::attention::Heads;
use super::cache::{Checkpoint, KvCache};
use super::config::Config;
use super::layer::{BlockContext, Segment};
use super::ops::{rms_norm, Rope};
use super::tokenizer::TextTokenizer;
use super::weights::Weights;
use super::{Error, Result};

/// Longest run of tokens pushed through the layers at once. Bounds the
/// attention score matrices (heads × chunk × keys floats) and lets the
/// sliding-window layers attend to at most `window + chunk` keys.
const PREFILL_CHUNK: usize = 512;

/// Rows of the warm-up pass: candle takes its AMX path from 32 rows on.
const WARM_UP_ROWS: usize = 32;

/// One sequence of a batched forward pass: `tokens` fed after what `cache`
/// holds, of which the last `keep_last` positions' hidden states are kept.
pub(crate) struct Pass<'a> {
    pub(crate) cache: &'a mut KvCache,
    pub(crate) tokens: &'a [u32],
    pub(crate) keep_last: usize,
}

/// How to load the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// Longest sequence (prompt plus generated tokens) a cache may hold;
    /// sizes the RoPE tables.
    pub max_context: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { max_context: 4096 }
    }
}

/// A loaded Gemma 3 model and its tokenizer. Immutable, `Send + Sync`:
/// share it (e.g. in an `Arc`) and give each sequence its own [`KvCache`].
pub struct LanguageModel {
    pub(crate) config: Config,
    pub(crate) weights: Weights,
    rope_local: Rope,
    rope_global: Rope,
    pub(crate) tokenizer: Arc<TextTokenizer>,
    pub(crate) max_context: usize,
}

impl std::fmt::Debug for LanguageModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LanguageModel")
            .field("config", &self.config)
            .field("max_context", &self.max_context)
            .finish_non_exhaustive()
    }
}

impl LanguageModel {
    /// Reads a Gemma 3 GGUF file once: hyper-parameters, tokenizer and
    /// weights.
    pub fn load(path: &Path, options: &LoadOptions) -> Result<Self> {
        let started = Instant::now();
        if options.max_context == 0 {
            return Err(Error::InvalidRequest("max_context must be positive".into()));
        }
        let mut file = File::open(path)?;
        let content = gguf_file::Content::read(&mut file).map_err(|e| e.with_path(path))?;
        let config = Config::from_gguf(&content)?;
        let tokenizer = Arc::new(TextTokenizer::from_gguf(&content)?);
        let weights = Weights::load(&content, &mut file, &config)?;
        let rope_local = Rope::new(config.head_dim, config.rope_local_base, options.max_context);
        let rope_global = Rope::new(
            config.head_dim,
            config.rope_global_base,
            options.max_context,
        );
        let model = Self {
            config,
            weights,
            rope_local,
            rope_global,
            tokenizer,
            max_context: options.max_context,
        };
        model.warm_up()?;
        tracing::info!(
            path = %path.display(),
            tensors = model.weights.tensor_count,
            megabytes = model.weights.bytes as f64 / 1e6,
            max_context = options.max_context,
            seconds = started.elapsed().as_secs_f64(),
            "language model loaded"
        );
        Ok(model)
    }

    /// On the portable path candle lays the K-quant matrices out for its
    /// tiled kernels on first use, once for a few rows and once (AMX) for
    /// many; a pass of each kind here keeps that work (measured 0.1–0.6 s)
    /// out of the first visitor's answer, and on every path it brings the
    /// weights into memory before the first visitor.
    fn warm_up(&self) -> Result<()> {
        let tokens = vec![self.tokenizer.bos_id(); WARM_UP_ROWS];
        let mut cache = self.new_cache();
        self.forward_hidden(&mut cache, &tokens, 1)?;
        self.forward_hidden(&mut cache, &tokens[..1], 1)?;
        Ok(())
    }

    /// The tokenizer read from the same file.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// The tokenizer, shared: the embedding model reads Gemma 3's
    /// vocabulary too, and one copy of it is about 100 MB.
    pub fn shared_tokenizer(&self) -> Arc<TextTokenizer> {
        Arc::clone(&self.tokenizer)
    }

    /// Longest sequence a cache may hold.
    pub fn max_context(&self) -> usize {
        self.max_context
    }

    /// Size of the vocabulary (rows of the output head).
    pub fn vocab_size(&self) -> usize {
        self.weights.tokens.vocab_size()
    }

    /// An empty cache for a new sequence.
    pub fn new_cache(&self) -> KvCache {
        let config = &self.config;
        KvCache::new(
            (0..config.layers).map(|i| (!config.is_global(i)).then_some(config.sliding_window)),
            config.kv_heads * config.head_dim,
        )
    }

    /// Feeds `tokens` after what `cache` holds; returns full-vocabulary
    /// logits of the last position.
    pub fn forward_last(&self, cache: &mut KvCache, tokens: &[u32]) -> Result<Vec<f32>> {
        let hidden: Vec<f32> = self
            .forward_hidden(cache, tokens, 1)?
            .flatten_all()?
            .to_vec1()?;
        self.weights.tokens.logits(&hidden, 1)
    }

    /// [`forward_last`](Self::forward_last) for several sequences in one
    /// pass: feeds `steps[i].1` after what `steps[i].0` holds and returns
    /// each sequence's full-vocabulary logits. This is the step of batched
    /// decoding (one token per sequence): the weights, the output head
    /// included, are read once for all sequences, and each gets exactly the
    /// logits it would get alone.
    pub fn forward_last_batch(
        &self,
        steps: &mut [(&mut KvCache, &[u32])],
    ) -> Result<Vec<Vec<f32>>> {
        let mut passes: Vec<Pass<'_>> = steps
            .iter_mut()
            .map(|(cache, tokens)| Pass {
                cache,
                tokens,
                keep_last: 1,
            })
            .collect();
        let hidden = self.forward_hidden_batch(&mut passes)?.concat();
        let rows = passes.len();
        if rows == 0 {
            return Ok(Vec::new());
        }
        self.weights.tokens.logits_each(&hidden, rows)
    }

    /// Feeds `tokens` after what `cache` holds and returns the normalized
    /// final hidden states `(keep_last, hidden)` of the last `keep_last`
    /// positions, ready for the output head. On error the cache is left as
    /// it was.
    pub(crate) fn forward_hidden(
        &self,
        cache: &mut KvCache,
        tokens: &[u32],
        keep_last: usize,
    ) -> Result<Tensor> {
        let mut kept = self.forward_hidden_batch(&mut [Pass {
            cache,
            tokens,
            keep_last,
        }])?;
        let kept = kept.pop().unwrap_or_default();
        Ok(Tensor::from_vec(
            kept,
            (keep_last, self.config.hidden),
            &Device::Cpu,
        )?)
    }

    /// [`forward_hidden`](Self::forward_hidden) for several sequences in
    /// one pass: their rows share every matrix product (each weight block
    /// is read once for all of them), attention stays per sequence, and
    /// each sequence gets exactly the values it would get alone. Returns
    /// each pass's kept rows (row-major). On error no cache is changed.
    pub(crate) fn forward_hidden_batch(&self, passes: &mut [Pass<'_>]) -> Result<Vec<Vec<f32>>> {
        for pass in passes.iter() {
            self.check(pass)?;
        }
        // A failure rolls every cache back to where it was. (Cloning them
        // instead copied the whole cache at every decoded token: 23 MB per
        // token at 630 positions, 9 % of decode time.)
        let checkpoints: Vec<Checkpoint> = passes.iter().map(|p| p.cache.checkpoint()).collect();
        let result = self.forward_passes(passes);
        if result.is_err() {
            for (pass, checkpoint) in passes.iter_mut().zip(checkpoints) {
                pass.cache.roll_back(checkpoint);
            }
        }
        result
    }

    /// The body of [`forward_hidden_batch`](Self::forward_hidden_batch),
    /// extending the caches in place.
    fn forward_passes(&self, passes: &mut [Pass<'_>]) -> Result<Vec<Vec<f32>>> {
        let hidden_size = self.config.hidden;
        let mut kept: Vec<Vec<f32>> = passes
            .iter()
            .map(|p| Vec::with_capacity(p.keep_last * hidden_size))
            .collect();
        let rounds = passes
            .iter()
            .map(|p| p.tokens.len().div_ceil(PREFILL_CHUNK))
            .max()
            .unwrap_or(0);
        for round in 0..rounds {
            let offset = round * PREFILL_CHUNK;
            let members: Vec<usize> = (0..passes.len())
                .filter(|&i| passes[i].tokens.len() > offset)
                .collect();
            let chunks: Vec<&[u32]> = members
                .iter()
                .map(|&i| {
                    let tokens = passes[i].tokens;
                    &tokens[offset..tokens.len().min(offset + PREFILL_CHUNK)]
                })
                .collect();
            let mut caches: Vec<&mut KvCache> = passes
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| members.contains(i))
                .map(|(_, pass)| &mut *pass.cache)
                .collect();
            let hidden = self.forward_chunks(&mut caches, &chunks)?;
            let mut row = 0;
            for (&i, chunk) in members.iter().zip(&chunks) {
                let first_kept = passes[i].tokens.len() - passes[i].keep_last;
                let end = offset + chunk.len();
                if end > first_kept {
                    let from = row + first_kept.saturating_sub(offset);
                    kept[i].extend_from_slice(
                        &hidden[from * hidden_size..(row + chunk.len()) * hidden_size],
                    );
                }
                row += chunk.len();
            }
        }
        for (pass, rows) in passes.iter_mut().zip(&mut kept) {
            rms_norm(rows, &self.weights.output_norm, self.config.rms_eps);
            pass.cache
                .set_last_hidden(rows[(pass.keep_last - 1) * hidden_size..].to_vec());
        }
        Ok(kept)
    }

    /// Refuses a pass the model cannot run.
    fn check(&self, pass: &Pass<'_>) -> Result<()> {
        let (tokens, keep_last) = (pass.tokens, pass.keep_last);
        if tokens.is_empty() || keep_last == 0 || keep_last > tokens.len() {
            return Err(Error::InvalidRequest(format!(
                "cannot keep {keep_last} positions of {} new tokens",
                tokens.len()
            )));
        }
        if pass.cache.layer_count() != self.config.layers {
            return Err(Error::InvalidRequest("cache made by another model".into()));
        }
        let needed = pass.cache.len() + tokens.len();
        if needed > self.max_context {
            return Err(Error::ContextOverflow {
                needed,
                max: self.max_context,
            });
        }
        let vocab = self.vocab_size();
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= vocab) {
            return Err(Error::InvalidRequest(format!(
                "token id {bad} out of vocabulary"
            )));
        }
        Ok(())
    }

    /// One chunk of each sequence through every layer, the chunks laid end
    /// to end; returns their hidden states (row-major) before the final
    /// norm.
    fn forward_chunks(&self, caches: &mut [&mut KvCache], chunks: &[&[u32]]) -> Result<Vec<f32>> {
        let config = &self.config;
        let all: Vec<u32> = chunks.concat();
        let mut x = self.weights.tokens.embed(&all)?;
        let scale = (config.hidden as f32).sqrt();
        x.iter_mut().for_each(|v| *v *= scale);
        for (i, layer) in self.weights.layers.iter().enumerate() {
            let global = config.is_global(i);
            let shape = Heads {
                heads: config.heads,
                kv_heads: config.kv_heads,
                head_dim: config.head_dim,
                window: (!global).then_some(config.sliding_window),
                bidirectional: false,
            };
            let context = BlockContext {
                shape,
                eps: config.rms_eps,
                rope: if global {
                    &self.rope_global
                } else {
                    &self.rope_local
                },
            };
            let mut segments: Vec<Segment<'_>> = caches
                .iter_mut()
                .zip(chunks)
                .map(|(cache, chunk)| {
                    let pos = cache.len();
                    Segment {
                        rows: chunk.len(),
                        pos,
                        cache: cache.layer_mut(i),
                    }
                })
                .collect();
            layer.forward(&mut x, &mut segments, context)?;
        }
        for (cache, chunk) in caches.iter_mut().zip(chunks) {
            cache.advance(chunk.len());
        }
        Ok(x)
    }
}
