//! One Gemma 3 transformer block: attention and feed-forward, each wrapped
//! in a pre-norm and a post-norm, with residual connections.
//!
//! Differences from a Llama-style block, each a measured defect of candle's
//! reference port when missed: RMS norms on q and k per head, norms after
//! attention and after the MLP, a GELU (tanh approximation) gated MLP rather
//! than SiLU, and sliding-window attention on five layers out of six.

use super::attention::{attend_all, Heads, Queries};
use super::cache::LayerCache;
use super::linear::Linear;
use super::ops::{add_assign, gelu_mul, rms_norm, Rope};
use super::weights::LayerWeights;
use super::Result;

/// One sequence's rows within a batched pass: `rows` consecutive rows of
/// the hidden states, at positions `pos..pos + rows` of that sequence,
/// whose keys and values go to `cache`.
pub(crate) struct Segment<'c> {
    pub(crate) rows: usize,
    pub(crate) pos: usize,
    pub(crate) cache: &'c mut LayerCache,
}

/// What a block needs besides its weights.
#[derive(Clone, Copy)]
pub(crate) struct BlockContext<'a> {
    pub(crate) shape: Heads,
    pub(crate) eps: f32,
    /// The RoPE table of this layer's kind (local or global).
    pub(crate) rope: &'a Rope,
}

impl LayerWeights {
    /// Runs the block on `x`, the hidden states (row-major) of one or more
    /// sequences laid end to end as `segments` says, in place, appending
    /// each sequence's keys and values to its cache.
    ///
    /// The matrix products take all rows at once (each weight block is read
    /// once for the whole batch); attention runs per sequence. Every row's
    /// result is the same as if its sequence had run alone: the quantized
    /// products and the attention are computed row by row.
    pub(crate) fn forward(
        &self,
        x: &mut [f32],
        segments: &mut [Segment<'_>],
        context: BlockContext<'_>,
    ) -> Result<()> {
        let eps = context.eps;
        let seq: usize = segments.iter().map(|s| s.rows).sum();
        let mut h = x.to_vec();
        rms_norm(&mut h, &self.attn_norm, eps);
        let mut h = self.attention(&h, seq, segments, context)?;
        rms_norm(&mut h, &self.post_attn_norm, eps);
        add_assign(x, &h);

        let mut h = x.to_vec();
        rms_norm(&mut h, &self.ffn_norm, eps);
        let [mut gate, up] = Linear::apply_group([&self.gate, &self.up], &h, seq)?;
        gelu_mul(&mut gate, &up);
        let mut h = self.down.apply(&gate, seq)?;
        rms_norm(&mut h, &self.post_ffn_norm, eps);
        add_assign(x, &h);
        Ok(())
    }

    fn attention(
        &self,
        x: &[f32],
        seq: usize,
        segments: &mut [Segment<'_>],
        context: BlockContext<'_>,
    ) -> Result<Vec<f32>> {
        let BlockContext { shape, eps, rope } = context;
        let [mut queries, mut keys, values] =
            Linear::apply_group([&self.q, &self.k, &self.v], x, seq)?;
        // Per-head norms: each head is a row of `head_dim` values.
        rms_norm(&mut queries, &self.q_norm, eps);
        rms_norm(&mut keys, &self.k_norm, eps);
        let q_width = shape.heads * shape.head_dim;
        let kv_width = shape.kv_heads * shape.head_dim;
        // Gemma 3 270M: query_pre_attn_scalar = head_dim = 256.
        let scale = 1.0 / (shape.head_dim as f32).sqrt();
        let mut row = 0;
        for segment in segments.iter() {
            let (rows, pos) = (segment.rows, segment.pos);
            rope.apply(
                &mut queries[row * q_width..(row + rows) * q_width],
                pos,
                shape.heads,
            );
            rope.apply(
                &mut keys[row * kv_width..(row + rows) * kv_width],
                pos,
                shape.kv_heads,
            );
            row += rows;
        }
        let mut row = 0;
        let mut sequences = Vec::with_capacity(segments.len());
        for segment in segments.iter_mut() {
            let (rows, pos) = (segment.rows, segment.pos);
            let k = &keys[row * kv_width..(row + rows) * kv_width];
            let v = &values[row * kv_width..(row + rows) * kv_width];
            sequences.push(Queries {
                queries: &queries[row * q_width..(row + rows) * q_width],
                start: pos,
                kv: segment.cache.extend(k, v, pos),
            });
            row += rows;
        }
        let out = attend_all(&sequences, shape, scale);
        drop(sequences);
        self.o.apply(&out, seq)
    }
}
