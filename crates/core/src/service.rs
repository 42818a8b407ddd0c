//! The use cases: request a fetch, read a country, read its operations, and process a fetch job.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::config::{self, ConfigError, Source};
use crate::country::{CountryCode, CountryRecord};
use crate::ident::{CountryIndex, IdentError};
use crate::ops::{self, Job, OpState, Operation};
use crate::ports::{
    Clock, CountryStore, Created, JobQueue, OperationStore, QueueError, StoreError, Upstream,
    UpstreamError,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// A stored document younger than this is not fetched again unless forced.
    pub fresh_for: Duration,
    /// A queued or running operation idle this long no longer blocks new fetches.
    pub stuck_after: Duration,
    /// Upstream attempts per operation before a retryable failure becomes final.
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub retry_max: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            fresh_for: Duration::from_secs(24 * 3600),
            stuck_after: Duration::from_secs(15 * 60),
            max_attempts: 5,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
        }
    }
}

impl Settings {
    /// `FRESH_FOR`, `STUCK_AFTER`, `MAX_ATTEMPTS`, `RETRY_BASE_DELAY`, `RETRY_MAX_DELAY`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = Settings::default();
        let max_attempts = config::parse_or(src, "MAX_ATTEMPTS", d.max_attempts)?;
        Ok(Settings {
            fresh_for: config::duration_or(src, "FRESH_FOR", d.fresh_for)?,
            stuck_after: config::duration_or(src, "STUCK_AFTER", d.stuck_after)?,
            max_attempts: config::check(
                "MAX_ATTEMPTS",
                max_attempts,
                (1..=100).contains(&max_attempts),
                "must be from 1 to 100",
            )?,
            retry_base: config::duration_or(src, "RETRY_BASE_DELAY", d.retry_base)?,
            retry_max: config::duration_or(src, "RETRY_MAX_DELAY", d.retry_max)?,
        })
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

/// What `request_fetch` did.
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

/// What became of one job, which tells the queue what to do with its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The operation reached this final state: done with the message.
    Finished(OpState),
    /// Retryable failures used up every attempt: the operation is `failed`. A queue with a dead-letter
    /// queue keeps such a job there, for investigation and redrive.
    GaveUp,
    /// A retryable failure: deliver the job again after this delay.
    Retry { after: Duration },
    /// Nothing to do (already finished, taken by another worker, unknown): done with the message.
    Skipped(&'static str),
}

pub struct Service {
    pub index: &'static CountryIndex,
    pub countries: Arc<dyn CountryStore>,
    pub operations: Arc<dyn OperationStore>,
    pub queue: Arc<dyn JobQueue>,
    pub upstream: Arc<dyn Upstream>,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
}

fn chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

impl Service {
    pub fn resolve(&self, input: &str) -> Result<CountryCode, IdentError> {
        self.index.resolve(input)
    }

    fn stuck_before(&self) -> DateTime<Utc> {
        self.clock.now() - chrono(self.settings.stuck_after)
    }

