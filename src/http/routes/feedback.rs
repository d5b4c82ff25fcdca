//! `POST /api/feedback`: « Cette réponse vous a aidé ? », one vote per
//! answer (a second vote replaces the first).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::http::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/feedback", post(feedback))
}

#[derive(Debug, Deserialize)]
struct FeedbackRequest {
    answer_id: String,
    helpful: bool,
}

async fn feedback(
    State(state): State<AppState>,
    request: Result<Json<FeedbackRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(request) = request?;
    if request.answer_id.is_empty() || request.answer_id.len() > 64 {
        return Err(ApiError::BadRequest("answer_id: 1 to 64 characters".into()));
    }
    let store = state.required_store()?;
    tokio::task::spawn_blocking(move || store.record_feedback(&request.answer_id, request.helpful))
        .await??;
    Ok(StatusCode::NO_CONTENT)
}
