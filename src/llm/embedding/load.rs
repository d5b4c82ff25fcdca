//! Reading EmbeddingGemma out of the zipped sentence-transformers folder.
//!
//! The zip's members are deflated, so they are read as streams, in order:
//! the safetensors header says where each tensor lies, tensors are read in
//! the order of their offsets, and each weight matrix is quantised to Q8_0
//! a few hundred rows at a time. Memory beyond the quantised model is a
//! few megabytes, never the 805 MB F32 token table.
//!
//! Every setting the forward pass relies on is checked against the
//! folder's own configuration files rather than assumed: mean pooling, two
//! dense layers without bias or activation, a final normalisation.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use candle_core::quantized::k_quants::{BlockQ8_0, GgmlType};
use candle_core::quantized::{QStorage, QTensor};
use candle_core::{Device, Tensor};
use serde::Deserialize;

use super::super::config::Config;
use super::super::linear::Linear;
use super::super::weights::LayerWeights;
use super::super::{Error, Result};
use super::Prompts;

/// What the zip holds, ready for [`super::Embedder`].
pub(super) struct Parts {
    pub(super) config: Config,
    pub(super) embed: Arc<QTensor>,
    pub(super) layers: Vec<LayerWeights>,
    pub(super) output_norm: Vec<f32>,
    pub(super) dense: [Tensor; 2],
    pub(super) prompts: Prompts,
    pub(super) bytes: usize,
}

fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::UnsupportedModel(format!("embedding model: {what}"))
}

/// `config.json` of a Gemma 3 text model, the keys we use.
#[derive(Debug, Deserialize)]
struct HfConfig {
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    num_key_value_heads: usize,
    head_dim: usize,
    rms_norm_eps: f32,
    sliding_window: usize,
    #[serde(rename = "_sliding_window_pattern")]
    sliding_window_pattern: usize,
    layer_types: Vec<String>,
    rope_theta: f32,
    rope_local_base_freq: f32,
    max_position_embeddings: usize,
    query_pre_attn_scalar: f32,
    hidden_activation: String,
    #[serde(default)]
    use_bidirectional_attention: bool,
}

impl HfConfig {
    fn to_config(&self) -> Result<Config> {
        if !self.use_bidirectional_attention {
            return Err(unsupported(
                "config.json does not ask for bidirectional attention",
            ));
        }
        let config = Config {
            hidden: self.hidden_size,
            layers: self.num_hidden_layers,
            heads: self.num_attention_heads,
            kv_heads: self.num_key_value_heads,
            head_dim: self.head_dim,
            rms_eps: self.rms_norm_eps,
            // A bidirectional Gemma 3 splits its window around the token:
            // transformers sets it to `sliding_window / 2 + 1` (257 of 512),
            // and a token sees the keys less than that many positions away
            // on either side (measured: the full 512 moved a 474-token
            // text's vector to cosine 0.9968 of the reference).
            sliding_window: self.sliding_window / 2 + 1,
            global_every: self.sliding_window_pattern,
            rope_global_base: self.rope_theta,
            rope_local_base: self.rope_local_base_freq,
            trained_context: self.max_position_embeddings,
        };
        if self.hidden_activation != "gelu_pytorch_tanh" {
            return Err(unsupported(format!(
                "activation {:?}, expected gelu_pytorch_tanh",
                self.hidden_activation
            )));
        }
        // The blocks scale scores by 1/sqrt(head_dim).
        if self.query_pre_attn_scalar != self.head_dim as f32 {
            return Err(unsupported(format!(
                "query_pre_attn_scalar {} differs from head_dim {}",
                self.query_pre_attn_scalar, self.head_dim
            )));
        }
        if config.global_every == 0
            || config.kv_heads == 0
            || !config.heads.is_multiple_of(config.kv_heads)
            || self.layer_types.len() != config.layers
        {
            return Err(unsupported(format!("inconsistent shape {config:?}")));
        }
        for (i, kind) in self.layer_types.iter().enumerate() {
            let expected = if config.is_global(i) {
                "full_attention"
            } else {
                "sliding_attention"
            };
            if kind != expected {
                return Err(unsupported(format!(
                    "layer {i} is {kind:?}, the pattern says {expected:?}"
                )));
            }
        }
        Ok(config)
    }
}

