//! The worker function: SQS batches from the event source mapping, the upstream called from Lambda.

use std::sync::Arc;

use countries_aws::config::AwsEnv;
use countries_core::budget::BudgetPolicy;
use countries_core::config::{ConfigError, Source};
use countries_core::metrics::Metrics;
use countries_core::ports::SystemClock;
use countries_core::usecases::{CatalogueSync, FreshnessPolicy, RetryPolicy, Sweeper, WorkerCases};
use countries_upstream::UpstreamConfig;
use countries_worker::{Worker, WorkerSettings};

/// Everything the worker function reads from its environment.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerConfig {
    pub retry: RetryPolicy,
    /// `STUCK_AFTER`: when a sync that stopped moving no longer holds the sync slot.
    pub freshness: FreshnessPolicy,
    pub budget: BudgetPolicy,
    pub worker: WorkerSettings,
    pub upstream: UpstreamConfig,
    pub aws: AwsEnv,
}

impl WorkerConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let upstream = UpstreamConfig::from_source(src)?;
        Ok(WorkerConfig {
            retry: RetryPolicy::from_source(src, upstream.call_timeout())?,
            freshness: FreshnessPolicy::from_source(src)?,
            budget: BudgetPolicy::from_source(src)?,
            worker: WorkerSettings::from_source(src)?,
            upstream,
            aws: AwsEnv::from_source(src)?,
        })
    }
}

/// What the worker function runs: SQS batches, and the sweep and the sync its schedules ask for.
pub struct WorkerFunction {
    pub batches: Worker,
    pub sweeper: Arc<Sweeper>,
    pub syncs: Arc<CatalogueSync>,
}

/// What invokes the worker function: the SQS event source mapping, or one of its EventBridge schedules
/// with the input `{"sweep": {}}` or `{"sync": {}}` (terraform/service, `aws_scheduler_schedule`).
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
pub enum WorkerEvent {
    Sweep {
        sweep: serde_json::Map<String, serde_json::Value>,
    },
    Sync {
        sync: serde_json::Map<String, serde_json::Value>,
    },
    Batch(aws_lambda_events::event::sqs::SqsEvent),
}

/// The batch handler, the sweep and the sync on the AWS adapters, with the v5 key from its secret, read
/// when first needed (a person may put it after the deploy).
pub async fn worker(
    config: WorkerConfig,
    metrics: Arc<dyn Metrics>,
) -> Result<WorkerFunction, lambda_runtime::Error> {
    let aws = countries_aws::wiring::connect(&config.aws).await;
    let upstream = aws.upstream(
        &config.upstream,
        &config.aws.tables,
        config.budget,
        metrics.clone(),
    )?;
    let cases = WorkerCases::new(
        aws.store.clone(),
        aws.queue.clone(),
        upstream,
        Arc::new(SystemClock),
        metrics,
        config.freshness,
        config.retry,
    );
    let batches = Worker::new(
        (cases.jobs, cases.syncs.clone()),
        aws.queue.clone(),
        Some(aws.queue),
        config.worker,
    );
    Ok(WorkerFunction {
        batches,
        sweeper: cases.sweeper,
        syncs: cases.syncs,
    })
}
