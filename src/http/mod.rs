//! The HTTP surface (axum): routes, layers, and serving with graceful
//! shutdown. It only translates between HTTP and the answer pipeline; the
//! only module that may use axum, tower or http types.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod error;
mod metrics;
mod rate_limit;
mod routes;
mod security;
mod state;
mod trace;

use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use rate_limit::RateLimit;
pub use state::AppState;

/// Limits applied at the edge.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Requests per client address on the API; `None` does not limit.
    pub rate_limit: Option<RateLimit>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            rate_limit: None,
        }
    }
}

impl Limits {
    /// Checks the settings that can be wrong (a zero rate, a header name
    /// that is not one), so `serve` refuses to start rather than run
    /// unprotected.
    pub fn validate(&self) -> Result<(), String> {
        match &self.rate_limit {
            Some(limit) => rate_limit::Limiter::new(limit).map(|_| ()),
            None => Ok(()),
        }
    }
}

/// Options of the three front ends (kiosk, website widget, staff console).
#[derive(Debug, Clone)]
pub struct FrontEnds {
    /// The secret that opens the staff console; `None` turns it off.
    pub staff_token: Option<String>,
    /// The secret of the operator endpoints (re-index); `None` turns them
    /// off.
    pub admin_token: Option<String>,
    /// Origins (`https://www.example.fr`) whose pages may embed the widget.
    pub widget_origins: Vec<String>,
    /// Seconds of inactivity after which the kiosk starts over.
    pub kiosk_idle_seconds: u64,
    /// The address visitors reach this server at, without a trailing
    /// slash; `None` uses the address of each request.
    pub public_url: Option<String>,
}

impl Default for FrontEnds {
    fn default() -> Self {
        Self {
            staff_token: None,
            admin_token: None,
            widget_origins: Vec::new(),
            kiosk_idle_seconds: 90,
            public_url: None,
        }
    }
}

/// Builds the whole application; tests call it without a socket.
pub fn router(state: AppState, limits: &Limits) -> Router {
    let cors = security::cors(state.front_ends());
    let limiter = limits
        .rate_limit
        .as_ref()
        .map(rate_limit::Limiter::new)
        .transpose()
        .unwrap_or_else(|err| {
            // `serve` validates first; a caller that did not gets the
            // default limit rather than none.
            tracing::error!(%err, "invalid rate limit; using the default");
            rate_limit::Limiter::new(&RateLimit::default()).ok()
        });
    let routes = Router::new()
        .merge(routes::chat::router())
        .merge(routes::health::router())
        .merge(routes::metrics::router())
        .merge(routes::feedback::router())
        .merge(routes::staff::router())
        .merge(routes::admin::router())
        .merge(routes::share::router())
        .merge(routes::web::router())
        .nest("/v1", routes::openai::router(state.clone()))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes));
    // Limited after the origin check and CORS (below, so they run first):
    // a refused cross-site call or a preflight does not spend the bucket.
    let routes = match limiter {
        Some(limiter) => routes.layer(axum::middleware::from_fn_with_state(
            limiter,
            rate_limit::limit,
        )),
        None => routes,
    };
    routes
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::check_origin,
        ))
        // Pages set their own policy; everything else gets the strict one.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(security::PAGE_CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // Share links carry their token in the path: never send it to
        // another site. (`no-referrer` would also turn the `Origin` of the
        // kiosk's own POSTs into `null`.)
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(
            TraceLayer::new(trace::MakeClass)
                .make_span_with(|request: &Request<_>| {
                    tracing::info_span!("request", method = %request.method(), uri = %request.uri())
                })
                .on_failure(trace::LogFailure),
        )
        // A bug in one handler answers 500 for that request only.
        .layer(CatchPanicLayer::custom(|_| panic_response()))
        .with_state(state)
}

fn panic_response() -> Response {
    tracing::error!("a request handler panicked");
    let mut response = ApiError::Internal("handler panicked".into()).into_response();
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
        .headers_mut()
        .insert("x-eulcat-panic", HeaderValue::from_static("1"));
    response
}

/// How long answers in flight may take to finish after a shutdown signal:
/// a reader-mode answer takes a few seconds; a stuck stream must not keep
/// a kiosk from restarting.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Serves `router` on `listener` until Ctrl-C or SIGTERM, then stops
/// accepting and lets the requests in flight finish, for at most
/// [`SHUTDOWN_GRACE`].
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    // The peer address is what the rate limiter keys on.
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stopping.send(true);
    });
    let deadline = async move {
        if stopped.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result,
        () = deadline => {
            tracing::warn!(seconds = SHUTDOWN_GRACE.as_secs(), "answers still in flight after the grace period; stopping anyway");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("signal received, finishing requests in flight");
}
