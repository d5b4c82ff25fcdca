//! Per-client rate limiting of the API: one token bucket (GCRA, from
//! `governor`) per client address, so that one visitor's script cannot take
//! the model from everyone else. Pages and assets are not limited: a kiosk
//! reload must never be refused.
//!
//! The client address is the connection's peer, or, behind a reverse proxy
//! named in the configuration, the last address the proxy appended to its
//! header: earlier entries of `X-Forwarded-For` are written by the client
//! and prove nothing.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;

/// Addresses remembered before the idle ones are forgotten: bounds memory
/// when many clients pass by.
const REMEMBERED_CLIENTS: usize = 10_000;

/// How many API requests one client may make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per minute.
    pub per_minute: u32,
    /// Requests allowed at once after a quiet period.
    pub burst: u32,
    /// Header in which a trusted reverse proxy puts the client address
    /// (`X-Forwarded-For`, `X-Real-IP`); `None` uses the connection's peer.
    pub client_address_header: Option<String>,
}

impl Default for RateLimit {
    fn default() -> Self {
        // A kiosk is one address shared by a queue of visitors, each
        // question costing a few requests (suggestions, the answer,
        // feedback): a request a second, sustained, is still fine.
        Self {
            per_minute: 60,
            burst: 20,
            client_address_header: None,
        }
    }
}

/// The limiter shared by every request.
pub(crate) struct Limiter {
    buckets: DefaultKeyedRateLimiter<IpAddr>,
    header: Option<HeaderName>,
    clock: DefaultClock,
}

impl Limiter {
    /// A limiter for `limit`; `None` when it lets nothing through (zero
    /// rates are refused by the configuration) or names an invalid header.
    pub(crate) fn new(limit: &RateLimit) -> Result<Arc<Self>, String> {
        let per_minute = NonZeroU32::new(limit.per_minute)
            .ok_or("the rate limit must allow at least one request per minute")?;
        let burst =
            NonZeroU32::new(limit.burst).ok_or("the rate limit burst must be at least 1")?;
        let header = limit
            .client_address_header
            .as_deref()
            .map(|name| {
                HeaderName::try_from(name.trim())
                    .map_err(|_| format!("invalid client address header {name:?}"))
            })
            .transpose()?;
        Ok(Arc::new(Self {
            buckets: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            header,
            clock: DefaultClock::default(),
        }))
    }

    /// Whether `client` may make one more request now; otherwise the
    /// seconds to wait.
    fn check(&self, client: IpAddr) -> Result<(), u64> {
        if self.buckets.len() > REMEMBERED_CLIENTS {
            self.buckets.retain_recent();
        }
        self.buckets.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    fn client(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> IpAddr {
        let from_proxy = self.header.as_ref().and_then(|name| {
            headers
                .get_all(name)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .next_back()
                .and_then(|last| last.trim().parse::<IpAddr>().ok())
        });
        from_proxy
            .or(peer.map(|p| p.ip()))
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }
}

/// Whether a path is part of the API (limited) rather than a page or an
/// asset (never limited), or the health probe of a load balancer.
fn is_limited(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/v1/")
}

/// The middleware: 429 with `Retry-After` once a client's bucket is empty.
pub(crate) async fn limit(
    State(limiter): State<Arc<Limiter>>,
    request: Request,
    next: Next,
) -> Response {
    if !is_limited(request.uri().path()) {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let client = limiter.client(request.headers(), peer);
    match limiter.check(client) {
        Ok(()) => next.run(request).await,
        Err(seconds) => {
            tracing::info!(%client, seconds, "rate limited");
            let error = ApiError::TooManyRequests(seconds.max(1));
            super::routes::openai::edge_error(request.uri().path(), error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(header: Option<&str>) -> Arc<Limiter> {
        Limiter::new(&RateLimit {
            per_minute: 60,
            burst: 2,
            client_address_header: header.map(str::to_string),
        })
        .unwrap()
    }

    #[test]
    fn a_client_gets_its_burst_then_waits() {
        let limiter = limiter(None);
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        assert!(limiter.check(client).is_ok());
        assert!(limiter.check(client).is_ok());
        let wait = limiter.check(client).unwrap_err();
        assert!((1..=1).contains(&wait), "one request a second: {wait}");
        assert!(limiter.check("192.0.2.8".parse().unwrap()).is_ok());
    }

    #[test]
    fn the_proxy_header_is_trusted_only_when_configured_and_only_its_last_entry() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        let peer = Some("10.0.0.1:5555".parse().unwrap());
        assert_eq!(
            limiter(Some("X-Forwarded-For")).client(&headers, peer),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            limiter(None).client(&headers, peer),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn zero_rates_and_bad_headers_are_configuration_errors() {
        let zero = RateLimit {
            per_minute: 0,
            ..RateLimit::default()
        };
        assert!(Limiter::new(&zero).is_err());
        let bad = RateLimit {
            client_address_header: Some("bad header".into()),
            ..RateLimit::default()
        };
        assert!(Limiter::new(&bad).is_err());
    }
}
