//! The single integration-test binary; one module per topic.

mod api;
mod browser;
mod corpus;
mod e2e;
mod export;
mod formats;
mod frontends;
mod generator;
mod live_corpus;
mod llm;
mod openai;
mod pipeline;
mod postgres_store;
mod pull;
mod replicas;
mod robustness;
mod search;
mod tokenizer;
mod util;
