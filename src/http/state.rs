//! The state every handler shares.

use std::sync::{Arc, OnceLock};

use crate::answer::AnswerPipeline;

use super::error::ApiError;

/// Shared handles; cheap to clone. The pipeline is set once the model and
/// index are loaded: the server listens before that, so a kiosk browser
/// gets « starting » instead of a refused connection.
#[derive(Clone, Default)]
pub struct AppState {
    pipeline: Arc<OnceLock<AnswerPipeline>>,
}

impl AppState {
    /// A state whose pipeline is already loaded.
    pub fn ready(pipeline: AnswerPipeline) -> Self {
        let state = Self::default();
        state.set_ready(pipeline);
        state
    }

    /// Makes the loaded pipeline available to handlers (first call wins).
    pub fn set_ready(&self, pipeline: AnswerPipeline) {
        let _ = self.pipeline.set(pipeline);
    }

    /// The pipeline, or `Starting` while it loads.
    pub fn pipeline(&self) -> Result<&AnswerPipeline, ApiError> {
        self.pipeline.get().ok_or(ApiError::Starting)
    }
}
