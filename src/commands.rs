//! The binary's commands (part of the `eulcat` binary, not of the library):
//! each one wires library calls together and reports to the terminal.

use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use eulcat::answer::session::Sessions;
use eulcat::app::{self, ServiceOptions};
use eulcat::config::{BenchArgs, Cli, Command, Common, EvalArgs, Mode, ServeArgs};
use eulcat::engine::Backend;
use eulcat::llm::GenerationParams;
use eulcat::model_store::{self, PullOptions};
use eulcat::reindex::Reindexer;
use eulcat::store::{self, Store};
use eulcat::{bench, eval, http};

/// How long the corpus folder must stay quiet after a change before it is
/// re-indexed: long enough to coalesce a folder being copied in, short
/// enough that staff see their edit within seconds.
const CORPUS_QUIET: std::time::Duration = std::time::Duration::from_millis(750);

/// Runs one command.
pub(crate) async fn run(cli: Cli) -> Result<ExitCode> {
    let common = cli.common;
    match cli.command {
        Command::Serve(args) => serve(&common, args).await,
        Command::Ask { question, json } => ask(&common, &question, json).await,
        Command::Index { force } => index(&common, force).await,
        Command::Export { store, output } => export(store, output).await,
        Command::Pull { from, index_url } => pull(&common, from, index_url).await,
        Command::Eval(args) => evaluate(&common, &args).await,
        Command::FitDecision { features, output } => fit_decision(&features, output.as_deref()),
        Command::Bench(args) => benchmark(&common, &args).await,
        Command::Generate {
            prompt,
            max_tokens,
            temperature,
            top_p,
            top_k,
            seed,
        } => {
            let params = GenerationParams {
                max_tokens,
                temperature,
                top_p,
                top_k,
                seed,
                ..GenerationParams::default()
            };
            generate(&common, &prompt, params).await
        }
    }
}

fn service_options(
    queue_capacity: usize,
    max_message_chars: usize,
    download: bool,
) -> ServiceOptions {
    ServiceOptions {
        queue_capacity,
        max_message_chars,
        download,
    }
}

