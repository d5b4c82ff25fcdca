//! Row-wise arithmetic of the block (RMS norm, rotary embedding, gated
//! GELU), on plain slices.
//!
//! candle's versions of these small operations hand each call to its rayon
//! pool, while its matmuls run on a separate spinning thread pool; on two
//! cores the hand-offs cost about 0.1 ms each, which made single-token
//! decode 5× slower than its arithmetic. Here they run inline, each row on
//! its own, so results never depend on how many rows are processed at once.

use std::sync::{Mutex, PoisonError};

use super::kernels::cpu::vectorized;
use super::kernels::tanh::tanh;

/// RMS-normalizes every row of `x` (rows of `weight.len()` values) in place
/// and scales it by `weight`. Gemma's `1 + w` is already in the GGUF weight.
/// The mean square is accumulated in f64, as llama.cpp does.
pub(crate) fn rms_norm(x: &mut [f32], weight: &[f32], eps: f32) {
    vectorized(
        #[inline(always)]
        || rms_norm_rows(x, weight, eps),
    );
}

#[inline(always)]
fn rms_norm_rows(x: &mut [f32], weight: &[f32], eps: f32) {
    for row in x.chunks_exact_mut(weight.len()) {
        let mean_square = row.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / row.len() as f64;
        let scale = (1.0 / (mean_square + eps as f64).sqrt()) as f32;
        for (v, &w) in row.iter_mut().zip(weight) {
            *v = *v * scale * w;
        }
    }
}

/// Cosine and sine tables for rotary position embedding, `half` values per
/// position: angle `p * base^(-2i/head_dim)`.
#[derive(Debug, Clone)]
pub(crate) struct Rope {
    cos: Vec<f32>,
    sin: Vec<f32>,
    half: usize,
}

