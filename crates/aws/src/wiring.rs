//! The AWS composition shared by the two Lambdas and the local server in AWS mode: the SDK clients
//! (built once per process) and the service on DynamoDB and SQS.

use std::sync::Arc;

use countries_core::ports::{SystemClock, Upstream};
use countries_core::{Service, Settings, ident};

use crate::config::{AwsEnv, RedisEnv};
use crate::redis_limiter::RedisSettings;
use crate::{DynamoStore, SqsQueue, secrets};

pub struct Aws {
    pub sdk: aws_config::SdkConfig,
    pub queue: SqsQueue,
    pub store: Arc<DynamoStore>,
}

/// Builds the clients for the tables and the queue (no request is made here).
pub async fn connect(env: &AwsEnv) -> Aws {
    let (tables, queue_url) = (&env.tables, &env.queue_url);
    let sdk = crate::sdk_config().await;
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &tables.countries,
        &tables.operations,
        tables.retention,
    ));
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), queue_url);
    Aws { sdk, queue, store }
}

impl Aws {
    pub fn service(&self, upstream: Arc<dyn Upstream>, settings: Settings) -> Service {
        Service {
            index: ident::index(),
            countries: self.store.clone(),
            operations: self.store.clone(),
            queue: Arc::new(self.queue.clone()),
            upstream,
            clock: Arc::new(SystemClock),
            settings,
        }
    }

    /// A secret's value (`key` of a JSON secret, or the whole plain one), when an id is given.
    pub async fn secret(&self, id: Option<&str>, key: &str) -> Result<Option<String>, String> {
        match id {
            None => Ok(None),
            Some(id) => {
                let client = aws_sdk_secretsmanager::Client::new(&self.sdk);
                secrets::read(&client, id, key).await.map(Some)
            }
        }
    }

    /// Redis settings, with the AUTH token from its secret (`REDIS_AUTH_SECRET_ID`) or `REDIS_AUTH_TOKEN`.
    pub async fn redis_settings(&self, env: RedisEnv) -> Result<RedisSettings, String> {
        let token = match &env.auth_secret_id {
            Some(id) => self.secret(Some(id), "auth_token").await?,
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

/// JSON logs, one object per line, with the fields of the current span: in Lambda that span carries the
/// AWS request id of the invocation. `RUST_LOG` sets the level (default `info`).
pub fn init_lambda_logs() {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
}
