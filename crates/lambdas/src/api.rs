//! The api function: the router on DynamoDB, SQS and Redis, behind API Gateway.

use std::sync::Arc;

use countries_api::{AppState, Links};
use countries_aws::RedisLimiter;
use countries_aws::config::{AwsEnv, RedisEnv};
use countries_core::budget::BudgetPolicy;
use countries_core::config::{ConfigError, Source};
use countries_core::ports::{Probe, SystemClock};
use countries_core::ratelimit::RateLimits;
use countries_core::usecases::{CountryReads, FetchRequests, FreshnessPolicy};

/// Everything the api function reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    pub freshness: FreshnessPolicy,
    pub limits: RateLimits,
    /// For `/health`'s count of the month's upstream calls.
    pub budget: BudgetPolicy,
    /// The api never calls the upstream (the worker does); `/health` only reports which one is used.
    pub upstream: &'static str,
    /// `PUBLIC_BASE_PATH`: prefix of the URLs handed out behind a named stage.
    pub base_path: String,
    pub aws: AwsEnv,
    pub redis: RedisEnv,
}

impl ApiConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(ApiConfig {
            freshness: FreshnessPolicy::from_source(src)?,
            limits: RateLimits::from_source(src)?,
            budget: BudgetPolicy::from_source(src)?,
            upstream: countries_upstream::kind_from_source(src)?,
            base_path: src.var("PUBLIC_BASE_PATH").unwrap_or_default(),
            aws: AwsEnv::from_source(src)?,
            redis: RedisEnv::from_source(src)?,
        })
    }
}

/// The router's state on the AWS adapters (no request is made but the Redis token's secret read).
pub async fn state(config: ApiConfig) -> Result<AppState, String> {
    let aws = countries_aws::wiring::connect(&config.aws).await;
    let limiter = Arc::new(RedisLimiter::new(
        aws.redis_settings(config.redis).await?,
        config.limits,
    )?);
    let metered = countries_upstream::has_quota(config.upstream);
    let budget = aws.budget(metered, &config.aws.tables, config.budget);
    Ok(AppState {
        fetches: Arc::new(FetchRequests::new(
            aws.store.clone(),
            aws.store.clone(),
            aws.queue.clone(),
            Arc::new(SystemClock),
            config.freshness,
        )),
        reads: Arc::new(CountryReads::new(aws.store.clone(), aws.store.clone())),
        probes: vec![
            ("store", aws.store as Arc<dyn Probe>),
            ("queue", aws.queue),
            ("limiter", limiter.clone()),
        ],
        limiter,
        limiter_policy: config.limits.on_error,
        upstream: config.upstream,
        budget,
        links: Links::new(&config.base_path),
    })
}
