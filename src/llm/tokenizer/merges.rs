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
use std::cmp::Ordering;
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
    // A stable sort, like the reference's: equal-score pieces (all control
    // tokens share -1000) stay in vocabulary order. Scores mostly fall with
    // the id, so the input is nearly sorted and the merge sort is fast.
    // `partial_cmp`, not `total_cmp`: like Python, -0.0 must tie with 0.0.
    order.sort_by(|&a, &b| {
        scores[b as usize]
            .partial_cmp(&scores[a as usize])
            .unwrap_or(Ordering::Equal)
    });
    // The hot part of building the tokenizer: about 1.2 million cut points,
    // each one or two lookups in a 262k-entry map, then a million small
    // strings. Both passes run in parallel over fixed-size chunks, whose
    // results rayon returns in input order, so the ranking is unchanged.
    // Cuts are found as id pairs first, which keeps the first pass free of
    // allocation; the halves' strings are then copied from the vocabulary.
    let pairs: Vec<(u32, u32)> = order
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * 2);
            for &id in chunk {
                push_cuts(pieces[id as usize], vocab, &mut out);
            }
            out
        })
        .collect::<Vec<_>>()
        .concat();
    pairs
        .par_iter()
        .with_min_len(CHUNK)
        .map(|&(left, right)| {
            (
                pieces[left as usize].to_owned(),
                pieces[right as usize].to_owned(),
            )
        })
        .collect()
}

/// Pieces per parallel task: large enough to amortise scheduling.
const CHUNK: usize = 8192;

/// Appends every cut of `piece` into two vocabulary pieces, as
/// `(id_left, id_right)` sorted by ids.
fn push_cuts(piece: &str, vocab: &Vocab, out: &mut Vec<(u32, u32)>) {
    let first = out.len();
    for (at, _) in piece.char_indices().skip(1) {
        if let Some(&left) = vocab.get(&piece[..at]) {
            if let Some(&right) = vocab.get(&piece[at..]) {
                out.push((left, right));
            }
        }
    }
    out[first..].sort_unstable();
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
    fn negative_zero_ties_with_zero() {
        // Were -0.0 ranked below 0.0, "ba" (id 3) would come after "ab".
        let pieces = ["a", "b", "ba", "ab"];
        let scores = [1.0, 1.0, -0.0, 0.0];
        assert_eq!(
            merges(&pieces, &scores),
            vec![pair("b", "a"), pair("a", "b")]
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
