//! Q8_0 matrix products in tiles of sixteen rows, one row per 32-bit
//! lane: every Q8_0 matrix of the model (q, k, v, gate, up, in both models)
//! and the tied token table, read both ways: row by row (the input
//! embedding) and as a matrix (the output head).
//!
//! Two summing orders, each fixing the bits ([`Order`]):
//! - **The layers keep candle's**: per row, eight partial sums (one per
//!   group of four values), each the fused multiply-add over the blocks of
//!   the exact group sum by the product of the scales, then candle's
//!   horizontal sum. Here the eight are eight registers, added lane-wise at
//!   the end. Answers therefore cannot move with this kernel: an order that
//!   sums a block at once moved one held-out visitor refusal (branch
//!   `experiment/q8-layers-as-lanes`). Per sixteen rows, group and token
//!   (64 products): one byte-product instruction, its conversion and one
//!   multiply-add, after two broadcasts (the token's four bytes and the
//!   sum's start). The kernel this replaced kept candle's layout, a pair
//!   of rows per register, and spent about four plus its share of the
//!   operands' preparation.
//! - **The head sums a block at once**: each row's block is one exact
//!   integer sum, scaled once, over the blocks in order from zero, `acc =
//!   fma(exact sum, weight scale × token scale, acc)`: llama.cpp's scalar
//!   reference with the multiply-add fused. At one token the 178 MB head is
//!   bound by memory; at four (four conversations in lockstep, or scoring)
//!   it was bound by instructions, and this costs about 1.8 per 64 products
//!   there: per sixteen rows, block and token, eight byte-product
//!   instructions and four others (the sum's start, its conversion, the
//!   scales' product, the multiply-add), plus the weights' nine loads
//!   shared by up to four tokens. Logits differ from candle's in their
//!   last bits, and no answer moved.
//!
//! Every body (AVX-512 VNNI, AVX-512, AVX2 and plain loops) gives the same
//! bits as the scalar reference of its order (tested, and candle's kernel
//! for candle's order), so which one runs changes speed, never answers.
//! The activations are quantized as candle quantizes them (`activations`),
//! and a looked-up row is exactly candle's dequantized row.
//!
//! Per tile and block the sixteen rows' f16 scales come first, then, per
//! group of four values, each row's four bytes, plus 128 (the unsigned side
//! of VNNI's product): 34 bytes per row and block, as in the GGUF, whose
//! copy is dropped.
//!
//! Must not depend on the model: it is plain arithmetic on slices.

use candle_core::quantized::{GgmlDType, QTensor};
use half::f16;

use super::activations::{Activations, BLOCK};
use super::cpu::{on_widest, Simd};
use super::sixteen_rows::{lanes_of, on_tile_ranges, on_tile_ranges_of, Lanes, LANES};
use super::vnni::V4Vnni;

/// Groups of four values per block.
const GROUPS: usize = BLOCK / 4;
/// Most tokens per tile.
const TOKENS: usize = 4;
/// Most tokens per tile in [`Order::Candle`], whose eight accumulators per
/// token fill the registers sooner. On two cores of an AMD EPYC (Zen 4),
/// two alternations: prompt processing 840–963 tokens/s at two, 751–801
/// at three, 733–763 at four; four conversations 274–303, 264–272,
/// 250–270.
const CANDLE_TOKENS: usize = 2;
/// Bytes of a Q8_0 block in GGUF: f16 scale, 32 signed bytes.
const BLOCK_BYTES: usize = 2 + BLOCK;
/// Multiply-adds below which one thread does the whole product: waking
/// the other costs more than it saves (the K-quant kernel's threshold).
const SMALL_WORK: usize = 1 << 17;
/// Added to each weight byte when stored.
const OFFSET: u8 = 0x80;

/// Sixteen rows' share of one block.
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
struct TileBlock {
    /// Each row's scale, f16 bits.
    scales: [u16; LANES],
    /// Per group of four values, each row's four bytes plus 128.
    values: [[u8; 4 * LANES]; GROUPS],
}

/// Rows past the end of a table whose row count is not a multiple of
/// sixteen: zero.
const PADDING: TileBlock = TileBlock {
    scales: [0; LANES],
    values: [[OFFSET; 4 * LANES]; GROUPS],
};

