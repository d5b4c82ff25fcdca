//! TODO(llm): being written.
