//! Reads the SentencePiece vocabulary out of GGUF metadata.
//!
//! This is the only place that knows the `tokenizer.ggml.*` key names and
//! value encodings; it borrows the piece strings from the parsed file instead
//! of copying them. It checks what the tokenizer builder relies on (equal
//! array lengths, ids in range, a SentencePiece model without the space
//! prefix) so a different GGUF fails at load, not with wrong tokens later.

use super::{Error, Result};
use candle_core::quantized::gguf_file::{Content, Value};

/// The vocabulary exactly as the GGUF stores it, indexed by token id.
pub(crate) struct RawVocab<'a> {
    pub(crate) pieces: Vec<&'a str>,
    pub(crate) scores: Vec<f32>,
    pub(crate) types: Vec<TokenType>,
    pub(crate) bos: u32,
    pub(crate) eos: u32,
    pub(crate) unk: Option<u32>,
}

/// llama.cpp's token attribute (`tokenizer.ggml.token_type`, values 1 to 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenType {
    Normal,
    Unknown,
    Control,
    UserDefined,
    Unused,
    Byte,
}

impl TokenType {
    fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => Self::Normal,
            2 => Self::Unknown,
            3 => Self::Control,
            4 => Self::UserDefined,
            5 => Self::Unused,
            6 => Self::Byte,
            _ => return None,
        })
    }
}

const TOKENS: &str = "tokenizer.ggml.tokens";
const SCORES: &str = "tokenizer.ggml.scores";
const TYPES: &str = "tokenizer.ggml.token_type";
const MODEL: &str = "tokenizer.ggml.model";
const BOS: &str = "tokenizer.ggml.bos_token_id";
const EOS: &str = "tokenizer.ggml.eos_token_id";
const UNK: &str = "tokenizer.ggml.unknown_token_id";
const SPACE_PREFIX: &str = "tokenizer.ggml.add_space_prefix";

/// Extracts and validates the vocabulary from parsed GGUF metadata.
pub(crate) fn read_vocab(content: &Content) -> Result<RawVocab<'_>> {
    let meta = |key: &'static str| {
        content
            .metadata
            .get(key)
            .ok_or(Error::MissingMetadata { key })
    };
    let bad = |key: &'static str, reason: String| Error::BadMetadata { key, reason };

    // "llama" is llama.cpp's name for a SentencePiece (score-driven) model;
    // the BPE translation below is only valid for that kind.
    match meta(MODEL)? {
        Value::String(model) if model == "llama" => {}
        other => {
            return Err(Error::Unsupported(format!(
                "{MODEL} is {other:?}, only SentencePiece (\"llama\") is supported"
            )))
        }
    }
    // With a space prefix llama.cpp prepends "▁" to the text; Gemma 3 does
    // not, and we do not build the matching normalizer.
    if let Some(Value::Bool(true)) = content.metadata.get(SPACE_PREFIX) {
        return Err(Error::Unsupported(format!("{SPACE_PREFIX} = true")));
    }

    let pieces = array(meta(TOKENS)?)
        .ok_or_else(|| bad(TOKENS, "not an array".into()))?
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.as_str()),
            other => Err(bad(TOKENS, format!("element {other:?} is not a string"))),
        })
        .collect::<Result<Vec<_>>>()?;
    let scores = array(meta(SCORES)?)
        .ok_or_else(|| bad(SCORES, "not an array".into()))?
        .iter()
        .map(|v| match v {
            Value::F32(x) => Ok(*x),
            Value::F64(x) => Ok(*x as f32),
            other => Err(bad(SCORES, format!("element {other:?} is not a float"))),
        })
        .collect::<Result<Vec<_>>>()?;
    let types = array(meta(TYPES)?)
        .ok_or_else(|| bad(TYPES, "not an array".into()))?
        .iter()
        .map(|v| {
            integer(v)
                .and_then(TokenType::from_code)
                .ok_or_else(|| bad(TYPES, format!("element {v:?} is not a token type")))
        })
        .collect::<Result<Vec<_>>>()?;

    let n = pieces.len();
    if scores.len() != n || types.len() != n {
        return Err(bad(
            TOKENS,
            format!(
                "{n} tokens but {} scores and {} types",
                scores.len(),
                types.len()
            ),
        ));
    }
    let id = |key: &'static str, value: &Value| -> Result<u32> {
        integer(value)
            .and_then(|x| u32::try_from(x).ok())
            .filter(|&x| (x as usize) < n)
            .ok_or_else(|| bad(key, format!("{value:?} is not a token id below {n}")))
    };
    let bos = id(BOS, meta(BOS)?)?;
    let eos = id(EOS, meta(EOS)?)?;
    let unk = content.metadata.get(UNK).map(|v| id(UNK, v)).transpose()?;
    Ok(RawVocab {
        pieces,
        scores,
        types,
        bos,
        eos,
        unk,
    })
}

fn array(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Array(items) => Some(items),
        _ => None,
    }
}

/// Any GGUF integer, since writers differ on the width and signedness.
fn integer(value: &Value) -> Option<i64> {
    Some(match *value {
        Value::U8(x) => x.into(),
        Value::I8(x) => x.into(),
        Value::U16(x) => x.into(),
        Value::I16(x) => x.into(),
        Value::U32(x) => x.into(),
        Value::I32(x) => x.into(),
        Value::U64(x) => i64::try_from(x).ok()?,
        Value::I64(x) => x,
        _ => return None,
    })
}