#[derive(Debug, Deserialize)]
struct SentenceTransformersConfig {
    prompts: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct PoolingConfig {
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
}

#[derive(Debug, Deserialize)]
struct DenseConfig {
    in_features: usize,
    out_features: usize,
    bias: bool,
    activation_function: String,
}

#[derive(Debug, Deserialize)]
struct Module {
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

/// A tensor's entry in a safetensors header.
#[derive(Debug, Deserialize)]
struct TensorInfo {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [u64; 2],
}

/// The zip, with the folder prefix its members share.
struct Folder {
    archive: zip::ZipArchive<BufReader<File>>,
    prefix: String,
}

impl Folder {
    fn open(path: &Path) -> Result<Self> {
        let file = File::open(path)?;
        let archive = zip::ZipArchive::new(BufReader::new(file))
            .map_err(|e| unsupported(format!("{}: not a readable zip: {e}", path.display())))?;
        // The folder is the one holding `modules.json`, at any depth.
        let prefix = archive
            .file_names()
            .filter_map(|name| name.strip_suffix("modules.json"))
            .filter(|prefix| prefix.is_empty() || prefix.ends_with('/'))
            .min_by_key(|prefix| prefix.len())
            .map(str::to_owned)
            .ok_or_else(|| unsupported("no modules.json: not a sentence-transformers folder"))?;
        Ok(Self { archive, prefix })
    }

    fn member(&mut self, name: &str) -> Result<zip::read::ZipFile<'_, BufReader<File>>> {
        let full = format!("{}{name}", self.prefix);
        self.archive
            .by_name(&full)
            .map_err(|e| unsupported(format!("{full}: {e}")))
    }

    fn bytes(&mut self, name: &str) -> Result<Vec<u8>> {
        let mut member = self.member(name)?;
        let mut bytes = Vec::with_capacity(member.size() as usize);
        member.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, name: &str) -> Result<T> {
        let bytes = self.bytes(name)?;
        serde_json::from_slice(&bytes).map_err(|e| unsupported(format!("{name}: {e}")))
    }
}

/// Reads and checks everything the embedder needs from the zip at `path`.
pub(super) fn read_zip(path: &Path) -> Result<Parts> {
    let mut folder = Folder::open(path)?;
    let config = folder.json::<HfConfig>("config.json")?.to_config()?;
    let modules: Vec<Module> = folder.json("modules.json")?;
    let kinds: Vec<&str> = modules
        .iter()
        .map(|m| m.kind.rsplit('.').next().unwrap_or_default())
        .collect();
    if kinds != ["Transformer", "Pooling", "Dense", "Dense", "Normalize"] {
        return Err(unsupported(format!(
            "modules {kinds:?}, expected Transformer, Pooling, Dense, Dense, Normalize"
        )));
    }
    let pooling: PoolingConfig = folder.json(&format!("{}/config.json", modules[1].path))?;
    if !pooling.pooling_mode_mean_tokens
        || pooling.pooling_mode_cls_token
        || pooling.pooling_mode_max_tokens
        || pooling.pooling_mode_lasttoken
    {
        return Err(unsupported("pooling is not a plain mean of the tokens"));
    }
    let sentence: SentenceTransformersConfig = folder.json("config_sentence_transformers.json")?;
    let prompt = |name: &str| {
        sentence
            .prompts
            .get(name)
            .cloned()
            .ok_or_else(|| unsupported(format!("no {name:?} prompt")))
    };
    let query = prompt("query")?;
    let prompts = Prompts {
        // A model without a classification prompt sorts messages as it
        // searches.
        classification: prompt("Classification").unwrap_or_else(|_| query.clone()),
        query,
        document: prompt("document")?,
    };

    let mut dense = Vec::with_capacity(2);
    let mut width = config.hidden;
    for module in &modules[2..4] {
        let settings: DenseConfig = folder.json(&format!("{}/config.json", module.path))?;
        if settings.bias
            || !settings.activation_function.ends_with("Identity")
            || settings.in_features != width
        {
            return Err(unsupported(format!("dense layer {settings:?}")));
        }
        let member = folder.member(&format!("{}/model.safetensors", module.path))?;
        let mut tensors = read_safetensors(member, |_, _| Kind::Dense)?;
        let weight = tensors
            .dense
            .remove("linear.weight")
            .ok_or_else(|| unsupported(format!("{}: no linear.weight", module.path)))?;
        if weight.dims() != [settings.out_features, settings.in_features] {
            return Err(unsupported(format!(
                "{}: shape {:?}",
                module.path,
                weight.dims()
            )));
        }
        width = settings.out_features;
        dense.push(weight);
    }
    if width != config.hidden {
        return Err(unsupported(
            "the dense layers do not come back to the hidden size",
        ));
    }
    let dense: [Tensor; 2] = dense
        .try_into()
        .map_err(|_| unsupported("expected two dense layers"))?;

    let member = folder.member("model.safetensors")?;
    let mut tensors = read_safetensors(member, |name, shape| {
        if shape.len() == 1 {
            Kind::Norm
        } else if name.ends_with("proj.weight") || name == "embed_tokens.weight" {
            Kind::Quantized
        } else {
            Kind::Dense
        }
    })?;
    let mut norm = |name: &str| {
        tensors
            .norms
            .remove(name)
            .ok_or_else(|| unsupported(format!("missing {name}")))
    };
    let output_norm = norm("norm.weight")?;
    let mut layer_norms = Vec::with_capacity(config.layers);
    for i in 0..config.layers {
        let name = |suffix: &str| format!("layers.{i}.{suffix}.weight");
        layer_norms.push([
            norm(&name("input_layernorm"))?,
            norm(&name("self_attn.q_norm"))?,
            norm(&name("self_attn.k_norm"))?,
            norm(&name("post_attention_layernorm"))?,
            norm(&name("pre_feedforward_layernorm"))?,
            norm(&name("post_feedforward_layernorm"))?,
        ]);
    }
    let mut matrix = |name: &str| -> Result<QTensor> {
        tensors
            .quantized
            .remove(name)
            .ok_or_else(|| unsupported(format!("missing {name}")))
    };
    let embed = matrix("embed_tokens.weight")?;
    if embed.shape().dims() != [embed.shape().dims()[0], config.hidden] {
        return Err(unsupported("token table of the wrong width"));
    }
    let mut bytes = embed.storage_size_in_bytes();
    let mut layers = Vec::with_capacity(config.layers);
    for (i, [attn_norm, q_norm, k_norm, post_attn_norm, ffn_norm, post_ffn_norm]) in
        layer_norms.into_iter().enumerate()
    {
        let mut linear = |suffix: &str| -> Result<Linear> {
            let tensor = matrix(&format!("layers.{i}.{suffix}.weight"))?;
            bytes += tensor.storage_size_in_bytes();
            Linear::new(tensor)
        };
        layers.push(LayerWeights {
            attn_norm,
            q: linear("self_attn.q_proj")?,
            k: linear("self_attn.k_proj")?,
            v: linear("self_attn.v_proj")?,
            q_norm,
            k_norm,
            o: linear("self_attn.o_proj")?,
            post_attn_norm,
            ffn_norm,
            gate: linear("mlp.gate_proj")?,
            up: linear("mlp.up_proj")?,
            down: linear("mlp.down_proj")?,
            post_ffn_norm,
        });
    }
    bytes += dense.iter().map(|d| d.elem_count() * 4).sum::<usize>();
    Ok(Parts {
        config,
        embed: Arc::new(embed),
        layers,
        output_norm,
        dense,
        prompts,
        bytes,
    })
}

/// How a tensor is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An RMS norm's weight, kept in F32 with Gemma's `1 + w` folded in.
    Norm,
    /// A weight matrix, quantised to Q8_0 as it streams in.
    Quantized,
    /// A small matrix kept in F32.
    Dense,
}

