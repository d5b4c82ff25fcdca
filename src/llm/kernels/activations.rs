//! Activations quantized to Q8_0 for the integer products of `q8_0` and
//! `kquant`, exactly as candle quantizes them: per block of 32 values, the
//! scale `amax / 127` stored as f16, and each value divided by the
//! unrounded scale, rounded half away from zero. Sixteen values at a time
//! on AVX-512 (candle's scalar rounding was a third of the time of a
//! product with a small matrix).
//!
//! Must not depend on the model: it is plain arithmetic on slices.

use std::arch::x86_64::{__m512, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ};

use half::f16;
use pulp::x86::V4;

use super::cpu::Simd;

/// Values per Q8_0 block.
pub(super) const BLOCK: usize = 32;

/// A batch of activations quantized to Q8_0.
pub(super) struct Activations {
    pub(super) values: Vec<[i8; BLOCK]>,
    pub(super) scales: Vec<f32>,
}

impl Activations {
    /// Each block of `x` quantized as candle's `BlockQ8_0::from_float`
    /// does: scale `amax / 127` stored as f16, values `x / scale` rounded
    /// half away from zero with the unrounded scale.
    pub(super) fn quantize(simd: Option<Simd>, x: &[f32]) -> Self {
        let (blocks, _) = x.as_chunks::<BLOCK>();
        let mut out = Activations {
            values: Vec::with_capacity(blocks.len()),
            scales: Vec::with_capacity(blocks.len()),
        };
        match simd {
            Some(Simd::Avx512(simd)) => simd.vectorize(
                #[inline(always)]
                || quantize_avx512(simd, blocks, &mut out),
            ),
            Some(Simd::Avx2(simd)) => simd.vectorize(
                #[inline(always)]
                || quantize_portably(blocks, &mut out),
            ),
            None => quantize_portably(blocks, &mut out),
        }
        out
    }
}

/// [`Activations::quantize`] on AVX-512: 16 values at a time.
#[inline(always)]
fn quantize_avx512(simd: V4, blocks: &[[f32; BLOCK]], out: &mut Activations) {
    let f = simd.avx512f;
    for block in blocks {
        let (halves, _) = block.as_chunks::<16>();
        let low: __m512 = bytemuck::cast(halves[0]);
        let high: __m512 = bytemuck::cast(halves[1]);
        let amax =
            f._mm512_reduce_max_ps(f._mm512_max_ps(f._mm512_abs_ps(low), f._mm512_abs_ps(high)));
        let d = amax / 127.0;
        let inverse = f._mm512_set1_ps(if d != 0.0 { 1.0 / d } else { 0.0 });
        let low = round_to_bytes(simd, f._mm512_mul_ps(low, inverse));
        let high = round_to_bytes(simd, f._mm512_mul_ps(high, inverse));
        out.values.push(bytemuck::cast([low, high]));
        out.scales.push(f16::from_f32(d).to_f32());
    }
}

/// Rounds each lane of `v` as `f32::round` and narrows it to a byte:
/// truncate, then step away from zero when the dropped fraction is at least
/// one half (exact: `v - trunc(v)` has no rounding error).
#[inline(always)]
pub(super) fn round_to_bytes(simd: V4, v: __m512) -> std::arch::x86_64::__m128i {
    const TRUNCATE: i32 = 0x0B;
    let f = simd.avx512f;
    let half = f._mm512_set1_ps(0.5);
    let one = f._mm512_set1_ps(1.0);
    let zero = f._mm512_setzero_ps();
    let t = f._mm512_roundscale_ps::<TRUNCATE>(v);
    let away = f._mm512_cmp_ps_mask::<_CMP_GE_OQ>(f._mm512_abs_ps(f._mm512_sub_ps(v, t)), half);
    let up = away & f._mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, zero);
    let down = away & f._mm512_cmp_ps_mask::<_CMP_LT_OQ>(v, zero);
    let t = f._mm512_mask_add_ps(t, up, t, one);
    let t = f._mm512_mask_sub_ps(t, down, t, one);
    f._mm512_cvtepi32_epi8(f._mm512_cvttps_epi32(t))
}

/// [`Activations::quantize`] as candle writes it, left to the compiler (AVX2).
#[inline(always)]
fn quantize_portably(blocks: &[[f32; BLOCK]], out: &mut Activations) {
    for block in blocks {
        let amax = block.iter().fold(0f32, |acc, &x| acc.max(x.abs()));
        let d = amax / 127.0;
        let inverse = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.values
            .push(std::array::from_fn(|i| (block[i] * inverse).round() as i8));
        out.scales.push(f16::from_f32(d).to_f32());
    }
}

#[cfg(test)]
mod tests {
    use super::super::cpu::every_instruction_set;
    use super::*;
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};

    #[test]
    fn activations_round_half_away_from_zero_like_candle() {
        // Halves and near-halves after scaling by 127 / amax (amax = 127).
        let mut x: Vec<f32> = vec![
            127.0,
            -0.5,
            0.5,
            1.5,
            -1.5,
            2.5,
            0.499_999_97,
            -0.499_999_97,
        ];
        x.extend((0..24).map(|i| i as f32 * 0.37 - 4.0));
        let candle = QTensor::quantize(
            &Tensor::from_slice(&x, (1, 32), &Device::Cpu).unwrap(),
            GgmlDType::Q8_0,
        )
        .unwrap();
        // A GGUF block: f16 scale, then the 32 values.
        let block = candle.data().unwrap();
        let values: Vec<i8> = block[2..].iter().map(|&b| b as i8).collect();
        let scale = f16::from_le_bytes([block[0], block[1]]).to_f32();
        for (simd, _) in every_instruction_set() {
            let ours = Activations::quantize(Some(simd), &x);
            assert_eq!(ours.values[0].as_slice(), values, "{simd:?}");
            assert_eq!(ours.scales[0], scale, "{simd:?}");
        }
        let portable = Activations::quantize(None, &x);
        assert_eq!(portable.values[0].as_slice(), values);
        assert_eq!(portable.scales[0], scale);
    }
}