/// One token's block, as the tiles read it.
#[derive(Clone, Copy)]
struct TokenBlock {
    /// The 32 values as eight little-endian words, one per group of four.
    quads: [i32; GROUPS],
    scale: f32,
    /// −128 × the sum of the values (see [`Lanes::signed_start`]).
    shift: i32,
    /// −128 × the sum of each group's four values, for [`Order::Candle`].
    group_shifts: [i32; GROUPS],
}

/// How a row's products are summed. Each fixes the bits of the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// One exact integer sum per row and block, scaled once, over the
    /// blocks in order: llama.cpp's scalar reference, fused (the head).
    WholeBlocks,
    /// Eight partial sums per row, one per group of four values, each
    /// scaled per block, then candle's horizontal sum: candle's bits, which
    /// the layers keep (see `q8_0`).
    Candle,
}

/// A `(rows, cols)` Q8_0 table in tiles of sixteen rows.
pub(crate) struct Q8Table {
    /// Tile-major, then block.
    tiles: Vec<TileBlock>,
    rows: usize,
    blocks: usize,
    /// `None`: plain loops.
    simd: Option<Simd>,
    /// Used instead of `simd`'s AVX-512 sums when present.
    vnni: Option<V4Vnni>,
    order: Order,
}

impl Q8Table {
    /// The table of a `(rows, cols)` Q8_0 tensor summed a block at once
    /// ([`Order::WholeBlocks`], the head's); `None` if it is not one.
    pub(crate) fn new(tensor: &QTensor) -> Option<Self> {
        Self::with_simd(tensor, super::cpu::simd(), super::cpu::vnni())
    }

    /// The table on given instruction sets (tests force each one).
    fn with_simd(tensor: &QTensor, simd: Option<Simd>, vnni: Option<V4Vnni>) -> Option<Self> {
        let (rows, cols) = tensor.shape().dims2().ok()?;
        if tensor.dtype() != GgmlDType::Q8_0 || rows == 0 || !cols.is_multiple_of(BLOCK) {
            return None;
        }
        let blocks = cols / BLOCK;
        let bytes = tensor.data().ok()?;
        if bytes.len() != rows * blocks * BLOCK_BYTES {
            return None;
        }
        let mut tiles = vec![PADDING; rows.div_ceil(LANES) * blocks];
        for (row, row_bytes) in bytes.chunks_exact(blocks * BLOCK_BYTES).enumerate() {
            let lane = row % LANES;
            let row_tiles = &mut tiles[row / LANES * blocks..][..blocks];
            for (tile, block) in row_tiles
                .iter_mut()
                .zip(row_bytes.chunks_exact(BLOCK_BYTES))
            {
                tile.scales[lane] = u16::from_le_bytes([block[0], block[1]]);
                for (group, values) in tile.values.iter_mut().zip(block[2..].chunks_exact(4)) {
                    for (stored, &value) in group[4 * lane..4 * lane + 4].iter_mut().zip(values) {
                        *stored = value ^ OFFSET;
                    }
                }
            }
        }
        Some(Self {
            tiles,
            rows,
            blocks,
            simd,
            vnni,
            order: Order::WholeBlocks,
        })
    }

    /// The table of a `(rows, cols)` Q8_0 matrix summed in candle's order
    /// (a layer's). `None` without AVX2, where candle's own kernel stays,
    /// or if the tensor is not such a matrix.
    pub(crate) fn in_candles_order(tensor: &QTensor) -> Option<Self> {
        let simd = super::cpu::simd()?;
        Some(Self::with_simd(tensor, Some(simd), super::cpu::vnni())?.in_order(Order::Candle))
    }

    /// The same table summed in `order`.
    fn in_order(self, order: Order) -> Self {
        Self { order, ..self }
    }

    /// Rows: output values per token.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Values per row: input values per token.
    pub(crate) fn width(&self) -> usize {
        self.blocks * BLOCK
    }

