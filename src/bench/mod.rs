//! Speed measurements on the real model (`eulcat bench`): prompt
//! processing, generation, time to first token, aggregate generation with
//! several conversations at once, and peak resident memory. The answer
//! latency over a question set is measured by the caller (it needs the whole
//! pipeline) and handed in as a list of latencies.
//!
//! Benchmarks, not tests: nothing here asserts a speed, and CI does not run
//! them. The prompt is fixed French prose (`prompt.txt`) so that
//! `bench/compare.py` can feed llama.cpp the same tokens.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod measure;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

pub use measure::{measure_model, ModelFigures};

/// The fixed text the prompt-processing and generation figures are measured
/// on (cut to `Settings::prompt_tokens`).
pub const PROMPT_TEXT: &str = include_str!("prompt.txt");

/// Errors of the benchmark.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model failed.
    #[error("language model: {0}")]
    Model(#[from] crate::llm::Error),
    /// The settings cannot be measured (e.g. a prompt longer than the text).
    #[error("invalid benchmark settings: {0}")]
    Settings(String),
    /// A measuring thread panicked.
    #[error("a benchmark thread panicked")]
    Thread,
}

/// Result of the benchmark.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Prompt length for prompt processing, in tokens (BOS included).
    pub prompt_tokens: usize,
    /// Tokens generated (greedy, EOS ignored) after that prompt.
    pub decode_tokens: usize,
    /// Repetitions; medians are reported.
    pub runs: usize,
    /// Numbers of simultaneous conversations to measure.
    pub concurrency: Vec<usize>,
    /// Prompt of each concurrent conversation, in tokens.
    pub concurrent_prompt_tokens: usize,
    /// Tokens each concurrent conversation generates.
    pub concurrent_decode_tokens: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            prompt_tokens: 512,
            decode_tokens: 128,
            runs: 3,
            concurrency: vec![1, 2, 4, 8],
            concurrent_prompt_tokens: 64,
            concurrent_decode_tokens: 64,
        }
    }
}

/// The whole benchmark, as `eulcat bench --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The CPU the figures were measured on (`/proc/cpuinfo`'s model name).
    pub cpu: String,
    /// The CPU's vector and matrix features that matter to the kernels.
    pub cpu_features: String,
    /// Which kernels run, and how each was chosen.
    pub kernels: String,
    /// Threads the matrix products ran on.
    pub threads: usize,
    /// Prompt length, in tokens.
    pub prompt_tokens: usize,
    /// Generated tokens per run.
    pub decode_tokens: usize,
    /// Prompt processing, tokens per second (median of runs).
    pub prefill_tokens_per_s: f64,
    /// Every run's prompt processing rate.
    pub prefill_runs: Vec<f64>,
    /// Generation, tokens per second (median of runs).
    pub decode_tokens_per_s: f64,
    /// Every run's generation rate.
    pub decode_runs: Vec<f64>,
    /// Time from the prompt to the first generated token, in milliseconds
    /// (median of runs).
    pub ttft_ms_p50: f64,
    /// Questions answered for the latency figures.
    pub answers: usize,
    /// End-to-end answer latency, median, in milliseconds.
    pub answer_ms_p50: f64,
    /// End-to-end answer latency, 95th percentile, in milliseconds.
    pub answer_ms_p95: f64,
    /// The same questions asked a second time (a kiosk's repeated
    /// questions, answered from remembered results), median, in
    /// milliseconds. The figures above are all first askings.
    pub repeated_answer_ms_p50: f64,
    /// The same, 95th percentile.
    pub repeated_answer_ms_p95: f64,
    /// Peak resident memory of the process, in megabytes.
    pub peak_rss_mb: f64,
    /// Aggregate generation rate with N simultaneous conversations served
    /// as the engine serves them (decoded together), keyed by N.
    pub concurrent_decode_tokens_per_s: BTreeMap<String, f64>,
    /// Aggregate generation rate of the batched forward pass alone over N
    /// sequences (no sampling), keyed by N.
    pub batched_decode_tokens_per_s: BTreeMap<String, f64>,
    /// Seconds to load the language model (GGUF, tokenizer, warm-up).
    pub model_load_s: f64,
    /// The embedding model's figures, when it is installed.
    pub embedding: Option<EmbeddingFigures>,
}

