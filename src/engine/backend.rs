//! The text-level interface the answer pipeline needs from a language model,
//! and its implementation on our own Gemma 3 ([`crate::llm`]).
//!
//! The trait speaks text, not token ids, so that a fake backend in tests and
//! a remote completion server later need no tokenizer of their own. It is
//! synchronous: backends run on the engine's worker thread, never on an
//! async executor.

use std::ops::ControlFlow;

use crate::llm::{self, FinishReason, GenerationParams, LanguageModel, SpanConstraint};

/// The log-likelihood of a continuation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Sum of the natural-log probabilities of the continuation's tokens.
    pub logprob_sum: f32,
    /// How many tokens the continuation has.
    pub tokens: usize,
}

impl Score {
    /// Mean log-probability per token, the length-neutral figure used to
    /// rank passages; `-inf` for an empty continuation.
    pub fn mean(&self) -> f32 {
        if self.tokens == 0 {
            f32::NEG_INFINITY
        } else {
            self.logprob_sum / self.tokens as f32
        }
    }
}

/// What a finished generation reports.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationSummary {
    /// The whole generated text.
    pub text: String,
    /// Tokens in the prompt.
    pub prompt_tokens: usize,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Why it stopped.
    pub finish_reason: FinishReason,
    /// Time spent reading the prompt, in milliseconds.
    pub prefill_ms: f64,
    /// Time spent generating, in milliseconds.
    pub decode_ms: f64,
}

/// A language model as the answer pipeline uses it.
pub trait Backend: Send + Sync + 'static {
    /// Log-likelihood of `continuation` right after `prompt` (the prompt gets
    /// the beginning-of-text token; neither side may inject control tokens).
    fn score(&self, prompt: &str, continuation: &str) -> Result<Score, llm::Error>;

    /// [`score`](Self::score) for each `(prompt, continuation)` pair, with
    /// the same results; a backend that can batch them overrides this.
    fn score_batch(&self, pairs: &[(String, String)]) -> Result<Vec<Score>, llm::Error> {
        pairs
            .iter()
            .map(|(prompt, continuation)| self.score(prompt, continuation))
            .collect()
    }

    /// Copies the span of `source` the model finds most likely after
    /// `prompt` (constrained decoding: every token continues a contiguous
    /// run of `source`'s tokens). Returns an empty string when the model
    /// would rather stop at once.
    fn extract_span(
        &self,
        prompt: &str,
        source: &str,
        max_tokens: usize,
    ) -> Result<String, llm::Error>;

    /// Writes a continuation of `prompt` (a trusted template: control tokens
    /// written by our own code are honoured), calling `on_text` with each new
    /// piece of text; `ControlFlow::Break` stops the generation.
    fn generate(
        &self,
        prompt: &str,
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationSummary, llm::Error>;

    /// How many tokens `text` is for this model (as user text: no BOS,
    /// control-token strings count as plain text). Called from async code
    /// outside the worker thread, so it must stay cheap (tokenizing, never
    /// running the model).
    fn count_tokens(&self, text: &str) -> Result<usize, llm::Error>;

    /// How often remembered results stood in for the model, for a backend
    /// that remembers them ([`Memo`](super::Memo)).
    fn memo_stats(&self) -> Option<super::MemoStats> {
        None
    }
}

impl Backend for LanguageModel {
    fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
        Ok(self.tokenizer().encode_text(text)?.len())
    }

    fn score(&self, prompt: &str, continuation: &str) -> Result<Score, llm::Error> {
        let tokenizer = self.tokenizer();
        let prompt_ids = tokenizer.encode_with_bos(prompt)?;
        let continuation_ids = tokenizer.encode_text(continuation)?;
        let logprobs = self.score_continuation(&prompt_ids, &continuation_ids)?;
        Ok(Score {
            logprob_sum: logprobs.iter().sum(),
            tokens: logprobs.len(),
        })
    }

    /// One batched forward pass for all pairs: a question's candidate
    /// sentences share every weight read.
    fn score_batch(&self, pairs: &[(String, String)]) -> Result<Vec<Score>, llm::Error> {
        let tokenizer = self.tokenizer();
        let mut encoded = Vec::with_capacity(pairs.len());
        for (prompt, continuation) in pairs {
            encoded.push((
                tokenizer.encode_with_bos(prompt)?,
                tokenizer.encode_text(continuation)?,
            ));
        }
        let refs: Vec<(&[u32], &[u32])> = encoded
            .iter()
            .map(|(p, c)| (p.as_slice(), c.as_slice()))
            .collect();
        Ok(self
            .score_batch(&refs)?
            .iter()
            .map(|logprobs| Score {
                logprob_sum: logprobs.iter().sum(),
                tokens: logprobs.len(),
            })
            .collect())
    }

    fn extract_span(
        &self,
        prompt: &str,
        source: &str,
        max_tokens: usize,
    ) -> Result<String, llm::Error> {
        let tokenizer = self.tokenizer();
        let prompt_ids = tokenizer.encode_with_bos(prompt)?;
        let source_ids = tokenizer.encode_text(source)?;
        let mut stop_ids = tokenizer.stop_ids();
        stop_ids.extend(
            ["\n", "."]
                .iter()
                .filter_map(|piece| tokenizer.piece_to_id(piece)),
        );
        let mut constraint = SpanConstraint::new(source_ids, stop_ids.clone());
        let generation = self.generate_constrained(&prompt_ids, &mut constraint, max_tokens)?;
        let span_ids: Vec<u32> = generation
            .tokens
            .iter()
            .copied()
            .filter(|id| !stop_ids.contains(id))
            .collect();
        Ok(tokenizer.decode(&span_ids)?.trim().to_string())
    }

    fn generate(
        &self,
        prompt: &str,
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationSummary, llm::Error> {
        let tokenizer = self.tokenizer();
        let mut prompt_ids = vec![tokenizer.bos_id()];
        prompt_ids.extend(tokenizer.encode_template(prompt)?);
        let mut decoder = llm::detokenizer::StreamDecoder::new(tokenizer);
        let mut stream_error = None;
        let generation = LanguageModel::generate(
            self,
            &prompt_ids,
            params,
            &mut |id| match decoder.push(id) {
                Ok(Some(text)) => on_text(&text),
                Ok(None) => ControlFlow::Continue(()),
                Err(error) => {
                    stream_error = Some(error);
                    ControlFlow::Break(())
                }
            },
        )?;
        if let Some(error) = stream_error {
            return Err(error.into());
        }
        Ok(GenerationSummary {
            text: generation.text,
            prompt_tokens: generation.prompt_tokens,
            generated_tokens: generation.tokens.len(),
            finish_reason: generation.finish_reason,
            prefill_ms: generation.prefill_ms,
            decode_ms: generation.decode_ms,
        })
    }
}
