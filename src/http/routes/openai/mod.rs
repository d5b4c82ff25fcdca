//! The OpenAI-compatible API (`/v1/chat/completions`, `/v1/models`), for
//! the many tools that already speak it (Open WebUI, LibreChat, the official
//! SDKs).
//!
//! It is another door into the same grounded pipeline as `/api/chat`: the
//! last user message is the question, answered by quoting or by checked
//! generation, with the sources in extra fields (`sources`, `kind`) and, for
//! clients that ignore extra fields, as a « Sources : » list at the end of
//! the content. Errors use OpenAI's shape ([`error`]).

mod error;
mod request;

use std::convert::Infallible;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::stream;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use super::chat::{remember, sse_response, text_pieces};
use crate::answer::language::Language;
use crate::answer::{AnswerPipeline, Reply, Source, Style};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use error::OpenAiError;
use request::{ChatRequest, Prepared};

/// The one model this server lists: the assistant itself.
pub(crate) const MODEL_ID: &str = "eulcat";

/// The `/v1` routes, to be nested under `/v1`; every one needs the API key
/// when one is configured.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/chat/completions", post(chat_completions))
        .route("/models", get(models))
        .route("/models/{id}", get(model))
        .fallback(|| async { OpenAiError::from(ApiError::NotFound) })
        .method_not_allowed_fallback(|| async { OpenAiError::from(ApiError::MethodNotAllowed) })
        .layer(axum::middleware::from_fn_with_state(state, require_api_key))
}

/// An error raised before the request reaches a route (the rate limiter,
/// the origin check), in the shape its client understands: OpenAI's under
/// `/v1` (the SDKs read `error.type` and retry a 429 after `Retry-After`),
/// the API's elsewhere.
pub(crate) fn edge_error(path: &str, error: ApiError) -> Response {
    if path == "/v1" || path.starts_with("/v1/") {
        OpenAiError::from(error).into_response()
    } else {
        error.into_response()
    }
}

/// Refuses requests without the configured key as `Authorization: Bearer`.
async fn require_api_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(expected) = state.api_key() {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_once(' '))
            // The scheme is case-insensitive (RFC 9110 §11.1).
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        // In time independent of where the secrets differ.
        if !given.is_some_and(|given| bool::from(given.as_bytes().ct_eq(expected.as_bytes()))) {
            return OpenAiError::invalid_api_key().into_response();
        }
    }
    next.run(request).await
}

/// JSON body whose rejections use OpenAI's error shape.
struct OpenAiJson<T>(T);

impl<T, S> FromRequest<S> for OpenAiJson<T>
where
    Json<T>: FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = OpenAiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// Seconds since the epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The model entry; `created` is when this server started.
fn model_entry() -> Value {
    static STARTED: OnceLock<u64> = OnceLock::new();
    json!({
        "id": MODEL_ID,
        "object": "model",
        "created": *STARTED.get_or_init(now),
        "owned_by": "eulcat",
    })
}

async fn models() -> Json<Value> {
    Json(json!({ "object": "list", "data": [model_entry()] }))
}

async fn model(Path(id): Path<String>) -> Result<Json<Value>, OpenAiError> {
    if id == MODEL_ID {
        Ok(Json(model_entry()))
    } else {
        Err(OpenAiError::model_not_found(&id))
    }
}

/// A finished completion, before it is written as JSON or as chunks.
struct Completion {
    id: String,
    created: u64,
    content: String,
    finish_reason: &'static str,
    usage: Value,
    reply: Reply,
}

async fn chat_completions(
    State(state): State<AppState>,
    OpenAiJson(request): OpenAiJson<ChatRequest>,
) -> Result<Response, OpenAiError> {
    let prepared = request.prepare()?;
    let pipeline = state.pipeline()?.clone();
    // The whole answer is computed before the first byte, streaming or not:
    // an overloaded engine must still be a 429 with `Retry-After` that
    // clients retry, not an error inside a stream that has already said
    // 200. The text is complete before it is shown in any case (quoted, or
    // checked against the sources).
    let guard = state.abandon_guard();
    let answered = async {
        let completion = complete(&pipeline, &prepared).await?;
        remember(&state, &completion.reply, &prepared.question).await?;
        Ok::<_, OpenAiError>(completion)
    }
    .await;
    guard.finish();
    let completion = answered?;
    if prepared.stream {
        Ok(sse_response(stream::iter(chunks(
            &completion,
            prepared.include_usage,
        ))))
    } else {
        Ok(Json(completion_body(&completion)).into_response())
    }
}

async fn complete(
    pipeline: &AnswerPipeline,
    prepared: &Prepared,
) -> Result<Completion, OpenAiError> {
    pipeline
        .fork_session(&prepared.previous_session, &prepared.session)
        .await;
    let reply = pipeline
        .answer_styled(&prepared.question, Some(&prepared.session), Style::Body)
        .await?;
    let count = |text: &str| {
        pipeline.engine().count_tokens(text).map_err(|error| {
            OpenAiError::from(ApiError::Internal(format!("counting tokens: {error}")))
        })
    };
    let mut content = with_source_list(&reply.answer, &reply.sources, reply.language);
    let mut finish_reason = "stop";
    if let Some(at) = first_stop(&content, &prepared.stop) {
        content.truncate(at);
    }
    if let Some(max) = prepared.max_tokens {
        if count(&content)? > max {
            content = truncate_to_tokens(&content, max, &count)?;
            finish_reason = "length";
        }
    }
    let mut prompt_tokens = 0;
    for text in &prepared.prompt_texts {
        prompt_tokens += count(text)?;
    }
    let completion_tokens = count(&content)?;
    Ok(Completion {
        id: format!("chatcmpl-{}", reply.answer_id),
        created: now(),
        content,
        finish_reason,
        usage: json!({
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }),
        reply,
    })
}

