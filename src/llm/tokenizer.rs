//! The Gemma 3 tokenizer, built at load time from the GGUF's vocabulary.
//!
//! The GGUF carries a SentencePiece vocabulary (pieces, scores, types) but no
//! `tokenizer.json`, so we translate it into a `tokenizers` BPE model whose
//! merges are derived from the scores (see `merges.rs`); the result reproduces
//! llama.cpp's ids exactly on our reference vectors. The type separates the
//! two trust levels of text: user and document text can never produce a
//! control token such as `<start_of_turn>`, while our own prompt templates
//! can. Decoding is done here from the raw pieces, and shared with the
//! streaming [`crate::llm::detokenizer`]. Synchronous; depends only on the
//! parsed GGUF metadata, never on the model weights.

mod gguf;
mod hf;
mod merges;
mod pieces;

use candle_core::quantized::gguf_file;
use gguf::{RawVocab, TokenType};
use pieces::{parse_byte_piece, PieceTable};
use std::collections::HashMap;
use std::time::Instant;
use tokenizers::Tokenizer;

/// Errors raised while building the tokenizer or converting text and ids.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `tokenizer.ggml.*` key the tokenizer needs is absent.
    #[error("GGUF metadata `{key}` is missing")]
    MissingMetadata {
        /// The missing key.
        key: &'static str,
    },
    /// A `tokenizer.ggml.*` key has the wrong type or an impossible value.
    #[error("GGUF metadata `{key}` is malformed: {reason}")]
    BadMetadata {
        /// The offending key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The GGUF describes a tokenizer this module cannot reproduce.
    #[error("unsupported tokenizer: {0}")]
    Unsupported(String),
    /// An id outside the vocabulary was given to decode.
    #[error("token id {0} is outside the vocabulary")]
    UnknownId(u32),
    /// The `tokenizers` crate failed (its errors are boxed trait objects).
    #[error("tokenizers: {0}")]
    Tokenizers(#[from] tokenizers::Error),
}

/// Result alias for this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The SentencePiece word-boundary marker that stands for a space.
const SPACE_MARKER: char = '▁';

/// How a token turns back into bytes when decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Its piece, with `▁` read as a space.
    Text,
    /// Nothing: control tokens are markup for the model, not text.
    Control,
    /// One raw byte (`<0xE2>`), possibly part of a multi-byte character.
    Byte(u8),
}

/// The Gemma 3 tokenizer. `Send + Sync`; share it through an `Arc`.
///
/// One `tokenizers::Tokenizer` (about 105 MiB of RSS once built, measured
/// on Gemma 3's 262k-piece vocabulary) is configured with
/// `encode_special_tokens(true)`, the safe mode for untrusted text. Template
/// text is encoded by cutting it at control-token strings ourselves and
/// encoding the pieces between them in that same mode (see
/// [`TextTokenizer::encode_template`]); a second instance configured the
/// other way would double the memory for a handful of markers.
pub struct TextTokenizer {
    inner: Tokenizer,
    pieces: PieceTable,
    kinds: Vec<Kind>,
    /// Control pieces recognised in template text, by their exact string.
    controls: HashMap<Box<str>, u32>,
    bos: u32,
    eos: u32,
    stops: Vec<u32>,
}

impl TextTokenizer {
    /// Builds the tokenizer from the GGUF's `tokenizer.ggml.*` metadata.
    pub fn from_gguf(content: &gguf_file::Content) -> Result<Self> {
        let start = Instant::now();
        let tokenizer = Self::from_raw(gguf::read_vocab(content)?)?;
        tracing::info!(
            vocab = tokenizer.vocab_size(),
            elapsed_ms = start.elapsed().as_millis() as u64,
            "tokenizer built from GGUF metadata"
        );
        Ok(tokenizer)
    }

    /// Builds the tokenizer from a vocabulary already read (also used by
    /// unit tests with tiny synthetic vocabularies).
    fn from_raw(raw: RawVocab<'_>) -> Result<Self> {
        let RawVocab {
            pieces: gguf_pieces,
            scores,
            types,
            bos,
            eos,
            unk,
        } = raw;

        // Every later pass reads the pieces; one contiguous copy is kept for
        // `token_to_piece` anyway, and reading from it is markedly faster
        // than chasing the GGUF's 262k separately allocated strings.
        let table = PieceTable::new(&gguf_pieces);
        let pieces = table.all();
        let mut kinds = Vec::with_capacity(pieces.len());
        for (&piece, &ty) in pieces.iter().zip(&types) {
            kinds.push(match ty {
                TokenType::Normal | TokenType::UserDefined | TokenType::Unused => Kind::Text,
                TokenType::Control | TokenType::Unknown => Kind::Control,
                TokenType::Byte => {
                    Kind::Byte(parse_byte_piece(piece).ok_or_else(|| Error::BadMetadata {
                        key: "tokenizer.ggml.tokens",
                        reason: format!("byte token {piece:?} is not of the form <0xHH>"),
                    })?)
                }
            });
        }

        let inner = hf::assemble(&pieces, &scores, &types, bos, unk)?;

        let controls = control_matcher(&pieces, &kinds);
        let mut stops = vec![eos];
        stops.extend(controls.get("<end_of_turn>").filter(|&&id| id != eos));

        Ok(Self {
            inner,
            pieces: table,
            kinds,
            controls,
            bos,
            eos,
            stops,
        })
    }