/// Load time, memory and speed of the embedding model.
#[derive(Debug, Clone, Serialize)]
pub struct EmbeddingFigures {
    /// Seconds to read the zip and quantise the weights.
    pub load_s: f64,
    /// Megabytes the quantised weights hold.
    pub weights_mb: f64,
    /// Embedding one question, as the pipeline does, median, milliseconds.
    pub question_ms_p50: f64,
    /// The same, 95th percentile.
    pub question_ms_p95: f64,
    /// Questions embedded.
    pub questions: usize,
}

/// End-to-end answer latencies over a question set, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct AnswerLatencies<'a> {
    /// Each question asked for the first time.
    pub first: &'a [f64],
    /// The same questions asked once more, in the same process.
    pub repeated: &'a [f64],
}

impl Report {
    /// Puts the model figures and the answer latencies together; reads the
    /// peak memory now, so call it last.
    pub fn new(
        threads: usize,
        model: ModelFigures,
        model_load_s: f64,
        answers: &AnswerLatencies<'_>,
        embedding: Option<EmbeddingFigures>,
    ) -> Self {
        let answer_latencies_ms = answers.first;
        Self {
            cpu: cpu_model(),
            cpu_features: cpu_features(),
            kernels: kernel_paths(),
            threads,
            model_load_s,
            embedding,
            prompt_tokens: model.prompt_tokens,
            decode_tokens: model.decode_tokens,
            prefill_tokens_per_s: median(&model.prefill_runs),
            decode_tokens_per_s: median(&model.decode_runs),
            prefill_runs: model.prefill_runs,
            decode_runs: model.decode_runs,
            ttft_ms_p50: median(&model.ttft_ms_runs),
            answers: answer_latencies_ms.len(),
            answer_ms_p50: percentile(answer_latencies_ms, 0.50),
            answer_ms_p95: percentile(answer_latencies_ms, 0.95),
            repeated_answer_ms_p50: percentile(answers.repeated, 0.50),
            repeated_answer_ms_p95: percentile(answers.repeated, 0.95),
            peak_rss_mb: peak_rss_mb().unwrap_or(f64::NAN),
            concurrent_decode_tokens_per_s: keyed(&model.concurrent),
            batched_decode_tokens_per_s: keyed(&model.batched),
        }
    }

    /// A human-readable table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let mut row = |name: &str, value: String| {
            let _ = writeln!(out, "| {name:<44} | {value:>12} |");
        };
        row("CPU", self.cpu.clone());
        row("CPU features", self.cpu_features.clone());
        row("kernels", self.kernels.clone());
        row("threads", self.threads.to_string());
        row(
            "language model load, s",
            format!("{:.2}", self.model_load_s),
        );
        if let Some(e) = &self.embedding {
            row("embedding model load, s", format!("{:.2}", e.load_s));
            row(
                "embedding model weights, MB",
                format!("{:.0}", e.weights_mb),
            );
            row(
                &format!("question embedding, ms (p50 / p95 of {})", e.questions),
                format!("{:.0} / {:.0}", e.question_ms_p50, e.question_ms_p95),
            );
        }
        row(
            &format!(
                "prompt processing ({} tokens), tokens/s",
                self.prompt_tokens
            ),
            format!("{:.1}", self.prefill_tokens_per_s),
        );
        row(
            &format!("generation ({} tokens), tokens/s", self.decode_tokens),
            format!("{:.1}", self.decode_tokens_per_s),
        );
        row(
            "time to first token, ms (p50)",
            format!("{:.0}", self.ttft_ms_p50),
        );
        row(
            &format!("answer latency, ms (p50 of {})", self.answers),
            format!("{:.0}", self.answer_ms_p50),
        );
        row(
            "answer latency, ms (p95)",
            format!("{:.0}", self.answer_ms_p95),
        );
        row(
            "same questions again, ms (p50 / p95)",
            format!(
                "{:.0} / {:.0}",
                self.repeated_answer_ms_p50, self.repeated_answer_ms_p95
            ),
        );
        row(
            "peak resident memory, MB",
            format!("{:.0}", self.peak_rss_mb),
        );
        for (n, rate) in sorted(&self.concurrent_decode_tokens_per_s) {
            row(
                &format!("{n} concurrent conversations, tokens/s"),
                format!("{rate:.1}"),
            );
        }
        for (n, rate) in sorted(&self.batched_decode_tokens_per_s) {
            row(
                &format!("{n} sequences batched, tokens/s"),
                format!("{rate:.1}"),
            );
        }
        out
    }
}

