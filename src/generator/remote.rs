//! A remote OpenAI-compatible completion server (`POST {base}/completions`):
//! llama.cpp's server, vLLM and TGI all speak it.
//!
//! The plain completion endpoint, not the chat one, because the answer
//! pipeline builds the whole prompt itself (instructions, neutralized
//! passages, the chat template when one is configured): the server must
//! write after exactly that text.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::json;

use super::{Error, Generator, Result};
use crate::engine::GenerationSummary;
use crate::llm::{FinishReason, GenerationParams};

/// How to reach the server.
#[derive(Debug, Clone)]
pub struct RemoteSettings {
    /// Base URL of the OpenAI-compatible API, e.g. `http://127.0.0.1:8081/v1`.
    pub base_url: String,
    /// The `model` field sent; `None` leaves it out, which single-model
    /// servers (llama.cpp, vLLM) accept.
    pub model: Option<String>,
    /// Longest wait for one whole completion.
    pub timeout: Duration,
    /// Longest wait to open a connection.
    pub connect_timeout: Duration,
    /// Connection attempts before giving up (at least 1).
    pub attempts: u32,
    /// Wait before the second attempt; doubled before each next one.
    pub first_backoff: Duration,
}

impl Default for RemoteSettings {
    fn default() -> Self {
        Self {
            base_url: "http://127.0.0.1:8081/v1".into(),
            model: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(2),
            attempts: 3,
            first_backoff: Duration::from_millis(250),
        }
    }
}

/// A generator that asks a remote completion server.
#[derive(Debug, Clone)]
pub struct RemoteGenerator {
    client: reqwest::Client,
    url: String,
    settings: RemoteSettings,
}

/// The parts of an OpenAI completion reply we read.
#[derive(Debug, Deserialize)]
struct Completion {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    text: String,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: usize,
    #[serde(default)]
    completion_tokens: usize,
}

impl RemoteGenerator {
    /// A generator for the server at `settings.base_url`; fails only on a
    /// malformed URL (nothing is contacted yet).
    pub fn new(settings: RemoteSettings) -> Result<Self> {
        let base = settings.base_url.trim_end_matches('/');
        let parsed = reqwest::Url::parse(base)
            .map_err(|error| Error::Config(format!("generator URL {base:?}: {error}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "generator URL {base:?}: use http:// or https://"
            )));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .build()
            .map_err(|error| Error::Config(format!("HTTP client: {error}")))?;
        Ok(Self {
            client,
            url: format!("{base}/completions"),
            settings,
        })
    }

    /// The request body for `prompt`.
    fn body(&self, prompt: &str, params: &GenerationParams) -> serde_json::Value {
        let mut body = json!({
            "prompt": prompt,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature.max(0.0),
            "stream": false,
        });
        if let Some(model) = &self.settings.model {
            body["model"] = json!(model);
        }
        if let Some(top_p) = params.top_p {
            body["top_p"] = json!(top_p);
        }
        if let Some(top_k) = params.top_k {
            body["top_k"] = json!(top_k);
        }
        if !params.stop_sequences.is_empty() {
            // OpenAI's API takes four stop sequences at most.
            let stops: Vec<&String> = params.stop_sequences.iter().take(4).collect();
            body["stop"] = json!(stops);
        }
        body
    }

