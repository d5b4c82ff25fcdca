//! Q4_K and Q6_K matrix products on AVX-512 or AVX2, giving the same bits
//! as candle's tiled kernels.
//!
//! The model's output projections (Q4_K) and feed-forward down projections
//! (half Q4_K, half Q6_K) are an eighth of its weights. candle 0.11 already
//! multiplies them in tiles of sixteen rows, one row per vector lane, but
//! around its tiles it quantizes the activations to Q8_K with scalar code
//! (`f32::round` per value), wraps each product in tensors, and keeps the
//! per-token sums of a tile, indexed by a run-time token count, in memory.
//! In a profile of four conversations on two cores of an AMD EPYC (Zen 4),
//! its K-quant products took 15 % of the samples (2.5 points of it
//! quantizing) for 13 % of the weights; our Q8_0 kernel 60 % for 87 %.
//!
//! This kernel keeps candle's arithmetic exactly, so answers cannot
//! change: activations quantized per 256 values with candle's rule, exact
//! integer sums of each sub-block's products, and for each row one fused
//! multiply-add per sub-block in order (Q4_K subtracts its minima with a
//! second one, Q6_K its offset of 32 before). The schedule is ours:
//! quantization sixteen values at a time, the token count a constant of
//! each tile body (1 to 4) so that sums and accumulators live in
//! registers, and the work cut into ranges of tiles on the model's threads.
//! The GGUF's blocks are dropped once repacked (candle kept both).
//!
//! Same machine, each product alone, best of five, candle → ours: Q4_K
//! 2048 → 640 at 1 token 17.1 → 9.3 µs, 4 tokens 36.6 → 21.4 µs, 512
//! tokens 4.3 → 2.5 ms; Q6_K 2048 → 640 at 1 token (which candle takes as
//! two, see `weights`) 24.6 → 12.4 µs, 4 tokens 40.8 → 23.5 µs, 512 tokens
//! 5.3 → 3.0 ms.
//!
//! Must not depend on the model: it is plain arithmetic on slices.

use std::arch::x86_64::{__m512, _CMP_EQ_OQ};
use std::sync::Mutex;

use bytemuck::Zeroable;

use candle_core::quantized::{GgmlDType, QTensor};
use half::f16;
use pulp::x86::V4;

use super::activations::round_to_bytes;
use super::cpu::{on_widest, Simd};
use super::sixteen_rows::{lanes_of, on_tile_ranges, Lanes, LANES};
use super::vnni::V4Vnni;
use crate::llm::ops::{lock, on_model_threads};

/// Values per K-quant super-block (and per Q8_K activation block).
const SUPER: usize = 256;
/// Most tokens per tile.
const TOKENS: usize = 4;
/// Multiply-adds below which one thread does the whole product: waking
/// the other costs more than it saves (the Q8_0 kernel's threshold).
const SMALL_WORK: usize = 1 << 17;
/// Tokens from which the activations are quantized on every thread.
const PARALLEL_QUANTIZATION: usize = 16;
/// Bytes of a Q4_K block in GGUF: f16 scale and minimum scale, twelve
/// bytes of 6-bit sub-block scales and minima, 128 bytes of nibbles.
const Q4K_BYTES: usize = 144;
/// Bytes of a Q6_K block in GGUF: 128 bytes of low nibbles, 64 of high
/// bit pairs, sixteen signed 8-bit sub-block scales, f16 scale.
const Q6K_BYTES: usize = 210;

/// Sixteen rows' share of one Q4_K super-block.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Q4Tile {
    /// Per sub-block of 32 values, each row's scale × its sub-block scale
    /// (exact in f32: an f16 times a 6-bit integer).
    scales: [[f32; LANES]; 8],
    /// The same for the minima.
    mins: [[f32; LANES]; 8],
    /// Per group of eight values, each row's four bytes: byte `j` holds
    /// value `j` in its low nibble and value `j + 4` in its high one.
    nibbles: [[u8; 4 * LANES]; SUPER / 8],
}

/// Sixteen rows' share of one Q6_K super-block.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Q6Tile {
    /// Per sub-block of 16 values, each row's scale × its sub-block scale.
    scales: [[f32; LANES]; 16],
    /// Per group of four values, each row's four values plus 32 (0..=63).
    values: [[u8; 4 * LANES]; SUPER / 4],
}

