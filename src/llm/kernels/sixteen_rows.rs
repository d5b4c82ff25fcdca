//! Sixteen matrix rows in the 32-bit lanes of a register (two on AVX2):
//! the operations that the K-quant tiles (`kquant`) and the Q8_0
//! tiles (`q8_0`) are written in, once per instruction set.
//!
//! A tile of sixteen rows × a few tokens keeps each row's sum in its own
//! lane, so a block's sum is one exact integer per row and its scaling one
//! multiply-add per row: no horizontal sums, and every body gives the same
//! bits as a scalar loop doing the same operations row by row.
//!
//! Must not depend on the model: it is an instruction set's arithmetic.

use std::arch::x86_64::{__m256, __m256i, __m512, __m512i};
use std::ops::Range;
use std::sync::Mutex;

use half::f16;
use pulp::x86::{V3, V4};

use super::vnni::V4Vnni;
use crate::llm::ops::{lock, on_model_threads};

/// Rows per tile: one per 32-bit lane of a 512-bit register.
pub(super) const LANES: usize = 16;

/// Runs `work` on the model's threads over ranges of a matrix's `tiles`
/// tiles of sixteen rows, each range with its slice of every token's
/// output row (`rows` values; the last tile may be short). A few ranges
/// per thread, so that one slow thread does not hold the others up; each
/// range is read once for all the tokens.
pub(super) fn on_tile_ranges(
    tiles: usize,
    rows: usize,
    out: &mut [&mut [f32]],
    work: impl Fn(Range<usize>, &mut [&mut [f32]]) + Sync,
) {
    on_tile_ranges_of(&mut [(tiles, rows, out)], |_, tiles, out| work(tiles, out));
}

/// [`on_tile_ranges`] over several matrices at once, in one hand-off to
/// the threads: `matrices` gives each one's tiles, rows and output rows,
/// and `work` is told which matrix a range is of.
pub(super) fn on_tile_ranges_of(
    matrices: &mut [(usize, usize, &mut [&mut [f32]])],
    work: impl Fn(usize, Range<usize>, &mut [&mut [f32]]) + Sync,
) {
    let threads = rayon::current_num_threads().max(1);
    let all_tiles: usize = matrices.iter().map(|&(tiles, _, _)| tiles).sum();
    let per_task = all_tiles.div_ceil(threads * 4).max(1);
    // Per task: the matrix, its range of tiles, and their output slices.
    type Task<'o> = (usize, Range<usize>, Mutex<Vec<&'o mut [f32]>>);
    let mut tasks: Vec<Task<'_>> = Vec::new();
    for (matrix, (tiles, rows, out)) in matrices.iter_mut().enumerate() {
        let (tiles, rows) = (*tiles, *rows);
        let ranges: Vec<Range<usize>> = (0..tiles)
            .step_by(per_task)
            .map(|start| start..(start + per_task).min(tiles))
            .collect();
        let mut parts: Vec<Vec<&mut [f32]>> = ranges
            .iter()
            .map(|_| Vec::with_capacity(out.len()))
            .collect();
        for token_row in out.iter_mut() {
            let mut rest: &mut [f32] = token_row;
            for (range, part) in ranges.iter().zip(&mut parts) {
                let width = (range.end * LANES).min(rows) - range.start * LANES;
                let (mine, after) = std::mem::take(&mut rest).split_at_mut(width);
                part.push(mine);
                rest = after;
            }
        }
        tasks.extend(
            ranges
                .into_iter()
                .zip(parts)
                .map(|(range, part)| (matrix, range, Mutex::new(part))),
        );
    }
    on_model_threads(tasks.len(), |task| {
        let (matrix, range, part) = &tasks[task];
        work(*matrix, range.clone(), &mut lock(part));
    });
}

