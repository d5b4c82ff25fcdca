//! One Gemma 3 transformer block: attention and feed-forward, each wrapped
//! in a pre-norm and a post-norm, with residual connections.
//!
//! Differences from a Llama-style block, each a measured defect of candle's
//! reference port when missed: RMS norms on q and k per head, norms after
//! attention and after the MLP, a GELU (tanh approximation) gated MLP rather
//! than SiLU, and sliding-window attention on five layers out of six.

use candle_core::{Device, Tensor};
use candle_nn::ops::rms_norm;

use super::attention::{attend, Heads};
use super::cache::LayerCache;
use super::rope::Rope;
use super::weights::LayerWeights;
use super::Result;

impl LayerWeights {
    /// Runs the block on `x` of shape `(seq, hidden)`, the hidden states of
    /// positions `pos..pos + seq`, appending their keys and values to `cache`.
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        pos: usize,
        shape: Heads,
        eps: f32,
        rope: &Rope,
        cache: &mut LayerCache,
    ) -> Result<Tensor> {
        let h = rms_norm(x, &self.attn_norm, eps)?;
        let h = self.attention(&h, pos, shape, eps, rope, cache)?;
        let h = rms_norm(&h, &self.post_attn_norm, eps)?;
        let x = (x + h)?;
        let h = rms_norm(&x, &self.ffn_norm, eps)?;
        // gelu is candle's tanh approximation, Gemma's `gelu_pytorch_tanh`.
        let h = (self.gate.forward(&h)?.gelu()? * self.up.forward(&h)?)?;
        let h = self.down.forward(&h)?;
        let h = rms_norm(&h, &self.post_ffn_norm, eps)?;
        Ok((x + h)?)
    }

    fn attention(
        &self,
        x: &Tensor,
        pos: usize,
        shape: Heads,
        eps: f32,
        rope: &Rope,
        cache: &mut LayerCache,
    ) -> Result<Tensor> {
        let seq = x.dim(0)?;
        let Heads {
            heads,
            kv_heads,
            head_dim,
            ..
        } = shape;
        let q = self.q.forward(x)?.reshape((seq, heads, head_dim))?;
        let k = self.k.forward(x)?.reshape((seq, kv_heads, head_dim))?;
        let v = self.v.forward(x)?;
        let q = rope.apply(&rms_norm(&q, &self.q_norm, eps)?, pos)?;
        let k = rope.apply(&rms_norm(&k, &self.k_norm, eps)?, pos)?;

        let queries: Vec<f32> = q.flatten_all()?.to_vec1()?;
        let keys: Vec<f32> = k.flatten_all()?.to_vec1()?;
        let values: Vec<f32> = v.flatten_all()?.to_vec1()?;
        let kv = cache.extend(&keys, &values, pos);
        // Gemma 3 270M: query_pre_attn_scalar = head_dim = 256.
        let scale = 1.0 / (head_dim as f32).sqrt();
        let out = attend(&queries, pos, kv, shape, scale);
        let out = Tensor::from_vec(out, (seq, heads * head_dim), &Device::Cpu)?;
        self.o.forward(&out)
    }
}
