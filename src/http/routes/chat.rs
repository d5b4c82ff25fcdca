//! `POST /api/chat`: one message in, one grounded reply out, as JSON or as
//! Server-Sent Events (`sources`, `token`…, `done`); and
//! `GET /api/suggestions`, the corpus topics the front ends offer as
//! questions.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::{stream, Stream, StreamExt};
use serde::Deserialize;

use crate::answer::language::Language;
use serde_json::json;

use crate::answer::{AnswerPipeline, Reply, Style};
use crate::http::error::ApiError;
use crate::http::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/chat", post(chat))
        .route("/api/suggestions", get(suggestions))
}

/// Who the reply is for; each front end says so, and gets its style.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Audience {
    /// The exhibition's touch screen: short, plain answers.
    Kiosk,
    /// Agency staff: the full quotation with its origin.
    Staff,
    /// The website widget and API clients.
    #[default]
    Web,
}

impl Audience {
    fn style(self) -> Style {
        match self {
            Self::Kiosk => Style::Short,
            Self::Staff | Self::Web => Style::Detailed,
        }
    }
}

/// The request body.
#[derive(Debug, Deserialize)]
struct ChatRequest {
    message: String,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    audience: Audience,
}

/// JSON body whose rejections use the API's error shape.
struct ApiJson<T>(T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

async fn chat(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<ChatRequest>,
) -> Result<Response, ApiError> {
    let pipeline = state.pipeline()?.clone();
    let wants_stream = request.stream.unwrap_or(false)
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/event-stream"));
    if !wants_stream {
        // Hyper drops this future when the client hangs up first.
        let reply = answer_and_keep(&state, &pipeline, &request).await?;
        return Ok(Json(reply).into_response());
    }
    // The answer is computed inside the stream, so keep-alive comments flow
    // while the model reads, and a client that hangs up drops the future:
    // the engine then skips its pending work.
    let events = stream::once(async move { answer_and_keep(&state, &pipeline, &request).await })
        .flat_map(|result| stream::iter(reply_events(result)));
    Ok(sse_response(events))
}

/// Answers `request` and keeps the reply before the client hears of it
/// (for SSE: before `done`), so feedback and the QR code that follow find
/// it; an answer whose client hung up first is counted as abandoned.
async fn answer_and_keep(
    state: &AppState,
    pipeline: &AnswerPipeline,
    request: &ChatRequest,
) -> Result<Reply, ApiError> {
    let guard = state.abandon_guard();
    let style = request.audience.style();
    let answered = async {
        let reply = pipeline
            .answer_styled(&request.message, request.session_id.as_deref(), style)
            .await?;
        remember(state, &reply, &request.message).await?;
        Ok(reply)
    }
    .await;
    guard.finish();
    answered
}

/// Keeps the reply for feedback, share links and the staff console, before
/// the client hears of it: an answer the client received is committed, so
/// its feedback, its share link and the export never miss it, even if the
/// process is killed a moment later. A server without a store keeps
/// nothing and answers anyway; a store that fails makes the request fail,
/// since its `answer_id` would lead nowhere.
pub(crate) async fn remember(
    state: &AppState,
    reply: &Reply,
    question: &str,
) -> Result<(), ApiError> {
    let Some(store) = state.store().cloned() else {
        return Ok(());
    };
    let (reply, question) = (reply.clone(), question.trim().to_string());
    let _share_token =
        tokio::task::spawn_blocking(move || store.record_answer(&reply, &question)).await??;
    Ok(())
}

#[derive(Debug, Deserialize)]
struct SuggestionsQuery {
    count: Option<usize>,
    /// `fr` or `en`: the language the front end shows.
    lang: Option<String>,
}

/// Questions the documents answer, in the front end's language.
async fn suggestions(
    State(state): State<AppState>,
    Query(query): Query<SuggestionsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let count = query.count.unwrap_or(6).clamp(1, 20);
    let language = match query.lang.as_deref() {
        None => Language::French,
        Some(code) => Language::from_code(code).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "lang must be `fr` or `en`, not {:?}",
                code.chars().take(16).collect::<String>()
            ))
        })?,
    };
    let questions = state.pipeline()?.suggested_questions(language, count);
    Ok(Json(
        json!({ "suggestions": questions, "language": language }),
    ))
}

pub(crate) fn sse_response(
    events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
) -> Response {
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Reverse proxies (nginx) buffer responses unless told not to.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The events of one reply: its sources, its text in small pieces, then the
/// whole reply; or one `error` event.
fn reply_events(result: Result<Reply, ApiError>) -> Vec<Result<Event, Infallible>> {
    let reply = match result {
        Ok(reply) => reply,
        Err(error) => {
            if let ApiError::Internal(detail) = &error {
                tracing::error!(%detail, "streamed request failed");
            }
            return vec![Ok(json_event("error", &error.body()))];
        }
    };
    let mut events = vec![Ok(json_event("sources", &json!(reply.sources)))];
    events.extend(
        text_pieces(&reply.answer).map(|piece| Ok(json_event("token", &json!({ "text": piece })))),
    );
    events.push(Ok(json_event("done", &json!(reply))));
    events
}

fn json_event(name: &str, data: &serde_json::Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

/// Splits text into words with their trailing white space, so the pieces
/// concatenate back to the text exactly.
pub(crate) fn text_pieces(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let space_end = rest[word_end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(rest.len(), |i| word_end + i);
        let (piece, tail) = rest.split_at(space_end);
        rest = tail;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_pieces_concatenate_back() {
        let text = "« Le 12 février »\n\nSource : lettre  2025 ";
        let pieces: Vec<&str> = text_pieces(text).collect();
        assert_eq!(pieces.concat(), text);
        assert_eq!(pieces[0], "« ");
    }
}
