//! The HTTP API: one axum router that the local server and the api Lambda both serve. It depends on the
//! core's use cases and ports only; the compositions (`countries-local`, `countries-lambdas`) hand it
//! their adapters in an [`AppState`].

pub mod error;
pub mod links;
pub mod openapi;
pub mod ratelimit;
pub mod routes;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use countries_core::ports::{Probe, UpstreamBudget};
use countries_core::ratelimit::{LimiterPolicy, RateLimiter, RouteGroup};
use countries_core::usecases::{CountryReads, FetchRequests};
use tracing::{Instrument, info, info_span};

pub use links::Links;

#[derive(Clone)]
pub struct AppState {
    pub fetches: Arc<FetchRequests>,
    pub reads: Arc<CountryReads>,
    pub limiter: Arc<dyn RateLimiter>,
    pub limiter_policy: LimiterPolicy,
    /// The upstream kind the worker fetches from, for `/health`.
    pub upstream: &'static str,
    /// The month's upstream use, for `/health`.
    pub budget: Arc<dyn UpstreamBudget>,
    pub links: Links,
    /// What `/health?deep=true` checks, by the name it reports: `store`, `queue`, `limiter`.
    pub probes: Vec<(&'static str, Arc<dyn Probe>)>,
}

/// The client address the limiter keys on. The composition root puts it in the request extensions
/// (the Lambda from the API Gateway request context); else the TCP peer address is used.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

pub fn router(state: AppState) -> Router {
    let limited = |group: RouteGroup| {
        middleware::from_fn_with_state((state.clone(), group), ratelimit::rate_limit)
    };
    let fetch = Router::new()
        .route(
            "/fetch/{country}",
            get(routes::fetch::get).post(routes::fetch::get),
        )
        .route_layer(limited(RouteGroup::Fetch));
    let read = Router::new()
        .route("/country/{country}", get(routes::country::get))
        .route("/status/{country}", get(routes::status::get))
        .route_layer(limited(RouteGroup::Read));
    Router::new()
        .merge(fetch)
        .merge(read)
        .route("/health", get(routes::service::health))
        .route("/openapi.json", get(routes::service::openapi))
        .fallback(routes::service::no_route)
        .method_not_allowed_fallback(routes::service::method_not_allowed)
        .layer(middleware::from_fn(request_log))
        .with_state(state)
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
