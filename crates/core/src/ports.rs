//! The ports: what the use cases need from the outside world, as small traits the adapters implement.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::budget::{Spend, Usage};
use crate::catalogue::StoredCatalogue;
use crate::country::{CountryCode, CountryRecord, Fetched};
use crate::operation::{Job, Operation, Revision};
use crate::sync_record::{SyncJob, SyncRecord, SyncState};

/// A storage failure. Conflicts are not errors; the methods report them in their return values.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    /// The store is down, slow, or refused the request: the same call may work later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// What the store holds cannot be read, or cannot be written as asked: trying again will not help.
    #[error("stored data unusable: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueueError {
    /// The queue is down, slow, or refused the message: the same call may work later.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
    /// The in-process queue is closed: the process is shutting down.
    #[error("queue closed: the process is shutting down")]
    Closed,
}

/// What `create_operation` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// Stored; `superseded` is a stuck operation that held the country's in-flight slot until now.
    New { superseded: Option<Operation> },
    /// Another operation holds the slot: it is returned and nothing was written.
    InFlight(Operation),
}

#[async_trait]
pub trait CountryStore: Send + Sync {
    async fn get_country(&self, code: CountryCode) -> Result<Option<CountryRecord>, StoreError>;
    /// Stores `record` unless one with the same or a newer version is there; returns whether it wrote.
    async fn put_country(&self, record: &CountryRecord) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait OperationStore: Send + Sync {
    /// Stores a new `queued` operation, atomically with the rule that a country has at most one
    /// operation in flight: one is in flight while it is queued or running and moved at or after
    /// `stuck_before`.
    async fn create_operation(
        &self,
        op: &Operation,
        stuck_before: DateTime<Utc>,
    ) -> Result<Created, StoreError>;
    async fn get_operation(
        &self,
        country: CountryCode,
        request_id: Uuid,
    ) -> Result<Option<Operation>, StoreError>;
    /// Replaces the stored operation if it is still at `expected`; returns whether it wrote.
    async fn update_operation(
        &self,
        op: &Operation,
        expected: Revision,
    ) -> Result<bool, StoreError>;
    /// Every operation that is queued or running (at most one per country), for the sweep.
    async fn in_flight(&self) -> Result<Vec<Operation>, StoreError>;
    /// The country's operations, newest first, at most `limit`, expired ones left out.
    async fn list_operations(
        &self,
        country: CountryCode,
        limit: usize,
    ) -> Result<Vec<Operation>, StoreError>;
}

/// The catalogue item (see `catalogue`): one per store.
#[async_trait]
pub trait CatalogueStore: Send + Sync {
    /// The stored catalogue's revision, a cheap read: `None` when there is none.
    async fn catalogue_revision(&self) -> Result<Option<u64>, StoreError>;
    async fn get_catalogue(&self) -> Result<Option<StoredCatalogue>, StoreError>;
    /// Stores `catalogue` if the stored revision is still `expected` (`None`: nothing is stored);
    /// returns whether it wrote.
    async fn put_catalogue(
        &self,
        catalogue: &StoredCatalogue,
        expected: Option<u64>,
    ) -> Result<bool, StoreError>;
}

/// What `create_sync` did.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncCreated {
    New,
    /// Another sync is queued or running: it is returned and nothing was written.
    InFlight(SyncRecord),
}

#[async_trait]
pub trait SyncStore: Send + Sync {
    /// Stores a new queued sync, atomically with the rule that at most one sync is in flight: one is in
    /// flight while it is queued or running and moved at or after `stuck_before`.
    async fn create_sync(
        &self,
        sync: &SyncRecord,
        stuck_before: DateTime<Utc>,
    ) -> Result<SyncCreated, StoreError>;
    async fn get_sync(&self, id: Uuid) -> Result<Option<SyncRecord>, StoreError>;
    /// Replaces the stored sync if it is still in state `expected`; returns whether it wrote. A final
    /// sync gives up the in-flight slot.
    async fn update_sync(&self, sync: &SyncRecord, expected: SyncState)
    -> Result<bool, StoreError>;
    /// The latest syncs, newest first, at most `limit`, expired ones left out.
    async fn list_syncs(&self, limit: usize) -> Result<Vec<SyncRecord>, StoreError>;
}

#[async_trait]
pub trait JobQueue: Send + Sync {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError>;
    async fn enqueue_sync(&self, job: &SyncJob) -> Result<(), QueueError>;
    /// Queues the job to be delivered after `delay` (SQS: at most 15 minutes; it comes back then and
    /// waits again if it must) as a new message, so that waiting does not count as a delivery.
    async fn enqueue_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError>;
}

