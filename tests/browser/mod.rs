//! The front ends in headless Chromium against real servers on local
//! ports, with the scripted model so the tests do not wait on the CPU:
//! the kiosk, its idle reset, the widget across origins, the staff console,
//! and a document carrying HTML that must never run. Screenshots for the
//! README are written to `docs/screenshots/`.

mod kiosk_and_access;
mod scenarios;
mod webdriver;

use std::path::PathBuf;
use std::sync::Arc;

use eulcat::answer::AnswerPipeline;
use eulcat::http::{router, AppState, FrontEnds, Limits};
use eulcat::store::Store;
use tokio::net::TcpListener;

/// One browser at a time: the machine has two cores.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A bound listener and the origin it answers at.
pub(crate) struct Bound {
    listener: TcpListener,
    pub(crate) origin: String,
}

pub(crate) async fn bind() -> Bound {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let origin = format!("http://{}", listener.local_addr().expect("an address"));
    Bound { listener, origin }
}

/// Serves `pipeline` with `front_ends` on `bound`, in the background;
/// returns the store it keeps answers in.
pub(crate) fn serve(bound: Bound, pipeline: AnswerPipeline, front_ends: FrontEnds) -> Arc<Store> {
    let store = Arc::new(Store::in_memory().expect("store"));
    let state = AppState::ready(pipeline)
        .with_store(Arc::clone(&store))
        .with_front_ends(front_ends);
    let app = router(state, &Limits::default());
    tokio::spawn(async move { axum::serve(bound.listener, app).await });
    store
}

pub(crate) fn screenshot_path(name: &str) -> PathBuf {
    crate::util::root().join("docs/screenshots").join(name)
}
