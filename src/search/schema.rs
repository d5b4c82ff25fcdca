//! The index schema, defined once, and the conversions between a
//! [`Passage`] and a stored tantivy document.
//!
//! Field names are constants and the field handles live in [`Fields`], built
//! together with the schema, so no code looks fields up by string. Text
//! fields use the French analyzer; `body` keeps positions (phrases such as
//! `Normandie.ai`, and snippets). Changing this file changes the schema:
//! an index on disk with another schema is rebuilt on open.

use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value,
    STORED, STRING,
};
use tantivy::{TantivyDocument, Term};

use super::analyzer::ANALYZER_NAME;
use super::{Error, Result};
use crate::corpus::Passage;

/// Bump when the schema or the stored encoding changes; part of the corpus
/// fingerprint.
pub(crate) const SCHEMA_VERSION: u32 = 2;

const PASSAGE_ID: &str = "passage_id";
const DOC_ID: &str = "doc_id";
const TITLE: &str = "title";
const SECTION: &str = "section";
const BODY: &str = "body";
const DATE: &str = "date";
const URL: &str = "url";
const SOURCE: &str = "source";
const SENTENCES: &str = "sentences";
const ORDER: &str = "order";
const PAGE: &str = "page";
const DEADLINE: &str = "deadline";
const DOC_HASH: &str = "doc_hash";

/// Handles of every field of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub(crate) passage_id: Field,
    pub(crate) doc_id: Field,
    pub(crate) title: Field,
    pub(crate) section: Field,
    pub(crate) body: Field,
    pub(crate) date: Field,
    pub(crate) url: Field,
    pub(crate) source: Field,
    pub(crate) sentences: Field,
    pub(crate) order: Field,
    pub(crate) page: Field,
    pub(crate) deadline: Field,
    /// Hash of all the passages of the passage's document, to tell which
    /// documents changed since the last indexing.
    pub(crate) doc_hash: Field,
}

/// Builds the schema and its field handles.
pub(crate) fn build() -> (Schema, Fields) {
    let french = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER_NAME)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let mut builder = Schema::builder();
    let fields = Fields {
        passage_id: builder.add_text_field(PASSAGE_ID, STRING | STORED),
        doc_id: builder.add_text_field(DOC_ID, STRING | STORED),
        title: builder.add_text_field(TITLE, french.clone()),
        section: builder.add_text_field(SECTION, french.clone()),
        body: builder.add_text_field(BODY, french),
        date: builder.add_text_field(DATE, STRING | STORED),
        url: builder.add_text_field(URL, STORED),
        source: builder.add_text_field(SOURCE, STORED),
        sentences: builder.add_text_field(SENTENCES, STORED),
        order: builder.add_u64_field(ORDER, NumericOptions::default().set_indexed().set_stored()),
        page: builder.add_u64_field(PAGE, NumericOptions::default().set_stored()),
        deadline: builder.add_text_field(DEADLINE, STORED),
        doc_hash: builder.add_text_field(DOC_HASH, STORED),
    };
    (builder.build(), fields)
}

impl Fields {
    /// The fields a user query is matched against, with their boosts: a hit
    /// in the document title or section heading says more about the passage
    /// than one word of its body.
    pub(crate) fn searched(&self) -> [(Field, f32); 3] {
        [(self.title, 2.0), (self.section, 1.5), (self.body, 1.0)]
    }

    /// The term that finds a passage of `doc_id` at position `order`.
    pub(crate) fn order_term(&self, order: usize) -> Term {
        Term::from_field_u64(self.order, order as u64)
    }

    /// Encodes a passage as a document; `doc_hash` is the hash of its
    /// whole document.
    pub(crate) fn encode(&self, passage: &Passage, doc_hash: &str) -> Result<TantivyDocument> {
        let mut doc = TantivyDocument::default();
        doc.add_text(self.passage_id, &passage.id);
        doc.add_text(self.doc_id, &passage.doc_id);
        doc.add_text(self.title, &passage.doc_title);
        if let Some(section) = &passage.section {
            doc.add_text(self.section, section);
        }
        doc.add_text(self.body, &passage.text);
        for (field, value) in [
            (self.date, &passage.date),
            (self.url, &passage.url),
            (self.source, &passage.source),
            (self.deadline, &passage.deadline),
        ] {
            if let Some(value) = value {
                doc.add_text(field, value);
            }
        }
        doc.add_text(self.sentences, serde_json::to_string(&passage.sentences)?);
        doc.add_u64(self.order, passage.order as u64);
        if let Some(page) = passage.page {
            doc.add_u64(self.page, u64::from(page));
        }
        doc.add_text(self.doc_hash, doc_hash);
        Ok(doc)
    }

    /// The document hash stored with a passage.
    pub(crate) fn stored_doc_hash(&self, doc: &TantivyDocument) -> Option<String> {
        doc.get_first(self.doc_hash)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// Decodes a stored document back into the passage it was made from.
    pub(crate) fn decode(&self, doc: &TantivyDocument) -> Result<Passage> {
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let required = |field: Field, name: &'static str| {
            text(field).ok_or_else(|| Error::Malformed(format!("stored passage has no `{name}`")))
        };
        let order = doc
            .get_first(self.order)
            .and_then(|v| v.as_u64())
            .ok_or_else(|| Error::Malformed(format!("stored passage has no `{ORDER}`")))?;
        Ok(Passage {
            id: required(self.passage_id, PASSAGE_ID)?,
            doc_id: required(self.doc_id, DOC_ID)?,
            doc_title: required(self.title, TITLE)?,
            section: text(self.section),
            date: text(self.date),
            url: text(self.url),
            source: text(self.source),
            text: required(self.body, BODY)?,
            sentences: serde_json::from_str(&required(self.sentences, SENTENCES)?)?,
            page: doc
                .get_first(self.page)
                .and_then(|v| v.as_u64())
                .map(|p| {
                    u32::try_from(p).map_err(|_| Error::Malformed(format!("page {p} out of range")))
                })
                .transpose()?,
            deadline: text(self.deadline),
            order: usize::try_from(order)
                .map_err(|_| Error::Malformed(format!("order {order} out of range")))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage() -> Passage {
        Passage {
            id: "a.md#s1.p0".into(),
            doc_id: "a.md".into(),
            doc_title: "Lettre".into(),
            section: Some("Datathon".into()),
            date: Some("2025-12-31".into()),
            url: None,
            source: Some("Newsletter".into()),
            text: "Une phrase. Une autre.".into(),
            sentences: vec!["Une phrase.".into(), "Une autre.".into()],
            page: Some(4),
            deadline: Some("2026-03-31".into()),
            order: 3,
        }
    }

    #[test]
    fn passages_round_trip_through_documents() {
        let (_, fields) = build();
        let original = passage();
        let encoded = fields.encode(&original, "h1").unwrap();
        assert_eq!(fields.stored_doc_hash(&encoded).as_deref(), Some("h1"));
        let decoded = fields.decode(&encoded).unwrap();
        assert_eq!(decoded, original);

        let bare = Passage {
            section: None,
            date: None,
            source: None,
            page: None,
            deadline: None,
            ..original
        };
        assert_eq!(
            fields.decode(&fields.encode(&bare, "h").unwrap()).unwrap(),
            bare
        );
    }

    #[test]
    fn schema_is_deterministic() {
        assert_eq!(build().0, build().0);
    }

    #[test]
    fn missing_fields_are_reported() {
        let (_, fields) = build();
        let err = fields.decode(&TantivyDocument::default()).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{err}");
    }
}