#[derive(Default)]
struct Tensors {
    norms: HashMap<String, Vec<f32>>,
    quantized: HashMap<String, QTensor>,
    dense: HashMap<String, Tensor>,
}

/// Rows quantised at a time: a few megabytes of F32.
const ROWS_AT_ONCE: usize = 1024;

/// Reads a safetensors stream front to back, keeping each tensor as
/// `kind_of(name, shape)` says.
fn read_safetensors(
    mut reader: impl Read,
    kind_of: impl Fn(&str, &[usize]) -> Kind,
) -> Result<Tensors> {
    let mut length = [0u8; 8];
    reader.read_exact(&mut length)?;
    let length = u64::from_le_bytes(length);
    if length > 100_000_000 {
        return Err(unsupported("safetensors header too long"));
    }
    let mut header = vec![0u8; length as usize];
    reader.read_exact(&mut header)?;
    let mut entries: HashMap<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| unsupported(format!("safetensors header: {e}")))?;
    entries.remove("__metadata__");
    let mut infos: Vec<(String, TensorInfo)> = entries
        .into_iter()
        .map(|(name, value)| {
            let info: TensorInfo = serde_json::from_value(value)
                .map_err(|e| unsupported(format!("safetensors entry {name}: {e}")))?;
            Ok((name, info))
        })
        .collect::<Result<_>>()?;
    infos.sort_by_key(|(_, info)| info.data_offsets[0]);

    let mut tensors = Tensors::default();
    let mut at = 0u64;
    for (name, info) in infos {
        let [start, end] = info.data_offsets;
        let elements: usize = info.shape.iter().product();
        if info.dtype != "F32" || start < at || end - start != elements as u64 * 4 {
            return Err(unsupported(format!(
                "tensor {name}: {} {:?} at {start}..{end}",
                info.dtype, info.shape
            )));
        }
        std::io::copy(&mut (&mut reader).take(start - at), &mut std::io::sink())?;
        at = end;
        match kind_of(&name, &info.shape) {
            Kind::Norm => {
                let mut values = read_f32(&mut reader, elements)?;
                values.iter_mut().for_each(|w| *w += 1.0);
                tensors.norms.insert(name, values);
            }
            Kind::Dense => {
                let values = read_f32(&mut reader, elements)?;
                let tensor = Tensor::from_vec(values, info.shape.as_slice(), &Device::Cpu)?;
                tensors.dense.insert(name, tensor);
            }
            Kind::Quantized => {
                let tensor = read_q8_0(&mut reader, &name, &info.shape)?;
                tensors.quantized.insert(name, tensor);
            }
        }
    }
    Ok(tensors)
}

