//! Scaled dot-product attention over the cached keys, written out by hand.
//!
//! Why not candle's matmul and softmax: Gemma's activations have strong
//! outliers, and the quantized matmuls round them to 8 bits per block, so
//! a difference in the last bit of an attention output can flip a rounding
//! and move the final logits by up to a whole unit (measured 1.2 between a
//! one-shot prefill and the same prompt fed in two parts). A batched matmul
//! sums in an order that depends on the batch shape, and a masked softmax
//! row depends on how many masked keys it spans. Here every query reads
//! exactly its visible keys, in a fixed order, so a position's result is
//! bit-identical whether it came from a long prefill, a continued chunk or
//! single-token decode: prefix caching and scoring cannot drift from a
//! fresh run.
//!
//! Query heads sharing a key/value head read the same cached rows; K and V
//! are never copied per query head.

use std::sync::Mutex;

use super::kernels::lanes::Lanes;
use super::mask::{keys_around, visible_keys};
use super::ops::{lock, on_model_threads};

/// Layout of one attention call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Heads {
    pub(crate) heads: usize,
    pub(crate) kv_heads: usize,
    pub(crate) head_dim: usize,
    pub(crate) window: Option<usize>,
    /// Whether a query also sees the keys after it (an encoder such as
    /// EmbeddingGemma reads the whole text at once) or only those before.
    pub(crate) bidirectional: bool,
}

/// Keys and values of positions `start..start + rows`, row-major
/// `[position][kv_head][head_dim]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyValues<'a> {
    pub(crate) keys: &'a [f32],
    pub(crate) values: &'a [f32],
    pub(crate) start: usize,
}

/// One sequence's part of an attention call: its queries
/// `[query][head][head_dim]` at positions `start..`, and its keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Queries<'a> {
    pub(crate) queries: &'a [f32],
    pub(crate) start: usize,
    /// Every key visible to these queries.
    pub(crate) kv: KeyValues<'a>,
}

#[cfg(test)]
/// Attention output `[query][head][head_dim]` for queries `[query][head][head_dim]`
/// at positions `q_start..`. Every visible key must be in `kv`.
pub(crate) fn attend(
    queries: &[f32],
    q_start: usize,
    kv: KeyValues<'_>,
    shape: Heads,
    scale: f32,
) -> Vec<f32> {
    attend_all(
        &[Queries {
            queries,
            start: q_start,
            kv,
        }],
        shape,
        scale,
    )
}

