//! Q8_0 matrix products on AVX-512 or AVX2, blocked over rows and tokens,
//! giving the same bits as candle's kernel.
//!
//! Every 640-wide matrix of the model (q, k, v, gate, up, and the tied
//! output head, which `q8_0_table` multiplies in another order) is Q8_0,
//! and candle multiplies those one (row, token) pair at a
//! time with 256-bit code: 53–57 % of prompt processing went there. Its
//! faster tiled kernels only take rows that are a multiple of 256 wide and
//! quantize activations per 256 values, which moved logits by up to 0.6.
//!
//! This kernel keeps candle's arithmetic exactly: activations quantized to
//! Q8_0 with the same rule, exact integer sums of each group of four
//! products, one fused multiply-add per block into eight lanes in block
//! order, and the same horizontal sum. What changes is the schedule: a tile
//! of row pairs × tokens shares each weight and activation load (on
//! AVX-512 one register holds the eight lanes of both rows of a pair), the
//! activations are quantized 16 values at a time (candle's scalar rounding
//! was a third of the time on small matrices), and the work runs on
//! candle's own matmul threads. Results are bit-for-bit those of candle on
//! both paths (tested), so answers cannot change. Measured on this 2-core
//! machine against candle, same sitting: 2.2–3.2× on 4 to 512 tokens,
//! 1.7–1.8× on one.
//!
//! `pulp` proves the CPU features once (see `cpu`) and compiles the bodies
//! with them enabled; without AVX2 the caller keeps candle's kernel. With
//! AVX-512 VNNI, one `vpdpbusd` gives each sum of four byte products that
//! plain AVX-512 spends three instructions on (sign transfer, `maddubs`,
//! `madd`): the weights are made unsigned by adding 128, and the sum starts
//! from −128 × the activations' sum, so the integers, and the bits, are
//! the same. In prompt processing, which is bound by these instructions
//! rather than by memory, that is most of the work.
//!
//! Must not depend on the model: it is plain arithmetic on slices.

use std::arch::x86_64::{
    __m256, __m256i, __m512, __m512i, _CMP_GE_OQ, _CMP_GT_OQ, _CMP_LT_OQ, _MM_HINT_T0,
};
use std::sync::{Arc, Mutex};

use super::cpu::{on_widest, Simd};
use super::vnni::V4Vnni;
use crate::llm::ops::{lock, on_model_threads};

use candle_core::quantized::{GgmlDType, QTensor};
use half::f16;
use pulp::x86::{V3, V4};

/// Values per Q8_0 block.
pub(super) const BLOCK: usize = 32;
/// Row pairs per tile. Three, not four: the four-pair, four-token tile
/// holds 16 accumulators and 8 operands of its pairs, more than the 32
/// vector registers leave room for with the tokens' operands, and spilled
/// accumulators to the stack. On two cores of an AMD EPYC (Zen 4, `lscpu`
/// family 25 model 17), seven alternated runs of each build: four
/// conversations 200–243 → 222–251 tokens/s (medians 215 → 239),
/// prompt processing 521–654 → 625–669 tokens/s, one conversation within
/// its noise (medians 100 → 95, single runs 87–106). An earlier session
/// found three and four alike on a Xeon.
const PAIRS: usize = 3;
/// Tokens per tile.
const TOKENS: usize = 4;
/// Fewest row pairs per task when rows, not tokens, are split across
/// threads (decode and small batches).
const PAIRS_PER_TASK: usize = 16;
/// How far ahead of a tile's reads the next ones are announced to the
/// memory system, in bytes. A tile's rows are contiguous, so at each block
/// the kernel announces the matching slice of the bytes this far ahead:
/// one request per cache line. On the 178 MB output head at one token
/// (which this kernel multiplied before `q8_0_table`),
/// two cores of an AMD EPYC (Zen 4), measured in an isolated copy of the
/// kernel, same sitting: no prefetch 17.7–20.3 ms; two requests per row
/// and block, 640 blocks ahead (the former scheme, tuned on a Xeon)
/// 11.3–12.3 ms; this scheme 7.6–9.7 ms at 8 KB (5.7–10.3 ms at 11 KB,
/// 12.3 ms at 2 KB). The requests themselves cost: on a matrix already
/// in cache the former scheme ran at two thirds of the speed of none.
const PREFETCH_BYTES: usize = 8 << 10;
/// A cache line.
const LINE: usize = 64;
/// Matrices up to this size stay in a core's L2 cache between products.
const CACHED_BYTES: usize = 2 << 20;
/// Block products below which one thread does the whole product: waking
/// another costs more than it saves.
const SMALL_WORK_BLOCKS: usize = 1 << 12;

/// A Q8_0 block as GGUF and candle store it.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct Block {
    /// f16, little-endian.
    scale: [u8; 2],
    values: [i8; BLOCK],
}

/// A Q8_0 matrix, `rows × cols`, multiplied in place in candle's storage:
/// no copy.
pub(crate) struct Q8Matrix {
    tensor: Arc<QTensor>,
    rows: usize,
    blocks: usize,
    simd: Simd,
    /// Used instead of `simd`'s AVX-512 tile when present.
    vnni: Option<V4Vnni>,
}

