//! Processing a fetch job: take the operation (a conditional write), spend one call from the
//! upstream budget, call the upstream once and store the document, and settle the operation (finish,
//! requeue or fail it) by what the upstream answered. What a failed job becomes end to end (the SQS
//! redelivery, the dead-letter queue, the sweep) is docs/architecture.md's "One job".

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::ServiceError;
use crate::budget::Spend;
use crate::catalogue::{Entry, content_hash};
use crate::config::{self, ConfigError, Source};
use crate::country::CountryRecord;
use crate::metrics::{Metric, Metrics};
use crate::operation::{self, Job, Operation, OperationState, Revision};
use crate::ports::{
    CatalogueStore, Clock, CountryStore, OperationStore, Upstream, UpstreamBudget, UpstreamError,
};

/// What one attempt may take besides its upstream call: reading and writing the operation, the country
/// and the budget. terraform/service sizes the worker function with the same figure
/// (`local.job_store_seconds`; the contract test holds them equal).
pub const JOB_STORE_ALLOWANCE: Duration = Duration::from_secs(5);

/// How retryable upstream failures are retried: `MAX_ATTEMPTS`, `RETRY_BASE_DELAY`, `RETRY_MAX_DELAY`;
/// and how long an attempt may hold its operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Upstream attempts per operation before a retryable failure becomes final.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest one attempt may take: the upstream's timeout plus `JOB_STORE_ALLOWANCE`. A `running`
    /// operation younger than this belongs to a live attempt, so another copy of its job does not call
    /// the upstream; an older one was abandoned (its worker died) and may be taken over.
    pub attempt_lease: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
            attempt_lease: Duration::from_secs(10) + JOB_STORE_ALLOWANCE,
        }
    }
}

impl RetryPolicy {
    /// `upstream_timeout` is the upstream adapter's whole-call timeout (`UPSTREAM_TIMEOUT`).
    pub fn from_source(src: &dyn Source, upstream_timeout: Duration) -> Result<Self, ConfigError> {
        let d = RetryPolicy::default();
        Ok(RetryPolicy {
            max_attempts: config::number_in(src, "MAX_ATTEMPTS", d.max_attempts, 1..=100)?,
            base_delay: config::duration_or(src, "RETRY_BASE_DELAY", d.base_delay)?,
            max_delay: config::duration_or(src, "RETRY_MAX_DELAY", d.max_delay)?,
            attempt_lease: upstream_timeout + JOB_STORE_ALLOWANCE,
        })
    }
}

/// What became of one job, which tells the queue what to do with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The operation reached this final state: done with the message.
    Finished(OperationState),
    /// Retryable failures used up every attempt: the operation is `failed`. A queue with a dead-letter
    /// queue keeps such a job there, for investigation and redrive.
    GaveUp,
    /// A retryable failure: deliver the job again after this delay.
    Retry { after: Duration },
    /// Nothing to do (already finished, taken by another worker, unknown): done with the message.
    Skipped(&'static str),
    /// The upstream budget is spent: not started, no attempt used; queue the job again for `after`.
    Deferred { after: Duration },
}

pub struct JobProcessor {
    countries: Arc<dyn CountryStore>,
    operations: Arc<dyn OperationStore>,
    catalogue: Arc<dyn CatalogueStore>,
    upstream: Arc<dyn Upstream>,
    budget: Arc<dyn UpstreamBudget>,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn Metrics>,
    policy: RetryPolicy,
}

