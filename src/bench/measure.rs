//! The model measurements: prompt processing and greedy generation on the
//! fixed prompt (as llama.cpp is measured: one pass over the prompt, then
//! one token at a time with the full logits), and N conversations
//! generating at once.

use std::ops::ControlFlow;
use std::time::Instant;

use super::{Error, Result, Settings, PROMPT_TEXT};
use crate::llm::{Decoding, GenerationParams, LanguageModel};

/// Raw figures of [`measure_model`].
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFigures {
    /// Prompt length, in tokens.
    pub prompt_tokens: usize,
    /// Generated tokens per run.
    pub decode_tokens: usize,
    /// Prompt processing rate of each run, tokens per second.
    pub prefill_runs: Vec<f64>,
    /// Generation rate of each run, tokens per second.
    pub decode_runs: Vec<f64>,
    /// Time to the first token of each run, in milliseconds.
    pub ttft_ms_runs: Vec<f64>,
    /// `(conversations, aggregate tokens per second)`, served together as
    /// the engine serves them (continuous batching, sampling included);
    /// the median of the runs.
    pub concurrent: Vec<(usize, f64)>,
    /// `(sequences, aggregate tokens per second)` of the batched forward
    /// pass alone, one per step: the ceiling of the figure above (median
    /// of the runs).
    pub batched: Vec<(usize, f64)>,
}

/// Measures `model` as `settings` says.
pub fn measure_model(model: &LanguageModel, settings: &Settings) -> Result<ModelFigures> {
    let longest = settings
        .prompt_tokens
        .max(settings.concurrent_prompt_tokens);
    let ids = model
        .tokenizer()
        .encode_with_bos(PROMPT_TEXT)
        .map_err(crate::llm::Error::from)?;
    if ids.len() < longest || longest == 0 {
        return Err(Error::Settings(format!(
            "prompts of {longest} tokens asked, the text has {}",
            ids.len()
        )));
    }
    let prompt = &ids[..settings.prompt_tokens];
    let mut figures = ModelFigures {
        prompt_tokens: prompt.len(),
        decode_tokens: settings.decode_tokens,
        prefill_runs: Vec::new(),
        decode_runs: Vec::new(),
        ttft_ms_runs: Vec::new(),
        concurrent: Vec::new(),
        batched: Vec::new(),
    };
    // One untimed pass warms the caches and the thread pool.
    let _ = model.forward_last(&mut model.new_cache(), &prompt[..16.min(prompt.len())])?;
    for _ in 0..settings.runs.max(1) {
        let started = Instant::now();
        let mut cache = model.new_cache();
        let logits = model.forward_last(&mut cache, prompt)?;
        let prefill = started.elapsed().as_secs_f64();
        let mut next = argmax(&logits);
        figures
            .ttft_ms_runs
            .push(started.elapsed().as_secs_f64() * 1e3);
        figures.prefill_runs.push(prompt.len() as f64 / prefill);
        let started = Instant::now();
        for _ in 0..settings.decode_tokens {
            next = argmax(&model.forward_last(&mut cache, &[next])?);
        }
        let decode = started.elapsed().as_secs_f64();
        figures
            .decode_runs
            .push(settings.decode_tokens as f64 / decode);
    }
    // Every count is measured in each run, one after the other, and the
    // median kept: the ratio of four conversations to one then compares
    // figures of the same moments (on a shared machine, the rate of one
    // conversation alone moved by up to 10 % between runs a minute apart).
    let short = &ids[..settings.concurrent_prompt_tokens];
    let tokens = settings.concurrent_decode_tokens;
    let mut concurrent = vec![Vec::new(); settings.concurrency.len()];
    let mut batched = vec![Vec::new(); settings.concurrency.len()];
    for _ in 0..settings.runs.max(1) {
        for (i, &n) in settings.concurrency.iter().enumerate() {
            concurrent[i].push(concurrent_rate(model, short, n, tokens)?);
            batched[i].push(batched_rate(model, short, n, tokens)?);
        }
    }
    let medians = |runs: &[Vec<f64>]| -> Vec<(usize, f64)> {
        settings
            .concurrency
            .iter()
            .zip(runs)
            .map(|(&n, rates)| (n, super::median(rates)))
            .collect()
    };
    figures.concurrent = medians(&concurrent);
    figures.batched = medians(&batched);
    Ok(figures)
}

/// Aggregate generation rate of `n` conversations served at once, as the
/// engine serves them: each reads `prompt` (not timed, as llama.cpp's
/// generation figure), then all pick their tokens and share one batched
/// forward pass per step until each has `tokens` tokens or stops.
fn concurrent_rate(model: &LanguageModel, prompt: &[u32], n: usize, tokens: usize) -> Result<f64> {
    if n == 0 {
        return Err(Error::Settings("zero conversations".into()));
    }
    let params = GenerationParams {
        max_tokens: tokens,
        ..GenerationParams::default()
    };
    let mut running = (0..n)
        .map(|_| model.start_decoding(prompt, &params))
        .collect::<std::result::Result<Vec<Decoding>, _>>()?;
    let mut generated = 0;
    let started = Instant::now();
    while !running.is_empty() {
        let mut i = 0;
        while i < running.len() {
            let mut count = |_| {
                generated += 1;
                ControlFlow::Continue(())
            };
            if running[i].choose_next(model, &mut count)? {
                i += 1;
            } else {
                running.swap_remove(i).finish(model, &mut count)?;
            }
        }
        let mut decodings: Vec<&mut Decoding> = running.iter_mut().collect();
        model.advance(&mut decodings)?;
    }
    Ok(generated as f64 / started.elapsed().as_secs_f64())
}

/// Aggregate generation rate of `n` sequences decoded in lockstep, one
/// batched forward pass per step, after the same prompt.
fn batched_rate(model: &LanguageModel, prompt: &[u32], n: usize, tokens: usize) -> Result<f64> {
    let mut first = model.new_cache();
    let start = argmax(&model.forward_last(&mut first, prompt)?);
    let mut caches: Vec<_> = (0..n).map(|_| first.clone()).collect();
    let mut next: Vec<[u32; 1]> = vec![[start]; n];
    let started = Instant::now();
    for _ in 0..tokens {
        let mut steps: Vec<_> = caches
            .iter_mut()
            .zip(&next)
            .map(|(cache, token)| (cache, token.as_slice()))
            .collect();
        let logits = model.forward_last_batch(&mut steps)?;
        next = logits.iter().map(|l| [argmax(l)]).collect();
    }
    Ok((n * tokens) as f64 / started.elapsed().as_secs_f64())
}

/// The greedy choice, as decoding makes it.
fn argmax(logits: &[f32]) -> u32 {
    crate::llm::argmax(logits).unwrap_or(0) as u32
}