/// A matrix's tiles: row-tile major, then super-block.
enum Tiles {
    Q4(Vec<Q4Tile>),
    Q6(Vec<Q6Tile>),
}

/// One token's 256 activations quantized as candle's `BlockQ8K::from_float`
/// quantizes them, with the per-sub-block terms the tiles need.
#[derive(Clone, Copy, bytemuck::Zeroable)]
#[repr(C)]
struct Q8K {
    values: [i8; SUPER],
    scale: f32,
    /// Q4_K: `scale × the sum of each 32 values`, which the minima multiply.
    min_terms: [f32; 8],
    /// Q6_K: `32 × the sum of each 16 values`, the values' offset.
    offsets: [f32; 16],
}

impl Q8K {
    /// Values `4 q..4 q + 4` as one little-endian word, to broadcast.
    #[inline(always)]
    fn quad(&self, q: usize) -> i32 {
        let (quads, _) = self.values.as_chunks::<4>();
        i32::from_le_bytes(quads[q].map(|v| v as u8))
    }
}

/// A Q4_K or Q6_K matrix, `rows × cols`, repacked into tiles at load.
pub(crate) struct KMatrix {
    tiles: Tiles,
    rows: usize,
    supers: usize,
    simd: Simd,
    /// Used instead of `simd`'s AVX-512 sums when present.
    vnni: Option<V4Vnni>,
}

impl KMatrix {
    /// The kernel over a `(rows, cols)` Q4_K or Q6_K tensor. `None` when
    /// the CPU has neither AVX-512 nor AVX2, or the tensor is not such a
    /// matrix with rows in sixteens.
    pub(crate) fn new(tensor: &QTensor) -> Option<Self> {
        Self::with_simd(tensor, super::cpu::simd()?, super::cpu::vnni())
    }

    /// The kernel on given instruction sets (tests force each one).
    fn with_simd(tensor: &QTensor, simd: Simd, vnni: Option<V4Vnni>) -> Option<Self> {
        let (rows, cols) = tensor.shape().dims2().ok()?;
        if rows == 0 || !rows.is_multiple_of(LANES) || !cols.is_multiple_of(SUPER) {
            return None;
        }
        let supers = cols / SUPER;
        let bytes = tensor.data().ok()?;
        let tiles = match tensor.dtype() {
            GgmlDType::Q4K if bytes.len() == rows * supers * Q4K_BYTES => {
                Tiles::Q4(tile_rows(&bytes, rows, supers, Q4K_BYTES, pack_q4))
            }
            GgmlDType::Q6K if bytes.len() == rows * supers * Q6K_BYTES => {
                Tiles::Q6(tile_rows(&bytes, rows, supers, Q6K_BYTES, pack_q6))
            }
            _ => return None,
        };
        Some(Self {
            tiles,
            rows,
            supers,
            simd,
            vnni,
        })
    }

    /// Bytes held by the tiles.
    pub(crate) fn bytes(&self) -> usize {
        match &self.tiles {
            Tiles::Q4(tiles) => std::mem::size_of_val(tiles.as_slice()),
            Tiles::Q6(tiles) => std::mem::size_of_val(tiles.as_slice()),
        }
    }

