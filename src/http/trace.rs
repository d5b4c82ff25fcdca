//! How the request log judges responses. tower-http logs every 5xx at
//! ERROR; an operator reads ERROR as « something is broken », so the
//! answers the service gives on purpose must not be there:
//!
//! - `/health` answering 503 while the model loads is the probe doing its
//!   job (the load balancer waits): an ordinary response, logged like any
//!   other.
//! - a 503 with `Retry-After` elsewhere is the service shedding load or
//!   still starting, and telling the client when to come back: a warning,
//!   since sustained overload is worth knowing about but is no bug.
//! - every other 5xx (a panic, a failed disk, a dead engine, a 503 without
//!   `Retry-After`) stays an error.

use std::fmt::Display;
use std::time::Duration;

use axum::http::{header, Request, Response, StatusCode};
use tower_http::classify::{
    ClassifiedResponse, ClassifyResponse, MakeClassifier, NeverClassifyEos,
};
use tower_http::trace::OnFailure;
use tracing::Span;

/// The path of the readiness probe.
const HEALTH: &str = "/health";

/// Why a response counts as a failure in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A deliberate refusal that says when to retry (overloaded, starting).
    Refused(StatusCode),
    /// A server error.
    Server(StatusCode),
    /// The service returned an error instead of a response.
    Error(String),
}

/// Makes one [`Classifier`] per request, remembering whether it is the
/// health probe.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MakeClass;

impl MakeClassifier for MakeClass {
    type Classifier = Classifier;
    type FailureClass = Failure;
    type ClassifyEos = NeverClassifyEos<Failure>;

    fn make_classifier<B>(&self, request: &Request<B>) -> Classifier {
        Classifier {
            health: request.uri().path() == HEALTH,
        }
    }
}

/// Classifies the response of one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Classifier {
    health: bool,
}

impl ClassifyResponse for Classifier {
    type FailureClass = Failure;
    type ClassifyEos = NeverClassifyEos<Failure>;

    fn classify_response<B>(
        self,
        response: &Response<B>,
    ) -> ClassifiedResponse<Failure, Self::ClassifyEos> {
        let retry_after = response.headers().contains_key(header::RETRY_AFTER);
        ClassifiedResponse::Ready(classify(response.status(), self.health, retry_after))
    }

    fn classify_error<E: Display + 'static>(self, error: &E) -> Failure {
        Failure::Error(error.to_string())
    }
}

fn classify(status: StatusCode, health: bool, retry_after: bool) -> Result<(), Failure> {
    if !status.is_server_error() {
        return Ok(());
    }
    match (status, health, retry_after) {
        (StatusCode::SERVICE_UNAVAILABLE, true, _) => Ok(()),
        (StatusCode::SERVICE_UNAVAILABLE, false, true) => Err(Failure::Refused(status)),
        _ => Err(Failure::Server(status)),
    }
}

/// Logs a failure at the level its class deserves, inside the request's
/// span.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LogFailure;

impl OnFailure<Failure> for LogFailure {
    fn on_failure(&mut self, failure: Failure, latency: Duration, span: &Span) {
        let latency_ms = latency.as_millis();
        match failure {
            Failure::Refused(status) => {
                tracing::warn!(parent: span, status = status.as_u16(), latency_ms, "request refused, client told to retry");
            }
            Failure::Server(status) => {
                tracing::error!(parent: span, status = status.as_u16(), latency_ms, "request failed");
            }
            Failure::Error(error) => {
                tracing::error!(parent: span, %error, latency_ms, "request failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_server_errors_are_failures() {
        let unavailable = StatusCode::SERVICE_UNAVAILABLE;
        assert_eq!(classify(StatusCode::OK, false, false), Ok(()));
        assert_eq!(classify(StatusCode::NOT_FOUND, true, false), Ok(()));
        // The probe saying « not yet » is its normal answer.
        assert_eq!(classify(unavailable, true, true), Ok(()));
        assert_eq!(
            classify(unavailable, false, true),
            Err(Failure::Refused(unavailable))
        );
        assert_eq!(
            classify(unavailable, false, false),
            Err(Failure::Server(unavailable))
        );
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::GATEWAY_TIMEOUT,
        ] {
            assert_eq!(classify(status, true, true), Err(Failure::Server(status)));
        }
    }
}