    /// Encodes user or document text, without BOS. Control-token strings
    /// such as `<start_of_turn>` stay plain text, so untrusted text cannot
    /// steer the conversation structure.
    pub fn encode_text(&self, text: &str) -> Result<Vec<u32>> {
        let encoding = self.inner.encode_fast(text, false)?;
        Ok(encoding.get_ids().to_vec())
    }

    /// Same as [`Self::encode_text`] with BOS first: what llama.cpp's
    /// `tokenize(add_bos=True, special=False)` returns.
    pub fn encode_with_bos(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 2);
        ids.push(self.bos);
        ids.extend(self.encode_text(text)?);
        Ok(ids)
    }

    /// Encodes trusted template text written by our own code, without BOS:
    /// control tokens such as `<start_of_turn>` are recognised.
    ///
    /// The text is cut at each control-token string and the stretches in
    /// between are encoded as text. That is what the added-token matcher
    /// would do: every Gemma control token has the form `<…>` with no inner
    /// angle bracket, so at a given `<` at most one candidate exists (the
    /// leftmost-longest match is the only one), and no user-defined token
    /// can overlap one, so splitting first never changes the rest.
    pub fn encode_template(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        let mut plain_from = 0;
        let mut at = 0;
        while let Some(offset) = text[at..].find('<') {
            let open = at + offset;
            let Some(len) = text[open + 1..].find(['<', '>']) else {
                break;
            };
            let close = open + 1 + len;
            if text.as_bytes()[close] == b'<' {
                at = close;
                continue;
            }
            if let Some(&id) = self.controls.get(&text[open..=close]) {
                ids.extend(self.encode_text(&text[plain_from..open])?);
                ids.push(id);
                plain_from = close + 1;
            }
            at = close + 1;
        }
        ids.extend(self.encode_text(&text[plain_from..])?);
        Ok(ids)
    }

    /// Decodes ids to text. Control tokens produce nothing; byte tokens are
    /// joined into characters, and bytes that never form valid UTF-8 become
    /// U+FFFD (one per maximal invalid run, as `String::from_utf8_lossy`).
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        let mut bytes = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            self.push_bytes(id, &mut bytes)?;
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Appends the bytes token `id` decodes to; the streaming decoder uses
    /// this so that streamed and whole decodes agree by construction.
    pub(crate) fn push_bytes(&self, id: u32, out: &mut Vec<u8>) -> Result<()> {
        match self.kinds.get(id as usize) {
            None => return Err(Error::UnknownId(id)),
            Some(Kind::Control) => {}
            Some(Kind::Byte(byte)) => out.push(*byte),
            Some(Kind::Text) => {
                let piece = self.token_to_piece(id).ok_or(Error::UnknownId(id))?;
                for (i, part) in piece.split(SPACE_MARKER).enumerate() {
                    if i > 0 {
                        out.push(b' ');
                    }
                    out.extend_from_slice(part.as_bytes());
                }
            }
        }
        Ok(())
    }

    /// The raw vocabulary piece of `id` (`▁` for spaces, `<0xE2>` for bytes).
    pub fn token_to_piece(&self, id: u32) -> Option<&str> {
        self.pieces.get(id)
    }

    /// The id of a raw vocabulary piece (the first one if listed twice).
    pub fn piece_to_id(&self, piece: &str) -> Option<u32> {
        self.inner.token_to_id(piece)
    }

    /// The beginning-of-sequence id, which every prompt starts with.
    pub fn bos_id(&self) -> u32 {
        self.bos
    }

    /// The end-of-sequence id.
    pub fn eos_id(&self) -> u32 {
        self.eos
    }

    /// Number of ids, including control, user-defined and byte tokens.
    pub fn vocab_size(&self) -> usize {
        self.kinds.len()
    }

    /// Ids that end a turn or the text: EOS, and `<end_of_turn>` when the
    /// vocabulary has it.
    pub fn stop_ids(&self) -> Vec<u32> {
        self.stops.clone()
    }

    /// The underlying `tokenizers` tokenizer, in text mode (control-token
    /// strings are not matched; `encode(text, true)` prepends BOS).
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }
}