    /// `x` (`tokens` rows of `cols` values) times the matrix transposed:
    /// `tokens` rows of `rows` values.
    pub(crate) fn apply(&self, x: &[f32], tokens: usize) -> candle_core::Result<Vec<f32>> {
        if x.len() != tokens * self.supers * SUPER {
            return Err(candle_core::Error::Msg(format!(
                "K-quant product: {} inputs for {tokens} tokens of {}",
                x.len(),
                self.supers * SUPER
            )));
        }
        let threads = rayon::current_num_threads().max(1);
        let mut activations = vec![Q8K::zeroed(); tokens * self.supers];
        if threads > 1 && tokens >= PARALLEL_QUANTIZATION {
            // Prompts: on one thread, quantizing took about 15 % of a
            // 512-token product.
            let per_task = tokens.div_ceil(threads) * self.supers;
            let parts: Vec<Mutex<&mut [Q8K]>> =
                activations.chunks_mut(per_task).map(Mutex::new).collect();
            on_model_threads(parts.len(), |task| {
                let mut part = lock(&parts[task]);
                let start = task * per_task * SUPER;
                self.quantize_into(&x[start..start + part.len() * SUPER], &mut part);
            });
        } else {
            self.quantize_into(x, &mut activations);
        }
        let mut out = vec![0f32; tokens * self.rows];
        let mut token_rows: Vec<&mut [f32]> = out.chunks_mut(self.rows).collect();
        let tile_rows = self.rows / LANES;
        if threads == 1 || tokens * self.rows * self.supers * SUPER < SMALL_WORK {
            self.tiles_times_tokens(&activations, 0..tile_rows, &mut token_rows);
        } else {
            on_tile_ranges(tile_rows, self.rows, &mut token_rows, |tiles, out| {
                self.tiles_times_tokens(&activations, tiles, out);
            });
        }
        drop(token_rows);
        Ok(out)
    }

    /// Quantizes each token's values per 256 (see [`Q8K`]) into `out`.
    fn quantize_into(&self, x: &[f32], out: &mut [Q8K]) {
        let (blocks, _) = x.as_chunks::<SUPER>();
        // Loops, not iterator adapters: a closure that is not inlined is
        // compiled without the instruction set, and its intrinsics become
        // calls.
        match self.simd {
            Simd::Avx512(simd) => simd.vectorize(
                #[inline(always)]
                || {
                    for (block, out) in blocks.iter().zip(out) {
                        *out = quantize_avx512(simd, block);
                    }
                },
            ),
            Simd::Avx2(simd) => simd.vectorize(
                #[inline(always)]
                || {
                    for (block, out) in blocks.iter().zip(out) {
                        *out = quantize_portably(block);
                    }
                },
            ),
        }
    }

    /// Tile rows `tiles` (of sixteen rows each) times every token, written
    /// to `out[token][row - 16 × tiles.start]`.
    fn tiles_times_tokens(
        &self,
        activations: &[Q8K],
        tiles: std::ops::Range<usize>,
        out: &mut [&mut [f32]],
    ) {
        on_widest!(self.vnni, self.simd, |simd| {
            self.tiles_on(simd, activations, tiles, out)
        });
    }

    /// The body of [`tiles_times_tokens`](Self::tiles_times_tokens) on one
    /// instruction set: each tile against tokens four at a time, so the
    /// tile's weights are read from cache for all of them.
    #[inline(always)]
    fn tiles_on<S: Lanes>(
        &self,
        simd: S,
        activations: &[Q8K],
        tiles: std::ops::Range<usize>,
        out: &mut [&mut [f32]],
    ) {
        let first_tile = tiles.start;
        for tile in tiles {
            let column = (tile - first_tile) * LANES;
            let mut token = 0;
            while token < out.len() {
                let at = (tile, token, column);
                token += match out.len() - token {
                    1 => self.tile_into::<S, 1>(simd, activations, at, out),
                    2 => self.tile_into::<S, 2>(simd, activations, at, out),
                    3 => self.tile_into::<S, 3>(simd, activations, at, out),
                    _ => self.tile_into::<S, TOKENS>(simd, activations, at, out),
                };
            }
        }
    }

    /// Tile row `tile` against tokens `token..token + T`, written at
    /// `column` of their output rows; returns `T`.
    #[inline(always)]
    fn tile_into<S: Lanes, const T: usize>(
        &self,
        simd: S,
        activations: &[Q8K],
        (tile, token, column): (usize, usize, usize),
        out: &mut [&mut [f32]],
    ) -> usize {
        let supers = self.supers;
        let acts = &activations[token * supers..];
        let sums = match &self.tiles {
            Tiles::Q4(tiles) => q4_tile::<S, T>(simd, &tiles[tile * supers..], acts, supers),
            Tiles::Q6(tiles) => q6_tile::<S, T>(simd, &tiles[tile * supers..], acts, supers),
        };
        for (t, lanes) in sums.iter().enumerate() {
            out[token + t][column..column + LANES].copy_from_slice(lanes);
        }
        T
    }
}

