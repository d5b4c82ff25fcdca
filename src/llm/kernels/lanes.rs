//! The two inner loops of attention, in a fixed order of operations: dot
//! products summed in 16 lanes, and outputs accumulated key by key.
//!
//! Written with explicit AVX-512 or AVX2 (whichever the CPU has, see
//! `cpu`), not left to the compiler: the same plain loops were vectorized
//! in one build and left scalar in another (the release binary), where they
//! took 31 % of prompt processing. The scalar versions are the fallback and
//! the reference: each lane does exactly the scalar operations (a multiply,
//! then an add; never a fused multiply-add), so every path gives the same
//! bits.

#[cfg(target_arch = "x86_64")]
use pulp::x86::{V3, V4};

use super::cpu::Simd;

const LANES: usize = 16;

/// Which implementation runs; chosen once per attention call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lanes {
    simd: Option<Simd>,
}

impl Lanes {
    /// The fastest implementation this CPU supports.
    pub(crate) fn detect() -> Self {
        Self {
            simd: super::cpu::simd(),
        }
    }

    /// The scalar reference.
    #[cfg(test)]
    fn scalar() -> Self {
        Self { simd: None }
    }

    /// Every implementation this CPU can run, the scalar one included.
    #[cfg(test)]
    fn all() -> Vec<Self> {
        use super::cpu::{best_up_to, Path};
        [Path::Avx512, Path::Avx2, Path::Portable]
            .into_iter()
            .map(|path| Self {
                simd: best_up_to(path),
            })
            .collect()
    }

    /// `K` dot products of `a` with each of `b`: lane `i` sums the
    /// products at positions `i`, `i + 16`, … in order, then the lanes are
    /// added in order, then the products of the last `len % 16` positions.
    /// The result for one `b[k]` does not depend on `K` or on the others.
    #[inline]
    pub(crate) fn dots<const K: usize>(&self, a: &[f32], b: [&[f32]; K]) -> [f32; K] {
        let lanes = match self.simd {
            #[cfg(target_arch = "x86_64")]
            Some(Simd::Avx512(simd)) => simd.vectorize(
                #[inline(always)]
                || lanes_avx512(simd, a, &b),
            ),
            #[cfg(target_arch = "x86_64")]
            Some(Simd::Avx2(simd)) => simd.vectorize(
                #[inline(always)]
                || lanes_avx2(simd, a, &b),
            ),
            None => scalar_lanes(a, &b),
        };
        let whole = a.len() / LANES * LANES;
        std::array::from_fn(|k| {
            let tail: f32 = a[whole..]
                .iter()
                .zip(&b[k][whole..])
                .map(|(x, y)| x * y)
                .sum();
            lanes[k].iter().sum::<f32>() + tail
        })
    }

