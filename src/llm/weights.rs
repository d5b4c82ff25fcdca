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

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::Device;

use super::config::Config;
use super::linear::Linear;
use super::requant::q5_0_to_q8_0;
use super::token_table::TokenTable;
use super::Result;

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
