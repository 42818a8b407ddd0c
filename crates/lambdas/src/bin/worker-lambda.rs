//! The worker Lambda: SQS batches of fetch jobs from the event source mapping.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use countries_core::config::ProcessEnv;
use countries_lambdas::worker::{WorkerConfig, worker};
use lambda_runtime::{Error, LambdaEvent, service_fn};

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
        async move { Ok::<_, Error>(worker.handle(event.payload).await) }
    }))
    .await
}
