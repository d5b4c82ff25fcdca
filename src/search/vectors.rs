//! Meaning vectors of the corpus's sentences, and the nearest ones to a
//! question's vector.
//!
//! The vectors come from the embedding model (computed by the answer
//! pipeline through the engine); this module only keeps them. They are
//! cached in one file beside the tantivy index, keyed by the SHA-256 of the
//! exact text the model read, so a re-index embeds only the sentences that
//! changed and a restart embeds nothing. The cache file is rewritten whole,
//! atomically, with only the vectors still in use.
//!
//! Search is exhaustive: a few thousand sentences of 768 values is a few
//! megabytes read in well under a millisecond; an approximate index would
//! add a dependency and an error for nothing at this size.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// What names a vector in the cache: the SHA-256 of the model's name and
/// the text exactly as the model read it.
pub type VectorKey = [u8; 32];

/// The key of `text` as read by `model`.
pub fn vector_key(model: &str, text: &str) -> VectorKey {
    let mut hasher = Sha256::new();
    hasher.update(model.as_bytes());
    hasher.update([0u8]);
    hasher.update(text.as_bytes());
    hasher.finalize().into()
}

/// First bytes of the cache file, with its format's version.
const MAGIC: &[u8; 8] = b"EULVEC01";

/// Vectors already computed, by key, and the file they persist in.
#[derive(Debug, Default)]
pub struct VectorCache {
    path: Option<PathBuf>,
    dimension: usize,
    entries: HashMap<VectorKey, Vec<f32>>,
}

impl VectorCache {
    /// An empty cache kept in memory only (tests, `--index-dir` in RAM).
    pub fn in_memory(dimension: usize) -> Self {
        Self {
            path: None,
            dimension,
            entries: HashMap::new(),
        }
    }

