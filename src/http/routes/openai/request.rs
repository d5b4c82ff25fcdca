//! The chat completion request: what clients send, checked once, and turned
//! into what the answer pipeline needs (the question and the conversation's
//! sessions).

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::error::OpenAiError;
use super::MODEL_ID;

/// `POST /v1/chat/completions`'s body. Fields this server does not use
/// (`user`, `seed`, `presence_penalty`…) are accepted and ignored, as
/// clients send them by default.
#[derive(Debug, Deserialize)]
pub(crate) struct ChatRequest {
    model: String,
    messages: Vec<Message>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    #[serde(default)]
    max_tokens: Option<i64>,
    /// The newer name of `max_tokens`.
    #[serde(default)]
    max_completion_tokens: Option<i64>,
    #[serde(default)]
    temperature: Option<f64>,
    #[serde(default)]
    top_p: Option<f64>,
    #[serde(default)]
    stop: Option<Stop>,
    #[serde(default)]
    n: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct Message {
    role: String,
    #[serde(default)]
    content: Option<Content>,
}

/// A message's content: a string, or a list of parts of which only text
/// parts are understood.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Debug, Deserialize)]
struct Part {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

/// A checked request.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// The last user message: the question.
    pub(crate) question: String,
    /// The session that holds the conversation up to the question.
    pub(crate) previous_session: String,
    /// The session the question's turn is recorded in.
    pub(crate) session: String,
    /// Every message's text, for the usage count.
    pub(crate) prompt_texts: Vec<String>,
    pub(crate) stream: bool,
    pub(crate) include_usage: bool,
    pub(crate) max_tokens: Option<usize>,
    pub(crate) stop: Vec<String>,
}

impl ChatRequest {
    /// Checks every field; the first problem found is the error.
    pub(crate) fn prepare(self) -> Result<Prepared, OpenAiError> {
        if self.model != MODEL_ID {
            return Err(OpenAiError::model_not_found(&self.model));
        }
        if let Some(n) = self.n {
            if n != 1 {
                return Err(OpenAiError::invalid("n", "only n = 1 is supported"));
            }
        }
        // Accepted for compatibility: grounded answers are quoted or checked
        // against the sources, and a sampled wording would not make them
        // any truer, so these do not change the reply.
        if let Some(t) = self.temperature {
            if !(0.0..=2.0).contains(&t) {
                return Err(OpenAiError::invalid(
                    "temperature",
                    format!("temperature must be between 0 and 2, got {t}"),
                ));
            }
        }
        if let Some(p) = self.top_p {
            if !(0.0..=1.0).contains(&p) {
                return Err(OpenAiError::invalid(
                    "top_p",
                    format!("top_p must be between 0 and 1, got {p}"),
                ));
            }
        }
        let max_tokens = match (self.max_completion_tokens, self.max_tokens) {
            (Some(m), _) => Some(("max_completion_tokens", m)),
            (None, Some(m)) => Some(("max_tokens", m)),
            (None, None) => None,
        };
        let max_tokens = match max_tokens {
            Some((param, m)) if m < 1 => {
                return Err(OpenAiError::invalid(
                    param,
                    format!("{param} must be at least 1, got {m}"),
                ))
            }
            Some((_, m)) => Some(usize::try_from(m).unwrap_or(usize::MAX)),
            None => None,
        };
        let stop = match self.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s],
            Some(Stop::Many(list)) => list,
        };
        if stop.len() > 4 || stop.iter().any(String::is_empty) {
            return Err(OpenAiError::invalid(
                "stop",
                "stop takes up to 4 non-empty sequences",
            ));
        }
        let (question, user_turns, prompt_texts) = read_messages(self.messages)?;
        let previous = &user_turns[..user_turns.len() - 1];
        Ok(Prepared {
            question,
            previous_session: session_of(previous),
            session: session_of(&user_turns),
            prompt_texts,
            stream: self.stream.unwrap_or(false),
            include_usage: self.stream_options.is_some_and(|o| o.include_usage),
            max_tokens,
            stop,
        })
    }
}