/// Packs a matrix's blocks (`rows × supers`, `size` bytes each) into tiles
/// of sixteen rows per super-block.
fn tile_rows<T: bytemuck::Zeroable + Copy>(
    bytes: &[u8],
    rows: usize,
    supers: usize,
    size: usize,
    pack: fn(&mut T, usize, &[u8]),
) -> Vec<T> {
    let mut tiles = vec![T::zeroed(); rows / LANES * supers];
    for (row, blocks) in bytes.chunks_exact(supers * size).enumerate() {
        for (s, block) in blocks.chunks_exact(size).enumerate() {
            pack(&mut tiles[row / LANES * supers + s], row % LANES, block);
        }
    }
    tiles
}

/// ggml's 6-bit scale and minimum of Q4_K sub-block `j`.
fn q4_scale_and_min(j: usize, packed: &[u8]) -> (u8, u8) {
    if j < 4 {
        (packed[j] & 63, packed[j + 4] & 63)
    } else {
        (
            (packed[j + 4] & 0x0F) | ((packed[j - 4] >> 6) << 4),
            (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4),
        )
    }
}

/// Lane `lane` of a Q4_K tile from one GGUF block.
fn pack_q4(tile: &mut Q4Tile, lane: usize, block: &[u8]) {
    let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
    let dmin = f16::from_le_bytes([block[2], block[3]]).to_f32();
    let (packed, nibbles) = block[4..].split_at(12);
    for sub in 0..8 {
        let (scale, min) = q4_scale_and_min(sub, packed);
        tile.scales[sub][lane] = d * f32::from(scale);
        tile.mins[sub][lane] = dmin * f32::from(min);
    }
    // Each 32 bytes hold 64 values: the first 32 in the low nibbles.
    let mut values = [0u8; SUPER];
    for (c, chunk) in nibbles.chunks_exact(32).enumerate() {
        for (j, &byte) in chunk.iter().enumerate() {
            values[64 * c + j] = byte & 0x0F;
            values[64 * c + 32 + j] = byte >> 4;
        }
    }
    for (g, group) in tile.nibbles.iter_mut().enumerate() {
        for j in 0..4 {
            group[4 * lane + j] = values[8 * g + j] | (values[8 * g + j + 4] << 4);
        }
    }
}

/// Lane `lane` of a Q6_K tile from one GGUF block.
fn pack_q6(tile: &mut Q6Tile, lane: usize, block: &[u8]) {
    let (low, rest) = block.split_at(128);
    let (high, rest) = rest.split_at(64);
    let (scales, d) = rest.split_at(16);
    let d = f16::from_le_bytes([d[0], d[1]]).to_f32();
    for (sub, &scale) in scales.iter().enumerate() {
        tile.scales[sub][lane] = d * f32::from(scale as i8);
    }
    // Two halves of 128 values; in each, 64 bytes of nibbles and 32 of
    // bit pairs give four runs of 32.
    let mut values = [0u8; SUPER];
    for h in 0..2 {
        let (low, high) = (&low[64 * h..], &high[32 * h..]);
        let out = &mut values[128 * h..];
        for j in 0..32 {
            out[j] = (low[j] & 0x0F) | ((high[j] & 3) << 4);
            out[j + 32] = (low[j + 32] & 0x0F) | (((high[j] >> 2) & 3) << 4);
            out[j + 64] = (low[j] >> 4) | (((high[j] >> 4) & 3) << 4);
            out[j + 96] = (low[j + 32] >> 4) | (((high[j] >> 6) & 3) << 4);
        }
    }
    for (g, group) in tile.values.iter_mut().enumerate() {
        group[4 * lane..4 * lane + 4].copy_from_slice(&values[4 * g..4 * g + 4]);
    }
}

