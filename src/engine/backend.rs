//! The text-level interface the answer pipeline needs from a language model,
//! and its implementation on our own Gemma 3 ([`crate::llm`]).
//!
//! The trait speaks text, not token ids, so that a fake backend in tests and
//! a remote completion server later need no tokenizer of their own. It is
//! synchronous: backends run on the engine's worker thread, never on an
//! async executor.

use std::ops::ControlFlow;

use std::sync::Arc;

use crate::llm::{
    self, Embedder, FinishReason, GenerationParams, Input, LanguageModel, SpanConstraint,
};

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

/// One generation handed to [`Backend::generate_together`]: what to
/// generate, where its text goes as it comes, and where its result goes.
pub struct GenerationJob<'a> {
    /// The user turn (the backend adds the chat template).
    pub prompt: String,
    /// Sampling and stopping.
    pub params: GenerationParams,
    /// Receives each piece of text; `Break` cancels this generation only.
    pub on_text: TextSink<'a>,
    /// Receives the result once this generation is over.
    pub on_done: ResultSink<'a>,
}

/// Where a generation's text goes as it comes.
pub type TextSink<'a> = Box<dyn FnMut(&str) -> ControlFlow<()> + 'a>;
/// Where a generation's result goes.
pub type ResultSink<'a> = Box<dyn FnOnce(Result<GenerationSummary, llm::Error>) + 'a>;

/// Most generations decoded together: one batched step over 8 sequences
/// measured 2.8× the tokens/s of one; past that the head's reads no longer
/// dominate and each visitor's tokens come slower.
pub const MAX_TOGETHER: usize = 8;

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

    /// Runs `first`, and every generation `more` hands over meanwhile,
    /// until all are done. `more(room)` is called between steps; with
    /// `room` false it must keep new generations for later. A backend
    /// that can batch decoding steps overrides this so that conversations
    /// share forward passes; this default runs them one after another.
    fn generate_together<'a>(
        &self,
        first: GenerationJob<'a>,
        more: &mut dyn FnMut(bool) -> Option<GenerationJob<'a>>,
    ) {
        let mut next = Some(first);
        while let Some(mut job) = next.take() {
            let result = self.generate(&job.prompt, &job.params, &mut job.on_text);
            (job.on_done)(result);
            next = more(true);
        }
    }

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

    /// Length of the vectors [`embed`](Self::embed) gives, or `None` when
    /// this backend has no embedding model (retrieval is then by words
    /// alone).
    fn embedding_dimension(&self) -> Option<usize> {
        None
    }

    /// Unit vectors of the meaning of `inputs`.
    fn embed(&self, inputs: &[Input]) -> Result<Vec<Vec<f32>>, llm::Error> {
        let _ = inputs;
        Err(llm::Error::InvalidRequest(
            "no embedding model is loaded".into(),
        ))
    }
}

/// A backend with an embedding model beside it: both run on the engine's
/// one thread, so embedding a question never competes with re-ranking for
/// the two cores.
pub struct WithEmbedder {
    inner: Arc<dyn Backend>,
    embedder: Arc<Embedder>,
}

impl WithEmbedder {
    /// `inner` for everything but embeddings, which `embedder` computes.
    pub fn new(inner: Arc<dyn Backend>, embedder: Arc<Embedder>) -> Self {
        Self { inner, embedder }
    }
}

impl Backend for WithEmbedder {
    fn score(&self, prompt: &str, continuation: &str) -> Result<Score, llm::Error> {
        self.inner.score(prompt, continuation)
    }

    fn score_batch(&self, pairs: &[(String, String)]) -> Result<Vec<Score>, llm::Error> {
        self.inner.score_batch(pairs)
    }

    fn extract_span(
        &self,
        prompt: &str,
        source: &str,
        max_tokens: usize,
    ) -> Result<String, llm::Error> {
        self.inner.extract_span(prompt, source, max_tokens)
    }

    fn generate(
        &self,
        prompt: &str,
        params: &GenerationParams,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<GenerationSummary, llm::Error> {
        self.inner.generate(prompt, params, on_text)
    }

    fn generate_together<'a>(
        &self,
        first: GenerationJob<'a>,
        more: &mut dyn FnMut(bool) -> Option<GenerationJob<'a>>,
    ) {
        self.inner.generate_together(first, more)
    }

    fn count_tokens(&self, text: &str) -> Result<usize, llm::Error> {
        self.inner.count_tokens(text)
    }

    fn memo_stats(&self) -> Option<super::MemoStats> {
        self.inner.memo_stats()
    }

    fn embedding_dimension(&self) -> Option<usize> {
        Some(self.embedder.dimension())
    }

    fn embed(&self, inputs: &[Input]) -> Result<Vec<Vec<f32>>, llm::Error> {
        self.embedder.embed(inputs)
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
        let prompt_ids = chat_prompt(self, prompt)?;
        let mut decoder = llm::detokenizer::StreamDecoder::new(self.tokenizer());
        let mut stream_error = None;
        let generation = LanguageModel::generate(self, &prompt_ids, params, &mut |id| {
            stream(&mut decoder, on_text, &mut stream_error, id)
        })?;
        match stream_error {
            Some(error) => Err(error),
            None => Ok(summary(generation)),
        }
    }

