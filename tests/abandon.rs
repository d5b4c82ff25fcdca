//! A client that hangs up frees the model (issue #6): its answer is
//! dropped, the job it had queued is skipped, a generation it started stops
//! at the next token, and the next visitor is answered normally.
//!
//! Real model, real socket. A gate in front of the model holds the engine's
//! worker at a known point until the test has seen the server drop the
//! answer, so no step depends on how fast the machine is; what happened is
//! read from `GET /metrics`, as an operator would.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use eulcat::answer::{Settings, Writing};
use eulcat::engine::{Backend, GenerationSummary, Score};
use eulcat::http::{AppState, Limits};
use eulcat::llm::{self, GenerationParams, LanguageModel};

use crate::util::{metric, pipeline_with, real_model, serve_locally};

/// Where the gate holds the worker.
#[derive(Clone, Copy, PartialEq)]
enum Hold {
    /// In the first job (re-ranking), before the model runs.
    FirstJob,
    /// In a generation, right after its first piece of text.
    FirstToken,
}

/// The real model behind a gate that is closed until the test opens it.
struct Gated {
    model: Arc<LanguageModel>,
    hold: Hold,
    open: Mutex<bool>,
    opened: Condvar,
    waiting: AtomicUsize,
    pieces: AtomicUsize,
    stopped_by_caller: AtomicBool,
}

impl Gated {
    fn new(hold: Hold) -> Arc<Self> {
        Arc::new(Self {
            model: real_model(),
            hold,
            open: Mutex::new(false),
            opened: Condvar::new(),
            waiting: AtomicUsize::new(0),
            pieces: AtomicUsize::new(0),
            stopped_by_caller: AtomicBool::new(false),
        })
    }

    fn pass(&self, here: Hold) {
        if here != self.hold {
            return;
        }
        let open = self.open.lock().unwrap();
        if !*open {
            self.waiting.fetch_add(1, Ordering::SeqCst);
        }
        drop(self.opened.wait_while(open, |open| !*open).unwrap());
    }