/// The two sides of one product.
#[derive(Clone, Copy)]
struct Operands<'a> {
    matrix: &'a [Block],
    activations: &'a Activations,
}

/// A batch of activations quantized to Q8_0.
pub(super) struct Activations {
    pub(super) values: Vec<[i8; BLOCK]>,
    pub(super) scales: Vec<f32>,
    /// With VNNI, per block, −128 × the sum of each group of four values:
    /// where the weights' sums start (see [`V4Vnni`]'s `ByteSums`). Worked
    /// out once here rather than in every tile of rows that meets the
    /// block: on the output head at a few tokens, which this kernel
    /// multiplied then and which is bound by instructions there, these
    /// were two of about twenty-five per pair and block.
    shifts: Vec<[i32; 8]>,
}

impl Activations {
    /// Each block of `x` quantized as candle's `BlockQ8_0::from_float`
    /// does: scale `amax / 127` stored as f16, values `x / scale` rounded
    /// half away from zero with the unrounded scale. No shifts.
    pub(super) fn quantize(simd: Option<Simd>, x: &[f32]) -> Self {
        let (blocks, _) = x.as_chunks::<BLOCK>();
        let mut out = Activations {
            values: Vec::with_capacity(blocks.len()),
            scales: Vec::with_capacity(blocks.len()),
            shifts: Vec::new(),
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

    /// The blocks and scales of tokens `first..first + T`, each `blocks`
    /// long.
    #[inline(always)]
    fn of_tokens<const T: usize>(&self, first: usize, blocks: usize) -> TokenBlocks<'_, T> {
        (
            std::array::from_fn(|t| &self.values[(first + t) * blocks..][..blocks]),
            std::array::from_fn(|t| &self.scales[(first + t) * blocks..][..blocks]),
        )
    }

    /// The shifts of tokens `first..first + T`, empty where they were not
    /// worked out.
    #[inline(always)]
    fn shifts_of_tokens<const T: usize>(&self, first: usize, blocks: usize) -> [&[[i32; 8]]; T] {
        std::array::from_fn(|t| {
            self.shifts
                .get((first + t) * blocks..(first + t + 1) * blocks)
                .unwrap_or(&[])
        })
    }
}

/// `T` tokens' quantized blocks and their scales.
type TokenBlocks<'a, const T: usize> = ([&'a [[i8; BLOCK]]; T], [&'a [f32]; T]);

/// The lanes of one (row pair, token) product: 0–7 the first row's, 8–15
/// the second's.
type PairLanes = [f32; 16];

impl Q8Matrix {
    /// The kernel over a `(rows, cols)` Q8_0 tensor. `None` when the CPU
    /// has neither AVX-512 nor AVX2 or the tensor is not such a matrix.
    pub(crate) fn new(tensor: Arc<QTensor>) -> Option<Self> {
        Self::with_simd(tensor, super::cpu::simd()?, super::cpu::vnni())
    }

    /// The kernel on given instruction sets (tests force each one).
    fn with_simd(tensor: Arc<QTensor>, simd: Simd, vnni: Option<V4Vnni>) -> Option<Self> {
        let (rows, cols) = tensor.shape().dims2().ok()?;
        if tensor.dtype() != GgmlDType::Q8_0 || rows == 0 || !cols.is_multiple_of(BLOCK) {
            return None;
        }
        let blocks = cols / BLOCK;
        let bytes = tensor.data().ok()?;
        if bytes.len() != rows * blocks * std::mem::size_of::<Block>() {
            return None;
        }
        drop(bytes);
        Some(Self {
            tensor,
            rows,
            blocks,
            simd,
            vnni,
        })
    }
    /// Input values per token.
    pub(crate) fn width(&self) -> usize {
        self.blocks * BLOCK
    }

    /// `x` (`tokens` rows of `cols` values) times the matrix transposed:
    /// `tokens` rows of `rows` values.
    pub(crate) fn apply(&self, x: &[f32], tokens: usize) -> candle_core::Result<Vec<f32>> {
        let mut out = vec![0f32; tokens * self.rows];
        let mut rows: Vec<&mut [f32]> = out.chunks_mut(self.rows).collect();
        let activations = self.quantize(x, tokens);
        let bytes = self.tensor.data()?;
        let operands = Operands {
            matrix: blocks_of(&bytes)?,
            activations: &activations,
        };
        self.apply_quantized(operands, &mut rows);
        Ok(out)
    }

    /// Several matrices of the same width applied to the same `x` (q, k
    /// and v; gate and up): the activations are quantized once and, for a
    /// few tokens, all the matrices' rows are shared out among the threads
    /// in one hand-off instead of one per matrix. Each value is computed
    /// exactly as [`apply`](Self::apply) computes it.
    pub(crate) fn apply_group<const N: usize>(
        matrices: [&Self; N],
        x: &[f32],
        tokens: usize,
    ) -> candle_core::Result<[Vec<f32>; N]> {
        let mut outs: [Vec<f32>; N] = matrices.map(|m| vec![0f32; tokens * m.rows]);
        let Some(first) = matrices.first() else {
            return Ok(outs);
        };
        if matrices.iter().any(|m| m.blocks != first.blocks) {
            return Err(candle_core::Error::Msg(
                "grouped Q8_0 matrices must have the same width".into(),
            ));
        }
        let activations = first.quantize(x, tokens);
        let bytes: Vec<_> = matrices
            .iter()
            .map(|m| m.tensor.data())
            .collect::<candle_core::Result<_>>()?;
        let operands: Vec<Operands<'_>> = bytes
            .iter()
            .map(|bytes| {
                Ok(Operands {
                    matrix: blocks_of(bytes)?,
                    activations: &activations,
                })
            })
            .collect::<candle_core::Result<_>>()?;
        let mut rows: Vec<Vec<&mut [f32]>> = matrices
            .iter()
            .zip(outs.iter_mut())
            .map(|(m, out)| out.chunks_mut(m.rows).collect())
            .collect();
        let blocks = first.blocks * matrices.iter().map(|m| m.rows).sum::<usize>();
        let threads = rayon::current_num_threads().max(1);
        if threads == 1 || tokens * blocks < SMALL_WORK_BLOCKS || by_tokens(tokens, blocks) {
            for ((m, operands), rows) in matrices.iter().zip(&operands).zip(&mut rows) {
                m.apply_quantized(*operands, rows);
            }
        } else {
            let total_pairs: usize = matrices.iter().map(|m| m.rows.div_ceil(2)).sum();
            let per_task = pairs_per_task(total_pairs);
            let tasks: Vec<RowTask<'_, '_>> = matrices
                .iter()
                .zip(&operands)
                .zip(&mut rows)
                .flat_map(|((m, operands), rows)| m.row_tasks(*operands, rows, per_task))
                .collect();
            run_row_tasks(&tasks, tokens);
        }
        drop(rows);
        Ok(outs)
    }

    /// The product of quantized activations, split among the threads.
    fn apply_quantized(&self, operands: Operands<'_>, out: &mut [&mut [f32]]) {
        let tokens = out.len();
        let rows = self.rows;
        let pairs = rows.div_ceil(2);
        let threads = rayon::current_num_threads().max(1);
        if threads == 1 || rows * tokens * self.blocks < SMALL_WORK_BLOCKS {
            self.pairs_times_tokens(operands, 0..pairs, 0, tokens, |r, t, v| out[t][r] = v);
        } else if by_tokens(tokens, rows * self.blocks) {
            // Prompt processing: each task takes whole tokens and walks
            // every row once. Each thread then reads the whole matrix: fine
            // from its cache or with many tokens to share the read, not for
            // a large matrix under a few tokens, which is memory-bound.
            let per_task = tokens.div_ceil(threads).next_multiple_of(TOKENS);
            let parts: Vec<Mutex<&mut [&mut [f32]]>> =
                out.chunks_mut(per_task).map(Mutex::new).collect();
            on_model_threads(parts.len(), |task| {
                let mut out = lock(&parts[task]);
                let count = out.len();
                let first = task * per_task;
                self.pairs_times_tokens(operands, 0..pairs, first, count, |r, t, v| {
                    out[t][r] = v;
                });
            });
        } else {
            // Decode or a few tokens: tasks take row ranges, each writing
            // its slice of every token's row.
            let tasks = self.row_tasks(operands, out, pairs_per_task(pairs));
            run_row_tasks(&tasks, tokens);
        }
    }

    /// This matrix's rows cut into ranges of `per_task` pairs, each with
    /// its slice of every token's output row.
    fn row_tasks<'a, 'o>(
        &'a self,
        operands: Operands<'a>,
        out: &mut [&'o mut [f32]],
        per_task: usize,
    ) -> Vec<RowTask<'a, 'o>> {
        let rows = self.rows;
        let pairs = rows.div_ceil(2);
        let ranges: Vec<_> = (0..pairs)
            .step_by(per_task)
            .map(|start| start..(start + per_task).min(pairs))
            .collect();
        let mut slices: Vec<Vec<&'o mut [f32]>> = ranges
            .iter()
            .map(|_| Vec::with_capacity(out.len()))
            .collect();
        for token_row in out.iter_mut() {
            let mut rest: &'o mut [f32] = std::mem::take(token_row);
            for (range, slices) in ranges.iter().zip(&mut slices) {
                let width = (2 * range.end).min(rows) - 2 * range.start;
                let (mine, after) = std::mem::take(&mut rest).split_at_mut(width);
                slices.push(mine);
                rest = after;
            }
        }
        ranges
            .into_iter()
            .zip(slices)
            .map(|(pairs, out)| RowTask {
                matrix: self,
                operands,
                pairs,
                out: Mutex::new(out),
            })
            .collect()
    }

    /// Quantizes each row of `x` per block (see [`Activations::quantize`]),
    /// with the shifts VNNI needs.
    fn quantize(&self, x: &[f32], tokens: usize) -> Activations {
        debug_assert_eq!(x.len(), tokens * self.blocks * BLOCK);
        let mut out = Activations::quantize(Some(self.simd), x);
        if let Some(vnni) = self.vnni {
            out.shifts = vnni.vectorize(
                #[inline(always)]
                || out.values.iter().map(shifts_of).collect(),
            );
        }
        out
    }

    /// Products of row pairs `pairs` with tokens `first..first + count`,
    /// each handed to `store(row, token - first, value)`.
    fn pairs_times_tokens(
        &self,
        operands: Operands<'_>,
        pairs: std::ops::Range<usize>,
        first: usize,
        count: usize,
        store: impl FnMut(usize, usize, f32),
    ) {
        let span = Span {
            pairs,
            first,
            count,
        };
        on_widest!(self.vnni, self.simd, |simd| {
            self.pairs_times_tokens_on(simd, operands, span, store)
        });
    }

    /// The body of [`pairs_times_tokens`](Self::pairs_times_tokens), inlined
    /// into a function compiled for `simd`'s instructions.
    #[inline(always)]
    fn pairs_times_tokens_on<S: Tiles>(
        &self,
        simd: S,
        operands: Operands<'_>,
        span: Span,
        mut store: impl FnMut(usize, usize, f32),
    ) {
        let mut write = |pair: usize, token: usize, lanes: &PairLanes| {
            let (a, b) = lanes.split_at(8);
            store(2 * pair, token, sum_of_eight(a));
            if 2 * pair + 1 < self.rows {
                store(2 * pair + 1, token, sum_of_eight(b));
            }
        };
        let Span {
            pairs,
            first,
            count,
        } = span;
        let mut pair = pairs.start;
        while pair < pairs.end {
            if pair + PAIRS <= pairs.end {
                self.group_times_tokens::<S, PAIRS>(simd, operands, pair, first, count, &mut write);
                pair += PAIRS;
            } else {
                self.group_times_tokens::<S, 1>(simd, operands, pair, first, count, &mut write);
                pair += 1;
            }
        }
    }

    /// `P` row pairs from `pair` against tokens `first..first + count`, in
    /// tiles of [`TOKENS`] tokens, then of two, then of one. Two tokens get
    /// their own tile rather than two one-token tiles, so that each weight
    /// block is turned into byte sums' operands once for both: on two
    /// cores of an Intel Xeon (`lscpu` family 6 model 207), two
    /// conversations' steps took 13.2–13.5 ms against 14.1–15.2 ms.
    #[inline(always)]
    fn group_times_tokens<S: Tiles, const P: usize>(
        &self,
        simd: S,
        operands: Operands<'_>,
        pair: usize,
        first: usize,
        count: usize,
        write: &mut impl FnMut(usize, usize, &PairLanes),
    ) {
        let mut token = 0;
        while token < count {
            if token + TOKENS <= count {
                token += self.tile_into::<S, P, TOKENS>(simd, operands, pair, first, token, write);
            } else if token + 2 <= count {
                token += self.tile_into::<S, P, 2>(simd, operands, pair, first, token, write);
            } else {
                token += self.tile_into::<S, P, 1>(simd, operands, pair, first, token, write);
            }
        }
    }

    /// One tile of `P` row pairs from `pair` × `T` tokens from `token`,
    /// written out; returns `T`.
    #[inline(always)]
    fn tile_into<S: Tiles, const P: usize, const T: usize>(
        &self,
        simd: S,
        operands: Operands<'_>,
        pair: usize,
        first: usize,
        token: usize,
        write: &mut impl FnMut(usize, usize, &PairLanes),
    ) -> usize {
        let sums = simd.tile::<P, T>(self.rows_of(pair), operands, first + token);
        for (p, lanes) in sums.iter().enumerate() {
            for (t, lanes) in lanes.iter().enumerate() {
                write(pair + p, token + t, lanes);
            }
        }
        T
    }

    /// Where the rows of the tile starting at `pair` are. An odd last row
    /// is paired with itself.
    #[inline(always)]
    fn rows_of(&self, pair: usize) -> TileRows {
        TileRows {
            first_row: 2 * pair,
            last_row: self.rows - 1,
            blocks: self.blocks,
        }
    }
}

/// The blocks of a Q8_0 tensor's storage.
fn blocks_of(bytes: &[u8]) -> candle_core::Result<&[Block]> {
    bytemuck::try_cast_slice(bytes)
        .map_err(|e| candle_core::Error::Msg(format!("Q8_0 storage: {e}")))
}

/// Whether a product of `tokens` tokens with a matrix of `blocks` blocks
/// is split among the threads by tokens (each thread reads every row)
/// rather than by rows.
fn by_tokens(tokens: usize, blocks: usize) -> bool {
    let threads = rayon::current_num_threads().max(1);
    tokens >= threads * TOKENS
        && (blocks * std::mem::size_of::<Block>() <= CACHED_BYTES || tokens >= 64)
}

/// Row pairs per task when `pairs` are shared out by rows: a few tasks per
/// thread, so that one slow thread does not hold the others up.
fn pairs_per_task(pairs: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    pairs
        .div_ceil(threads * 4)
        .max(PAIRS_PER_TASK)
        .next_multiple_of(PAIRS)
}

/// A range of one matrix's row pairs and the slices of every token's
/// output row it writes.
struct RowTask<'a, 'o> {
    matrix: &'a Q8Matrix,
    operands: Operands<'a>,
    pairs: std::ops::Range<usize>,
    out: Mutex<Vec<&'o mut [f32]>>,
}

/// Runs the tasks on the model's threads, in one hand-off.
fn run_row_tasks(tasks: &[RowTask<'_, '_>], tokens: usize) {
    on_model_threads(tasks.len(), |task| {
        let RowTask {
            matrix,
            operands,
            pairs,
            out,
        } = &tasks[task];
        let first_row = 2 * pairs.start;
        let mut part = lock(out);
        matrix.pairs_times_tokens(*operands, pairs.clone(), 0, tokens, |r, t, v| {
            part[t][r - first_row] = v;
        });
    });
}

/// Which row pairs and tokens a call covers.
struct Span {
    pairs: std::ops::Range<usize>,
    first: usize,
    count: usize,
}

/// Where a tile's rows lie in the matrix.
#[derive(Clone, Copy)]
struct TileRows {
    first_row: usize,
    last_row: usize,
    blocks: usize,
}

impl TileRows {
    /// The blocks of row `first_row + offset` (the last row past the end).
    #[inline(always)]
    fn row<'m>(&self, matrix: &'m [Block], offset: usize) -> &'m [Block] {
        let row = (self.first_row + offset).min(self.last_row);
        &matrix[row * self.blocks..][..self.blocks]
    }

    /// Announces the bytes [`PREFETCH_BYTES`] ahead of the slice of a
    /// `P`-pair tile read at block `b`.
    #[inline(always)]
    fn prefetch<const P: usize>(&self, sse: pulp::core_arch::x86::Sse, matrix: &[Block], b: usize) {
        let bytes: &[u8] = bytemuck::cast_slice(matrix);
        let span = 2 * P * std::mem::size_of::<Block>();
        let start =
            self.first_row * self.blocks * std::mem::size_of::<Block>() + PREFETCH_BYTES + b * span;
        for offset in (0..span).step_by(LINE) {
            if let Some(byte) = bytes.get(start + offset) {
                sse._mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(byte).cast());
            }
        }
    }
}

