//! [`SearchIndex`]: opening, rebuilding and reading the passage index.
//!
//! Lifecycle choices: one [`IndexReader`] for the life of the value with a
//! manual reload right after our own commits (we are the only writer, so
//! watching files would only add a thread); a writer created per update and
//! dropped after it, so the index folder is not locked while serving; the
//! corpus fingerprint stored as the commit payload, atomically with the
//! documents it describes. Updates are incremental: every passage stores
//! the hash of its whole document, and [`SearchIndex::sync`] deletes and
//! re-adds only the documents whose hash changed.

use std::collections::BTreeMap;
use std::fs;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Schema};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

use super::analyzer::{french_analyzer, ANALYZER_NAME};
use super::fingerprint::corpus_fingerprint;
use super::schema::{self, Fields};
use super::{query, Hit, Result, SyncReport};
use crate::corpus::Passage;

/// Memory budget of the writer; ample for a corpus of newsletters.
const WRITER_MEMORY: usize = 50_000_000;

/// The passage index. Cheap to query from several threads (`&self`);
/// rebuilds are serialised.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// Serialises rebuilds: tantivy allows one writer per index.
    rebuild_lock: Mutex<()>,
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the folder and an empty index if
    /// needed. The folder belongs to the index: when it holds an index with
    /// another schema, or one that cannot be opened, its contents are
    /// deleted and an empty index is created (call [`Self::ensure_current`]
    /// next to fill it).
    pub fn open_or_create(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir)?;
        let (schema, fields) = schema::build();
        let index = match Self::open_existing(dir, &schema)? {
            Some(index) => index,
            None => Index::create_in_dir(dir, schema)?,
        };
        Self::from_index(index, fields, Some(dir.to_path_buf()))
    }

    /// An empty index in memory, for tests and one-shot tools.
    pub fn in_ram() -> Result<Self> {
        let (schema, fields) = schema::build();
        Self::from_index(Index::create_in_ram(schema), fields, None)
    }

    /// Opens the index in `dir` if there is one with our schema whose
    /// segments all open; clears the folder (and returns `None`) when there
    /// is an unusable one.
    fn open_existing(dir: &Path, schema: &Schema) -> Result<Option<Index>> {
        if !Index::exists(&MmapDirectory::open(dir)?).unwrap_or(false) {
            return Ok(None);
        }
        let reason = match Index::open_in_dir(dir) {
            // Opening reads only the metadata; a reader opens every segment,
            // so a lost or truncated segment file shows here, not at start.
            Ok(index) if index.schema() == *schema => match index.reader() {
                Ok(_) => return Ok(Some(index)),
                Err(err) => err.to_string(),
            },
            Ok(_) => "schema changed".to_string(),
            Err(err) => err.to_string(),
        };
        tracing::warn!(dir = %dir.display(), %reason, "discarding the index on disk; it will be rebuilt");
        fs::remove_dir_all(dir)?;
        fs::create_dir_all(dir)?;
        Ok(None)
    }

    fn from_index(index: Index, fields: Fields, dir: Option<PathBuf>) -> Result<Self> {
        // Registered on every open: the tokenizer manager is per instance
        // and not persisted with the index.
        index
            .tokenizers()
            .register(ANALYZER_NAME, french_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            rebuild_lock: Mutex::new(()),
            dir,
        })
    }

    /// The fingerprint of the passages the index was last built from, if
    /// it was ever built.
    pub fn fingerprint(&self) -> Result<Option<String>> {
        Ok(self.index.load_metas()?.payload)
    }

    /// Brings the index up to date with `passages` (see [`Self::sync`]).
    /// Returns whether it changed anything.
    pub fn ensure_current(&self, passages: &[Passage]) -> Result<bool> {
        Ok(self.sync(passages)?.changed())
    }

    /// Brings the index up to date with `passages`, document by document:
    /// a document whose passages hash differently from the indexed ones is
    /// re-indexed, a new one added, one no longer listed removed, the rest
    /// left alone; all in one commit. When the corpus fingerprint matches
    /// the last commit nothing is read or written.
    pub fn sync(&self, passages: &[Passage]) -> Result<SyncReport> {
        let wanted = corpus_fingerprint(passages);
        let documents = by_document(passages);
        if self.fingerprint()?.as_deref() == Some(wanted.as_str()) {
            // Another process (`eulcat index`, or another replica) may have
            // made that commit: make it visible to this one's searches.
            self.reader.reload()?;
            tracing::info!(passages = passages.len(), "search index is current");
            return Ok(SyncReport {
                unchanged: documents.len(),
                ..SyncReport::default()
            });
        }
        let _guard = self.lock();
        let started = Instant::now();
        let mut indexed = self.indexed_hashes(&self.reader.searcher())?;
        let mut report = SyncReport::default();
        let writer = self.writer()?;
        for (doc_id, (hash, doc_passages)) in &documents {
            match indexed.remove(*doc_id) {
                Some(old) if old == *hash => {
                    report.unchanged += 1;
                    continue;
                }
                Some(_) => {
                    report.updated += 1;
                    writer.delete_term(Term::from_field_text(self.fields.doc_id, doc_id));
                }
                None => report.added += 1,
            }
            for passage in doc_passages {
                writer.add_document(self.fields.encode(passage, hash)?)?;
            }
        }
        for doc_id in indexed.keys() {
            report.removed += 1;
            writer.delete_term(Term::from_field_text(self.fields.doc_id, doc_id));
        }
        self.commit(writer, &wanted)?;
        tracing::info!(
            %report,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "search index updated"
        );
        Ok(report)
    }

    /// Document id → document hash of what is indexed now.
    fn indexed_hashes(&self, searcher: &Searcher) -> Result<BTreeMap<String, String>> {
        let mut hashes = BTreeMap::new();
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let ordinal = u32::try_from(ordinal)
                .map_err(|_| super::Error::Malformed("too many segments".into()))?;
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = searcher.doc(DocAddress::new(ordinal, doc_id))?;
                let passage = self.fields.decode(&doc)?;
                // A passage without a hash (an older index) never matches,
                // so its document is re-indexed.
                let hash = self.fields.stored_doc_hash(&doc).unwrap_or_default();
                hashes.entry(passage.doc_id).or_insert(hash);
            }
        }
        Ok(hashes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // A poisoned lock only means an earlier update panicked; the
        // writer it held is gone, so updating again is safe.
        self.rebuild_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn writer(&self) -> Result<IndexWriter<TantivyDocument>> {
        Ok(self.index.writer_with_num_threads(1, WRITER_MEMORY)?)
    }

    fn commit(&self, mut writer: IndexWriter<TantivyDocument>, fingerprint: &str) -> Result<()> {
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(fingerprint);
        commit.commit()?;
        writer.wait_merging_threads()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Replaces the whole content of the index with `passages`, in one
    /// commit, and makes it visible to the next searches. Shows a progress
    /// bar when stderr is a terminal.
    pub fn rebuild(&self, passages: &[Passage]) -> Result<()> {
        let _guard = self.lock();
        let started = Instant::now();
        let progress = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(passages.len() as u64);
            if let Ok(style) =
                ProgressStyle::with_template("indexing {bar:30} {pos}/{len} passages")
            {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };

        let writer = self.writer()?;
        writer.delete_all_documents()?;
        for (hash, doc_passages) in by_document(passages).values() {
            for passage in doc_passages {
                writer.add_document(self.fields.encode(passage, hash)?)?;
                progress.inc(1);
            }
        }
        self.commit(writer, &corpus_fingerprint(passages))?;
        progress.finish_and_clear();
        tracing::info!(
            passages = passages.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "search index rebuilt"
        );
        Ok(())
    }

    /// The passages most relevant to a free-text French question, best
    /// first, at most `limit`. Typos in long words are tolerated; an empty
    /// or stop-word-only question returns no hits.
    pub fn search(&self, question: &str, limit: usize) -> Result<Vec<Hit>> {
        let searcher = self.reader.searcher();
        query::run(&self.index, &searcher, &self.fields, question, limit)
    }

    /// Every indexed passage, ordered by document id then position.
    pub fn all_passages(&self) -> Result<Vec<Passage>> {
        let searcher = self.reader.searcher();
        let mut passages = Vec::with_capacity(usize::try_from(searcher.num_docs()).unwrap_or(0));
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let ordinal = u32::try_from(ordinal)
                .map_err(|_| super::Error::Malformed("too many segments".into()))?;
            for doc_id in segment.doc_ids_alive() {
                let doc: TantivyDocument = searcher.doc(DocAddress::new(ordinal, doc_id))?;
                passages.push(self.fields.decode(&doc)?);
            }
        }
        passages.sort_by(|a, b| a.doc_id.cmp(&b.doc_id).then(a.order.cmp(&b.order)));
        Ok(passages)
    }

    /// The passage of document `doc_id` at position `order`, if any; used
    /// to fetch a hit's neighbours (`order ± 1`).
    pub fn passage_at(&self, doc_id: &str, order: usize) -> Result<Option<Passage>> {
        let searcher = self.reader.searcher();
        let clauses: Vec<(Occur, Box<dyn Query>)> = vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.doc_id, doc_id),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    self.fields.order_term(order),
                    IndexRecordOption::Basic,
                )),
            ),
        ];
        let top = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(1).order_by_score(),
        )?;
        match top.first() {
            Some(&(_, address)) => {
                let doc: TantivyDocument = searcher.doc(address)?;
                Ok(Some(self.fields.decode(&doc)?))
            }
            None => Ok(None),
        }
    }

    /// Number of indexed passages.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Passages grouped by document id, each group with its document hash.
