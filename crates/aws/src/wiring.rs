//! The AWS composition shared by the two Lambdas and the local server in AWS mode: the SDK clients
//! (built once per process) and the service on DynamoDB and SQS.

use std::sync::Arc;

use countries_core::config::Source;
use countries_core::ports::{SystemClock, Upstream};
use countries_core::{Service, Settings, ident};

use crate::config::{RedisEnv, Tables, queue_url};
use crate::redis_limiter::RedisSettings;
use crate::{DynamoStore, SqsQueue, secrets};

pub struct Aws {
    pub sdk: aws_config::SdkConfig,
    pub queue: SqsQueue,
    pub store: Arc<DynamoStore>,
}

/// Reads the tables and the queue from the environment and builds the clients.
pub async fn connect(src: &dyn Source) -> Result<Aws, String> {
    let tables = Tables::from_source(src).map_err(|e| e.to_string())?;
    let queue_url = queue_url(src).map_err(|e| e.to_string())?;
    let sdk = crate::sdk_config().await;
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &tables.countries,
        &tables.operations,
        tables.retention,
    ));
    let queue = SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), &queue_url);
    Ok(Aws { sdk, queue, store })
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

    /// A secret's value by the id in `var`, if `var` is set.
    pub async fn secret_from(
        &self,
        src: &dyn Source,
        var: &str,
        key: &str,
    ) -> Result<Option<String>, String> {
        match src.var(var) {
            None => Ok(None),
            Some(id) => {
                let client = aws_sdk_secretsmanager::Client::new(&self.sdk);
                secrets::read(&client, &id, key).await.map(Some)
            }
        }
    }

    /// Redis settings, with the AUTH token from its secret (`REDIS_AUTH_SECRET_ID`) or `REDIS_AUTH_TOKEN`.
    pub async fn redis_settings(&self, src: &dyn Source) -> Result<RedisSettings, String> {
        let env = RedisEnv::from_source(src).map_err(|e| e.to_string())?;
        let token = match &env.auth_secret_id {
            Some(id) => {
                let client = aws_sdk_secretsmanager::Client::new(&self.sdk);
                Some(secrets::read(&client, id, "auth_token").await?)
            }
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
