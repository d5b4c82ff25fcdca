//! Which keys each query may attend to.
//!
//! Positions are absolute, so the same rule serves a fresh prefill, a chunk
//! continuing a cached prefix, and single-token decode. A query at position
//! `q` sees a key at position `k` when `k <= q` and, on sliding-window
//! layers, `q - k < window` (llama.cpp and Hugging Face allow exactly
//! `window` positions, the query's own included).

use std::ops::Range;

/// Positions of the keys the query at absolute position `q` attends to.
pub(crate) fn visible_keys(q: usize, window: Option<usize>) -> Range<usize> {
    let first = window.map_or(0, |w| q.saturating_sub(w.saturating_sub(1)));
    first..q + 1
}

/// Positions of the keys the query at `q` attends to in a bidirectional
/// encoder holding keys `0..held`: every key, or on sliding-window layers
/// those less than `window` positions away on either side (Hugging Face's
/// bidirectional window, `|q - k| < window`).
pub(crate) fn keys_around(q: usize, window: Option<usize>, held: usize) -> Range<usize> {
    match window {
        None => 0..held,
        Some(w) => q.saturating_sub(w.saturating_sub(1))..held.min(q + w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidirectional_sees_both_sides_within_the_window() {
        assert_eq!(keys_around(3, None, 10), 0..10);
        assert_eq!(keys_around(3, Some(512), 10), 0..10);
        assert_eq!(keys_around(600, Some(512), 2000), 89..1112);
        assert!(!keys_around(600, Some(512), 2000).contains(&1112));
        assert_eq!(keys_around(0, Some(2), 5), 0..2);
    }

    #[test]
    fn causal_without_window() {
        assert_eq!(visible_keys(3, None), 0..4);
        assert_eq!(visible_keys(0, None), 0..1);
        assert_eq!(visible_keys(5000, None), 0..5001);
    }

    #[test]
    fn window_allows_exactly_window_positions() {
        let seen = visible_keys(1000, Some(512));
        assert_eq!(seen.len(), 512);
        assert_eq!(seen, 489..1001);
        // 512 positions back is out, 511 is in.
        assert!(!visible_keys(600, Some(512)).contains(&88));
        assert!(visible_keys(600, Some(512)).contains(&89));
    }

    #[test]
    fn window_is_causal_at_the_start() {
        assert_eq!(visible_keys(0, Some(512)), 0..1);
        assert_eq!(visible_keys(511, Some(512)), 0..512);
        assert_eq!(visible_keys(512, Some(512)), 1..513);
    }
}
