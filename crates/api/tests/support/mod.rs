//! The router on the in-memory adapters and the bundled upstream, as the local server wires it.

use std::sync::Arc;
use std::time::Duration;

use std::net::IpAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use countries_api::{AppState, ClientIp, Links, router};
use countries_core::Job;
use countries_core::memory::{InMemory, MemoryLimiter, Unmetered};
use countries_core::ports::Upstream;
use countries_core::ratelimit::{Limit, LimiterPolicy, RateLimiter, RateLimits};
use countries_core::usecases::CatalogueSync;
use countries_core::usecases::{FreshnessPolicy, JobProcessor, RetryPolicy};
use countries_upstream::Bundled;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;
use tower::ServiceExt;

pub struct App {
    pub router: Router,
    pub jobs: Arc<JobProcessor>,
    #[allow(dead_code)] // each test binary compiles this module; not every one syncs
    pub syncs: Arc<CatalogueSync>,
    pub queued: UnboundedReceiver<Job>,
    /// What the router and the use cases counted.
    #[allow(dead_code)]
    // each test binary compiles this module; not every one asserts on a metric
    pub metrics: Arc<countries_core::metrics::Counted>,
}

impl App {
    /// Runs every queued job, as the worker would.
    pub async fn drain(&mut self) {
        while let Ok(job) = self.queued.try_recv() {
            self.jobs.process(&job).await.unwrap();
        }
    }
}

pub fn app_with(limiter: Arc<dyn RateLimiter>, policy: LimiterPolicy, links: Links) -> App {
    app_on(Arc::new(Bundled::new()), limiter, policy, links)
}

pub fn app_on(
    upstream: Arc<dyn Upstream>,
    limiter: Arc<dyn RateLimiter>,
    policy: LimiterPolicy,
    links: Links,
) -> App {
    let memory = InMemory::new(
        (upstream, Arc::new(Unmetered)),
        FreshnessPolicy::default(),
        RetryPolicy::default(),
    );
    let state = AppState::new(&memory.cases.api, (limiter, policy), memory.metrics.clone());
    let router = router(state.with_links(links));
    App {
        router,
        jobs: memory.cases.worker.jobs,
        syncs: memory.cases.worker.syncs,
        queued: memory.jobs,
        metrics: memory.metrics,
    }
}

/// Limits no test reaches.
pub fn generous() -> Arc<MemoryLimiter> {
    let generous = Limit::new(10_000, Duration::from_secs(60));
    Arc::new(MemoryLimiter::new(&RateLimits {
        fetch: generous,
        read: generous,
        sync: generous,
        on_error: LimiterPolicy::Open,
    }))
}

pub fn app() -> App {
    app_with(generous(), LimiterPolicy::Open, Links::default())
}

pub async fn call_from(
    router: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    ip: &str,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(ClientIp(ip.parse::<IpAddr>().unwrap()));
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {bytes:?}"))
    };
    (status, headers, body)
}

pub async fn get(router: &Router, uri: &str) -> (StatusCode, HeaderMap, Value) {
    call_from(router, Method::GET, uri, &[], "192.0.2.10").await
}
