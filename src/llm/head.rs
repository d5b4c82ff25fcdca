//! The output head, computed only where it is needed, and continuation
//! scoring.
//!
//! The tied 262,144 × 640 Q8_0 head is 72% of the bytes read per decoded
//! token, so it is never run over prompt positions: scoring runs it on the
//! continuation positions only, and constrained decoding runs it on the
//! allowed rows only, gathered from the quantized table into a small
//! matrix (same arithmetic as the full head, a fraction of the reads).

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::cache::KvCache;
use super::model::{LanguageModel, Pass};
use super::{Error, Result};

/// Rows of logits computed per head matmul when scoring, to bound memory
/// (one row is 1 MB of f32).
const SCORE_ROWS_PER_PASS: usize = 16;

impl LanguageModel {
    /// log P(continuation[i] | prompt, continuation[..i]) for each `i`
    /// (natural log), computing the output head only at the continuation
    /// positions. `prompt` must not be empty (it normally starts with BOS).
    pub fn score_continuation(&self, prompt: &[u32], continuation: &[u32]) -> Result<Vec<f32>> {
        self.score_after(&self.new_cache(), prompt, continuation)
    }

    /// Like [`score_continuation`](Self::score_continuation), continuing from
    /// an already-filled `prefix` cache, which is left as it was.
    pub fn score_after(
        &self,
        prefix: &KvCache,
        rest_of_prompt: &[u32],
        continuation: &[u32],
    ) -> Result<Vec<f32>> {
        if continuation.is_empty() {
            return Ok(Vec::new());
        }
        if prefix.is_empty() && rest_of_prompt.is_empty() {
            return Err(Error::InvalidRequest(
                "scoring needs a non-empty prompt".into(),
            ));
        }
        // The last continuation token is predicted, never fed.
        let fed: Vec<u32> = rest_of_prompt
            .iter()
            .chain(&continuation[..continuation.len() - 1])
            .copied()
            .collect();
        let mut cache = prefix.clone();
        let hidden = if rest_of_prompt.is_empty() {
            // The first continuation token is predicted by the prefix's own
            // last position, which the cache remembers.
            let last = prefix.last_hidden().ok_or_else(|| {
                Error::InvalidRequest(
                    "the prefix cache has no last position to predict from".into(),
                )
            })?;
            let last = Tensor::from_slice(last, (1, last.len()), &Device::Cpu)?;
            if fed.is_empty() {
                last
            } else {
                let rest = self.forward_hidden(&mut cache, &fed, fed.len())?;
                Tensor::cat(&[&last, &rest], 0)?
            }
        } else {
            self.forward_hidden(&mut cache, &fed, continuation.len())?
        };
        self.log_probs(&hidden, continuation)
    }

    /// [`score_continuation`](Self::score_continuation) for several
    /// `(prompt, continuation)` pairs in one batched forward pass (the
    /// weights are read once for all of them). Each result is exactly what
    /// `score_continuation` returns for its pair.
    pub fn score_batch(&self, pairs: &[(&[u32], &[u32])]) -> Result<Vec<Vec<f32>>> {
        if pairs.iter().any(|(prompt, _)| prompt.is_empty()) {
            return Err(Error::InvalidRequest(
                "scoring needs a non-empty prompt".into(),
            ));
        }
        let scored: Vec<usize> = (0..pairs.len())
            .filter(|&i| !pairs[i].1.is_empty())
            .collect();
        // The last continuation token is predicted, never fed.
        let fed: Vec<Vec<u32>> = scored
            .iter()
            .map(|&i| {
                let (prompt, continuation) = pairs[i];
                let fed = &continuation[..continuation.len() - 1];
                [prompt, fed].concat()
            })
            .collect();
        let mut caches: Vec<KvCache> = scored.iter().map(|_| self.new_cache()).collect();
        let mut passes: Vec<Pass<'_>> = caches
            .iter_mut()
            .zip(&fed)
            .zip(&scored)
            .map(|((cache, tokens), &i)| Pass {
                cache,
                tokens,
                keep_last: pairs[i].1.len(),
            })
            .collect();
        let hidden: Vec<f32> = self.forward_hidden_batch(&mut passes)?.concat();
        let targets: Vec<u32> = scored.iter().flat_map(|&i| pairs[i].1).copied().collect();
        let hidden = Tensor::from_vec(hidden, (targets.len(), self.config.hidden), &Device::Cpu)?;
        let flat = self.log_probs(&hidden, &targets)?;
        let mut results = vec![Vec::new(); pairs.len()];
        let mut at = 0;
        for &i in &scored {
            let n = pairs[i].1.len();
            results[i] = flat[at..at + n].to_vec();
            at += n;
        }
        Ok(results)
    }

    /// log P(targets[r]) under the head's distribution at each row `r` of
    /// the normalized hidden states.
    fn log_probs(&self, hidden: &Tensor, targets: &[u32]) -> Result<Vec<f32>> {
        let mut scores = Vec::with_capacity(targets.len());
        for (start, targets) in (0..)
            .step_by(SCORE_ROWS_PER_PASS)
            .zip(targets.chunks(SCORE_ROWS_PER_PASS))
        {
            let rows: Vec<f32> = hidden
                .narrow(0, start, targets.len())?
                .flatten_all()?
                .to_vec1()?;
            let logits = self.weights.tokens.logits(&rows, targets.len())?;
            // Rows are independent: normalizing them in parallel changes
            // nothing in the result.
            let row_scores: Vec<f32> = logits
                .par_chunks_exact(self.vocab_size())
                .zip(targets.par_iter())
                .map(|(row, &target)| log_softmax_at(row, target as usize))
                .collect();
            scores.extend(row_scores);
        }
        Ok(scores)
    }

    /// Logits of `ids` only, for one normalized hidden state `(1, hidden)`.
    pub(crate) fn logits_of(&self, hidden: &Tensor, ids: &[u32]) -> Result<Vec<f32>> {
        let hidden: Vec<f32> = hidden.flatten_all()?.to_vec1()?;
        // Past a fraction of the vocabulary, gathering costs more than it saves.
        if ids.len() * 8 > self.vocab_size() {
            let all = self.weights.tokens.logits(&hidden, 1)?;
            return ids
                .iter()
                .map(|&t| {
                    all.get(t as usize).copied().ok_or_else(|| {
                        Error::InvalidRequest(format!("token id {t} out of vocabulary"))
                    })
                })
                .collect();
        }
        self.weights.tokens.logits_of(&hidden, ids)
    }
}

/// Natural-log softmax of `logits` at `index`, computed in f64.
pub(crate) fn log_softmax_at(logits: &[f32], index: usize) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let sum: f64 = logits.iter().map(|&l| (l as f64 - max).exp()).sum();
    (logits[index] as f64 - max - sum.ln()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_matches_definition() {
        let logits = [1.0f32, 2.0, 3.0];
        let z: f64 = logits.iter().map(|&l| (l as f64).exp()).sum();
        let expected = (2.0f64.exp() / z).ln() as f32;
        assert!((log_softmax_at(&logits, 1) - expected).abs() < 1e-6);
        let total: f32 = (0..3).map(|i| log_softmax_at(&logits, i).exp()).sum();
        assert!((total - 1.0).abs() < 1e-6);
    }
}
