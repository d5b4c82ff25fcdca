//! The single integration-test binary; one module per topic.

mod api;
mod corpus;
mod e2e;
mod llm;
mod pipeline;
mod pull;
mod search;
mod tokenizer;
mod util;
