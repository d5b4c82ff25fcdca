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

#[cfg(test)]
mod tests {
    use super::*;

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
