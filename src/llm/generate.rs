//! Free generation: prefill, then sample one token at a time until EOS, a
//! stop sequence, the token budget, or the caller cancels.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::time::Instant;

use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};

use super::cache::KvCache;
use super::model::LanguageModel;
use super::ops::argmax;
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

/// A generation in progress: what [`LanguageModel::generate`] keeps between
/// two tokens. Several can take their next step together, in one batched
/// forward pass ([`LanguageModel::advance`]): that is how the engine serves
/// several conversations at once, each getting exactly the tokens it would
/// get alone.
pub struct Decoding {
    cache: KvCache,
    /// Logits of the next position.
    logits: Vec<f32>,
    sampler: LogitsProcessor,
    end_ids: HashSet<u32>,
    matcher: StopMatcher,
    params: GenerationParams,
    /// Prompt and generated tokens, for the repeat penalty.
    context: Vec<u32>,
    tokens: Vec<u32>,
    /// Tokens already handed to the caller.
    emitted: usize,
    stop_at: Option<usize>,
    /// The token the model must read next; `None` when the logits are
    /// current (or the generation is over).
    pending: Option<u32>,
    finish_reason: Option<FinishReason>,
    prompt_tokens: usize,
    prefill_ms: f64,
    decode_started: Instant,
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
        let mut decoding = self.start_decoding(prompt, params)?;
        while decoding.choose_next(self, on_token)? {
            self.advance(&mut [&mut decoding])?;
        }
        decoding.finish(self, on_token)
    }

    /// Reads `prompt` (the prefill) and returns the generation ready for
    /// its first token.
    pub fn start_decoding(&self, prompt: &[u32], params: &GenerationParams) -> Result<Decoding> {
        if prompt.is_empty() {
            return Err(Error::InvalidRequest(
                "generation needs a non-empty prompt".into(),
            ));
        }
        let started = Instant::now();
        let mut cache = self.new_cache();
        let logits = self.forward_last(&mut cache, prompt)?;
        Ok(Decoding {
            cache,
            logits,
            sampler: LogitsProcessor::from_sampling(params.seed, params.sampling()),
            end_ids: self.tokenizer.stop_ids().iter().copied().collect(),
            matcher: StopMatcher::new(&params.stop_sequences),
            params: params.clone(),
            context: prompt.to_vec(),
            tokens: Vec::new(),
            emitted: 0,
            stop_at: None,
            pending: None,
            finish_reason: None,
            prompt_tokens: prompt.len(),
            prefill_ms: started.elapsed().as_secs_f64() * 1e3,
            decode_started: Instant::now(),
        })
    }

    /// Runs the model on the chosen token of every generation that has one,
    /// all in one forward pass (the weights are read once for all), and
    /// gives each its next logits.
    pub fn advance(&self, decodings: &mut [&mut Decoding]) -> Result<()> {
        let mut waiting: Vec<&mut Decoding> = decodings
            .iter_mut()
            .filter(|d| d.pending.is_some())
            .map(|d| &mut **d)
            .collect();
        let tokens: Vec<[u32; 1]> = waiting
            .iter()
            .filter_map(|d| d.pending.map(|token| [token]))
            .collect();
        let logits = if let [only] = waiting.as_mut_slice() {
            vec![self.forward_last(&mut only.cache, &tokens[0])?]
        } else {
            let mut steps: Vec<(&mut KvCache, &[u32])> = waiting
                .iter_mut()
                .zip(&tokens)
                .map(|(d, token)| (&mut d.cache, token.as_slice()))
                .collect();
            self.forward_last_batch(&mut steps)?
        };
        for (decoding, logits) in waiting.into_iter().zip(logits) {
            decoding.logits = logits;
            decoding.pending = None;
        }
        Ok(())
    }
}

impl Decoding {
    /// Picks the next token from the current logits and hands `on_token`
    /// what can no longer be part of a stop sequence. True when the model
    /// must now read that token ([`LanguageModel::advance`]); false when
    /// the generation is over (then [`finish`](Self::finish)).
    pub fn choose_next(
        &mut self,
        model: &LanguageModel,
        on_token: &mut dyn FnMut(u32) -> ControlFlow<()>,
    ) -> Result<bool> {
        if self.finish_reason.is_some() {
            return Ok(false);
        }
        let reason = self.choose(model, on_token)?;
        self.finish_reason = reason;
        Ok(reason.is_none())
    }

    /// The body of one decoding step; `Some` when the generation ends.
    fn choose(
        &mut self,
        model: &LanguageModel,
        on_token: &mut dyn FnMut(u32) -> ControlFlow<()>,
    ) -> Result<Option<FinishReason>> {
        let params = &self.params;
        if self.tokens.len() >= params.max_tokens {
            return Ok(Some(FinishReason::Length));
        }
        let mut logits = std::mem::take(&mut self.logits);
        if params.repeat_penalty != 1.0 {
            let recent = &self.context[self.context.len().saturating_sub(params.repeat_last_n)..];
            apply_repeat_penalty(&mut logits, params.repeat_penalty, recent);
        }
        let next = if params.sampling() == Sampling::ArgMax {
            let best = argmax(&logits)
                .ok_or_else(|| Error::UnsupportedModel("the vocabulary is empty".into()))?;
            best as u32
        } else {
            let vocab = logits.len();
            self.sampler
                .sample(&Tensor::from_vec(logits, vocab, &Device::Cpu)?)?
        };
        if self.end_ids.contains(&next) {
            return Ok(Some(FinishReason::Stop));
        }
        self.tokens.push(next);
        self.context.push(next);
        let decode = |ids: &[u32]| -> Result<String> { Ok(model.tokenizer.decode(ids)?) };
        let check = self.matcher.check(&self.tokens, self.emitted, &decode)?;
        let mut cancelled = false;
        for &token in &self.tokens[self.emitted..check.safe_tokens] {
            if on_token(token).is_break() {
                cancelled = true;
                break;
            }
        }
        self.emitted = check.safe_tokens;
        if cancelled {
            return Ok(Some(FinishReason::Cancelled));
        }
        if check.stop_at.is_some() {
            self.stop_at = check.stop_at;
            return Ok(Some(FinishReason::Stop));
        }
        if self.tokens.len() >= params.max_tokens || self.cache.len() >= model.max_context {
            return Ok(Some(FinishReason::Length));
        }
        self.pending = Some(next);
        Ok(None)
    }

    /// The finished generation. Text held back for a stop sequence that
    /// never came is released to `on_token` first.
    pub fn finish(
        self,
        model: &LanguageModel,
        on_token: &mut dyn FnMut(u32) -> ControlFlow<()>,
    ) -> Result<Generation> {
        let finish_reason = self.finish_reason.unwrap_or(FinishReason::Cancelled);
        if self.stop_at.is_none() && finish_reason != FinishReason::Cancelled {
            for &token in &self.tokens[self.emitted..] {
                if on_token(token).is_break() {
                    break;
                }
            }
        }
        Ok(Generation {
            text: cut(model.tokenizer.decode(&self.tokens)?, self.stop_at),
            tokens: self.tokens,
            finish_reason,
            prompt_tokens: self.prompt_tokens,
            prefill_ms: self.prefill_ms,
            decode_ms: self.decode_started.elapsed().as_secs_f64() * 1e3,
        })
    }
}

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
