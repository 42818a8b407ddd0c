//! In-memory adapters: the local default and what the unit tests run on.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::budget::{self, BudgetPolicy, Exhausted, Spend, Usage};
use crate::catalogue::StoredCatalogue;
use crate::country::{CountryCode, CountryRecord};
use crate::metrics::Counted;
use crate::operation::{Job, Operation, Revision};
use crate::ports::{
    CatalogueStore, Clock, CountryStore, Created, JobQueue, OperationStore, QueueError, StoreError,
    SyncCreated, SyncStore, SystemClock, Upstream, UpstreamBudget,
};
use crate::ratelimit::{Decision, Limit, LimiterError, RateLimiter, RateLimits, RouteGroup};
use crate::sync_record::{SyncJob, SyncRecord, SyncState};
use crate::usecases::{FreshnessPolicy, RetryPolicy, UseCases};

/// Both stores in one mutex-guarded map each; every method is one critical section, which is what
/// makes `create_operation` and the conditional writes atomic. Finished operations older than the
/// retention are forgotten when the country's next operation is created, as DynamoDB's TTL would.
pub struct MemoryStore {
    countries: Mutex<HashMap<CountryCode, CountryRecord>>,
    operations: Mutex<HashMap<CountryCode, Vec<Operation>>>,
    catalogue: Mutex<Option<StoredCatalogue>>,
    syncs: Mutex<Vec<SyncRecord>>,
    retention: Duration,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_retention(crate::operation::DEFAULT_RETENTION)
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_retention(retention: Duration) -> Self {
        MemoryStore {
            countries: Mutex::default(),
            operations: Mutex::default(),
            catalogue: Mutex::default(),
            syncs: Mutex::default(),
            retention,
        }
    }

    fn expired_before(&self) -> DateTime<Utc> {
        Utc::now() - chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX)
    }
}

#[async_trait]
impl CountryStore for MemoryStore {
    async fn get_country(&self, code: CountryCode) -> Result<Option<CountryRecord>, StoreError> {
        Ok(self.countries.lock().unwrap().get(&code).cloned())
    }

    async fn put_country(&self, record: &CountryRecord) -> Result<bool, StoreError> {
        let mut countries = self.countries.lock().unwrap();
        match countries.get(&record.code) {
            Some(stored) if stored.version >= record.version => Ok(false),
            _ => {
                countries.insert(record.code, record.clone());
                Ok(true)
            }
        }
    }
}

#[async_trait]
impl OperationStore for MemoryStore {
    async fn create_operation(
        &self,
        op: &Operation,
        stuck_before: DateTime<Utc>,
    ) -> Result<Created, StoreError> {
        let expired_before = self.expired_before();
        let mut all = self.operations.lock().unwrap();
        let ops = all.entry(op.country).or_default();
        ops.retain(|o| !(o.state.is_final() && o.requested_at < expired_before));
        if let Some(holder) = ops.iter().find(|o| o.blocks_new_fetch(stuck_before)) {
            return Ok(Created::InFlight(holder.clone()));
        }
        let superseded = ops.iter().rev().find(|o| !o.state.is_final()).cloned();
        ops.push(op.clone());
        Ok(Created::New { superseded })
    }

    async fn get_operation(
        &self,
        country: CountryCode,
        request_id: Uuid,
    ) -> Result<Option<Operation>, StoreError> {
        let all = self.operations.lock().unwrap();
        Ok(all
            .get(&country)
            .and_then(|ops| ops.iter().find(|o| o.request_id == request_id))
            .cloned())
    }