/// A tile of `P` row pairs × `T` tokens on one instruction set: for each
/// (pair, token), lanes 0–7 belong to the pair's first row and 8–15 to its
/// second, each lane accumulated over the blocks in order exactly as
/// candle's `vec_dot_q8_0_q8_0` accumulates its eight.
trait Tiles: Copy {
    fn tile<const P: usize, const T: usize>(
        self,
        rows: TileRows,
        operands: Operands<'_>,
        first: usize,
    ) -> [[PairLanes; T]; P];
}

impl Tiles for V4 {
    #[inline(always)]
    fn tile<const P: usize, const T: usize>(
        self,
        rows: TileRows,
        operands: Operands<'_>,
        first: usize,
    ) -> [[PairLanes; T]; P] {
        avx512_tile::<Self, P, T>(self, rows, operands, first)
    }
}

impl Tiles for V4Vnni {
    #[inline(always)]
    fn tile<const P: usize, const T: usize>(
        self,
        rows: TileRows,
        operands: Operands<'_>,
        first: usize,
    ) -> [[PairLanes; T]; P] {
        avx512_tile::<Self, P, T>(self, rows, operands, first)
    }
}

/// How a 512-bit tile turns a row pair's weights and a token's block into
/// the exact sums of each four byte products (sixteen lanes: eight per
/// row). The two ways give the same integers.
trait ByteSums: Copy {
    /// A pair's block, ready to be multiplied by every token's.
    type Weights: Copy;
    /// A token's block, ready to be multiplied by every pair's.
    type Token: Copy;
    fn avx512f(self) -> pulp::core_arch::x86::Avx512f;
    fn sse(self) -> pulp::core_arch::x86::Sse;
    fn weights(self, w: __m512i) -> Self::Weights;
    /// `shift` is the block's entry of [`Activations::shifts`], if any.
    fn token(self, a: __m512i, shift: Option<&[i32; 8]>) -> Self::Token;
    fn sums(self, w: Self::Weights, a: Self::Token) -> __m512i;
}