/// One Q4_K tile row against `T` tokens over every super-block.
#[inline(always)]
fn q4_tile<S: Lanes, const T: usize>(
    simd: S,
    tiles: &[Q4Tile],
    acts: &[Q8K],
    supers: usize,
) -> [[f32; LANES]; T] {
    let mut acc = [simd.zero_float(); T];
    for (s, tile) in tiles[..supers].iter().enumerate() {
        let token: [&Q8K; T] = std::array::from_fn(|t| &acts[t * supers + s]);
        // Two sub-blocks at a time: twice the independent sums, so the
        // products' latency is hidden at one token.
        for pair in 0..4 {
            let mut sums = [[simd.zero_int(); T]; 2];
            for g in 0..4 {
                for (half, sums) in sums.iter_mut().enumerate() {
                    let sub = 2 * pair + half;
                    let (low, high) = simd.nibbles(simd.bytes(&tile.nibbles[4 * sub + g]));
                    let quad = 8 * sub + 2 * g;
                    for t in 0..T {
                        sums[t] = simd.dot(sums[t], low, token[t].quad(quad));
                        sums[t] = simd.dot(sums[t], high, token[t].quad(quad + 1));
                    }
                }
            }
            for (half, sums) in sums.iter().enumerate() {
                let sub = 2 * pair + half;
                let scales = simd.floats(&tile.scales[sub]);
                let mins = simd.floats(&tile.mins[sub]);
                for t in 0..T {
                    acc[t] = simd.scaled_add(acc[t], sums[t], scales, token[t].scale);
                    acc[t] = simd.subtract(acc[t], mins, token[t].min_terms[sub]);
                }
            }
        }
    }
    lanes_of(simd, acc)
}

/// One Q6_K tile row against `T` tokens over every super-block.
#[inline(always)]
fn q6_tile<S: Lanes, const T: usize>(
    simd: S,
    tiles: &[Q6Tile],
    acts: &[Q8K],
    supers: usize,
) -> [[f32; LANES]; T] {
    let mut acc = [simd.zero_float(); T];
    for (s, tile) in tiles[..supers].iter().enumerate() {
        let token: [&Q8K; T] = std::array::from_fn(|t| &acts[t * supers + s]);
        for pair in 0..8 {
            let mut sums = [[simd.zero_int(); T]; 2];
            for g in 0..4 {
                for (half, sums) in sums.iter_mut().enumerate() {
                    let sub = 2 * pair + half;
                    let w = simd.bytes(&tile.values[4 * sub + g]);
                    for t in 0..T {
                        sums[t] = simd.dot(sums[t], w, token[t].quad(4 * sub + g));
                    }
                }
            }
            for (half, sums) in sums.iter().enumerate() {
                let sub = 2 * pair + half;
                let scales = simd.floats(&tile.scales[sub]);
                for t in 0..T {
                    acc[t] = simd.offset_scaled_add(
                        acc[t],
                        sums[t],
                        token[t].offsets[sub],
                        scales,
                        token[t].scale,
                    );
                }
            }
        }
    }
    lanes_of(simd, acc)
}

/// candle's Q8_K rule: the scale is set by the value of largest magnitude
/// (the first, on ties), `iscale = −127 / that value`, each value
/// `round(iscale × x)` (half away from zero) and the stored scale
/// `1 / iscale`.
#[inline(always)]
fn finish_q8k(values: [i8; SUPER], scale: f32) -> Q8K {
    let (groups, _) = values.as_chunks::<16>();
    let sums: [i32; 16] =
        std::array::from_fn(|g| groups[g].iter().map(|&v| i32::from(v)).sum::<i32>());
    Q8K {
        values,
        scale,
        min_terms: std::array::from_fn(|s| scale * (sums[2 * s] + sums[2 * s + 1]) as f32),
        offsets: sums.map(|sum| 32.0 * sum as f32),
    }
}

