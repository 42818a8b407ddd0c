//! In-memory adapters, one per file: the local default and what the unit tests run on.

mod budget;
mod clock;
mod limiter;
mod queue;
mod store;

pub use budget::{MemoryBudget, Unmetered};
pub use clock::ManualClock;
pub use limiter::MemoryLimiter;
pub use queue::MemoryQueue;
pub use store::MemoryStore;

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::metrics::Counted;
use crate::operation::Job;
use crate::ports::{SystemClock, Upstream, UpstreamBudget};
use crate::usecases::{FreshnessPolicy, RetryPolicy, UseCases};

/// Every use case on one memory store and an in-process queue, on the system clock: what the API and
/// worker tests run on.
pub struct InMemory {
    pub cases: UseCases,
    /// What the use cases counted.
    pub metrics: Arc<Counted>,
    pub queue: Arc<MemoryQueue>,
    /// The queue's other end, which the worker loop (or a test) takes jobs from.
    pub jobs: mpsc::UnboundedReceiver<Job>,
}

impl InMemory {
    pub fn new(
        upstream: (Arc<dyn Upstream>, Arc<dyn UpstreamBudget>),
        freshness: FreshnessPolicy,
        retry: RetryPolicy,
    ) -> Self {
        InMemory::on(MemoryStore::new(), upstream, freshness, retry)
    }

    /// As `new`, on a given store (the local server's, with its retention).
    pub fn on(
        store: MemoryStore,
        upstream: (Arc<dyn Upstream>, Arc<dyn UpstreamBudget>),
        freshness: FreshnessPolicy,
        retry: RetryPolicy,
    ) -> Self {
        let (queue, jobs) = MemoryQueue::new();
        let queue = Arc::new(queue);
        let metrics = Arc::new(Counted::default());
        let cases = UseCases::new(
            Arc::new(store),
            queue.clone(),
            upstream,
            Arc::new(SystemClock),
            metrics.clone(),
            freshness,
            retry,
        );
        InMemory {
            cases,
            metrics,
            queue,
            jobs,
        }
    }
}
