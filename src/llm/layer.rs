//! One Gemma 3 transformer block: attention and feed-forward, each wrapped
//! in a pre-norm and a post-norm, with residual connections.
//!
//! Differences from a Llama-style block, each a measured defect of candle's
//! reference port when missed: RMS norms on q and k per head, norms after
//! attention and after the MLP, a GELU (tanh approximation) gated MLP rather
//! than SiLU, and sliding-window attention on five layers out of six.

use super::attention::{attend, Heads};
use super::cache::LayerCache;
use super::ops::{add_assign, gelu_mul, rms_norm, Rope};
use super::weights::LayerWeights;
use super::Result;

/// What a block needs besides its weights.
#[derive(Clone, Copy)]
pub(crate) struct BlockContext<'a> {
    pub(crate) shape: Heads,
    pub(crate) eps: f32,
    /// The RoPE table of this layer's kind (local or global).
    pub(crate) rope: &'a Rope,
}

impl LayerWeights {
    /// Runs the block on `x`, the hidden states (row-major, `seq` rows) of
    /// positions `pos..pos + seq`, in place, appending their keys and values
    /// to `cache`.
    pub(crate) fn forward(
        &self,
        x: &mut [f32],
        seq: usize,
        pos: usize,
        context: BlockContext<'_>,
        cache: &mut LayerCache,
    ) -> Result<()> {
        let eps = context.eps;
        let mut h = x.to_vec();
        rms_norm(&mut h, &self.attn_norm, eps);
        let mut h = self.attention(&h, seq, pos, context, cache)?;
        rms_norm(&mut h, &self.post_attn_norm, eps);
        add_assign(x, &h);

        let mut h = x.to_vec();
        rms_norm(&mut h, &self.ffn_norm, eps);
        let mut gate = self.gate.apply(&h, seq)?;
        gelu_mul(&mut gate, &self.up.apply(&h, seq)?);
        let mut h = self.down.apply(&gate, seq)?;
        rms_norm(&mut h, &self.post_ffn_norm, eps);
        add_assign(x, &h);
        Ok(())
    }

    fn attention(
        &self,
        x: &[f32],
        seq: usize,
        pos: usize,
        context: BlockContext<'_>,
        cache: &mut LayerCache,
    ) -> Result<Vec<f32>> {
        let BlockContext { shape, eps, rope } = context;
        let mut queries = self.q.apply(x, seq)?;
        let mut keys = self.k.apply(x, seq)?;
        let values = self.v.apply(x, seq)?;
        // Per-head norms: each head is a row of `head_dim` values.
        rms_norm(&mut queries, &self.q_norm, eps);
        rms_norm(&mut keys, &self.k_norm, eps);
        rope.apply(&mut queries, pos, shape.heads);
        rope.apply(&mut keys, pos, shape.kv_heads);

        let kv = cache.extend(&keys, &values, pos);
        // Gemma 3 270M: query_pre_attn_scalar = head_dim = 256.
        let scale = 1.0 / (shape.head_dim as f32).sqrt();
        let out = attend(&queries, pos, kv, shape, scale);
        self.o.apply(&out, seq)
    }
}
