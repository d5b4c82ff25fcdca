//! The language model: our own Gemma 3 forward pass on candle's quantized
//! kernels, the tokenizer built from the GGUF metadata with its streaming
//! detokenizer, and the reader primitives the answer pipeline builds on
//! (next-token logits, scoring of a continuation, free and constrained
//! generation). Synchronous; knows nothing of tokio or HTTP.
//!
//! The weights ([`LanguageModel`]) are immutable and shared: every method
//! takes `&self`, so one loaded model can serve many conversations. What
//! belongs to one sequence (the attention keys and values of the tokens seen
//! so far) lives in a [`KvCache`] the caller owns, which is what makes prefix
//! reuse and multi-turn continuation possible.

mod attention;
mod cache;
mod config;
mod constraint;
pub mod detokenizer;
pub mod embedding;
mod generate;
mod head;
mod huge_pages;
pub mod kernels;
mod layer;
mod linear;
mod mask;
mod model;
mod ops;
mod requant;
mod stop;
mod token_table;
pub mod tokenizer;
mod weights;

pub use cache::KvCache;
pub use constraint::{Constraint, SpanConstraint};
pub use embedding::{Embedder, Input};
pub use generate::{Decoding, FinishReason, Generation, GenerationParams};
pub use model::{LanguageModel, LoadOptions};
pub use tokenizer::TextTokenizer;

pub(crate) use ops::argmax;

/// Errors of the language-model module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor operation failed inside candle.
    #[error("tensor operation failed: {0}")]
    Candle(#[from] candle_core::Error),
    /// The model file could not be read.
    #[error("cannot read model file: {0}")]
    Io(#[from] std::io::Error),
    /// The tokenizer could not be built or could not decode.
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] tokenizer::Error),
    /// The GGUF file does not describe a model this code can run.
    #[error("unsupported model file: {0}")]
    UnsupportedModel(String),
    /// The sequence would grow past the context the model was loaded for.
    #[error("sequence of {needed} tokens exceeds the supported context of {max} tokens")]
    ContextOverflow {
        /// Positions the request would need.
        needed: usize,
        /// `LoadOptions::max_context`.
        max: usize,
    },
    /// A cache cannot be cut back to the requested length because the
    /// sliding-window layers have already dropped keys that length needs.
    #[error("cannot truncate the cache to {requested} tokens (sliding-window keys kept from position {kept_from})")]
    CannotTruncate {
        /// The requested length.
        requested: usize,
        /// First position still held by the sliding-window layers.
        kept_from: usize,
    },
    /// The caller passed arguments the model cannot act on.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// Result type of the language-model module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
