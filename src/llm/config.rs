//! The model's hyper-parameters, read from the GGUF metadata, with the
//! Gemma 3 defaults for the keys the 270M file leaves out.

use candle_core::quantized::gguf_file;

use super::{Error, Result};

/// Every n-th layer attends globally; the others use the sliding window.
/// The 270M file has no `attention.sliding_window_type` key; Gemma 3 uses 6
/// (layers 5, 11, 17 of 18 are global).
const DEFAULT_GLOBAL_EVERY: usize = 6;
/// RoPE base of the sliding-window layers (`rope.local_freq_base` is absent).
const DEFAULT_LOCAL_ROPE_BASE: f32 = 10_000.0;

/// Shapes and constants of a Gemma 3 text model.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Config {
    pub(crate) hidden: usize,
    pub(crate) layers: usize,
    pub(crate) heads: usize,
    pub(crate) kv_heads: usize,
    pub(crate) head_dim: usize,
    pub(crate) rms_eps: f32,
    pub(crate) sliding_window: usize,
    pub(crate) global_every: usize,
    pub(crate) rope_global_base: f32,
    pub(crate) rope_local_base: f32,
    /// Context the file was trained for; our tables may be smaller.
    pub(crate) trained_context: usize,
}

impl Config {
    /// Reads the `gemma3.*` keys.
    pub(crate) fn from_gguf(content: &gguf_file::Content) -> Result<Self> {
        let arch = content
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .map(String::as_str)
            .unwrap_or("gemma3");
        if arch != "gemma3" {
            return Err(Error::UnsupportedModel(format!(
                "architecture {arch:?}, expected gemma3"
            )));
        }
        let get = |key: &str| {
            content
                .metadata
                .get(&format!("gemma3.{key}"))
                .ok_or_else(|| Error::UnsupportedModel(format!("missing gemma3.{key}")))
        };
        let usize_of = |key: &str| -> Result<usize> { Ok(get(key)?.to_u32()? as usize) };
        let config = Self {
            hidden: usize_of("embedding_length")?,
            layers: usize_of("block_count")?,
            heads: usize_of("attention.head_count")?,
            kv_heads: usize_of("attention.head_count_kv")?,
            head_dim: usize_of("attention.key_length")?,
            rms_eps: get("attention.layer_norm_rms_epsilon")?.to_f32()?,
            sliding_window: usize_of("attention.sliding_window")?,
            global_every: match get("attention.sliding_window_type") {
                Ok(v) => v.to_u32()? as usize,
                Err(_) => DEFAULT_GLOBAL_EVERY,
            },
            rope_global_base: get("rope.freq_base")?.to_f32()?,
            rope_local_base: match get("rope.local_freq_base") {
                Ok(v) => v.to_f32()?,
                Err(_) => DEFAULT_LOCAL_ROPE_BASE,
            },
            trained_context: usize_of("context_length")?,
        };
        let value_dim = usize_of("attention.value_length")?;
        if value_dim != config.head_dim {
            return Err(Error::UnsupportedModel(format!(
                "value_length {value_dim} differs from key_length {}",
                config.head_dim
            )));
        }
        if config.kv_heads == 0
            || !config.heads.is_multiple_of(config.kv_heads)
            || config.global_every == 0
            || config.sliding_window == 0
            || !config.head_dim.is_multiple_of(2)
        {
            return Err(Error::UnsupportedModel(format!(
                "inconsistent attention shape {config:?}"
            )));
        }
        Ok(config)
    }

    /// Whether layer `index` attends to the whole context (else the window).
    pub(crate) fn is_global(&self, index: usize) -> bool {
        (index + 1).is_multiple_of(self.global_every)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gemma_270m() -> Config {
        Config {
            hidden: 640,
            layers: 18,
            heads: 4,
            kv_heads: 1,
            head_dim: 256,
            rms_eps: 1e-6,
            sliding_window: 512,
            global_every: 6,
            rope_global_base: 1e6,
            rope_local_base: 1e4,
            trained_context: 32768,
        }
    }

    #[test]
    fn every_sixth_layer_is_global() {
        let config = gemma_270m();
        let global: Vec<usize> = (0..config.layers)
            .filter(|&i| config.is_global(i))
            .collect();
        assert_eq!(global, vec![5, 11, 17]);
    }
}
