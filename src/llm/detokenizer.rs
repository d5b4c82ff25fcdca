//! Incremental detokenizer for streaming generated text.
//!
//! Gemma spells characters it has no piece for as byte tokens (`<0xF0>`,
//! `<0x9F>`, …), so a token boundary can fall inside a character. The decoder
//! keeps the bytes of an unfinished character and releases text only once it
//! is valid UTF-8, so a client never sees a half character or a spurious
//! U+FFFD. Released chunks concatenate to exactly
//! [`TextTokenizer::decode`] of all ids: both work on the same bytes and
//! replace invalid sequences the way `String::from_utf8_lossy` does.
//! Depends only on [`crate::llm::tokenizer`].

use crate::llm::tokenizer::{Result, TextTokenizer};

/// Turns a stream of token ids into a stream of complete text chunks.
pub struct StreamDecoder<'a> {
    tokenizer: &'a TextTokenizer,
    /// Bytes of a character whose remaining bytes have not arrived yet
    /// (at most 3 between calls).
    pending: Vec<u8>,
}

impl<'a> StreamDecoder<'a> {
    /// Starts an empty stream.
    pub fn new(tokenizer: &'a TextTokenizer) -> Self {
        Self {
            tokenizer,
            pending: Vec::with_capacity(16),
        }
    }

    /// Adds one generated id and returns the text it completes, if any.
    /// Control tokens and leading bytes of a multi-byte character give `None`.
    pub fn push(&mut self, id: u32) -> Result<Option<String>> {
        self.tokenizer.push_bytes(id, &mut self.pending)?;
        let mut text = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    rest = &[];
                    break;
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    // `valid` was just checked, so this borrows without copying.
                    text.push_str(&String::from_utf8_lossy(valid));
                    match error.error_len() {
                        // Bytes no continuation can repair: one U+FFFD, as
                        // `from_utf8_lossy` gives for the whole text.
                        Some(len) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[len..];
                        }
                        // A character cut short at the end: wait for more.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        let consumed = self.pending.len() - rest.len();
        self.pending.drain(..consumed);
        Ok((!text.is_empty()).then_some(text))
    }

    /// Ends the stream. A character still incomplete becomes one U+FFFD,
    /// matching what a whole decode of the same ids gives.
    pub fn finish(self) -> Result<Option<String>> {
        Ok((!self.pending.is_empty()).then(|| char::REPLACEMENT_CHARACTER.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::tokenizer::tests::tiny;
    use proptest::prelude::*;

    fn stream(tok: &TextTokenizer, ids: &[u32]) -> Vec<Option<String>> {
        let mut decoder = StreamDecoder::new(tok);
        let mut out: Vec<_> = ids.iter().map(|&id| decoder.push(id).unwrap()).collect();
        out.push(decoder.finish().unwrap());
        out
    }

    fn byte(tok: &TextTokenizer, b: u8) -> u32 {
        tok.piece_to_id(&format!("<0x{b:02X}>")).unwrap()
    }

    #[test]
    fn multibyte_character_is_released_only_when_complete() {
        let tok = tiny();
        // U+1F95E (pancake) is F0 9F A5 9E.
        let mut ids: Vec<u32> = [0xF0, 0x9F, 0xA5, 0x9E].map(|b| byte(&tok, b)).to_vec();
        ids.push(tok.piece_to_id("a").unwrap());
        assert_eq!(
            stream(&tok, &ids),
            vec![None, None, None, Some("🥞".into()), Some("a".into()), None]
        );
    }

    #[test]
    fn cut_character_ends_as_one_replacement() {
        let tok = tiny();
        let ids = [byte(&tok, 0xC3)];
        assert_eq!(stream(&tok, &ids), vec![None, Some("\u{FFFD}".into())]);
        assert_eq!(tok.decode(&ids).unwrap(), "\u{FFFD}");
    }

    #[test]
    fn control_tokens_emit_nothing() {
        let tok = tiny();
        let ids = [2, tok.piece_to_id("▁ab").unwrap(), 5];
        assert_eq!(
            stream(&tok, &ids),
            vec![None, Some(" ab".into()), None, None]
        );
    }

    proptest! {
        #[test]
        fn pushes_concatenate_to_whole_decode(ids in prop::collection::vec(0u32..272, 0..40)) {
            let tok = tiny();
            let streamed: String = stream(&tok, &ids).into_iter().flatten().collect();
            prop_assert_eq!(streamed, tok.decode(&ids).unwrap());
        }
    }
}
