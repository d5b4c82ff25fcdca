//! The staff console's API, behind the staff token: passage search
//! (`GET /api/search`), the feedback received and the questions the
//! documents could not answer. Without a configured token it does not
//! exist (404), so a kiosk cannot be opened up by accident.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::error::ApiError;
use crate::http::security::require_bearer;
use crate::http::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/search", get(search))
        .route("/api/staff/feedback", get(feedback))
        .route("/api/staff/unanswered", get(unanswered))
}

/// Lets the request through when it carries the configured staff token.
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    require_bearer(headers, state.front_ends().staff_token.as_deref())
}

#[derive(Debug, Deserialize)]
struct SearchQuery {
    q: String,
    limit: Option<usize>,
}

/// One passage found, for the console.
#[derive(Debug, Serialize)]
struct SearchHit {
    document: String,
    title: String,
    section: String,
    date: Option<String>,
    url: Option<String>,
    text: String,
    /// HTML-escaped, with the matched words in `<mark>`.
    snippet_html: String,
    score: f32,
}

async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SearchQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let Query(query) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    if query.q.trim().is_empty() {
        return Err(ApiError::BadRequest("q: the search is empty".into()));
    }
    if query.q.chars().count() > 500 {
        return Err(ApiError::BadRequest("q: at most 500 characters".into()));
    }
    let limit = query.limit.unwrap_or(10).clamp(1, 50);
    let index = state.pipeline()?.search_index().clone();
    let hits = tokio::task::spawn_blocking(move || index.search(&query.q, limit))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let hits: Vec<SearchHit> = hits
        .into_iter()
        .map(|hit| SearchHit {
            section: hit.passage.heading().to_string(),
            document: hit.passage.doc_id,
            title: hit.passage.doc_title,
            date: hit.passage.date,
            url: hit.passage.url,
            text: hit.passage.text,
            snippet_html: hit.snippet_html,
            score: hit.score,
        })
        .collect();
    Ok(Json(json!({ "hits": hits })))
}

async fn feedback(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let store = state.required_store()?;
    let summary = tokio::task::spawn_blocking(move || store.feedback_summary(50)).await??;
    Ok(Json(json!(summary)))
}

async fn unanswered(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state, &headers)?;
    let store = state.required_store()?;
    let groups =
        tokio::task::spawn_blocking(move || store.unanswered_questions_grouped(100)).await??;
    Ok(Json(json!({ "questions": groups })))
}