impl ByteSums for V4 {
    /// `maddubs` needs one unsigned side: the weights' magnitudes, and
    /// where they are negative, the mask that moves their sign onto `a`.
    type Weights = (__m512i, u64);
    type Token = __m512i;
    #[inline(always)]
    fn avx512f(self) -> pulp::core_arch::x86::Avx512f {
        self.avx512f
    }
    #[inline(always)]
    fn sse(self) -> pulp::core_arch::x86::Sse {
        self.sse
    }
    #[inline(always)]
    fn weights(self, w: __m512i) -> Self::Weights {
        (
            self.avx512bw._mm512_abs_epi8(w),
            self.avx512bw._mm512_movepi8_mask(w),
        )
    }
    #[inline(always)]
    fn token(self, a: __m512i, _shift: Option<&[i32; 8]>) -> Self::Token {
        a
    }
    #[inline(always)]
    fn sums(self, (magnitudes, negative): Self::Weights, a: Self::Token) -> __m512i {
        let (f, bw) = (self.avx512f, self.avx512bw);
        let zero = f._mm512_setzero_si512();
        let signed = bw._mm512_mask_sub_epi8(a, negative, zero, a);
        let pairs = bw._mm512_maddubs_epi16(magnitudes, signed);
        bw._mm512_madd_epi16(pairs, f._mm512_set1_epi16(1))
    }
}

