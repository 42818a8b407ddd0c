//! The local server's SQS poller in AWS mode: what the Lambda event source mapping does (receive a batch,
//! hand it to the worker, delete what succeeded), so the whole AWS wiring runs in one process.

use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use countries_aws::SqsQueue;
use countries_worker::Worker;
use tokio::sync::watch;
use tracing::warn;

pub async fn run(queue: &SqsQueue, worker: &Worker, mut shutdown: watch::Receiver<bool>) {
    loop {
        let received = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            received = queue.receive(Duration::from_secs(1)) => received,
        };
        let records = match received {
            Ok(records) => records,
            Err(e) => {
                warn!(error = %e, "SQS receive failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if records.is_empty() {
            continue;
        }
        // Kept aside: the batch goes to the worker whole, bodies and all.
        let receipts: Vec<(String, String)> = records
            .iter()
            .filter_map(|r| Some((r.message_id.clone()?, r.receipt_handle.clone()?)))
            .collect();
        let mut event = SqsEvent::default();
        event.records = records;
        let response = worker.handle(event).await;
        let failed: Vec<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        for (id, receipt) in &receipts {
            if failed.contains(&id.as_str()) {
                continue;
            }
            if let Err(e) = queue.delete(receipt).await {
                warn!(message_id = %id, error = %e, "could not delete a processed message; it will be processed again (harmlessly)");
            }
        }
    }
}
