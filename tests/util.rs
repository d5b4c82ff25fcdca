//! Shared helpers: a scripted model, pipelines over the real corpus, and
//! the real model file.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use eulcat::answer::{text::fold, AnswerPipeline, Settings};
use eulcat::corpus;
use eulcat::engine::{Backend, Engine, GenerationSummary, Score};
use eulcat::llm::{self, FinishReason, GenerationParams};
use eulcat::search::SearchIndex;

/// The repository root.
pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A stand-in for the model: the likelihood of a continuation is the share
/// of its words found in the prompt (what query likelihood approximates),
/// spans are never found, and generation replays a scripted text.
pub(crate) struct FakeBackend {
    pub(crate) script: Mutex<String>,
}

impl FakeBackend {
    pub(crate) fn new(script: &str) -> Self {
        Self {
            script: Mutex::new(script.to_string()),
        }
    }
}

impl Backend for FakeBackend {
    fn score(&self, prompt: &str, continuation: &str) -> Result<Score, llm::Error> {
        let prompt = fold(prompt);
        let words: Vec<String> = fold(continuation)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let found = words.iter().filter(|w| prompt.contains(w.as_str())).count();
        let share = found as f32 / words.len().max(1) as f32;
        Ok(Score {
            logprob_sum: (share - 1.5) * words.len() as f32,
            tokens: words.len(),
        })
    }

    fn extract_span(
        &self,
        _prompt: &str,
        _source: &str,
        _max_tokens: usize,
    ) -> Result<String, llm::Error> {
        Ok(String::new())
    }

    fn generate(
        &self,
        _prompt: &str,
        _params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationSummary, llm::Error> {
        let text = self.script.lock().map(|s| s.clone()).unwrap_or_default();
        let _ = on_text(&text);
        Ok(GenerationSummary {
            text: text.clone(),
            prompt_tokens: 1,
            generated_tokens: text.split_whitespace().count(),
            finish_reason: FinishReason::Stop,
            prefill_ms: 0.0,
            decode_ms: 0.0,
        })
    }

    /// One token a word: enough for the tests of usage counts and
    /// `max_tokens`, which only need a stable, monotonic count.
    fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
        Ok(text.split_whitespace().count())
    }
}

/// An in-memory index of `corpus_dir`.
pub(crate) fn index_of(corpus_dir: &Path) -> SearchIndex {
    let (documents, _skipped) = corpus::load_dir(corpus_dir).expect("corpus loads");
    let index = SearchIndex::in_ram().expect("index opens");
    index
        .rebuild(&corpus::chunk_documents(&documents))
        .expect("index builds");
    index
}

/// A pipeline over the real corpus with any backend.
pub(crate) fn pipeline_with(backend: Arc<dyn Backend>, settings: Settings) -> AnswerPipeline {
    let corpus = root().join("corpus");
    let index = index_of(&corpus);
    let settings = Settings {
        corpus_dir: settings.corpus_dir.or(Some(corpus)),
        ..settings
    };
    AnswerPipeline::new(Arc::new(index), Engine::start(backend, 8), settings)
        .expect("pipeline builds")
}

/// A reader-mode pipeline over the real corpus with the scripted model.
pub(crate) fn fake_pipeline() -> AnswerPipeline {
    pipeline_with(Arc::new(FakeBackend::new("")), Settings::default())
}

/// The Python interpreter of the test venv (with `openai` and
/// `llama-cpp-python[server]`), named by `EULCAT_TEST_PYTHON`. `.ci/run`
/// builds the venv and sets it; without it, `what` is skipped, loudly, so
/// that `cargo test` alone still works on a machine without the venv.
pub(crate) fn test_python(what: &str) -> Option<PathBuf> {
    match std::env::var_os("EULCAT_TEST_PYTHON") {
        Some(python) if !python.is_empty() => Some(PathBuf::from(python)),
        _ => {
            eprintln!(
                "\n!!! SKIPPED: {what}: EULCAT_TEST_PYTHON is not set \
                 (`bash .ci/run` builds the venv and sets it) !!!\n"
            );
            None
        }
    }
}

/// The real model file, fetched with the product's own `pull` the first
/// time (CI pulls it before the tests; a developer's first run does too).
pub(crate) fn model_path() -> PathBuf {
    pulled(eulcat::model_store::DEFAULT_MODEL)
}

