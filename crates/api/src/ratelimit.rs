//! The rate-limit middleware: one decision per request and route group, `RateLimit-*` headers on every
//! limited answer, and the configured policy when the limiter cannot answer. It wraps the whole router
//! once (cheaper to build at a cold start than a layer per route) and finds the group in the route
//! table (`routes::table`), by the route the path reaches.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use countries_core::ratelimit::LimiterPolicy;
use tracing::{info, warn};

use crate::error::ApiError;
use countries_core::metrics::Metric;

use crate::routes::table::Limits;
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
    State((app, limits)): State<(AppState, Arc<Limits>)>,
    req: Request,
    next: Next,
) -> Response {
    let Some(group) = limits.group(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let ip = client_ip(&req);
    let decision = match app.limiter.check(ip, group).await {
        Ok(d) => d,
        Err(e) => {
            warn!(error = %e, group = group.as_str(), policy = ?app.limiter_policy, "rate limiter unavailable");
            app.metrics.count(Metric::LimiterUnavailable);
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

#[cfg(test)]
mod tests {
    use axum::http::Method;
    use countries_core::ratelimit::RouteGroup;

    use crate::routes::table::{Limits, table};

    /// Spot checks of the lookup's rules; `every_route_is_limited_as_the_table_says` (the router tests)
    /// walks the whole table through the router.
    #[test]
    fn each_request_counts_against_its_routes_group() {
        let limits = Limits::of(&table());
        for (method, path, want) in [
            (Method::GET, "/fetch/PY", Some(RouteGroup::Fetch)),
            (Method::POST, "/fetch/PY", Some(RouteGroup::Fetch)),
            (Method::POST, "/sync", Some(RouteGroup::Sync)),
            (Method::GET, "/sync", Some(RouteGroup::Read)),
            (
                Method::GET,
                "/sync/0193a000-0000-7000-8000-000000000000",
                Some(RouteGroup::Read),
            ),
            (Method::GET, "/country/PY", Some(RouteGroup::Read)),
            (Method::HEAD, "/country/PY", Some(RouteGroup::Read)),
            (Method::GET, "/status/PY", Some(RouteGroup::Read)),
            (Method::GET, "/countries", Some(RouteGroup::Read)),
            (Method::GET, "/v3.1/all", Some(RouteGroup::Read)),
            (Method::GET, "/v3.1/no/such/route", Some(RouteGroup::Read)),
            // Answered 405, and counted like GET.
            (Method::DELETE, "/fetch/PY", Some(RouteGroup::Fetch)),
            (Method::DELETE, "/sync", Some(RouteGroup::Read)),
            (Method::GET, "/health", None),
            (Method::POST, "/health", None),
            (Method::GET, "/openapi.json", None),
            (Method::GET, "/fetch/", None),
            (Method::GET, "/nowhere", None),
        ] {
            assert_eq!(limits.group(&method, path), want, "{method} {path}");
        }
    }
}