/// The control pieces [`TextTokenizer::encode_template`] can find: those of
/// the form `<…>` without inner brackets. Others (none in Gemma 3) are left
/// out with a warning rather than matched wrongly.
fn control_matcher(pieces: &[&str], kinds: &[Kind]) -> HashMap<Box<str>, u32> {
    let mut controls = HashMap::new();
    let mut skipped = 0usize;
    for (id, (&piece, kind)) in pieces.iter().zip(kinds).enumerate() {
        if *kind != Kind::Control {
            continue;
        }
        let inside = piece.strip_prefix('<').and_then(|p| p.strip_suffix('>'));
        match inside {
            Some(inside) if !inside.contains(['<', '>']) => {
                controls.entry(piece.into()).or_insert(id as u32);
            }
            _ => skipped += 1,
        }
    }
    if skipped > 0 {
        tracing::warn!(
            skipped,
            "control tokens not of the form <…> are not recognised in templates"
        );
    }
    controls
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tiny SentencePiece-like vocabulary: specials, a few merges, a
    /// user-defined newline and the 256 byte tokens for fallback.
    pub(crate) fn tiny() -> TextTokenizer {
        let mut owned: Vec<(String, f32, TokenType)> = [
            ("<pad>", TokenType::Control),
            ("<eos>", TokenType::Control),
            ("<bos>", TokenType::Control),
            ("<unk>", TokenType::Unknown),
            ("<start_of_turn>", TokenType::Control),
            ("<end_of_turn>", TokenType::Control),
            ("\n", TokenType::UserDefined),
        ]
        .into_iter()
        .map(|(p, ty)| (p.to_owned(), -1000.0, ty))
        .collect();
        owned.extend((0..=255u8).map(|b| (format!("<0x{b:02X}>"), 0.0, TokenType::Byte)));
        for (i, p) in ["▁", "a", "b", "é", "ab", "▁ab", "<", ">", "s"]
            .iter()
            .enumerate()
        {
            owned.push(((*p).to_owned(), -(i as f32), TokenType::Normal));
        }
        let raw = RawVocab {
            pieces: owned.iter().map(|(p, _, _)| p.as_str()).collect(),
            scores: owned.iter().map(|(_, s, _)| *s).collect(),
            types: owned.iter().map(|(_, _, t)| *t).collect(),
            bos: 2,
            eos: 1,
            unk: Some(3),
        };
        TextTokenizer::from_raw(raw).expect("the tiny vocabulary is well formed")
    }

    fn id(tok: &TextTokenizer, piece: &str) -> u32 {
        tok.piece_to_id(piece)
            .expect("piece is in the tiny vocabulary")
    }

    #[test]
    fn encode_applies_score_ranked_merges_and_spaces() {
        let tok = tiny();
        assert_eq!(
            tok.encode_text("ab ab").unwrap(),
            vec![id(&tok, "ab"), id(&tok, "▁ab")]
        );
        assert_eq!(tok.encode_with_bos("a").unwrap(), vec![2, id(&tok, "a")]);
        assert_eq!(tok.encode_text("").unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn unknown_characters_fall_back_to_bytes_and_decode_back() {
        let tok = tiny();
        let ids = tok.encode_text("aç").unwrap();
        assert_eq!(
            ids,
            vec![id(&tok, "a"), id(&tok, "<0xC3>"), id(&tok, "<0xA7>")]
        );
        assert_eq!(tok.decode(&ids).unwrap(), "aç");
    }

    #[test]
    fn control_strings_are_text_unless_in_a_template() {
        let tok = tiny();
        let text = "<start_of_turn>a\n<end_of_turn>";
        let plain = tok.encode_text(text).unwrap();
        assert!(!plain.contains(&4) && !plain.contains(&5), "{plain:?}");
        assert_eq!(
            tok.encode_template(text).unwrap(),
            vec![4, id(&tok, "a"), id(&tok, "\n"), 5]
        );
    }

    #[test]
    fn template_matching_handles_stray_brackets() {
        let tok = tiny();
        let lt = id(&tok, "<");
        let gt = id(&tok, ">");
        assert_eq!(tok.encode_template("<<eos>").unwrap(), vec![lt, 1]);
        assert_eq!(
            tok.encode_template("<s><eos>").unwrap(),
            vec![lt, id(&tok, "s"), gt, 1]
        );
        assert_eq!(
            tok.encode_template("<eos").unwrap(),
            tok.encode_text("<eos").unwrap()
        );
        assert_eq!(tok.encode_template("a<").unwrap(), vec![id(&tok, "a"), lt]);
    }

    #[test]
    fn decode_skips_controls_and_rejects_unknown_ids() {
        let tok = tiny();
        let ids = [2, id(&tok, "▁ab"), 5, 1];
        assert_eq!(tok.decode(&ids).unwrap(), " ab");
        assert!(matches!(
            tok.decode(&[99_999]),
            Err(Error::UnknownId(99_999))
        ));
        assert_eq!(tok.token_to_piece(id(&tok, "▁ab")), Some("▁ab"));
        assert_eq!(tok.token_to_piece(99_999), None);
        assert_eq!(tok.stop_ids(), vec![1, 5]);
    }

    #[test]
    fn tokenizer_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<TextTokenizer>();
    }
}
