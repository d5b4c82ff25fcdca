//! The single integration-test binary; one module per topic.

mod api;
mod e2e;
mod pipeline;
mod util;
