//! The composition root: turns the configuration into running parts (model,
//! corpus, index, engine, pipeline). Commands in `main` call these builders;
//! no other module reads the configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::answer::{self, AnswerPipeline, Writing};
use crate::config::{Common, GeneratorKind, Mode};
use crate::corpus;
use crate::engine::{Backend, Engine, Memo, WithEmbedder};
use crate::generator::{Generator, RemoteGenerator, RemoteSettings};
use crate::llm::{self, Embedder, LanguageModel, LoadOptions, TextTokenizer};
use crate::model_store::{self, Manifest, PullOptions};
use crate::search::{self, SearchIndex, SyncReport};

/// What can fail while assembling the application.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model could not be found, fetched or verified.
    #[error(transparent)]
    ModelStore(#[from] model_store::Error),
    /// The model could not be loaded.
    #[error("loading the model: {0}")]
    Model(#[from] llm::Error),
    /// The corpus could not be read.
    #[error("reading the corpus: {0}")]
    Corpus(#[from] corpus::Error),
    /// The index could not be opened or built.
    #[error("search index: {0}")]
    Search(#[from] search::Error),
    /// The pipeline could not be assembled.
    #[error(transparent)]
    Answer(#[from] answer::Error),
    /// A background task failed.
    #[error("startup task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Invalid settings.
    #[error("{0}")]
    Config(String),
}

/// Result of the builders.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Context of the supported prompts, in tokens: a question, five re-ranked
/// sentences or a few passages fit well within it.
const MAX_CONTEXT: usize = 4096;

/// Sizes the global thread pool the model's matrix products run on.
pub fn configure_threads(threads: Option<usize>) -> Result<()> {
    let threads =
        threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    if threads == 0 {
        return Err(Error::Config("--threads must be at least 1".into()));
    }
    // candle's quantized matrix products run on a pool of its own, sized
    // from CANDLE_NUM_THREADS when it is first used, not on rayon's global
    // pool: without this, --threads would only size the attention.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
    }
    // Fails only when the pool was already built (a second call in tests).
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    Ok(())
}

/// The manifest of the configured model.
pub fn manifest(common: &Common) -> Result<Manifest> {
    Ok(Manifest::find(&common.models_dir, &common.model)?)
}

/// The model file, downloading it first when it is missing and `download`
/// allows it.
pub async fn model_file(common: &Common, download: bool) -> Result<PathBuf> {
    installed_or_pulled(&manifest(common)?, &common.models_dir, download).await
}

/// The name that turns sentence embeddings off.
pub const NO_EMBEDDING_MODEL: &str = "none";

/// The manifest of the configured embedding model, or `None` when
/// embeddings are turned off.
pub fn embedding_manifest(common: &Common) -> Result<Option<Manifest>> {
    if common.embedding_model == NO_EMBEDDING_MODEL {
        return Ok(None);
    }
    Ok(Some(Manifest::find(
        &common.models_dir,
        &common.embedding_model,
    )?))
}

/// The embedding model's file, downloading it first when it is missing
/// and `download` allows it; `None` when embeddings are turned off.
pub async fn embedding_file(common: &Common, download: bool) -> Result<Option<PathBuf>> {
    let Some(manifest) = embedding_manifest(common)? else {
        return Ok(None);
    };
    installed_or_pulled(&manifest, &common.models_dir, download)
        .await
        .map(Some)
}

async fn installed_or_pulled(
    manifest: &Manifest,
    models_dir: &Path,
    download: bool,
) -> Result<PathBuf> {
    match model_store::locate(manifest, models_dir) {
        Ok(path) => Ok(path),
        Err(missing) if !download => Err(missing.into()),
        Err(missing) => {
            tracing::warn!(%missing, "model missing: downloading it");
            let options = PullOptions {
                progress: true,
                ..PullOptions::default()
            };
            Ok(model_store::pull(manifest, models_dir, &options).await?)
        }
    }
}

/// Loads the embedding model off the async executor; it cuts texts with
/// `tokenizer`, the language model's.
pub async fn load_embedder(path: PathBuf, tokenizer: Arc<TextTokenizer>) -> Result<Embedder> {
    Ok(tokio::task::spawn_blocking(move || Embedder::load(&path, tokenizer)).await??)
}

/// Loads the model off the async executor.
pub async fn load_model(path: PathBuf) -> Result<LanguageModel> {
    let started = Instant::now();
    let model = tokio::task::spawn_blocking(move || {
        LanguageModel::load(
            &path,
            &LoadOptions {
                max_context: MAX_CONTEXT,
            },
        )
    })
    .await??;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "model loaded");
    Ok(model)
}

/// What [`open_index`] did, for the operator.
#[derive(Debug)]
pub struct IndexOpened {
    /// The index, up to date with the corpus.
    pub index: SearchIndex,
    /// Documents added, updated, removed and left alone.
    pub changes: SyncReport,
    /// Files that could not be read, and why.
    pub skipped: Vec<corpus::Skipped>,
    /// Passages indexed.
    pub passages: usize,
}

/// Reads the corpus and opens the index, re-indexing the documents that
/// changed since the last run (or everything, with `force`).
pub fn open_index(corpus_dir: &Path, index_dir: &Path, force: bool) -> Result<IndexOpened> {
    let (documents, skipped) = corpus::load_dir(corpus_dir)?;
    let passages = corpus::chunk_documents(&documents);
    tracing::info!(
        documents = documents.len(),
        passages = passages.len(),
        "corpus read"
    );
    let index = SearchIndex::open_or_create(index_dir)?;
    let changes = if force {
        index.rebuild(&passages)?;
        SyncReport {
            added: documents.len(),
            ..SyncReport::default()
        }
    } else {
        index.sync(&passages)?
    };
    tracing::info!(%changes, "index ready");
    Ok(IndexOpened {
        index,
        changes,
        skipped,
        passages: passages.len(),
    })
}

/// Options of the running service that are not in [`Common`].
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// Jobs waiting for the model at most.
    pub queue_capacity: usize,
    /// Longest message accepted, in characters.
    pub max_message_chars: usize,
    /// Download the model when it is missing.
    pub download: bool,
}

/// Builds the whole answer pipeline: model, index, engine.
pub async fn build_pipeline(common: &Common, options: &ServiceOptions) -> Result<AnswerPipeline> {
    configure_threads(common.threads)?;
    // Settings errors first, before the seconds spent loading the model.
    let remote = remote_generator(common)?;
    let manifest = manifest(common)?;
    let path = model_file(common, options.download).await?;
    let embedding_path = embedding_file(common, options.download).await?;
    let model = load_model(path).await?;
    let tokenizer = model.shared_tokenizer();
    let mut backend: Arc<dyn Backend> = Arc::new(model);
    if let Some(path) = embedding_path {
        let embedder = load_embedder(path, tokenizer).await?;
        backend = Arc::new(WithEmbedder::new(backend, Arc::new(embedder)));
    }
    let (corpus_dir, index_dir) = (common.corpus_dir.clone(), common.index_dir.clone());
    let index = tokio::task::spawn_blocking(move || open_index(&corpus_dir, &index_dir, false))
        .await??
        .index;
    let engine = Engine::start(Arc::new(Memo::new(backend)), options.queue_capacity);
    if remote.is_some() && common.mode == Mode::Reader {
        tracing::warn!("--generator remote has no effect in reader mode: answers are quoted");
    }
    // A remote server is configured to write, so `auto` lets it; its chat
    // template is its own, not the embedded model's.
    let (writes_well, chat_template) = match &remote {
        Some(_) => (true, common.generator_chat_template.clone()),
        None => (manifest.instruction_tuned, manifest.chat_template.clone()),
    };
    let writing = match (common.mode, writes_well) {
        (Mode::Reader, _) | (Mode::Auto, false) => Writing::Reader,
        (Mode::Generative, _) | (Mode::Auto, true) => Writing::Generative { chat_template },
    };
    let settings = answer::Settings {
        writing,
        max_message_chars: options.max_message_chars,
        session_idle: Duration::from_secs(30 * 60),
        embedding_model: common.embedding_model.clone(),
        vector_cache: Some(vector_cache_path(&common.index_dir)),
        corpus_dir: Some(common.corpus_dir.clone()),
        ..answer::Settings::default()
    };
    let pipeline = AnswerPipeline::new(Arc::new(index), engine, settings)?;
    let embedded = pipeline.embed_corpus().await?;
    if embedded > 0 {
        tracing::info!(sentences = embedded, "sentences searchable by meaning");
    }
    Ok(match remote {
        Some(generator) => {
            tracing::info!(generator = %generator.describe(), "generative answers written remotely");
            pipeline.with_generator(generator)
        }
        None => pipeline,
    })
}

/// Where the corpus sentences' vectors are cached: a file beside the
/// tantivy index folder (inside it, a rebuilt index would take it along).
pub fn vector_cache_path(index_dir: &Path) -> PathBuf {
    let name = index_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "index".into());
    index_dir.with_file_name(format!("{name}-vectors.bin"))
}

/// The remote generator the configuration asks for, if any.
fn remote_generator(common: &Common) -> Result<Option<Arc<dyn Generator>>> {
    match common.generator {
        GeneratorKind::Embedded => Ok(None),
        GeneratorKind::Remote => {
            let Some(base_url) = common.generator_url.clone() else {
                return Err(Error::Config(
                    "--generator remote needs --generator-url (EULCAT_GENERATOR_URL)".into(),
                ));
            };
            let settings = RemoteSettings {
                base_url,
                model: common.generator_model.clone(),
                timeout: Duration::from_secs(common.generator_timeout_seconds.max(1)),
                ..RemoteSettings::default()
            };
            let generator =
                RemoteGenerator::new(settings).map_err(|error| Error::Config(error.to_string()))?;
            Ok(Some(Arc::new(generator)))
        }
    }
}
