//! Retrieval over the corpus passages: a tantivy index with a French
//! analyzer, typo-tolerant queries and highlighted snippets, and the
//! sentences' meaning vectors with their cache ([`vectors`]; computing
//! them is the answer pipeline's, through the engine).
//!
//! [`SearchIndex`] owns the index and one reader for its whole life; each
//! query takes its own searcher. The index is derived data: it is rebuilt
//! from the passages whenever their fingerprint changes, and a schema
//! mismatch on disk simply triggers a rebuild. Synchronous (callers on an
//! async runtime use `spawn_blocking`); depends on [`crate::corpus`] for
//! [`Passage`] and on nothing above it.

mod analyzer;
mod fingerprint;
mod fuzzy;
mod index;
mod query;
mod schema;
mod stopwords;
pub mod vectors;

use crate::corpus::Passage;

pub use analyzer::{analyze, analyze_words, french_analyzer, ANALYZER_NAME};
pub use fingerprint::corpus_fingerprint;
pub use index::SearchIndex;
pub use query::escape_html;
pub use vectors::{vector_key, SentenceAt, SentenceVectors, VectorCache, VectorKey, WordVectors};

/// Errors raised by the index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Tantivy failed (I/O inside the index, corrupt segment, lock held...).
    #[error(transparent)]
    Tantivy(#[from] tantivy::TantivyError),
    /// The index folder could not be opened as a tantivy directory.
    #[error(transparent)]
    Directory(#[from] tantivy::directory::error::OpenDirectoryError),
    /// Creating or clearing the index folder failed.
    #[error("index folder: {0}")]
    Io(#[from] std::io::Error),
    /// A stored field could not be encoded or decoded as JSON.
    #[error("stored sentences: {0}")]
    Json(#[from] serde_json::Error),
    /// A stored document lacks a field every passage has.
    #[error("malformed index: {0}")]
    Malformed(String),
}

/// Result alias for search operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What an index update did, counted in documents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SyncReport {
    /// Documents indexed for the first time.
    pub added: usize,
    /// Documents whose passages changed and were re-indexed.
    pub updated: usize,
    /// Documents no longer in the corpus, removed from the index.
    pub removed: usize,
    /// Documents left as they were.
    pub unchanged: usize,
}

impl SyncReport {
    /// Whether the index content changed.
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.removed > 0
    }
}

impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "added {}, updated {}, removed {}, unchanged {}",
            self.added, self.updated, self.removed, self.unchanged
        )
    }
}

/// One retrieved passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The passage, as indexed.
    pub passage: Passage,
    /// BM25 score (with field boosts and fuzzy alternatives); only
    /// comparable between hits of the same query.
    pub score: f32,
    /// A fragment of the passage body, HTML-escaped, with matched words in
    /// `<mark>…</mark>`; the start of the passage when only its title or
    /// heading matched.
    pub snippet_html: String,
}
