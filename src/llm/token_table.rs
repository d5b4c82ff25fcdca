//! The token table, read both ways: one row per input token (the
//! embedding) and as the tied output head (logits).
//!
//! Kept once, quantized, for both. On x86-64 a Q8_0 table (Gemma's) goes
//! to our tiles of sixteen rows (see `kernels::q8_0`), which keep the
//! head bound by memory up to four tokens, and whose every instruction set
//! gives the same bits. Any other table stays candle's, with its head
//! through [`Linear`]; a dequantized copy of Gemma's would be 671 MB.

use std::borrow::Cow;
use std::sync::Arc;

use candle_core::quantized::{QStorage, QTensor};
use candle_core::{Device, Tensor};

use super::linear::Linear;
use super::{Error, Result};

pub(crate) enum TokenTable {
    #[cfg(target_arch = "x86_64")]
    Q8(super::kernels::q8_0::Q8Table),
    Candle {
        table: Arc<QTensor>,
        head: Linear,
    },
}

impl TokenTable {
    /// The table of a `(vocabulary, hidden)` tensor.
    pub(crate) fn new(tensor: QTensor) -> Result<Self> {
        #[cfg(target_arch = "x86_64")]
        if let Some(table) = super::kernels::q8_0::Q8Table::new(&tensor) {
            drop(tensor);
            super::huge_pages::back_with_huge_pages(table.as_bytes());
            return Ok(Self::Q8(table));
        }
        let table = Arc::new(tensor);
        let head = Linear::shared(table.clone())?;
        Ok(Self::Candle { table, head })
    }

    /// Rows: the vocabulary.
    pub(crate) fn vocab_size(&self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Q8(table) => table.rows(),
            Self::Candle { table, .. } => table.shape().dims().first().copied().unwrap_or(0),
        }
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Q8(table) => table.as_bytes().len(),
            Self::Candle { table, .. } => table.storage_size_in_bytes(),
        }
    }

    /// The rows of `ids`, dequantized, one after the other.
    pub(crate) fn embed(&self, ids: &[u32]) -> Result<Vec<f32>> {
        self.check(ids)?;
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Q8(table) => {
                let width = table.width();
                let mut rows = vec![0f32; ids.len() * width];
                for (&id, row) in ids.iter().zip(rows.chunks_exact_mut(width)) {
                    table.row_into(id as usize, row);
                }
                Ok(rows)
            }
            Self::Candle { table, .. } => {
                let ids = Tensor::new(ids, &Device::Cpu)?;
                Ok(table.embedding(&ids)?.flatten_all()?.to_vec1()?)
            }
        }
    }

    /// The head's logits, every row of the table, for each of the `rows`
    /// hidden states (row-major), one after the other.
    pub(crate) fn logits(&self, hidden: &[f32], rows: usize) -> Result<Vec<f32>> {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Q8(table) => Ok(table.apply(hidden, rows)?),
            Self::Candle { head, .. } => head.apply(hidden, rows),
        }
    }

    /// [`logits`](Self::logits) with one vector per hidden state: what
    /// batched decoding hands each sequence (1 MB each, written once
    /// rather than copied out of a shared buffer).
    pub(crate) fn logits_each(&self, hidden: &[f32], rows: usize) -> Result<Vec<Vec<f32>>> {
        #[cfg(target_arch = "x86_64")]
        if let Self::Q8(table) = self {
            let mut out: Vec<Vec<f32>> = (0..rows).map(|_| vec![0f32; table.rows()]).collect();
            let mut slices: Vec<&mut [f32]> = out.iter_mut().map(Vec::as_mut_slice).collect();
            table.apply_into(hidden, &mut slices)?;
            return Ok(out);
        }
        let all = self.logits(hidden, rows)?;
        let vocab = self.vocab_size().max(1);
        Ok(all.chunks_exact(vocab).map(<[f32]>::to_vec).collect())
    }

    /// The logits of rows `ids` only, for one hidden state: the same values
    /// as [`logits`](Self::logits) gives them, reading only those rows.
    pub(crate) fn logits_of(&self, hidden: &[f32], ids: &[u32]) -> Result<Vec<f32>> {
        self.check(ids)?;
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Q8(table) => Ok(table.gather(ids).apply(hidden, 1)?),
            Self::Candle { table, .. } => gather_rows(table, ids)?.apply(hidden, 1),
        }
    }

    fn check(&self, ids: &[u32]) -> Result<()> {
        let vocab = self.vocab_size();
        match ids.iter().find(|&&id| id as usize >= vocab) {
            Some(bad) => Err(Error::InvalidRequest(format!(
                "token id {bad} out of vocabulary ({vocab})"
            ))),
            None => Ok(()),
        }
    }
}

/// A matrix of the listed rows of a quantized `(rows, cols)` table, still
/// quantized. Rows are whole blocks since `cols` is a multiple of the block.
fn gather_rows(table: &QTensor, ids: &[u32]) -> Result<Linear> {
    let dtype = table.dtype();
    let (_, cols) = table.shape().dims2()?;
    let row_bytes = cols / dtype.block_size() * dtype.type_size();
    let data = table.data()?;
    let mut bytes = Vec::with_capacity(ids.len() * row_bytes);
    for &id in ids {
        let start = id as usize * row_bytes;
        bytes.extend_from_slice(&data[start..start + row_bytes]);
    }
    let storage = QStorage::from_data(Cow::Owned(bytes), &Device::Cpu, dtype)?;
    Linear::new(QTensor::new(storage, (ids.len(), cols))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::quantized::GgmlDType;

    fn tables(dtype: GgmlDType) -> Vec<TokenTable> {
        let dense = Tensor::randn(0f32, 1.0, (40, 256), &Device::Cpu).unwrap();
        let q = || QTensor::quantize(&dense, dtype).unwrap();
        let table = Arc::new(q());
        let candle = TokenTable::Candle {
            head: Linear::shared(table.clone()).unwrap(),
            table,
        };
        vec![TokenTable::new(q()).unwrap(), candle]
    }

    #[test]
    fn gathered_rows_give_the_same_logits_as_the_whole_head() {
        let x: Vec<f32> = Tensor::randn(0f32, 1.0, (1, 256), &Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let ids = [39u32, 0, 7, 7, 21];
        for dtype in [GgmlDType::Q8_0, GgmlDType::Q4K] {
            for table in tables(dtype) {
                let full = table.logits(&x, 1).unwrap();
                let some = table.logits_of(&x, &ids).unwrap();
                for (&id, value) in ids.iter().zip(some) {
                    assert_eq!(full[id as usize].to_bits(), value.to_bits(), "row {id}");
                }
                let each = table
                    .logits_each(&[x.clone(), x.clone()].concat(), 2)
                    .unwrap();
                assert_eq!(each, vec![full.clone(), full]);
            }
        }
    }

    #[test]
    fn rows_are_looked_up_alike_either_way_and_ids_are_checked() {
        let [ours, candle]: [TokenTable; 2] = tables(GgmlDType::Q8_0).try_into().ok().unwrap();
        let ids = [3u32, 39, 0];
        assert_eq!(ours.embed(&ids).unwrap(), candle.embed(&ids).unwrap());
        assert_eq!(ours.vocab_size(), 40);
        assert!(ours.embed(&[40]).is_err());
        assert!(candle.logits_of(&[0.0; 256], &[41]).is_err());
    }
}