/// The operations a tile needs on sixteen 32-bit lanes, one per row.
pub(super) trait Lanes: Copy {
    type Int: Copy;
    type Float: Copy;
    fn zero_int(self) -> Self::Int;
    fn zero_float(self) -> Self::Float;
    fn bytes(self, bytes: &[u8; 4 * LANES]) -> Self::Int;
    fn floats(self, values: &[f32; LANES]) -> Self::Float;
    /// The low and the high nibble of every byte.
    fn nibbles(self, bytes: Self::Int) -> (Self::Int, Self::Int);
    /// `acc` plus, per lane, the sum of the four products of the lane's
    /// unsigned bytes with the four signed bytes `a` (exact).
    fn dot(self, acc: Self::Int, unsigned: Self::Int, a: i32) -> Self::Int;
    /// `acc + sums × (scales × d)`, fused, rounded once per lane.
    fn scaled_add(
        self,
        acc: Self::Float,
        sums: Self::Int,
        scales: Self::Float,
        d: f32,
    ) -> Self::Float;
    /// Lane-wise sum.
    fn add(self, a: Self::Float, b: Self::Float) -> Self::Float;
    /// `acc − values × term`, fused.
    fn subtract(self, acc: Self::Float, values: Self::Float, term: f32) -> Self::Float;
    /// `acc + (sums − offset) × (scales × d)`, fused after the subtraction.
    fn offset_scaled_add(
        self,
        acc: Self::Float,
        sums: Self::Int,
        offset: f32,
        scales: Self::Float,
        d: f32,
    ) -> Self::Float;
    fn lanes(self, v: Self::Float) -> [f32; LANES];
    /// Sixteen f16 values, given by their bits, as f32 (exact).
    fn halves(self, bits: &[u16; LANES]) -> Self::Float;

    /// Four signed bytes of each row (Q8_0 weights), stored plus 128, made
    /// ready to be multiplied by every token's four.
    type Signed: Copy;
    fn signed(self, stored: &[u8; 4 * LANES]) -> Self::Signed;
    /// Where a block's sums start, given −128 × the sum of the token's
    /// values in the block: with VNNI the stored bytes are multiplied as
    /// they are, and the start takes the 128s back out; the other bodies
    /// restore the signed weights and start from zero. Either way, after
    /// [`signed_dot`](Self::signed_dot) over the block each lane holds
    /// the exact sum of the row's products.
    fn signed_start(self, shift: i32) -> Self::Int;
    /// `acc` plus, per lane, the products of the row's four weights with
    /// the four signed bytes `a` (−127..=127), summed as
    /// [`signed_start`](Self::signed_start) says.
    fn signed_dot(self, acc: Self::Int, weights: Self::Signed, a: i32) -> Self::Int;
}

/// Each token's sixteen rows, out of their registers.
#[inline(always)]
pub(super) fn lanes_of<S: Lanes, const T: usize>(simd: S, acc: [S::Float; T]) -> [[f32; LANES]; T] {
    let mut out = [[0f32; LANES]; T];
    for t in 0..T {
        out[t] = simd.lanes(acc[t]);
    }
    out
}

