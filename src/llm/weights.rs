//! Reading the weights out of the GGUF file.
//!
//! Matrices stay quantized. Three load-time choices matter for speed and
//! memory:
//! - Q5_0 matrices are converted, losslessly, to Q8_0 (see `requant`),
//!   because candle has no SIMD dot product for Q5_0 while Q8_0 has one:
//!   measured decode 55.7 → 60.3 tok/s for +24 MB.
//! - On CPUs with AVX-512 or AVX2 the Q8_0 matrices are repacked into
//!   tiles of sixteen rows (see `kernels::q8_0`), summed in candle's order
//!   so the bits are candle's, and the Q4_K and Q6_K matrices into tiles
//!   for our K-quant kernel (see `kernels::kquant`), the same bits as
//!   candle's tiled kernels.
//! - The token table is kept once, quantized, for both the input lookup
//!   (rows are dequantized on demand) and the tied output head (see
//!   `token_table`). A dequantized copy would be 671 MB.

use std::io::{Read, Seek};
use std::sync::Arc;

use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};

use super::config::Config;
use super::requant::q5_0_to_q8_0;
use super::token_table::TokenTable;
use super::Result;

/// A quantized weight matrix applied to rows of activations.
pub(crate) enum Linear {
    /// Q8_0 on AVX-512 or AVX2: tiles of sixteen rows, one per lane of a
    /// register, summed in candle's order, so the same bits as candle's
    /// kernel (see `kernels::q8_0`). The GGUF's blocks are not kept.
    #[cfg(target_arch = "x86_64")]
    Q8Tiles(super::kernels::q8_0::Q8Table),
    /// Q4_K or Q6_K on AVX-512 or AVX2: our tiles, the same bits as
    /// candle's tiled kernels (see `kernels::kquant`). The GGUF's blocks
    /// are not kept.
    #[cfg(target_arch = "x86_64")]
    K(super::kernels::kquant::KMatrix),
    /// Every other case: candle's kernels.
    Candle {
        matrix: QMatMul,
        /// candle multiplies a single row by a Q6K matrix with another
        /// kernel than several rows, and the two differ in the last bits.
        /// Gemma amplifies such differences (see `attention`), so single
        /// rows are doubled for Q6K and take the multi-row kernel: a
        /// position then gets the same result in decode as in prefill.
        /// Decode is bandwidth-bound, so the extra row is nearly free.
        pad_single_row: bool,
    },
}

impl Linear {
    pub(crate) fn new(tensor: QTensor) -> Result<Self> {
        Self::shared(Arc::new(tensor))
    }

    /// The matrix of a tensor also used elsewhere (the tied head shares
    /// the embedding table), without a copy.
    pub(crate) fn shared(tensor: Arc<QTensor>) -> Result<Self> {
        super::huge_pages::back_with_huge_pages(&tensor.data()?);
        #[cfg(target_arch = "x86_64")]
        if let Some(matrix) = super::kernels::q8_0::Q8Table::in_candles_order(&tensor) {
            return Ok(Self::Q8Tiles(matrix));
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(matrix) = super::kernels::kquant::KMatrix::new(&tensor) {
            return Ok(Self::K(matrix));
        }
        let pad_single_row = tensor.dtype() == GgmlDType::Q6K;
        Ok(Self::Candle {
            matrix: QMatMul::from_arc(tensor)?,
            pad_single_row,
        })
    }

    /// Multiplies `rows` rows of input (row-major) by the matrix.
    pub(crate) fn apply(&self, x: &[f32], rows: usize) -> Result<Vec<f32>> {
        let (matrix, pad_single_row) = match self {
            #[cfg(target_arch = "x86_64")]
            Self::Q8Tiles(matrix) => return Ok(matrix.apply(x, rows)?),
            #[cfg(target_arch = "x86_64")]
            Self::K(matrix) => return Ok(matrix.apply(x, rows)?),
            Self::Candle {
                matrix,
                pad_single_row,
            } => (matrix, *pad_single_row),
        };
        let width = x.len() / rows.max(1);
        let padded = pad_single_row && rows == 1;
        let input = if padded {
            Tensor::from_iter(x.iter().chain(x).copied(), &Device::Cpu)?.reshape((2, width))?
        } else {
            Tensor::from_slice(x, (rows, width), &Device::Cpu)?
        };
        let out = matrix.forward(&input)?;
        let out = if padded { out.narrow(0, 0, 1)? } else { out };
        Ok(out.flatten_all()?.to_vec1()?)
    }

    /// Several matrices applied to the same rows, as [`apply`](Self::apply)
    /// applies each: Q8_0 matrices of one width share the activations'
    /// quantization and one hand-off to the threads.
    pub(crate) fn apply_group<const N: usize>(
        linears: [&Self; N],
        x: &[f32],
        rows: usize,
    ) -> Result<[Vec<f32>; N]> {
        #[cfg(target_arch = "x86_64")]
        {
            use super::kernels::q8_0::Q8Table;
            let tables: Vec<&Q8Table> = linears
                .iter()
                .filter_map(|linear| match linear {
                    Self::Q8Tiles(table) => Some(table),
                    Self::K(_) | Self::Candle { .. } => None,
                })
                .collect();
            if let Ok(tables) = <[&Q8Table; N]>::try_from(tables) {
                if tables.iter().all(|t| t.width() == tables[0].width()) {
                    return Ok(Q8Table::apply_group(tables, x, rows)?);
                }
            }
        }
        let mut outs = Vec::with_capacity(N);
        for linear in linears {
            outs.push(linear.apply(x, rows)?);
        }
        outs.try_into()
            .map_err(|_| super::Error::InvalidRequest("grouped product lost a matrix".into()))
    }

    /// Bytes held when the matrix was repacked rather than kept as read.
    fn repacked_bytes(&self) -> Option<usize> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::K(matrix) => Some(matrix.bytes()),
            #[cfg(target_arch = "x86_64")]
            Self::Q8Tiles(matrix) => Some(matrix.as_bytes().len()),
            _ => None,
        }
    }
}

