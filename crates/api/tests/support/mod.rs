//! The router on the in-memory adapters and the bundled upstream, as the local server wires it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use countries_api::{AppState, Links, router};
use countries_core::Job;
use countries_core::memory::{InMemory, MemoryLimiter, Unmetered};
use countries_core::ports::Upstream;
use countries_core::ratelimit::{Limit, LimiterPolicy, RateLimiter, RateLimits};
use countries_core::usecases::{FreshnessPolicy, JobProcessor, RetryPolicy};
use countries_upstream::Bundled;
use tokio::sync::mpsc::UnboundedReceiver;

pub struct App {
    pub router: Router,
    pub jobs: Arc<JobProcessor>,
    pub queued: UnboundedReceiver<Job>,
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
    let router = router(AppState {
        links,
        ..AppState::of(&memory.cases, limiter, policy)
    });
    App {
        router,
        jobs: memory.cases.jobs,
        queued: memory.jobs,
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
