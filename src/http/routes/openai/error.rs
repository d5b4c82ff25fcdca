//! Errors of the OpenAI-compatible API, in OpenAI's own shape,
//! `{"error": {"message", "type", "param", "code"}}`, so that clients (the
//! official SDKs retry 429 and 5xx with `Retry-After`) react as they would
//! with OpenAI.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::answer;
use crate::http::error::ApiError;

/// Seconds an overloaded or starting service asks clients to wait.
const RETRY_AFTER_SECONDS: u16 = 2;

/// An error as the OpenAI-compatible API reports it.
#[derive(Debug)]
pub(crate) struct OpenAiError {
    status: StatusCode,
    message: String,
    kind: &'static str,
    param: Option<String>,
    code: Option<&'static str>,
    /// Seconds the client should wait before retrying, when it should.
    retry_after: Option<u16>,
    /// Logged, never sent: the cause of a 500.
    detail: Option<String>,
}

impl OpenAiError {
    /// A 400 about the request's field `param`.
    pub(crate) fn invalid(param: &str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            kind: "invalid_request_error",
            param: Some(param.to_string()),
            code: None,
            retry_after: None,
            detail: None,
        }
    }

    /// A 404 for a model this server does not serve.
    pub(crate) fn model_not_found(model: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            message: format!(
                "The model `{model}` does not exist; this server serves `{}`.",
                super::MODEL_ID
            ),
            kind: "invalid_request_error",
            param: Some("model".into()),
            code: Some("model_not_found"),
            retry_after: None,
            detail: None,
        }
    }

    /// A 401 for a missing or wrong API key.
    pub(crate) fn invalid_api_key() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            message: "A valid API key is required: send it as `Authorization: Bearer KEY`.".into(),
            kind: "invalid_request_error",
            param: None,
            code: Some("invalid_api_key"),
            retry_after: None,
            detail: None,
        }
    }

    fn with_param(mut self, param: &str) -> Self {
        self.param = Some(param.to_string());
        self
    }

    /// The JSON body.
    pub(crate) fn body(&self) -> serde_json::Value {
        json!({ "error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        if let Some(detail) = &self.detail {
            tracing::error!(%detail, "OpenAI-compatible request failed");
        }
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<ApiError> for OpenAiError {
    fn from(error: ApiError) -> Self {
        let message = error.public_message();
        let (status, kind, code) = match &error {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request_error", None),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                Some("payload_too_large"),
            ),
            ApiError::NotFound | ApiError::UnknownAnswer => (
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                Some("not_found"),
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                Some("invalid_api_key"),
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "permission_error", None),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request_error",
                Some("method_not_allowed"),
            ),
            // OpenAI answers 429 when its engine is overloaded; clients
            // back off and retry on it.
            ApiError::Overloaded => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                Some("engine_overloaded"),
            ),
            ApiError::TooManyRequests(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                Some("rate_limited"),
            ),
            ApiError::Starting => (
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                Some("starting"),
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                Some("unavailable"),
            ),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", None),
        };
        let detail = match &error {
            ApiError::Internal(detail) => Some(detail.clone()),
            _ => None,
        };
        Self {
            status,
            message,
            kind,
            param: None,
            code,
            retry_after: match error {
                ApiError::Overloaded | ApiError::Starting => Some(RETRY_AFTER_SECONDS),
                ApiError::TooManyRequests(seconds) => {
                    Some(u16::try_from(seconds).unwrap_or(u16::MAX))
                }
                _ => None,
            },
            detail,
        }
    }
}

impl From<answer::Error> for OpenAiError {
    fn from(error: answer::Error) -> Self {
        let about_the_message = matches!(
            error,
            answer::Error::EmptyMessage | answer::Error::MessageTooLong { .. }
        );
        let converted = Self::from(ApiError::from(error));
        if about_the_message {
            converted.with_param("messages")
        } else {
            converted
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for OpenAiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        Self::from(ApiError::from(rejection))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_is_429_with_retry_after_and_internal_details_stay_private() {
        let overloaded = OpenAiError::from(ApiError::Overloaded).into_response();
        assert_eq!(overloaded.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(overloaded.headers().contains_key(header::RETRY_AFTER));
        let internal = OpenAiError::from(ApiError::Internal("disk on fire at /srv".into()));
        assert_eq!(internal.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!internal.body().to_string().contains("/srv"));
    }
}
