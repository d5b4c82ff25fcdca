//! The state every handler shares.

use std::sync::{Arc, OnceLock};

use crate::answer::AnswerPipeline;
use crate::reindex::Reindexer;
use crate::store::Store;

use super::error::ApiError;
use super::metrics::{AbandonGuard, HttpCounters};
use super::FrontEnds;

/// Shared handles; cheap to clone. The pipeline is set once the model and
/// index are loaded: the server listens before that, so a kiosk browser
/// gets « starting » instead of a refused connection.
#[derive(Clone, Default)]
pub struct AppState {
    pipeline: Arc<OnceLock<AnswerPipeline>>,
    reindexer: Arc<OnceLock<Arc<Reindexer>>>,
    store: Option<Arc<Store>>,
    front_ends: Arc<FrontEnds>,
    api_key: Option<Arc<str>>,
    counters: Arc<HttpCounters>,
}

impl AppState {
    /// A state whose pipeline is already loaded.
    pub fn ready(pipeline: AnswerPipeline) -> Self {
        let state = Self::default();
        state.set_ready(pipeline);
        state
    }

    /// Keeps answers, feedback and unanswered questions in `store`; without
    /// one, nothing is kept and feedback answers 503.
    pub fn with_store(mut self, store: Arc<Store>) -> Self {
        self.store = Some(store);
        self
    }

    /// Sets the front ends' options (staff token, widget origins, kiosk).
    pub fn with_front_ends(mut self, front_ends: FrontEnds) -> Self {
        self.front_ends = Arc::new(front_ends);
        self
    }

    /// Requires `key` as `Authorization: Bearer` on the OpenAI-compatible
    /// API; `None` (or a blank key) leaves it open.
    pub fn with_api_key(mut self, key: Option<String>) -> Self {
        self.api_key = key.filter(|k| !k.trim().is_empty()).map(Arc::from);
        self
    }

    /// Makes the loaded pipeline available to handlers (first call wins).
    pub fn set_ready(&self, pipeline: AnswerPipeline) {
        let _ = self.pipeline.set(pipeline);
    }

    /// Lets the admin endpoint re-index with `reindexer` (set once, when
    /// the pipeline it feeds is ready).
    pub fn set_reindexer(&self, reindexer: Arc<Reindexer>) {
        let _ = self.reindexer.set(reindexer);
    }

    /// The re-indexer, or `Starting` while the pipeline loads.
    pub(crate) fn reindexer(&self) -> Result<&Arc<Reindexer>, ApiError> {
        self.reindexer.get().ok_or(ApiError::Starting)
    }

    /// The pipeline, or `Starting` while it loads.
    pub fn pipeline(&self) -> Result<&AnswerPipeline, ApiError> {
        self.pipeline.get().ok_or(ApiError::Starting)
    }

    /// The store, when answers are kept.
    pub(crate) fn store(&self) -> Option<&Arc<Store>> {
        self.store.as_ref()
    }

    /// The store, or `Unavailable` for the features that need it.
    pub(crate) fn required_store(&self) -> Result<Arc<Store>, ApiError> {
        self.store
            .clone()
            .ok_or_else(|| ApiError::Unavailable("answers are not kept on this server".into()))
    }

    /// The key the OpenAI-compatible API requires, if any.
    pub(crate) fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// The front ends' options.
    pub(crate) fn front_ends(&self) -> &FrontEnds {
        &self.front_ends
    }

    /// The HTTP layer's own counters (`/metrics`).
    pub(crate) fn counters(&self) -> &HttpCounters {
        &self.counters
    }

    /// A guard to hold while an answer is computed: dropped unfinished, it
    /// counts the answer as abandoned by its client.
    pub(crate) fn abandon_guard(&self) -> AbandonGuard {
        AbandonGuard::new(Arc::clone(&self.counters))
    }
}