    /// The bytes held.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        bytemuck::cast_slice(&self.tiles)
    }

    /// Row `row` dequantized into `out` (`width` values), as candle
    /// dequantizes it: each value times its block's scale.
    pub(crate) fn row_into(&self, row: usize, out: &mut [f32]) {
        let lane = row % LANES;
        let row_tiles = &self.tiles[row / LANES * self.blocks..][..self.blocks];
        for (tile, out) in row_tiles.iter().zip(out.chunks_exact_mut(BLOCK)) {
            let scale = f16::from_bits(tile.scales[lane]).to_f32();
            for (group, out) in tile.values.iter().zip(out.chunks_exact_mut(4)) {
                for (&stored, out) in group[4 * lane..4 * lane + 4].iter().zip(out) {
                    *out = f32::from(weight(stored)) * scale;
                }
            }
        }
    }

    /// A table of rows `ids` of this one, in that order: its products are
    /// this table's at those rows, bit for bit. Ids must be rows.
    pub(crate) fn gather(&self, ids: &[u32]) -> Self {
        let blocks = self.blocks;
        let mut tiles = vec![PADDING; ids.len().div_ceil(LANES) * blocks];
        for (row, &id) in ids.iter().enumerate() {
            let (from, to) = (id as usize % LANES, row % LANES);
            let source = &self.tiles[id as usize / LANES * blocks..][..blocks];
            let target = &mut tiles[row / LANES * blocks..][..blocks];
            for (target, source) in target.iter_mut().zip(source) {
                target.scales[to] = source.scales[from];
                for (target, source) in target.values.iter_mut().zip(&source.values) {
                    target[4 * to..4 * to + 4].copy_from_slice(&source[4 * from..4 * from + 4]);
                }
            }
        }
        Self {
            tiles,
            rows: ids.len(),
            blocks,
            simd: self.simd,
            vnni: self.vnni,
            order: self.order,
        }
    }

    /// `x` (`tokens` rows of `width` values) times the table transposed:
    /// `tokens` rows of `rows` values.
    pub(crate) fn apply(&self, x: &[f32], tokens: usize) -> candle_core::Result<Vec<f32>> {
        let mut out = vec![0f32; tokens * self.rows];
        let mut rows: Vec<&mut [f32]> = out.chunks_mut(self.rows).collect();
        self.apply_into(x, &mut rows)?;
        Ok(out)
    }

    /// [`apply`](Self::apply) with each token's output row given by the
    /// caller (`out.len()` tokens, each `rows` long).
    pub(crate) fn apply_into(&self, x: &[f32], out: &mut [&mut [f32]]) -> candle_core::Result<()> {
        let tokens = out.len();
        if x.len() != tokens * self.width() || out.iter().any(|row| row.len() != self.rows) {
            return Err(candle_core::Error::Msg(format!(
                "Q8_0 table product: {} inputs and outputs of {:?} for {tokens} tokens, {} × {}",
                x.len(),
                out.iter().map(|row| row.len()).collect::<Vec<_>>(),
                self.rows,
                self.width()
            )));
        }
        let activations = self.quantize(x);
        let tiles = self.rows.div_ceil(LANES);
        let threads = rayon::current_num_threads().max(1);
        if threads == 1 || tokens * self.rows * self.width() < SMALL_WORK {
            self.tiles_times_tokens(&activations, 0..tiles, out);
            return Ok(());
        }
        on_tile_ranges(tiles, self.rows, out, |tiles, out| {
            self.tiles_times_tokens(&activations, tiles, out);
        });
        Ok(())
    }

    /// Several tables of the same width applied to the same `x` (q, k and
    /// v; gate and up): the activations are quantized once and the tiles
    /// of all are shared out among the threads in one hand-off. Each value
    /// is computed exactly as [`apply`](Self::apply) computes it.
    pub(crate) fn apply_group<const N: usize>(
        tables: [&Self; N],
        x: &[f32],
        tokens: usize,
    ) -> candle_core::Result<[Vec<f32>; N]> {
        let mut outs: [Vec<f32>; N] = tables.map(|t| vec![0f32; tokens * t.rows]);
        let Some(first) = tables.first() else {
            return Ok(outs);
        };
        if tables.iter().any(|t| t.width() != first.width()) || x.len() != tokens * first.width() {
            return Err(candle_core::Error::Msg(format!(
                "grouped Q8_0 tables: {} inputs for {tokens} tokens of widths {:?}",
                x.len(),
                tables.map(Self::width)
            )));
        }
        let activations = first.quantize(x);
        let mut rows: Vec<Vec<&mut [f32]>> = tables
            .iter()
            .zip(outs.iter_mut())
            .map(|(t, out)| out.chunks_mut(t.rows).collect())
            .collect();
        let work: usize = tables.iter().map(|t| t.rows).sum::<usize>() * tokens * first.width();
        if rayon::current_num_threads() <= 1 || work < SMALL_WORK {
            for (table, rows) in tables.iter().zip(&mut rows) {
                table.tiles_times_tokens(&activations, 0..table.rows.div_ceil(LANES), rows);
            }
        } else {
            let mut matrices: Vec<(usize, usize, &mut [&mut [f32]])> = tables
                .iter()
                .zip(&mut rows)
                .map(|(t, rows)| (t.rows.div_ceil(LANES), t.rows, rows.as_mut_slice()))
                .collect();
            on_tile_ranges_of(&mut matrices, |matrix, tiles, out| {
                tables[matrix].tiles_times_tokens(&activations, tiles, out);
            });
        }
        drop(rows);
        Ok(outs)
    }

    /// Each token's blocks, quantized (see [`Activations::quantize`]).
    fn quantize(&self, x: &[f32]) -> Vec<TokenBlock> {
        let activations = Activations::quantize(self.simd, x);
        activations
            .values
            .iter()
            .zip(&activations.scales)
            .map(|(values, &scale)| {
                let (quads, _) = values.as_chunks::<4>();
                let group_shifts: [i32; GROUPS] = std::array::from_fn(|g| {
                    -128 * quads[g].iter().map(|&v| i32::from(v)).sum::<i32>()
                });
                TokenBlock {
                    quads: std::array::from_fn(|g| i32::from_le_bytes(quads[g].map(|v| v as u8))),
                    scale,
                    shift: group_shifts.iter().sum(),
                    group_shifts,
                }
            })
            .collect()
    }

    /// Tiles `tiles` times every token, written to
    /// `out[token][row - 16 × tiles.start]`.
    fn tiles_times_tokens(
        &self,
        activations: &[TokenBlock],
        tiles: std::ops::Range<usize>,
        out: &mut [&mut [f32]],
    ) {
        match self.simd {
            Some(simd) => on_widest!(self.vnni, simd, |simd| {
                self.tiles_on(simd, activations, tiles, out)
            }),
            None => self.tiles_portably(activations, tiles, out),
        }
    }

    /// The body of [`tiles_times_tokens`](Self::tiles_times_tokens) on one
    /// instruction set: each tile against the tokens four at a time, so its
    /// weights are read from memory once and from cache for the rest.
    #[inline(always)]
    fn tiles_on<S: Lanes>(
        &self,
        simd: S,
        activations: &[TokenBlock],
        tiles: std::ops::Range<usize>,
        out: &mut [&mut [f32]],
    ) {
        let blocks = self.blocks;
        let first_tile = tiles.start;
        for tile in tiles {
            let w = &self.tiles[tile * blocks..][..blocks];
            let column = (tile - first_tile) * LANES;
            let width = LANES.min(self.rows - tile * LANES);
            let mut token = 0;
            while token < out.len() {
                let a = &activations[token * blocks..];
                let out = &mut out[token..];
                let at = (column, width);
                token += match (self.order, out.len()) {
                    (Order::WholeBlocks, 1) => write_tile(tile_sums::<S, 1>(simd, w, a), out, at),
                    (Order::WholeBlocks, 2) => write_tile(tile_sums::<S, 2>(simd, w, a), out, at),
                    (Order::WholeBlocks, 3) => write_tile(tile_sums::<S, 3>(simd, w, a), out, at),
                    (Order::WholeBlocks, _) => {
                        write_tile(tile_sums::<S, TOKENS>(simd, w, a), out, at)
                    }
                    (Order::Candle, 1) => write_tile(candle_tile_sums::<S, 1>(simd, w, a), out, at),
                    (Order::Candle, _) => {
                        write_tile(candle_tile_sums::<S, CANDLE_TOKENS>(simd, w, a), out, at)
                    }
                };
            }
        }
    }

    /// [`tiles_times_tokens`](Self::tiles_times_tokens) in plain loops:
    /// the scalar reference, one row and token at a time.
    fn tiles_portably(
        &self,
        activations: &[TokenBlock],
        tiles: std::ops::Range<usize>,
        out: &mut [&mut [f32]],
    ) {
        let blocks = self.blocks;
        let first_row = tiles.start * LANES;
        for row in first_row..(tiles.end * LANES).min(self.rows) {
            let lane = row % LANES;
            let weights = &self.tiles[row / LANES * blocks..][..blocks];
            for (token, out) in out.iter_mut().enumerate() {
                let acts = &activations[token * blocks..][..blocks];
                // One sum per block, or eight (one per group) as candle's.
                let mut acc = [0f32; GROUPS];
                for (tile, act) in weights.iter().zip(acts) {
                    let scale = f16::from_bits(tile.scales[lane]).to_f32() * act.scale;
                    let mut whole = 0i32;
                    for (g, (group, quad)) in tile.values.iter().zip(act.quads).enumerate() {
                        let sum: i32 = group[4 * lane..4 * lane + 4]
                            .iter()
                            .zip(quad.to_le_bytes())
                            .map(|(&stored, a)| i32::from(weight(stored)) * i32::from(a as i8))
                            .sum();
                        match self.order {
                            Order::WholeBlocks => whole += sum,
                            Order::Candle => acc[g] = (sum as f32).mul_add(scale, acc[g]),
                        }
                    }
                    if self.order == Order::WholeBlocks {
                        acc[0] = (whole as f32).mul_add(scale, acc[0]);
                    }
                }
                out[row - first_row] = match self.order {
                    Order::WholeBlocks => acc[0],
                    Order::Candle => sum_of_eight(&acc),
                };
            }
        }
    }
}

