//! TODO(http): being written.
