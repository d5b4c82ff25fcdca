//! Generation backends (issue #8): whatever writes the text, the grounding
//! check and the extractive fallback apply; a generator that is down means
//! quoting, a misconfigured one a clear 503. Then the real peer:
//! `llama-cpp-python`'s server with the same GGUF, started and killed here.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use futures::future::BoxFuture;
use serde_json::{json, Value};

use eulcat::answer::{grounding, AnswerKind, AnswerPipeline, Reply, Settings, Writing};
use eulcat::engine::GenerationSummary;
use eulcat::generator::{self, Generator, RemoteGenerator, RemoteSettings};
use eulcat::http::{router, AppState, Limits};
use eulcat::llm::{FinishReason, GenerationParams};

use crate::api::send;
use crate::util::{model_path, pipeline_with, real_model, root, test_python, FakeBackend};

/// A generator that always gives the same outcome.
struct Scripted(fn() -> generator::Result<GenerationSummary>);

impl Generator for Scripted {
    fn generate<'a>(
        &'a self,
        _prompt: &'a str,
        _params: &'a GenerationParams,
    ) -> BoxFuture<'a, generator::Result<GenerationSummary>> {
        Box::pin(async move { (self.0)() })
    }

    fn describe(&self) -> String {
        "a scripted generator".into()
    }
}

fn text(text: &str) -> generator::Result<GenerationSummary> {
    Ok(GenerationSummary {
        text: text.into(),
        prompt_tokens: 1,
        generated_tokens: 1,
        finish_reason: FinishReason::Stop,
        prefill_ms: 0.0,
        decode_ms: 0.0,
    })
}

fn generative_settings() -> Settings {
    Settings {
        writing: Writing::Generative {
            chat_template: None,
        },
        ..Settings::default()
    }
}

/// A generative pipeline reading with the scripted model and writing with
/// `generator`; the scripted model's own generation would be refused
/// (« Je ne sais pas »), so a grounded reply can only come from `generator`.
fn writing_with(generator: impl Generator) -> AnswerPipeline {
    pipeline_with(
        Arc::new(FakeBackend::new("Je ne sais pas.")),
        generative_settings(),
    )
    .with_generator(Arc::new(generator))
}

const WHEN: &str = "Quand a eu lieu le Datathon Normandie ?";

#[tokio::test]
async fn another_generator_writes_and_is_still_checked() {
    let faithful = writing_with(Scripted(|| {
        text("Le Datathon Normandie a eu lieu du 5 novembre au 9 décembre.")
    }));
    let reply = faithful.answer(WHEN, None).await.expect("reply");
    assert_eq!(reply.kind, AnswerKind::Grounded, "{}", reply.answer);
    let inventive = writing_with(Scripted(|| text("Le Datathon a eu lieu le 14 mars 2031.")));
    let reply = inventive.answer(WHEN, None).await.expect("reply");
    assert_eq!(reply.kind, AnswerKind::Extractive, "{}", reply.answer);
    assert!(!reply.answer.contains("2031"));
}

#[tokio::test]
async fn a_generator_that_is_down_means_quoting() {
    let down = writing_with(Scripted(|| {
        Err(generator::Error::Unreachable {
            url: "http://127.0.0.1:1/v1/completions".into(),
            attempts: 3,
            detail: "connection refused".into(),
        })
    }));
    let reply = down.answer(WHEN, None).await.expect("still answered");
    assert_eq!(reply.kind, AnswerKind::Extractive, "{}", reply.answer);
    assert!(reply.answer.contains("5 novembre"), "{}", reply.answer);
}

