//! The one place where errors become HTTP responses.
//!
//! Every error the API returns has the same JSON shape,
//! `{"error": {"code": "...", "message": "..."}}`. Client errors keep their
//! message; server errors say « something went wrong » and the detail goes
//! to the log, never to the visitor.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::answer;
use crate::engine;
use crate::store;

/// Seconds a client should wait before retrying an overloaded or starting
/// service.
const RETRY_AFTER_SECONDS: u64 = 2;

/// An error as the API reports it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: bad JSON, wrong types, invalid values.
    #[error("{0}")]
    BadRequest(String),
    /// The request body is larger than allowed.
    #[error("the request body is too large")]
    PayloadTooLarge,
    /// No such route.
    #[error("no such endpoint")]
    NotFound,
    /// The bearer token (staff or admin) is missing or wrong.
    #[error("a valid token is required (Authorization: Bearer …)")]
    Unauthorized,
    /// The request comes from a web site that may not use this server.
    #[error("{0}")]
    Forbidden(String),
    /// Feedback names an answer this server does not know.
    #[error("unknown answer")]
    UnknownAnswer,
    /// A feature this server runs without.
    #[error("{0}")]
    Unavailable(String),
    /// The route exists but not with this method.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// This client sent more requests than its share; it may retry after
    /// the given number of seconds.
    #[error("too many requests from this address, retry in {0} s")]
    TooManyRequests(u64),
    /// Too many questions are waiting for the model.
    #[error("the assistant is busy, retry in a moment")]
    Overloaded,
    /// The model and index are still loading.
    #[error("the assistant is starting, retry in a moment")]
    Starting,
    /// Anything else: a bug or a failure of the machine.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound | Self::UnknownAnswer => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Overloaded | Self::Starting => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable label.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::PayloadTooLarge => "payload_too_large",
            Self::NotFound => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::UnknownAnswer => "unknown_answer",
            Self::Unavailable(_) => "unavailable",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Overloaded => "overloaded",
            Self::TooManyRequests(_) => "rate_limited",
            Self::Starting => "starting",
            Self::Internal(_) => "internal",
        }
    }

    /// The message shown to clients: server errors stay generic.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "Something went wrong on our side. Please try again.".to_string(),
            other => other.to_string(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        json!({ "error": { "code": self.code(), "message": self.public_message() } })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        let retry_after = match self {
            Self::Overloaded | Self::Starting => Some(RETRY_AFTER_SECONDS),
            Self::TooManyRequests(seconds) => Some(seconds),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<answer::Error> for ApiError {
    fn from(error: answer::Error) -> Self {
        match error {
            answer::Error::EmptyMessage
            | answer::Error::MessageTooLong { .. }
            | answer::Error::InvalidSession => Self::BadRequest(error.to_string()),
            answer::Error::Engine(engine::Error::Overloaded) => Self::Overloaded,
            answer::Error::Engine(engine::Error::Stopped | engine::Error::Model(_))
            | answer::Error::Search(_)
            | answer::Error::Task(_) => Self::Internal(error.to_string()),
            // The pipeline has logged the full error with the server's
            // address; the client learns what failed, not where.
            answer::Error::Generator(error) => Self::Unavailable(error.public_message()),
        }
    }
}

impl From<store::Error> for ApiError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::UnknownAnswer(_) => Self::UnknownAnswer,
            // A shared database that is away (restart, network): the
            // visitor may try again shortly.
            store::Error::Pool(_) => {
                tracing::error!(%error, "store unreachable");
                Self::Unavailable("the database is unreachable; try again shortly".into())
            }
            store::Error::Postgres(ref postgres) if postgres.as_db_error().is_none() => {
                tracing::error!(%error, "store unreachable");
                Self::Unavailable("the database is unreachable; try again shortly".into())
            }
            store::Error::Postgres(_)
            | store::Error::Sqlite(_)
            | store::Error::Json(_)
            | store::Error::Io(_) => Self::Internal(error.to_string()),
            // A configuration error: the store is opened at start, so no
            // request can meet it.
            store::Error::UnsupportedUrl(_) => Self::Internal(error.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Internal(format!("blocking task failed: {error}"))
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Self::PayloadTooLarge
        } else {
            Self::BadRequest(rejection.body_text())
        }
    }
}