/// The float half of [`Lanes`] on 512-bit registers, shared by both
/// AVX-512 bodies.
macro_rules! avx512_lanes {
    () => {
        type Int = __m512i;
        type Float = __m512;
        #[inline(always)]
        fn zero_int(self) -> __m512i {
            self.avx512f._mm512_setzero_si512()
        }
        #[inline(always)]
        fn zero_float(self) -> __m512 {
            self.avx512f._mm512_setzero_ps()
        }
        #[inline(always)]
        fn bytes(self, bytes: &[u8; 4 * LANES]) -> __m512i {
            bytemuck::cast(*bytes)
        }
        #[inline(always)]
        fn floats(self, values: &[f32; LANES]) -> __m512 {
            bytemuck::cast(*values)
        }
        #[inline(always)]
        fn nibbles(self, bytes: __m512i) -> (__m512i, __m512i) {
            let (f, bw) = (self.avx512f, self.avx512bw);
            let mask = f._mm512_set1_epi8(0x0F);
            (
                f._mm512_and_si512(bytes, mask),
                f._mm512_and_si512(bw._mm512_srli_epi16::<4>(bytes), mask),
            )
        }
        #[inline(always)]
        fn scaled_add(self, acc: __m512, sums: __m512i, scales: __m512, d: f32) -> __m512 {
            let f = self.avx512f;
            let d = f._mm512_mul_ps(scales, f._mm512_set1_ps(d));
            f._mm512_fmadd_ps(f._mm512_cvtepi32_ps(sums), d, acc)
        }
        #[inline(always)]
        fn add(self, a: __m512, b: __m512) -> __m512 {
            self.avx512f._mm512_add_ps(a, b)
        }
        #[inline(always)]
        fn subtract(self, acc: __m512, values: __m512, term: f32) -> __m512 {
            let f = self.avx512f;
            f._mm512_fnmadd_ps(values, f._mm512_set1_ps(term), acc)
        }
        #[inline(always)]
        fn offset_scaled_add(
            self,
            acc: __m512,
            sums: __m512i,
            offset: f32,
            scales: __m512,
            d: f32,
        ) -> __m512 {
            let f = self.avx512f;
            let d = f._mm512_mul_ps(scales, f._mm512_set1_ps(d));
            let sums = f._mm512_sub_ps(f._mm512_cvtepi32_ps(sums), f._mm512_set1_ps(offset));
            f._mm512_fmadd_ps(sums, d, acc)
        }
        #[inline(always)]
        fn lanes(self, v: __m512) -> [f32; LANES] {
            bytemuck::cast(v)
        }
        #[inline(always)]
        fn halves(self, bits: &[u16; LANES]) -> __m512 {
            self.avx512f._mm512_cvtph_ps(bytemuck::cast(*bits))
        }
    };
}

impl Lanes for V4Vnni {
    avx512_lanes!();
    #[inline(always)]
    fn dot(self, acc: __m512i, unsigned: __m512i, a: i32) -> __m512i {
        let a = self.avx512f._mm512_set1_epi32(a);
        self.dot_bytes(acc, unsigned, a)
    }
    type Signed = __m512i;
    #[inline(always)]
    fn signed(self, stored: &[u8; 4 * LANES]) -> __m512i {
        bytemuck::cast(*stored)
    }
    #[inline(always)]
    fn signed_start(self, shift: i32) -> __m512i {
        self.avx512f._mm512_set1_epi32(shift)
    }
    #[inline(always)]
    fn signed_dot(self, acc: __m512i, weights: __m512i, a: i32) -> __m512i {
        self.dot(acc, weights, a)
    }
}

impl Lanes for V4 {
    avx512_lanes!();
    /// `maddubs` then `madd`: the pair sums fit in 16 bits (at most
    /// 2 × 63 × 128).
    #[inline(always)]
    fn dot(self, acc: __m512i, unsigned: __m512i, a: i32) -> __m512i {
        let (f, bw) = (self.avx512f, self.avx512bw);
        let a = f._mm512_set1_epi32(a);
        let pairs = bw._mm512_maddubs_epi16(unsigned, a);
        f._mm512_add_epi32(acc, bw._mm512_madd_epi16(pairs, f._mm512_set1_epi16(1)))
    }
    /// `maddubs` needs one unsigned side: the weights' magnitudes, and
    /// where they are negative, the mask that moves their sign onto the
    /// token's bytes (pair sums at most 2 × 128 × 127).
    type Signed = (__m512i, u64);
    #[inline(always)]
    fn signed(self, stored: &[u8; 4 * LANES]) -> (__m512i, u64) {
        let (f, bw) = (self.avx512f, self.avx512bw);
        let weights = f._mm512_xor_si512(bytemuck::cast(*stored), f._mm512_set1_epi8(i8::MIN));
        (bw._mm512_abs_epi8(weights), bw._mm512_movepi8_mask(weights))
    }
    #[inline(always)]
    fn signed_start(self, _shift: i32) -> __m512i {
        self.avx512f._mm512_setzero_si512()
    }
    #[inline(always)]
    fn signed_dot(self, acc: __m512i, (magnitudes, negative): (__m512i, u64), a: i32) -> __m512i {
        let (f, bw) = (self.avx512f, self.avx512bw);
        let a = f._mm512_set1_epi32(a);
        let signed = bw._mm512_mask_sub_epi8(a, negative, f._mm512_setzero_si512(), a);
        let pairs = bw._mm512_maddubs_epi16(magnitudes, signed);
        f._mm512_add_epi32(acc, bw._mm512_madd_epi16(pairs, f._mm512_set1_epi16(1)))
    }
}

