//! Free generation: prefill, then sample one token at a time until EOS, a
//! stop sequence, the token budget, or the caller cancels.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};

use super::model::LanguageModel;
use super::stop::{cut, StopMatcher};
use super::{Error, Result};

/// How to pick tokens and when to stop.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationParams {
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// Softmax temperature; `<= 0` means greedy (argmax).
    pub temperature: f64,
    /// Nucleus sampling threshold.
    pub top_p: Option<f64>,
    /// Sample only among the `k` most likely tokens.
    pub top_k: Option<usize>,
    /// Divides positive (multiplies negative) logits of recently seen
    /// tokens; 1.0 disables it.
    pub repeat_penalty: f32,
    /// How many of the last context tokens the penalty looks at.
    pub repeat_last_n: usize,
    /// Texts that end the generation; they are not part of the result.
    pub stop_sequences: Vec<String>,
    /// Seed of the sampler, for reproducible sampling.
    pub seed: u64,
}

impl Default for GenerationParams {
    fn default() -> Self {
        Self {
            max_tokens: 128,
            temperature: 0.0,
            top_p: None,
            top_k: None,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            stop_sequences: Vec::new(),
            seed: 299_792_458,
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// An end-of-sequence token, a stop sequence, or (constrained decoding)
    /// no allowed token left.
    Stop,
    /// The token budget or the context was used up.
    Length,
    /// The callback asked to stop.
    Cancelled,
}

/// The result of a generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// Generated tokens, without the end-of-sequence token. When a stop
    /// sequence ended the generation, this includes the tokens that spelled
    /// it, while `text` is cut before it.
    pub tokens: Vec<u32>,
    /// Decoded text, cut before any stop sequence.
    pub text: String,
    /// Why generation ended.
    pub finish_reason: FinishReason,
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Time spent processing the prompt.
    pub prefill_ms: f64,
    /// Time spent producing the tokens after the first.
    pub decode_ms: f64,
}

impl GenerationParams {
    fn sampling(&self) -> Sampling {
        let temperature = self.temperature;
        if temperature <= 0.0 {
            return Sampling::ArgMax;
        }
        match (self.top_k, self.top_p) {
            (None, None) => Sampling::All { temperature },
            (Some(k), None) => Sampling::TopK { k, temperature },
            (None, Some(p)) => Sampling::TopP { p, temperature },
            (Some(k), Some(p)) => Sampling::TopKThenTopP { k, p, temperature },
        }
    }
}

impl LanguageModel {
    /// Generates after `prompt`, handing each token to `on_token` as soon as
    /// it cannot be part of a stop sequence; `ControlFlow::Break` cancels.
    pub fn generate(
        &self,
        prompt: &[u32],
        params: &GenerationParams,
        on_token: &mut dyn FnMut(u32) -> ControlFlow<()>,
    ) -> Result<Generation> {
        if prompt.is_empty() {
            return Err(Error::InvalidRequest(
                "generation needs a non-empty prompt".into(),
            ));
        }
        let started = Instant::now();
        let mut cache = self.new_cache();
        let mut logits = self.forward_last(&mut cache, prompt)?;
        let prefill_ms = started.elapsed().as_secs_f64() * 1e3;
        let decode_started = Instant::now();

        let mut sampler = LogitsProcessor::from_sampling(params.seed, params.sampling());
        let end_ids: HashSet<u32> = self.tokenizer.stop_ids().iter().copied().collect();
        let matcher = StopMatcher::new(&params.stop_sequences);
        let decode = |ids: &[u32]| -> Result<String> { Ok(self.tokenizer.decode(ids)?) };
        let mut context = prompt.to_vec();
        let mut tokens = Vec::new();
        let mut emitted = 0;
        let mut stop_at = None;

        let finish_reason = loop {
            if tokens.len() >= params.max_tokens {
                break FinishReason::Length;
            }
            if params.repeat_penalty != 1.0 {
                let recent = &context[context.len().saturating_sub(params.repeat_last_n)..];
                apply_repeat_penalty(&mut logits, params.repeat_penalty, recent);
            }
            let next =
                sampler.sample(&Tensor::from_vec(logits, self.vocab_size(), &Device::Cpu)?)?;
            if end_ids.contains(&next) {
                break FinishReason::Stop;
            }
            tokens.push(next);
            context.push(next);
            let check = matcher.check(&tokens, emitted, &decode)?;
            let mut cancelled = false;
            for &token in &tokens[emitted..check.safe_tokens] {
                if on_token(token).is_break() {
                    cancelled = true;
                    break;
                }
            }
            emitted = check.safe_tokens;
            if cancelled {
                break FinishReason::Cancelled;
            }
            if check.stop_at.is_some() {
                stop_at = check.stop_at;
                break FinishReason::Stop;
            }
            if tokens.len() >= params.max_tokens {
                break FinishReason::Length;
            }
            if cache.len() >= self.max_context {
                break FinishReason::Length;
            }
            logits = self.forward_last(&mut cache, &[next])?;
        };
        // Text held back for a stop sequence that never came is released.
        if stop_at.is_none() && finish_reason != FinishReason::Cancelled {
            for &token in &tokens[emitted..] {
                if on_token(token).is_break() {
                    break;
                }
            }
        }
        Ok(Generation {
            text: cut(decode(&tokens)?, stop_at),
            tokens,
            finish_reason,
            prompt_tokens: prompt.len(),
            prefill_ms,
            decode_ms: decode_started.elapsed().as_secs_f64() * 1e3,
        })
    }
}

/// Makes recently seen tokens less likely (CTRL-style penalty).
fn apply_repeat_penalty(logits: &mut [f32], penalty: f32, recent: &[u32]) {
    let seen: HashSet<u32> = recent.iter().copied().collect();
    for token in seen {
        if let Some(logit) = logits.get_mut(token as usize) {
            if *logit >= 0.0 {
                *logit /= penalty;
            } else {
                *logit *= penalty;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_greedy_with_no_penalty() {
        let params = GenerationParams::default();
        assert_eq!(params.sampling(), Sampling::ArgMax);
        assert_eq!(params.max_tokens, 128);
        assert_eq!(params.repeat_penalty, 1.0);
    }

    #[test]
    fn sampling_follows_the_parameters() {
        let params = GenerationParams {
            temperature: 0.7,
            top_k: Some(40),
            top_p: Some(0.9),
            ..Default::default()
        };
        assert_eq!(
            params.sampling(),
            Sampling::TopKThenTopP {
                k: 40,
                p: 0.9,
                temperature: 0.7
            }
        );
    }

    #[test]
    fn repeat_penalty_pushes_seen_tokens_down_once() {
        let mut logits = vec![2.0, -2.0, 1.0];
        apply_repeat_penalty(&mut logits, 2.0, &[0, 1, 0, 9]);
        assert_eq!(logits, vec![1.0, -4.0, 1.0]);
    }
}
