//! The worker Lambda: SQS batches of fetch jobs from the event source mapping. Builds its clients once.

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use countries_core::config::ProcessEnv;
use countries_upstream::UpstreamConfig;
use countries_worker::{LambdaConfig, Worker};
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
    let config = LambdaConfig::from_source(&ProcessEnv).map_err(|e| e.to_string())?;
    let aws = countries_aws::wiring::connect(&config.aws).await;
    let key = aws
        .secret(config.key_secret_id.as_deref(), "api_key")
        .await?;
    let upstream = UpstreamConfig::from_source(&ProcessEnv, key)
        .map_err(|e| e.to_string())?
        .build()?;
    let service = Arc::new(aws.service(upstream, config.settings.clone()));
    Ok(Worker {
        service,
        queue: Some(aws.queue.clone()),
        max_receives: config.settings.max_attempts,
        concurrency: config.concurrency,
    })
}
