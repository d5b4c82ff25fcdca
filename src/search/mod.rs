//! TODO(search): being written.