impl ByteSums for V4Vnni {
    /// The weights plus 128 (0..=255), and the token's block with, per
    /// group of four, −128 × its sum, which takes the 128s back out.
    type Weights = __m512i;
    type Token = (__m512i, __m512i);
    #[inline(always)]
    fn avx512f(self) -> pulp::core_arch::x86::Avx512f {
        self.avx512f
    }
    #[inline(always)]
    fn sse(self) -> pulp::core_arch::x86::Sse {
        self.sse
    }
    #[inline(always)]
    fn weights(self, w: __m512i) -> Self::Weights {
        let f = self.avx512f;
        f._mm512_xor_si512(w, f._mm512_set1_epi8(i8::MIN))
    }
    #[inline(always)]
    fn token(self, a: __m512i, shift: Option<&[i32; 8]>) -> Self::Token {
        let f = self.avx512f;
        let start = match shift {
            Some(shift) => f._mm512_broadcast_i64x4(bytemuck::cast(*shift)),
            None => {
                let zero = f._mm512_setzero_si512();
                let shift = self.dot_bytes(zero, f._mm512_set1_epi8(i8::MIN), a);
                f._mm512_sub_epi32(zero, shift)
            }
        };
        (a, start)
    }
    #[inline(always)]
    fn sums(self, w: Self::Weights, (a, start): Self::Token) -> __m512i {
        self.dot_bytes(start, w, a)
    }
}

