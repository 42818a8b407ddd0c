//! The api Lambda: the same router as the local server, behind API Gateway, on DynamoDB, SQS and Redis.

use countries_core::config::ProcessEnv;
use countries_lambdas::api::{ApiConfig, state};
use countries_lambdas::gateway::behind_api_gateway;
use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    countries_lambdas::init_logs();
    let built = match ApiConfig::from_source(&ProcessEnv) {
        Ok(config) => state(config, countries_lambdas::metrics()).await,
        Err(e) => Err(e.into()),
    };
    let state = built.unwrap_or_else(|e| {
        // An init error: Lambda reports it and retries the start; the message names what is wrong.
        eprintln!("api-lambda: {e}");
        std::process::exit(2)
    });
    lambda_http::run(behind_api_gateway(countries_api::router(state))).await
}
