//! Typo tolerance: finds indexed terms within a small edit distance of a
//! query term.
//!
//! We expand a misspelt term into the real terms of the index ourselves
//! instead of adding a `FuzzyTermQuery`: the expansions become ordinary
//! term queries, so they are scored by BM25 (a rare corrected word weighs
//! more than a common one, where a fuzzy query scores every match the same)
//! and tantivy's snippet generator can highlight them (it ignores fuzzy
//! queries). The cost is a scan of the field's term dictionary per query,
//! which is small for a corpus of newsletters. Depends on tantivy only.

use tantivy::schema::Field;
use tantivy::Searcher;

use super::Result;

/// Most expansions kept per term and field, closest first.
const MAX_EXPANSIONS: usize = 8;

/// The edit distance allowed for a term of this many characters: none for
/// short terms (too many neighbours), one from 5, two from 9.
pub(crate) fn allowed_distance(term: &str) -> usize {
    match term.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Indexed terms of `field` within `max_distance` edits of `term` (the term
/// itself excluded), closest first, at most [`MAX_EXPANSIONS`].
pub(crate) fn expansions(
    searcher: &Searcher,
    field: Field,
    term: &str,
    max_distance: usize,
) -> Result<Vec<(String, usize)>> {
    if max_distance == 0 {
        return Ok(Vec::new());
    }
    let target: Vec<char> = term.chars().collect();
    let mut found: Vec<(String, usize)> = Vec::new();
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            let Ok(candidate) = std::str::from_utf8(stream.key()) else {
                continue;
            };
            if candidate == term || found.iter().any(|(t, _)| t == candidate) {
                continue;
            }
            let chars: Vec<char> = candidate.chars().collect();
            if let Some(distance) = bounded_distance(&target, &chars, max_distance) {
                found.push((candidate.to_string(), distance));
            }
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    found.truncate(MAX_EXPANSIONS);
    Ok(found)
}

/// Optimal-string-alignment distance (insertions, deletions, substitutions
/// and adjacent transpositions each cost 1), or `None` when it exceeds
/// `max`. Transpositions count once because swapped letters are the most
/// common typing slip.
pub(crate) fn bounded_distance(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    // Three rolling rows: two back (for transpositions), previous, current.
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current: Vec<usize> = vec![0; width];
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_min = current[0];
        for j in 1..width {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut value = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(before[j - 2] + 1);
            }
            current[j] = value;
            row_min = row_min.min(value);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    let distance = previous[b.len()];
    (distance <= max).then_some(distance)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: &str, b: &str) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        bounded_distance(&a, &b, 2)
    }

    #[test]
    fn edit_distances() {
        assert_eq!(distance("datathon", "datathon"), Some(0));
        assert_eq!(distance("datathn", "datathon"), Some(1));
        assert_eq!(distance("exposis", "exposit"), Some(1));
        assert_eq!(distance("ateleir", "atelier"), Some(1), "transposition");
        assert_eq!(distance("kitten", "sitting"), None, "3 edits");
        assert_eq!(distance("", "ab"), Some(2));
        assert_eq!(distance("abc", ""), None);
        assert_eq!(distance("région", "regions"), Some(2));
    }

    #[test]
    fn distance_allowed_grows_with_length() {
        assert_eq!(allowed_distance("ia"), 0);
        assert_eq!(allowed_distance("caen"), 0);
        assert_eq!(allowed_distance("datathn"), 1);
        assert_eq!(allowed_distance("cybersecurit"), 2);
    }
}