/// A stored byte's weight.
#[inline(always)]
fn weight(stored: u8) -> i8 {
    (stored ^ OFFSET) as i8
}

/// A tile's sums written to the first `T` tokens' rows at `column`,
/// `width` rows of them; returns `T`.
#[inline(always)]
fn write_tile<const T: usize>(
    sums: [[f32; LANES]; T],
    out: &mut [&mut [f32]],
    (column, width): (usize, usize),
) -> usize {
    for (out, lanes) in out.iter_mut().zip(&sums) {
        out[column..column + width].copy_from_slice(&lanes[..width]);
    }
    T
}

/// One tile's sixteen rows against `T` tokens (each `blocks` long in
/// `acts`, one after the other) over every block.
#[inline(always)]
fn tile_sums<S: Lanes, const T: usize>(
    simd: S,
    weights: &[TileBlock],
    acts: &[TokenBlock],
) -> [[f32; LANES]; T] {
    let blocks = weights.len();
    let mut acc = [simd.zero_float(); T];
    for (b, tile) in weights.iter().enumerate() {
        let mut token = [TokenBlock::ZERO; T];
        for t in 0..T {
            token[t] = acts[t * blocks + b];
        }
        let mut sums = [simd.zero_int(); T];
        for t in 0..T {
            sums[t] = simd.signed_start(token[t].shift);
        }
        for g in 0..GROUPS {
            let w = simd.signed(&tile.values[g]);
            for t in 0..T {
                sums[t] = simd.signed_dot(sums[t], w, token[t].quads[g]);
            }
        }
        let scales = simd.halves(&tile.scales);
        for t in 0..T {
            acc[t] = simd.scaled_add(acc[t], sums[t], scales, token[t].scale);
        }
    }
    lanes_of(simd, acc)
}

