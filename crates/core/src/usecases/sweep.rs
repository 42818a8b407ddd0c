//! The sweep: operations nobody will finish are moved on without waiting for a new request. Run on a
//! schedule (the worker Lambda every few minutes on AWS, a timer in the local server).

use std::sync::Arc;

use tracing::{info, warn};

use super::{ORPHAN_GRACE, RetryPolicy, ServiceError, chrono};
use crate::operation::{Job, OperationState};
use crate::ports::{Clock, JobQueue, OperationStore};

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub in_flight: usize,
    /// Jobs sent again: operations queued but never taken, or running past their lease.
    pub resent: usize,
}

pub struct Sweeper {
    operations: Arc<dyn OperationStore>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
}

impl Sweeper {
    pub fn new(
        operations: Arc<dyn OperationStore>,
        queue: Arc<dyn JobQueue>,
        clock: Arc<dyn Clock>,
        policy: RetryPolicy,
    ) -> Self {
        Sweeper {
            operations,
            queue,
            clock,
            policy,
        }
    }

    /// Sends again the job of every operation that is queued and was never taken since `ORPHAN_GRACE`
    /// (its job may never have been queued), or running and idle for twice its attempt lease (its worker
    /// died and its message may be gone). A deferred or retried operation was taken, so it is left to
    /// its own message. Sending a job twice is safe: only one copy calls the upstream.
    pub async fn sweep(&self) -> Result<Swept, ServiceError> {
        let now = self.clock.now();
        let orphaned_before = now - chrono(ORPHAN_GRACE);
        let abandoned_before = now - chrono(self.policy.attempt_lease * 2);
        let in_flight = self.operations.in_flight().await?;
        let mut swept = Swept {
            in_flight: in_flight.len(),
            resent: 0,
        };
        for op in in_flight {
            let abandoned =
                op.state() == OperationState::Running && op.last_activity() < abandoned_before;
            if !(op.may_be_orphaned(orphaned_before) || abandoned) {
                continue;
            }
            match self.queue.enqueue(&Job::from(&op)).await {
                Ok(()) => {
                    swept.resent += 1;
                    info!(country = %op.country(), request_id = %op.request_id(), state = op.state().as_str(), "sweep: job sent again");
                }
                Err(e) => {
                    warn!(country = %op.country(), request_id = %op.request_id(), error = %e, "sweep: could not send the job again");
                    return Err(e.into());
                }
            }
        }
        Ok(swept)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::testing::{accepted, fixture};
    use super::super::{FetchOutcome, JobOutcome};
    use super::*;
    use crate::country::CountryCode;
    use crate::operation::Operation;
    use crate::ports::Created;

    /// The process stopped between saving the operation and queueing its job.
    async fn orphan(f: &super::super::testing::Fixture, country: &str) -> Operation {
        let code: CountryCode = country.parse().unwrap();
        let op = Operation::new(code, f.clock.now());
        let created = f.store.create_operation(&op, f.clock.now()).await.unwrap();
        assert!(matches!(created, Created::New { .. }));
        op
    }

    fn sweeper(f: &super::super::testing::Fixture) -> Sweeper {
        Sweeper::new(
            f.store.clone(),
            f.queue.clone(),
            f.clock.clone(),
            RetryPolicy::default(),
        )
    }

    #[tokio::test]
    async fn an_orphaned_operation_is_queued_again_by_the_sweep_after_the_grace() {
        let mut f = fixture(vec![]);
        let op = orphan(&f, "PY").await;
        let sweep = sweeper(&f);
        assert_eq!(
            sweep.sweep().await.unwrap(),
            Swept {
                in_flight: 1,
                resent: 0
            },
            "within the grace"
        );
        assert!(f.queued.try_recv().is_err());
        f.clock.advance(ORPHAN_GRACE + Duration::from_secs(1));
        assert_eq!(
            sweep.sweep().await.unwrap(),
            Swept {
                in_flight: 1,
                resent: 1
            }
        );
        let job = f.queued.try_recv().unwrap();
        assert_eq!(job, Job::from(&op));
        assert_eq!(
            f.jobs.process(&job).await.unwrap(),
            JobOutcome::Finished(OperationState::Succeeded)
        );
        assert_eq!(
            sweep.sweep().await.unwrap(),
            Swept {
                in_flight: 0,
                resent: 0
            }
        );
    }

    #[tokio::test]
    async fn a_fetch_that_finds_an_orphaned_operation_queues_its_job() {
        let mut f = fixture(vec![]);
        let op = orphan(&f, "PY").await;
        let (found, dedup) = accepted(&f, "PY", false).await;
        assert!(dedup && found.request_id() == op.request_id());
        assert!(
            f.queued.try_recv().is_err(),
            "within the grace nothing is sent"
        );
        f.clock.advance(ORPHAN_GRACE + Duration::from_secs(1));
        let (found, dedup) = accepted(&f, "paraguay", false).await;
        assert!(dedup && found.request_id() == op.request_id());
        let job = f.queued.try_recv().unwrap();
        f.jobs.process(&job).await.unwrap();
        assert!(matches!(
            f.fetches.request("PY", false).await.unwrap(),
            FetchOutcome::Fresh { .. }
        ));
    }

    #[tokio::test]
    async fn taken_operations_are_left_to_their_messages_until_their_worker_is_gone() {
        let mut f = fixture(vec![super::super::testing::retryable("503")]);
        accepted(&f, "PY", false).await;
        let job = f.queued.try_recv().unwrap();
        // Retried: queued again with its own message on the way.
        assert!(matches!(
            f.jobs.process(&job).await.unwrap(),
            JobOutcome::Retry { .. }
        ));
        f.clock.advance(ORPHAN_GRACE * 10);
        let sweep = sweeper(&f);
        assert_eq!(
            sweep.sweep().await.unwrap().resent,
            0,
            "a retried operation is not orphaned"
        );
        // Taken, and its worker died: resent once twice the lease has passed.
        let (_, ops) = f.reads.status("PY", 1).await.unwrap();
        let mut taken = ops[0].clone();
        taken.start(f.clock.now()).unwrap();
        assert!(
            f.store
                .update_operation(&taken, ops[0].revision())
                .await
                .unwrap()
        );
        assert_eq!(sweep.sweep().await.unwrap().resent, 0);
        f.clock
            .advance(RetryPolicy::default().attempt_lease * 2 + Duration::from_secs(1));
        assert_eq!(sweep.sweep().await.unwrap().resent, 1);
        assert_eq!(f.queued.try_recv().unwrap(), job);
    }
}
