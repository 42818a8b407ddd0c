//! Everything the local server reads from its environment, read and checked once at start-up.

use std::net::IpAddr;
use std::time::Duration;

use countries_api::LimiterPolicy;
use countries_core::Settings;
use countries_core::config::{self, ConfigError, Limit, Source};
use countries_upstream::UpstreamConfig;

#[derive(Debug, Clone)]
pub struct Config {
    /// `memory` (default): everything in this process. `aws`: DynamoDB, SQS and (with `REDIS_URL`) Redis,
    /// at `AWS_ENDPOINT_URL` (an emulator) or in the account the environment's credentials name.
    pub backend: Backend,
    pub bind: IpAddr,
    pub port: u16,
    pub upstream: UpstreamConfig,
    pub settings: Settings,
    pub fetch_limit: Limit,
    pub read_limit: Limit,
    pub limiter_policy: LimiterPolicy,
    pub worker_concurrency: usize,
    pub json_logs: bool,
}

impl Config {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let concurrency = config::parse_or(src, "WORKER_CONCURRENCY", 4usize)?;
        let backend = match config::choice_or(src, "BACKEND", &["memory", "aws"], "memory")? {
            "aws" => Backend::Aws {
                create_resources: config::parse_or(src, "AWS_CREATE_RESOURCES", false)?,
                redis: src.var("REDIS_URL").is_some(),
            },
            _ => Backend::Memory,
        };
        Ok(Config {
            backend,
            bind: config::parse_or(src, "BIND", IpAddr::from([127, 0, 0, 1]))?,
            port: config::parse_or(src, "PORT", 3000u16)?,
            upstream: UpstreamConfig::from_source(src, None)?,
            settings: Settings::from_source(src)?,
            fetch_limit: config::parse_or(
                src,
                "RATE_LIMIT_FETCH",
                Limit::new(10, Duration::from_secs(60)),
            )?,
            read_limit: config::parse_or(
                src,
                "RATE_LIMIT_READ",
                Limit::new(300, Duration::from_secs(60)),
            )?,
            limiter_policy: LimiterPolicy::from_source(src)?,
            worker_concurrency: config::check(
                "WORKER_CONCURRENCY",
                concurrency,
                (1..=256).contains(&concurrency),
                "must be from 1 to 256",
            )?,
            json_logs: config::choice_or(src, "LOG_FORMAT", &["text", "json"], "text")? == "json",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Aws {
        /// Create the tables and queues first (for emulators; in AWS, Terraform owns them).
        create_resources: bool,
        /// Rate limits in Redis (`REDIS_URL`), else in this process.
        redis: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_nothing() {
        let c = Config::from_source(&env(&[])).unwrap();
        assert_eq!((c.bind.to_string(), c.port), ("127.0.0.1".into(), 3000));
        assert_eq!(c.upstream, UpstreamConfig::Bundled);
        assert_eq!(c.worker_concurrency, 4);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("PORT", "http"),
            ("BIND", "localhost:3000"),
            ("FRESH_FOR", "a while"),
            ("RATE_LIMIT_FETCH", "10 per minute"),
            ("WORKER_CONCURRENCY", "0"),
            ("COUNTRIES_UPSTREAM", "v4"),
            ("RATE_LIMIT_ON_ERROR", "maybe"),
            ("LOG_FORMAT", "xml"),
            ("BACKEND", "gcp"),
            ("UPSTREAM_TIMEOUT", "-1s"),
        ] {
            let e = Config::from_source(&env(&[(var, value)])).unwrap_err();
            assert_eq!(e.var, var, "{e}");
        }
        let e = Config::from_source(&env(&[
            ("BACKEND", "aws"),
            ("AWS_CREATE_RESOURCES", "sure"),
        ]))
        .unwrap_err();
        assert_eq!(e.var, "AWS_CREATE_RESOURCES");
        let e = Config::from_source(&env(&[("COUNTRIES_UPSTREAM", "v5")])).unwrap_err();
        assert_eq!(e.var, "REST_COUNTRIES_API_KEY");
        let e = Config::from_source(&env(&[("COUNTRIES_UPSTREAM", "v3.1")])).unwrap_err();
        assert_eq!(e.var, "REST_COUNTRIES_URL");
    }

    #[test]
    fn v5_defaults_to_the_live_url() {
        let c = Config::from_source(&env(&[
            ("COUNTRIES_UPSTREAM", "V5"),
            ("REST_COUNTRIES_API_KEY", "k"),
        ]))
        .unwrap();
        match c.upstream {
            UpstreamConfig::V5 { base_url, .. } => {
                assert_eq!(base_url, countries_upstream::V5_DEFAULT_URL)
            }
            other => panic!("{other:?}"),
        }
    }
}