    async fn update_operation(
        &self,
        op: &Operation,
        expected: Revision,
    ) -> Result<bool, StoreError> {
        let mut all = self.operations.lock().unwrap();
        let stored = all
            .get_mut(&op.country)
            .and_then(|ops| ops.iter_mut().find(|o| o.request_id == op.request_id));
        match stored {
            Some(stored) if stored.revision() == expected => {
                *stored = op.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn in_flight(&self) -> Result<Vec<Operation>, StoreError> {
        let all = self.operations.lock().unwrap();
        Ok(all
            .values()
            .flatten()
            .filter(|o| !o.state.is_final())
            .cloned()
            .collect())
    }

    async fn list_operations(
        &self,
        country: CountryCode,
        limit: usize,
    ) -> Result<Vec<Operation>, StoreError> {
        let all = self.operations.lock().unwrap();
        let mut ops: Vec<Operation> = all.get(&country).cloned().unwrap_or_default();
        ops.sort_by_key(|o| std::cmp::Reverse(o.request_id));
        ops.truncate(limit);
        Ok(ops)
    }
}

#[async_trait]
impl CatalogueStore for MemoryStore {
    async fn catalogue_revision(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.catalogue.lock().unwrap().as_ref().map(|c| c.revision))
    }

    async fn get_catalogue(&self) -> Result<Option<StoredCatalogue>, StoreError> {
        Ok(self.catalogue.lock().unwrap().clone())
    }

    async fn put_catalogue(
        &self,
        catalogue: &StoredCatalogue,
        expected: Option<u64>,
    ) -> Result<bool, StoreError> {
        let mut stored = self.catalogue.lock().unwrap();
        if stored.as_ref().map(|c| c.revision) != expected {
            return Ok(false);
        }
        *stored = Some(catalogue.clone());
        Ok(true)
    }
}

#[async_trait]
impl SyncStore for MemoryStore {
    async fn create_sync(
        &self,
        sync: &SyncRecord,
        stuck_before: DateTime<Utc>,
    ) -> Result<SyncCreated, StoreError> {
        let expired_before = self.expired_before();
        let mut syncs = self.syncs.lock().unwrap();
        syncs.retain(|s| !(s.state().is_final() && s.requested_at() < expired_before));
        let holder = syncs
            .iter()
            .find(|s| !s.state().is_final() && s.last_activity() >= stuck_before);
        if let Some(holder) = holder {
            return Ok(SyncCreated::InFlight(holder.clone()));
        }
        syncs.push(sync.clone());
        Ok(SyncCreated::New)
    }

    async fn get_sync(&self, id: Uuid) -> Result<Option<SyncRecord>, StoreError> {
        Ok(self
            .syncs
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.id() == id)
            .cloned())
    }

    async fn update_sync(
        &self,
        sync: &SyncRecord,
        expected: SyncState,
    ) -> Result<bool, StoreError> {
        let mut syncs = self.syncs.lock().unwrap();
        match syncs.iter_mut().find(|s| s.id() == sync.id()) {
            Some(stored) if stored.state() == expected => {
                *stored = sync.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn list_syncs(&self, limit: usize) -> Result<Vec<SyncRecord>, StoreError> {
        let mut syncs = self.syncs.lock().unwrap().clone();
        syncs.sort_by_key(|s| std::cmp::Reverse(s.id()));
        syncs.truncate(limit);
        Ok(syncs)
    }
}

/// A queue that hands jobs to an in-process worker loop through a channel, and sync jobs through
/// another.
pub struct MemoryQueue {
    tx: mpsc::UnboundedSender<Job>,
    sync_tx: mpsc::UnboundedSender<SyncJob>,
    sync_rx: Mutex<Option<mpsc::UnboundedReceiver<SyncJob>>>,
}

impl MemoryQueue {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Job>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (sync_tx, sync_rx) = mpsc::unbounded_channel();
        let queue = MemoryQueue {
            tx,
            sync_tx,
            sync_rx: Mutex::new(Some(sync_rx)),
        };
        (queue, rx)
    }

    /// The sync jobs' end of the queue, for the one loop that runs them.
    pub fn take_syncs(&self) -> Option<mpsc::UnboundedReceiver<SyncJob>> {
        self.sync_rx.lock().unwrap().take()
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError> {
        self.tx.send(job.clone()).map_err(|_| QueueError::Closed)
    }

    async fn enqueue_sync(&self, job: &SyncJob) -> Result<(), QueueError> {
        self.sync_tx.send(*job).map_err(|_| QueueError::Closed)
    }

    async fn enqueue_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        let (tx, job) = (self.tx.clone(), job.clone());
        // Detached: a job waiting for its turn holds nothing and does not delay shutdown.
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            tx.send(job).ok();
        });
        Ok(())
    }
}

/// The budget in this process: the latest calls' times and the month's count, under one lock.
pub struct MemoryBudget {
    policy: BudgetPolicy,
    state: Mutex<(Vec<DateTime<Utc>>, String, u64)>,
}

impl MemoryBudget {
    pub fn new(policy: BudgetPolicy) -> Self {
        MemoryBudget {
            policy,
            state: Mutex::new((Vec::new(), String::new(), 0)),
        }
    }
}

#[async_trait]
impl UpstreamBudget for MemoryBudget {
    async fn spend(&self, now: DateTime<Utc>) -> Result<Spend, StoreError> {
        let mut state = self.state.lock().unwrap();
        let (recent, month, used) = &mut *state;
        if *month != budget::month_of(now) {
            (*month, *used) = (budget::month_of(now), 0);
        }
        if *used >= self.policy.monthly_quota {
            return Ok(Spend::Wait {
                until: budget::next_month(now),
                reason: Exhausted::Month(self.policy.monthly_quota),
            });
        }
        match self.policy.admit(std::mem::take(recent), now) {
            Ok(log) => {
                *recent = log;
                *used += 1;
                Ok(Spend::Granted {
                    used: *used,
                    quota: self.policy.monthly_quota,
                })
            }
            Err(until) => Ok(Spend::Wait {
                until,
                reason: Exhausted::Burst(self.policy.burst),
            }),
        }
    }

