//! EulCat: a French question-answering assistant grounded in the agency's
//! documents, running a small language model on the CPU.
//!
//! The crate is organised by responsibility, with dependencies pointing one
//! way only:
//!
//! ```text
//! main ─► app ─► http ─► answer ─► generator ─► engine ─► llm ─► model_store
//!                  │  │     ├────────────────────► engine
//!                  │  │     └────► search ─► corpus
//!                  │  └─► reindex ─► answer, search, corpus
//!                  └─► eval (drives answer in-process)
//! ```
//!
//! - [`model_store`] fetches and verifies model files (`eulcat pull`).
//! - [`llm`] is our own Gemma 3 forward pass on candle, its tokenizer built
//!   from the GGUF, and the reader primitives (scoring, constrained decoding).
//! - [`corpus`] reads documents and cuts them into passages and sentences.
//! - [`search`] is the tantivy index with a French analyzer.
//! - [`engine`] owns the model on a dedicated thread; callers talk to it
//!   through channels.
//! - [`generator`] writes the text of generative answers: the embedded
//!   model through the engine, or a remote OpenAI-compatible completion
//!   server.
//! - [`answer`] turns a question into a grounded reply: small talk,
//!   retrieval, re-ranking, abstention, extractive or checked generative
//!   answers.
//! - [`http`] is the axum surface (`/api/…` and the OpenAI-compatible
//!   `/v1/…`); it only translates.
//! - [`reindex`] keeps the index in step with `corpus/` while serving (file
//!   watcher, admin endpoint).
//! - [`store`] keeps answers, feedback and unanswered questions for share
//!   links and the staff console (SQLite, or PostgreSQL shared by replicas,
//!   which also keep their conversations there).
//! - [`eval`] scores the pipeline on a question set.
//! - [`bench`] measures the model's speed and memory (`eulcat bench`).

pub mod answer;
pub mod app;
pub mod bench;
pub mod config;
pub mod corpus;
pub mod engine;
pub mod eval;
pub mod generator;
pub mod http;
pub mod llm;
pub mod model_store;
pub mod reindex;
pub mod search;
pub mod store;
pub mod telemetry;
