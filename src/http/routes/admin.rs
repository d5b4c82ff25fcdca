//! Operator endpoints, behind the admin token: `POST /api/admin/reindex`
//! re-reads `corpus/` now instead of waiting for the watcher (a network
//! share that sends no change events, a script that just copied files).
//! Without a configured token they do not exist (404).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};

use crate::http::error::ApiError;
use crate::http::security::require_bearer;
use crate::http::state::AppState;
use crate::reindex::Outcome;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/reindex", post(reindex))
}

async fn reindex(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Outcome>, ApiError> {
    require_bearer(&headers, state.front_ends().admin_token.as_deref())?;
    let reindexer = state.reindexer()?;
    let outcome = reindexer
        .run()
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    Ok(Json(outcome))
}