/// The 512-bit tile: one register holds both rows of a pair.
#[inline(always)]
fn avx512_tile<S: ByteSums, const P: usize, const T: usize>(
    simd: S,
    rows: TileRows,
    operands: Operands<'_>,
    first: usize,
) -> [[PairLanes; T]; P] {
    let Operands {
        matrix,
        activations,
    } = operands;
    let blocks = rows.blocks;
    let f = simd.avx512f();
    let firsts: [&[Block]; P] = std::array::from_fn(|p| rows.row(matrix, 2 * p));
    let seconds: [&[Block]; P] = std::array::from_fn(|p| rows.row(matrix, 2 * p + 1));
    let (values, scales) = activations.of_tokens::<T>(first, blocks);
    let shifts = activations.shifts_of_tokens::<T>(first, blocks);
    // Lane l of pair p's scales comes from converted scale 2p (l < 8)
    // or 2p + 1: a block's f16 → f32 conversions (two per pair, up to
    // sixteen) are one instruction (exact, so the same values as `half`'s).
    let spread: [__m512i; P] = std::array::from_fn(
        #[inline(always)]
        |p| {
            let (a, b) = (2 * p as i32, 2 * p as i32 + 1);
            f._mm512_setr_epi32(a, a, a, a, a, a, a, a, b, b, b, b, b, b, b, b)
        },
    );
    let mut acc: [[__m512; T]; P] = [[f._mm512_setzero_ps(); T]; P];
    for b in 0..blocks {
        // The f16 scales, four to a 64-bit word: packed in general
        // registers, not inserted one by one into a vector register, whose
        // inserts ran on the ports the products need (a four-token tile
        // about 5 % faster, measured on its own).
        let mut half_scales = [0u64; 4];
        rows.prefetch::<P>(simd.sse(), matrix, b);
        // A loop, not `array::from_fn`: that one is not always inlined, and
        // out of line the intrinsics become calls.
        let mut weights = [simd.weights(f._mm512_setzero_si512()); P];
        for p in 0..P {
            let (upper, lower) = (&firsts[p][b], &seconds[p][b]);
            half_scales[p / 2] |= (u64::from(u16::from_le_bytes(upper.scale))
                | (u64::from(u16::from_le_bytes(lower.scale)) << 16))
                << (32 * (p % 2));
            weights[p] = simd.weights(f._mm512_inserti64x4::<1>(
                f._mm512_castsi256_si512(bytemuck::cast(upper.values)),
                bytemuck::cast(lower.values),
            ));
        }
        let converted = f._mm512_cvtph_ps(bytemuck::cast::<[u64; 4], __m256i>(half_scales));
        let row_scales: [__m512; P] = std::array::from_fn(
            #[inline(always)]
            |p| f._mm512_permutexvar_ps(spread[p], converted),
        );
        for t in 0..T {
            // The same block in both halves: one per row of the pair.
            let a = simd.token(
                f._mm512_broadcast_i64x4(bytemuck::cast(values[t][b])),
                shifts[t].get(b),
            );
            let scale = f._mm512_set1_ps(scales[t][b]);
            for p in 0..P {
                let sums = simd.sums(weights[p], a);
                let d = f._mm512_mul_ps(row_scales[p], scale);
                acc[p][t] = f._mm512_fmadd_ps(d, f._mm512_cvtepi32_ps(sums), acc[p][t]);
            }
        }
    }
    acc.map(|row| row.map(bytemuck::cast))
}

