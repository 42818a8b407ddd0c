//! The rate-limit middleware: one decision per request and route group, `RateLimit-*` headers on every
//! limited answer, and the configured policy when the limiter cannot answer.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use countries_core::ratelimit::{LimiterPolicy, RouteGroup};
use tracing::{info, warn};

use crate::error::ApiError;
use countries_core::metrics;

use crate::{AppState, ClientIp};

fn client_ip(req: &Request) -> IpAddr {
    if let Some(ClientIp(ip)) = req.extensions().get::<ClientIp>() {
        return *ip;
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

pub async fn rate_limit(
    State((app, group)): State<(AppState, RouteGroup)>,
    req: Request,
    next: Next,
) -> Response {
    let ip = client_ip(&req);
    let decision = match app.limiter.check(ip, group).await {
        Ok(d) => d,
        Err(e) => {
            warn!(error = %e, group = group.as_str(), policy = ?app.limiter_policy, "rate limiter unavailable");
            metrics::count(metrics::LIMITER_UNAVAILABLE);
            return match app.limiter_policy {
                LimiterPolicy::Open => next.run(req).await,
                LimiterPolicy::Closed => ApiError::LimiterUnavailable.into_response(),
            };
        }
    };
    let mut response = if decision.allowed {
        next.run(req).await
    } else {
        info!(client = %ip, group = group.as_str(), "rate limited");
        ApiError::RateLimited {
            retry_after: decision.retry_after,
        }
        .into_response()
    };
    let window_secs = decision.reset_after.as_secs_f64().ceil() as u64;
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: u64| {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    };
    set("ratelimit-limit", u64::from(decision.limit));
    set("ratelimit-remaining", u64::from(decision.remaining));
    set("ratelimit-reset", window_secs);
    response
}
