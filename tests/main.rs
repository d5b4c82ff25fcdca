//! The single integration-test binary; one module per topic.

mod abandon;
mod api;
mod browser;
mod corpus;
mod crash;
mod e2e;
mod edge;
mod embedding;
mod export;
mod formats;
mod frontends;
mod generator;
mod hostile_corpus;
mod live_corpus;
mod llm;
mod openai;
mod pipeline;
mod postgres_store;
mod pull;
mod replicas;
mod robustness;
mod search;
mod semantic;
mod tokenizer;
mod util;