fn by_document(passages: &[Passage]) -> BTreeMap<&str, (String, Vec<Passage>)> {
    let mut groups: BTreeMap<&str, Vec<Passage>> = BTreeMap::new();
    for passage in passages {
        groups
            .entry(passage.doc_id.as_str())
            .or_default()
            .push(passage.clone());
    }
    groups
        .into_iter()
        .map(|(doc_id, group)| (doc_id, (corpus_fingerprint(&group), group)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(order: usize, text: &str) -> Passage {
        Passage {
            id: format!("a.md#s0.p{order}"),
            doc_title: "Lettre".into(),
            section: Some("Section".into()),
            order,
            ..Passage::of_sentence("a.md", text)
        }
    }

    #[test]
    fn rebuild_replaces_content_and_is_visible_at_once() {
        let index = SearchIndex::in_ram().unwrap();
        assert!(index.is_empty());
        assert_eq!(index.fingerprint().unwrap(), None);
        index
            .rebuild(&[passage(0, "Un datathon."), passage(1, "Une exposition.")])
            .unwrap();
        assert_eq!(index.len(), 2);
        index.rebuild(&[passage(0, "Seul.")]).unwrap();
        assert_eq!(index.all_passages().unwrap(), [passage(0, "Seul.")]);
    }

    #[test]
    fn passage_at_finds_neighbours() {
        let index = SearchIndex::in_ram().unwrap();
        let passages: Vec<Passage> = (0..3).map(|i| passage(i, &format!("Texte {i}."))).collect();
        index.rebuild(&passages).unwrap();
        assert_eq!(
            index.passage_at("a.md", 1).unwrap(),
            Some(passages[1].clone())
        );
        assert_eq!(index.passage_at("a.md", 3).unwrap(), None);
        assert_eq!(index.passage_at("b.md", 0).unwrap(), None);
    }
}
