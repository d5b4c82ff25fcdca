//! Constrained decoding: at each step the model may only pick among the
//! tokens a [`Constraint`] allows, and the output head is computed for those
//! rows only (a few hundred dot products instead of 262,144).
//!
//! [`SpanConstraint`] makes the model quote: its output is always a
//! contiguous piece of a source passage, so an extractive answer cannot
//! invent anything.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::generate::{FinishReason, Generation};
use super::model::LanguageModel;
use super::ops::argmax;
use super::{Error, Result};

/// Decides which tokens may come next.
pub trait Constraint {
    /// Tokens allowed after `generated`; an empty list ends generation.
    fn allowed(&mut self, generated: &[u32]) -> Vec<u32>;

    /// Whether picking `token` ends generation (the token is not kept).
    /// The model's own end-of-sequence tokens always do.
    fn is_stop(&self, token: u32) -> bool {
        let _ = token;
        false
    }
}

/// Copies a contiguous span of a source token sequence.
///
/// The first token may be any source token (or, when variants are given,
/// the space-prefixed form of one, since a quoted span usually follows a
/// space while in the source it may start a line). Every later token must
/// continue a run that matches the source so far. Stop ids are allowed once
/// at least one token was copied.
#[derive(Debug, Clone)]
pub struct SpanConstraint {
    source: Vec<u32>,
    stop_ids: Vec<u32>,
    /// Alternative first token → the source token it stands for.
    variant_of: HashMap<u32, u32>,
}

impl SpanConstraint {
    /// A constraint copying from `source`, allowing `stop_ids` after the
    /// first token.
    pub fn new(source: Vec<u32>, stop_ids: Vec<u32>) -> Self {
        Self {
            source,
            stop_ids,
            variant_of: HashMap::new(),
        }
    }

    /// Also allows, as first token, `variant(t)` for each source token `t`
    /// (typically the id of `" " + piece(t)`), standing for `t`.
    pub fn with_first_token_variants(mut self, variant: impl Fn(u32) -> Option<u32>) -> Self {
        let distinct: HashSet<u32> = self.source.iter().copied().collect();
        for token in distinct {
            if let Some(alt) = variant(token).filter(|&alt| alt != token) {
                self.variant_of.entry(alt).or_insert(token);
            }
        }
        self
    }

    /// Source positions `i` such that `generated` copies `source[i..]`.
    fn run_starts(&self, generated: &[u32]) -> Vec<usize> {
        let Some((&first, rest)) = generated.split_first() else {
            return Vec::new();
        };
        let stands_for = self.variant_of.get(&first).copied();
        (0..self.source.len())
            .filter(|&i| {
                let head = self.source[i];
                (head == first || Some(head) == stands_for)
                    && self.source[i + 1..].starts_with(rest)
            })
            .collect()
    }
}

impl Constraint for SpanConstraint {
    fn allowed(&mut self, generated: &[u32]) -> Vec<u32> {
        let mut allowed: Vec<u32> = if generated.is_empty() {
            self.source
                .iter()
                .chain(self.variant_of.keys())
                .copied()
                .collect()
        } else {
            let next: Vec<u32> = self
                .run_starts(generated)
                .into_iter()
                .filter_map(|i| self.source.get(i + generated.len()).copied())
                .collect();
            next.into_iter()
                .chain(self.stop_ids.iter().copied())
                .collect()
        };
        allowed.sort_unstable();
        allowed.dedup();
        allowed
    }

    fn is_stop(&self, token: u32) -> bool {
        self.stop_ids.contains(&token)
    }
}

impl LanguageModel {
    /// Greedy decoding where each step's argmax is taken only over
    /// `constraint.allowed(generated_so_far)`. Ends on an empty allowed set,
    /// a stop token, or `max_tokens`.
    pub fn generate_constrained(
        &self,
        prompt: &[u32],
        constraint: &mut dyn Constraint,
        max_tokens: usize,
    ) -> Result<Generation> {
        if prompt.is_empty() {
            return Err(Error::InvalidRequest(
                "generation needs a non-empty prompt".into(),
            ));
        }
        let started = Instant::now();
        let mut cache = self.new_cache();
        let mut hidden = self.forward_hidden(&mut cache, prompt, 1)?;
        let prefill_ms = started.elapsed().as_secs_f64() * 1e3;
        let decode_started = Instant::now();
        let end_ids = self.tokenizer.stop_ids();
        let mut tokens = Vec::new();
        let finish_reason = loop {
            if tokens.len() >= max_tokens {
                break FinishReason::Length;
            }
            let allowed = constraint.allowed(&tokens);
            if allowed.is_empty() {
                break FinishReason::Stop;
            }
            let logits = self.logits_of(&hidden, &allowed)?;
            let best = argmax(&logits).map(|i| allowed[i]);
            let Some(next) = best else {
                break FinishReason::Stop;
            };
            if end_ids.contains(&next) || constraint.is_stop(next) {
                break FinishReason::Stop;
            }
            tokens.push(next);
            if tokens.len() >= max_tokens || cache.len() >= self.max_context {
                break FinishReason::Length;
            }
            hidden = self.forward_hidden(&mut cache, &[next], 1)?;
        };
        Ok(Generation {
            text: self.tokenizer.decode(&tokens)?,
            tokens,
            finish_reason,
            prompt_tokens: prompt.len(),
            prefill_ms,
            decode_ms: decode_started.elapsed().as_secs_f64() * 1e3,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_allows_every_source_token_and_variants() {
        let mut span = SpanConstraint::new(vec![5, 6, 7, 6], vec![1])
            .with_first_token_variants(|t| (t == 5).then_some(105));
        assert_eq!(span.allowed(&[]), vec![5, 6, 7, 105]);
    }

    #[test]
    fn later_steps_continue_a_run_or_stop() {
        let mut span = SpanConstraint::new(vec![5, 6, 7, 6, 8], vec![1]);
        // 6 occurs twice: it may continue with 7 or 8.
        assert_eq!(span.allowed(&[6]), vec![1, 7, 8]);
        assert_eq!(span.allowed(&[6, 7]), vec![1, 6]);
        // End of source: only the stop remains.
        assert_eq!(span.allowed(&[6, 8]), vec![1]);
        // Not a run of the source: only the stop remains.
        assert_eq!(span.allowed(&[7, 5]), vec![1]);
        assert!(span.is_stop(1) && !span.is_stop(6));
    }

    #[test]
    fn a_variant_first_token_continues_from_its_source_token() {
        let mut span =
            SpanConstraint::new(vec![5, 6, 7], vec![]).with_first_token_variants(|t| Some(t + 100));
        assert_eq!(span.allowed(&[105]), vec![6]);
        assert_eq!(span.allowed(&[105, 6]), vec![7]);
    }
}