/// [`attend`] for several sequences at once (the steps of batched
/// decoding), their outputs one after the other: one hand-off to the
/// threads for all of them instead of one per sequence. Each (query, head)
/// is still computed alone, so no bit depends on the batch.
pub(crate) fn attend_all(sequences: &[Queries<'_>], shape: Heads, scale: f32) -> Vec<f32> {
    let head_dim = shape.head_dim;
    let total: usize = sequences.iter().map(|s| s.queries.len()).sum();
    let mut out = vec![0f32; total];
    let lanes = Lanes::detect();
    let owners: Vec<(&Queries<'_>, usize)> = sequences
        .iter()
        .flat_map(|sequence| (0..sequence.queries.len() / head_dim).map(move |i| (sequence, i)))
        .collect();
    // Every (query, head) goes to candle's spinning matmul threads, which
    // cost about a microsecond to wake where rayon's cost tens and would
    // fight them for the two cores.
    let parts: Vec<Mutex<&mut [f32]>> = out.chunks_mut(head_dim).map(Mutex::new).collect();
    on_model_threads(parts.len(), |item| {
        let (sequence, i) = owners[item];
        attend_one(lanes, shape, scale, sequence, i, &mut lock(&parts[item]));
    });
    out
}

/// Item `item` (query `item / heads`, head `item % heads`) of `sequence`.
fn attend_one(
    lanes: Lanes,
    shape: Heads,
    scale: f32,
    sequence: &Queries<'_>,
    item: usize,
    out: &mut [f32],
) {
    let Heads {
        heads,
        kv_heads,
        head_dim,
        window,
        bidirectional,
    } = shape;
    let Queries {
        queries,
        start: q_start,
        kv,
    } = *sequence;
    let query = &queries[item * head_dim..(item + 1) * head_dim];
    let group = heads / kv_heads;
    let row = kv_heads * head_dim;
    let keys_held = kv.start + kv.keys.len() / row.max(1);
    let position = q_start + item / heads;
    let kv_head = (item % heads) / group;
    let visible = if bidirectional {
        keys_around(position, window, keys_held)
    } else {
        visible_keys(position, window)
    };
    debug_assert!(visible.start >= kv.start, "a visible key was dropped");
    let first = visible.start.max(kv.start) - kv.start;
    let last = visible.end - kv.start;
    let offset = kv_head * head_dim;
    let key = |j: usize| &kv.keys[j * row + offset..j * row + offset + head_dim];
    let value = |j: usize| &kv.values[j * row + offset..j * row + offset + head_dim];

    // Four keys at a time: each dot product keeps its own order, but
    // four independent sums hide the latency of the additions, which
    // bounded a lone dot product to one add every four cycles.
    let mut scores = Vec::with_capacity(last - first);
    let mut j = first;
    while j + KEYS_TOGETHER <= last {
        let keys: [&[f32]; KEYS_TOGETHER] = std::array::from_fn(|k| key(j + k));
        scores.extend(lanes.dots(query, keys).map(|d| d * scale));
        j += KEYS_TOGETHER;
    }
    scores.extend((j..last).map(|j| lanes.dots(query, [key(j)])[0] * scale));
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let weights: Vec<f32> = scores.iter().map(|score| (score - max).exp()).collect();
    let mut total = 0f32;
    for weight in &weights {
        total += weight;
    }
    // Each output value still adds its terms key by key, in order; four
    // keys per sweep only spare three loads and stores of the output.
    let mut j = first;
    for w in weights.chunks(KEYS_TOGETHER) {
        if let &[w0, w1, w2, w3] = w {
            let values: [&[f32]; KEYS_TOGETHER] = std::array::from_fn(|k| value(j + k));
            lanes.add_weighted(out, [w0, w1, w2, w3], values);
        } else {
            for (k, &weight) in w.iter().enumerate() {
                lanes.add_weighted(out, [weight], [value(j + k)]);
            }
        }
        j += w.len();
    }
    let inverse = 1.0 / total;
    for o in out.iter_mut() {
        *o *= inverse;
    }
}

/// Keys per step of the inner loops.
const KEYS_TOGETHER: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random values in [-1, 1).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    const SHAPE: Heads = Heads {
        heads: 4,
        kv_heads: 2,
        head_dim: 20,
        window: Some(3),
        bidirectional: false,
    };

    /// Straightforward f64 attention for one (query, head).
    fn reference(
        q: &[f32],
        keys: &[f32],
        vals: &[f32],
        pos: usize,
        head: usize,
        shape: Heads,
    ) -> Vec<f64> {
        let d = shape.head_dim;
        let row = shape.kv_heads * d;
        let kvh = head / (shape.heads / shape.kv_heads);
        let visible: Vec<usize> = (0..=pos)
            .filter(|&k| shape.window.is_none_or(|w| pos - k < w))
            .collect();
        let scores: Vec<f64> = visible
            .iter()
            .map(|&k| {
                (0..d)
                    .map(|t| q[t] as f64 * keys[k * row + kvh * d + t] as f64)
                    .sum::<f64>()
                    * 0.5
            })
            .collect();
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let total: f64 = weights.iter().sum();
        (0..d)
            .map(|t| {
                visible
                    .iter()
                    .zip(&weights)
                    .map(|(&k, w)| w * vals[k * row + kvh * d + t] as f64)
                    .sum::<f64>()
                    / total
            })
            .collect()
    }

    #[test]
    fn matches_a_plain_softmax_attention_with_window() {
        let seq = 6;
        let d = SHAPE.head_dim;
        let q = values(seq * SHAPE.heads * d, 1);
        let keys = values(seq * SHAPE.kv_heads * d, 2);
        let vals = values(seq * SHAPE.kv_heads * d, 3);
        let kv = KeyValues {
            keys: &keys,
            values: &vals,
            start: 0,
        };
        let out = attend(&q, 0, kv, SHAPE, 0.5);
        for pos in 0..seq {
            for head in 0..SHAPE.heads {
                let at = (pos * SHAPE.heads + head) * d;
                let expected = reference(&q[at..at + d], &keys, &vals, pos, head, SHAPE);
                for (got, want) in out[at..at + d].iter().zip(expected) {
                    assert!((*got as f64 - want).abs() < 1e-5, "pos {pos} head {head}");
                }
            }
        }
    }

    #[test]
    fn a_query_gives_identical_bits_alone_or_in_a_batch() {
        let seq = 7;
        let d = SHAPE.head_dim;
        let per_query = SHAPE.heads * d;
        let row = SHAPE.kv_heads * d;
        let q = values(seq * per_query, 4);
        let keys = values(seq * row, 5);
        let vals = values(seq * row, 6);
        let batch = attend(
            &q,
            0,
            KeyValues {
                keys: &keys,
                values: &vals,
                start: 0,
            },
            SHAPE,
            0.3,
        );
        for pos in 0..seq {
            // Decode-style: only the keys still kept (from pos - 2), one query.
            let from = pos.saturating_sub(2);
            let kv = KeyValues {
                keys: &keys[from * row..(pos + 1) * row],
                values: &vals[from * row..(pos + 1) * row],
                start: from,
            };
            let alone = attend(
                &q[pos * per_query..(pos + 1) * per_query],
                pos,
                kv,
                SHAPE,
                0.3,
            );
            assert_eq!(
                alone,
                batch[pos * per_query..(pos + 1) * per_query],
                "position {pos}"
            );
        }
    }

    #[test]
    fn sequences_attended_together_give_their_bits_alone() {
        let d = SHAPE.head_dim;
        let per_query = SHAPE.heads * d;
        let row = SHAPE.kv_heads * d;
        let (keys_a, values_a) = (values(5 * row, 7), values(5 * row, 8));
        let (keys_b, values_b) = (values(3 * row, 9), values(3 * row, 10));
        let (q_a, q_b) = (values(per_query, 11), values(2 * per_query, 12));
        let a = Queries {
            queries: &q_a,
            start: 4,
            kv: KeyValues {
                keys: &keys_a,
                values: &values_a,
                start: 0,
            },
        };
        let b = Queries {
            queries: &q_b,
            start: 1,
            kv: KeyValues {
                keys: &keys_b,
                values: &values_b,
                start: 0,
            },
        };
        let together = attend_all(&[a, b], SHAPE, 0.3);
        let alone = [attend_all(&[a], SHAPE, 0.3), attend_all(&[b], SHAPE, 0.3)].concat();
        assert_eq!(together, alone);
    }
}
