//! Catalogue syncs: request one (`POST /sync`), run a queued one (the worker), or run one now (the
//! schedule, a local server's first start).

use std::sync::Arc;

use async_trait::async_trait;
use tracing::{info, warn};
use uuid::Uuid;

use super::catalogue::publish;
use super::{FreshnessPolicy, ServiceError, chrono};
use crate::budget::Spend;
use crate::catalogue::{Entry, content_hash};
use crate::country::CountryRecord;
use crate::metrics::{Metric, Metrics};
use crate::ports::{
    CallGate, CatalogueStore, Clock, CountryStore, JobQueue, StoreError, SyncCreated, SyncStore,
    Upstream, UpstreamBudget, UpstreamError,
};
use crate::sync_record::{SyncJob, SyncRecord, SyncState, SyncTally, SyncTrigger};

/// Longest a sync waits for the budget before a call (the burst limit's pause); a longer wait ends the
/// sync with what it has.
const LONGEST_BUDGET_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What a sync needs besides its upstream calls: the writes (one per changed country and the
/// catalogue item) and one pause for the burst limit. The worker function's timeout fits
/// `4 × UPSTREAM_TIMEOUT + SYNC_ALLOWANCE` (terraform/service, `local.sync_allowance_seconds`).
pub const SYNC_ALLOWANCE: std::time::Duration = std::time::Duration::from_secs(30);

/// What [`SyncRequests::request`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncOutcome {
    /// The last sync succeeded within the freshness window: nothing was called.
    Fresh(SyncRecord),
    /// A sync is queued or running already: this is it.
    InFlight(SyncRecord),
    /// A new sync is queued.
    Accepted(SyncRecord),
}

/// The api's side: queue a sync, or say why not; read sync records.
pub struct SyncRequests {
    syncs: Arc<dyn SyncStore>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    policy: FreshnessPolicy,
}

impl SyncRequests {
    pub fn new(
        syncs: Arc<dyn SyncStore>,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
        policy: FreshnessPolicy,
    ) -> Self {
        SyncRequests {
            syncs,
            queue,
            clock,
            policy,
        }
    }

    fn stuck_before(&self) -> chrono::DateTime<chrono::Utc> {
        self.policy.stuck_before(self.clock.now())
    }

    /// Queues a sync, unless the last one succeeded within the freshness window (and `force` is not
    /// set) or one is in flight.
    pub async fn request(&self, force: bool) -> Result<SyncOutcome, ServiceError> {
        let now = self.clock.now();
        if !force {
            let fresh_after = now - chrono(self.policy.fresh_for);
            let last = self.syncs.list_syncs(20).await?.into_iter().find(|s| {
                s.state() == SyncState::Succeeded
                    && s.finished_at().is_some_and(|f| f > fresh_after)
            });
            if let Some(last) = last {
                return Ok(SyncOutcome::Fresh(last));
            }
        }
        let trigger = if force {
            SyncTrigger::Forced
        } else {
            SyncTrigger::Api
        };
        let sync = SyncRecord::new(trigger, now);
        match self.syncs.create_sync(&sync, self.stuck_before()).await? {
            SyncCreated::InFlight(running) => Ok(SyncOutcome::InFlight(running)),
            SyncCreated::New => {
                if let Err(e) = self.queue.enqueue_sync(&SyncJob { sync: sync.id() }).await {
                    self.finish_unqueued(sync, &e.to_string()).await;
                    return Err(e.into());
                }
                Ok(SyncOutcome::Accepted(sync))
            }
        }
    }

    async fn finish_unqueued(&self, mut sync: SyncRecord, error: &str) {
        sync.abandon(
            self.clock.now(),
            "the job queue was unavailable; request the sync again".into(),
        )
        .expect("a sync just created is queued");
        if let Err(e) = self.syncs.update_sync(&sync, SyncState::Queued).await {
            warn!(sync = %sync.id(), error = %e, queue_error = error, "could not mark an unqueued sync failed");
        }
    }

    pub async fn get(&self, id: Uuid) -> Result<Option<SyncRecord>, StoreError> {
        self.syncs.get_sync(id).await
    }

    /// The latest syncs, newest first.
    pub async fn latest(&self, limit: usize) -> Result<Vec<SyncRecord>, StoreError> {
        self.syncs.list_syncs(limit).await
    }
}

/// The worker's side: run a sync.
pub struct CatalogueSync {
    syncs: Arc<dyn SyncStore>,
    countries: Arc<dyn CountryStore>,
    catalogue: Arc<dyn CatalogueStore>,
    upstream: Arc<dyn Upstream>,
    budget: Arc<dyn UpstreamBudget>,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
    policy: FreshnessPolicy,
}

/// Spends one call of the budget, waiting out a short pause.
struct BudgetGate<'a> {
    budget: &'a dyn UpstreamBudget,
    clock: &'a dyn Clock,
}

