//! The worker Lambda: SQS batches of fetch jobs from the event source mapping. Builds its clients once.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use countries_aws::config::REST_COUNTRIES_API_KEY_SECRET_ID;
use countries_core::Settings;
use countries_core::config::{self, ProcessEnv};
use countries_upstream::UpstreamConfig;
use countries_worker::Worker;
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    countries_aws::wiring::init_lambda_logs();
    let worker = Arc::new(build().await.unwrap_or_else(|e| {
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

async fn build() -> Result<Worker, String> {
    let src = &ProcessEnv;
    let settings = Settings::from_source(src).map_err(|e| e.to_string())?;
    let concurrency =
        config::parse_or(src, "WORKER_CONCURRENCY", 4usize).map_err(|e| e.to_string())?;
    let aws = countries_aws::wiring::connect(src).await?;
    let key = aws
        .secret_from(src, REST_COUNTRIES_API_KEY_SECRET_ID, "api_key")
        .await?;
    let upstream = UpstreamConfig::from_source(src, key)
        .map_err(|e| e.to_string())?
        .build()?;
    let service = Arc::new(aws.service(upstream, settings.clone()));
    Ok(Worker {
        service,
        queue: Some(aws.queue.clone()),
        max_receives: settings.max_attempts,
        concurrency,
    })
}
