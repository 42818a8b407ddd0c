//! The AWS clients every AWS composition (both Lambdas, the local server in AWS mode) shares, built once
//! per process: the SDK configuration, the DynamoDB stores, the SQS queue, and secret reads.

use std::sync::Arc;

use countries_core::budget::BudgetPolicy;
use countries_core::memory::Unmetered;
use countries_core::metrics::Metrics;
use countries_core::ports::{MeteredUpstream, Secret, Unanswered, UpstreamBudget};
use countries_upstream::UpstreamConfig;

use crate::config::{AwsEnv, RedisEnv, Tables};
use crate::lazy::Lazy;
use crate::redis_limiter::RedisSettings;
use crate::{DynamoBudget, DynamoStore, SqsQueue, secrets};

pub struct Aws {
    pub sdk: aws_config::SdkConfig,
    pub queue: Arc<SqsQueue>,
    pub store: Arc<DynamoStore>,
}

/// The stores and the queue, their SDK clients built on first use (no request is made here).
pub async fn connect(env: &AwsEnv) -> Aws {
    let (tables, queue_url) = (&env.tables, &env.queue_url);
    let sdk = crate::sdk_config(env.trust_system_roots, env.timeouts).await;
    let store = Arc::new(DynamoStore::new(
        dynamodb(&sdk),
        &tables.countries,
        &tables.operations,
        tables.retention,
    ));
    let for_sqs = sdk.clone();
    let sqs = Lazy::new(move || aws_sdk_sqs::Client::new(&for_sqs));
    let queue = Arc::new(SqsQueue::new(sqs, queue_url));
    Aws { sdk, queue, store }
}

fn dynamodb(sdk: &aws_config::SdkConfig) -> Lazy<aws_sdk_dynamodb::Client> {
    let sdk = sdk.clone();
    Lazy::new(move || aws_sdk_dynamodb::Client::new(&sdk))
}

impl Aws {
    /// The fleet-wide upstream budget, on the operations table, for an upstream with a quota
    /// (`metered`); none for the others.
    pub fn budget(
        &self,
        metered: bool,
        tables: &Tables,
        policy: BudgetPolicy,
    ) -> Arc<dyn UpstreamBudget> {
        if !metered {
            return Arc::new(Unmetered);
        }
        Arc::new(DynamoBudget::new(
            dynamodb(&self.sdk),
            &tables.operations,
            policy,
        ))
    }

    /// The upstream client and its budget: the fleet-wide one on the operations table for an upstream
    /// with a quota, and the v5 key from its secret when the configuration names one (read when first
    /// needed: a person may put it after the deploy).
    pub fn upstream(
        &self,
        config: &UpstreamConfig,
        tables: &Tables,
        policy: BudgetPolicy,
        metrics: Arc<dyn Metrics>,
    ) -> Result<MeteredUpstream, countries_upstream::BuildError> {
        let key = config
            .key_secret_id()
            .map(|id| self.secret_put_later(id, "api_key"));
        let budget = self.budget(config.has_quota(), tables, policy);
        Ok((config.build_with(key, metrics)?, budget))
    }

    /// A secret's value: `key` of a JSON secret, or the whole plain one.
    pub async fn secret(&self, id: &str, key: &str) -> Result<String, Unanswered> {
        let client = aws_sdk_secretsmanager::Client::new(&self.sdk);
        secrets::read(&client, id, key).await
    }

    /// A secret a person puts after the first deploy, read when needed ([`secrets::read_if_set`]).
    pub fn secret_put_later(&self, id: &str, key: &str) -> Arc<dyn Secret> {
        let client = aws_sdk_secretsmanager::Client::new(&self.sdk);
        Arc::new(secrets::SecretsManagerSecret::new(client, id, key))
    }

    /// Redis settings, with the AUTH token from its secret (`REDIS_AUTH_SECRET_ID`) or `REDIS_AUTH_TOKEN`.
    pub async fn redis_settings(&self, env: RedisEnv) -> Result<RedisSettings, Unanswered> {
        let token = match &env.auth_secret_id {
            Some(id) => Some(self.secret(id, "auth_token").await?.into()),
            None => env.auth_token.clone(),
        };
        Ok(RedisSettings {
            url: env.url,
            auth_token: token,
            connect_timeout: env.connect_timeout,
            command_timeout: env.command_timeout,
            key_prefix: env.key_prefix,
        })
    }
}