impl Lanes for V3 {
    /// Two 256-bit registers: rows 0–7 and 8–15.
    type Int = [__m256i; 2];
    type Float = [__m256; 2];
    #[inline(always)]
    fn zero_int(self) -> [__m256i; 2] {
        [self.avx._mm256_setzero_si256(); 2]
    }
    #[inline(always)]
    fn zero_float(self) -> [__m256; 2] {
        [self.avx._mm256_setzero_ps(); 2]
    }
    #[inline(always)]
    fn bytes(self, bytes: &[u8; 4 * LANES]) -> [__m256i; 2] {
        bytemuck::cast(*bytes)
    }
    #[inline(always)]
    fn floats(self, values: &[f32; LANES]) -> [__m256; 2] {
        bytemuck::cast(*values)
    }
    #[inline(always)]
    fn nibbles(self, bytes: [__m256i; 2]) -> ([__m256i; 2], [__m256i; 2]) {
        let (avx, avx2) = (self.avx, self.avx2);
        let mask = avx._mm256_set1_epi8(0x0F);
        let shifted = [
            avx2._mm256_srli_epi16::<4>(bytes[0]),
            avx2._mm256_srli_epi16::<4>(bytes[1]),
        ];
        (
            [
                avx2._mm256_and_si256(bytes[0], mask),
                avx2._mm256_and_si256(bytes[1], mask),
            ],
            [
                avx2._mm256_and_si256(shifted[0], mask),
                avx2._mm256_and_si256(shifted[1], mask),
            ],
        )
    }
    #[inline(always)]
    fn dot(self, acc: [__m256i; 2], unsigned: [__m256i; 2], a: i32) -> [__m256i; 2] {
        let (avx, avx2) = (self.avx, self.avx2);
        let a = avx._mm256_set1_epi32(a);
        let ones = avx._mm256_set1_epi16(1);
        let pairs = [
            avx2._mm256_maddubs_epi16(unsigned[0], a),
            avx2._mm256_maddubs_epi16(unsigned[1], a),
        ];
        [
            avx2._mm256_add_epi32(acc[0], avx2._mm256_madd_epi16(pairs[0], ones)),
            avx2._mm256_add_epi32(acc[1], avx2._mm256_madd_epi16(pairs[1], ones)),
        ]
    }
    #[inline(always)]
    fn scaled_add(
        self,
        acc: [__m256; 2],
        sums: [__m256i; 2],
        scales: [__m256; 2],
        d: f32,
    ) -> [__m256; 2] {
        let (avx, fma) = (self.avx, self.fma);
        let d = avx._mm256_set1_ps(d);
        let d = [
            avx._mm256_mul_ps(scales[0], d),
            avx._mm256_mul_ps(scales[1], d),
        ];
        [
            fma._mm256_fmadd_ps(avx._mm256_cvtepi32_ps(sums[0]), d[0], acc[0]),
            fma._mm256_fmadd_ps(avx._mm256_cvtepi32_ps(sums[1]), d[1], acc[1]),
        ]
    }
    #[inline(always)]
    fn add(self, a: [__m256; 2], b: [__m256; 2]) -> [__m256; 2] {
        [
            self.avx._mm256_add_ps(a[0], b[0]),
            self.avx._mm256_add_ps(a[1], b[1]),
        ]
    }
    #[inline(always)]
    fn subtract(self, acc: [__m256; 2], values: [__m256; 2], term: f32) -> [__m256; 2] {
        let term = self.avx._mm256_set1_ps(term);
        [
            self.fma._mm256_fnmadd_ps(values[0], term, acc[0]),
            self.fma._mm256_fnmadd_ps(values[1], term, acc[1]),
        ]
    }
    #[inline(always)]
    fn offset_scaled_add(
        self,
        acc: [__m256; 2],
        sums: [__m256i; 2],
        offset: f32,
        scales: [__m256; 2],
        d: f32,
    ) -> [__m256; 2] {
        let (avx, fma) = (self.avx, self.fma);
        let (d, offset) = (avx._mm256_set1_ps(d), avx._mm256_set1_ps(offset));
        let d = [
            avx._mm256_mul_ps(scales[0], d),
            avx._mm256_mul_ps(scales[1], d),
        ];
        let sums = [
            avx._mm256_sub_ps(avx._mm256_cvtepi32_ps(sums[0]), offset),
            avx._mm256_sub_ps(avx._mm256_cvtepi32_ps(sums[1]), offset),
        ];
        [
            fma._mm256_fmadd_ps(sums[0], d[0], acc[0]),
            fma._mm256_fmadd_ps(sums[1], d[1], acc[1]),
        ]
    }
    #[inline(always)]
    fn lanes(self, v: [__m256; 2]) -> [f32; LANES] {
        bytemuck::cast(v)
    }
    /// AVX2 has no conversion from f16 (that is F16C): one at a time.
    #[inline(always)]
    fn halves(self, bits: &[u16; LANES]) -> [__m256; 2] {
        let mut values = [0f32; LANES];
        for (value, &bits) in values.iter_mut().zip(bits) {
            *value = f16::from_bits(bits).to_f32();
        }
        bytemuck::cast(values)
    }
    /// The weights' magnitudes and the weights, whose signs `sign_epi8`
    /// moves onto the token's bytes.
    type Signed = ([__m256i; 2], [__m256i; 2]);
    #[inline(always)]
    fn signed(self, stored: &[u8; 4 * LANES]) -> Self::Signed {
        let (avx, avx2) = (self.avx, self.avx2);
        let stored: [__m256i; 2] = bytemuck::cast(*stored);
        let flip = avx._mm256_set1_epi8(i8::MIN);
        let weights = [
            avx2._mm256_xor_si256(stored[0], flip),
            avx2._mm256_xor_si256(stored[1], flip),
        ];
        (
            [
                avx2._mm256_abs_epi8(weights[0]),
                avx2._mm256_abs_epi8(weights[1]),
            ],
            weights,
        )
    }
    #[inline(always)]
    fn signed_start(self, _shift: i32) -> [__m256i; 2] {
        self.zero_int()
    }
    #[inline(always)]
    fn signed_dot(
        self,
        acc: [__m256i; 2],
        (magnitudes, weights): Self::Signed,
        a: i32,
    ) -> [__m256i; 2] {
        let (avx, avx2) = (self.avx, self.avx2);
        let a = avx._mm256_set1_epi32(a);
        let ones = avx._mm256_set1_epi16(1);
        let mut out = acc;
        for h in 0..2 {
            let signed = avx2._mm256_sign_epi8(a, weights[h]);
            let pairs = avx2._mm256_maddubs_epi16(magnitudes[h], signed);
            out[h] = avx2._mm256_add_epi32(acc[h], avx2._mm256_madd_epi16(pairs, ones));
        }
        out
    }
}
