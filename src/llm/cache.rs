//! The per-sequence state: attention keys and values of the tokens seen.
//!
//! A [`KvCache`] owns plain vectors, so a clone is an independent copy (a
//! few megabytes for a prompt of a few hundred tokens): fill a prompt
//! prefix once, then clone it for each continuation.
//!
//! Sliding-window layers only need the last `window - 1` keys before a new
//! token. They drop older ones lazily, once more than two windows are
//! stored, which bounds memory and attention cost and still lets
//! [`KvCache::truncate`] cut a sequence back by up to a window.

use super::attention::KeyValues;
use super::{Error, Result};

/// Keys and values of the tokens already processed for one sequence.
///
/// Made by [`LanguageModel::new_cache`](super::LanguageModel::new_cache).
#[derive(Debug, Clone)]
pub struct KvCache {
    layers: Vec<LayerCache>,
    len: usize,
    /// Normalized final hidden state of the last position, so the next
    /// token's distribution can be had without feeding anything.
    last_hidden: Option<Vec<f32>>,
}

/// What [`KvCache::roll_back`] returns to.
pub(crate) struct Checkpoint {
    len: usize,
    last_hidden: Option<Vec<f32>>,
}

/// One layer's keys and values, row-major `[position][kv_head * head_dim]`.
#[derive(Debug, Clone)]
pub(crate) struct LayerCache {
    keys: Vec<f32>,
    values: Vec<f32>,
    /// Floats per position.
    width: usize,
    /// Absolute position of the first stored row.
    start: usize,
    window: Option<usize>,
}

impl KvCache {
    /// An empty cache; `windows[i]` is layer `i`'s sliding window, if any,
    /// and `width` the floats per position of a key (or value) row.
    pub(crate) fn new(windows: impl IntoIterator<Item = Option<usize>>, width: usize) -> Self {
        let layers = windows
            .into_iter()
            .map(|window| LayerCache {
                keys: Vec::new(),
                values: Vec::new(),
                width,
                start: 0,
                window,
            })
            .collect();
        Self {
            layers,
            len: 0,
            last_hidden: None,
        }
    }

    /// Number of tokens processed so far (the position of the next token).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no token has been processed yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets every token from position `n` on, so the sequence can
    /// continue differently from there. No-op when `n >= len()`.
    ///
    /// Fails, leaving the cache unchanged, when sliding-window layers have
    /// already dropped keys that position `n` needs: that can only happen
    /// when cutting back by more than one window (512 tokens). Keep a clone
    /// of the prefix instead in that case.
    pub fn truncate(&mut self, n: usize) -> Result<()> {
        if n >= self.len {
            return Ok(());
        }
        for layer in &self.layers {
            let needed_from = layer.window.map_or(0, |w| n.saturating_sub(w - 1));
            if n > 0 && needed_from < layer.start {
                return Err(Error::CannotTruncate {
                    requested: n,
                    kept_from: layer.start,
                });
            }
        }
        for layer in &mut self.layers {
            let keep = n.saturating_sub(layer.start) * layer.width;
            layer.keys.truncate(keep);
            layer.values.truncate(keep);
            if n == 0 {
                layer.start = 0;
            }
        }
        self.len = n;
        self.last_hidden = None;
        Ok(())
    }

    pub(crate) fn last_hidden(&self) -> Option<&[f32]> {
        self.last_hidden.as_deref()
    }

    pub(crate) fn set_last_hidden(&mut self, hidden: Vec<f32>) {
        self.last_hidden = Some(hidden);
    }

    pub(crate) fn layer_mut(&mut self, index: usize) -> &mut LayerCache {
        &mut self.layers[index]
    }

    pub(crate) fn layer_count(&self) -> usize {
        self.layers.len()
    }

    /// Where the cache stands now, to [`roll_back`](Self::roll_back) to if
    /// a forward pass fails halfway.
    pub(crate) fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            len: self.len,
            last_hidden: self.last_hidden.clone(),
        }
    }

    /// Forgets what was added since `checkpoint`, including the rows a
    /// failed pass wrote to some layers only. Rows a sliding-window layer
    /// dropped meanwhile are not needed by any later position (only by a
    /// [`truncate`](Self::truncate) further back), so the cache continues
    /// exactly as before.
    pub(crate) fn roll_back(&mut self, checkpoint: Checkpoint) {
        for layer in &mut self.layers {
            let keep = checkpoint.len.saturating_sub(layer.start) * layer.width;
            layer.keys.truncate(keep);
            layer.values.truncate(keep);
        }
        self.len = checkpoint.len;
        self.last_hidden = checkpoint.last_hidden;
    }

    /// Records that `tokens` more positions went through every layer.
    pub(crate) fn advance(&mut self, tokens: usize) {
        self.len += tokens;
    }
}

