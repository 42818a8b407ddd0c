//! The router on the in-memory adapters and the bundled upstream, as the local server wires it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use countries_api::{AppState, Links, router};
use countries_core::Job;
use countries_core::memory::{MemoryLimiter, MemoryQueue, MemoryStore};
use countries_core::ports::SystemClock;
use countries_core::ratelimit::{Limit, LimiterPolicy, RateLimiter, RateLimits};
use countries_core::usecases::{FreshnessPolicy, JobProcessor, RetryPolicy, UseCases};
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
    let (queue, queued) = MemoryQueue::new();
    let cases = UseCases::new(
        Arc::new(MemoryStore::new()),
        Arc::new(queue),
        Arc::new(Bundled::new()),
        Arc::new(SystemClock),
        FreshnessPolicy::default(),
        RetryPolicy::default(),
    );
    let router = router(AppState {
        fetches: cases.fetches,
        reads: cases.reads,
        limiter,
        limiter_policy: policy,
        upstream: "bundled",
        links,
    });
    App {
        router,
        jobs: cases.jobs,
        queued,
    }
}

/// Limits no test reaches.
pub fn generous() -> Arc<MemoryLimiter> {
    let generous = Limit::new(10_000, Duration::from_secs(60));
    Arc::new(MemoryLimiter::new(&RateLimits {
        fetch: generous,
        read: generous,
        on_error: LimiterPolicy::Open,
    }))
}

pub fn app() -> App {
    app_with(generous(), LimiterPolicy::Open, Links::default())
}
