//! TODO(answer): being written.
