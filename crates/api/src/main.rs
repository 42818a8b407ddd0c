//! The api Lambda: the same router as the local server, behind API Gateway, on DynamoDB, SQS and Redis.
//! Builds its clients once per sandbox; a bad configuration fails the start with a message naming it.

use std::sync::Arc;

use countries_api::{AppState, LimiterPolicy, lambda, router};
use countries_aws::RedisLimiter;
use countries_core::Settings;
use countries_core::config::{self, Limit, ProcessEnv, Source};
use countries_upstream::Elsewhere;
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    countries_aws::wiring::init_lambda_logs();
    let state = build().await.unwrap_or_else(|e| {
        eprintln!("api-lambda: {e}");
        std::process::exit(2)
    });
    let app = lambda::behind_api_gateway(router(state));
    lambda_http::run(app).await
}

async fn build() -> Result<AppState, String> {
    let src = &ProcessEnv;
    let e = |e: config::ConfigError| e.to_string();
    let settings = Settings::from_source(src).map_err(e)?;
    let fetch = config::parse_or(
        src,
        "RATE_LIMIT_FETCH",
        Limit::new(10, std::time::Duration::from_secs(60)),
    )
    .map_err(e)?;
    let read = config::parse_or(
        src,
        "RATE_LIMIT_READ",
        Limit::new(300, std::time::Duration::from_secs(60)),
    )
    .map_err(e)?;
    let policy = LimiterPolicy::from_source(src).map_err(e)?;
    let kind = config::choice_or(
        src,
        "COUNTRIES_UPSTREAM",
        &["bundled", "v3.1", "v5"],
        "bundled",
    )
    .map_err(e)?;
    let base_path = src.var("PUBLIC_BASE_PATH").unwrap_or_default();
    let aws = countries_aws::wiring::connect(src).await?;
    let limiter = RedisLimiter::new(aws.redis_settings(src).await?, fetch, read)?;
    // The api process never calls the upstream (the worker does); it only reports which one is used.
    let service = aws.service(Arc::new(Elsewhere::new(kind)), settings);
    Ok(AppState {
        service: Arc::new(service),
        limiter: Arc::new(limiter),
        limiter_policy: policy,
        base_path: base_path.trim_end_matches('/').to_string(),
    })
}
