//! The worker: an SQS batch of fetch and sync jobs in, the message ids to retry out. The worker Lambda
//! runs it on the events the SQS event source mapping delivers; the local server in AWS mode on messages
//! it polls. What a failed job becomes end to end is docs/architecture.md's "One job".

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use countries_core::Job;
use countries_core::config::{self, ConfigError, Source};
use countries_core::ports::{JobQueue, Redelivery};
use countries_core::sync_record::SyncJob;
use countries_core::usecases::{CatalogueSync, JobOutcome, JobProcessor};
use futures_util::StreamExt;
use futures_util::stream;
use tokio::time::Instant;
use tracing::{Instrument, error, info_span, warn};

/// `WORKER_CONCURRENCY`: jobs run at once, 1 to 256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSettings {
    pub concurrency: usize,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings { concurrency: 4 }
    }
}

impl WorkerSettings {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = WorkerSettings::default();
        Ok(WorkerSettings {
            concurrency: config::number_in(src, "WORKER_CONCURRENCY", d.concurrency, 1..=256)?,
        })
    }
}

pub struct Worker {
    jobs: Arc<JobProcessor>,
    /// Runs sync jobs (`{"sync": "<id>"}`).
    syncs: Arc<CatalogueSync>,
    /// Where a deferred job is queued again, as a new message.
    queue: Arc<dyn JobQueue>,
    /// Delays retries (on SQS: ChangeMessageVisibility); without it the queue redelivers after its
    /// visibility timeout.
    redelivery: Option<Arc<dyn Redelivery>>,
    /// The queue's `maxReceiveCount`, which is `MAX_ATTEMPTS`: on that delivery a failure is final and
    /// the message goes to the dead-letter queue.
    max_receives: u32,
    settings: WorkerSettings,
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    Done,
    Retry,
    /// Not started: too little of the invocation was left for a whole job.
    NotStarted,
}

impl Worker {
    pub fn new(
        (jobs, syncs): (Arc<JobProcessor>, Arc<CatalogueSync>),
        queue: Arc<dyn JobQueue>,
        redelivery: Option<Arc<dyn Redelivery>>,
        settings: WorkerSettings,
    ) -> Self {
        Worker {
            max_receives: jobs.policy().max_attempts,
            jobs,
            syncs,
            queue,
            redelivery,
            settings,
        }
    }