/// [`finish_q8k`]'s rule on AVX-512, sixteen values at a time.
#[inline(always)]
fn quantize_avx512(simd: V4, x: &[f32; SUPER]) -> Q8K {
    let f = simd.avx512f;
    let (chunks, _) = x.as_chunks::<LANES>();
    let chunks: [__m512; SUPER / LANES] = std::array::from_fn(|c| bytemuck::cast(chunks[c]));
    let mut largest = f._mm512_setzero_ps();
    for &chunk in &chunks {
        largest = f._mm512_max_ps(largest, f._mm512_abs_ps(chunk));
    }
    let amax = f._mm512_reduce_max_ps(largest);
    if amax == 0.0 || amax.is_nan() {
        return quantize_portably(x);
    }
    let target = f._mm512_set1_ps(amax);
    let mut first = 0;
    for (c, &chunk) in chunks.iter().enumerate() {
        let hits = f._mm512_cmp_ps_mask::<_CMP_EQ_OQ>(f._mm512_abs_ps(chunk), target);
        if hits != 0 {
            first = LANES * c + hits.trailing_zeros() as usize;
            break;
        }
    }
    let iscale = -127.0 / x[first];
    let scaled = f._mm512_set1_ps(iscale);
    let mut values = [0i8; SUPER];
    for (c, &chunk) in chunks.iter().enumerate() {
        let bytes: [i8; LANES] =
            // In −127..=127: |iscale × x| ≤ 127 × (1 + 2⁻²³)², so candle's
            // clamp never bites.
            bytemuck::cast(round_to_bytes(simd, f._mm512_mul_ps(chunk, scaled)));
        values[LANES * c..LANES * (c + 1)].copy_from_slice(&bytes);
    }
    finish_q8k(values, 1.0 / iscale)
}

/// candle's `BlockQ8K::from_float`, left to the compiler (AVX2, and the
/// AVX-512 body's all-zero or not-a-number blocks).
#[inline(always)]
fn quantize_portably(x: &[f32; SUPER]) -> Q8K {
    let mut max = 0f32;
    let mut amax = 0f32;
    for &v in x {
        if amax < v.abs() {
            amax = v.abs();
            max = v;
        }
    }
    if amax == 0.0 {
        return finish_q8k([0; SUPER], 0.0);
    }
    let iscale = -127.0 / max;
    let values = std::array::from_fn(|i| (iscale * x[i]).round().clamp(-128.0, 127.0) as i8);
    finish_q8k(values, 1.0 / iscale)
}

#[cfg(test)]
mod tests {
    use super::super::cpu::every_instruction_set;
    use super::*;
    use candle_core::quantized::QMatMul;
    use candle_core::{Device, Module, Tensor};

    /// candle's Q8_K blocks of `x`, read back from its storage: scale,
    /// 256 values, sixteen sums.
    fn candle_q8k(x: &[f32]) -> Vec<(f32, Vec<i8>)> {
        let q = QTensor::quantize(
            &Tensor::from_slice(x, x.len(), &Device::Cpu).unwrap(),
            GgmlDType::Q8K,
        )
        .unwrap();
        let bytes = q.data().unwrap();
        bytes
            .chunks_exact(4 + SUPER + 32)
            .map(|b| {
                let scale = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                (scale, b[4..4 + SUPER].iter().map(|&v| v as i8).collect())
            })
            .collect()
    }

    /// The arithmetic every path must reproduce, one row and token at a
    /// time: what candle's tiles compute in each lane.
    fn reference(matrix: &KMatrix, acts: &[Q8K], row: usize, token: usize) -> f32 {
        let supers = matrix.supers;
        let (tile, lane) = (row / LANES, row % LANES);
        let mut acc = 0f32;
        for s in 0..supers {
            let a = &acts[token * supers + s];
            match &matrix.tiles {
                Tiles::Q4(tiles) => {
                    let t = &tiles[tile * supers + s];
                    for sub in 0..8 {
                        let mut sum = 0i32;
                        for g in 4 * sub..4 * sub + 4 {
                            for j in 0..4 {
                                let byte = t.nibbles[g][4 * lane + j];
                                sum += i32::from(byte & 0x0F) * i32::from(a.values[8 * g + j]);
                                sum += i32::from(byte >> 4) * i32::from(a.values[8 * g + j + 4]);
                            }
                        }
                        acc = (sum as f32).mul_add(t.scales[sub][lane] * a.scale, acc);
                        acc = (-t.mins[sub][lane]).mul_add(a.min_terms[sub], acc);
                    }
                }
                Tiles::Q6(tiles) => {
                    let t = &tiles[tile * supers + s];
                    for sub in 0..16 {
                        let sum: i32 = (16 * sub..16 * sub + 16)
                            .map(|i| {
                                i32::from(t.values[i / 4][4 * lane + i % 4])
                                    * i32::from(a.values[i])
                            })
                            .sum();
                        acc = (sum as f32 - a.offsets[sub])
                            .mul_add(t.scales[sub][lane] * a.scale, acc);
                    }
                }
            }
        }
        acc
    }

