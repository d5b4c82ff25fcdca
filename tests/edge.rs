//! What the server answers at its edge, over a real socket on 127.0.0.1:
//! which sites may frame which page, the rate limiter's 429 under `/v1` in
//! OpenAI's error shape, and the level at which expected and real 5xx are
//! logged (issue #6).

use std::io::Write;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use reqwest::header::{CONTENT_SECURITY_POLICY, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::{json, Value};

use eulcat::answer::Settings;
use eulcat::engine::{Backend, GenerationSummary, Score};
use eulcat::http::{AppState, FrontEnds, Limits, RateLimit};
use eulcat::llm::{self, GenerationParams};

use crate::util::{fake_pipeline, pipeline_with, serve_locally};

const PARTNER: &str = "https://partenaire.example.fr";

/// The sources of the `frame-ancestors` directive of `response`'s one
/// Content-Security-Policy.
fn frame_ancestors(response: &reqwest::Response) -> String {
    let policies: Vec<&str> = response
        .headers()
        .get_all(CONTENT_SECURITY_POLICY)
        .iter()
        .map(|value| value.to_str().unwrap())
        .collect();
    assert_eq!(policies.len(), 1, "one policy: {policies:?}");
    policies[0]
        .split(';')
        .map(str::trim)
        .find_map(|directive| directive.strip_prefix("frame-ancestors "))
        .unwrap_or_else(|| panic!("no frame-ancestors in {}", policies[0]))
        .to_string()
}

async fn frame_ancestors_of(base: &str, path: &str) -> String {
    let response = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    frame_ancestors(&response)
}

#[tokio::test]
async fn issue_6_the_kiosk_and_the_demo_may_be_framed_by_widget_origins_only() {
    let front_ends = FrontEnds {
        widget_origins: vec![PARTNER.to_string()],
        staff_token: Some("staff-secret".into()),
        ..FrontEnds::default()
    };
    let state = AppState::ready(fake_pipeline()).with_front_ends(front_ends);
    let base = serve_locally(state, &Limits::default()).await;
    for page in ["/", "/widget-demo"] {
        assert_eq!(
            frame_ancestors_of(&base, page).await,
            format!("'self' {PARTNER}"),
            "{page}"
        );
    }
    // The staff console and everything that is not an embeddable page.
    for path in ["/staff", "/health", "/api/suggestions", "/widget.js"] {
        assert_eq!(frame_ancestors_of(&base, path).await, "'none'", "{path}");
    }

    // A server that names no partner is framed by no one, itself included.
    let state = AppState::ready(fake_pipeline());
    let base = serve_locally(state, &Limits::default()).await;
    for page in ["/", "/widget-demo"] {
        assert_eq!(frame_ancestors_of(&base, page).await, "'none'", "{page}");
    }
}

#[tokio::test]
async fn issue_6_the_rate_limit_speaks_openai_under_v1_and_the_api_shape_elsewhere() {
    let limits = Limits {
        rate_limit: Some(RateLimit {
            per_minute: 1,
            burst: 1,
            client_address_header: None,
        }),
        ..Limits::default()
    };
    let base = serve_locally(AppState::ready(fake_pipeline()), &limits).await;
    let client = reqwest::Client::new();
    let first = client
        .get(format!("{base}/v1/models"))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);

    let refused = client
        .get(format!("{base}/v1/models"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = refused.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    let body: Value = refused.json().await.unwrap();
    let error = &body["error"];
    assert_eq!(error["type"], "rate_limit_error", "{body}");
    assert_eq!(error["code"], "rate_limited", "{body}");
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        error.as_object().unwrap().contains_key("param"),
        "OpenAI's shape has `param`: {body}"
    );

    // The same bucket refuses `/api`, in the API's own shape.
    let api = client
        .get(format!("{base}/api/suggestions"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert!(body["error"].get("type").is_none(), "{body}");
}

#[tokio::test]
async fn issue_6_a_refused_origin_under_v1_gets_openai_shape() {
    let base = serve_locally(AppState::ready(fake_pipeline()), &Limits::default()).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .header("origin", "https://evil.example")
        .json(&json!({ "model": "eulcat", "messages": [{ "role": "user", "content": "Bonjour" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["type"], "permission_error", "{body}");
}

/// The formatted log of the current thread, without colours or times.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    /// The lines at `level` written by the request log.
    fn request_lines(&self, level: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines()
            .filter(|line| line.trim_start().starts_with(level))
            .filter(|line| line.contains("eulcat::http::trace"))
            .map(str::to_string)
            .collect()
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// A model whose every forward pass fails, as a broken disk or a bug
/// would: the request that needs it is a real 500.
struct Failing;

impl Backend for Failing {
    fn score(&self, _: &str, _: &str) -> Result<Score, llm::Error> {
        Err(llm::Error::Io(std::io::Error::other("disk on fire")))
    }

    fn extract_span(&self, _: &str, _: &str, _: usize) -> Result<String, llm::Error> {
        Err(llm::Error::Io(std::io::Error::other("disk on fire")))
    }

    fn generate(
        &self,
        _: &str,
        _: &GenerationParams,
        _: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationSummary, llm::Error> {
        Err(llm::Error::Io(std::io::Error::other("disk on fire")))
    }

    fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
        Ok(text.len())
    }
}

/// The runtime is single-threaded (tokio's default for tests), so the
/// server's tasks log through this thread's subscriber.
#[tokio::test]
async fn issue_6_the_health_probe_while_loading_is_not_an_error_but_real_failures_are() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);
    let client = reqwest::Client::new();

    // Loading: the probe's 503 is its normal answer; the API's 503 with
    // `Retry-After` is a deliberate refusal, a warning.
    let starting = AppState::default();
    let base = serve_locally(starting, &Limits::default()).await;
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(health.headers().contains_key(RETRY_AFTER));
    assert_eq!(log.request_lines("ERROR"), Vec::<String>::new());
    assert_eq!(log.request_lines("WARN"), Vec::<String>::new());
    let chat = client
        .post(format!("{base}/api/chat"))
        .json(&json!({ "message": "Bonjour" }))
        .send()
        .await
        .unwrap();
    assert_eq!(chat.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(log.request_lines("ERROR"), Vec::<String>::new());
    assert_eq!(
        log.request_lines("WARN").len(),
        1,
        "{:?}",
        log.request_lines("WARN")
    );

    // A real failure is still an error.
    log.clear();
    let broken = AppState::ready(pipeline_with(Arc::new(Failing), Settings::default()));
    let base = serve_locally(broken, &Limits::default()).await;
    let failed = client
        .post(format!("{base}/api/chat"))
        .json(&json!({ "message": "Quand a eu lieu le Datathon Normandie ?" }))
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let errors = log.request_lines("ERROR");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("status=500"), "{errors:?}");
}