    async fn usage(&self, now: DateTime<Utc>) -> Result<Option<Usage>, StoreError> {
        let state = self.state.lock().unwrap();
        let month = budget::month_of(now);
        let used = if state.1 == month { state.2 } else { 0 };
        Ok(Some(Usage {
            month,
            used,
            quota: self.policy.monthly_quota,
        }))
    }
}

/// No budget: for upstreams without a quota (the bundled data, a self-hosted v3.1 server).
pub struct Unmetered;

#[async_trait]
impl UpstreamBudget for Unmetered {
    async fn spend(&self, _: DateTime<Utc>) -> Result<Spend, StoreError> {
        Ok(Spend::Granted {
            used: 0,
            quota: u64::MAX,
        })
    }

    async fn usage(&self, _: DateTime<Utc>) -> Result<Option<Usage>, StoreError> {
        Ok(None)
    }
}

type Keyed =
    Governor<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// GCRA rate limits per client IP and route group, in this process only (governor).
pub struct MemoryLimiter {
    fetch: (Limit, Keyed),
    read: (Limit, Keyed),
    sync: (Limit, Keyed),
    checks: AtomicU64,
}

impl MemoryLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        let keyed = |l: Limit| {
            let burst = NonZeroU32::new(l.requests).expect("limits are above zero");
            let quota = Quota::with_period(l.interval())
                .expect("a non-zero interval")
                .allow_burst(burst);
            (
                l,
                Governor::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            )
        };
        MemoryLimiter {
            fetch: keyed(limits.fetch),
            read: keyed(limits.read),
            sync: keyed(limits.sync),
            checks: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn check(&self, client: IpAddr, group: RouteGroup) -> Result<Decision, LimiterError> {
        let (limit, limiter) = match group {
            RouteGroup::Fetch => &self.fetch,
            RouteGroup::Read => &self.read,
            RouteGroup::Sync => &self.sync,
        };
        // Forget idle clients now and then, so the maps do not grow with every address ever seen.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.fetch.1.retain_recent();
            self.read.1.retain_recent();
            self.sync.1.retain_recent();
        }
        let per = limit.interval();
        Ok(match limiter.check_key(&client) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    limit: limit.requests,
                    remaining,
                    reset_after: per * (limit.requests - remaining),
                    retry_after: std::time::Duration::ZERO,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Decision {
                    allowed: false,
                    limit: limit.requests,
                    remaining: 0,
                    reset_after: per * limit.requests,
                    retry_after: wait,
                }
            }
        })
    }
}

/// The three use cases on one memory store and an in-process queue, on the system clock: the local
/// server's default and what the API and worker tests run on.
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

