//! Keeping the index in step with `corpus/` while serving: one re-index
//! action, shared by the file watcher and `POST /api/admin/reindex`.
//!
//! A re-index reads the corpus, applies only the documents that changed and
//! refreshes the pipeline's corpus statistics. Searches never see a
//! half-built index: tantivy publishes an update as one commit, and a search
//! holds the snapshot it started with. Re-indexes are serialised; a change
//! that lands while one runs is picked up by the next (the watcher fires
//! again), and a run with nothing to do costs one corpus read.
//!
//! Knows nothing of HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{new_debouncer, DebounceEventResult, Debouncer};
use serde::Serialize;

use crate::answer::{self, AnswerPipeline};
use crate::corpus;
use crate::search::{self, SyncReport};

/// What can fail while re-indexing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The corpus folder could not be read.
    #[error("reading the corpus: {0}")]
    Corpus(#[from] corpus::Error),
    /// The index could not be updated.
    #[error("updating the index: {0}")]
    Search(#[from] search::Error),
    /// The pipeline could not re-read the index.
    #[error(transparent)]
    Answer(#[from] answer::Error),
    /// The re-index task panicked or was cancelled.
    #[error("re-index task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The corpus folder cannot be watched.
    #[error("watching {path}: {source}")]
    Watch {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: notify_debouncer_mini::notify::Error,
    },
}

/// Result of re-index operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What one re-index did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Documents added, updated, removed and left alone.
    #[serde(flatten)]
    pub changes: SyncReport,
    /// The same counts in words: `added 2, updated 1, removed 1, unchanged 14`.
    pub summary: String,
    /// Files that could not be read, with the reason.
    pub skipped: Vec<SkippedFile>,
    /// Passages in the index afterwards.
    pub passages: usize,
    /// Time the re-index took.
    pub elapsed_ms: u64,
}

/// A file left out of the index.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFile {
    /// Its path.
    pub path: String,
    /// Why it could not be read.
    pub reason: String,
}

/// Re-indexes one corpus folder into one pipeline's index.
pub struct Reindexer {
    corpus_dir: PathBuf,
    pipeline: AnswerPipeline,
    running: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Reindexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reindexer")
            .field("corpus_dir", &self.corpus_dir)
            .finish_non_exhaustive()
    }
}

impl Reindexer {
    /// A re-indexer of `corpus_dir` into `pipeline`'s index.
    pub fn new(corpus_dir: &Path, pipeline: AnswerPipeline) -> Arc<Self> {
        Arc::new(Self {
            corpus_dir: corpus_dir.to_path_buf(),
            pipeline,
            running: tokio::sync::Mutex::new(()),
        })
    }

    /// The folder this re-indexer reads.
    pub fn corpus_dir(&self) -> &Path {
        &self.corpus_dir
    }

    /// Brings the index up to date with the corpus folder now.
    pub async fn run(&self) -> Result<Outcome> {
        let _one_at_a_time = self.running.lock().await;
        let started = Instant::now();
        let corpus_dir = self.corpus_dir.clone();
        let index = Arc::clone(self.pipeline.search_index());
        let (changes, skipped, passages) = tokio::task::spawn_blocking(move || {
            let (documents, skipped) = corpus::load_dir(&corpus_dir)?;
            let passages = corpus::chunk_documents(&documents);
            let changes = index.sync(&passages)?;
            Ok::<_, Error>((changes, skipped, passages.len()))
        })
        .await??;
        if changes.changed() {
            let pipeline = self.pipeline.clone();
            tokio::task::spawn_blocking(move || pipeline.refresh_knowledge()).await??;
            // Only new or changed sentences reach the model; a failure
            // leaves the new passages found by their words alone.
            if let Err(error) = self.pipeline.embed_corpus().await {
                tracing::warn!(%error, "could not embed the re-indexed corpus");
            }
        }
        for file in &skipped {
            tracing::warn!(path = %file.path.display(), reason = %file.reason, "document skipped");
        }
        let outcome = Outcome {
            changes,
            summary: changes.to_string(),
            skipped: skipped
                .into_iter()
                .map(|s| SkippedFile {
                    path: s.path.display().to_string(),
                    reason: s.reason,
                })
                .collect(),
            passages,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        tracing::info!(changes = %outcome.summary, elapsed_ms = outcome.elapsed_ms, "re-indexed");
        Ok(outcome)
    }

    /// Watches the corpus folder and re-indexes `quiet` after the last of a
    /// burst of changes (an editor's save, a folder copied in). Watching
    /// stops when the returned value is dropped.
    pub fn watch(self: &Arc<Self>, quiet: Duration) -> Result<CorpusWatcher> {
        let changed = Arc::new(tokio::sync::Notify::new());
        let signal = Arc::clone(&changed);
        let mut debouncer = new_debouncer(quiet, move |events: DebounceEventResult| match events {
            Ok(_) => signal.notify_one(),
            Err(err) => tracing::warn!(%err, "corpus watcher error"),
        })
        .map_err(|source| self.watch_error(source))?;
        debouncer
            .watcher()
            .watch(&self.corpus_dir, RecursiveMode::Recursive)
            .map_err(|source| self.watch_error(source))?;
        let reindexer = Arc::clone(self);
        let task = tokio::spawn(async move {
            loop {
                changed.notified().await;
                if let Err(err) = reindexer.run().await {
                    tracing::error!(%err, "re-index after a corpus change failed");
                }
            }
        });
        tracing::info!(dir = %self.corpus_dir.display(), "watching the corpus for changes");
        Ok(CorpusWatcher {
            _debouncer: debouncer,
            task,
        })
    }

    fn watch_error(&self, source: notify_debouncer_mini::notify::Error) -> Error {
        Error::Watch {
            path: self.corpus_dir.clone(),
            source,
        }
    }
}

/// A running watch of the corpus folder; dropping it stops the watch.
pub struct CorpusWatcher {
    _debouncer: Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for CorpusWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorpusWatcher").finish_non_exhaustive()
    }
}

impl Drop for CorpusWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}
