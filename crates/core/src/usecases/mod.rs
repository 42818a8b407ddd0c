//! The use cases, one per job, each holding only the ports it needs:
//!
//! - [`FetchRequests`] (api): resolve an identifier and queue a fetch, unless one is in flight or the stored
//!   document is fresh;
//! - [`CountryReads`] (api): the stored document and the operations of a country;
//! - [`JobProcessor`] (worker): run one fetch job against the upstream and record what became of it;
//! - [`Sweeper`] (worker, on a schedule): send again the jobs of operations nobody will finish;
//! - [`CatalogueReads`] (api): the catalogue through one in-memory snapshot per process;
//! - [`SyncRequests`] (api): queue a catalogue sync unless the catalogue is fresh or one is in flight;
//! - [`CatalogueSync`] (worker): run a sync, bringing the whole catalogue in a few upstream calls.

mod catalogue;
mod fetch;
mod job;
mod read;
mod sweep;
mod sync;

pub use catalogue::{CatalogueReads, refresh_from_source};
pub use sync::{CatalogueSync, SYNC_ALLOWANCE, SyncOutcome, SyncRequests};

pub use fetch::{FetchOutcome, FetchRequests, FreshnessPolicy, ORPHAN_GRACE};
pub use job::{JOB_STORE_ALLOWANCE, JobOutcome, JobProcessor, RetryPolicy};
pub use read::CountryReads;
pub use sweep::{Sweeper, Swept};

use std::sync::Arc;
use std::time::Duration;

use crate::country::CountryCode;
use crate::ident::IdentError;
use crate::metrics::Metrics;
use crate::ports::{Clock, JobQueue, MeteredUpstream, QueueError, Store, StoreError};

/// The use cases of a process that serves the API: the api Lambda, the local server, the router tests.
#[derive(Clone)]
pub struct ApiCases {
    pub fetches: Arc<FetchRequests>,
    pub reads: Arc<CountryReads>,
    pub catalogue: Arc<CatalogueReads>,
    pub sync_requests: Arc<SyncRequests>,
}

impl ApiCases {
    /// `catalogue_refresh` is how stale the catalogue snapshot may be: zero in a process that also
    /// works, so that it sees its own writes at once.
    pub fn new<S: Store + 'static>(
        store: Arc<S>,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
        freshness: FreshnessPolicy,
        catalogue_refresh: Duration,
    ) -> Self {
        ApiCases {
            fetches: Arc::new(FetchRequests::new(
                store.clone(),
                store.clone(),
                queue.clone(),
                clock.clone(),
                freshness,
            )),
            reads: Arc::new(CountryReads::new(store.clone(), store.clone())),
            catalogue: Arc::new(CatalogueReads::new(store.clone(), catalogue_refresh)),
            sync_requests: Arc::new(SyncRequests::new(store, queue, clock, freshness)),
        }
    }
}

/// The use cases of a process that works jobs: the worker Lambda, the local server, the worker tests.
#[derive(Clone)]
pub struct WorkerCases {
    pub jobs: Arc<JobProcessor>,
    pub sweeper: Arc<Sweeper>,
    pub syncs: Arc<CatalogueSync>,
}

impl WorkerCases {
    /// `queue` is where the sweep sends again the jobs of operations nobody will finish.
    pub fn new<S: Store + 'static>(
        store: Arc<S>,
        queue: Arc<dyn JobQueue>,
        (upstream, budget): MeteredUpstream,
        clock: Arc<dyn Clock>,
        metrics: Arc<dyn Metrics>,
        freshness: FreshnessPolicy,
        retry: RetryPolicy,
    ) -> Self {
        WorkerCases {
            jobs: Arc::new(JobProcessor::new(
                (store.clone(), store.clone(), store.clone()),
                (upstream.clone(), budget.clone()),
                clock.clone(),
                metrics.clone(),
                retry,
            )),
            syncs: Arc::new(CatalogueSync::new(
                store.clone(),
                store.clone(),
                store.clone(),
                (upstream, budget),
                clock.clone(),
                metrics,
                freshness,
            )),
            sweeper: Arc::new(Sweeper::new(store, queue, clock, retry)),
        }
    }
}

/// Both sides on one store and one queue: a process that serves and works (the local server) or a test.
#[derive(Clone)]
pub struct UseCases {
    pub api: ApiCases,
    pub worker: WorkerCases,
}

impl UseCases {
    pub fn new<S: Store + 'static>(
        store: Arc<S>,
        queue: Arc<dyn JobQueue>,
        upstream: MeteredUpstream,
        clock: Arc<dyn Clock>,
        metrics: Arc<dyn Metrics>,
        freshness: FreshnessPolicy,
        retry: RetryPolicy,
    ) -> Self {
        UseCases {
            api: ApiCases::new(
                store.clone(),
                queue.clone(),
                clock.clone(),
                freshness,
                Duration::ZERO,
            ),
            worker: WorkerCases::new(store, queue, upstream, clock, metrics, freshness, retry),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Ident(#[from] IdentError),
    #[error("{code} has not been fetched yet")]
    NotFetched { code: CountryCode },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
pub(crate) use crate::testing;