/// One tile's sixteen rows against `T` tokens in [`Order::Candle`]: per
/// row, eight lanes (one per group of four values) each accumulated over
/// the blocks as candle's `vec_dot_q8_0_q8_0` accumulates its eight, then
/// candle's horizontal sum, lane-wise across the eight registers.
#[inline(always)]
fn candle_tile_sums<S: Lanes, const T: usize>(
    simd: S,
    weights: &[TileBlock],
    acts: &[TokenBlock],
) -> [[f32; LANES]; T] {
    let blocks = weights.len();
    let mut acc = [[simd.zero_float(); GROUPS]; T];
    for (b, tile) in weights.iter().enumerate() {
        let mut token = [TokenBlock::ZERO; T];
        for t in 0..T {
            token[t] = acts[t * blocks + b];
        }
        let scales = simd.halves(&tile.scales);
        for (g, values) in tile.values.iter().enumerate() {
            let w = simd.signed(values);
            for (acc, token) in acc.iter_mut().zip(&token) {
                let start = simd.signed_start(token.group_shifts[g]);
                let sums = simd.signed_dot(start, w, token.quads[g]);
                acc[g] = simd.scaled_add(acc[g], sums, scales, token.scale);
            }
        }
    }
    let mut out = [[0f32; LANES]; T];
    for t in 0..T {
        let [a0, a1, a2, a3, a4, a5, a6, a7] = acc[t];
        let (s0, s1) = (simd.add(a4, a0), simd.add(a5, a1));
        let (s2, s3) = (simd.add(a6, a2), simd.add(a7, a3));
        out[t] = simd.lanes(simd.add(simd.add(s0, s2), simd.add(s1, s3)));
    }
    out
}