impl Rope {
    pub(crate) fn new(head_dim: usize, base: f32, max_positions: usize) -> Self {
        let half = head_dim / 2;
        let inv_freq: Vec<f64> = (0..half)
            .map(|i| (base as f64).powf(-((2 * i) as f64) / head_dim as f64))
            .collect();
        let mut cos = Vec::with_capacity(max_positions * half);
        let mut sin = Vec::with_capacity(max_positions * half);
        for p in 0..max_positions {
            for &f in &inv_freq {
                let angle = p as f64 * f;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        Self { cos, sin, half }
    }

    /// Rotates `x`, rows of `heads * head_dim` values, the first row at
    /// absolute position `start` (rotate-half convention, as Gemma and
    /// llama.cpp's NEOX mode). Positions must be within the table.
    pub(crate) fn apply(&self, x: &mut [f32], start: usize, heads: usize) {
        vectorized(
            #[inline(always)]
            || self.rotate(x, start, heads),
        );
    }

    #[inline(always)]
    fn rotate(&self, x: &mut [f32], start: usize, heads: usize) {
        let head_dim = 2 * self.half;
        for (p, row) in (start..).zip(x.chunks_exact_mut(heads * head_dim)) {
            let cos = &self.cos[p * self.half..(p + 1) * self.half];
            let sin = &self.sin[p * self.half..(p + 1) * self.half];
            for head in row.chunks_exact_mut(head_dim) {
                let (first, second) = head.split_at_mut(self.half);
                for i in 0..self.half {
                    let (a, b) = (first[i], second[i]);
                    first[i] = a * cos[i] - b * sin[i];
                    second[i] = a * sin[i] + b * cos[i];
                }
            }
        }
    }
}

/// `gelu(gate) * up`, in place in `gate`, with the tanh approximation of
/// GELU (Gemma's `gelu_pytorch_tanh`; the exact erf form is not what the
/// model was trained with). Large inputs are split across the model's
/// threads: libm's `tanhf` made this 14 % of prompt processing on one core.
/// Each value is computed alone, so the split changes no bit.
pub(crate) fn gelu_mul(gate: &mut [f32], up: &[f32]) {
    const PER_TASK: usize = 4096;
    if gate.len() < 2 * PER_TASK {
        gelu_mul_serial(gate, up);
        return;
    }
    let parts: Vec<Mutex<&mut [f32]>> = gate.chunks_mut(PER_TASK).map(Mutex::new).collect();
    on_model_threads(parts.len(), |task| {
        let up = &up[task * PER_TASK..];
        gelu_mul_serial(&mut lock(&parts[task]), up);
    });
}

fn gelu_mul_serial(gate: &mut [f32], up: &[f32]) {
    vectorized(
        #[inline(always)]
        || gelu_mul_values(gate, up),
    );
}

#[inline(always)]
fn gelu_mul_values(gate: &mut [f32], up: &[f32]) {
    const SQRT_2_OVER_PI: f32 = 0.797_884_6;
    for (g, &u) in gate.iter_mut().zip(up) {
        let x = *g;
        let inner = SQRT_2_OVER_PI * (x + 0.044_715 * x * x * x);
        *g = 0.5 * x * (1.0 + tanh(inner)) * u;
    }
}

/// `x += y`, element-wise.
pub(crate) fn add_assign(x: &mut [f32], y: &[f32]) {
    vectorized(
        #[inline(always)]
        || {
            for (a, &b) in x.iter_mut().zip(y) {
                *a += b;
            }
        },
    );
}

/// Runs `task(i)` for every `i < tasks` on candle's matmul threads, the
/// ones the rest of the model's products run on: they spin between
/// products, so handing them work costs about a microsecond, and a second
/// pool would fight them for the two cores.
pub(crate) fn on_model_threads(tasks: usize, task: impl Fn(usize) + Sync) {
    candle_core::utils::barrier_pool().execute_chunked(tasks, |range| range.for_each(&task));
}

/// Each part is locked by the one task that owns it, so a poisoned lock
/// can only be that task's own earlier panic; its data is still plain
/// numbers.
pub(crate) fn lock<'a, T>(part: &'a Mutex<T>) -> std::sync::MutexGuard<'a, T> {
    part.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_norm_gives_unit_mean_square_times_weight() {
        let mut x = vec![3.0, -4.0, 1.0, 1.0];
        rms_norm(&mut x, &[1.0, 2.0], 0.0);
        let rms = (12.5f32).sqrt();
        assert!((x[0] - 3.0 / rms).abs() < 1e-6);
        assert!((x[1] + 8.0 / rms).abs() < 1e-6);
        assert!((x[2] - 1.0).abs() < 1e-6 && (x[3] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn rope_is_identity_at_zero_and_keeps_norms() {
        let rope = Rope::new(8, 10_000.0, 16);
        let original: Vec<f32> = (1..=16).map(|v| v as f32).collect();
        let mut x = original.clone();
        rope.apply(&mut x[..8], 0, 1);
        assert_eq!(x[..8], original[..8]);
        rope.apply(&mut x[8..], 5, 1);
        let norm = |v: &[f32]| v.iter().map(|a| a * a).sum::<f32>();
        assert!((norm(&x[8..]) - norm(&original[8..])).abs() < 1e-2);
        assert!(x[8..] != original[8..]);
        // Pair (i, i + half) turns by angle p * base^(-2i/d): i = 0 → 5 rad.
        let (a, b) = (original[8], original[12]);
        assert!((x[8] - (a * 5f32.cos() - b * 5f32.sin())).abs() < 1e-4);
    }

    #[test]
    fn gelu_is_the_tanh_approximation() {
        let mut gate = vec![0.0, 1.0, -1.0, 3.0];
        gelu_mul(&mut gate, &[1.0, 1.0, 1.0, 2.0]);
        assert_eq!(gate[0], 0.0);
        assert!((gate[1] - 0.841_192).abs() < 1e-5);
        assert!((gate[2] + 0.158_808).abs() < 1e-5);
        assert!((gate[3] - 2.0 * 2.996_363).abs() < 1e-4);
    }
}
