//! The HTTP API: one axum router that the local server and the api Lambda both serve.

pub mod error;
pub mod lambda;
pub mod metrics;
pub mod routes;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use countries_core::Service;
use countries_core::config::{self, ConfigError, Source};
use countries_core::ports::{RateLimiter, RouteGroup};
use tracing::{Instrument, info, info_span, warn};
use utoipa::OpenApi;

use crate::error::ApiError;

/// What to do when the rate limiter cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimiterPolicy {
    /// Admit the request (and log a warning): the limiter protects, it must not take the API down.
    Open,
    /// Refuse with 503.
    Closed,
}

impl LimiterPolicy {
    /// `RATE_LIMIT_ON_ERROR`: `open` (default) or `closed`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(
            match config::choice_or(src, "RATE_LIMIT_ON_ERROR", &["open", "closed"], "open")? {
                "closed" => LimiterPolicy::Closed,
                _ => LimiterPolicy::Open,
            },
        )
    }
}

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub limiter: Arc<dyn RateLimiter>,
    pub limiter_policy: LimiterPolicy,
    /// Prefixed to the URLs the API hands out (`/prod` behind a staged API Gateway).
    pub base_path: String,
}

/// The client address the limiter keys on. The composition root puts it in the request extensions
/// (the Lambda from the API Gateway request context); else the TCP peer address is used.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

pub fn router(state: AppState) -> Router {
    let limited =
        |group: RouteGroup| middleware::from_fn_with_state((state.clone(), group), rate_limit);
    let fetch = Router::new()
        .route(
            "/fetch/{country}",
            get(routes::fetch).post(routes::fetch_post),
        )
        .route_layer(limited(RouteGroup::Fetch));
    let read = Router::new()
        .route("/country/{country}", get(routes::country))
        .route("/status/{country}", get(routes::status))
        .route_layer(limited(RouteGroup::Read));
    Router::new()
        .merge(fetch)
        .merge(read)
        .route("/health", get(routes::health))
        .route("/openapi.json", get(routes::openapi))
        .fallback(routes::no_route)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(middleware::from_fn(request_log))
        .with_state(state)
}

fn client_ip(req: &Request) -> IpAddr {
    if let Some(ClientIp(ip)) = req.extensions().get::<ClientIp>() {
        return *ip;
    }
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

async fn rate_limit(
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

/// One span per request (request id, method, path, and the country once known) and one line when done.
async fn request_log(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = info_span!("request", request_id = %request_id, method = %req.method(),
                          path = %req.uri().path(), country = tracing::field::Empty);
    let started = Instant::now();
    async move {
        let mut response = next.run(req).await;
        info!(
            status = response.status().as_u16(),
            ms = started.elapsed().as_secs_f64() * 1e3,
            "request done"
        );
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", v);
        }
        response
    }
    .instrument(span)
    .await
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Country data service",
        description = "Keeps a copy of the world's country data: `/fetch` queues a fetch from REST Countries, `/status` shows how it went, `/country` serves the stored document in the REST Countries v3.1 shape. Every error is `{\"Code\": \"...\", \"Message\": \"...\"}`. `/fetch`, `/country` and `/status` are rate limited per client (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` headers)."
    ),
    paths(routes::fetch, routes::fetch_post, routes::country, routes::status, routes::health, routes::openapi),
    components(schemas(error::ErrorBody, routes::FetchAccepted, routes::FetchFresh, routes::StatusBody, routes::Health,
                       countries_core::Operation, countries_core::OpState, countries_core::ident::Candidate)),
    tags((name = "countries", description = "Country data"), (name = "service", description = "The service itself"))
)]
pub struct ApiDoc;

/// The OpenAPI document, generated from the code once per process.
pub fn openapi_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    })
}