/// candle's `hsum_float_8`: halves added lane-wise, then pairs, then the
/// last two.
fn sum_of_eight(lanes: &[f32; GROUPS]) -> f32 {
    let four = [
        lanes[4] + lanes[0],
        lanes[5] + lanes[1],
        lanes[6] + lanes[2],
        lanes[7] + lanes[3],
    ];
    (four[0] + four[2]) + (four[1] + four[3])
}

impl TokenBlock {
    const ZERO: Self = Self {
        quads: [0; GROUPS],
        scale: 0.0,
        shift: 0,
        group_shifts: [0; GROUPS],
    };
}

#[cfg(test)]
mod tests {
    use super::super::cpu::every_instruction_set;
    use super::*;
    use candle_core::{Device, Tensor};

    /// The arithmetic every body must reproduce, from the GGUF's own
    /// blocks: per row, over the blocks in order, the exact sum of the 32
    /// byte products fused-multiplied by the product of the scales.
    fn reference(block_bytes: &[u8], blocks: usize, acts: &[TokenBlock], row: usize) -> f32 {
        let row_bytes = &block_bytes[row * blocks * BLOCK_BYTES..][..blocks * BLOCK_BYTES];
        let mut acc = 0f32;
        for (block, act) in row_bytes.chunks_exact(BLOCK_BYTES).zip(acts) {
            let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
            let a: Vec<i8> = act
                .quads
                .iter()
                .flat_map(|q| q.to_le_bytes())
                .map(|b| b as i8)
                .collect();
            let sum: i32 = block[2..]
                .iter()
                .zip(&a)
                .map(|(&w, &a)| i32::from(w as i8) * i32::from(a))
                .sum();
            acc = (sum as f32).mul_add(d * act.scale, acc);
        }
        acc
    }

    fn random(shape: (usize, usize), deviation: f32) -> Vec<f32> {
        let values = Tensor::randn(0f32, deviation, shape, &Device::Cpu).unwrap();
        values.flatten_all().unwrap().to_vec1().unwrap()
    }

    fn table_of(rows: usize, cols: usize) -> QTensor {
        let dense = Tensor::randn(0f32, 1.0, (rows, cols), &Device::Cpu).unwrap();
        QTensor::quantize(&dense, GgmlDType::Q8_0).unwrap()
    }

    fn every_body() -> Vec<(Option<Simd>, Option<V4Vnni>)> {
        let mut bodies: Vec<_> = every_instruction_set()
            .into_iter()
            .map(|(simd, vnni)| (Some(simd), vnni))
            .collect();
        bodies.push((None, None));
        bodies
    }

