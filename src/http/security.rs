//! Who may call the API from a browser, and what a page may load.
//!
//! Pages get a Content-Security-Policy without inline script; the API
//! answers cross-origin requests only from the configured widget origins
//! (CORS), and refuses the others outright (403) rather than relying on the
//! browser to drop the response.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;
use super::state::AppState;
use super::FrontEnds;

/// The policy of the server's own pages: everything from this origin, no
/// inline script or style, no framing.
pub(crate) const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The CORS layer for the widget origins.
pub(crate) fn cors(front_ends: &FrontEnds) -> CorsLayer {
    let origins: Vec<HeaderValue> = front_ends
        .widget_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::ACCEPT])
        .max_age(std::time::Duration::from_secs(600))
}

/// Refuses API calls whose `Origin` is neither this server nor a widget
/// origin. Requests without `Origin` (curl, same-origin GET, the OpenAI
/// SDKs) pass.
pub(crate) async fn check_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if path.starts_with("/api/") || path.starts_with("/v1/") {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            if !origin_allowed(origin, request.headers(), state.front_ends()) {
                return ApiError::Forbidden("this web site may not use the assistant".into())
                    .into_response();
            }
        }
    }
    next.run(request).await
}

fn origin_allowed(origin: &HeaderValue, headers: &HeaderMap, front_ends: &FrontEnds) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    if front_ends
        .widget_origins
        .iter()
        .chain(front_ends.public_url.iter())
        .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    // Same origin: the page was served by this host.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let without_scheme = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((host, without_scheme), (Some(host), Some(rest)) if host.eq_ignore_ascii_case(rest))
}

/// Lets a request through when it carries `expected` as `Authorization:
/// Bearer …`. Without a configured secret the endpoint does not exist
/// (404): a server is never opened up by leaving a setting empty.
pub(crate) fn require_bearer(
    headers: &axum::http::HeaderMap,
    expected: Option<&str>,
) -> Result<(), super::ApiError> {
    let Some(expected) = expected else {
        return Err(super::ApiError::NotFound);
    };
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(given) if same_secret(given, expected) => Ok(()),
        _ => Err(super::ApiError::Unauthorized),
    }
}

/// Compares secrets in time independent of where they differ.
pub(crate) fn same_secret(given: &str, expected: &str) -> bool {
    let (given, expected) = (given.as_bytes(), expected.as_bytes());
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        headers
    }

    #[test]
    fn origins_are_allowed_when_listed_or_same_host() {
        let front = FrontEnds {
            widget_origins: vec!["https://www.example.fr".into()],
            ..FrontEnds::default()
        };
        let allowed = |origin: &str, host: &str| {
            origin_allowed(
                &HeaderValue::from_str(origin).unwrap(),
                &headers(host),
                &front,
            )
        };
        assert!(allowed("https://www.example.fr", "kiosk:8080"));
        assert!(allowed("http://kiosk:8080", "kiosk:8080"));
        assert!(!allowed("http://kiosk:8081", "kiosk:8080"));
        assert!(!allowed("https://evil.example", "kiosk:8080"));
        assert!(!allowed("null", "kiosk:8080"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }
}
