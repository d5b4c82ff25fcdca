//! The single integration-test binary; one module per topic.

mod llm;
mod tokenizer;