#[async_trait]
impl CallGate for BudgetGate<'_> {
    async fn admit(&self) -> Result<(), UpstreamError> {
        loop {
            let now = self.clock.now();
            let spent = self
                .budget
                .spend(now)
                .await
                .map_err(|e| UpstreamError::Retryable {
                    message: format!("the upstream budget could not be read: {e}"),
                    retry_after: None,
                })?;
            match spent {
                Spend::Granted { .. } => return Ok(()),
                Spend::Wait { until, reason } => {
                    let wait = (until - now).to_std().unwrap_or_default();
                    if wait > LONGEST_BUDGET_WAIT {
                        return Err(UpstreamError::Retryable {
                            message: format!(
                                "the upstream budget is spent ({reason}) until {}",
                                until.to_rfc3339_opts(::chrono::SecondsFormat::Secs, true)
                            ),
                            retry_after: Some(wait),
                        });
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

impl CatalogueSync {
    pub fn new(
        syncs: Arc<dyn SyncStore>,
        countries: Arc<dyn CountryStore>,
        catalogue: Arc<dyn CatalogueStore>,
        (upstream, budget): (Arc<dyn Upstream>, Arc<dyn UpstreamBudget>),
        clock: Arc<dyn Clock>,
        metrics: Arc<dyn Metrics>,
        policy: FreshnessPolicy,
    ) -> Self {
        CatalogueSync {
            syncs,
            countries,
            catalogue,
            upstream,
            budget,
            clock,
            metrics,
            policy,
        }
    }

    fn stuck_before(&self) -> chrono::DateTime<chrono::Utc> {
        self.policy.stuck_before(self.clock.now())
    }

    /// Runs a queued sync (the worker, on its job). `None` when it is unknown, finished, or running
    /// under another worker.
    pub async fn run_queued(&self, job: &SyncJob) -> Result<Option<SyncRecord>, ServiceError> {
        let Some(sync) = self.syncs.get_sync(job.sync).await? else {
            warn!(sync = %job.sync, "job for an unknown sync");
            return Ok(None);
        };
        let stale_run =
            sync.state() == SyncState::Running && sync.last_activity() < self.stuck_before();
        if sync.state() != SyncState::Queued && !stale_run {
            return Ok(None);
        }
        self.run(sync).await
    }

    /// Runs a sync now (the schedule; a local server's first start), unless one is in flight: then
    /// that one is returned, not run.
    pub async fn run_now(&self, trigger: SyncTrigger) -> Result<SyncRecord, ServiceError> {
        let sync = SyncRecord::new(trigger, self.clock.now());
        match self.syncs.create_sync(&sync, self.stuck_before()).await? {
            SyncCreated::InFlight(running) => Ok(running),
            SyncCreated::New => Ok(self.run(sync).await?.expect("a new sync is ours to run")),
        }
    }

    /// Whether the store has a catalogue at all (a local server syncs at its first start if not).
    pub async fn has_catalogue(&self) -> Result<bool, StoreError> {
        Ok(self.catalogue.catalogue_revision().await?.is_some())
    }

    /// Runs a queued sync, or a running one whose runner is gone.
    async fn run(&self, mut sync: SyncRecord) -> Result<Option<SyncRecord>, ServiceError> {
        let read = sync.state();
        let started = self.clock.now();
        sync.start(started, self.upstream.kind().as_str())
            .expect("a queued or stale running sync can start");
        if !self.syncs.update_sync(&sync, read).await? {
            return Ok(None);
        }
        info!(sync = %sync.id(), trigger = ?sync.trigger(), "sync started");
        let mut tally = SyncTally::default();
        if let Err(e) = self.bring(&mut tally, started).await {
            tally.failed.push(format!("stopped: {e}"));
        }
        sync.finish(self.clock.now(), tally)
            .expect("a running sync can finish");
        if sync.state() != SyncState::Succeeded {
            self.metrics.count(Metric::SyncFailed);
        }
        let t = sync.tally();
        info!(sync = %sync.id(), state = ?sync.state(), calls = t.calls, added = t.added,
              changed = t.changed, unchanged = t.unchanged, failed = t.failed.len(), "sync finished");
        if !self.syncs.update_sync(&sync, SyncState::Running).await? {
            warn!(sync = %sync.id(), "the sync's record moved under it; its result is not recorded");
        }
        Ok(Some(sync))
    }

    /// Fetches the catalogue, stores what changed, and publishes it; counts into `sync`.
    async fn bring(
        &self,
        sync: &mut SyncTally,
        started: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ServiceError> {
        let gate = BudgetGate {
            budget: self.budget.as_ref(),
            clock: self.clock.as_ref(),
        };
        let fetched = match self.upstream.catalogue(&gate).await {
            Ok(f) => f,
            Err(e) => {
                sync.failed.push(format!("the upstream: {e}"));
                return Ok(());
            }
        };
        sync.calls = fetched.calls;
        sync.failed.extend(fetched.failed);
        let base = self.catalogue.get_catalogue().await?;
        let known: std::collections::HashMap<_, _> = match &base {
            Some(b) => b.entries()?.into_iter().map(|e| (e.code, e.hash)).collect(),
            None => Default::default(),
        };
        let mut changed = Vec::new();
        for (code, f) in fetched.countries {
            let hash = content_hash(&f.document, &f.raw);
            let previous = known.get(&code);
            if previous == Some(&hash) {
                sync.unchanged += 1;
                continue;
            }
            let record = CountryRecord::new(code, f, started);
            match self.countries.put_country(&record).await {
                Ok(_) => {
                    if previous.is_some() {
                        sync.changed += 1;
                    } else {
                        sync.added += 1;
                    }
                    changed.push(Entry::of(&record, hash));
                }
                Err(e) => sync.failed.push(format!("{code}: {e}")),
            }
        }
        let complete = sync.failed.is_empty();
        publish(
            self.catalogue.as_ref(),
            base,
            changed,
            complete.then(|| self.clock.now()),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{Fixture, fixture};
    use super::*;
    use crate::budget::BudgetPolicy;
    use crate::memory::MemoryBudget;

    async fn queued(f: &Fixture, force: bool) -> SyncRecord {
        match f.sync_requests.request(force).await.unwrap() {
            SyncOutcome::Accepted(s) => s,
            other => panic!("expected accepted, got {other:?}"),
        }
    }

    async fn run(f: &Fixture, sync: &SyncRecord) -> SyncRecord {
        f.syncs
            .run_queued(&SyncJob { sync: sync.id() })
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn a_sync_stores_every_country_once_and_a_second_changes_nothing() {
        let f = fixture(vec![]);
        let first = run(&f, &queued(&f, false).await).await;
        assert_eq!(first.state(), SyncState::Succeeded, "{first:?}");
        let t = first.tally();
        assert_eq!((t.calls, t.added, t.changed, t.unchanged), (1, 250, 0, 0));
        assert_eq!(f.catalogue.snapshot().await.unwrap().len(), 250);
        let py = f
            .store
            .get_country("PY".parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        // Fresh: answered with the last sync, nothing called.
        match f.sync_requests.request(false).await.unwrap() {
            SyncOutcome::Fresh(last) => assert_eq!(last.id(), first.id()),
            other => panic!("{other:?}"),
        }
        assert_eq!(f.upstream.calls(), 1);
        f.clock.advance(std::time::Duration::from_secs(60));
        let second = run(&f, &queued(&f, true).await).await;
        assert_eq!(second.trigger(), SyncTrigger::Forced);
        let t = second.tally();
        assert_eq!((t.added, t.changed, t.unchanged), (0, 0, 250));
        let again = f
            .store
            .get_country("PY".parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            again.version, py.version,
            "unchanged documents are not rewritten"
        );
        assert_eq!(f.sync_requests.latest(5).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn two_syncs_never_run_at_once_and_a_finished_one_is_not_run_again() {
        let f = fixture(vec![]);
        let first = queued(&f, false).await;
        match f.sync_requests.request(true).await.unwrap() {
            SyncOutcome::InFlight(s) => assert_eq!(s.id(), first.id()),
            other => panic!("{other:?}"),
        }
        run(&f, &first).await;
        assert_eq!(
            f.syncs
                .run_queued(&SyncJob { sync: first.id() })
                .await
                .unwrap(),
            None
        );
        assert_eq!(f.upstream.calls(), 1);
    }

    #[tokio::test]
    async fn a_partial_sync_keeps_what_it_stored_and_removes_nothing() {
        let f = fixture(vec![]);
        run(&f, &queued(&f, false).await).await;
        f.upstream
            .set_catalogue(150, Some("page at offset 100: upstream HTTP 503".into()));
        f.clock.advance(std::time::Duration::from_secs(60));
        assert_eq!(f.metrics.get(Metric::SyncFailed), 0);
        let partial = f.syncs.run_now(SyncTrigger::Schedule).await.unwrap();
        assert_eq!(partial.state(), SyncState::Partial);
        assert_eq!(
            f.metrics.get(Metric::SyncFailed),
            1,
            "counted for its alarm"
        );
        assert_eq!(partial.tally().unchanged, 100);
        assert_eq!(
            partial.tally().failed,
            ["page at offset 100: upstream HTTP 503"]
        );
        assert_eq!(
            f.catalogue.snapshot().await.unwrap().len(),
            250,
            "none removed"
        );
        // The last full sync is still fresh: a request answers with it.
        assert!(matches!(
            f.sync_requests.request(false).await.unwrap(),
            SyncOutcome::Fresh(_)
        ));
    }

    #[tokio::test]
    async fn a_spent_budget_fails_the_sync_and_says_why() {
        let policy = BudgetPolicy {
            monthly_quota: 0,
            ..BudgetPolicy::default()
        };
        let f = super::super::testing::with_budget(vec![], Arc::new(MemoryBudget::new(policy)));
        let failed = f.syncs.run_now(SyncTrigger::Schedule).await.unwrap();
        assert_eq!(failed.state(), SyncState::Failed);
        assert_eq!(f.metrics.get(Metric::SyncFailed), 1);
        assert!(failed.tally().failed[0].contains("budget"), "{failed:?}");
        assert_eq!(f.upstream.calls(), 0);
        assert!(!f.syncs.has_catalogue().await.unwrap());
    }
}