    pub async fn request_fetch(
        &self,
        input: &str,
        force: bool,
    ) -> Result<FetchOutcome, ServiceError> {
        let code = self.resolve(input)?;
        let stuck_before = self.stuck_before();
        // Only the newest operation can be in flight: a new one is created only when none is.
        if let Some(op) = self.operations.list_operations(code, 1).await?.pop()
            && op.blocks_new_fetch(stuck_before)
        {
            return Ok(FetchOutcome::Accepted {
                op,
                deduplicated: true,
            });
        }
        if !force && let Some(record) = self.countries.get_country(code).await? {
            let fresh_until = record.fetched_at + chrono(self.settings.fresh_for);
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
                    // The client is told (503) and the operation does not sit queued with no job.
                    let mut failed = op.clone();
                    failed
                        .fail(self.clock.now(), format!("could not enqueue the job: {e}"))
                        .expect("a new operation can fail");
                    self.operations
                        .update_operation(&failed, op.revision())
                        .await?;
                    return Err(e.into());
                }
                info!(country = %code, request_id = %op.request_id, "fetch queued");
                Ok(FetchOutcome::Accepted {
                    op,
                    deduplicated: false,
                })
            }
        }
    }

    /// Marks a stuck operation failed, so that no operation stays queued or running forever.
    async fn abandon(&self, mut stuck: Operation) {
        let expected = stuck.revision();
        let message = format!(
            "abandoned: no progress for {}",
            humantime::format_duration(self.settings.stuck_after)
        );
        if stuck.fail(self.clock.now(), message).is_ok() {
            match self.operations.update_operation(&stuck, expected).await {
                Ok(_) => {
                    warn!(country = %stuck.country, request_id = %stuck.request_id, "stuck operation abandoned")
                }
                Err(e) => {
                    warn!(country = %stuck.country, request_id = %stuck.request_id, error = %e, "could not mark a stuck operation failed")
                }
            }
        }
    }

    pub async fn country(&self, input: &str) -> Result<CountryRecord, ServiceError> {
        let code = self.resolve(input)?;
        self.countries
            .get_country(code)
            .await?
            .ok_or(ServiceError::NotFetched { code })
    }

    pub async fn status(
        &self,
        input: &str,
        limit: usize,
    ) -> Result<(CountryCode, Vec<Operation>), ServiceError> {
        let code = self.resolve(input)?;
        Ok((code, self.operations.list_operations(code, limit).await?))
    }

    /// Runs one job. Safe to run twice for the same job, and concurrently: the operation moves on only
    /// through conditional writes, and a document only replaces an older one.
    pub async fn process_job(&self, job: &Job) -> Result<JobOutcome, ServiceError> {
        let Some(mut op) = self
            .operations
            .get_operation(job.country, job.request_id)
            .await?
        else {
            warn!(country = %job.country, request_id = %job.request_id, "job for an unknown operation");
            return Ok(JobOutcome::Skipped("unknown operation"));
        };
        if op.state.is_final() {
            return Ok(JobOutcome::Skipped("already finished"));
        }
        let read = op.revision();
        let started = self.clock.now();
        op.start(started)
            .expect("a queued or running operation can start");
        if !self.operations.update_operation(&op, read).await? {
            return Ok(JobOutcome::Skipped("taken by another worker"));
        }
        let running = op.revision();
        let result = self.upstream.fetch(job.country).await;
        let now = self.clock.now();
        let outcome = match result {
            Ok(fetched) => {
                let source = fetched.source.clone();
                let record = CountryRecord::new(job.country, fetched, started);
                if !self.countries.put_country(&record).await? {
                    info!(country = %job.country, "a newer document is already stored");
                }
                op.succeed(now, &source)
                    .map(|_| JobOutcome::Finished(OpState::Succeeded))
            }
            Err(UpstreamError::NotFound(m)) => op
                .not_found(now, m)
                .map(|_| JobOutcome::Finished(OpState::NotFound)),
            Err(UpstreamError::Permanent(m)) => op
                .fail(now, m)
                .map(|_| JobOutcome::Finished(OpState::Failed)),
            Err(UpstreamError::Retryable {
                message,
                retry_after,
            }) => {
                if op.attempts >= self.settings.max_attempts {
                    let m = format!("gave up after {} attempts: {message}", op.attempts);
                    op.fail(now, m).map(|_| JobOutcome::GaveUp)
                } else {
                    let after = ops::backoff(
                        op.attempts,
                        self.settings.retry_base,
                        self.settings.retry_max,
                        retry_after,
                    );
                    op.requeue(message).map(|_| JobOutcome::Retry { after })
                }
            }
        }
        .expect("a running operation can finish or requeue");
        if !self.operations.update_operation(&op, running).await? {
            return Ok(JobOutcome::Skipped("taken by another worker"));
        }
        info!(country = %op.country, request_id = %op.request_id, state = op.state.as_str(),
              attempts = op.attempts, error = op.error.as_deref().unwrap_or(""), "job processed");
        Ok(outcome)
    }

    /// The last allowed delivery of a job failed for good outside the service (the message goes to the
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
    use super::*;
    use crate::country::Fetched;
    use crate::memory::{ManualClock, MemoryQueue, MemoryStore};
    use crate::ports::Upstream;
    use async_trait::async_trait;
    use std::sync::Mutex;
    use tokio::sync::mpsc::UnboundedReceiver;

    /// Answers from a script, then succeeds; counts calls.
    #[derive(Default)]
    struct Scripted {
        script: Mutex<Vec<Result<Fetched, UpstreamError>>>,
        calls: Mutex<u32>,
    }

    #[async_trait]
    impl Upstream for Scripted {
        fn kind(&self) -> &'static str {
            "scripted"
        }
        async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
            *self.calls.lock().unwrap() += 1;
            let mut script = self.script.lock().unwrap();
            if script.is_empty() {
                Ok(Fetched {
                    document: serde_json::json!({"cca2": code.as_str()}),
                    raw: serde_json::json!({}),
                    source: "scripted".into(),
                })
            } else {
                script.remove(0)
            }
        }
    }

    struct Fixture {
        service: Service,
        jobs: UnboundedReceiver<Job>,
        clock: Arc<ManualClock>,
        upstream: Arc<Scripted>,
    }

    fn fixture(script: Vec<Result<Fetched, UpstreamError>>) -> Fixture {
        let store = Arc::new(MemoryStore::new());
        let (queue, jobs) = MemoryQueue::new();
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let upstream = Arc::new(Scripted {
            script: Mutex::new(script),
            ..Default::default()
        });
        let service = Service {
            index: crate::ident::index(),
            countries: store.clone(),
            operations: store,
            queue: Arc::new(queue),
            upstream: upstream.clone(),
            clock: clock.clone(),
            settings: Settings::default(),
        };
        Fixture {
            service,
            jobs,
            clock,
            upstream,
        }
    }

    fn retryable(m: &str) -> Result<Fetched, UpstreamError> {
        Err(UpstreamError::Retryable {
            message: m.into(),
            retry_after: None,
        })
    }

    async fn accepted(f: &Fixture, input: &str, force: bool) -> (Operation, bool) {
        match f.service.request_fetch(input, force).await.unwrap() {
            FetchOutcome::Accepted { op, deduplicated } => (op, deduplicated),
            other => panic!("expected accepted, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn fetch_queues_once_then_deduplicates_then_is_fresh() {
        let mut f = fixture(vec![]);
        let (op, dedup) = accepted(&f, "paraguay", false).await;
        assert!(!dedup);
        assert_eq!(op.state, OpState::Queued);
        let (same, dedup) = accepted(&f, "PRY", false).await;
        assert!(dedup);
        assert_eq!(same.request_id, op.request_id);
        let job = f.jobs.try_recv().unwrap();
        assert!(f.jobs.try_recv().is_err(), "one job only");
        assert_eq!(
            f.service.process_job(&job).await.unwrap(),
            JobOutcome::Finished(OpState::Succeeded)
        );
        assert!(matches!(
            f.service.request_fetch("py", false).await.unwrap(),
            FetchOutcome::Fresh { .. }
        ));
        // Forced, it queues again; past FRESH_FOR it queues without force.
        let (_, dedup) = accepted(&f, "py", true).await;
        assert!(!dedup);
        let job = f.jobs.try_recv().unwrap();
        f.service.process_job(&job).await.unwrap();
        f.clock.advance(Duration::from_secs(25 * 3600));
        let (_, dedup) = accepted(&f, "py", false).await;
        assert!(!dedup);
        let (code, ops) = f.service.status("py", 10).await.unwrap();
        assert_eq!(code.as_str(), "PY");
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[0].state, OpState::Queued, "newest first");
        assert_eq!(ops[2].state, OpState::Succeeded);
    }

    #[tokio::test]
    async fn processing_a_job_twice_is_harmless() {
        let mut f = fixture(vec![]);
        accepted(&f, "py", false).await;
        let job = f.jobs.try_recv().unwrap();
        f.service.process_job(&job).await.unwrap();
        let before = f.service.country("py").await.unwrap();
        assert_eq!(
            f.service.process_job(&job).await.unwrap(),
            JobOutcome::Skipped("already finished")
        );
        assert_eq!(f.service.country("py").await.unwrap(), before);
        assert_eq!(*f.upstream.calls.lock().unwrap(), 1);
    }

    #[tokio::test]
    async fn retryable_failures_back_off_then_fail_after_max_attempts() {
        let mut f = fixture((0..5).map(|i| retryable(&format!("503 #{i}"))).collect());
        accepted(&f, "py", false).await;
        let job = f.jobs.try_recv().unwrap();
        let mut delays = vec![];
        for _ in 0..4 {
            match f.service.process_job(&job).await.unwrap() {
                JobOutcome::Retry { after } => delays.push(after.as_secs()),
                other => panic!("{other:?}"),
            }
            let (_, ops) = f.service.status("py", 1).await.unwrap();
            assert_eq!(ops[0].state, OpState::Queued);
            assert!(ops[0].error.as_deref().unwrap().starts_with("503"));
        }
        assert_eq!(delays, [2, 4, 8, 16]);
        assert_eq!(
            f.service.process_job(&job).await.unwrap(),
            JobOutcome::GaveUp
        );
        let (_, ops) = f.service.status("py", 1).await.unwrap();
        assert_eq!(ops[0].attempts, 5);
        assert_eq!(
            ops[0].error.as_deref(),
            Some("gave up after 5 attempts: 503 #4")
        );
    }

    #[tokio::test]
    async fn not_found_and_permanent_failures_finish_at_once() {
        for (result, state) in [
            (
                Err(UpstreamError::NotFound("no match".into())),
                OpState::NotFound,
            ),
            (
                Err(UpstreamError::Permanent("401: key".into())),
                OpState::Failed,
            ),
        ] {
            let mut f = fixture(vec![result]);
            accepted(&f, "py", false).await;
            let job = f.jobs.try_recv().unwrap();
            assert_eq!(
                f.service.process_job(&job).await.unwrap(),
                JobOutcome::Finished(state)
            );
            let (_, ops) = f.service.status("py", 1).await.unwrap();
            assert_eq!((ops[0].state, ops[0].attempts), (state, 1));
            assert!(ops[0].error.is_some());
            assert!(matches!(
                f.service.country("py").await,
                Err(ServiceError::NotFetched { .. })
            ));
        }
    }

    #[tokio::test]
    async fn a_stuck_operation_stops_blocking_and_is_marked_failed() {
        let mut f = fixture(vec![]);
        let (stuck, _) = accepted(&f, "py", false).await;
        let stale_job = f.jobs.try_recv().unwrap();
        f.clock.advance(Duration::from_secs(16 * 60));
        let (fresh, dedup) = accepted(&f, "py", false).await;
        assert!(!dedup);
        assert_ne!(fresh.request_id, stuck.request_id);
        let (_, ops) = f.service.status("py", 10).await.unwrap();
        assert_eq!(ops[1].state, OpState::Failed);
        assert!(ops[1].error.as_deref().unwrap().starts_with("abandoned"));
        // Its late job is a no-op.
        assert_eq!(
            f.service.process_job(&stale_job).await.unwrap(),
            JobOutcome::Skipped("already finished")
        );
    }

    #[tokio::test]
    async fn an_enqueue_failure_is_reported_and_fails_the_operation() {
        let f = fixture(vec![]);
        drop(f.jobs); // closes the queue
        let err = f.service.request_fetch("py", false).await.unwrap_err();
        assert!(matches!(err, ServiceError::Queue(_)));
        let (_, ops) = f.service.status("py", 10).await.unwrap();
        assert_eq!(ops[0].state, OpState::Failed);
    }

    #[tokio::test]
    async fn unknown_countries_cost_nothing() {
        let f = fixture(vec![]);
        assert!(matches!(
            f.service.request_fetch("atlantis", false).await,
            Err(ServiceError::Ident(IdentError::Unknown { .. }))
        ));
        assert_eq!(*f.upstream.calls.lock().unwrap(), 0);
    }

    #[test]
    fn settings_from_the_environment() {
        let env: std::collections::HashMap<String, String> =
            [("FRESH_FOR", "1h"), ("MAX_ATTEMPTS", "3")]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let s = Settings::from_source(&env).unwrap();
        assert_eq!(
            (s.fresh_for, s.max_attempts),
            (Duration::from_secs(3600), 3)
        );
        let bad: std::collections::HashMap<String, String> =
            [("MAX_ATTEMPTS".to_string(), "0".to_string())].into();
        assert_eq!(Settings::from_source(&bad).unwrap_err().var, "MAX_ATTEMPTS");
    }
}