impl LayerCache {
    /// Appends keys and values of positions `pos..`, row-major, and returns
    /// the stored rows, which include every key the new queries may see.
    pub(crate) fn extend(&mut self, keys: &[f32], values: &[f32], pos: usize) -> KeyValues<'_> {
        debug_assert_eq!(
            self.start + self.keys.len() / self.width,
            pos,
            "cache out of step"
        );
        if let Some(window) = self.window {
            let stored = self.keys.len() / self.width;
            if stored > 2 * window {
                // The query at `pos` needs keys from `pos - (window - 1)`.
                let keep_from = pos.saturating_sub(window - 1).max(self.start);
                let drop = (keep_from - self.start) * self.width;
                self.keys.drain(..drop);
                self.values.drain(..drop);
                self.start = keep_from;
            }
        }
        self.keys.extend_from_slice(keys);
        self.values.extend_from_slice(values);
        KeyValues {
            keys: &self.keys,
            values: &self.values,
            start: self.start,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `seq` positions to every layer, each row filled with its
    /// position; returns the first stored position per layer.
    fn step(cache: &mut KvCache, seq: usize) -> Vec<usize> {
        let pos = cache.len();
        let rows: Vec<f32> = (pos..pos + seq).flat_map(|p| [p as f32; 2]).collect();
        let mut starts = Vec::new();
        for i in 0..cache.layer_count() {
            let kv = cache.layer_mut(i).extend(&rows, &rows, pos);
            assert_eq!(kv.keys[0], kv.start as f32);
            assert_eq!(kv.start + kv.keys.len() / 2, pos + seq);
            starts.push(kv.start);
        }
        cache.advance(seq);
        starts
    }

    #[test]
    fn window_layer_keeps_what_the_next_query_needs() {
        let mut cache = KvCache::new([Some(4), None], 2);
        for _ in 0..30 {
            let pos = cache.len();
            let starts = step(&mut cache, 1);
            // Everything the query at `pos` may see is still stored.
            assert!(starts[0] <= pos.saturating_sub(3));
            assert_eq!(starts[1], 0);
            assert!(cache.layers[0].keys.len() / 2 <= 2 * 4 + 1);
        }
        assert_eq!(cache.layers[1].keys.len() / 2, 30);
    }

    #[test]
    fn truncate_within_kept_keys_and_refuses_beyond() {
        let mut cache = KvCache::new([Some(4), None], 2);
        for _ in 0..20 {
            step(&mut cache, 1);
        }
        let kept_from = cache.layers[0].start;
        assert!(kept_from > 0);
        let mut clone = cache.clone();
        assert!(matches!(
            clone.truncate(kept_from + 1),
            Err(Error::CannotTruncate { .. })
        ));
        assert_eq!(clone.len(), 20);
        clone.truncate(kept_from + 3).unwrap();
        assert_eq!(clone.len(), kept_from + 3);
        step(&mut clone, 1);
        // The original is untouched by its clone.
        assert_eq!(cache.len(), 20);
        clone.truncate(0).unwrap();
        assert!(clone.is_empty());
        assert_eq!(step(&mut clone, 2), vec![0, 0]);
    }

    #[test]
    fn roll_back_forgets_a_half_done_pass() {
        let mut cache = KvCache::new([Some(4), None], 2);
        for _ in 0..20 {
            step(&mut cache, 1);
        }
        cache.set_last_hidden(vec![1.0]);
        let before = cache.clone();
        let checkpoint = cache.checkpoint();
        // A pass that wrote three positions to the first layer only, then
        // failed.
        let rows = [20.0f32, 20.0, 21.0, 21.0, 22.0, 22.0];
        cache.layer_mut(0).extend(&rows, &rows, 20);
        cache.roll_back(checkpoint);
        assert_eq!(cache.len(), 20);
        assert_eq!(cache.last_hidden(), Some(&[1.0][..]));
        for (layer, original) in cache.layers.iter().zip(&before.layers) {
            assert_eq!(layer.keys, original.keys);
            assert_eq!(layer.values, original.values);
            assert_eq!(layer.start, original.start);
        }
    }
}
