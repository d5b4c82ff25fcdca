//! TODO(eval): being written.