    fn same(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn products_are_the_reference_bit_for_bit_on_every_body() {
        // Rows in sixteens and not, one block and many, both thread
        // splits' sizes, every token remainder.
        for (rows, cols) in [(256, 640), (1031, 640), (7, 64), (1, 32), (33, 96)] {
            let tensor = table_of(rows, cols);
            let bytes = tensor.data().unwrap();
            let blocks = cols / BLOCK;
            for (simd, vnni) in every_body() {
                let table = Q8Table::with_simd(&tensor, simd, vnni).unwrap();
                for tokens in [1, 2, 3, 4, 5, 8, 17] {
                    let x: Vec<f32> = random((tokens, cols), 2.0);
                    let got = table.apply(&x, tokens).unwrap();
                    let acts = table.quantize(&x);
                    let expected: Vec<f32> = (0..tokens)
                        .flat_map(|t| {
                            let acts = &acts[t * blocks..][..blocks];
                            let bytes = &bytes;
                            (0..rows).map(move |r| reference(bytes, blocks, acts, r))
                        })
                        .collect();
                    assert!(
                        same(&got, &expected),
                        "{simd:?} {vnni:?} {rows}×{cols}, {tokens} tokens"
                    );
                }
            }
        }
    }

    #[test]
    fn products_in_candles_order_are_candles_bit_for_bit_on_every_body() {
        use candle_core::quantized::QMatMul;
        use candle_core::Module;
        for (rows, cols) in [(256, 640), (1031, 640), (7, 64), (1, 32), (33, 96)] {
            let tensor = table_of(rows, cols);
            for (simd, vnni) in every_body() {
                let table = Q8Table::with_simd(&tensor, simd, vnni)
                    .unwrap()
                    .in_order(Order::Candle);
                let candle = QMatMul::from_qtensor(table_of_bytes(&tensor, rows, cols)).unwrap();
                for tokens in [1, 2, 3, 4, 5, 8, 17] {
                    let x: Vec<f32> = random((tokens, cols), 2.0);
                    let got = table.apply(&x, tokens).unwrap();
                    let input = Tensor::from_slice(&x, (tokens, cols), &Device::Cpu).unwrap();
                    let expected: Vec<f32> = candle
                        .forward(&input)
                        .unwrap()
                        .flatten_all()
                        .unwrap()
                        .to_vec1()
                        .unwrap();
                    assert!(
                        same(&got, &expected),
                        "{simd:?} {vnni:?} {rows}×{cols}, {tokens} tokens"
                    );
                }
            }
        }
    }

    /// A second tensor with `tensor`'s blocks.
    fn table_of_bytes(tensor: &QTensor, rows: usize, cols: usize) -> QTensor {
        let bytes = tensor.data().unwrap();
        let storage = candle_core::quantized::QStorage::from_data(
            std::borrow::Cow::Owned(bytes.to_vec()),
            &Device::Cpu,
            GgmlDType::Q8_0,
        )
        .unwrap();
        QTensor::new(storage, (rows, cols)).unwrap()
    }

    #[test]
    fn activations_are_quantized_alike_on_every_body() {
        let x: Vec<f32> = random((3, 640), 3.0);
        let tensor = table_of(16, 640);
        let quantized: Vec<Vec<(f32, [i32; GROUPS], i32)>> = every_body()
            .into_iter()
            .map(|(simd, vnni)| {
                Q8Table::with_simd(&tensor, simd, vnni)
                    .unwrap()
                    .quantize(&x)
                    .iter()
                    .map(|b| (b.scale, b.quads, b.shift))
                    .collect()
            })
            .collect();
        assert!(quantized.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn looked_up_rows_are_candles_dequantized_rows() {
        let tensor = table_of(37, 640);
        let dense: Vec<f32> = tensor
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let table = Q8Table::new(&tensor).unwrap();
        let mut row = vec![0f32; 640];
        for r in [0, 15, 16, 36] {
            table.row_into(r, &mut row);
            assert!(same(&row, &dense[r * 640..(r + 1) * 640]), "row {r}");
        }
    }

    #[test]
    fn gathered_rows_give_the_full_tables_products() {
        let tensor = table_of(300, 640);
        for (simd, vnni) in every_body() {
            let table = Q8Table::with_simd(&tensor, simd, vnni).unwrap();
            let x: Vec<f32> = random((1, 640), 1.0);
            let full = table.apply(&x, 1).unwrap();
            let ids = [299u32, 0, 17, 17, 255, 16];
            let some = table.gather(&ids).apply(&x, 1).unwrap();
            let expected: Vec<f32> = ids.iter().map(|&id| full[id as usize]).collect();
            assert!(same(&some, &expected), "{simd:?} {vnni:?}");
        }
    }

    #[test]
    fn other_types_shapes_and_sizes_are_refused() {
        let dense = Tensor::zeros((4, 64), candle_core::DType::F32, &Device::Cpu).unwrap();
        let q4 = QTensor::quantize(&dense, GgmlDType::Q4_0).unwrap();
        assert!(Q8Table::new(&q4).is_none());
        let flat = Tensor::zeros(64, candle_core::DType::F32, &Device::Cpu).unwrap();
        assert!(Q8Table::new(&QTensor::quantize(&flat, GgmlDType::Q8_0).unwrap()).is_none());
        let table = Q8Table::new(&table_of(16, 64)).unwrap();
        assert!(table.apply(&[0.0; 63], 1).is_err());
    }
}
