//! The fetch queue on SQS: one message per job, its body the job as JSON.

use std::time::Duration;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsMessage;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, SdkError};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use countries_core::Job;
use countries_core::ports::{JobQueue, QueueError, Redelivery, Unanswered};
use countries_core::sync_record::SyncJob;

use crate::lazy::Lazy;

#[derive(Clone)]
pub struct SqsQueue {
    client: Lazy<Client>,
    pub queue_url: String,
}

impl SqsQueue {
    pub fn new(client: impl Into<Lazy<Client>>, queue_url: &str) -> Self {
        SqsQueue {
            client: client.into(),
            queue_url: queue_url.to_string(),
        }
    }

    /// Up to ten messages, waiting at most `wait` for the first, each with its receive count: what the
    /// Lambda event source mapping would deliver, for the local server's poller.
    pub async fn receive(&self, wait: Duration) -> Result<Vec<SqsMessage>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait.as_secs().min(20) as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| error("receive", e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let mut record = SqsMessage::default();
                record.attributes = m
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.as_str().to_string(), v))
                    .collect();
                record.message_id = m.message_id;
                record.receipt_handle = m.receipt_handle;
                record.body = m.body;
                record
            })
            .collect())
    }

    /// Deletes a processed message.
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| error("delete", e))?;
        Ok(())
    }
}

fn error<E, R>(what: &str, e: SdkError<E, R>) -> QueueError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    QueueError::Unavailable(format!("SQS {what}: {}", DisplayErrorContext(&e)))
}

#[async_trait]
impl Redelivery for SqsQueue {
    /// Makes the received message visible again after `after` (SQS caps it at 12 hours): how a
    /// retryable failure waits out its backoff.
    async fn redeliver_after(&self, receipt: &str, after: Duration) -> Result<(), QueueError> {
        let secs = after.as_secs().min(12 * 3600) as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|e| error("change visibility", e))?;
        Ok(())
    }
}

/// The queue's ARN: the queue exists and the role may reach it (SendMessage has no harmless form).
#[async_trait]
impl countries_core::ports::Probe for SqsQueue {
    async fn probe(&self) -> Result<(), Unanswered> {
        self.client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Unanswered(format!("SQS probe: {}", DisplayErrorContext(&e))))
    }
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError> {
        self.enqueue_after(job, Duration::ZERO).await
    }

    async fn enqueue_sync(&self, job: &SyncJob) -> Result<(), QueueError> {
        self.send(
            serde_json::to_string(job).expect("a job serialises"),
            Duration::ZERO,
        )
        .await
    }

    async fn enqueue_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        self.send(serde_json::to_string(job).expect("a job serialises"), delay)
            .await
    }
}

impl SqsQueue {
    async fn send(&self, body: String, delay: Duration) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            // SQS delays a message 15 minutes at most; a job that must wait longer waits again.
            .delay_seconds(delay.as_secs().min(900) as i32)
            .send()
            .await
            .map_err(|e| error("send", e))?;
        Ok(())
    }
}