/// The upstream calls all workers share (see `budget`). `spend` takes one call's share or says when to
/// come back; `usage` is the month's, or `None` for an upstream without a quota.
#[async_trait]
pub trait UpstreamBudget: Send + Sync {
    async fn spend(&self, now: DateTime<Utc>) -> Result<Spend, StoreError>;
    async fn usage(&self, now: DateTime<Utc>) -> Result<Option<Usage>, StoreError>;
}

/// Why an upstream call failed, which decides what becomes of the operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The upstream has no such country: final.
    #[error("not found upstream: {0}")]
    NotFound(String),
    /// Worth another try later (timeouts, connection errors, 429, 5xx).
    #[error("{message}")]
    Retryable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Will not get better by retrying (401, 403, 410, an unreadable payload).
    #[error("{0}")]
    Permanent(String),
}

/// Admits each upstream call of a catalogue fetch: the sync spends the fleet's budget through it.
#[async_trait]
pub trait CallGate: Send + Sync {
    async fn admit(&self) -> Result<(), UpstreamError>;
}

/// What a catalogue fetch brought.
#[derive(Debug, Default)]
pub struct CatalogueFetch {
    pub countries: Vec<(CountryCode, Fetched)>,
    /// What did not come: a page, or a country's document and why.
    pub failed: Vec<String>,
    pub calls: u32,
}

/// Which REST Countries an upstream is (`COUNTRIES_UPSTREAM`). Its name is what `/health` reports and
/// what a stored country records as its source, so the names are part of the HTTP contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamKind {
    /// The data set in the repository.
    Bundled,
    /// A self-hosted v3.1 server.
    V31,
    /// The live keyed API.
    V5,
}

impl UpstreamKind {
    pub const ALL: [UpstreamKind; 3] = [UpstreamKind::Bundled, UpstreamKind::V31, UpstreamKind::V5];

    pub fn as_str(self) -> &'static str {
        match self {
            UpstreamKind::Bundled => "bundled",
            UpstreamKind::V31 => "v3.1",
            UpstreamKind::V5 => "v5",
        }
    }

    /// Whether its calls count against a quota: v5's plans do, the others are free.
    pub fn has_quota(self) -> bool {
        self == UpstreamKind::V5
    }
}

impl std::fmt::Display for UpstreamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no [`UpstreamKind`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownUpstreamKind;

impl std::fmt::Display for UnknownUpstreamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = UpstreamKind::ALL.map(UpstreamKind::as_str);
        write!(f, "expected one of {}", names.join(", "))
    }
}

impl std::error::Error for UnknownUpstreamKind {}

/// Case-insensitive, as `COUNTRIES_UPSTREAM=V5` has always been read.
impl std::str::FromStr for UpstreamKind {
    type Err = UnknownUpstreamKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UpstreamKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or(UnknownUpstreamKind)
    }
}

#[async_trait]
pub trait Upstream: Send + Sync {
    /// Recorded as the source of what it returns.
    fn kind(&self) -> UpstreamKind;
    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError>;
    /// Every country, in as few calls as the upstream allows, each admitted by `gate` first. A call
    /// that fails after some succeeded ends the fetch with what came and the failure in `failed`; the
    /// error is for a fetch that brought nothing.
    async fn catalogue(&self, gate: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError>;
}

/// Delays the next delivery of a job that will be retried (on SQS: its visibility timeout), so that the
/// backoff holds however the job came.
#[async_trait]
pub trait Redelivery: Send + Sync {
    /// `receipt` identifies this delivery of the job.
    async fn redeliver_after(&self, receipt: &str, after: Duration) -> Result<(), QueueError>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Every stored port on one store, as each store adapter (memory, DynamoDB) provides them: what the
/// use cases' constructors take.
pub trait Store: CountryStore + OperationStore + CatalogueStore + SyncStore {}

impl<T: CountryStore + OperationStore + CatalogueStore + SyncStore> Store for T {}

/// An upstream client and the budget its calls are spent from.
pub type MeteredUpstream = (Arc<dyn Upstream>, Arc<dyn UpstreamBudget>);

/// A secret a person puts after the deploy (the v5 key, the operator key): `None` while it has no
/// value, so that the process starts without it and finds it once it is put.
#[async_trait]
pub trait Secret: Send + Sync {
    async fn read(&self) -> Result<Option<String>, Unanswered>;
}

/// One cheap call to a dependency, for the readiness check (`GET /health?deep=true`): `Ok` when it
/// answered. The error is for the log; the caller bounds how long it may take.
#[async_trait]
pub trait Probe: Send + Sync {
    async fn probe(&self) -> Result<(), Unanswered>;
}

/// A dependency (a secret, a probed service) that did not answer, in its own words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Unanswered(pub String);

/// A dependency in this process (the memory adapters): always there.
pub struct InProcess;

#[async_trait]
impl Probe for InProcess {
    async fn probe(&self) -> Result<(), Unanswered> {
        Ok(())
    }
}
