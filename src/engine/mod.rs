//! The engine owns the language model on a dedicated thread and serves the
//! async world through channels.
//!
//! Forward passes are long CPU-bound computations: running them on tokio's
//! workers would stall every other request, so one OS thread owns the
//! [`Backend`] and takes jobs from a bounded queue. When the queue is full,
//! [`Engine`] refuses at once with [`Error::Overloaded`] (the HTTP layer
//! answers 503 with `Retry-After`) instead of letting waits grow without
//! bound. A job whose caller has gone away (a closed connection) is skipped.
//!
//! Generations are batched continuously: while one runs, every queued
//! generation joins it at the next decoding step (up to [`MAX_TOGETHER`]),
//! all sharing one forward pass per step, and a finished one leaves; other
//! queued work (scoring, spans) runs between two steps.
//!
//! Knows nothing of HTTP; depends on [`crate::llm`] only for its types.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod backend;
mod memo;
mod worker;

pub use backend::{
    Backend, GenerationJob, GenerationSummary, ResultSink, Score, TextSink, WithEmbedder,
    MAX_TOGETHER,
};
pub use memo::{Memo, MemoStats};
pub use worker::{Engine, Stats};

/// What can go wrong when asking the engine for work.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The queue is full: the caller should retry shortly.
    #[error("the assistant is busy, retry in a moment")]
    Overloaded,
    /// The worker thread is gone (it panicked or the engine shut down).
    #[error("the language model is not running")]
    Stopped,
    /// The model failed on this input.
    #[error("language model error: {0}")]
    Model(#[from] crate::llm::Error),
}

/// Result of engine calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;
