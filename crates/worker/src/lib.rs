//! The worker: an SQS batch of fetch jobs in, the message ids to retry out. The worker Lambda runs it on
//! the events the SQS event source mapping delivers; the local server runs it on messages it polls.

pub mod poll;

use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use countries_aws::SqsQueue;
use countries_core::service::JobOutcome;
use countries_core::{Job, Service};
use futures_util::StreamExt;
use futures_util::stream;
use tracing::{Instrument, error, info_span, warn};

/// What the worker Lambda reads from its environment before it builds a client, in one place (as the
/// api's `LambdaConfig`): terraform/service sets these, tests/infra_contract.rs holds the two together.
/// The upstream's settings (`UpstreamConfig::from_source`) are read once the key is known.
pub struct LambdaConfig {
    pub settings: countries_core::Settings,
    pub concurrency: usize,
    pub aws: countries_aws::config::AwsEnv,
    /// `REST_COUNTRIES_API_KEY_SECRET_ID`: the secret holding the v5 key, read once at start.
    pub key_secret_id: Option<String>,
}

impl LambdaConfig {
    pub fn from_source(
        src: &dyn countries_core::config::Source,
    ) -> Result<Self, countries_core::config::ConfigError> {
        Ok(LambdaConfig {
            settings: countries_core::Settings::from_source(src)?,
            concurrency: countries_core::config::parse_or(src, "WORKER_CONCURRENCY", 4usize)?,
            aws: countries_aws::config::AwsEnv::from_source(src)?,
            key_secret_id: src.var(countries_aws::config::REST_COUNTRIES_API_KEY_SECRET_ID),
        })
    }
}

pub struct Worker {
    pub service: Arc<Service>,
    /// For delaying retries (ChangeMessageVisibility); without it SQS redelivers after the visibility
    /// timeout.
    pub queue: Option<SqsQueue>,
    /// The queue's `maxReceiveCount`: on that delivery a failure is final and the message goes to the DLQ.
    pub max_receives: u32,
    /// Records processed at once.
    pub concurrency: usize,
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    Done,
    Retry,
}

impl Worker {
    /// Processes the batch concurrently; the response names exactly the records to deliver again.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let outcomes: Vec<(String, RecordOutcome)> = stream::iter(event.records)
            .map(|record| async move {
                let id = record.message_id.clone().unwrap_or_default();
                let outcome = self
                    .record(&record)
                    .instrument(info_span!("message", message_id = %id))
                    .await;
                (id, outcome)
            })
            .buffer_unordered(self.concurrency.max(1))
            .collect()
            .await;
        let mut response = SqsBatchResponse::default();
        for (id, outcome) in outcomes {
            if outcome == RecordOutcome::Retry {
                response.add_failure(id);
            }
        }
        response
    }

    pub async fn record(&self, record: &SqsMessage) -> RecordOutcome {
        let id = record.message_id.as_deref().unwrap_or_default();
        let receives: u32 = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|c| c.parse().ok())
            .unwrap_or(1);
        let last = receives >= self.max_receives;
        let body = record.body.as_deref().unwrap_or_default();
        let job: Job = match serde_json::from_str(body) {
            Ok(job) => job,
            Err(e) => {
                // Reported, not dropped: SQS delivers it again and in the end moves it to the DLQ.
                let shown: String = body.chars().take(200).collect();
                error!(message_id = id, receives, error = %e, body = %shown, "unreadable job message");
                return RecordOutcome::Retry;
            }
        };
        match self.service.process_job(&job).await {
            Ok(JobOutcome::Finished(_) | JobOutcome::Skipped(_)) => RecordOutcome::Done,
            // Failed for good after its retries: on the last delivery, reported so that SQS keeps the job
            // in the dead-letter queue (and the DLQ alarm tells someone).
            Ok(JobOutcome::GaveUp) if last => RecordOutcome::Retry,
            Ok(JobOutcome::GaveUp) => RecordOutcome::Done,
            Ok(JobOutcome::Retry { after }) => {
                if last {
                    self.give_up(&job, receives).await;
                } else if let (Some(queue), Some(handle)) = (&self.queue, &record.receipt_handle)
                    && let Err(e) = queue.retry_after(handle, after).await
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

    /// The last delivery failed: the message goes to the dead-letter queue, and the operation is marked
    /// failed so that it does not stay queued.
    async fn give_up(&self, job: &Job, receives: u32) {
        let reason =
            format!("gave up after {receives} deliveries; the job is in the dead-letter queue");
        if let Err(e) = self.service.give_up(job, &reason).await {
            error!(country = %job.country, request_id = %job.request_id, error = %e, "could not mark the operation failed");
        }
    }
}