    /// The cache stored at `path`. A missing file is an empty cache; an
    /// unreadable one, or one of another dimension, is discarded with a
    /// warning: vectors can always be computed again.
    pub fn open(path: &Path, dimension: usize) -> Self {
        let entries = match read_file(path, dimension) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "vector cache unreadable; computing the vectors again");
                HashMap::new()
            }
        };
        Self {
            path: Some(path.to_owned()),
            dimension,
            entries,
        }
    }

    /// Length of the vectors.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The vector of `key`, if computed before.
    pub fn get(&self, key: &VectorKey) -> Option<&[f32]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    /// Remembers a computed vector (ignored when of the wrong length).
    pub fn insert(&mut self, key: VectorKey, vector: Vec<f32>) {
        if vector.len() == self.dimension {
            self.entries.insert(key, vector);
        }
    }

    /// Forgets every vector not in `keep`, then writes the file (when the
    /// cache has one) atomically.
    pub fn retain_and_save(&mut self, keep: &HashSet<VectorKey>) -> std::io::Result<()> {
        self.entries.retain(|key, _| keep.contains(key));
        let Some(path) = &self.path else {
            return Ok(());
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        {
            let mut out = std::io::BufWriter::new(file.as_file_mut());
            out.write_all(MAGIC)?;
            out.write_all(&(self.dimension as u32).to_le_bytes())?;
            out.write_all(&(self.entries.len() as u64).to_le_bytes())?;
            let mut keys: Vec<&VectorKey> = self.entries.keys().collect();
            keys.sort();
            for key in keys {
                out.write_all(key)?;
                for value in &self.entries[key] {
                    out.write_all(&value.to_le_bytes())?;
                }
            }
            out.flush()?;
        }
        file.as_file().sync_all()?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

fn read_file(path: &Path, dimension: usize) -> std::io::Result<HashMap<VectorKey, Vec<f32>>> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    let header = MAGIC.len() + 4 + 8;
    if bytes.len() < header || &bytes[..MAGIC.len()] != MAGIC {
        return Err(invalid("not a vector cache"));
    }
    let stored_dimension =
        u32::from_le_bytes(bytes[8..12].try_into().map_err(|_| invalid("header"))?) as usize;
    let count =
        u64::from_le_bytes(bytes[12..20].try_into().map_err(|_| invalid("header"))?) as usize;
    if stored_dimension != dimension {
        return Err(invalid("vectors of another dimension"));
    }
    let record = 32 + 4 * dimension;
    if bytes.len() != header + count * record {
        return Err(invalid("truncated"));
    }
    let mut entries = HashMap::with_capacity(count);
    for chunk in bytes[header..].chunks_exact(record) {
        let mut key = [0u8; 32];
        key.copy_from_slice(&chunk[..32]);
        let vector = chunk[32..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        entries.insert(key, vector);
    }
    Ok(entries)
}

/// Where a sentence is: its passage's place in the list the vectors were
/// built from, and its index within the passage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SentenceAt {
    /// Index of the passage.
    pub passage: usize,
    /// Index of the sentence in the passage.
    pub sentence: usize,
}

/// The vectors of every sentence of a corpus, for nearest-neighbour search.
#[derive(Debug, Default)]
pub struct SentenceVectors {
    dimension: usize,
    at: Vec<SentenceAt>,
    rows: HashMap<SentenceAt, usize>,
    /// `at.len()` rows of `dimension` values.
    values: Vec<f32>,
}

impl SentenceVectors {
    /// An empty set of vectors of length `dimension`.
    pub fn new(dimension: usize) -> Self {
        Self {
            dimension,
            ..Self::default()
        }
    }

    /// Adds the vector of the sentence `at`.
    pub fn push(&mut self, at: SentenceAt, vector: &[f32]) {
        if vector.len() == self.dimension && !self.rows.contains_key(&at) {
            self.rows.insert(at, self.at.len());
            self.at.push(at);
            self.values.extend_from_slice(vector);
        }
    }

    /// How many sentences have a vector.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    /// Whether no sentence has a vector.
    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// The `limit` sentences closest to `query` (a unit vector), closest
    /// first, with their cosine similarity.
    pub fn nearest(&self, query: &[f32], limit: usize) -> Vec<(SentenceAt, f32)> {
        if query.len() != self.dimension || self.dimension == 0 {
            return Vec::new();
        }
        let mut scored: Vec<(SentenceAt, f32)> = self
            .values
            .chunks_exact(self.dimension)
            .zip(&self.at)
            .map(|(row, &at)| (at, row.iter().zip(query).map(|(a, b)| a * b).sum()))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored.truncate(limit);
        scored
    }

    /// The cosine similarity of `query` and the sentence `at`, if it has a
    /// vector.
    pub fn similarity(&self, query: &[f32], at: SentenceAt) -> Option<f32> {
        let row = *self.rows.get(&at)?;
        let vector = &self.values[row * self.dimension..(row + 1) * self.dimension];
        Some(vector.iter().zip(query).map(|(a, b)| a * b).sum())
    }
}

/// The vectors of the corpus's words, one per index term (read from one
/// of the words it stems from), so that a question's word can be matched
/// with the corpus words of the same meaning: « jobs » with « emplois »,
/// « labo » with « laboratoire ».
#[derive(Debug, Default)]
pub struct WordVectors {
    dimension: usize,
    terms: Vec<String>,
    rows: HashMap<String, usize>,
    /// `terms.len()` rows of `dimension` values.
    values: Vec<f32>,
}

impl WordVectors {
    /// An empty set of vectors of length `dimension`.
    pub fn new(dimension: usize) -> Self {
        Self {
            dimension,
            ..Self::default()
        }
    }

    /// Adds the vector of the index term `term`.
    pub fn push(&mut self, term: &str, vector: &[f32]) {
        if vector.len() == self.dimension && !self.rows.contains_key(term) {
            self.rows.insert(term.to_string(), self.terms.len());
            self.terms.push(term.to_string());
            self.values.extend_from_slice(vector);
        }
    }

    /// How many terms have a vector.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether no term has a vector.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The vector of `term`, if the corpus uses it.
    pub fn get(&self, term: &str) -> Option<&[f32]> {
        let row = *self.rows.get(term)?;
        Some(&self.values[row * self.dimension..(row + 1) * self.dimension])
    }

    /// The corpus terms whose vector has a cosine similarity of at least
    /// `threshold` with `vector` (a unit vector).
    pub fn near(&self, vector: &[f32], threshold: f32) -> Vec<String> {
        if vector.len() != self.dimension || self.dimension == 0 {
            return Vec::new();
        }
        self.values
            .chunks_exact(self.dimension)
            .zip(&self.terms)
            .filter(|(row, _)| row.iter().zip(vector).map(|(a, b)| a * b).sum::<f32>() >= threshold)
            .map(|(_, term)| term.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_near_a_vector_are_those_at_the_threshold_or_above() {
        let mut words = WordVectors::new(2);
        words.push("emploi", &[1.0, 0.0]);
        words.push("entrepris", &[0.6, 0.8]);
        words.push("caen", &[0.0, 1.0]);
        words.push("emploi", &[0.0, 1.0]);
        words.push("court", &[1.0]);
        assert_eq!(
            words.len(),
            3,
            "a term keeps its first vector; a wrong length is refused"
        );
        assert_eq!(words.get("emploi"), Some(&[1.0, 0.0][..]));
        assert_eq!(words.near(&[1.0, 0.0], 0.6), ["emploi", "entrepris"]);
        assert_eq!(words.near(&[1.0, 0.0], 0.7), ["emploi"]);
        assert!(words.near(&[1.0, 0.0, 0.0], 0.0).is_empty());
    }

    #[test]
    fn the_cache_survives_a_restart_and_forgets_what_is_no_longer_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.bin");
        let (a, b) = (vector_key("m", "a"), vector_key("m", "b"));
        let mut cache = VectorCache::open(&path, 2);
        cache.insert(a, vec![1.0, 0.0]);
        cache.insert(b, vec![0.0, 1.0]);
        cache.insert(vector_key("m", "wrong"), vec![1.0]);
        cache.retain_and_save(&HashSet::from([a])).unwrap();
        let reopened = VectorCache::open(&path, 2);
        assert_eq!(reopened.get(&a), Some(&[1.0, 0.0][..]));
        assert_eq!(reopened.get(&b), None);
        // Another model's dimension: discarded, not misread.
        assert_eq!(VectorCache::open(&path, 3).get(&a), None);
        std::fs::write(&path, b"garbage").unwrap();
        assert_eq!(VectorCache::open(&path, 2).get(&a), None);
    }

    #[test]
    fn keys_depend_on_model_and_text() {
        assert_ne!(vector_key("m", "a"), vector_key("n", "a"));
        assert_ne!(vector_key("m", "ab"), vector_key("ma", "b"));
    }

    #[test]
    fn nearest_sentences_come_closest_first() {
        let mut vectors = SentenceVectors::new(2);
        let at = |passage, sentence| SentenceAt { passage, sentence };
        vectors.push(at(0, 0), &[1.0, 0.0]);
        vectors.push(at(0, 1), &[0.0, 1.0]);
        vectors.push(at(1, 0), &[0.6, 0.8]);
        let found = vectors.nearest(&[0.0, 1.0], 2);
        assert_eq!(found[0].0, at(0, 1));
        assert_eq!(found[1].0, at(1, 0));
        assert!((found[1].1 - 0.8).abs() < 1e-6);
        assert_eq!(vectors.similarity(&[1.0, 0.0], at(1, 0)), Some(0.6));
        assert!(vectors.nearest(&[1.0, 0.0, 0.0], 2).is_empty());
    }
}
