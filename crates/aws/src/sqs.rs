//! The fetch queue on SQS: one message per job, its body the job as JSON.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use countries_core::Job;
use countries_core::ports::{JobQueue, QueueError};

#[derive(Clone)]
pub struct SqsQueue {
    pub client: Client,
    pub queue_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: &str) -> Self {
        SqsQueue {
            client,
            queue_url: queue_url.to_string(),
        }
    }

    /// Makes a received message visible again after `after` (SQS caps it at 12 hours): how a retryable
    /// failure waits out its backoff.
    pub async fn retry_after(
        &self,
        receipt_handle: &str,
        after: Duration,
    ) -> Result<(), QueueError> {
        let secs = after.as_secs().min(12 * 3600) as i32;
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs)
            .send()
            .await
            .map_err(|e| {
                QueueError(format!(
                    "SQS change visibility: {}",
                    DisplayErrorContext(&e)
                ))
            })?;
        Ok(())
    }
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError> {
        let body = serde_json::to_string(job).expect("a job serialises");
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| QueueError(format!("SQS send: {}", DisplayErrorContext(&e))))?;
        Ok(())
    }
}
