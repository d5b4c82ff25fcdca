//! Our Gemma 3 stack on candle: the tokenizer built from the GGUF metadata
//! and the streaming detokenizer (the forward pass and reader primitives
//! live beside them). Synchronous; knows nothing of tokio or HTTP.

pub mod detokenizer;
pub mod tokenizer;
