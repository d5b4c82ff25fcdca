//! The HTTP contract of `/api/chat` and `/health`: JSON replies, SSE, and
//! errors in the API's own shape with the right status.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use eulcat::http::{router, AppState, Limits};

use crate::util::fake_pipeline;

fn app() -> axum::Router {
    router(AppState::ready(fake_pipeline()), &Limits::default())
}

pub(crate) async fn send(
    app: axum::Router,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.oneshot(request).await.expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
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

fn post_chat(body: impl Into<Body>) -> Request<Body> {
    Request::post("/api/chat")
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("request")
}

fn assert_error_shape(body: &str, code: &str) {
    let value: Value = serde_json::from_str(body).expect("error body is JSON");
    assert_eq!(value["error"]["code"], code, "{body}");
    assert!(
        value["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn a_question_gets_a_cited_json_reply_with_a_session() {
    let body =
        json!({ "message": "Quel projet est le lauréat du Datathon Normandie ?" }).to_string();
    let (status, _, body) = send(app(), post_chat(body)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(reply["kind"], "extractive", "{body}");
    assert!(reply["session_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(reply["answer_id"].as_str().is_some_and(|s| !s.is_empty()));
    let source = &reply["sources"][0];
    for field in ["title", "section", "text", "quote"] {
        assert!(
            source[field].as_str().is_some_and(|s| !s.is_empty()),
            "source {field} missing: {body}"
        );
    }
    assert!(reply["timings_ms"]["total"].as_f64().is_some());
    assert!(
        reply["answer"]
            .as_str()
            .unwrap_or_default()
            .contains("Compétences à la carte"),
        "{body}"
    );
}

#[tokio::test]
async fn the_session_id_sent_is_kept() {
    let body = json!({ "message": "Bonjour", "session_id": "kiosk-42" }).to_string();
    let (status, _, body) = send(app(), post_chat(body)).await;
    assert_eq!(status, StatusCode::OK);
    let reply: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(reply["session_id"], "kiosk-42");
    assert_eq!(reply["kind"], "smalltalk");
}

#[tokio::test]
async fn bad_messages_are_400_in_the_error_shape() {
    for body in [
        json!({ "message": "" }).to_string(),
        json!({ "message": "   " }).to_string(),
        json!({ "message": "x".repeat(2001) }).to_string(),
        json!({ "message": 5 }).to_string(),
        json!({ "question": "Bonjour" }).to_string(),
        json!({ "message": "Bonjour", "session_id": "not a valid id!" }).to_string(),
        "{not json".to_string(),
    ] {
        let (status, _, response) = send(app(), post_chat(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {response}");
        assert_error_shape(&response, "bad_request");
    }
}

#[tokio::test]
async fn invalid_utf8_and_wrong_content_type_are_client_errors() {
    let (status, _, body) = send(app(), post_chat(Body::from(vec![b'{', 0xff, 0xfe, b'}']))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let plain = Request::post("/api/chat")
        .body(Body::from("{\"message\":\"Bonjour\"}"))
        .expect("request");
    let (status, _, body) = send(app(), plain).await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(serde_json::from_str::<Value>(&body).is_ok(), "{body}");
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = router(
        AppState::ready(fake_pipeline()),
        &Limits {
            max_body_bytes: 1024,
            ..Limits::default()
        },
    );
    let body = json!({ "message": "a".repeat(4096) }).to_string();
    let (status, _, body) = send(app, post_chat(body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_error_shape(&body, "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let (status, _, body) = send(
        app(),
        Request::get("/nope").body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error_shape(&body, "not_found");
    let (status, _, body) = send(
        app(),
        Request::get("/api/chat")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error_shape(&body, "method_not_allowed");
}

#[tokio::test]
async fn health_says_starting_until_loaded() {
    let starting = router(AppState::default(), &Limits::default());
    let (status, headers, body) = send(
        starting,
        Request::get("/health").body(Body::empty()).expect("r"),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(headers.contains_key(header::RETRY_AFTER));
    assert_error_shape(&body, "starting");
    let (status, _, _) = send(
        app(),
        Request::get("/health").body(Body::empty()).expect("r"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// Parses an SSE body into (event, data) pairs.
pub(crate) fn sse_events(body: &str) -> Vec<(String, String)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut event = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event:") {
                    event = Some(name.trim().to_string());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push(d.strip_prefix(' ').unwrap_or(d).to_string());
                }
            }
            event.map(|e| (e, data.join("\n")))
        })
        .collect()
}

#[tokio::test]
async fn streaming_sends_sources_tokens_then_done() {
    let body =
        json!({ "message": "Quel projet est le lauréat du Datathon Normandie ?", "stream": true })
            .to_string();
    let (status, headers, body) = send(app(), post_chat(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/event-stream"));
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    let events = sse_events(&body);
    assert_eq!(
        events.first().map(|e| e.0.as_str()),
        Some("sources"),
        "{body}"
    );
    assert_eq!(events.last().map(|e| e.0.as_str()), Some("done"), "{body}");
    let streamed: String = events
        .iter()
        .filter(|(name, _)| name == "token")
        .map(|(_, data)| {
            serde_json::from_str::<Value>(data).expect("token JSON")["text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let done: Value = serde_json::from_str(&events.last().expect("done").1).expect("done JSON");
    assert_eq!(
        streamed,
        done["answer"].as_str().unwrap_or_default(),
        "tokens add up to the answer"
    );
}

#[tokio::test]
async fn the_accept_header_also_asks_for_a_stream() {
    let request = Request::post("/api/chat")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "text/event-stream")
        .body(Body::from(json!({ "message": "Bonjour" }).to_string()))
        .expect("request");
    let (status, _, body) = send(app(), request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        sse_events(&body).iter().any(|(name, _)| name == "done"),
        "{body}"
    );
}

#[tokio::test]
async fn a_streamed_error_is_an_error_event() {
    let body = json!({ "message": "", "stream": true }).to_string();
    let (status, _, body) = send(app(), post_chat(body)).await;
    assert_eq!(status, StatusCode::OK, "the stream had started");
    let events = sse_events(&body);
    assert_eq!(events.len(), 1, "{body}");
    assert_eq!(events[0].0, "error");
    assert_error_shape(&events[0].1, "bad_request");
}

#[tokio::test]
async fn sse_over_a_real_socket() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app()).await });
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let body =
        json!({ "message": "Quand a eu lieu le Datathon Normandie ?", "stream": true }).to_string();
    let request = format!(
        "POST /api/chat HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("event: sources") && response.contains("event: done"),
        "{response}"
    );
}

#[tokio::test]
async fn a_client_over_its_rate_gets_429_with_retry_after_and_others_do_not() {
    let app = router(
        AppState::ready(fake_pipeline()),
        &Limits {
            rate_limit: Some(eulcat::http::RateLimit {
                per_minute: 6,
                burst: 2,
                client_address_header: Some("X-Forwarded-For".into()),
            }),
            ..Limits::default()
        },
    );
    let from = |client: &str| {
        let mut request = post_chat(json!({ "message": "Bonjour" }).to_string());
        request
            .headers_mut()
            .insert("x-forwarded-for", client.parse().unwrap());
        request
    };
    for _ in 0..2 {
        let (status, _, body) = send(app.clone(), from("203.0.113.5")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, headers, body) = send(app.clone(), from("203.0.113.5")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["code"], "rate_limited");
    // Another visitor is not affected, and pages are never limited.
    let (status, _, _) = send(app.clone(), from("203.0.113.6")).await;
    assert_eq!(status, StatusCode::OK);
    let page = Request::get("/").body(Body::empty()).unwrap();
    let (status, _, _) = send(app, page).await;
    assert_eq!(status, StatusCode::OK);
}
