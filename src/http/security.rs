//! Who may call the API from a browser, and what a page may load.
//!
//! Pages get a Content-Security-Policy without inline script; the API
//! answers cross-origin requests only from the configured widget origins
//! (CORS), and refuses the others outright (403) rather than relying on the
//! browser to drop the response.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;
use super::state::AppState;
use super::FrontEnds;

/// What the server's own pages may load: everything from this origin, no
/// inline script or style. (A macro, so that both policies below are built
/// from the same text at compile time.)
macro_rules! page_sources {
    () => {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
    };
}

/// The policy of every response that sets none of its own (the staff
/// console, the API): nothing may frame it.
pub(crate) const PAGE_CSP: &str = concat!(page_sources!(), "; frame-ancestors 'none'");

/// The policy of the pages a partner site may embed (the kiosk's chat, the
/// widget demo): like [`PAGE_CSP`], but framing is allowed to the widget
/// origins and this server.
pub(crate) fn embeddable_page_csp(front_ends: &FrontEnds) -> String {
    format!(
        "{}; frame-ancestors {}",
        page_sources!(),
        embeddable_frame_ancestors(front_ends)
    )
}

/// The sources of `frame-ancestors` for an embeddable page: `'self'` and
/// the widget origins; `'none'` when no origin is configured, since a
/// server that names no partner has no reason to be framed at all (and
/// clickjacking needs a frame).
pub(crate) fn embeddable_frame_ancestors(front_ends: &FrontEnds) -> String {
    let origins: Vec<&str> = front_ends
        .widget_origins
        .iter()
        .map(|origin| trimmed_origin(origin))
        // An origin that could end the directive (`;`, a space) would let
        // the configuration rewrite the policy; `cors` warns of it once.
        .filter(|origin| is_plain_origin(origin))
        .collect();
    if origins.is_empty() {
        "'none'".to_string()
    } else {
        format!("'self' {}", origins.join(" "))
    }
}

fn trimmed_origin(origin: &str) -> &str {
    origin.trim().trim_end_matches('/')
}

/// `scheme://host[:port]` without anything that could break out of an
/// attribute or a policy.
pub(crate) fn is_plain_origin(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && url
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.' | '-' | '[' | ']'))
}

/// The CORS layer for the widget origins. Built once per router, so it is
/// also where a malformed origin is reported.
pub(crate) fn cors(front_ends: &FrontEnds) -> CorsLayer {
    for origin in &front_ends.widget_origins {
        if !is_plain_origin(trimmed_origin(origin)) {
            tracing::warn!(%origin, "widget origin ignored by frame-ancestors: not of the form scheme://host[:port]");
        }
    }
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
                let error = ApiError::Forbidden("this web site may not use the assistant".into());
                return super::routes::openai::edge_error(path, error);
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
        // In time independent of where the secrets differ.
        Some(given) if bool::from(given.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
        _ => Err(super::ApiError::Unauthorized),
    }
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
    fn only_widget_origins_and_self_may_frame_embeddable_pages() {
        let none = FrontEnds::default();
        assert_eq!(embeddable_frame_ancestors(&none), "'none'");
        let partners = FrontEnds {
            widget_origins: vec![
                "https://www.example.fr/".into(),
                "https://x.fr; script-src *".into(),
                "http://localhost:3000".into(),
            ],
            ..FrontEnds::default()
        };
        assert_eq!(
            embeddable_frame_ancestors(&partners),
            "'self' https://www.example.fr http://localhost:3000"
        );
        let csp = embeddable_page_csp(&partners);
        assert!(csp.starts_with("default-src 'self';"), "{csp}");
        assert!(
            csp.ends_with("; frame-ancestors 'self' https://www.example.fr http://localhost:3000"),
            "{csp}"
        );
        assert!(PAGE_CSP.ends_with("; frame-ancestors 'none'"));
    }

    #[test]
    fn a_bearer_token_is_compared_whole() {
        let with = |token: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
            );
            headers
        };
        assert!(require_bearer(&with("abc"), Some("abc")).is_ok());
        for wrong in ["abd", "ab", "abcd", ""] {
            assert!(matches!(
                require_bearer(&with(wrong), Some("abc")),
                Err(ApiError::Unauthorized)
            ));
        }
        assert!(matches!(
            require_bearer(&HeaderMap::new(), Some("abc")),
            Err(ApiError::Unauthorized)
        ));
        assert!(matches!(
            require_bearer(&with("abc"), None),
            Err(ApiError::NotFound)
        ));
    }
}
