//! Requesting a fetch: at most one operation in flight per country, nothing queued while the stored
//! document is fresh, and a stuck operation replaced (and marked failed) instead of blocking forever.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::{ServiceError, chrono};
use crate::config::{self, ConfigError, Source};
use crate::country::CountryCode;
use crate::ident;
use crate::operation::{Job, Operation};
use crate::ports::{Clock, CountryStore, Created, JobQueue, OperationStore};

/// How long a new operation may wait for a worker before its job is sent again: longer than a job waits
/// in a healthy queue, short enough that a job lost between saving the operation and queueing it (the
/// process stopped in between) costs its callers little.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(60);

/// When a fetch is worth queueing: `FRESH_FOR`, `STUCK_AFTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreshnessPolicy {
    /// A stored document younger than this is not fetched again unless forced.
    pub fresh_for: Duration,
    /// A queued or running operation idle this long no longer blocks new fetches.
    pub stuck_after: Duration,
}

impl Default for FreshnessPolicy {
    fn default() -> Self {
        FreshnessPolicy {
            fresh_for: Duration::from_secs(24 * 3600),
            stuck_after: Duration::from_secs(15 * 60),
        }
    }
}

impl FreshnessPolicy {
    /// An operation or sync idle since before this no longer holds its in-flight slot.
    pub fn stuck_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono(self.stuck_after)
    }

    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = FreshnessPolicy::default();
        Ok(FreshnessPolicy {
            fresh_for: config::duration_or(src, "FRESH_FOR", d.fresh_for)?,
            stuck_after: config::duration_or(src, "STUCK_AFTER", d.stuck_after)?,
        })
    }
}

/// What [`FetchRequests::request`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum FetchOutcome {
    /// A job is (or already was) on its way.
    Accepted { op: Operation, deduplicated: bool },
    /// The stored document is fresh: nothing was queued.
    Fresh {
        code: CountryCode,
        fetched_at: DateTime<Utc>,
        fresh_until: DateTime<Utc>,
    },
}

pub struct FetchRequests {
    countries: Arc<dyn CountryStore>,
    operations: Arc<dyn OperationStore>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    policy: FreshnessPolicy,
}

impl FetchRequests {
    pub fn new(
        countries: Arc<dyn CountryStore>,
        operations: Arc<dyn OperationStore>,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
        policy: FreshnessPolicy,
    ) -> Self {
        FetchRequests {
            countries,
            operations,
            queue,
            clock,
            policy,
        }
    }

    fn stuck_before(&self) -> DateTime<Utc> {
        self.policy.stuck_before(self.clock.now())
    }

    /// Queues a fetch of the country `input` names, unless one is in flight (which is returned) or the
    /// stored document is fresh and `force` is off.
    pub async fn request(&self, input: &str, force: bool) -> Result<FetchOutcome, ServiceError> {
        let code = ident::index().resolve(input)?;
        let stuck_before = self.stuck_before();
        // Only the newest operation can be in flight: a new one is created only when none is.
        if let Some(op) = self.operations.list_operations(code, 1).await?.pop()
            && op.blocks_new_fetch(stuck_before)
        {
            if op.may_be_orphaned(self.clock.now() - chrono(ORPHAN_GRACE)) {
                self.resend(&op).await?;
            }
            return Ok(FetchOutcome::Accepted {
                op,
                deduplicated: true,
            });
        }
        if !force && let Some(record) = self.countries.get_country(code).await? {
            let fresh_until = record.fetched_at + chrono(self.policy.fresh_for);
            if fresh_until > self.clock.now() {
                return Ok(FetchOutcome::Fresh {
                    code,
                    fetched_at: record.fetched_at,
                    fresh_until,
                });
            }
        }
        let op = Operation::new(code, self.clock.now());
        match self.operations.create_operation(&op, stuck_before).await? {
            Created::InFlight(existing) => Ok(FetchOutcome::Accepted {
                op: existing,
                deduplicated: true,
            }),
            Created::New { superseded } => {
                if let Some(stuck) = superseded {
                    self.abandon(stuck).await;
                }
                if let Err(e) = self.queue.enqueue(&Job::from(&op)).await {
                    // The client is told (503) and the operation does not sit queued with no job. Its
                    // error is what any client may read on /status; the detail goes to the log.
                    warn!(country = %code, request_id = %op.request_id(), error = %e, "could not queue the job");
                    let mut failed = op.clone();
                    failed
                        .fail(
                            self.clock.now(),
                            "the job queue was unavailable; fetch again".to_string(),
                        )
                        .expect("a new operation can fail");
                    self.operations
                        .update_operation(&failed, op.revision())
                        .await?;
                    return Err(e.into());
                }
                info!(country = %code, request_id = %op.request_id(), "fetch queued");
                Ok(FetchOutcome::Accepted {
                    op,
                    deduplicated: false,
                })
            }
        }
    }

