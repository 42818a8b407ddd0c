//! The worker Lambda: SQS batches of fetch and sync jobs from the event source mapping, and the sweep
//! and the sync its schedules invoke it for.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use countries_core::config::ProcessEnv;
use countries_core::sync_record::{SyncState, SyncTrigger};
use countries_lambdas::worker::{WorkerConfig, WorkerEvent, worker};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tokio::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Error> {
    countries_lambdas::init_logs();
    let built = match WorkerConfig::from_source(&ProcessEnv) {
        Ok(config) => worker(config, countries_lambdas::metrics()).await,
        Err(e) => Err(e.into()),
    };
    let worker = Arc::new(built.unwrap_or_else(|e| {
        // An init error: Lambda reports it and retries the start; the message names what is wrong.
        eprintln!("worker-lambda: {e}");
        std::process::exit(2)
    }));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<WorkerEvent>| {
        let worker = worker.clone();
        async move {
            match event.payload {
                WorkerEvent::Batch(batch) => {
                    let deadline = invocation_deadline(event.context.deadline);
                    let response = worker.batches.handle_until(batch, Some(deadline)).await;
                    Ok::<_, Error>(serde_json::to_value(response)?)
                }
                // A failed sweep fails the invocation, which the schedule's alarm counts.
                WorkerEvent::Sweep { .. } => {
                    let swept = worker.sweeper.sweep().await?;
                    Ok(serde_json::json!({"in_flight": swept.in_flight, "resent": swept.resent}))
                }
                // A sync that ends failed or partial fails the invocation too, for the schedule's alarm;
                // what it stored is kept.
                WorkerEvent::Sync { .. } => {
                    let sync = worker.syncs.run_now(SyncTrigger::Schedule).await?;
                    let record = serde_json::to_value(&sync)?;
                    match sync.state() {
                        SyncState::Failed | SyncState::Partial => Err(format!(
                            "sync {} ended {:?}: {:?}",
                            sync.id(),
                            sync.state(),
                            sync.tally().failed
                        )
                        .into()),
                        _ => Ok(record),
                    }
                }
            }
        }
    }))
    .await
}

/// The invocation's deadline (Lambda gives it in ms since the epoch) on the monotonic clock.
fn invocation_deadline(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}