    fn quantized(matrix: &KMatrix, x: &[f32]) -> Vec<Q8K> {
        let mut out = vec![Q8K::zeroed(); x.len() / SUPER];
        matrix.quantize_into(x, &mut out);
        out
    }

    fn same(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn products_are_candles_bit_for_bit_on_every_instruction_set() {
        // candle's tiled kernels (AVX2 or AVX-512 VNNI; not its AMX one,
        // from 32 tokens) compute the reference's arithmetic; a build
        // without them sums in another order.
        let candle_tiles = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        for dtype in [GgmlDType::Q4K, GgmlDType::Q6K] {
            for (rows, cols) in [(640, 2048), (48, 256), (16, 1024)] {
                let dense = Tensor::randn(0f32, 1.0, (rows, cols), &Device::Cpu).unwrap();
                let q = std::sync::Arc::new(QTensor::quantize(&dense, dtype).unwrap());
                let candle = QMatMul::from_arc(q.clone()).unwrap();
                for (simd, vnni) in every_instruction_set() {
                    let ours = KMatrix::with_simd(&q, simd, vnni).unwrap();
                    for tokens in [1, 2, 3, 4, 5, 7, 9, 31] {
                        let x = Tensor::randn(0f32, 2.0, (tokens, cols), &Device::Cpu).unwrap();
                        let input: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
                        let got = ours.apply(&input, tokens).unwrap();
                        let acts = quantized(&ours, &input);
                        let expected: Vec<f32> = (0..tokens)
                            .flat_map(|t| (0..rows).map(move |r| (r, t)))
                            .map(|(r, t)| reference(&ours, &acts, r, t))
                            .collect();
                        let case = format!("{dtype:?} {simd:?} {vnni:?} {rows}×{cols}, {tokens}");
                        assert!(same(&got, &expected), "{case}: not the reference");
                        // candle takes another kernel for one token of Q6_K.
                        if candle_tiles && (tokens > 1 || dtype == GgmlDType::Q4K) {
                            let by_candle: Vec<f32> = candle
                                .forward(&x)
                                .unwrap()
                                .flatten_all()
                                .unwrap()
                                .to_vec1()
                                .unwrap();
                            assert!(same(&got, &by_candle), "{case}: not candle's");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn activations_are_quantized_as_candle_does() {
        let mut x: Vec<f32> = Tensor::randn(0f32, 3.0, 4 * SUPER, &Device::Cpu)
            .unwrap()
            .to_vec1()
            .unwrap();
        // Ties of magnitude (the first wins, here the negative one), exact
        // halves after scaling, a block of zeros.
        x[3] = -10.0;
        x[200] = 10.0;
        for (i, v) in [0.5f32, -0.5, 1.5, -2.5, 0.0].into_iter().enumerate() {
            x[SUPER + i] = v * 10.0 / 127.0;
        }
        x[SUPER + 100] = 10.0;
        x[2 * SUPER..3 * SUPER].fill(0.0);
        let expected = candle_q8k(&x);
        let tensor = QTensor::quantize(
            &Tensor::zeros((16, SUPER), candle_core::DType::F32, &Device::Cpu).unwrap(),
            GgmlDType::Q4K,
        )
        .unwrap();
        for (simd, vnni) in every_instruction_set() {
            let ours = quantized(&KMatrix::with_simd(&tensor, simd, vnni).unwrap(), &x);
            for (block, (scale, values)) in ours.iter().zip(&expected) {
                assert_eq!(block.scale.to_bits(), scale.to_bits(), "{simd:?}");
                assert_eq!(&block.values[..], &values[..], "{simd:?}");
            }
        }
    }

    #[test]
    fn other_types_and_shapes_are_refused() {
        let zeros = |rows, cols| {
            Tensor::zeros((rows, cols), candle_core::DType::F32, &Device::Cpu).unwrap()
        };
        let q8 = QTensor::quantize(&zeros(16, 256), GgmlDType::Q8_0).unwrap();
        assert!(KMatrix::new(&q8).is_none());
        let ragged = QTensor::quantize(&zeros(24, 256), GgmlDType::Q4K).unwrap();
        assert!(KMatrix::new(&ragged).is_none());
    }
}
