//! Derives BPE merge rules from a SentencePiece vocabulary with scores.
//!
//! A SentencePiece model has no merge list: it merges the adjacent pair
//! whose concatenation has the best score. A BPE model reproduces that when
//! every piece that can be cut into two vocabulary pieces yields one merge
//! rule per cut, ranked by the score of the whole piece. The order is the one
//! of Hugging Face's `SentencePieceExtractor`, which we verified matches
//! llama.cpp token for token: cuts of one piece sorted by `(id_left,
//! id_right)`, then pieces by descending score, ties kept in vocabulary order.
//! Pure functions over the vocabulary; nothing here knows about GGUF.

use rayon::prelude::*;
use tokenizers::models::bpe::Vocab;

/// A merge rule as the `tokenizers` BPE builder takes it.
pub(super) type Merge = (String, String);

/// Builds the merge list, best rule first.
///
/// `vocab` maps each distinct piece to the id it gets (the first one when a
/// piece appears twice); only that id's entry contributes merges, so a
/// duplicated piece is not ranked twice.
pub(super) fn derive_merges(pieces: &[&str], scores: &[f32], vocab: &Vocab) -> Vec<Merge> {
    let mut order: Vec<u32> = (0..pieces.len() as u32)
        .filter(|&id| vocab.get(pieces[id as usize]) == Some(&id))
        .collect();
    // Stable order by descending score; ids break ties so equal-score pieces
    // (all control tokens share -1000) stay in vocabulary order, as the
    // reference's stable sort over a vocabulary-ordered list leaves them.
    order.sort_unstable_by(|&a, &b| {
        scores[b as usize]
            .total_cmp(&scores[a as usize])
            .then(a.cmp(&b))
    });
    // The cuts of each piece are independent, and rayon's collect keeps the
    // input order, so this is parallel without changing the ranking. This is
    // the hot part of building the tokenizer (about 3 million lookups).
    order
        .par_iter()
        .with_min_len(4096)
        .flat_map_iter(|&id| cuts_of(pieces[id as usize], vocab))
        .collect()
}

/// Every cut of `piece` into two vocabulary pieces, sorted by their ids.
fn cuts_of(piece: &str, vocab: &Vocab) -> Vec<Merge> {
    let mut cuts: Vec<(u32, u32, usize)> = piece
        .char_indices()
        .skip(1)
        .filter_map(|(at, _)| {
            let left = vocab.get(&piece[..at])?;
            let right = vocab.get(&piece[at..])?;
            Some((*left, *right, at))
        })
        .collect();
    cuts.sort_unstable_by_key(|&(left, right, _)| (left, right));
    cuts.into_iter()
        .map(|(_, _, at)| (piece[..at].to_owned(), piece[at..].to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab_of(pieces: &[&str]) -> Vocab {
        let mut vocab = Vocab::default();
        for (id, piece) in pieces.iter().enumerate() {
            vocab.entry((*piece).to_owned()).or_insert(id as u32);
        }
        vocab
    }

    fn merges(pieces: &[&str], scores: &[f32]) -> Vec<(String, String)> {
        derive_merges(pieces, scores, &vocab_of(pieces))
    }

    fn pair(l: &str, r: &str) -> (String, String) {
        (l.to_owned(), r.to_owned())
    }

    #[test]
    fn merges_follow_piece_scores_not_ids() {
        // "ab" (score -5) ranks below "bc" (score -1) although its id is lower.
        let pieces = ["a", "b", "c", "ab", "bc"];
        let scores = [0.0, 0.0, 0.0, -5.0, -1.0];
        assert_eq!(
            merges(&pieces, &scores),
            vec![pair("b", "c"), pair("a", "b")]
        );
    }

    #[test]
    fn cuts_of_one_piece_are_sorted_by_ids() {
        // "abc" can be cut as "a"+"bc" (ids 0, 4) or "ab"+"c" (ids 3, 2);
        // (0, 4) sorts first whatever the cut position.
        let pieces = ["a", "b", "c", "ab", "bc", "abc"];
        let scores = [0.0, 0.0, 0.0, -1.0, -2.0, -3.0];
        assert_eq!(
            merges(&pieces, &scores),
            vec![
                pair("a", "b"),
                pair("b", "c"),
                pair("a", "bc"),
                pair("ab", "c"),
            ]
        );
    }

    #[test]
    fn equal_scores_keep_vocabulary_order_and_duplicates_count_once() {
        // "ba" appears twice: only its first id (3) is ranked, once.
        let pieces = ["a", "b", "ab", "ba", "ba"];
        let scores = [0.0, 0.0, -7.0, -7.0, 5.0];
        assert_eq!(
            merges(&pieces, &scores),
            vec![pair("a", "b"), pair("b", "a")]
        );
    }

    #[test]
    fn cuts_respect_char_boundaries() {
        // "é" is two bytes: a byte-level cut would produce invalid halves.
        let pieces = ["é", "t", "ét", "\u{301}"];
        let scores = [0.0, 0.0, -1.0, 0.0];
        assert_eq!(merges(&pieces, &scores), vec![pair("é", "t")]);
    }
}
