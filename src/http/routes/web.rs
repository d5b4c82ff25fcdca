//! The front ends' files, embedded in the binary so one file deploys: the
//! kiosk (`/`), the staff console (`/staff`), the website widget
//! (`/widget.js`) and its demo host page (`/widget-demo`).
//!
//! The widget is one script: the shared strings and chat code are wrapped
//! with it in a function scope, so nothing leaks into the host page.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::http::error::ApiError;
use crate::http::security::{
    embeddable_frame_ancestors, embeddable_page_csp, is_plain_origin, PAGE_CSP,
};
use crate::http::state::AppState;

const KIOSK_HTML: &str = include_str!("../../../web/kiosk.html");
const STAFF_HTML: &str = include_str!("../../../web/staff.html");
const DEMO_HTML: &str = include_str!("../../../web/widget-demo.html");
const APP_CSS: &str = include_str!("../../../web/app.css");
const WIDGET_CSS: &str = include_str!("../../../web/widget.css");
const STRINGS_JS: &str = include_str!("../../../web/strings.js");
const CHAT_JS: &str = include_str!("../../../web/chat.js");
const KIOSK_JS: &str = include_str!("../../../web/kiosk.js");
const KEYBOARD_JS: &str = include_str!("../../../web/keyboard.js");
const STAFF_JS: &str = include_str!("../../../web/staff.js");
const WIDGET_JS: &str = concat!(
    "(function () {\n'use strict';\n",
    include_str!("../../../web/strings.js"),
    include_str!("../../../web/chat.js"),
    include_str!("../../../web/widget.js"),
    "})();\n"
);

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(kiosk))
        .route("/staff", get(staff))
        .route("/widget-demo", get(widget_demo))
        .route("/app.css", get(|| async { asset(CSS, APP_CSS) }))
        .route("/widget.css", get(|| async { asset(CSS, WIDGET_CSS) }))
        .route("/strings.js", get(|| async { asset(JS, STRINGS_JS) }))
        .route("/chat.js", get(|| async { asset(JS, CHAT_JS) }))
        .route("/kiosk.js", get(|| async { asset(JS, KIOSK_JS) }))
        .route("/keyboard.js", get(|| async { asset(JS, KEYBOARD_JS) }))
        .route("/staff.js", get(|| async { asset(JS, STAFF_JS) }))
        .route("/widget.js", get(|| async { asset(JS, WIDGET_JS) }))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Short: a new binary must reach kiosks within minutes.
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

fn html_page(body: String, csp: &str) -> Response {
    let mut response = ([(header::CONTENT_TYPE, HTML)], body).into_response();
    if let Ok(value) = HeaderValue::from_str(csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn kiosk(State(state): State<AppState>) -> Response {
    let idle = state.front_ends().kiosk_idle_seconds.max(1).to_string();
    html_page(
        KIOSK_HTML.replace("{{IDLE_SECONDS}}", &idle),
        &embeddable_page_csp(state.front_ends()),
    )
}

async fn staff(State(state): State<AppState>) -> Result<Response, ApiError> {
    if state.front_ends().staff_token.is_none() {
        return Err(ApiError::NotFound);
    }
    // Never framed: a frame would let another site trick staff into clicks.
    Ok(html_page(STAFF_HTML.to_string(), PAGE_CSP))
}

/// A sample host page: the widget comes from the public address when one
/// is configured (a second origin, as on the agency's site), else from
/// this server.
async fn widget_demo(State(state): State<AppState>) -> Response {
    let origin = state
        .front_ends()
        .public_url
        .as_deref()
        .filter(|u| is_plain_origin(u))
        .unwrap_or("");
    let html = DEMO_HTML.replace("{{WIDGET_ORIGIN}}", &escape_html(origin));
    let csp = format!(
        "default-src 'self'; script-src 'self' {origin}; style-src 'self' {origin}; \
         img-src 'self' data: {origin}; connect-src 'self' {origin}; object-src 'none'; \
         base-uri 'none'; frame-ancestors {}",
        embeddable_frame_ancestors(state.front_ends())
    );
    html_page(html, &csp)
}

/// The address visitors reach this server at: the configured public URL,
/// else the host the request was sent to.
pub(crate) fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = state.front_ends().public_url.as_deref() {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '-' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

pub(crate) use crate::search::escape_html;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<img src=x onerror=\"a('b')\">&"),
            "&lt;img src=x onerror=&quot;a(&#x27;b&#x27;)&quot;&gt;&amp;"
        );
    }

    #[test]
    fn only_plain_origins_enter_the_demo_page() {
        assert!(is_plain_origin("https://eulcat.example.fr:8443"));
        assert!(!is_plain_origin("https://x.fr; script-src *"));
        assert!(!is_plain_origin("javascript:alert(1)"));
        assert!(!is_plain_origin("http://x.fr\"><script>"));
    }

    #[test]
    fn the_widget_is_wrapped_in_one_scope() {
        assert!(WIDGET_JS.starts_with("(function () {"));
        assert!(WIDGET_JS.trim_end().ends_with("})();"));
    }
}