    /// Sends the job of an operation that may never have been queued (see `Operation::may_be_orphaned`).
    async fn resend(&self, op: &Operation) -> Result<(), ServiceError> {
        self.queue.enqueue(&Job::from(op)).await?;
        warn!(country = %op.country(), request_id = %op.request_id(), "queued the job of an operation no worker has taken");
        Ok(())
    }

    /// Marks a stuck operation failed, so that no operation stays queued or running forever.
    async fn abandon(&self, mut stuck: Operation) {
        let expected = stuck.revision();
        let message = format!(
            "abandoned: no progress for {}",
            humantime::format_duration(self.policy.stuck_after)
        );
        if stuck.fail(self.clock.now(), message).is_ok() {
            match self.operations.update_operation(&stuck, expected).await {
                Ok(_) => {
                    warn!(country = %stuck.country(), request_id = %stuck.request_id(), "stuck operation abandoned")
                }
                Err(e) => {
                    warn!(country = %stuck.country(), request_id = %stuck.request_id(), error = %e, "could not mark a stuck operation failed")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{accepted, fixture};
    use super::*;
    use crate::ident::IdentError;
    use crate::operation::OperationState;
    use crate::usecases::JobOutcome;

    #[tokio::test]
    async fn fetch_queues_once_then_deduplicates_then_is_fresh() {
        let mut f = fixture(vec![]);
        let (op, dedup) = accepted(&f, "paraguay", false).await;
        assert!(!dedup);
        assert_eq!(op.state(), OperationState::Queued);
        let (same, dedup) = accepted(&f, "PRY", false).await;
        assert!(dedup);
        assert_eq!(same.request_id(), op.request_id());
        let job = f.queued.try_recv().unwrap();
        assert!(f.queued.try_recv().is_err(), "one job only");
        assert_eq!(
            f.jobs.process(&job).await.unwrap(),
            JobOutcome::Finished(OperationState::Succeeded)
        );
        assert!(matches!(
            f.fetches.request("py", false).await.unwrap(),
            FetchOutcome::Fresh { .. }
        ));
        // Forced, it queues again; past FRESH_FOR it queues without force.
        let (_, dedup) = accepted(&f, "py", true).await;
        assert!(!dedup);
        let job = f.queued.try_recv().unwrap();
        f.jobs.process(&job).await.unwrap();
        f.clock.advance(Duration::from_secs(25 * 3600));
        let (_, dedup) = accepted(&f, "py", false).await;
        assert!(!dedup);
        let (code, ops) = f.reads.status("py", 10).await.unwrap();
        assert_eq!(code.as_str(), "PY");
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0].state(), OperationState::Queued, "newest first");
        assert_eq!(ops[2].state(), OperationState::Succeeded);
    }

    #[tokio::test]
    async fn a_stuck_operation_stops_blocking_and_is_marked_failed() {
        let mut f = fixture(vec![]);
        let (stuck, _) = accepted(&f, "py", false).await;
        let stale_job = f.queued.try_recv().unwrap();
        f.clock.advance(Duration::from_secs(16 * 60));
        let (fresh, dedup) = accepted(&f, "py", false).await;
        assert!(!dedup);
        assert_ne!(fresh.request_id(), stuck.request_id());
        let (_, ops) = f.reads.status("py", 10).await.unwrap();
        assert_eq!(ops[1].state(), OperationState::Failed);
        assert!(ops[1].error().unwrap().starts_with("abandoned"));
        // Its late job is a no-op.
        assert_eq!(
            f.jobs.process(&stale_job).await.unwrap(),
            JobOutcome::Skipped("already finished")
        );
    }

    #[tokio::test]
    async fn an_enqueue_failure_is_reported_and_fails_the_operation() {
        let f = fixture(vec![]);
        drop(f.queued); // closes the queue
        let err = f.fetches.request("py", false).await.unwrap_err();
        assert!(matches!(err, ServiceError::Queue(_)));
        let (_, ops) = f.reads.status("py", 10).await.unwrap();
        assert_eq!(ops[0].state(), OperationState::Failed);
    }

    #[tokio::test]
    async fn unknown_countries_cost_nothing() {
        let f = fixture(vec![]);
        assert!(matches!(
            f.fetches.request("atlantis", false).await,
            Err(ServiceError::Ident(IdentError::Unknown { .. }))
        ));
        assert_eq!(f.upstream.calls(), 0);
    }

    #[test]
    fn the_policy_from_the_environment() {
        let p = FreshnessPolicy::from_source(&[("FRESH_FOR", "1h")]).unwrap();
        assert_eq!(p.fresh_for, Duration::from_secs(3600));
        let e = FreshnessPolicy::from_source(&[("STUCK_AFTER", "soon")]).unwrap_err();
        assert_eq!(e.var, "STUCK_AFTER");
    }
}
