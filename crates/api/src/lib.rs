//! The HTTP API: one axum router that the local server and the api Lambda both serve. It depends on the
//! core's use cases and ports only; the compositions (`countries-local`, `countries-lambdas`) hand it
//! their adapters in an [`AppState`].

pub mod error;
pub mod links;
pub mod openapi;
pub mod operator;
pub mod ratelimit;
pub mod routes;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use countries_core::metrics::{Metric, Metrics};
use countries_core::ports::{Probe, UpstreamBudget, UpstreamKind};
use countries_core::ratelimit::{LimiterPolicy, RateLimiter};
use countries_core::usecases::{
    ApiCases, CatalogueReads, CountryReads, FetchRequests, SyncRequests,
};
use tower::ServiceBuilder;
use tower_http::cors::{Any, CorsLayer};
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::{Instrument, error, info, info_span};

pub use links::Links;
pub use operator::OperatorKey;

/// What the handlers run on: the api side's use cases and the edge's own parts. Built by
/// [`AppState::new`] and the `with_*` methods, in the compositions and the router tests alike.
#[derive(Clone)]
pub struct AppState {
    fetches: Arc<FetchRequests>,
    reads: Arc<CountryReads>,
    /// The catalogue's snapshot: `/countries`, `/v3.1/*`, and `/country` when the country is in it.
    catalogue: Arc<CatalogueReads>,
    sync_requests: Arc<SyncRequests>,
    /// What `POST /sync?force=true` must carry.
    operator_key: OperatorKey,
    limiter: Arc<dyn RateLimiter>,
    limiter_policy: LimiterPolicy,
    metrics: Arc<dyn Metrics>,
    /// The upstream kind the worker fetches from, for `/health`.
    upstream: UpstreamKind,
    /// The month's upstream use, for `/health`.
    budget: Arc<dyn UpstreamBudget>,
    links: Links,
    /// What `/health?deep=true` checks, by the name it reports: `store`, `queue`, `limiter`.
    probes: Vec<(&'static str, Arc<dyn Probe>)>,
}

impl AppState {
    /// The state over the api side's use cases: the bundled upstream without a quota, no operator key,
    /// no probes, links at the root, until a `with_*` method says otherwise.
    pub fn new(
        cases: &ApiCases,
        (limiter, limiter_policy): (Arc<dyn RateLimiter>, LimiterPolicy),
        metrics: Arc<dyn Metrics>,
    ) -> AppState {
        AppState {
            fetches: cases.fetches.clone(),
            reads: cases.reads.clone(),
            catalogue: cases.catalogue.clone(),
            sync_requests: cases.sync_requests.clone(),
            operator_key: OperatorKey::none(),
            limiter,
            limiter_policy,
            metrics,
            upstream: UpstreamKind::Bundled,
            budget: Arc::new(countries_core::memory::Unmetered),
            links: Links::default(),
            probes: Vec::new(),
        }
    }

    pub fn with_operator_key(self, operator_key: OperatorKey) -> AppState {
        AppState {
            operator_key,
            ..self
        }
    }

    /// The upstream the worker fetches from and its month's budget, as `/health` reports them.
    pub fn with_upstream(
        self,
        upstream: UpstreamKind,
        budget: Arc<dyn UpstreamBudget>,
    ) -> AppState {
        AppState {
            upstream,
            budget,
            ..self
        }
    }

    pub fn with_links(self, links: Links) -> AppState {
        AppState { links, ..self }
    }

    pub fn with_probes(self, probes: Vec<(&'static str, Arc<dyn Probe>)>) -> AppState {
        AppState { probes, ..self }
    }
}

/// The client address the limiter keys on. The composition root puts it in the request extensions
/// (the Lambda from the API Gateway request context); else the TCP peer address is used.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

pub fn router(state: AppState) -> Router {
    let table = routes::table::table();
    let limits = Arc::new(routes::table::Limits::of(&table));
    let routes = table
        .into_iter()
        .fold(Router::new(), |router, route| {
            router.route(route.path, route.handler)
        })
        .fallback(routes::service::no_route)
        .method_not_allowed_fallback(routes::service::method_not_allowed)
        .with_state(state.clone());
    // Around the whole router once, not route by route (as `Router::layer` does): it is built at every
    // cold start. The trailing slash goes before routing: v3.1 took `/v3.1/name/peru/` as well.
    let service = ServiceBuilder::new()
        // Every answer is JSON (or a 304): a browser must not sniff one into HTML.
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(cors())
        .layer(middleware::from_fn_with_state(state.clone(), request_log))
        .layer(NormalizePathLayer::trim_trailing_slash())
        .layer(middleware::from_fn_with_state(
            (state, limits),
            ratelimit::rate_limit,
        ))
        .service(routes);
    Router::new().fallback_service(service)
}

/// CORS for browsers calling from any origin: every route answers the preflight (`OPTIONS`) and lets the
/// page read the caching and rate-limit headers.
fn cors() -> CorsLayer {
    use axum::http::{HeaderName, Method, header};
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::HEAD, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
        ])
        .expose_headers([
            header::ETAG,
            header::LAST_MODIFIED,
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
            HeaderName::from_static("x-country-source"),
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(std::time::Duration::from_secs(3600))
}

/// Whether a client's `X-Request-Id` may stand for the request in the logs and the answer: short, and
/// of characters that cannot forge a log field or inflate a line. Any other gets an id of our own.
fn usable_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

/// One span per request (request id, method, path, and the country once known) and one line when done;
/// a 5xx's detail (which the client never sees) logged and, for corrupt stored data, counted.
async fn request_log(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| usable_request_id(id))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = info_span!("request", request_id = %request_id, method = %req.method(),
                          path = %req.uri().path(), country = tracing::field::Empty);
    let started = Instant::now();
    async move {
        let mut response = next.run(req).await;
        if let Some(failure) = response.extensions().get::<error::Failure>() {
            error!(error = %failure.detail, "request failed");
            if failure.corrupt {
                app.metrics.count(Metric::StoredDataCorrupt);
            }
        }
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
