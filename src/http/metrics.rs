//! The counters the HTTP layer keeps itself, read by `GET /metrics` (see
//! `routes::metrics`): how many answers were dropped because their
//! visitor left before they were ready.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The counters kept by the HTTP layer itself.
#[derive(Debug, Default)]
pub(crate) struct HttpCounters {
    answers_abandoned: AtomicU64,
}

impl HttpCounters {
    /// Answers whose client went away before they were ready.
    pub(crate) fn answers_abandoned(&self) -> u64 {
        self.answers_abandoned.load(Ordering::Relaxed)
    }
}

/// Counts an answer as abandoned if it is dropped before [`finish`] is
/// called: hyper drops a response's future (or its stream) when the client
/// closes the connection, so the drop is the only moment the server learns
/// of it.
///
/// [`finish`]: AbandonGuard::finish
pub(crate) struct AbandonGuard {
    counters: Option<Arc<HttpCounters>>,
}

impl AbandonGuard {
    pub(crate) fn new(counters: Arc<HttpCounters>) -> Self {
        Self {
            counters: Some(counters),
        }
    }

    /// The answer was delivered (or failed on its own): not abandoned.
    pub(crate) fn finish(mut self) {
        self.counters = None;
    }
}

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        if let Some(counters) = &self.counters {
            counters.answers_abandoned.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("the client left before its answer was ready");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unfinished_answer_counts_as_abandoned() {
        let counters = Arc::new(HttpCounters::default());
        AbandonGuard::new(Arc::clone(&counters)).finish();
        assert_eq!(counters.answers_abandoned(), 0);
        drop(AbandonGuard::new(Arc::clone(&counters)));
        assert_eq!(counters.answers_abandoned(), 1);
    }
}