/// The weights of one transformer block.
pub(crate) struct LayerWeights {
    pub(crate) attn_norm: Vec<f32>,
    pub(crate) q: Linear,
    pub(crate) k: Linear,
    pub(crate) v: Linear,
    pub(crate) q_norm: Vec<f32>,
    pub(crate) k_norm: Vec<f32>,
    pub(crate) o: Linear,
    pub(crate) post_attn_norm: Vec<f32>,
    pub(crate) ffn_norm: Vec<f32>,
    pub(crate) gate: Linear,
    pub(crate) up: Linear,
    pub(crate) down: Linear,
    pub(crate) post_ffn_norm: Vec<f32>,
}

/// All weights of the model.
pub(crate) struct Weights {
    /// `(vocab, hidden)`: input embedding and tied output head.
    pub(crate) tokens: TokenTable,
    pub(crate) output_norm: Vec<f32>,
    pub(crate) layers: Vec<LayerWeights>,
    /// Tensors read and bytes held, for the load log.
    pub(crate) tensor_count: usize,
    pub(crate) bytes: usize,
}

/// Reads tensors by name and keeps the tally.
struct Loader<'a, R> {
    content: &'a gguf_file::Content,
    reader: &'a mut R,
    tensor_count: usize,
    bytes: usize,
}

impl<R: Read + Seek> Loader<'_, R> {
    fn qtensor(&mut self, name: &str) -> Result<QTensor> {
        let tensor = self.content.tensor(self.reader, name, &Device::Cpu)?;
        self.tensor_count += 1;
        Ok(tensor)
    }

    /// A norm weight, kept in f32. Gemma's `1 + w` is already folded in.
    fn vector(&mut self, name: &str) -> Result<Vec<f32>> {
        let values: Vec<f32> = self.qtensor(name)?.dequantize(&Device::Cpu)?.to_vec1()?;
        self.bytes += values.len() * 4;
        Ok(values)
    }

    fn matrix(&mut self, name: &str) -> Result<Linear> {
        let mut tensor = self.qtensor(name)?;
        match tensor.dtype() {
            GgmlDType::Q5_0 => tensor = q5_0_to_q8_0(&tensor)?,
            // Not in the 270M file; no exact Q8_0 form (they have an
            // offset), so these are rounded once more.
            GgmlDType::Q5_1 | GgmlDType::Q4_1 => {
                let dense = tensor.dequantize(&Device::Cpu)?;
                tensor = QTensor::quantize(&dense, GgmlDType::Q8_0)?;
            }
            _ => {}
        }
        let stored = tensor.storage_size_in_bytes();
        let linear = Linear::new(tensor)?;
        self.bytes += linear.repacked_bytes().unwrap_or(stored);
        Ok(linear)
    }
}

impl Weights {
    pub(crate) fn load<R: Read + Seek>(
        content: &gguf_file::Content,
        reader: &mut R,
        config: &Config,
    ) -> Result<Self> {
        let mut loader = Loader {
            content,
            reader,
            tensor_count: 0,
            bytes: 0,
        };
        let tokens = TokenTable::new(loader.qtensor("token_embd.weight")?)?;
        loader.bytes += tokens.bytes();
        let output_norm = loader.vector("output_norm.weight")?;
        let mut layers = Vec::with_capacity(config.layers);
        for i in 0..config.layers {
            let name = |suffix: &str| format!("blk.{i}.{suffix}.weight");
            layers.push(LayerWeights {
                attn_norm: loader.vector(&name("attn_norm"))?,
                q: loader.matrix(&name("attn_q"))?,
                k: loader.matrix(&name("attn_k"))?,
                v: loader.matrix(&name("attn_v"))?,
                q_norm: loader.vector(&name("attn_q_norm"))?,
                k_norm: loader.vector(&name("attn_k_norm"))?,
                o: loader.matrix(&name("attn_output"))?,
                post_attn_norm: loader.vector(&name("post_attention_norm"))?,
                ffn_norm: loader.vector(&name("ffn_norm"))?,
                gate: loader.matrix(&name("ffn_gate"))?,
                up: loader.matrix(&name("ffn_up"))?,
                down: loader.matrix(&name("ffn_down"))?,
                post_ffn_norm: loader.vector(&name("post_ffw_norm"))?,
            });
        }
        Ok(Self {
            tokens,
            output_norm,
            layers,
            tensor_count: loader.tensor_count,
            bytes: loader.bytes,
        })
    }
}
