//! TODO(corpus): being written.
