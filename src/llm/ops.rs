//! Row-wise arithmetic of the block (RMS norm, rotary embedding, gated
//! GELU) and greedy token choice, on plain slices.
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

/// Index of the largest of `values` (a vocabulary: fewer than 2³²), the
/// first of equal ones; `None` when empty. The same index as candle's
/// `argmax` (a value replaces the best so far only when strictly greater,
/// so NaN never wins unless it comes first), which greedy decoding used to
/// call: with its tensor round trip it took about 0.3 ms of each decoded
/// token's 262,144 logits, on the caller's thread while the matmul threads
/// waited. Here the slice is split across
/// the model threads, and in each part sixteen lanes keep their own best
/// value and its first index (one vector compare and two blends).
pub(crate) fn argmax(values: &[f32]) -> Option<usize> {
    let first = *values.first()?;
    debug_assert!(u32::try_from(values.len()).is_ok());
    if first.is_nan() {
        return Some(0);
    }
    let parts = values.len().div_ceil(ARGMAX_PART);
    let bests: Vec<Mutex<Best>> = (0..parts).map(|_| Mutex::new(Best::seed(first))).collect();
    let find = |part: usize| {
        let start = part * ARGMAX_PART;
        let end = values.len().min(start + ARGMAX_PART);
        *lock(&bests[part]) = vectorized(
            #[inline(always)]
            || best_of(&values[start..end], start, first),
        );
    };
    if parts == 1 {
        find(0);
    } else {
        on_model_threads(parts, find);
    }
    bests
        .into_iter()
        .map(|best| best.into_inner().unwrap_or_else(PoisonError::into_inner))
        .reduce(Best::better)
        .map(|best| best.index as usize)
}

/// Values per part of [`argmax`]: small enough for both threads to share
/// one vocabulary-sized row, large enough that handing a part over costs
/// little against it.
const ARGMAX_PART: usize = 1 << 15;

/// A candidate of [`argmax`]: a value and where it is.
#[derive(Clone, Copy)]
struct Best {
    value: f32,
    index: u32,
}

impl Best {
    /// What every lane starts from: the first value, at 0, so that a value
    /// no greater than it never wins, as in candle's loop.
    fn seed(first: f32) -> Self {
        Self {
            value: first,
            index: 0,
        }
    }

    /// The greater, or the earlier of equal ones.
    fn better(self, other: Self) -> Self {
        if self.value < other.value || (self.value == other.value && other.index < self.index) {
            other
        } else {
            self
        }
    }
}

/// The best of `part`, which starts at `offset` in the whole slice.
#[inline(always)]
fn best_of(part: &[f32], offset: usize, first: f32) -> Best {
    const LANES: usize = 16;
    let (chunks, tail) = part.as_chunks::<LANES>();
    let mut values = [first; LANES];
    let mut indices = [0u32; LANES];
    for (c, chunk) in chunks.iter().enumerate() {
        let base = (offset + c * LANES) as u32;
        for l in 0..LANES {
            if values[l] < chunk[l] {
                values[l] = chunk[l];
                indices[l] = base + l as u32;
            }
        }
    }
    let tail_start = offset + chunks.len() * LANES;
    let lanes = values.into_iter().zip(indices);
    let rest = tail
        .iter()
        .enumerate()
        .map(|(i, &value)| (value, (tail_start + i) as u32));
    lanes
        .chain(rest)
        .map(|(value, index)| Best { value, index })
        .fold(Best::seed(first), Best::better)
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
    fn argmax_is_candles_index_ties_nan_and_signed_zeros_included() {
        let candles = |values: &[f32]| -> u32 {
            candle_core::Tensor::new(values, &candle_core::Device::Cpu)
                .and_then(|t| t.argmax(0))
                .and_then(|t| t.to_scalar::<u32>())
                .unwrap_or(u32::MAX)
        };
        let spread = |n: usize, seed: u32| -> Vec<f32> {
            (0..n as u32)
                .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) % 97) as f32 - 48.0)
                .collect()
        };
        let mut cases: Vec<Vec<f32>> = [1, 5, 16, 17, 33, 100, 262_144]
            .into_iter()
            .flat_map(|n| (0..3).map(move |seed| spread(n, seed)))
            .collect();
        cases.push(vec![1.0, 3.0, 3.0, -1.0]);
        cases.push(vec![-0.0, 0.0, -1.0]);
        cases.push(vec![0.0; 40]);
        cases.push(vec![f32::NAN, 1.0, 2.0]);
        let mut nan_inside = spread(50, 7);
        nan_inside[20] = f32::NAN;
        cases.push(nan_inside);
        let mut max_in_tail = vec![0.0; 37];
        max_in_tail[35] = 1.0;
        max_in_tail[36] = 1.0;
        cases.push(max_in_tail);
        cases.push(vec![f32::NEG_INFINITY, f32::NEG_INFINITY]);
        // Equal maxima in different parts of the split.
        let mut across_parts = vec![0.0; 100_000];
        across_parts[70_000] = 1.0;
        across_parts[40_000] = 1.0;
        cases.push(across_parts);
        cases.push(vec![-2.5; 100_000]);
        for values in &cases {
            let index = argmax(values).map(|i| i as u32);
            assert_eq!(
                index,
                Some(candles(values)),
                "{:?}",
                &values[..values.len().min(8)]
            );
        }
        assert_eq!(argmax(&[]), None);
    }

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