/// A clock the tests move by hand.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(start))
    }

    pub fn advance(&self, by: std::time::Duration) {
        *self.0.lock().unwrap() += chrono::Duration::from_std(by).unwrap();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Finished operations older than the retention are forgotten when the country's next one is
    /// created; one in flight is kept whatever its age.
    #[tokio::test]
    async fn the_memory_store_forgets_finished_operations_after_the_retention() {
        let store = MemoryStore::with_retention(Duration::from_secs(3600));
        let py: CountryCode = "PY".parse().unwrap();
        let long_ago = Utc::now() - chrono::Duration::hours(2);
        let mut old = Operation::new(py, long_ago);
        store.create_operation(&old, long_ago).await.unwrap();
        let read = old.revision();
        old.start(long_ago).unwrap();
        old.succeed(long_ago, "test").unwrap();
        assert!(store.update_operation(&old, read).await.unwrap());
        let recent = Operation::new(py, Utc::now());
        store.create_operation(&recent, Utc::now()).await.unwrap();
        let kept = store.list_operations(py, 10).await.unwrap();
        assert_eq!(kept, vec![recent.clone()]);
        // An old one still in flight is not forgotten (it is the sweep's, or a stuck one's, to settle).
        let de: CountryCode = "DE".parse().unwrap();
        let stuck = Operation::new(de, long_ago);
        store.create_operation(&stuck, long_ago).await.unwrap();
        store
            .create_operation(&Operation::new(de, Utc::now()), Utc::now())
            .await
            .unwrap();
        assert_eq!(store.list_operations(de, 10).await.unwrap().len(), 2);
    }

    fn record(version: i64) -> CountryRecord {
        CountryRecord {
            code: "PY".parse().unwrap(),
            document: serde_json::json!({"v": version}),
            raw: serde_json::json!({}),
            source: "test".into(),
            fetched_at: DateTime::from_timestamp_millis(version).unwrap(),
            version,
        }
    }

    #[tokio::test]
    async fn an_older_document_never_replaces_a_newer_one() {
        let store = MemoryStore::new();
        assert!(store.put_country(&record(2)).await.unwrap());
        assert!(!store.put_country(&record(1)).await.unwrap());
        assert!(!store.put_country(&record(2)).await.unwrap());
        let code = "PY".parse().unwrap();
        assert_eq!(store.get_country(code).await.unwrap().unwrap().version, 2);
        assert!(store.put_country(&record(3)).await.unwrap());
    }

    #[tokio::test]
    async fn one_operation_in_flight_per_country() {
        let store = MemoryStore::new();
        let now = Utc::now();
        let code = "PY".parse().unwrap();
        let first = Operation::new(code, now);
        let old = now - chrono::Duration::minutes(1);
        assert_eq!(
            store.create_operation(&first, old).await.unwrap(),
            Created::New { superseded: None }
        );
        let second = Operation::new(code, now);
        assert_eq!(
            store.create_operation(&second, old).await.unwrap(),
            Created::InFlight(first.clone())
        );
        // Past the stuck age the holder is superseded.
        let later = now + chrono::Duration::minutes(1);
        assert_eq!(
            store.create_operation(&second, later).await.unwrap(),
            Created::New {
                superseded: Some(first.clone())
            }
        );
        let listed = store.list_operations(code, 10).await.unwrap();
        assert_eq!(listed[0].request_id, second.request_id);
        assert_eq!(listed.len(), 2);
    }

    #[tokio::test]
    async fn updates_are_conditional_on_the_revision() {
        let store = MemoryStore::new();
        let mut op = Operation::new("PY".parse().unwrap(), Utc::now());
        store.create_operation(&op, Utc::now()).await.unwrap();
        let read = op.revision();
        op.start(Utc::now()).unwrap();
        assert!(store.update_operation(&op, read).await.unwrap());
        assert!(!store.update_operation(&op, read).await.unwrap());
    }

    #[tokio::test]
    async fn limiter_admits_its_limit_then_denies_with_a_wait() {
        let limiter = MemoryLimiter::new(&RateLimits {
            fetch: Limit::new(3, Duration::from_secs(60)),
            read: Limit::new(100, Duration::from_secs(60)),
            ..RateLimits::default()
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut remaining = vec![];
        for _ in 0..3 {
            let d = limiter.check(ip, RouteGroup::Fetch).await.unwrap();
            assert!(d.allowed);
            remaining.push(d.remaining);
        }
        assert_eq!(remaining, [2, 1, 0]);
        let denied = limiter.check(ip, RouteGroup::Fetch).await.unwrap();
        assert!(!denied.allowed);
        assert!(denied.retry_after > Duration::from_secs(15), "{denied:?}");
        // Other groups and other clients have their own budgets.
        assert!(limiter.check(ip, RouteGroup::Read).await.unwrap().allowed);
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(
            limiter
                .check(other, RouteGroup::Fetch)
                .await
                .unwrap()
                .allowed
        );
    }
}
