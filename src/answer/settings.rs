//! How the pipeline is set up: the writing mode, how much it retrieves,
//! what it accepts, and how long it remembers conversations.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How much a reply says, chosen by the front end for its audience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// The quotation with its origin (staff, the website).
    #[default]
    Detailed,
    /// Only the short answer, or the quoted sentences, in plain words; the
    /// sources still come with the reply (the kiosk shows them as cards).
    Short,
    /// Like `Detailed` without the line saying where the quote comes from,
    /// for clients that list the sources themselves (the OpenAI-compatible
    /// API appends a « Sources : » list).
    Body,
}

/// How answers are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Writing {
    /// Quote the documents.
    Reader,
    /// Let the model write from the passages, then check it. `chat_template`
    /// wraps the prompt (`{prompt}` marks the user turn); without one the
    /// prompt is a plain completion.
    Generative {
        /// The model's chat template.
        chat_template: Option<String>,
    },
}

/// Settings of the pipeline.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How answers are written.
    pub writing: Writing,
    /// Passages retrieved per question.
    pub passages: usize,
    /// Sentences re-ranked by the model per question.
    pub rerank: usize,
    /// Longest message accepted, in characters.
    pub max_message_chars: usize,
    /// Idle time after which a conversation is forgotten.
    pub session_idle: Duration,
    /// Conversations remembered at most.
    pub session_capacity: usize,
    /// Name of the embedding model, part of each cached vector's key.
    pub embedding_model: String,
    /// Where the corpus sentences' vectors are cached (none: in memory).
    pub vector_cache: Option<PathBuf>,
    /// The corpus folder, where staff list the questions to suggest
    /// ([`crate::corpus::suggestions::FILE_NAME`]); none: suggest headings.
    pub corpus_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            writing: Writing::Reader,
            passages: 6,
            rerank: 5,
            max_message_chars: 2000,
            session_idle: Duration::from_secs(30 * 60),
            session_capacity: 10_000,
            embedding_model: "embedding".into(),
            vector_cache: None,
            corpus_dir: None,
        }
    }
}