fn read_f32(reader: &mut impl Read, count: usize) -> Result<Vec<f32>> {
    let mut bytes = vec![0u8; count * 4];
    reader.read_exact(&mut bytes)?;
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// A `(rows, cols)` F32 matrix from the stream, quantised to Q8_0 in
/// slices of rows.
fn read_q8_0(reader: &mut impl Read, name: &str, shape: &[usize]) -> Result<QTensor> {
    let &[rows, cols] = shape else {
        return Err(unsupported(format!(
            "{name}: shape {shape:?} is not a matrix"
        )));
    };
    let per_block = BlockQ8_0::BLCK_SIZE;
    if cols == 0 || !cols.is_multiple_of(per_block) {
        return Err(unsupported(format!(
            "{name}: {cols} columns are not whole blocks of {per_block}"
        )));
    }
    let blocks_per_row = cols / per_block;
    let mut blocks = vec![BlockQ8_0::zeros(); rows * blocks_per_row];
    for (slice, out) in blocks.chunks_mut(ROWS_AT_ONCE * blocks_per_row).enumerate() {
        let first = slice * ROWS_AT_ONCE;
        let count = out.len() / blocks_per_row;
        let values = read_f32(reader, count * cols)?;
        debug_assert!(first + count <= rows);
        BlockQ8_0::from_float(&values, out);
    }
    Ok(QTensor::new(QStorage::Cpu(Box::new(blocks)), (rows, cols))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A safetensors stream of `tensors` (name, shape, values), in order.
    fn safetensors(tensors: &[(&str, Vec<usize>, Vec<f32>)]) -> Vec<u8> {
        let mut header = serde_json::Map::new();
        let mut offset = 0u64;
        for (name, shape, values) in tensors {
            let end = offset + values.len() as u64 * 4;
            header.insert(
                name.to_string(),
                serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}),
            );
            offset = end;
        }
        header.insert("__metadata__".into(), serde_json::json!({"format": "pt"}));
        let header = serde_json::to_vec(&header).unwrap_or_default();
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header);
        for (_, _, values) in tensors {
            bytes.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        }
        bytes
    }

    #[test]
    fn streams_norms_dense_and_quantised_matrices() {
        let matrix: Vec<f32> = (0..3 * 64).map(|i| (i as f32 - 90.0) / 50.0).collect();
        let bytes = safetensors(&[
            ("norm.weight", vec![4], vec![0.0, 0.5, -1.0, 2.0]),
            ("layers.0.mlp.up_proj.weight", vec![3, 64], matrix.clone()),
            ("linear.weight", vec![2, 2], vec![1.0, 2.0, 3.0, 4.0]),
        ]);
        let tensors = read_safetensors(bytes.as_slice(), |name, shape| {
            if shape.len() == 1 {
                Kind::Norm
            } else if name.ends_with("proj.weight") {
                Kind::Quantized
            } else {
                Kind::Dense
            }
        })
        .unwrap();
        assert_eq!(tensors.norms["norm.weight"], vec![1.0, 1.5, 0.0, 3.0]);
        let dense: Vec<Vec<f32>> = tensors.dense["linear.weight"].to_vec2().unwrap();
        assert_eq!(dense, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        let q = &tensors.quantized["layers.0.mlp.up_proj.weight"];
        assert_eq!(q.shape().dims(), [3, 64]);
        let back: Vec<f32> = q
            .dequantize(&Device::Cpu)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        for (got, want) in back.iter().zip(&matrix) {
            assert!((got - want).abs() < 0.02, "{got} vs {want}");
        }
    }

    #[test]
    fn refuses_a_matrix_that_is_not_whole_blocks() {
        let bytes = safetensors(&[("a.proj.weight", vec![2, 3], vec![0.0; 6])]);
        let result = read_safetensors(bytes.as_slice(), |_, _| Kind::Quantized);
        assert!(matches!(result, Err(Error::UnsupportedModel(_))));
    }
}
