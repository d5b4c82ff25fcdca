//! TODO(model_store): being written.
