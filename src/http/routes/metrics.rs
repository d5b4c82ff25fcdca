//! `GET /metrics`: the service's counters in Prometheus' text format, for
//! the operator's scraper. It says whether the model keeps up (queue
//! depth), and whether the work of visitors who left is really dropped
//! (jobs skipped or abandoned, answers abandoned) rather than burning the
//! CPU the next visitor waits for.
//!
//! Counts only: no question, address or answer ever appears here.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::http::state::AppState;

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
}
