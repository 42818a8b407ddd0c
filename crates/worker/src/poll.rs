//! An SQS poller for the local server in AWS mode: does what the Lambda event source mapping does
//! (receive a batch, hand it to the worker, delete what succeeded) so the whole AWS wiring runs in one
//! process.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_sqs::types::MessageSystemAttributeName;
use tokio::sync::watch;
use tracing::{error, warn};

use crate::Worker;

pub async fn run(worker: &Worker, mut shutdown: watch::Receiver<bool>) {
    let Some(queue) = worker.queue.clone() else {
        error!("the SQS poller needs a queue");
        return;
    };
    loop {
        let receive = queue
            .client
            .receive_message()
            .queue_url(&queue.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send();
        let out = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            out = receive => out,
        };
        let messages = match out {
            Ok(out) => out.messages.unwrap_or_default(),
            Err(e) => {
                warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "SQS receive failed; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let handles: HashMap<String, String> = messages
            .iter()
            .filter_map(|m| Some((m.message_id.clone()?, m.receipt_handle.clone()?)))
            .collect();
        let records = messages
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
            .collect();
        let mut event = SqsEvent::default();
        event.records = records;
        let response = worker.handle(event).await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        for (id, handle) in &handles {
            if failed.contains(&id.as_str()) {
                continue;
            }
            if let Err(e) = queue
                .client
                .delete_message()
                .queue_url(&queue.queue_url)
                .receipt_handle(handle)
                .send()
                .await
            {
                warn!(message_id = %id, error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "could not delete a processed message; it will be processed again (harmlessly)");
            }
        }
    }
}