impl JobProcessor {
    pub fn new(
        (countries, operations, catalogue): (
            Arc<dyn CountryStore>,
            Arc<dyn OperationStore>,
            Arc<dyn CatalogueStore>,
        ),
        (upstream, budget): (Arc<dyn Upstream>, Arc<dyn UpstreamBudget>),
        clock: Arc<dyn Clock>,
        metrics: Arc<dyn Metrics>,
        policy: RetryPolicy,
    ) -> Self {
        JobProcessor {
            countries,
            operations,
            catalogue,
            upstream,
            budget,
            clock,
            metrics,
            policy,
        }
    }

    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Writes a newly stored document into the catalogue, so that catalogue reads (and `/country` from
    /// the snapshot) see it within their refresh period. A failure is logged and counted, not the job's:
    /// the document is stored, and the next sync writes the catalogue whole.
    async fn publish(&self, record: &CountryRecord) {
        let entry = Entry::of(record, content_hash(&record.document, &record.raw));
        let published = match self.catalogue.get_catalogue().await {
            Ok(stored) => {
                super::catalogue::publish(self.catalogue.as_ref(), stored, vec![entry], None).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = published {
            self.metrics.count(Metric::CataloguePublishFailed);
            warn!(country = %record.code, error = %e, "could not write the document into the catalogue");
        }
    }

    /// Runs one job. Safe to run twice for the same job, and concurrently: the operation moves on only
    /// through conditional writes, a document only replaces an older one, and of several copies
    /// delivered at once only the one that takes the operation calls the upstream (and spends budget).
    pub async fn process(&self, job: &Job) -> Result<JobOutcome, ServiceError> {
        let (mut op, running, started) = match self.take(job).await? {
            ControlFlow::Continue(taken) => taken,
            ControlFlow::Break(skipped) => return Ok(skipped),
        };
        if let ControlFlow::Break(deferred) = self.spend(&mut op, running, started).await? {
            return Ok(deferred);
        }
        let (answer, answered) = self.call(job, started).await?;
        self.settle(op, running, answer, answered).await
    }

    /// Takes the operation before anything is spent: of copies delivered together, only the one whose
    /// conditional write wins goes on. Gives the operation, its revision as running, and the start.
    async fn take(
        &self,
        job: &Job,
    ) -> Result<ControlFlow<JobOutcome, (Operation, Revision, DateTime<Utc>)>, ServiceError> {
        let Some(mut op) = self
            .operations
            .get_operation(job.country, job.request_id)
            .await?
        else {
            warn!(country = %job.country, request_id = %job.request_id, "job for an unknown operation");
            return Ok(ControlFlow::Break(JobOutcome::Skipped("unknown operation")));
        };
        if op.state().is_final() {
            return Ok(ControlFlow::Break(JobOutcome::Skipped("already finished")));
        }
        let started = self.clock.now();
        let lease = super::chrono(self.policy.attempt_lease);
        if op.state() == OperationState::Running && op.last_activity() + lease > started {
            return Ok(ControlFlow::Break(JobOutcome::Skipped(
                "running under another attempt",
            )));
        }
        let read = op.revision();
        op.start(started)
            .expect("a queued or running operation can start");
        if !self.operations.update_operation(&op, read).await? {
            return Ok(ControlFlow::Break(JobOutcome::Skipped(
                "taken by another worker",
            )));
        }
        let running = op.revision();
        Ok(ControlFlow::Continue((op, running, started)))
    }

    /// Spends one upstream call from the budget, so that the quota holds across workers; without it the
    /// attempt is given back and the job deferred until the budget allows.
    async fn spend(
        &self,
        op: &mut Operation,
        running: Revision,
        started: DateTime<Utc>,
    ) -> Result<ControlFlow<JobOutcome>, ServiceError> {
        let spent = match self.budget.spend(started).await {
            Ok(spent) => spent,
            Err(e) => {
                warn!(country = %op.country(), request_id = %op.request_id(), error = %e, "could not read the upstream budget");
                let shown = "the upstream budget could not be read; the job will be tried again";
                self.give_back(op, running, shown.to_string()).await;
                return Err(e.into());
            }
        };
        match spent {
            Spend::Granted { used, quota } => {
                if used.saturating_mul(5) >= quota.saturating_mul(4) {
                    self.metrics.count(Metric::UpstreamQuotaHigh);
                }
                Ok(ControlFlow::Continue(()))
            }
            Spend::Wait { until, reason } => {
                let message = format!(
                    "waiting for the upstream budget: {reason}; next try at {}",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
                if !self.give_back(op, running, message).await {
                    return Ok(ControlFlow::Break(JobOutcome::Skipped(
                        "taken by another worker",
                    )));
                }
                info!(country = %op.country(), request_id = %op.request_id(), until = %until, "job deferred: upstream budget spent");
                let after = (until - started).to_std().unwrap_or_default();
                Ok(ControlFlow::Break(JobOutcome::Deferred { after }))
            }
        }
    }

    /// Calls the upstream once and stores what it brought before the operation says so, so that a
    /// succeeded operation always has its document. Gives the answer (the source on success) and when
    /// it came, which is when the operation finishes.
    async fn call(
        &self,
        job: &Job,
        started: DateTime<Utc>,
    ) -> Result<(Result<String, UpstreamError>, DateTime<Utc>), ServiceError> {
        let result = self.upstream.fetch(job.country).await;
        let answered = self.clock.now();
        let fetched = match result {
            Ok(fetched) => fetched,
            Err(e) => return Ok((Err(e), answered)),
        };
        let source = fetched.source.clone();
        let record = CountryRecord::new(job.country, fetched, started);
        if self.countries.put_country(&record).await? {
            self.publish(&record).await;
        } else {
            info!(country = %job.country, "a newer document is already stored");
        }
        Ok((Ok(source), answered))
    }

    /// Moves the operation by the upstream's answer (finished, retried, or given up after the last
    /// attempt) in a write conditional on the attempt still holding it.
    async fn settle(
        &self,
        mut op: Operation,
        running: Revision,
        answer: Result<String, UpstreamError>,
        now: DateTime<Utc>,
    ) -> Result<JobOutcome, ServiceError> {
        let outcome = match answer {
            Ok(source) => op
                .succeed(now, &source)
                .map(|_| JobOutcome::Finished(OperationState::Succeeded)),
            Err(UpstreamError::NotFound(m)) => op
                .not_found(now, m)
                .map(|_| JobOutcome::Finished(OperationState::NotFound)),
            Err(UpstreamError::Permanent(m)) => op
                .fail(now, m)
                .map(|_| JobOutcome::Finished(OperationState::Failed)),
            Err(UpstreamError::Retryable {
                message,
                retry_after,
            }) => {
                if op.attempts() >= self.policy.max_attempts {
                    let m = format!("gave up after {} attempts: {message}", op.attempts());
                    op.fail(now, m).map(|_| JobOutcome::GaveUp)
                } else {
                    let after = operation::backoff(
                        op.attempts(),
                        self.policy.base_delay,
                        self.policy.max_delay,
                        retry_after,
                        fastrand::f64(),
                    );
                    op.requeue(message).map(|_| JobOutcome::Retry { after })
                }
            }
        }
        .expect("a running operation can finish or requeue");
        if !self.operations.update_operation(&op, running).await? {
            return Ok(JobOutcome::Skipped("taken by another worker"));
        }
        info!(country = %op.country(), request_id = %op.request_id(), state = op.state().as_str(),
              attempts = op.attempts(), error = op.error().unwrap_or(""), "job processed");
        Ok(outcome)
    }

    /// An attempt taken but not made (no budget, or the budget could not be asked): the operation goes
    /// back to `queued` with its attempt returned and the reason shown. False when another attempt took
    /// it meanwhile.
    async fn give_back(&self, op: &mut Operation, running: Revision, reason: String) -> bool {
        op.wait(reason)
            .expect("a running operation can go back to the queue");
        match self.operations.update_operation(op, running).await {
            Ok(updated) => updated,
            Err(e) => {
                warn!(country = %op.country(), request_id = %op.request_id(), error = %e, "could not give the attempt back");
                false
            }
        }
    }

    /// The last allowed delivery of a job failed for good outside the use case (the message goes to the
    /// dead-letter queue): marks its operation failed so that it does not stay queued.
    pub async fn give_up(&self, job: &Job, reason: &str) -> Result<(), ServiceError> {
        let Some(mut op) = self
            .operations
            .get_operation(job.country, job.request_id)
            .await?
        else {
            return Ok(());
        };
        let read = op.revision();
        if op.fail(self.clock.now(), reason.to_string()).is_ok() {
            self.operations.update_operation(&op, read).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{accepted, fixture, retryable};
    use super::*;

    /// An attempt whose worker died leaves its operation `running`: within the lease another copy of the
    /// job calls nothing; after it, the next delivery takes the operation over.
    #[tokio::test]
    async fn a_running_operation_is_taken_over_only_after_its_lease() {
        let mut f = fixture(vec![]);
        let (op, _) = accepted(&f, "PY", false).await;
        let job = f.queued.try_recv().unwrap();
        let mut taken = op.clone();
        taken.start(f.clock.now()).unwrap();
        assert!(
            f.store
                .update_operation(&taken, op.revision())
                .await
                .unwrap()
        );

        let outcome = f.jobs.process(&job).await.unwrap();
        assert_eq!(
            outcome,
            JobOutcome::Skipped("running under another attempt")
        );
        assert_eq!(f.upstream.calls(), 0);

        f.clock
            .advance(RetryPolicy::default().attempt_lease + Duration::from_secs(1));
        let outcome = f.jobs.process(&job).await.unwrap();
        assert_eq!(outcome, JobOutcome::Finished(OperationState::Succeeded));
        assert_eq!(f.upstream.calls(), 1);
        let (_, ops) = f.reads.status("PY", 1).await.unwrap();
        assert_eq!(
            ops[0].attempts(),
            2,
            "the dead attempt counts, the takeover is the second"
        );
    }

    #[tokio::test]
    async fn processing_a_job_twice_is_harmless() {
        let mut f = fixture(vec![]);
        accepted(&f, "py", false).await;
        let job = f.queued.try_recv().unwrap();
        f.jobs.process(&job).await.unwrap();
        let before = f.reads.country("py").await.unwrap();
        assert_eq!(
            f.jobs.process(&job).await.unwrap(),
            JobOutcome::Skipped("already finished")
        );
        assert_eq!(f.reads.country("py").await.unwrap(), before);
        assert_eq!(f.upstream.calls(), 1);
    }

    #[tokio::test]
    async fn retryable_failures_back_off_then_fail_after_max_attempts() {
        let mut f = fixture((0..5).map(|i| retryable(&format!("503 #{i}"))).collect());
        accepted(&f, "py", false).await;
        let job = f.queued.try_recv().unwrap();
        let mut delays = vec![];
        for _ in 0..4 {
            match f.jobs.process(&job).await.unwrap() {
                JobOutcome::Retry { after } => delays.push(after.as_secs_f64().round() as u64),
                other => panic!("{other:?}"),
            }
            let (_, ops) = f.reads.status("py", 1).await.unwrap();
            assert_eq!(ops[0].state(), OperationState::Queued);
            assert!(ops[0].error().unwrap().starts_with("503"));
        }
        // Exponential with equal jitter: between half and all of 2, 4, 8, 16 s.
        for (delay, full) in delays.iter().zip([2, 4, 8, 16]) {
            assert!((full / 2..=full).contains(delay), "{delays:?}");
        }
        assert_eq!(f.jobs.process(&job).await.unwrap(), JobOutcome::GaveUp);
        let (_, ops) = f.reads.status("py", 1).await.unwrap();
        assert_eq!(ops[0].attempts(), 5);
        assert_eq!(ops[0].error(), Some("gave up after 5 attempts: 503 #4"));
    }

    #[tokio::test]
    async fn not_found_and_permanent_failures_finish_at_once() {
        for (result, state) in [
            (
                Err(UpstreamError::NotFound("no match".into())),
                OperationState::NotFound,
            ),
            (
                Err(UpstreamError::Permanent("401: key".into())),
                OperationState::Failed,
            ),
        ] {
            let mut f = fixture(vec![result]);
            accepted(&f, "py", false).await;
            let job = f.queued.try_recv().unwrap();
            assert_eq!(
                f.jobs.process(&job).await.unwrap(),
                JobOutcome::Finished(state)
            );
            let (_, ops) = f.reads.status("py", 1).await.unwrap();
            assert_eq!((ops[0].state(), ops[0].attempts()), (state, 1));
            assert!(ops[0].error().is_some());
            assert!(matches!(
                f.reads.country("py").await,
                Err(ServiceError::NotFetched { .. })
            ));
        }
    }

    #[tokio::test]
    async fn giving_up_fails_the_operation_once() {
        let mut f = fixture(vec![]);
        accepted(&f, "py", false).await;
        let job = f.queued.try_recv().unwrap();
        f.jobs
            .give_up(&job, "in the dead-letter queue")
            .await
            .unwrap();
        let (_, ops) = f.reads.status("py", 1).await.unwrap();
        assert_eq!(ops[0].state(), OperationState::Failed);
        assert_eq!(ops[0].error(), Some("in the dead-letter queue"));
        assert_eq!(
            f.jobs.process(&job).await.unwrap(),
            JobOutcome::Skipped("already finished")
        );
    }

    #[tokio::test]
    async fn a_spent_budget_defers_the_job_without_spending_an_attempt() {
        use crate::budget::BudgetPolicy;
        use crate::memory::MemoryBudget;
        use crate::ratelimit::Limit;
        let policy = BudgetPolicy {
            burst: Limit::new(1, Duration::from_secs(10)),
            monthly_quota: 2,
        };
        let mut f = super::super::testing::with_budget(vec![], Arc::new(MemoryBudget::new(policy)));
        for country in ["PY", "UY"] {
            accepted(&f, country, false).await;
        }
        let (py, uy) = (f.queued.try_recv().unwrap(), f.queued.try_recv().unwrap());
        f.jobs.process(&py).await.unwrap();
        // The burst is spent: UY waits, queued, with the reason and the next try.
        let JobOutcome::Deferred { after } = f.jobs.process(&uy).await.unwrap() else {
            panic!("not deferred")
        };
        assert_eq!(after, Duration::from_secs(11), "10 s and the grant margin");
        let (_, ops) = f.reads.status("UY", 1).await.unwrap();
        assert_eq!(
            (ops[0].state(), ops[0].attempts()),
            (OperationState::Queued, 0)
        );
        let error = ops[0].error().unwrap();
        assert!(
            error.contains("burst limit of 1/10s") && error.contains("next try at"),
            "{error}"
        );
        // Later it goes through; then the month's quota (2) is spent.
        f.clock.advance(after);
        assert_eq!(
            f.jobs.process(&uy).await.unwrap(),
            JobOutcome::Finished(OperationState::Succeeded)
        );
        f.clock.advance(Duration::from_secs(10));
        accepted(&f, "AR", false).await;
        let ar = f.queued.try_recv().unwrap();
        assert!(matches!(
            f.jobs.process(&ar).await.unwrap(),
            JobOutcome::Deferred { .. }
        ));
        let (_, ops) = f.reads.status("AR", 1).await.unwrap();
        assert!(
            ops[0]
                .error()
                .unwrap()
                .contains("monthly quota of 2 calls is spent")
        );
        assert_eq!(f.upstream.calls(), 2);
        // The second call spent the quota's last 20 %: counted once, for the alarm.
        assert_eq!(f.metrics.get(Metric::UpstreamQuotaHigh), 1);
    }

    #[test]
    fn the_policy_from_the_environment() {
        let p =
            RetryPolicy::from_source(&[("MAX_ATTEMPTS", "3")], Duration::from_secs(10)).unwrap();
        assert_eq!(p.max_attempts, 3);
        for bad in ["0", "101", "many"] {
            let e = RetryPolicy::from_source(&[("MAX_ATTEMPTS", bad)], Duration::from_secs(10))
                .unwrap_err();
            assert_eq!(e.var, "MAX_ATTEMPTS");
        }
    }
}
