//! Compact storage of the vocabulary's pieces and the byte-token spelling.
//!
//! The tokenizer keeps its own copy of every piece for `token_to_piece` and
//! decoding; one contiguous string plus offsets costs about 3 MB for Gemma 3
//! where a `String` per piece would cost several times that.

/// Every piece of the vocabulary in one allocation, indexed by id.
pub(super) struct PieceTable {
    /// All pieces concatenated; piece `id` is `arena[ends[id-1]..ends[id]]`.
    arena: String,
    ends: Vec<u32>,
}

impl PieceTable {
    pub(super) fn new(pieces: &[&str]) -> Self {
        let mut arena = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
        let mut ends = Vec::with_capacity(pieces.len());
        for piece in pieces {
            arena.push_str(piece);
            ends.push(arena.len() as u32);
        }
        Self { arena, ends }
    }

    pub(super) fn get(&self, id: u32) -> Option<&str> {
        let id = id as usize;
        let end = *self.ends.get(id)? as usize;
        let start = match id.checked_sub(1) {
            Some(prev) => self.ends[prev] as usize,
            None => 0,
        };
        self.arena.get(start..end)
    }

    /// Borrowed views of all pieces, in id order.
    pub(super) fn all(&self) -> Vec<&str> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let piece = &self.arena[start..end as usize];
                start = end as usize;
                piece
            })
            .collect()
    }
}

/// `<0xE2>` → `0xE2`.
pub(super) fn parse_byte_piece(piece: &str) -> Option<u8> {
    let hex = piece.strip_prefix("<0x")?.strip_suffix('>')?;
    (hex.len() == 2).then(|| u8::from_str_radix(hex, 16).ok())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_pieces_parse_only_in_canonical_form() {
        assert_eq!(parse_byte_piece("<0xE2>"), Some(0xE2));
        assert_eq!(parse_byte_piece("<0x0>"), None);
        assert_eq!(parse_byte_piece("<0xZZ>"), None);
        assert_eq!(parse_byte_piece("0xE2"), None);
    }

    #[test]
    fn table_returns_each_piece_by_id() {
        let table = PieceTable::new(&["", "▁a", "<0x41>", "é"]);
        assert_eq!(table.all(), vec!["", "▁a", "<0x41>", "é"]);
        assert_eq!(table.get(0), Some(""));
        assert_eq!(table.get(3), Some("é"));
        assert_eq!(table.get(4), None);
    }
}
