//! Who writes the text of generative answers: the embedded model through
//! the [`engine`](crate::engine) (the default), or a remote
//! OpenAI-compatible completion server (llama.cpp's server, vLLM, TGI) when
//! one machine's CPU is not enough.
//!
//! Only writing moves: reading (re-ranking, span extraction) stays on the
//! embedded model, and whatever a generator writes still goes through the
//! answer pipeline's grounding check, with the extractive answer as the
//! fallback. So a remote server can make answers better worded, never less
//! grounded.
//!
//! Knows nothing of HTTP serving or of the answer pipeline; depends on
//! [`crate::engine`] for the embedded model and on reqwest for the remote one.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod remote;

use futures::future::BoxFuture;

use crate::engine::{self, Engine, GenerationSummary};
use crate::llm::GenerationParams;

pub use remote::{RemoteGenerator, RemoteSettings};

/// What can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The embedded model failed or is overloaded.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// The remote server could not be reached (refused, reset, DNS), even
    /// after retrying.
    #[error("the generation server at {url} is unreachable after {attempts} attempts: {detail}")]
    Unreachable {
        /// The address tried.
        url: String,
        /// How many connections were attempted.
        attempts: u32,
        /// The last connection error.
        detail: String,
    },
    /// The remote server did not answer in time.
    #[error("the generation server at {url} did not answer within {seconds} s")]
    Timeout {
        /// The address tried.
        url: String,
        /// The time allowed.
        seconds: u64,
    },
    /// The remote server answered with an error status.
    #[error("the generation server at {url} answered HTTP {status}: {detail}")]
    Status {
        /// The address tried.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The start of its error body.
        detail: String,
    },
    /// The remote server's reply is not an OpenAI completion.
    #[error("the generation server at {url} sent a reply that is not a completion: {detail}")]
    InvalidResponse {
        /// The address tried.
        url: String,
        /// What was wrong with it.
        detail: String,
    },
    /// The remote settings cannot work (a malformed URL).
    #[error("invalid generator settings: {0}")]
    Config(String),
}

impl Error {
    /// Whether the generator is down or overloaded rather than wrongly
    /// configured: the answer can still be given by quoting, and the
    /// condition may pass by itself.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Timeout { .. } => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Engine(_) | Self::InvalidResponse { .. } | Self::Config(_) => false,
        }
    }

    /// A description for API clients: what failed, without the internal
    /// addresses the full message names.
    pub fn public_message(&self) -> String {
        match self {
            Self::Engine(error) => error.to_string(),
            Self::Unreachable { .. } => "the text generation server is unreachable".into(),
            Self::Timeout { .. } => "the text generation server did not answer in time".into(),
            Self::Status { status, .. } => {
                format!("the text generation server refused the request (HTTP {status})")
            }
            Self::InvalidResponse { .. } => {
                "the text generation server sent a reply that could not be read".into()
            }
            Self::Config(_) => "the text generation server is misconfigured".into(),
        }
    }
}

/// Result of generator calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Something that writes a continuation of a prompt.
///
/// Returns a boxed future so that the pipeline can hold any implementation
/// as `Arc<dyn Generator>`, chosen at start-up from the configuration.
pub trait Generator: Send + Sync + 'static {
    /// Writes a continuation of `prompt` (a trusted template built by the
    /// answer pipeline) within `params`.
    fn generate<'a>(
        &'a self,
        prompt: &'a str,
        params: &'a GenerationParams,
    ) -> BoxFuture<'a, Result<GenerationSummary>>;

    /// Which generator this is, for the logs.
    fn describe(&self) -> String;
}

/// The embedded model, through the engine's queue.
#[derive(Clone)]
pub struct EmbeddedGenerator {
    engine: Engine,
}

impl EmbeddedGenerator {
    /// Writes with the model that `engine` runs.
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }
}

impl Generator for EmbeddedGenerator {
    fn generate<'a>(
        &'a self,
        prompt: &'a str,
        params: &'a GenerationParams,
    ) -> BoxFuture<'a, Result<GenerationSummary>> {
        Box::pin(async move {
            Ok(self
                .engine
                .generate(prompt.to_string(), params.clone(), None)
                .await?)
        })
    }

    fn describe(&self) -> String {
        "the embedded model".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_and_overloaded_servers_are_unavailable_misconfigured_ones_are_not() {
        let status = |status| Error::Status {
            url: "u".into(),
            status,
            detail: String::new(),
        };
        assert!(status(503).is_unavailable());
        assert!(status(429).is_unavailable());
        assert!(!status(404).is_unavailable());
        assert!(Error::Timeout {
            url: "u".into(),
            seconds: 1
        }
        .is_unavailable());
        assert!(!Error::Engine(engine::Error::Overloaded).is_unavailable());
    }

    #[test]
    fn public_messages_do_not_name_the_internal_address() {
        let error = Error::Unreachable {
            url: "http://10.0.0.7:8081/v1/completions".into(),
            attempts: 3,
            detail: "connection refused".into(),
        };
        assert!(error.to_string().contains("10.0.0.7"));
        assert!(!error.public_message().contains("10.0.0.7"));
    }
}
