//! `GET /metrics`: the service's counters in Prometheus' text format, for
//! the operator's scraper. It says whether the model keeps up (queue
//! depth), and whether the work of visitors who left is really dropped
//! (jobs skipped or abandoned, answers abandoned) rather than burning the
//! CPU the next visitor waits for.
//!
//! Counts only: no question, address or answer ever appears here.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::state::AppState;

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

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let engine = state.pipeline().ok().map(|p| p.engine().stats());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(engine, state.counters().answers_abandoned()),
    )
}

/// The exposition text; the engine's figures are absent while it loads.
fn render(engine: Option<crate::engine::Stats>, answers_abandoned: u64) -> String {
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    metric(
        "eulcat_ready",
        "gauge",
        "1 once the model and the index are loaded.",
        &[("", u64::from(engine.is_some()))],
    );
    metric(
        "eulcat_answers_abandoned_total",
        "counter",
        "Answers dropped because the client went away before they were ready.",
        &[("", answers_abandoned)],
    );
    if let Some(engine) = engine {
        metric(
            "eulcat_engine_jobs_total",
            "counter",
            "Model jobs by outcome: done; skipped (the caller had left before its turn); \
             abandoned (the caller left while it ran); panicked.",
            &[
                ("{outcome=\"done\"}", engine.jobs_done),
                ("{outcome=\"skipped\"}", engine.jobs_skipped),
                ("{outcome=\"abandoned\"}", engine.jobs_abandoned),
                ("{outcome=\"panicked\"}", engine.jobs_panicked),
            ],
        );
        metric(
            "eulcat_engine_queue_depth",
            "gauge",
            "Model jobs waiting for the worker.",
            &[("", engine.queued as u64)],
        );
        metric(
            "eulcat_engine_queue_capacity",
            "gauge",
            "Model jobs the queue holds before new questions are refused (503).",
            &[("", engine.queue_capacity as u64)],
        );
        if let Some(memo) = engine.memo {
            metric(
                "eulcat_model_results_total",
                "counter",
                "Re-ranking scores and answer spans, by origin: remembered from an earlier \
                 identical request, or computed by the model.",
                &[
                    ("{origin=\"remembered\"}", memo.hits),
                    ("{origin=\"computed\"}", memo.misses),
                ],
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_has_help_type_and_samples() {
        let stats = crate::engine::Stats {
            jobs_done: 7,
            jobs_skipped: 2,
            queued: 1,
            queue_capacity: 32,
            memo: Some(crate::engine::MemoStats { hits: 5, misses: 9 }),
            ..Default::default()
        };
        let text = render(Some(stats), 3);
        assert!(text.contains("# TYPE eulcat_engine_jobs_total counter\n"));
        assert!(text.contains("eulcat_engine_jobs_total{outcome=\"skipped\"} 2\n"));
        assert!(text.contains("eulcat_engine_queue_depth 1\n"));
        assert!(text.contains("eulcat_answers_abandoned_total 3\n"));
        assert!(text.contains("eulcat_ready 1\n"));
        assert!(text.contains("eulcat_model_results_total{origin=\"remembered\"} 5\n"));
        let starting = render(None, 0);
        assert!(starting.contains("eulcat_ready 0\n"));
        assert!(!starting.contains("eulcat_engine_"));
    }

    #[test]
    fn only_an_unfinished_answer_counts_as_abandoned() {
        let counters = Arc::new(HttpCounters::default());
        AbandonGuard::new(Arc::clone(&counters)).finish();
        assert_eq!(counters.answers_abandoned(), 0);
        drop(AbandonGuard::new(Arc::clone(&counters)));
        assert_eq!(counters.answers_abandoned(), 1);
    }
}
