//! Logging set-up: one subscriber for the process, filtered by `RUST_LOG`.

use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Installs the global tracing subscriber. Safe to call more than once (later
/// calls are ignored), which keeps tests that build the app simple.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("eulcat=info,tower_http=info,tantivy=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .try_init()
    } else {
        registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init()
    };
    // Already installed (tests, or a second call): keep the first one.
    let _ = result;
}