/// The answer followed by a « Sources : » list, one line per distinct
/// document section, for clients that show only the content.
fn with_source_list(answer: &str, sources: &[Source], language: Language) -> String {
    let mut lines: Vec<String> = Vec::new();
    for source in sources {
        let line = match &source.date {
            Some(date) => format!(
                "- {} — {} ({})",
                source.title,
                source.section,
                language.date_in_words(date)
            ),
            None => format!("- {} — {}", source.title, source.section),
        };
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    if lines.is_empty() {
        answer.to_string()
    } else {
        let label = match language {
            Language::French => "Sources\u{a0}:",
            Language::English => "Sources:",
        };
        format!("{answer}\n\n{label}\n{}", lines.join("\n"))
    }
}

/// Where the content ends under OpenAI's `stop`: at the first occurrence of
/// any stop sequence, which is not included.
fn first_stop(content: &str, stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter_map(|stop| content.find(stop.as_str()))
        .min()
}

/// The longest prefix of `content`, cut after a whole word, that is at most
/// `max` tokens. Token counts grow with the prefix, so a binary search over
/// word ends needs only a few tokenizations.
fn truncate_to_tokens(
    content: &str,
    max: usize,
    count: &dyn Fn(&str) -> Result<usize, OpenAiError>,
) -> Result<String, OpenAiError> {
    let mut ends = Vec::new();
    let mut at = 0;
    for piece in text_pieces(content) {
        at += piece.len();
        ends.push(at);
    }
    // `low` is how many words are known to fit, `high` how many at most.
    let (mut low, mut high) = (0, ends.len());
    while low < high {
        let middle = (low + high).div_ceil(2);
        if count(content[..ends[middle - 1]].trim_end())? <= max {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    let end = if low == 0 { 0 } else { ends[low - 1] };
    Ok(content[..end].trim_end().to_string())
}

fn completion_body(completion: &Completion) -> Value {
    json!({
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": MODEL_ID,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": completion.content },
            "finish_reason": completion.finish_reason,
            "logprobs": null,
        }],
        "usage": completion.usage,
        "kind": completion.reply.kind,
        "sources": completion.reply.sources,
        "answer_id": completion.reply.answer_id,
    })
}

/// The stream: a first chunk with the role, the content in pieces, a last
/// chunk with `finish_reason` and the sources, the usage when asked for,
/// then `[DONE]`.
fn chunks(completion: &Completion, include_usage: bool) -> Vec<Result<Event, Infallible>> {
    let chunk = |delta: Value, finish_reason: Option<&str>| {
        json!({
            "id": completion.id,
            "object": "chat.completion.chunk",
            "created": completion.created,
            "model": MODEL_ID,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": null }],
        })
    };
    let mut events = vec![chunk(json!({ "role": "assistant", "content": "" }), None)];
    events.extend(
        text_pieces(&completion.content).map(|piece| chunk(json!({ "content": piece }), None)),
    );
    let mut last = chunk(json!({}), Some(completion.finish_reason));
    last["kind"] = json!(completion.reply.kind);
    last["sources"] = json!(completion.reply.sources);
    last["answer_id"] = json!(completion.reply.answer_id);
    events.push(last);
    if include_usage {
        events.push(json!({
            "id": completion.id,
            "object": "chat.completion.chunk",
            "created": completion.created,
            "model": MODEL_ID,
            "choices": [],
            "usage": completion.usage,
        }));
    }
    let mut events: Vec<Result<Event, Infallible>> = events
        .into_iter()
        .map(|data| Ok(Event::default().data(data.to_string())))
        .collect();
    events.push(Ok(Event::default().data("[DONE]")));
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Result<usize, OpenAiError> {
        Ok(text.split_whitespace().count())
    }

    #[test]
    fn truncation_keeps_whole_words_within_the_budget() {
        let text = "« Le Datathon a réuni 6 équipes »\n\nSources :\n- Lettre";
        assert_eq!(
            truncate_to_tokens(text, 3, &words).unwrap(),
            "« Le Datathon"
        );
        assert_eq!(truncate_to_tokens(text, 0, &words).unwrap(), "");
        assert_eq!(truncate_to_tokens(text, 100, &words).unwrap(), text);
    }

    #[test]
    fn the_earliest_stop_sequence_wins() {
        let stops = vec!["Sources".to_string(), "réuni".to_string()];
        assert_eq!(
            first_stop("Le Datathon a réuni. Sources :", &stops),
            Some(14)
        );
        assert_eq!(first_stop("rien", &stops), None);
    }

    #[test]
    fn sources_are_listed_once_per_section() {
        let source = Source {
            title: "Lettre n°3".into(),
            section: "Datathon".into(),
            date: Some("2025-12-31".into()),
            page: None,
            url: None,
            deadline: None,
            document: "d.md".into(),
            text: String::new(),
            quote: String::new(),
            highlight: None,
            score: 1.0,
        };
        let content =
            with_source_list("« … »", &[source.clone(), source.clone()], Language::French);
        assert_eq!(
            content,
            "« … »\n\nSources\u{a0}:\n- Lettre n°3 — Datathon (31 décembre 2025)"
        );
        assert_eq!(
            with_source_list("« … »", &[source], Language::English),
            "« … »\n\nSources:\n- Lettre n°3 — Datathon (31 December 2025)"
        );
        assert_eq!(
            with_source_list("Bonjour !", &[], Language::French),
            "Bonjour !"
        );
    }
}
