//! Assembles the `tokenizers` pipeline that reproduces llama.cpp's
//! SentencePiece tokenization of the GGUF vocabulary.
//!
//! A BPE model over the whole vocabulary with score-derived merges
//! (`merges.rs`), byte fallback for characters without a piece, spaces
//! written as `▁` by the normalizer (no pre-tokenizer, no prefix space),
//! control tokens as special added tokens and user-defined ones (newline and
//! space runs, HTML tags) as plain added tokens, so both are matched whole
//! as llama.cpp does. The result is left in text mode: control-token strings
//! are not matched. Knows nothing of GGUF; takes the vocabulary as slices.

use super::{gguf::TokenType, merges, Error, Result, SPACE_MARKER};
use tokenizers::decoders::{
    byte_fallback::ByteFallback, fuse::Fuse, sequence::Sequence, DecoderWrapper,
};
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::Replace;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

/// Builds the tokenizer; `encode(text, true)` on it prepends `bos`.
pub(super) fn assemble(
    pieces: &[&str],
    scores: &[f32],
    types: &[TokenType],
    bos: u32,
    unk: Option<u32>,
) -> Result<Tokenizer> {
    // A piece listed twice keeps its first id, as llama.cpp's lookup does.
    let mut vocab = Vocab::with_capacity(pieces.len());
    for (id, &piece) in pieces.iter().enumerate() {
        vocab.entry(piece.to_owned()).or_insert(id as u32);
    }
    let merges = merges::derive_merges(pieces, scores, &vocab);
    let mut bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .byte_fallback(true)
        .fuse_unk(true);
    if let Some(unk) = unk {
        bpe = bpe.unk_token(pieces[unk as usize].to_owned());
    }
    let mut inner = Tokenizer::new(bpe.build()?);
    // The normalizer goes in before the added tokens: setting it later
    // re-normalises and rebuilds the added-token matcher.
    inner.with_normalizer(Some(Replace::new(" ", SPACE_MARKER.to_string())?))?;
    let added = |wanted: TokenType, special: bool| {
        pieces
            .iter()
            .zip(types)
            .filter(move |(_, &ty)| ty == wanted)
            .map(move |(&piece, _)| AddedToken::from(piece, special).normalized(false))
    };
    inner.add_special_tokens(
        added(TokenType::Control, true).chain(added(TokenType::Unknown, true)),
    )?;
    inner.add_tokens(added(TokenType::UserDefined, false))?;
    inner.with_decoder(Some(Sequence::new(vec![
        DecoderWrapper::Replace(Replace::new(SPACE_MARKER.to_string(), " ")?),
        DecoderWrapper::ByteFallback(ByteFallback::new()),
        DecoderWrapper::Fuse(Fuse::new()),
    ])));
    let bos_piece = pieces[bos as usize];
    inner.with_post_processor(Some(
        TemplateProcessing::builder()
            .try_single(format!("{bos_piece} $A"))
            .map_err(|e| Error::Tokenizers(e.into()))?
            .special_tokens(vec![(bos_piece.to_owned(), bos)])
            .build()
            .map_err(|e| Error::Tokenizers(e.into()))?,
    ));
    inner.set_encode_special_tokens(true);
    Ok(inner)
}