impl Tiles for V3 {
    /// Two 256-bit registers per pair, one per row: candle's own layout.
    #[inline(always)]
    fn tile<const P: usize, const T: usize>(
        self,
        rows: TileRows,
        operands: Operands<'_>,
        first: usize,
    ) -> [[PairLanes; T]; P] {
        let Operands {
            matrix,
            activations,
        } = operands;
        let blocks = rows.blocks;
        let (avx, avx2, fma) = (self.avx, self.avx2, self.fma);
        let rows_of_tile: [[&[Block]; 2]; P] =
            std::array::from_fn(|p| [rows.row(matrix, 2 * p), rows.row(matrix, 2 * p + 1)]);
        let (values, scales) = activations.of_tokens::<T>(first, blocks);
        let zero = avx._mm256_setzero_si256();
        let ones = avx._mm256_set1_epi16(1);
        let mut acc: [[[__m256; 2]; T]; P] = [[[avx._mm256_setzero_ps(); 2]; T]; P];
        for b in 0..blocks {
            let mut weights = [[zero; 2]; P];
            let mut magnitudes = [[zero; 2]; P];
            let mut row_scales = [[0f32; 2]; P];
            rows.prefetch::<P>(self.sse, matrix, b);
            for p in 0..P {
                for h in 0..2 {
                    let block = &rows_of_tile[p][h][b];
                    let w: __m256i = bytemuck::cast(block.values);
                    weights[p][h] = w;
                    magnitudes[p][h] = avx2._mm256_sign_epi8(w, w);
                    row_scales[p][h] = f16::from_le_bytes(block.scale).to_f32();
                }
            }
            for t in 0..T {
                let a: __m256i = bytemuck::cast(values[t][b]);
                for p in 0..P {
                    for h in 0..2 {
                        // |w| · (a with w's sign), as candle's AVX2 code.
                        let signed = avx2._mm256_sign_epi8(a, weights[p][h]);
                        let pairs = avx2._mm256_maddubs_epi16(magnitudes[p][h], signed);
                        let quads = avx2._mm256_madd_epi16(pairs, ones);
                        let d = avx._mm256_set1_ps(row_scales[p][h] * scales[t][b]);
                        acc[p][t][h] =
                            fma._mm256_fmadd_ps(d, avx._mm256_cvtepi32_ps(quads), acc[p][t][h]);
                    }
                }
            }
        }
        acc.map(|row| {
            row.map(|[upper, lower]| {
                let (upper, lower): ([f32; 8], [f32; 8]) =
                    (bytemuck::cast(upper), bytemuck::cast(lower));
                std::array::from_fn(|l| if l < 8 { upper[l] } else { lower[l - 8] })
            })
        })
    }
}

/// [`Q8Matrix::quantize`] on AVX-512: 16 values at a time.
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

