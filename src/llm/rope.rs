//! Rotary position embedding tables.
//!
//! Gemma 3 uses two RoPE bases (10,000 on sliding-window layers, 1,000,000
//! on global ones). Each table is built once, sized to the context we
//! support, and shared by all layers of its kind: per-layer tables sized to
//! the trained 128K context cost 2.3 GB in candle's reference port.

use candle_core::{DType, Device, Tensor};

use super::Result;

/// Cosine and sine tables of shape `(max_positions, head_dim / 2)`.
#[derive(Debug, Clone)]
pub(crate) struct Rope {
    cos: Tensor,
    sin: Tensor,
}

impl Rope {
    pub(crate) fn new(head_dim: usize, base: f32, max_positions: usize) -> Result<Self> {
        let half = head_dim / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| 1.0 / base.powf((2 * i) as f32 / head_dim as f32))
            .collect();
        let device = Device::Cpu;
        let inv_freq = Tensor::from_vec(inv_freq, (1, half), &device)?;
        let positions = Tensor::arange(0u32, max_positions as u32, &device)?
            .to_dtype(DType::F32)?
            .reshape((max_positions, 1))?;
        let angles = positions.matmul(&inv_freq)?;
        Ok(Self {
            cos: angles.cos()?,
            sin: angles.sin()?,
        })
    }

    /// Rotates `x` of shape `(seq, heads, head_dim)` whose first row sits at
    /// absolute position `start` (rotate-half convention, as Gemma and
    /// llama.cpp's NEOX mode).
    pub(crate) fn apply(&self, x: &Tensor, start: usize) -> Result<Tensor> {
        let seq = x.dim(0)?;
        let cos = self.cos.narrow(0, start, seq)?;
        let sin = self.sin.narrow(0, start, seq)?;
        let x = x.unsqueeze(0)?.contiguous()?;
        Ok(candle_nn::rotary_emb::rope_thd(&x, &cos, &sin)?.squeeze(0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_zero_is_identity_and_rotation_keeps_norm() {
        let rope = Rope::new(8, 10_000.0, 16).unwrap();
        let x = Tensor::arange(1f32, 17f32, &Device::Cpu)
            .unwrap()
            .reshape((2, 1, 8))
            .unwrap();
        let at_zero = rope.apply(&x.narrow(0, 0, 1).unwrap(), 0).unwrap();
        let diff: f32 = (at_zero - x.narrow(0, 0, 1).unwrap())
            .unwrap()
            .abs()
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(diff < 1e-6);
        let rotated = rope.apply(&x, 5).unwrap();
        let norm = |t: &Tensor| -> f32 { t.sqr().unwrap().sum_all().unwrap().to_scalar().unwrap() };
        assert!((norm(&rotated) - norm(&x)).abs() < 1e-2);
        assert!(norm(&(rotated - &x).unwrap()) > 1.0);
    }
}