#[tokio::test]
async fn a_misconfigured_generator_is_a_clear_503() {
    let refused = || {
        writing_with(Scripted(|| {
            Err(generator::Error::Status {
                url: "http://10.0.0.7:8081/v1/completions".into(),
                status: 404,
                detail: "model not found".into(),
            })
        }))
    };
    let post = |uri: &str, body: Value| {
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let app = router(AppState::ready(refused()), &Limits::default());
    let (status, _, body) = send(app, post("/api/chat", json!({ "message": WHEN }))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body.contains("HTTP 404") && !body.contains("10.0.0.7"),
        "{body}"
    );
    let app = router(AppState::ready(refused()), &Limits::default());
    let request = json!({ "model": "eulcat", "messages": [{ "role": "user", "content": WHEN }] });
    let (status, _, body) = send(app, post("/v1/chat/completions", request)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let error: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(error["error"]["type"], "server_error", "{body}");
}

/// The llama.cpp server process; killed when dropped, even if a check fails.
struct Server {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Starts llama-cpp-python's server (`python -m llama_cpp.server`, through
/// `llama_server.py`, which works around llama.cpp's AMX kernels crashing
/// on the CI's CPU) on `port` and waits until `/v1/models` answers.
async fn start_llama_server(python: &std::path::Path, port: u16) -> Server {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let child = Command::new(python)
        .arg(root().join("tests/openai_client/llama_server.py"))
        .arg("--model")
        .arg(model_path())
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--n_threads",
            "2",
        ])
        .stdin(Stdio::null())
        .stdout(log.reopen().expect("log"))
        .stderr(log.reopen().expect("log"))
        .spawn()
        .expect("llama_cpp.server starts");
    let mut server = Server { child, log };
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let ready = client
            .get(format!("http://127.0.0.1:{port}/v1/models"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success());
        if ready {
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("llama_cpp.server exited ({status}):\n{}", server.log());
        }
        if started.elapsed() > Duration::from_secs(180) {
            let log = server.log();
            server.stop();
            panic!("llama_cpp.server not ready after 180 s:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A remote generator that counts the completions it got back.
struct Counting {
    inner: RemoteGenerator,
    completed: AtomicUsize,
}

impl Generator for Counting {
    fn generate<'a>(
        &'a self,
        prompt: &'a str,
        params: &'a GenerationParams,
    ) -> BoxFuture<'a, generator::Result<GenerationSummary>> {
        Box::pin(async move {
            let result = self.inner.generate(prompt, params).await;
            if result.is_ok() {
                self.completed.fetch_add(1, Ordering::SeqCst);
            }
            result
        })
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// Numbers of the reply absent from its sources (text, title, section,
/// date), as the evaluation counts them.
fn unsupported_numbers(reply: &Reply) -> Vec<String> {
    let haystacks: Vec<String> = reply
        .sources
        .iter()
        .map(|s| {
            format!(
                "{}\n{}\n{}\n{}",
                s.text,
                s.title,
                s.section,
                s.date.as_deref().unwrap_or("")
            )
        })
        .collect();
    let refs: Vec<&str> = haystacks.iter().map(String::as_str).collect();
    grounding::unsupported_numbers(&reply.answer, &refs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_llama_cpp_server_writes_and_its_failure_falls_back_to_quoting() {
    let Some(python) = test_python("the llama.cpp server backend test") else {
        return;
    };
    let port = free_port();
    let mut server = start_llama_server(&python, port).await;
    let remote = RemoteGenerator::new(RemoteSettings {
        base_url: format!("http://127.0.0.1:{port}/v1"),
        timeout: Duration::from_secs(120),
        first_backoff: Duration::from_millis(50),
        ..RemoteSettings::default()
    })
    .expect("generator");

    // The peer speaks the completion API.
    let params = GenerationParams {
        max_tokens: 8,
        ..GenerationParams::default()
    };
    let direct = remote
        .generate("La capitale de la Normandie est", &params)
        .await
        .unwrap_or_else(|error| panic!("{error}\n{}", server.log()));
    assert!(
        direct.generated_tokens > 0 && !direct.text.is_empty(),
        "{direct:?}"
    );

    let counting = Arc::new(Counting {
        inner: remote.clone(),
        completed: AtomicUsize::new(0),
    });
    let pipeline =
        pipeline_with(real_model(), generative_settings()).with_generator(counting.clone());
    for question in [
        "Combien d'équipes ont participé au Datathon Normandie ?",
        "Quand s'est tenue la Journée des IA Responsables ?",
    ] {
        let reply = pipeline.answer(question, None).await.expect("reply");
        eprintln!("{question} → {:?}: {}", reply.kind, reply.answer);
        assert!(
            matches!(reply.kind, AnswerKind::Grounded | AnswerKind::Extractive),
            "{question} → {:?} {}",
            reply.kind,
            reply.answer
        );
        assert!(!reply.sources.is_empty(), "{question}: no source");
        assert!(
            unsupported_numbers(&reply).is_empty(),
            "{question} → {}",
            reply.answer
        );
    }
    assert_eq!(
        counting.completed.load(Ordering::SeqCst),
        2,
        "each answer was written by the llama.cpp server"
    );

    server.stop();
    let error = remote
        .generate("La capitale de la Normandie est", &params)
        .await
        .expect_err("the server is gone");
    assert!(error.is_unavailable(), "{error}");
    assert!(error.to_string().contains("unreachable"), "{error}");
    let reply = pipeline
        .answer(
            "Combien d'équipes ont participé au Datathon Normandie ?",
            None,
        )
        .await
        .expect("still answered by quoting");
    assert_eq!(reply.kind, AnswerKind::Extractive, "{}", reply.answer);
    assert!(reply.answer.contains("6 équipes"), "{}", reply.answer);
}