/// `(n, rate)` pairs keyed by `n` as text (JSON object keys).
fn keyed(rates: &[(usize, f64)]) -> BTreeMap<String, f64> {
    rates
        .iter()
        .map(|(n, rate)| (n.to_string(), *rate))
        .collect()
}

/// The entries of a [`keyed`] map in numeric order of their keys.
fn sorted(rates: &BTreeMap<String, f64>) -> Vec<(usize, f64)> {
    let mut out: Vec<(usize, f64)> = rates
        .iter()
        .filter_map(|(n, rate)| n.parse().ok().map(|n| (n, *rate)))
        .collect();
    out.sort_by_key(|&(n, _)| n);
    out
}

/// Loads the embedding model at `path` (with the language model's
/// `tokenizer`) and embeds each of `questions` alone, as the pipeline
/// embeds a visitor's question.
pub fn measure_embedder(
    path: &std::path::Path,
    tokenizer: std::sync::Arc<crate::llm::TextTokenizer>,
    questions: &[String],
) -> Result<EmbeddingFigures> {
    let started = std::time::Instant::now();
    let embedder = crate::llm::Embedder::load(path, tokenizer)?;
    let load_s = started.elapsed().as_secs_f64();
    // One untimed question warms the caches and the thread pool.
    let warm = crate::llm::Input::Query("Bonjour".into());
    embedder.embed(std::slice::from_ref(&warm))?;
    let mut times = Vec::with_capacity(questions.len());
    for question in questions {
        let input = crate::llm::Input::Query(question.clone());
        let started = std::time::Instant::now();
        embedder.embed(std::slice::from_ref(&input))?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(EmbeddingFigures {
        load_s,
        weights_mb: embedder.weight_bytes() as f64 / 1e6,
        question_ms_p50: percentile(&times, 0.5),
        question_ms_p95: percentile(&times, 0.95),
        questions: times.len(),
    })
}

/// The CPU's model name, as `/proc/cpuinfo` gives it (`unknown` elsewhere).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The features among AVX2, FMA, F16C, AVX-512 (F, BW, VNNI, BF16) and AMX
/// that `/proc/cpuinfo` lists (`unknown` elsewhere): the same binary runs
/// at very different speeds with and without them.
pub fn cpu_features() -> String {
    const WANTED: [&str; 9] = [
        "avx2",
        "fma",
        "f16c",
        "avx512f",
        "avx512bw",
        "avx512_vnni",
        "avx512_bf16",
        "amx_tile",
        "amx_int8",
    ];
    let Ok(info) = std::fs::read_to_string("/proc/cpuinfo") else {
        return "unknown".into();
    };
    let Some(flags) = info
        .lines()
        .find(|line| line.starts_with("flags"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, flags)| flags.split_whitespace().collect::<Vec<_>>())
    else {
        return "unknown".into();
    };
    let found: Vec<&str> = WANTED
        .into_iter()
        .filter(|wanted| flags.contains(wanted))
        .collect();
    if found.is_empty() {
        "none of AVX2, AVX-512, AMX".into()
    } else {
        found.join(" ")
    }
}

/// The kernels this binary runs on this CPU, chosen at run time: ours
/// (Q8_0, Q4_K and Q6_K products, the attention's inner loops), or on the
/// portable path (`EULCAT_KERNELS=portable`, or a CPU without AVX2)
/// candle's, whose K-quant products `MISTRALRS_FORCE_AVX2` forces lower.
pub fn kernel_paths() -> String {
    let ours = crate::llm::kernels::cpu::path();
    if ours == crate::llm::kernels::cpu::Path::Portable {
        format!("portable, candle K-quants {}", candle_k_quant_path())
    } else {
        format!("ours {}", ours.name())
    }
}

/// The path candle's repacked K-quant kernels take, by the rule they apply
/// (`candle_core::quantized::repack_x86::level`).
fn candle_k_quant_path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        let forced_avx2 = std::env::var("MISTRALRS_FORCE_AVX2").as_deref() == Ok("1");
        if !forced_avx2
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512vnni")
        {
            return "avx512-vnni";
        }
        if !forced_avx2 && std::is_x86_feature_detected!("avxvnni") {
            return "avx-vnni";
        }
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            return "avx2";
        }
    }
    "portable"
}

