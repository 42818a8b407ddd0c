//! The router on the in-memory adapters and the bundled data, shared by the router and Lambda event tests.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use countries_api::{AppState, LimiterPolicy, router};
use countries_core::config::Limit;
use countries_core::country::{CountryCode, Fetched};
use countries_core::memory::{MemoryLimiter, MemoryQueue, MemoryStore};
use countries_core::ports::{RateLimiter, SystemClock, Upstream, UpstreamError};
use countries_core::{Job, Service, Settings};
use tokio::sync::mpsc::UnboundedReceiver;

pub struct App {
    pub router: Router,
    pub service: Arc<Service>,
    pub jobs: UnboundedReceiver<Job>,
}

/// The bundled data set as an upstream, without depending on the upstream crate.
pub struct Dataset;

#[async_trait]
impl Upstream for Dataset {
    fn kind(&self) -> &'static str {
        "bundled"
    }
    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        let raw = countries_core::dataset::documents()
            .into_iter()
            .find(|d| d["cca2"] == code.as_str())
            .ok_or_else(|| UpstreamError::NotFound(code.to_string()))?;
        Ok(Fetched {
            document: countries_core::country::from_v31(&raw),
            raw,
            source: "bundled".into(),
        })
    }
}

pub fn app_with(limiter: Arc<dyn RateLimiter>, policy: LimiterPolicy) -> App {
    let store = Arc::new(MemoryStore::new());
    let (queue, jobs) = MemoryQueue::new();
    let service = Arc::new(Service {
        index: countries_core::ident::index(),
        countries: store.clone(),
        operations: store,
        queue: Arc::new(queue),
        upstream: Arc::new(Dataset),
        clock: Arc::new(SystemClock),
        settings: Settings::default(),
    });
    let router = router(AppState {
        service: service.clone(),
        limiter,
        limiter_policy: policy,
        base_path: String::new(),
    });
    App {
        router,
        service,
        jobs,
    }
}

pub fn app() -> App {
    let generous = Limit::new(10_000, Duration::from_secs(60));
    app_with(
        Arc::new(MemoryLimiter::new(generous, generous)),
        LimiterPolicy::Open,
    )
}
