//! Everything the local server reads from its environment, read and checked once at start-up.

use std::net::IpAddr;

use countries_aws::config::{AwsEnv, RedisEnv};
use countries_core::budget::BudgetPolicy;
use countries_core::config::{self, ConfigError, Source};
use countries_core::ratelimit::RateLimits;
use countries_core::usecases::{FreshnessPolicy, RetryPolicy};
use countries_upstream::UpstreamConfig;
use countries_worker::WorkerSettings;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub backend: Backend,
    /// `BIND`, `PORT`: where the server listens (`PORT=0`: any free port).
    pub bind: IpAddr,
    pub port: u16,
    /// `HEADER_READ_TIMEOUT`, `MAX_CONNECTIONS`: what one client can hold of the listener.
    pub listener: crate::serve::Limits,
    pub upstream: UpstreamConfig,
    pub freshness: FreshnessPolicy,
    pub retry: RetryPolicy,
    pub budget: BudgetPolicy,
    pub limits: RateLimits,
    pub worker: WorkerSettings,
    /// `LOG_FORMAT=json`: one JSON object per line instead of text.
    pub json_logs: bool,
    /// `OPERATOR_KEY`: what `POST /sync?force=true` must carry; unset, nothing can force a sync.
    pub operator_key: countries_api::OperatorKey,
    /// `SYNC_ON_START`: `empty` (default) syncs the whole catalogue at start when the store has none
    /// (with the memory store, every start; on v5 that is 3 upstream calls); `never` leaves it to
    /// `POST /sync`.
    pub sync_on_start: bool,
}

impl Config {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let backend = match config::choice_or(src, "BACKEND", &["memory", "aws"], "memory")? {
            "aws" => Backend::Aws(Box::new(AwsBackend {
                create_resources: config::parse_or(src, "AWS_CREATE_RESOURCES", false)?,
                aws: AwsEnv::from_source(src)?,
                redis: RedisEnv::from_source_if_set(src)?,
            })),
            _ => Backend::Memory {
                retention: countries_core::operation::retention_from_source(src)?,
            },
        };
        let upstream = UpstreamConfig::from_source(src)?;
        Ok(Config {
            backend,
            bind: config::parse_or(src, "BIND", IpAddr::from([127, 0, 0, 1]))?,
            port: config::parse_or(src, "PORT", 3000u16)?,
            listener: crate::serve::Limits {
                header_read: config::duration_or(
                    src,
                    "HEADER_READ_TIMEOUT",
                    std::time::Duration::from_secs(10),
                )?,
                max_connections: config::number_in(src, "MAX_CONNECTIONS", 1024, 1..=65_536)?,
            },
            worker: WorkerSettings::from_source(src)?,
            retry: RetryPolicy::from_source(src, upstream.call_timeout())?,
            upstream,
            freshness: FreshnessPolicy::from_source(src)?,
            budget: BudgetPolicy::from_source(src)?,
            limits: RateLimits::from_source(src)?,
            json_logs: config::choice_or(src, "LOG_FORMAT", &["text", "json"], "text")? == "json",
            operator_key: countries_api::OperatorKey::from_source(src)?,
            sync_on_start: config::choice_or(src, "SYNC_ON_START", &["empty", "never"], "empty")?
                == "empty",
        })
    }
}

/// `BACKEND`: where the service keeps its state.
#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// Everything in this process: memory store, in-process queue, worker loop and limiter.
    Memory {
        /// How long the memory store keeps finished operations (`OPERATION_RETENTION`; on DynamoDB
        /// the table's TTL, in `AwsEnv`).
        retention: std::time::Duration,
    },
    /// DynamoDB, SQS and (with `REDIS_URL`) Redis, at `AWS_ENDPOINT_URL` (an emulator) or in the account
    /// the environment's credentials name; SQS polled in this process.
    Aws(Box<AwsBackend>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AwsBackend {
    /// `AWS_CREATE_RESOURCES`: create the tables and queues first (for emulators; in AWS, Terraform
    /// owns them).
    pub create_resources: bool,
    pub aws: AwsEnv,
    /// Rate limits in Redis; `None`: in this process.
    pub redis: Option<RedisEnv>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_nothing() {
        let c = Config::from_source(&std::collections::HashMap::new()).unwrap();
        assert_eq!((c.bind.to_string(), c.port), ("127.0.0.1".into(), 3000));
        assert_eq!(c.upstream, UpstreamConfig::Bundled);
        assert_eq!(
            c.backend,
            Backend::Memory {
                retention: countries_core::operation::DEFAULT_RETENTION
            }
        );
        assert_eq!(c.worker.concurrency, 4);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("PORT", "http"),
            ("BIND", "localhost:3000"),
            ("FRESH_FOR", "a while"),
            ("RATE_LIMIT_FETCH", "10 per minute"),
            ("WORKER_CONCURRENCY", "0"),
            ("WORKER_CONCURRENCY", "many"),
            ("MAX_ATTEMPTS", "0"),
            ("COUNTRIES_UPSTREAM", "v4"),
            ("RATE_LIMIT_ON_ERROR", "maybe"),
            ("LOG_FORMAT", "xml"),
            ("BACKEND", "gcp"),
            ("UPSTREAM_TIMEOUT", "-1s"),
        ] {
            let e = Config::from_source(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{e}");
        }
        let aws = [
            ("BACKEND", "aws"),
            ("COUNTRIES_TABLE", "c"),
            ("OPERATIONS_TABLE", "o"),
            ("FETCH_QUEUE_URL", "http://localhost/q"),
        ];
        let e = Config::from_source(&[&aws[..], &[("AWS_CREATE_RESOURCES", "sure")]].concat())
            .unwrap_err();
        assert_eq!(e.var, "AWS_CREATE_RESOURCES");
        let e = Config::from_source(&[("BACKEND", "aws")]).unwrap_err();
        assert_eq!(e.var, "COUNTRIES_TABLE");
        let e =
            Config::from_source(&[&aws[..], &[("REDIS_URL", "http://x")]].concat()).unwrap_err();
        assert_eq!(e.var, "REDIS_URL");
    }
}