/// The median; NaN for an empty list.
pub fn median(values: &[f64]) -> f64 {
    percentile(values, 0.5)
}

/// The `q` quantile by nearest rank (`q` in 0..=1); NaN for an empty list.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Peak resident memory of this process (`VmHWM`), in megabytes; `None`
/// where `/proc` is unavailable.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path the report names is the one this CPU's features allow.
    #[test]
    fn the_kernel_path_follows_the_cpu_features() {
        let features = cpu_features();
        let paths = kernel_paths();
        if paths.starts_with("ours avx512") {
            assert!(
                features.contains("avx512f") && features.contains("avx512bw"),
                "{features}"
            );
        }
        let forced = std::env::var(crate::llm::kernels::cpu::FORCE_VARIABLE).is_ok();
        if features.contains("avx512f") && features.contains("avx512bw") && !forced {
            assert!(paths.starts_with("ours avx512"), "{features}: {paths}");
        }
        if features.contains("avx512_vnni") && !forced {
            assert_eq!(paths, "ours avx512-vnni", "{features}");
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(median(&values), 3.0);
        assert_eq!(percentile(&values, 0.95), 5.0);
        assert_eq!(percentile(&values, 0.0), 1.0);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn report_has_the_promised_keys() {
        let figures = ModelFigures {
            prompt_tokens: 512,
            decode_tokens: 128,
            prefill_runs: vec![100.0, 300.0, 200.0],
            decode_runs: vec![50.0],
            ttft_ms_runs: vec![10.0, 30.0, 20.0],
            concurrent: vec![(1, 50.0), (2, 90.0)],
            batched: vec![(10, 300.0), (2, 95.0)],
        };
        let answers = AnswerLatencies {
            first: &[100.0, 200.0],
            repeated: &[2.0, 3.0],
        };
        let report = Report::new(2, figures, 1.5, &answers, None);
        assert_eq!(report.prefill_tokens_per_s, 200.0);
        assert_eq!(report.ttft_ms_p50, 20.0);
        let json = serde_json::to_value(&report).unwrap();
        for key in [
            "prefill_tokens_per_s",
            "decode_tokens_per_s",
            "ttft_ms_p50",
            "answer_ms_p50",
            "answer_ms_p95",
            "repeated_answer_ms_p50",
            "peak_rss_mb",
        ] {
            assert!(json[key].is_number(), "{key}");
        }
        assert_eq!(json["concurrent_decode_tokens_per_s"]["2"], 90.0);
        assert_eq!(json["batched_decode_tokens_per_s"]["10"], 300.0);
        let table = report.table();
        assert!(table.contains("| 2 concurrent conversations"));
        // Numeric order: 2 before 10.
        assert!(table.find("2 sequences batched") < table.find("10 sequences batched"));
    }

    #[test]
    fn peak_memory_is_read_on_linux() {
        let mb = peak_rss_mb().unwrap();
        assert!(mb > 0.0);
    }

    #[test]
    fn the_prompt_text_is_long_enough_for_512_tokens() {
        // About 1.4 tokens per French word: 500 words give well over 512.
        assert!(PROMPT_TEXT.split_whitespace().count() > 500);
    }
}