async fn serve(common: &Common, args: ServeArgs) -> Result<ExitCode> {
    // Listen first, load second: the kiosk's browser gets « starting »
    // (503) rather than a refused connection while the model loads.
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    tracing::info!(address = %args.bind, "listening");
    let store = Arc::new(open_store(args.store.clone()).await?);
    keep_retention(Arc::clone(&store), args.retention_days);
    let front_ends = http::FrontEnds {
        staff_token: args.staff_token.clone().filter(|t| !t.trim().is_empty()),
        admin_token: args.admin_token.clone().filter(|t| !t.trim().is_empty()),
        widget_origins: args.widget_origins.clone(),
        kiosk_idle_seconds: args.kiosk_idle_seconds,
        public_url: args
            .public_url
            .as_deref()
            .map(|u| u.trim_end_matches('/').to_string()),
    };
    let state = http::AppState::default()
        .with_store(Arc::clone(&store))
        .with_front_ends(front_ends)
        .with_api_key(args.api_key.clone());
    let limits = http::Limits {
        max_body_bytes: args.max_body_bytes,
        rate_limit: (args.rate_limit_per_minute > 0).then(|| http::RateLimit {
            per_minute: args.rate_limit_per_minute,
            burst: args.rate_limit_burst,
            client_address_header: args.client_address_header.clone(),
        }),
    };
    limits.validate().map_err(anyhow::Error::msg)?;
    let router = http::router(state.clone(), &limits);
    let options = service_options(args.queue_capacity, args.max_message_chars, !args.offline);
    let loading = {
        let common = common.clone();
        tokio::spawn(async move { app::build_pipeline(&common, &options).await })
    };
    let server = tokio::spawn(http::serve(listener, router));
    let mut pipeline = loading
        .await
        .context("startup task failed")?
        .context("cannot start the assistant")?;
    if store::is_postgres_url(&args.store) {
        // Replicas share the database; the next question of a conversation
        // may reach any of them.
        pipeline = pipeline.with_sessions(Arc::clone(&store) as Arc<dyn Sessions>);
    }
    let reindexer = Reindexer::new(&common.corpus_dir, pipeline.clone());
    state.set_ready(pipeline);
    state.set_reindexer(Arc::clone(&reindexer));
    // Kept alive for as long as the server runs.
    let _watcher = if args.no_watch {
        None
    } else {
        match reindexer.watch(CORPUS_QUIET) {
            Ok(watcher) => Some(watcher),
            Err(err) => {
                tracing::warn!(%err, "corpus changes will not be picked up until a re-index");
                None
            }
        }
    };
    tracing::info!("ready");
    server
        .await
        .context("server task failed")?
        .context("server failed")?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the store named on the command line (a SQLite file or a
/// PostgreSQL URL) on a blocking thread: a PostgreSQL connection blocks.
async fn open_store(location: String) -> Result<Store> {
    let shown = store::redacted(&location);
    tokio::task::spawn_blocking(move || Store::open_location(&location))
        .await
        .context("store task failed")?
        .with_context(|| format!("cannot open the store {shown}"))
}

/// Purges the store of answers older than the retention (never, with 0
/// days) and of idle conversations, now and every hour, for as long as the
/// server runs.
fn keep_retention(store: Arc<Store>, days: u64) {
    let age = match days {
        0 => std::time::Duration::MAX,
        days => std::time::Duration::from_secs(days.saturating_mul(24 * 60 * 60)),
    };
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(60 * 60));
        loop {
            every_hour.tick().await;
            let store = Arc::clone(&store);
            match tokio::task::spawn_blocking(move || store.purge_older_than(age)).await {
                Ok(Ok(0)) => {}
                Ok(Ok(removed)) => tracing::info!(removed, days, "old answers purged"),
                Ok(Err(err)) => tracing::error!(%err, "purging old answers failed"),
                Err(err) => tracing::error!(%err, "purge task failed"),
            }
        }
    });
}

async fn export(location: String, output: Option<std::path::PathBuf>) -> Result<ExitCode> {
    if !store::is_postgres_url(&location) && !std::path::Path::new(&location).exists() {
        anyhow::bail!("no store at {location} (see `serve --store`)");
    }
    let store = open_store(location).await?;
    tokio::task::spawn_blocking(move || write_export(&store, output.as_deref()))
        .await
        .context("export task failed")?
}

fn write_export(store: &Store, output: Option<&std::path::Path>) -> Result<ExitCode> {
    let lines = match output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            let mut out = std::io::BufWriter::new(file);
            let lines = store.export_jsonl(&mut out)?;
            out.flush()?;
            lines
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let lines = store.export_jsonl(&mut out)?;
            out.flush()?;
            lines
        }
    };
    eprintln!("exported {lines} answers");
    Ok(ExitCode::SUCCESS)
}

async fn ask(common: &Common, question: &str, json: bool) -> Result<ExitCode> {
    let pipeline = app::build_pipeline(common, &service_options(4, 2000, true)).await?;
    let reply = pipeline.answer(question, None).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&reply)?);
    } else {
        println!("{}", reply.answer);
    }
    Ok(ExitCode::SUCCESS)
}

