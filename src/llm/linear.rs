//! A quantized weight matrix applied to rows of activations, through the
//! fastest kernel this CPU has: our Q8_0 or K-quant tiles on AVX-512 and
//! AVX2 (see `kernels`), candle's kernels otherwise.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Module, Tensor};

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
    pub(crate) fn repacked_bytes(&self) -> Option<usize> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::K(matrix) => Some(matrix.bytes()),
            #[cfg(target_arch = "x86_64")]
            Self::Q8Tiles(matrix) => Some(matrix.as_bytes().len()),
            _ => None,
        }
    }
}