/// The question, every user turn (the question last) and every message's
/// text.
fn read_messages(
    messages: Vec<Message>,
) -> Result<(String, Vec<String>, Vec<String>), OpenAiError> {
    if messages.is_empty() {
        return Err(OpenAiError::invalid(
            "messages",
            "messages must hold at least one user message",
        ));
    }
    let last = messages.len() - 1;
    let mut user_turns = Vec::new();
    let mut texts = Vec::new();
    for (i, message) in messages.into_iter().enumerate() {
        let param = format!("messages[{i}]");
        let text = match message.content {
            None => String::new(),
            Some(Content::Text(text)) => text,
            Some(Content::Parts(parts)) => {
                let mut text = String::new();
                for part in parts {
                    match (part.kind.as_str(), part.text) {
                        ("text", Some(piece)) => text.push_str(&piece),
                        _ => {
                            return Err(OpenAiError::invalid(
                                &format!("{param}.content"),
                                "only text content is supported",
                            ))
                        }
                    }
                }
                text
            }
        };
        match message.role.as_str() {
            "user" => user_turns.push(text.clone()),
            // System prompts are accepted (most clients always send one)
            // but never obeyed: the rules that keep answers grounded are
            // not the client's to change. Assistant turns are the client's
            // copy of our replies; the conversation's state is kept from
            // the user turns.
            "system" | "developer" | "assistant" if i != last => {}
            "system" | "developer" | "assistant" | "tool" | "function" if i == last => {
                return Err(OpenAiError::invalid(
                    "messages",
                    "the last message must be the user's question",
                ))
            }
            other => {
                return Err(OpenAiError::invalid(
                    &format!("{param}.role"),
                    format!("unsupported role `{other}`"),
                ))
            }
        }
        texts.push(text);
    }
    let question = user_turns.last().cloned().unwrap_or_default();
    Ok((question, user_turns, texts))
}

/// The session id of a conversation, derived from its user turns.
///
/// OpenAI clients resend the whole conversation with each request and have
/// no session id to give. Replaying the earlier turns through the pipeline
/// would cost a model pass per turn on every request; instead each prefix
/// of the conversation gets a stable id (a hash of its user turns), and a
/// request continues the session of its prefix (see
/// `AnswerPipeline::fork_session`). The same follow-up resolution as
/// `/api/chat` then applies. Two clients sending the same user turns share
/// that state, but it is a function of those turns alone, so neither learns
/// anything it did not send. When the prefix's session has expired (30 min)
/// the question is read on its own.
fn session_of(user_turns: &[String]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"eulcat-openai-conversation");
    for turn in user_turns {
        hasher.update((turn.len() as u64).to_le_bytes());
        hasher.update(turn.as_bytes());
    }
    let digest = hex::encode(hasher.finalize());
    format!("oai-{}", &digest[..40])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::answer::session;

    fn prepare(body: serde_json::Value) -> Result<Prepared, OpenAiError> {
        serde_json::from_value::<ChatRequest>(body)
            .unwrap()
            .prepare()
    }

    #[test]
    fn sessions_chain_along_the_user_turns() {
        let first = prepare(json!({"model": "eulcat", "messages": [
            {"role": "system", "content": "Sois bref."},
            {"role": "user", "content": "Parle-moi du Datathon."}]}))
        .unwrap();
        let second = prepare(json!({"model": "eulcat", "messages": [
            {"role": "system", "content": "Autre consigne, ignorée."},
            {"role": "user", "content": [{"type": "text", "text": "Parle-moi du Datathon."}]},
            {"role": "assistant", "content": "« … »"},
            {"role": "user", "content": "Et qui l'a gagné ?"}]}))
        .unwrap();
        assert_eq!(second.question, "Et qui l'a gagné ?");
        assert_eq!(second.previous_session, first.session);
        assert_ne!(second.session, first.session);
        assert!(session::is_valid_id(&second.session));
    }

    #[test]
    fn out_of_range_fields_are_refused_with_their_name() {
        for (body, param) in [
            (json!({"model": "eulcat", "messages": [], }), "messages"),
            (
                json!({"model": "eulcat", "temperature": 2.5, "messages": [{"role": "user", "content": "x"}]}),
                "temperature",
            ),
            (
                json!({"model": "eulcat", "top_p": -0.1, "messages": [{"role": "user", "content": "x"}]}),
                "top_p",
            ),
            (
                json!({"model": "eulcat", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}),
                "max_tokens",
            ),
            (
                json!({"model": "eulcat", "stop": ["a","b","c","d","e"], "messages": [{"role": "user", "content": "x"}]}),
                "stop",
            ),
            (
                json!({"model": "eulcat", "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}),
                "messages",
            ),
            (
                json!({"model": "eulcat", "messages": [{"role": "wizard", "content": "x"}]}),
                "messages[0].role",
            ),
        ] {
            let error = prepare(body.clone()).unwrap_err();
            assert_eq!(error.body()["error"]["param"], param, "{body}");
        }
    }
}
