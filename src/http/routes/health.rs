//! `GET /health`: 200 once the model and the index are loaded.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::http::error::ApiError;
use crate::http::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.pipeline()?;
    Ok(Json(json!({ "status": "ok" })))
}