async fn index(common: &Common, force: bool) -> Result<ExitCode> {
    let (corpus_dir, index_dir) = (common.corpus_dir.clone(), common.index_dir.clone());
    let opened =
        tokio::task::spawn_blocking(move || app::open_index(&corpus_dir, &index_dir, force))
            .await??;
    for skipped in &opened.skipped {
        println!("skipped {}: {}", skipped.path.display(), skipped.reason);
    }
    println!("{}", opened.changes);
    println!(
        "index ready: {} passages in {}",
        opened.passages,
        common.index_dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn pull(
    common: &Common,
    from: Option<std::path::PathBuf>,
    index_url: String,
) -> Result<ExitCode> {
    let options = PullOptions {
        index_url,
        progress: true,
        ..PullOptions::default()
    };
    let path =
        model_store::run_pull_command(&common.models_dir, &common.model, from.as_deref(), &options)
            .await?;
    println!("model ready: {}", path.display());
    // `--from` names one model's file or pieces: the embedding model is
    // installed from its own with `--model <its name> --from …`.
    if from.is_none() && common.embedding_model != app::NO_EMBEDDING_MODEL {
        let path = model_store::run_pull_command(
            &common.models_dir,
            &common.embedding_model,
            None,
            &options,
        )
        .await?;
        println!("embedding model ready: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn fit_decision(features: &std::path::Path, output: Option<&std::path::Path>) -> Result<ExitCode> {
    let text = std::fs::read_to_string(features)
        .with_context(|| format!("cannot read {}", features.display()))?;
    let records: Vec<eval::fit::Record> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .with_context(|| {
            format!(
                "{} is not a features file of `eulcat eval --features`",
                features.display()
            )
        })?;
    let (mut decision, report) = eval::fit::fit_decision(&records);
    eprint!("{report}");
    decision.provenance = format!(
        "fitted by `eulcat fit-decision` on {} ({} questions)",
        features.display(),
        records.len()
    );
    let json = serde_json::to_string_pretty(&decision)?;
    match output {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => println!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn evaluate(common: &Common, args: &EvalArgs) -> Result<ExitCode> {
    let cases = eval::load(&args.file)?;
    let mut pipeline = app::build_pipeline(common, &service_options(4, 2000, true)).await?;
    if args.rules {
        pipeline = pipeline.with_decision(None);
    } else if let Some(path) = &args.decision {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        pipeline = pipeline.with_decision(Some(
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a decision", path.display()))?,
        ));
    }
    let (outcomes, summary) = eval::run(&pipeline, &cases).await?;
    if let Some(path) = &args.features {
        let mut lines = String::new();
        for (case, outcome) in cases.iter().zip(&outcomes) {
            let record = eval::fit::Record {
                id: case.id.clone(),
                expected: case.kind,
                register: case.register.clone(),
                considered: outcome.considered.clone(),
            };
            lines.push_str(&serde_json::to_string(&record)?);
            lines.push('\n');
        }
        std::fs::write(path, lines).with_context(|| format!("cannot write {}", path.display()))?;
    }
    for outcome in &outcomes {
        let verdict = if outcome.passed { "PASS" } else { "FAIL" };
        let unsupported = if outcome.unsupported_numbers.is_empty() {
            String::new()
        } else {
            format!(
                " [numbers absent from sources: {}]",
                outcome.unsupported_numbers.join(", ")
            )
        };
        let highlight = match outcome.highlight_right {
            Some(false) => " [the highlight is not the fact asked for]",
            _ => "",
        };
        println!(
            "{verdict} {} ({:?}, {:.0} ms){}{}{highlight}",
            outcome.id,
            outcome.kind,
            outcome.latency_ms,
            prefix(" — ", &outcome.why),
            unsupported
        );
        if !outcome.passed || outcome.highlight_right == Some(false) {
            println!("     answer: {}", outcome.answer.replace('\n', " "));
        }
        if args.highlights {
            if let Some(highlight) = &outcome.highlight {
                println!("     highlight: {highlight}");
            }
        }
    }
    for (register, part) in eval::by_register(&cases, &outcomes) {
        println!("  {register}: {part}");
    }
    println!("{summary}");
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    }
    let below = |bar: Option<f64>, rate: f64| bar.is_some_and(|bar| rate + 1e-9 < bar);
    let failed = below(args.min_facts, summary.facts.rate())
        || below(args.min_no_answer, summary.no_answer.rate())
        || below(args.min_smalltalk, summary.smalltalk.rate())
        || args
            .max_unsupported
            .is_some_and(|max| summary.unsupported_answers > max);
    if failed {
        eprintln!("eval: below the bar");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

async fn benchmark(common: &Common, args: &BenchArgs) -> Result<ExitCode> {
    app::configure_threads(common.threads)?;
    let threads = rayon::current_num_threads();
    let cases = eval::load(&args.questions)
        .with_context(|| format!("cannot read {}", args.questions.display()))?;
    // The raw model first, then the whole pipeline, one after the other, so
    // the peak memory is that of one loaded model, as when serving.
    let path = app::model_file(common, true).await?;
    let started = std::time::Instant::now();
    let model = app::load_model(path).await?;
    let model_load_s = started.elapsed().as_secs_f64();
    let tokenizer = model.shared_tokenizer();
    let settings = bench::Settings {
        runs: args.runs,
        ..bench::Settings::default()
    };
    eprintln!("bench: prompt processing, generation, concurrent conversations…");
    let figures =
        tokio::task::spawn_blocking(move || bench::measure_model(&model, &settings)).await??;
    let embedding = match app::embedding_file(common, true).await? {
        Some(path) => {
            eprintln!("bench: the embedding model, loaded and embedding each question alone…");
            let questions: Vec<String> = cases
                .iter()
                .filter_map(|case| case.question.clone())
                .collect();
            Some(
                tokio::task::spawn_blocking(move || {
                    bench::measure_embedder(&path, tokenizer, &questions)
                })
                .await??,
            )
        }
        None => None,
    };
    eprintln!("bench: answer latency over {} questions…", cases.len());
    let common = Common {
        mode: Mode::Reader,
        ..common.clone()
    };
    let pipeline = app::build_pipeline(&common, &service_options(4, 2000, true)).await?;
    let (outcomes, summary) = eval::run(&pipeline, &cases).await?;
    eprintln!("bench: {summary}");
    eprintln!("bench: the same questions again…");
    let (repeated, summary_again) = eval::run(&pipeline, &cases).await?;
    eprintln!("bench: again: {summary_again}");
    let latencies = |outcomes: &[eval::Outcome]| -> Vec<f64> {
        outcomes.iter().map(|o| o.latency_ms).collect()
    };
    let (first, repeated) = (latencies(&outcomes), latencies(&repeated));
    let answers = bench::AnswerLatencies {
        first: &first,
        repeated: &repeated,
    };
    let report = bench::Report::new(threads, figures, model_load_s, &answers, embedding);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(ExitCode::SUCCESS)
}

fn prefix(separator: &str, text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("{separator}{text}")
    }
}

async fn generate(common: &Common, prompt: &str, params: GenerationParams) -> Result<ExitCode> {
    app::configure_threads(common.threads)?;
    let path = app::model_file(common, true).await?;
    let model = Arc::new(app::load_model(path).await?);
    let prompt = prompt.to_string();
    let summary = tokio::task::spawn_blocking(move || {
        let mut stdout = std::io::stdout();
        Backend::generate(model.as_ref(), &prompt, &params, &mut |text| {
            // A closed pipe (`| head`) ends the generation quietly.
            if write!(stdout, "{text}")
                .and_then(|()| stdout.flush())
                .is_err()
            {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
    })
    .await??;
    println!();
    let rate = |tokens: usize, ms: f64| {
        if ms > 0.0 {
            tokens as f64 * 1000.0 / ms
        } else {
            0.0
        }
    };
    eprintln!(
        "prompt: {} tokens in {:.0} ms ({:.1} tokens/s); generated: {} tokens in {:.0} ms ({:.1} tokens/s); finish: {:?}",
        summary.prompt_tokens,
        summary.prefill_ms,
        rate(summary.prompt_tokens, summary.prefill_ms),
        summary.generated_tokens,
        summary.decode_ms,
        rate(summary.generated_tokens, summary.decode_ms),
        summary.finish_reason
    );
    Ok(ExitCode::SUCCESS)
}
