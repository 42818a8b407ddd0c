//! The api function: the router on DynamoDB, SQS and Redis, behind API Gateway.

use std::sync::Arc;

use countries_api::{AppState, Links, OperatorKey};
use countries_aws::RedisLimiter;
use countries_aws::config::{AwsEnv, RedisEnv};
use countries_core::budget::BudgetPolicy;
use countries_core::config::{ConfigError, Source};
use countries_core::metrics::Metrics;
use countries_core::ports::{Probe, SystemClock, UpstreamKind};
use countries_core::ratelimit::RateLimits;
use countries_core::usecases::{ApiCases, FreshnessPolicy, refresh_from_source};
use std::time::Duration;

/// Everything the api function reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiConfig {
    pub freshness: FreshnessPolicy,
    pub limits: RateLimits,
    /// For `/health`'s count of the month's upstream calls.
    pub budget: BudgetPolicy,
    /// The api never calls the upstream (the worker does); `/health` only reports which one is used.
    pub upstream: UpstreamKind,
    /// `PUBLIC_BASE_PATH`: prefix of the URLs handed out behind a named stage.
    pub base_path: String,
    pub aws: AwsEnv,
    pub redis: RedisEnv,
    /// `CATALOGUE_REFRESH`: how stale the catalogue snapshot may be.
    pub catalogue_refresh: Duration,
    /// `OPERATOR_KEY_SECRET_ID`: the secret holding the key that forces a sync (`operator_key`).
    pub operator_key_secret: Option<String>,
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
            catalogue_refresh: refresh_from_source(src)?,
            operator_key_secret: src.var("OPERATOR_KEY_SECRET_ID"),
        })
    }
}

/// The router's state on the AWS adapters (no request is made but the Redis token's secret read).
pub async fn state(
    config: ApiConfig,
    metrics: Arc<dyn Metrics>,
) -> Result<AppState, lambda_runtime::Error> {
    let aws = countries_aws::wiring::connect(&config.aws).await;
    let limiter = Arc::new(RedisLimiter::new(
        aws.redis_settings(config.redis).await?,
        config.limits,
    )?);
    let operator_key = match &config.operator_key_secret {
        Some(id) => OperatorKey::in_secret(aws.secret_put_later(id, "operator_key")),
        None => OperatorKey::none(),
    };
    let metered = config.upstream.has_quota();
    let budget = aws.budget(metered, &config.aws.tables, config.budget);
    let cases = ApiCases::new(
        aws.store.clone(),
        aws.queue.clone(),
        Arc::new(SystemClock),
        config.freshness,
        config.catalogue_refresh,
    );
    let probes: Vec<(&'static str, Arc<dyn Probe>)> = vec![
        ("store", aws.store),
        ("queue", aws.queue),
        ("limiter", limiter.clone()),
    ];
    Ok(
        AppState::new(&cases, (limiter, config.limits.on_error), metrics)
            .with_operator_key(operator_key)
            .with_upstream(config.upstream, budget)
            .with_links(Links::new(&config.base_path))
            .with_probes(probes),
    )
}
