//! [`LanguageModel`]: loading and the forward pass over a [`KvCache`].

use std::fs::File;
use std::path::Path;
use std::time::Instant;

use candle_core::quantized::gguf_file;
use candle_core::{Device, Module, Tensor};

use super::attention::Heads;
use super::cache::KvCache;
use super::config::Config;
use super::layer::BlockContext;
use super::ops::{rms_norm, Rope};
use super::tokenizer::TextTokenizer;
use super::weights::Weights;
use super::{Error, Result};

/// Longest run of tokens pushed through the layers at once. Bounds the
/// attention score matrices (heads × chunk × keys floats) and lets the
/// sliding-window layers attend to at most `window + chunk` keys.
const PREFILL_CHUNK: usize = 512;

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
    pub(crate) tokenizer: TextTokenizer,
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
        let tokenizer = TextTokenizer::from_gguf(&content)?;
        let weights = Weights::load(&content, &mut file, &config)?;
        let rope_local = Rope::new(config.head_dim, config.rope_local_base, options.max_context);
        let rope_global = Rope::new(
            config.head_dim,
            config.rope_global_base,
            options.max_context,
        );
        tracing::info!(
            path = %path.display(),
            tensors = weights.tensor_count,
            megabytes = weights.bytes as f64 / 1e6,
            max_context = options.max_context,
            seconds = started.elapsed().as_secs_f64(),
            "language model loaded"
        );
        Ok(Self {
            config,
            weights,
            rope_local,
            rope_global,
            tokenizer,
            max_context: options.max_context,
        })
    }

    /// The tokenizer read from the same file.
    pub fn tokenizer(&self) -> &TextTokenizer {
        &self.tokenizer
    }

    /// Longest sequence a cache may hold.
    pub fn max_context(&self) -> usize {
        self.max_context
    }

    /// Size of the vocabulary (rows of the output head).
    pub fn vocab_size(&self) -> usize {
        self.weights.embed.shape().dims()[0]
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
        let hidden = self.forward_hidden(cache, tokens, 1)?;
        let logits = self.weights.head.forward(&hidden)?;
        Ok(logits.squeeze(0)?.to_vec1()?)
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
        if tokens.is_empty() || keep_last == 0 || keep_last > tokens.len() {
            return Err(Error::InvalidRequest(format!(
                "cannot keep {keep_last} positions of {} new tokens",
                tokens.len()
            )));
        }
        if cache.layer_count() != self.config.layers {
            return Err(Error::InvalidRequest("cache made by another model".into()));
        }
        let needed = cache.len() + tokens.len();
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
        // Work on a clone so a failure leaves the caller's cache intact.
        let mut work = cache.clone();
        let hidden_size = self.config.hidden;
        let mut kept = Vec::with_capacity(keep_last * hidden_size);
        let first_kept = tokens.len() - keep_last;
        let mut offset = 0;
        for chunk in tokens.chunks(PREFILL_CHUNK) {
            let hidden = self.forward_chunk(&mut work, chunk)?;
            let end = offset + chunk.len();
            if end > first_kept {
                let from = first_kept.saturating_sub(offset);
                kept.extend_from_slice(&hidden[from * hidden_size..]);
            }
            offset = end;
        }
        rms_norm(&mut kept, &self.weights.output_norm, self.config.rms_eps);
        work.set_last_hidden(kept[(keep_last - 1) * hidden_size..].to_vec());
        *cache = work;
        Ok(Tensor::from_vec(
            kept,
            (keep_last, hidden_size),
            &Device::Cpu,
        )?)
    }

    /// One chunk through every layer; returns its hidden states (row-major)
    /// before the final norm.
    fn forward_chunk(&self, cache: &mut KvCache, tokens: &[u32]) -> Result<Vec<f32>> {
        let config = &self.config;
        let pos = cache.len();
        let ids = Tensor::new(tokens, &Device::Cpu)?;
        let mut x: Vec<f32> = self
            .weights
            .embed
            .embedding(&ids)?
            .flatten_all()?
            .to_vec1()?;
        let scale = (config.hidden as f32).sqrt();
        x.iter_mut().for_each(|v| *v *= scale);
        for (i, layer) in self.weights.layers.iter().enumerate() {
            let global = config.is_global(i);
            let shape = Heads {
                heads: config.heads,
                kv_heads: config.kv_heads,
                head_dim: config.head_dim,
                window: (!global).then_some(config.sliding_window),
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
            layer.forward(&mut x, tokens.len(), pos, context, cache.layer_mut(i))?;
        }
        cache.advance(tokens.len());
        Ok(x)
    }
}
