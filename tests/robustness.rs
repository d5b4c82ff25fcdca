//! Property tests, bounded so they run in CI in seconds: no request body
//! makes the chat endpoint fail other than with a client error in the API's
//! shape, and no file content makes a corpus reader panic.

use axum::body::Body;
use axum::http::{header, Request};
use http_body_util::BodyExt;
use proptest::prelude::*;
use tower::ServiceExt;

use eulcat::corpus;
use eulcat::http::{router, AppState, Limits};

use crate::util::fake_pipeline;

/// Bodies that look like requests more often than random bytes do: JSON
/// objects with the fields the decoder reads, of any type, plus noise.
fn request_body() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        ".{0,40}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        Just("[]".to_string()),
        Just("{}".to_string()),
    ];
    let field = prop_oneof![
        Just("message"),
        Just("session_id"),
        Just("stream"),
        Just("audience"),
        Just("style"),
        Just("x"),
    ];
    let object = prop::collection::vec((field, value), 0..4).prop_map(|fields| {
        let inner: Vec<String> = fields
            .into_iter()
            .map(|(k, v)| format!("\"{k}\": {v}"))
            .collect();
        format!("{{{}}}", inner.join(", ")).into_bytes()
    });
    prop_oneof![object, prop::collection::vec(any::<u8>(), 0..200)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_chat_body_gets_a_success_or_a_client_error_in_the_api_shape(body in request_body()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (status, text) = runtime.block_on(async {
            let app = router(AppState::ready(fake_pipeline()), &Limits::default());
            let request = Request::post("/api/chat")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.clone()))
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&bytes).into_owned())
        });
        prop_assert!(status.is_success() || status.is_client_error(), "{status}: {text}");
        if status.is_client_error() {
            let error: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert!(error["error"]["code"].is_string(), "{text}");
            prop_assert!(error["error"]["message"].is_string(), "{text}");
        }
    }

    #[test]
    fn no_file_content_makes_a_corpus_reader_panic(
        content in prop_oneof![
            // Front matter and Markdown fragments, in any order.
            prop::collection::vec(
                prop_oneof![
                    Just("---\n"), Just("title: x\n"), Just("date: 2025-13-45\n"),
                    Just("deadline: [\n"), Just("# Titre\n"), Just("## Section\n"),
                    Just("- item\n"), Just("```\n"), Just("<b>gras</b>\n"),
                    Just("Une phrase. Une autre !\n"), Just("\n"), Just("\u{feff}"),
                    Just("2^e^ édition\n"), Just(": : :\n"),
                ],
                0..24,
            ).prop_map(|parts| parts.concat().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..300),
        ],
        extension in prop_oneof![
            Just("md"), Just("txt"), Just("html"), Just("pdf"), Just("docx"),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("doc.{extension}"));
        std::fs::write(&path, &content).unwrap();
        // An unreadable file is an error (skipped with a warning by
        // `load_dir`), never a panic; a readable one chunks.
        if let Ok(document) = corpus::load_file(dir.path(), &path) {
            let _ = corpus::chunk_document(&document);
        }
        let (documents, _skipped) = corpus::load_dir(dir.path()).unwrap();
        prop_assert!(documents.len() <= 1);
    }
}