    fn generate_together<'a>(
        &self,
        first: GenerationJob<'a>,
        more: &mut dyn FnMut(bool) -> Option<GenerationJob<'a>>,
    ) {
        let mut active: Vec<Conversation<'_, 'a>> = Vec::new();
        let mut incoming = Some(first);
        loop {
            // Newcomers join between steps: their prompts are read now,
            // one by one (merging prefills measured no faster).
            while let Some(job) = incoming.take() {
                active.extend(start_conversation(self, job));
                incoming = more(active.len() < MAX_TOGETHER);
            }
            if active.is_empty() {
                return;
            }
            // Each picks its next token; finished ones leave.
            let mut i = 0;
            while i < active.len() {
                match active[i].choose_next(self) {
                    Ok(true) => i += 1,
                    Ok(false) => active.swap_remove(i).finish(self),
                    Err(error) => (active.swap_remove(i).job.on_done)(Err(error)),
                }
            }
            let mut decodings: Vec<&mut llm::Decoding> =
                active.iter_mut().map(|c| &mut c.decoding).collect();
            if let Err(error) = self.advance(&mut decodings) {
                // A failed pass leaves every cache in doubt: all stop.
                for conversation in active.drain(..) {
                    let error = llm::Error::InvalidRequest(format!("batched step failed: {error}"));
                    (conversation.job.on_done)(Err(error));
                }
            }
            incoming = more(active.len() < MAX_TOGETHER);
        }
    }
}

/// One generation of [`LanguageModel::generate_together`]: the decoding
/// state, its text stream and its job.
struct Conversation<'m, 'a> {
    decoding: llm::Decoding,
    decoder: llm::detokenizer::StreamDecoder<'m>,
    job: GenerationJob<'a>,
    /// A detokenizer error, reported when the generation ends.
    stream_error: Option<llm::Error>,
}

/// The conversation with its prompt read, or `None` when that failed (the
/// job has then received its error).
fn start_conversation<'m, 'a>(
    model: &'m LanguageModel,
    job: GenerationJob<'a>,
) -> Option<Conversation<'m, 'a>> {
    let started = chat_prompt(model, &job.prompt)
        .and_then(|prompt| model.start_decoding(&prompt, &job.params));
    match started {
        Ok(decoding) => Some(Conversation {
            decoding,
            decoder: llm::detokenizer::StreamDecoder::new(model.tokenizer()),
            job,
            stream_error: None,
        }),
        Err(error) => {
            (job.on_done)(Err(error));
            None
        }
    }
}

impl Conversation<'_, '_> {
    fn choose_next(&mut self, model: &LanguageModel) -> Result<bool, llm::Error> {
        let Self {
            decoding,
            decoder,
            job,
            stream_error,
        } = self;
        decoding.choose_next(model, &mut |id| {
            stream(decoder, &mut job.on_text, stream_error, id)
        })
    }

    fn finish(self, model: &LanguageModel) {
        let Self {
            decoding,
            mut decoder,
            mut job,
            mut stream_error,
        } = self;
        let generation = decoding.finish(model, &mut |id| {
            stream(&mut decoder, &mut job.on_text, &mut stream_error, id)
        });
        let result = match (generation, stream_error) {
            (Err(error), _) | (Ok(_), Some(error)) => Err(error),
            (Ok(generation), None) => Ok(summary(generation)),
        };
        (job.on_done)(result);
    }
}

/// The prompt of a generation: BOS, then the user turn in the chat template.
fn chat_prompt(model: &LanguageModel, user: &str) -> Result<Vec<u32>, llm::Error> {
    let tokenizer = model.tokenizer();
    let mut prompt = vec![tokenizer.bos_id()];
    prompt.extend(tokenizer.encode_template(user)?);
    Ok(prompt)
}

/// Hands the text of token `id` to `on_text` once its characters are
/// whole; a detokenizer error stops the generation and is kept.
fn stream(
    decoder: &mut llm::detokenizer::StreamDecoder<'_>,
    on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    stream_error: &mut Option<llm::Error>,
    id: u32,
) -> ControlFlow<()> {
    match decoder.push(id) {
        Ok(Some(text)) => on_text(&text),
        Ok(None) => ControlFlow::Continue(()),
        Err(error) => {
            *stream_error = Some(error.into());
            ControlFlow::Break(())
        }
    }
}

fn summary(generation: llm::Generation) -> GenerationSummary {
    GenerationSummary {
        text: generation.text,
        prompt_tokens: generation.prompt_tokens,
        generated_tokens: generation.tokens.len(),
        finish_reason: generation.finish_reason,
        prefill_ms: generation.prefill_ms,
        decode_ms: generation.decode_ms,
    }
}
