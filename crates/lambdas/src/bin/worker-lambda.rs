//! The worker Lambda: SQS batches of fetch jobs from the event source mapping.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lambda_events::event::sqs::SqsEvent;
use countries_core::config::ProcessEnv;
use countries_lambdas::worker::{WorkerConfig, worker};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use tokio::time::Instant;

#[tokio::main]
async fn main() -> Result<(), Error> {
    countries_lambdas::init_logs();
    let built = match WorkerConfig::from_source(&ProcessEnv) {
        Ok(config) => worker(config).await,
        Err(e) => Err(e.to_string()),
    };
    let worker = Arc::new(built.unwrap_or_else(|e| {
        // An init error: Lambda reports it and retries the start; the message names what is wrong.
        eprintln!("worker-lambda: {e}");
        std::process::exit(2)
    }));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move {
            let deadline = invocation_deadline(event.context.deadline);
            Ok::<_, Error>(worker.handle_until(event.payload, Some(deadline)).await)
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