/// The embedding model's zip, fetched like [`model_path`].
pub(crate) fn embedding_model_path() -> PathBuf {
    pulled("embeddinggemma-300m")
}

fn pulled(name: &str) -> PathBuf {
    static PULLED: Mutex<()> = Mutex::new(());
    let _guard = PULLED.lock().unwrap_or_else(|p| p.into_inner());
    let models = root().join("models");
    let manifest = eulcat::model_store::Manifest::find(&models, name).expect("manifest");
    if let Ok(path) = eulcat::model_store::locate(&manifest, &models) {
        return path;
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime
        .block_on(eulcat::model_store::pull(
            &manifest,
            &models,
            &eulcat::model_store::PullOptions::default(),
        ))
        .expect("the model is missing and could not be fetched: run `cargo run --release -- pull`")
}

/// The real model, loaded once for the whole test binary.
pub(crate) fn real_model() -> Arc<llm::LanguageModel> {
    static MODEL: std::sync::OnceLock<Arc<llm::LanguageModel>> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| {
            Arc::new(
                llm::LanguageModel::load(&model_path(), &llm::LoadOptions { max_context: 4096 })
                    .expect("the model loads"),
            )
        })
        .clone()
}

/// The real embedding model, loaded once for the whole test binary.
pub(crate) fn real_embedder() -> Arc<llm::Embedder> {
    static MODEL: std::sync::OnceLock<Arc<llm::Embedder>> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| {
            Arc::new(
                llm::Embedder::load(&embedding_model_path(), real_model().shared_tokenizer())
                    .expect("the embedding model loads"),
            )
        })
        .clone()
}

/// The URL of a PostgreSQL server the tests may create databases on, named
/// by `EULCAT_TEST_POSTGRES_URL`. `.ci/run` starts one
/// (`tools/test-postgres.sh`) and sets it; without it, `what` is skipped,
/// loudly.
pub(crate) fn test_postgres(what: &str) -> Option<String> {
    match std::env::var("EULCAT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "\n!!! SKIPPED: {what}: EULCAT_TEST_POSTGRES_URL is not set \
                 (`bash .ci/run` starts a PostgreSQL server and sets it) !!!\n"
            );
            None
        }
    }
}

/// A database of its own for one test on the server at `server_url`,
/// dropped with it.
pub(crate) struct TestDatabase {
    server_url: String,
    name: String,
    /// The URL of the new database.
    pub(crate) url: String,
}

impl TestDatabase {
    pub(crate) fn create(server_url: &str) -> Self {
        let name = format!("eulcat_test_{}", uuid::Uuid::new_v4().simple());
        let (base, _) = server_url
            .rsplit_once('/')
            .expect("the PostgreSQL URL names a database");
        let database = Self {
            server_url: server_url.to_string(),
            url: format!("{base}/{name}"),
            name,
        };
        database
            .run(&format!("CREATE DATABASE {}", database.name))
            .expect("the test PostgreSQL server creates a database");
        database
    }

    /// Runs `sql` on the server's own database, on a plain thread: the
    /// synchronous client must not block an async test's thread.
    fn run(&self, sql: &str) -> Result<(), String> {
        let (url, sql) = (self.server_url.clone(), sql.to_string());
        std::thread::spawn(move || {
            let mut client =
                postgres::Client::connect(&url, postgres::NoTls).map_err(|e| e.to_string())?;
            client.batch_execute(&sql).map_err(|e| e.to_string())
        })
        .join()
        .map_err(|_| "the SQL thread panicked".to_string())?
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let dropped = self.run(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
        if let Err(error) = dropped {
            eprintln!("could not drop the test database {}: {error}", self.name);
        }
    }
}

/// Serves `state` with `limits` on a free port of 127.0.0.1, as `eulcat
/// serve` does, for the rest of the test; returns the base URL.
pub(crate) async fn serve_locally(
    state: eulcat::http::AppState,
    limits: &eulcat::http::Limits,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("bound address"));
    tokio::spawn(eulcat::http::serve(
        listener,
        eulcat::http::router(state, limits),
    ));
    base
}

/// The value of the sample `name` (with its labels, as written) in a
/// Prometheus exposition, if present.
pub(crate) fn metric(exposition: &str, name: &str) -> Option<u64> {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}