    /// Sends `body`, retrying with exponential backoff while the connection
    /// cannot be opened. Nothing else is retried: a timeout or an error
    /// status means the server did receive the request, and sending it again
    /// would only add to its load.
    async fn send(&self, body: &serde_json::Value) -> Result<reqwest::Response> {
        let attempts = self.settings.attempts.max(1);
        let mut backoff = self.settings.first_backoff;
        let mut attempt = 1;
        loop {
            match self.client.post(&self.url).json(body).send().await {
                Ok(response) => return Ok(response),
                Err(error) if error.is_connect() && attempt < attempts => {
                    tracing::warn!(
                        error = %error_chain(&error),
                        attempt,
                        url = %self.url,
                        "generation server unreachable, retrying"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = backoff.saturating_mul(2);
                    attempt += 1;
                }
                Err(error) => return Err(self.transport_error(&error, attempt)),
            }
        }
    }

    fn transport_error(&self, error: &reqwest::Error, attempts: u32) -> Error {
        if error.is_timeout() {
            Error::Timeout {
                url: self.url.clone(),
                seconds: self.settings.timeout.as_secs(),
            }
        } else {
            Error::Unreachable {
                url: self.url.clone(),
                attempts,
                detail: error_chain(error),
            }
        }
    }

    async fn complete(&self, prompt: &str, params: &GenerationParams) -> Result<GenerationSummary> {
        let started = Instant::now();
        let response = self.send(&self.body(prompt, params)).await?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|error| self.transport_error(&error, 1))?;
        if !status.is_success() {
            return Err(Error::Status {
                url: self.url.clone(),
                status: status.as_u16(),
                detail: String::from_utf8_lossy(&bytes).chars().take(300).collect(),
            });
        }
        let completion: Completion =
            serde_json::from_slice(&bytes).map_err(|error| Error::InvalidResponse {
                url: self.url.clone(),
                detail: error.to_string(),
            })?;
        let Some(choice) = completion.choices.into_iter().next() else {
            return Err(Error::InvalidResponse {
                url: self.url.clone(),
                detail: "no choice in the reply".into(),
            });
        };
        let usage = completion.usage.unwrap_or(Usage {
            prompt_tokens: 0,
            completion_tokens: 0,
        });
        let finish_reason = match choice.finish_reason.as_deref() {
            Some("length") => FinishReason::Length,
            _ => FinishReason::Stop,
        };
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(
            prompt_tokens = usage.prompt_tokens,
            generated_tokens = usage.completion_tokens,
            ms = elapsed_ms,
            ?finish_reason,
            "remote generation"
        );
        Ok(GenerationSummary {
            text: choice.text,
            prompt_tokens: usage.prompt_tokens,
            generated_tokens: usage.completion_tokens,
            finish_reason,
            // The server does not say how its time divides.
            prefill_ms: 0.0,
            decode_ms: elapsed_ms,
        })
    }
}

impl Generator for RemoteGenerator {
    fn generate<'a>(
        &'a self,
        prompt: &'a str,
        params: &'a GenerationParams,
    ) -> BoxFuture<'a, Result<GenerationSummary>> {
        Box::pin(self.complete(prompt, params))
    }

    fn describe(&self) -> String {
        format!("the completion server at {}", self.url)
    }
}

/// The error with its causes: reqwest's own message is only « error sending
/// request », the useful part (« Connection refused ») is in the sources.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_the_body_carries_the_params() {
        assert!(RemoteGenerator::new(RemoteSettings {
            base_url: "ftp://x".into(),
            ..RemoteSettings::default()
        })
        .is_err());
        let generator = RemoteGenerator::new(RemoteSettings {
            base_url: "http://127.0.0.1:9/v1/".into(),
            model: Some("gemma".into()),
            ..RemoteSettings::default()
        })
        .unwrap();
        assert_eq!(generator.url, "http://127.0.0.1:9/v1/completions");
        let params = GenerationParams {
            max_tokens: 7,
            stop_sequences: vec!["\n".into()],
            ..GenerationParams::default()
        };
        let body = generator.body("Question :", &params);
        assert_eq!(body["model"], "gemma");
        assert_eq!(body["max_tokens"], 7);
        assert_eq!(body["stop"], json!(["\n"]));
        assert!(body.get("top_p").is_none());
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_after_the_retries() {
        // Bind then drop: the port is very likely closed right after.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let generator = RemoteGenerator::new(RemoteSettings {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            attempts: 3,
            first_backoff: Duration::from_millis(1),
            ..RemoteSettings::default()
        })
        .unwrap();
        let error = generator
            .generate("Bonjour", &GenerationParams::default())
            .await
            .unwrap_err();
        assert!(
            matches!(error, Error::Unreachable { attempts: 3, .. }),
            "{error}"
        );
        assert!(error.is_unavailable());
        assert!(error.to_string().contains("unreachable"), "{error}");
    }
}
