//! The api Lambda: the same router as the local server, behind API Gateway, on DynamoDB, SQS and Redis.
//! Builds its clients once per sandbox; a bad configuration fails the start with a message naming it.

use std::sync::Arc;

use countries_api::lambda::{self, LambdaConfig};
use countries_api::{AppState, router};
use countries_aws::RedisLimiter;
use countries_core::config::ProcessEnv;
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
    let config = LambdaConfig::from_source(&ProcessEnv).map_err(|e| e.to_string())?;
    let aws = countries_aws::wiring::connect(&config.aws).await;
    let limiter = RedisLimiter::new(
        aws.redis_settings(config.redis).await?,
        config.fetch_limit,
        config.read_limit,
    )?;
    let service = aws.service(Arc::new(Elsewhere::new(config.upstream)), config.settings);
    Ok(AppState {
        service: Arc::new(service),
        limiter: Arc::new(limiter),
        limiter_policy: config.policy,
        base_path: config.base_path,
    })
}