/// −128 × the sum of each group of four of `values`.
#[inline(always)]
fn shifts_of(values: &[i8; BLOCK]) -> [i32; 8] {
    let (groups, _) = values.as_chunks::<4>();
    std::array::from_fn(|g| -128 * groups[g].iter().map(|&v| i32::from(v)).sum::<i32>())
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

/// [`Q8Matrix::quantize`] as candle writes it, left to the compiler (AVX2).
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

/// candle's `hsum_float_8`: halves added lane-wise, then pairs, then the
/// last two.
#[inline(always)]
fn sum_of_eight(lanes: &[f32]) -> f32 {
    let four = [
        lanes[4] + lanes[0],
        lanes[5] + lanes[1],
        lanes[6] + lanes[2],
        lanes[7] + lanes[3],
    ];
    (four[0] + four[2]) + (four[1] + four[3])
}

#[cfg(test)]
mod tests {
    use super::super::cpu::every_instruction_set;
    use super::*;
    use candle_core::quantized::QMatMul;
    use candle_core::{Device, Module, Tensor};

    /// The arithmetic every path must reproduce, one value at a time:
    /// eight lanes, each the fused multiply-add over the blocks in order of
    /// `scale product × exact sum of four byte products`, then candle's
    /// horizontal sum. It is what candle's AVX code computes.
    fn reference_product(row: &[Block], activations: &Activations, token: usize) -> f32 {
        let blocks = row.len();
        let mut lanes = [0f32; 8];
        for (b, block) in row.iter().enumerate() {
            let a = &activations.values[token * blocks + b];
            let d =
                f16::from_le_bytes(block.scale).to_f32() * activations.scales[token * blocks + b];
            for (l, lane) in lanes.iter_mut().enumerate() {
                let sum: i32 = (4 * l..4 * l + 4)
                    .map(|i| i32::from(block.values[i]) * i32::from(a[i]))
                    .sum();
                *lane = d.mul_add(sum as f32, *lane);
            }
        }
        sum_of_eight(&lanes)
    }

    #[test]
    fn products_are_the_reference_bit_for_bit_on_every_instruction_set() {
        // candle's own kernel computes the reference's arithmetic where it
        // is compiled with AVX2; a portable build runs its scalar code,
        // which sums in another order.
        let candle_is_the_reference = cfg!(target_feature = "avx2");
        // Odd row counts, a single block, every tile remainder, and both
        // thread splits (by rows for few tokens, by tokens for many).
        for (rows, cols) in [(256, 640), (1031, 640), (7, 64), (1, 32), (2, 32)] {
            let dense = Tensor::randn(0f32, 1.0, (rows, cols), &Device::Cpu).unwrap();
            let q = Arc::new(QTensor::quantize(&dense, GgmlDType::Q8_0).unwrap());
            let candle = QMatMul::from_arc(q.clone()).unwrap();
            let bytes = q.data().unwrap();
            let matrix: &[Block] = bytemuck::cast_slice(&bytes);
            for (simd, vnni) in every_instruction_set() {
                let ours = Q8Matrix::with_simd(q.clone(), simd, vnni).unwrap();
                for tokens in [1, 2, 3, 5, 8, 17, 64] {
                    let x = Tensor::randn(0f32, 2.0, (tokens, cols), &Device::Cpu).unwrap();
                    let input: Vec<f32> = x.flatten_all().unwrap().to_vec1().unwrap();
                    let got = ours.apply(&input, tokens).unwrap();
                    let activations = ours.quantize(&input, tokens);
                    let expected: Vec<f32> = (0..tokens)
                        .flat_map(|t| {
                            let activations = &activations;
                            matrix
                                .chunks_exact(cols / BLOCK)
                                .map(move |row| reference_product(row, activations, t))
                        })
                        .collect();
                    let same = |a: &[f32], b: &[f32]| {
                        a.len() == b.len()
                            && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
                    };
                    assert!(
                        same(&got, &expected),
                        "{simd:?} {vnni:?} {rows}×{cols}, {tokens} tokens differ from the reference"
                    );
                    if candle_is_the_reference {
                        let by_candle: Vec<f32> = candle
                            .forward(&x)
                            .unwrap()
                            .flatten_all()
                            .unwrap()
                            .to_vec1()
                            .unwrap();
                        assert!(
                            same(&got, &by_candle),
                            "{simd:?} {vnni:?} {rows}×{cols}, {tokens} tokens differ from candle"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn grouped_products_are_each_matrix_alone() {
        let cols = 640;
        let tensors: Vec<Arc<QTensor>> = [1024, 256, 255]
            .into_iter()
            .map(|rows| {
                let dense = Tensor::randn(0f32, 1.0, (rows, cols), &Device::Cpu).unwrap();
                Arc::new(QTensor::quantize(&dense, GgmlDType::Q8_0).unwrap())
            })
            .collect();
        for (simd, vnni) in every_instruction_set() {
            let [q, k, v] =
                [0, 1, 2].map(|i| Q8Matrix::with_simd(tensors[i].clone(), simd, vnni).unwrap());
            for tokens in [1, 3, 8, 64] {
                let x: Vec<f32> = Tensor::randn(0f32, 2.0, (tokens, cols), &Device::Cpu)
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1()
                    .unwrap();
                let grouped = Q8Matrix::apply_group([&q, &k, &v], &x, tokens).unwrap();
                for (matrix, together) in [&q, &k, &v].into_iter().zip(&grouped) {
                    let alone = matrix.apply(&x, tokens).unwrap();
                    let same = alone.len() == together.len()
                        && alone
                            .iter()
                            .zip(together)
                            .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(
                        same,
                        "{simd:?} {vnni:?}, {tokens} tokens, {} rows",
                        matrix.rows
                    );
                }
            }
        }
    }

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
        let tensor = Arc::new(
            QTensor::quantize(
                &Tensor::zeros((1, 32), candle_core::DType::F32, &Device::Cpu).unwrap(),
                GgmlDType::Q8_0,
            )
            .unwrap(),
        );
        let candle = QTensor::quantize(
            &Tensor::from_slice(&x, (1, 32), &Device::Cpu).unwrap(),
            GgmlDType::Q8_0,
        )
        .unwrap();
        let bytes = candle.data().unwrap();
        let block: &[Block] = bytemuck::cast_slice(&bytes);
        for (simd, vnni) in every_instruction_set() {
            let matrix = Q8Matrix::with_simd(tensor.clone(), simd, vnni).unwrap();
            let ours = matrix.quantize(&x, 1);
            assert_eq!(ours.values[0], block[0].values, "{simd:?}");
            assert_eq!(ours.scales[0], f16::from_le_bytes(block[0].scale).to_f32());
        }
    }

    #[test]
    fn other_types_and_shapes_are_refused() {
        let dense = Tensor::zeros((4, 64), candle_core::DType::F32, &Device::Cpu).unwrap();
        let q4 = QTensor::quantize(&dense, GgmlDType::Q4_0).unwrap();
        assert!(Q8Matrix::new(Arc::new(q4)).is_none());
        let flat = Tensor::zeros(64, candle_core::DType::F32, &Device::Cpu).unwrap();
        let q8 = QTensor::quantize(&flat, GgmlDType::Q8_0).unwrap();
        assert!(Q8Matrix::new(Arc::new(q8)).is_none());
    }
}