    /// Processes the batch concurrently; the response names exactly the records to deliver again.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        self.handle_until(event, None).await
    }

    /// As `handle`, within an invocation that ends at `deadline`: a job starts only while a whole
    /// attempt (`RetryPolicy::attempt_lease`) still fits before it; the records left are answered as failures, and made visible again at
    /// once, so that a slow upstream cannot make the invocation time out and lose the batch's answer.
    pub async fn handle_until(
        &self,
        event: SqsEvent,
        deadline: Option<Instant>,
    ) -> SqsBatchResponse {
        let longest_job = self.jobs.policy().attempt_lease;
        let start_by = deadline.map(|d| d.checked_sub(longest_job).unwrap_or(d));
        let outcomes: Vec<(String, RecordOutcome)> = stream::iter(event.records)
            .map(|record| async move {
                let id = record.message_id.clone().unwrap_or_default();
                // Polled only when a slot is free, so this is the moment the job would start.
                let outcome = if start_by.is_some_and(|t| Instant::now() >= t) {
                    self.not_started(&record).await
                } else {
                    self.record(&record)
                        .instrument(info_span!("message", message_id = %id))
                        .await
                };
                (id, outcome)
            })
            .buffer_unordered(self.settings.concurrency)
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        let not_started = outcomes
            .iter()
            .filter(|(_, o)| *o == RecordOutcome::NotStarted)
            .count();
        if not_started > 0 {
            warn!(
                not_started,
                "the invocation's time ran short; records left for the next delivery"
            );
        }
        for (id, outcome) in outcomes {
            if outcome != RecordOutcome::Done {
                response.add_failure(id);
            }
        }
        response
    }

    async fn not_started(&self, record: &SqsMessage) -> RecordOutcome {
        if let (Some(redelivery), Some(receipt)) = (&self.redelivery, &record.receipt_handle)
            && let Err(e) = redelivery.redeliver_after(receipt, Duration::ZERO).await
        {
            warn!(error = %e, "could not make an unstarted record visible again; SQS redelivers it after the visibility timeout");
        }
        RecordOutcome::NotStarted
    }

    async fn record(&self, record: &SqsMessage) -> RecordOutcome {
        let id = record.message_id.as_deref().unwrap_or_default();
        let receives: u32 = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let last = receives >= self.max_receives;
        let body = record.body.as_deref().unwrap_or_default();
        if let Ok(sync) = serde_json::from_str::<SyncJob>(body) {
            return self.sync(&sync).await;
        }
        let job: Job = match serde_json::from_str(body) {
            Ok(job) => job,
            Err(e) => {
                // Reported, not dropped: SQS delivers it again and in the end moves it to the DLQ.
                let shown: String = body.chars().take(200).collect();
                error!(message_id = id, receives, error = %e, body = %shown, "unreadable job message");
                return RecordOutcome::Retry;
            }
        };
        match self.jobs.process(&job).await {
            Ok(JobOutcome::Finished(_) | JobOutcome::Skipped(_)) => RecordOutcome::Done,
            // Sent again as a new message: waiting for the budget must not count as a delivery, or
            // the queue would move the job to the dead-letter queue after MAX_ATTEMPTS waits.
            Ok(JobOutcome::Deferred { after }) => match self.queue.enqueue_after(&job, after).await
            {
                Ok(()) => RecordOutcome::Done,
                Err(e) => {
                    warn!(message_id = id, error = %e, "could not queue a deferred job again; SQS delivers it again");
                    RecordOutcome::Retry
                }
            },
            // Failed for good after its retries: on the last delivery, reported so that SQS keeps the job
            // in the dead-letter queue (and the DLQ alarm tells someone).
            Ok(JobOutcome::GaveUp) if last => RecordOutcome::Retry,
            Ok(JobOutcome::GaveUp) => RecordOutcome::Done,
            Ok(JobOutcome::Retry { after }) => {
                if last {
                    self.give_up(&job, receives).await;
                } else if let (Some(redelivery), Some(receipt)) =
                    (&self.redelivery, &record.receipt_handle)
                    && let Err(e) = redelivery.redeliver_after(receipt, after).await
                {
                    warn!(message_id = id, error = %e, "could not delay the retry; SQS retries after the visibility timeout");
                }
                RecordOutcome::Retry
            }
            Err(e) => {
                error!(message_id = id, country = %job.country, request_id = %job.request_id, receives, error = %e, "job failed");
                if last {
                    self.give_up(&job, receives).await;
                }
                RecordOutcome::Retry
            }
        }
    }

    /// A sync's outcome is in its record (a failed sync is retried at the next trigger, not redelivered);
    /// only a store failure before it could record anything delivers the message again.
    async fn sync(&self, job: &SyncJob) -> RecordOutcome {
        match self.syncs.run_queued(job).await {
            Ok(_) => RecordOutcome::Done,
            Err(e) => {
                error!(sync = %job.sync, error = %e, "sync job failed");
                RecordOutcome::Retry
            }
        }
    }

    /// The last delivery failed: the message goes to the dead-letter queue, and the operation is marked
    /// failed so that it does not stay queued.
    async fn give_up(&self, job: &Job, receives: u32) {
        let reason =
            format!("gave up after {receives} deliveries; the job is in the dead-letter queue");
        if let Err(e) = self.jobs.give_up(job, &reason).await {
            error!(country = %job.country, request_id = %job.request_id, error = %e, "could not mark the operation failed");
        }
    }
}