    /// `out[t] = (((out[t] + w[0] v[0][t]) + w[1] v[1][t]) + …)`: the
    /// same as adding the `K` weighted rows one after the other.
    #[inline]
    pub(crate) fn add_weighted<const K: usize>(
        &self,
        out: &mut [f32],
        w: [f32; K],
        v: [&[f32]; K],
    ) {
        let n = out.len();
        let v = v.map(|row| &row[..n]);
        let done = match self.simd {
            #[cfg(target_arch = "x86_64")]
            Some(Simd::Avx512(simd)) => simd.vectorize(
                #[inline(always)]
                || add_weighted_avx512(simd, out, w, &v),
            ),
            #[cfg(target_arch = "x86_64")]
            Some(Simd::Avx2(simd)) => simd.vectorize(
                #[inline(always)]
                || add_weighted_avx2(simd, out, w, &v),
            ),
            None => 0,
        };
        for t in done..n {
            let mut o = out[t];
            for k in 0..K {
                o += w[k] * v[k][t];
            }
            out[t] = o;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes_avx512<const K: usize>(simd: V4, a: &[f32], b: &[&[f32]; K]) -> [[f32; LANES]; K] {
    use std::arch::x86_64::__m512;
    let f = simd.avx512f;
    let (a_chunks, _) = a.as_chunks::<LANES>();
    let b_chunks = b.map(|b| b.as_chunks::<LANES>().0);
    let mut acc = [f._mm512_setzero_ps(); K];
    for (i, x) in a_chunks.iter().enumerate() {
        let x: __m512 = bytemuck::cast(*x);
        for k in 0..K {
            let y: __m512 = bytemuck::cast(b_chunks[k][i]);
            acc[k] = f._mm512_add_ps(acc[k], f._mm512_mul_ps(x, y));
        }
    }
    acc.map(bytemuck::cast)
}

/// [`lanes_avx512`]'s 16 lanes as two 8-lane halves.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn lanes_avx2<const K: usize>(simd: V3, a: &[f32], b: &[&[f32]; K]) -> [[f32; LANES]; K] {
    use std::arch::x86_64::__m256;
    let f = simd.avx;
    let (a_chunks, _) = a.as_chunks::<LANES>();
    let b_chunks = b.map(|b| b.as_chunks::<LANES>().0);
    let mut acc = [[f._mm256_setzero_ps(); 2]; K];
    for (i, x) in a_chunks.iter().enumerate() {
        let x: [__m256; 2] = bytemuck::cast(*x);
        for k in 0..K {
            let y: [__m256; 2] = bytemuck::cast(b_chunks[k][i]);
            for h in 0..2 {
                acc[k][h] = f._mm256_add_ps(acc[k][h], f._mm256_mul_ps(x[h], y[h]));
            }
        }
    }
    acc.map(bytemuck::cast)
}

/// The whole chunks of 16 values; returns how many values it did.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn add_weighted_avx512<const K: usize>(
    simd: V4,
    out: &mut [f32],
    w: [f32; K],
    v: &[&[f32]; K],
) -> usize {
    use std::arch::x86_64::__m512;
    let f = simd.avx512f;
    let weights = w.map(|w| f._mm512_set1_ps(w));
    let rows = v.map(|row| row.as_chunks::<LANES>().0);
    let (chunks, _) = out.as_chunks_mut::<LANES>();
    for (i, chunk) in chunks.iter_mut().enumerate() {
        let mut o: __m512 = bytemuck::cast(*chunk);
        for k in 0..K {
            let value: __m512 = bytemuck::cast(rows[k][i]);
            o = f._mm512_add_ps(o, f._mm512_mul_ps(weights[k], value));
        }
        *chunk = bytemuck::cast(o);
    }
    chunks.len() * LANES
}

/// [`add_weighted_avx512`] in 8-lane halves.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn add_weighted_avx2<const K: usize>(
    simd: V3,
    out: &mut [f32],
    w: [f32; K],
    v: &[&[f32]; K],
) -> usize {
    use std::arch::x86_64::__m256;
    let f = simd.avx;
    let weights = w.map(|w| f._mm256_set1_ps(w));
    let rows = v.map(|row| row.as_chunks::<LANES>().0);
    let (chunks, _) = out.as_chunks_mut::<LANES>();
    for (i, chunk) in chunks.iter_mut().enumerate() {
        let mut o: [__m256; 2] = bytemuck::cast(*chunk);
        for k in 0..K {
            let value: [__m256; 2] = bytemuck::cast(rows[k][i]);
            for h in 0..2 {
                o[h] = f._mm256_add_ps(o[h], f._mm256_mul_ps(weights[k], value[h]));
            }
        }
        *chunk = bytemuck::cast(o);
    }
    chunks.len() * LANES
}

fn scalar_lanes<const K: usize>(a: &[f32], b: &[&[f32]; K]) -> [[f32; LANES]; K] {
    let mut lanes = [[0f32; LANES]; K];
    let (a_chunks, _) = a.as_chunks::<LANES>();
    for (i, x) in a_chunks.iter().enumerate() {
        for (lanes, b) in lanes.iter_mut().zip(b) {
            let y = &b[i * LANES..(i + 1) * LANES];
            for l in 0..LANES {
                lanes[l] += x[l] * y[l];
            }
        }
    }
    lanes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                ((i as u32)
                    .wrapping_mul(2_654_435_761)
                    .wrapping_add(seed * 97)
                    % 2001) as f32
                    / 1000.0
                    - 1.0
            })
            .collect()
    }

    #[test]
    fn dot_products_are_the_same_bits_alone_together_and_in_either_implementation() {
        for len in [1, 15, 16, 37, 256] {
            let a = values(len, 1);
            let b: Vec<Vec<f32>> = (0..4).map(|k| values(len, 2 + k)).collect();
            for lanes in Lanes::all() {
                let together = lanes.dots(&a, [&b[0], &b[1], &b[2], &b[3]]);
                for k in 0..4 {
                    let [alone] = Lanes::scalar().dots(&a, [&b[k]]);
                    assert_eq!(together[k].to_bits(), alone.to_bits(), "len {len}");
                }
            }
        }
        let [sum] =
            Lanes::scalar().dots(&[1.0; 37], [&(0..37).map(|i| i as f32).collect::<Vec<_>>()]);
        assert_eq!(sum, 666.0);
    }

    #[test]
    fn weighted_rows_add_as_one_after_the_other_in_either_implementation() {
        for len in [3, 16, 40, 256] {
            let start = values(len, 9);
            let v: Vec<Vec<f32>> = (0..4).map(|k| values(len, 10 + k)).collect();
            let w = [0.3, -1.7, 2.5e-3, 0.9];
            let mut one_by_one = start.clone();
            for k in 0..4 {
                for (o, x) in one_by_one.iter_mut().zip(&v[k]) {
                    *o += w[k] * x;
                }
            }
            for lanes in Lanes::all() {
                let mut out = start.clone();
                lanes.add_weighted(&mut out, w, [&v[0], &v[1], &v[2], &v[3]]);
                assert_eq!(out, one_by_one, "len {len}");
            }
        }
    }
}
