//! The front ends' HTTP contract without a browser: pages and their
//! security headers, suggestions from the corpus, feedback, share links and
//! QR codes, the staff API behind its token, and the widget's origins.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use eulcat::http::{router, AppState, FrontEnds, Limits};
use eulcat::store::Store;

use crate::util::fake_pipeline;

struct App {
    router: axum::Router,
    store: Arc<Store>,
}

fn app(front_ends: FrontEnds) -> App {
    let store = Arc::new(Store::in_memory().expect("store"));
    let state = AppState::ready(fake_pipeline())
        .with_store(Arc::clone(&store))
        .with_front_ends(front_ends);
    App {
        router: router(state, &Limits::default()),
        store,
    }
}

async fn send(app: &App, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, "kiosk:8080")
        .body(Body::empty())
        .expect("request")
}

fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header(header::HOST, "kiosk:8080")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request")
}

async fn chat(app: &App, message: &str, audience: &str) -> Value {
    let (status, _, body) = send(
        app,
        post_json(
            "/api/chat",
            &json!({ "message": message, "audience": audience }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("JSON reply")
}

const DATATHON: &str = "Quel projet est le lauréat du Datathon Normandie ?";

#[tokio::test]
async fn pages_are_served_with_a_policy_forbidding_inline_script() {
    let app = app(FrontEnds {
        kiosk_idle_seconds: 42,
        ..FrontEnds::default()
    });
    let (status, headers, body) = send(&app, get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("data-idle-seconds=\"42\""), "{body}");
    assert!(!body.contains("<script>"), "no inline script");
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    for (path, kind) in [
        ("/widget.js", "javascript"),
        ("/kiosk.js", "javascript"),
        ("/app.css", "css"),
        ("/widget-demo", "html"),
    ] {
        let (status, headers, _) = send(&app, get(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .contains(kind),
            "{path}"
        );
    }
    // No font, script or style from another host.
    for path in ["/", "/app.css", "/widget.js", "/widget-demo"] {
        let (_, _, body) = send(&app, get(path)).await;
        assert!(!body.contains("https://"), "{path} refers to another host");
    }
}

#[tokio::test]
async fn suggestions_are_the_staffs_questions_in_the_front_ends_language() {
    let app = app(FrontEnds::default());
    let listed = eulcat::corpus::suggestions::load(&crate::util::root().join("corpus"))
        .expect("suggestions.toml");
    for (lang, listed) in [
        (
            "fr",
            listed.iter().map(|q| q.fr.clone()).collect::<Vec<_>>(),
        ),
        ("en", listed.iter().map(|q| q.en.clone()).collect()),
    ] {
        let (status, _, body) =
            send(&app, get(&format!("/api/suggestions?count=4&lang={lang}"))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let value: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(value["language"], lang);
        let questions: Vec<String> =
            serde_json::from_value(value["suggestions"].clone()).expect("list");
        assert_eq!(questions, listed[..4], "{lang}");
    }
    let (status, _, body) = send(&app, get("/api/suggestions?lang=de")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("lang must be"), "{body}");
}

/// Whether `question` is one the staff listed in `corpus/suggestions.toml`,
/// in French or English.
pub(crate) fn is_suggested_question(question: &str) -> bool {
    eulcat::corpus::suggestions::load(&crate::util::root().join("corpus"))
        .expect("suggestions.toml")
        .iter()
        .any(|q| q.fr == question || q.en == question)
}

#[tokio::test]
async fn the_kiosk_gets_the_short_answer_and_staff_the_quotation() {
    let app = app(FrontEnds::default());
    let kiosk = chat(&app, DATATHON, "kiosk").await;
    let staff = chat(&app, DATATHON, "staff").await;
    let (kiosk_text, staff_text) = (
        kiosk["answer"].as_str().unwrap(),
        staff["answer"].as_str().unwrap(),
    );
    assert!(
        kiosk_text.contains("Compétences à la carte"),
        "{kiosk_text}"
    );
    assert!(
        !kiosk_text.contains("Source\u{a0}:") && !kiosk_text.starts_with('«'),
        "{kiosk_text}"
    );
    assert!(staff_text.contains("Source\u{a0}:"), "{staff_text}");
    assert_eq!(kiosk["sources"], staff["sources"]);
}

#[tokio::test]
async fn feedback_is_kept_for_known_answers_only() {
    let app = app(FrontEnds::default());
    let (status, _, body) = send(
        &app,
        post_json(
            "/api/feedback",
            &json!({ "answer_id": "never-given", "helpful": true }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("unknown_answer"), "{body}");
    let (status, _, _) = send(
        &app,
        post_json("/api/feedback", &json!({ "helpful": "yes" })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let reply = chat(&app, DATATHON, "kiosk").await;
    let (status, _, body) = send(
        &app,
        post_json(
            "/api/feedback",
            &json!({ "answer_id": reply["answer_id"], "helpful": false }),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let summary = app.store.feedback_summary(5).expect("summary");
    assert_eq!((summary.helpful, summary.unhelpful), (0, 1));
    assert_eq!(summary.unhelpful_answers[0].question, DATATHON);
}

#[tokio::test]
async fn a_qr_code_leads_to_a_page_with_the_answer_as_text() {
    let app = app(FrontEnds {
        public_url: Some("https://eulcat.example.fr".into()),
        ..FrontEnds::default()
    });
    let reply = chat(&app, DATATHON, "kiosk").await;
    let id = reply["answer_id"].as_str().unwrap();
    let (status, headers, svg) = send(&app, get(&format!("/api/answers/{id}/qr.svg"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(svg.contains("<svg"), "{svg}");
    let token = app.store.share_token(id).unwrap().expect("a token");
    let (status, _, page) = send(&app, get(&format!("/a/{token}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Compétences à la carte"), "{page}");
    assert!(page.contains("data-testid=\"chat-source\""), "{page}");
    assert!(!page.contains("<script"), "{page}");
    // In the reply's language, with the date in words.
    assert!(page.contains("<html lang=\"fr\">"), "{page}");
    assert!(page.contains("31 décembre 2025"), "{page}");
    let hello = chat(&app, "Hello!", "kiosk").await;
    let id = hello["answer_id"].as_str().unwrap();
    send(&app, get(&format!("/api/answers/{id}/qr.svg"))).await;
    let token = app.store.share_token(id).unwrap().expect("a token");
    let (_, _, page) = send(&app, get(&format!("/a/{token}"))).await;
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("Your EulCat answer"),
        "{page}"
    );
    let (status, _, _) = send(&app, get("/a/0123456789abcdef")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = send(&app, get("/api/answers/nope/qr.svg")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn staff_get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri).header(header::HOST, "kiosk:8080");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).expect("request")
}

#[tokio::test]
async fn the_staff_api_is_off_without_a_token_and_locked_with_one() {
    let off = app(FrontEnds::default());
    for path in ["/staff", "/api/search?q=Datathon", "/api/staff/feedback"] {
        let (status, _, _) = send(&off, staff_get(path, Some("anything"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let on = app(FrontEnds {
        staff_token: Some("s3cret".into()),
        ..FrontEnds::default()
    });
    for token in [None, Some("wrong"), Some("s3cre")] {
        let (status, _, body) = send(&on, staff_get("/api/search?q=Datathon", token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}: {body}");
    }
    let (status, _, body) = send(
        &on,
        staff_get("/api/search?q=Datathon&limit=3", Some("s3cret")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hits: Value = serde_json::from_str(&body).expect("JSON");
    let hits = hits["hits"].as_array().expect("hits");
    assert!(!hits.is_empty() && hits.len() <= 3, "{body}");
    assert!(
        hits[0]["snippet_html"].as_str().unwrap().contains("<mark>"),
        "{body}"
    );
    assert!(
        hits[0]["document"].as_str().unwrap().ends_with(".md"),
        "{body}"
    );
    let (status, _, _) = send(&on, staff_get("/api/search?q=%20", Some("s3cret"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for message in [
        "Où se garer ?",
        "ou se garer",
        "Quel temps fera-t-il demain ?",
    ] {
        let reply = chat(&on, message, "web").await;
        assert_eq!(reply["kind"], "no_answer", "{reply}");
    }
    let (status, _, body) = send(&on, staff_get("/api/staff/unanswered", Some("s3cret"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let value: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(value["questions"][0]["count"], 2, "{body}");
    assert_eq!(value["questions"][1]["count"], 1, "{body}");
    let (status, _, body) = send(&on, staff_get("/api/staff/feedback", Some("s3cret"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"helpful\":0"), "{body}");
}

#[tokio::test]
async fn only_listed_sites_may_call_the_api_cross_origin() {
    let app = app(FrontEnds {
        widget_origins: vec!["https://www.agence.example".into()],
        ..FrontEnds::default()
    });
    let with_origin = |origin: &str| {
        Request::post("/api/chat")
            .header(header::HOST, "kiosk:8080")
            .header(header::ORIGIN, origin)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "message": "Bonjour" }).to_string()))
            .expect("request")
    };
    let (status, headers, body) = send(&app, with_origin("https://www.agence.example")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://www.agence.example"
    );
    let (status, _, body) = send(&app, with_origin("https://evil.example")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("forbidden"), "{body}");
    // The kiosk's own page posts with its own origin.
    let (status, _, _) = send(&app, with_origin("http://kiosk:8080")).await;
    assert_eq!(status, StatusCode::OK);
    let preflight = Request::options("/api/chat")
        .header(header::HOST, "kiosk:8080")
        .header(header::ORIGIN, "https://www.agence.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .body(Body::empty())
        .expect("request");
    let (status, headers, _) = send(&app, preflight).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(
        headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://www.agence.example"
    );
}