    fn release(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl Backend for Gated {
    fn score(&self, prompt: &str, continuation: &str) -> Result<Score, llm::Error> {
        self.pass(Hold::FirstJob);
        <LanguageModel as Backend>::score(&self.model, prompt, continuation)
    }

    fn score_batch(&self, pairs: &[(String, String)]) -> Result<Vec<Score>, llm::Error> {
        self.pass(Hold::FirstJob);
        <LanguageModel as Backend>::score_batch(&self.model, pairs)
    }

    fn extract_span(
        &self,
        prompt: &str,
        source: &str,
        max_tokens: usize,
    ) -> Result<String, llm::Error> {
        <LanguageModel as Backend>::extract_span(&self.model, prompt, source, max_tokens)
    }

    fn generate(
        &self,
        prompt: &str,
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationSummary, llm::Error> {
        <LanguageModel as Backend>::generate(&self.model, prompt, params, &mut |text| {
            if self.pieces.fetch_add(1, Ordering::SeqCst) == 0 {
                self.pass(Hold::FirstToken);
            }
            let flow = on_text(text);
            if flow.is_break() {
                // Nothing else breaks a generation without a token sink:
                // the engine saw that its caller had gone.
                self.stopped_by_caller.store(true, Ordering::SeqCst);
            }
            flow
        })
    }

    fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
        <LanguageModel as Backend>::count_tokens(&self.model, text)
    }
}

/// Waits until `condition` holds; the deadline only turns a hang into a
/// failure with a message, it is far above what any step needs.
async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(300);
    while !condition().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn metrics(base: &str) -> String {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert!(response.status().is_success());
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    response.text().await.unwrap()
}

async fn figure(base: &str, name: &str) -> u64 {
    let text = metrics(base).await;
    metric(&text, name).unwrap_or_else(|| panic!("no {name} in\n{text}"))
}

const DONE: &str = "eulcat_engine_jobs_total{outcome=\"done\"}";
const SKIPPED: &str = "eulcat_engine_jobs_total{outcome=\"skipped\"}";
const ABANDONED_JOBS: &str = "eulcat_engine_jobs_total{outcome=\"abandoned\"}";
const ABANDONED_ANSWERS: &str = "eulcat_answers_abandoned_total";
const QUEUED: &str = "eulcat_engine_queue_depth";

/// Opens an SSE answer on a raw socket and returns once the response head
/// has arrived: the server is then computing the answer (its first event
/// is the sources, sent only once the answer is ready). Dropping the
/// socket hangs up.
async fn open_stream(base: &str, question: &str) -> tokio::net::TcpStream {
    let address = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let body = json!({ "message": question, "stream": true }).to_string();
    let request = format!(
        "POST /api/chat HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    let reading = async {
        while !head.ends_with(b"\r\n\r\n") {
            let read = socket.read(&mut byte).await.unwrap();
            assert_eq!(read, 1, "the server closed before the head");
            head.push(byte[0]);
        }
    };
    tokio::time::timeout(Duration::from_secs(300), reading)
        .await
        .expect("the response head comes before the answer is ready");
    let head = String::from_utf8_lossy(&head).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    socket
}

async fn ask(base: &str, question: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/chat"))
        .json(&json!({ "message": question }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_6_a_client_that_hangs_up_has_its_queued_work_skipped() {
    let gate = Gated::new(Hold::FirstJob);
    let pipeline = pipeline_with(Arc::clone(&gate) as Arc<dyn Backend>, Settings::default());
    let base = serve_locally(AppState::ready(pipeline), &Limits::default()).await;

    // A visitor who stays: its first job holds the worker at the gate.
    let staying = tokio::spawn({
        let base = base.clone();
        async move {
            ask(
                &base,
                "Combien d'équipes ont participé au Datathon Normandie ?",
            )
            .await
        }
    });
    eventually("the staying visitor's job holds the worker", || async {
        gate.waiting.load(Ordering::SeqCst) == 1
    })
    .await;

    // A visitor who leaves: its re-ranking job waits behind, then it hangs
    // up before any event.
    let leaving = open_stream(
        &base,
        "Dans quelle ville aura lieu l'exposition Destination IA ?",
    )
    .await;
    eventually("the leaving visitor's job is queued", || async {
        figure(&base, QUEUED).await == 1
    })
    .await;
    drop(leaving);
    eventually("the server dropped the abandoned answer", || async {
        figure(&base, ABANDONED_ANSWERS).await == 1
    })
    .await;

    gate.release();
    let reply = staying.await.unwrap();
    assert_eq!(reply["kind"], "extractive", "{reply}");
    assert!(
        reply["answer"].as_str().unwrap().contains("6 équipes"),
        "{reply}"
    );
    eventually("the worker skipped the abandoned job", || async {
        figure(&base, SKIPPED).await == 1
    })
    .await;
    assert_eq!(figure(&base, ABANDONED_JOBS).await, 0);
    assert_eq!(figure(&base, QUEUED).await, 0);

    // The next visitor is answered as usual.
    let reply = ask(
        &base,
        "Dans quelle ville aura lieu l'exposition Destination IA ?",
    )
    .await;
    assert_eq!(reply["kind"], "extractive", "{reply}");
    assert!(
        reply["answer"].as_str().unwrap().contains("Rouen"),
        "{reply}"
    );
    assert_eq!(figure(&base, SKIPPED).await, 1);
    assert_eq!(figure(&base, ABANDONED_ANSWERS).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_6_a_client_that_hangs_up_stops_its_generation() {
    let gate = Gated::new(Hold::FirstToken);
    let settings = Settings {
        writing: Writing::Generative {
            chat_template: None,
        },
        ..Settings::default()
    };
    let pipeline = pipeline_with(Arc::clone(&gate) as Arc<dyn Backend>, settings);
    let base = serve_locally(AppState::ready(pipeline), &Limits::default()).await;

    let leaving = open_stream(
        &base,
        "Combien d'équipes ont participé au Datathon Normandie ?",
    )
    .await;
    eventually("the generation has written its first piece", || async {
        gate.waiting.load(Ordering::SeqCst) == 1
    })
    .await;
    drop(leaving);
    eventually("the server dropped the abandoned answer", || async {
        figure(&base, ABANDONED_ANSWERS).await == 1
    })
    .await;
    gate.release();
    eventually("the engine counted the generation as abandoned", || async {
        figure(&base, ABANDONED_JOBS).await == 1
    })
    .await;
    assert!(
        gate.stopped_by_caller.load(Ordering::SeqCst),
        "the engine broke the generation off"
    );
    assert_eq!(
        gate.pieces.load(Ordering::SeqCst),
        1,
        "no text was generated after the client left"
    );

    // The next visitor is answered (the gate is open now). What a base
    // model writes in generative mode is not this test's subject: only
    // that the engine serves again.
    let done_before = figure(&base, DONE).await;
    let reply = ask(
        &base,
        "Dans quelle ville aura lieu l'exposition Destination IA ?",
    )
    .await;
    assert!(
        matches!(reply["kind"].as_str(), Some("extractive" | "grounded")),
        "{reply}"
    );
    // The worker counts a job just after its reply has left.
    eventually("the engine counted the next visitor's jobs", || async {
        figure(&base, DONE).await > done_before
    })
    .await;
    assert_eq!(figure(&base, ABANDONED_JOBS).await, 1);
}
