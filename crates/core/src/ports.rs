//! The ports: what the use cases need from the outside world, as small traits the adapters implement.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::budget::{Spend, Usage};
use crate::country::{CountryCode, CountryRecord, Fetched};
use crate::operation::{Job, Operation, Revision};

/// A storage failure: the dependency is down or refused the request. Conflicts are not errors; the
/// methods report them in their return values.
#[derive(Debug, Clone, thiserror::Error)]
#[error("store: {0}")]
pub struct StoreError(pub String);

#[derive(Debug, Clone, thiserror::Error)]
#[error("queue: {0}")]
pub struct QueueError(pub String);

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

#[async_trait]
pub trait JobQueue: Send + Sync {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError>;
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

#[async_trait]
pub trait Upstream: Send + Sync {
    /// `bundled`, `v3.1` or `v5`: recorded as the source of what it returns.
    fn kind(&self) -> &'static str;
    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError>;
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

/// One cheap call to a dependency, for the readiness check (`GET /health?deep=true`): `Ok` when it
/// answered. The error is for the log; the caller bounds how long it may take.
#[async_trait]
pub trait Probe: Send + Sync {
    async fn probe(&self) -> Result<(), String>;
}

/// A dependency in this process (the memory adapters): always there.
pub struct InProcess;

#[async_trait]
impl Probe for InProcess {
    async fn probe(&self) -> Result<(), String> {
        Ok(())
    }
}
