//! What the pipeline hands back for one message: the text, how it was
//! made, the passages it quotes and the time each stage took.

use serde::{Deserialize, Serialize};

use super::decision;
use super::language::Language;

/// How a reply was made; the API's `kind` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    /// Written by the model and checked against the sources.
    Grounded,
    /// Quoted from the sources.
    Extractive,
    /// The documents do not answer, or the message is off-topic.
    NoAnswer,
    /// A greeting, thanks, « qui es-tu ? ».
    Smalltalk,
}

/// A cited passage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// Title of the document.
    pub title: String,
    /// Section heading within the document.
    pub section: String,
    /// Date of the document (ISO), when known.
    pub date: Option<String>,
    /// The page of the original the passage is printed on (PDF), from 1.
    #[serde(default)]
    pub page: Option<u32>,
    /// Where the document can be read, when known.
    pub url: Option<String>,
    /// The last day to apply (ISO), when the document is a call with one;
    /// a reply to a closed call says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// Path of the document in the corpus.
    pub document: String,
    /// The whole passage.
    pub text: String,
    /// The sentences quoted in the answer.
    pub quote: String,
    /// The short answer the model picked within the quote, when it found a
    /// span genuinely shorter than the sentence.
    pub highlight: Option<String>,
    /// The ranking score that selected this passage (for staff).
    pub score: f32,
}

/// Milliseconds spent in each stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    /// Searching the index.
    pub retrieval: f64,
    /// Re-ranking sentences with the model.
    pub rerank: f64,
    /// Extracting the short answer span.
    pub span: f64,
    /// Generating an answer (generative mode).
    pub generation: f64,
    /// Everything.
    pub total: f64,
}

/// The pipeline's reply to one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The conversation this reply belongs to.
    pub session_id: String,
    /// This reply's id (for feedback).
    pub answer_id: String,
    /// The text shown to the visitor.
    pub answer: String,
    /// How the reply was made.
    pub kind: AnswerKind,
    /// The passages the answer comes from.
    pub sources: Vec<Source>,
    /// Questions to ask instead (with `no_answer`), in the reply's
    /// language.
    pub suggestions: Vec<String>,
    /// The language the question was written in, and the reply's own
    /// words are.
    #[serde(default)]
    pub language: Language,
    /// Time spent, by stage.
    pub timings_ms: Timings,
    /// The sentences the reader weighed, best first (for evaluation and
    /// for fitting the decision; not sent to clients).
    #[serde(skip)]
    pub considered: Vec<Considered>,
}

/// A sentence the reader weighed for an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Considered {
    /// The sentences that would be quoted.
    pub quote: String,
    /// The document they come from.
    pub document: String,
    /// The signals of the decision.
    pub features: decision::Features,
    /// The probability the learned decision gives it, when one is in use.
    pub probability: Option<f32>,
}
