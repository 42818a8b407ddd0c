//! The environment the AWS adapters read. Names are shared with Terraform (`terraform/`), and a contract
//! test holds the two to the same list.

use std::time::Duration;

use countries_core::config::{self, ConfigError, Hidden, Source};

pub const COUNTRIES_TABLE: &str = "COUNTRIES_TABLE";
pub const OPERATIONS_TABLE: &str = "OPERATIONS_TABLE";
pub const FETCH_QUEUE_URL: &str = "FETCH_QUEUE_URL";
pub const REDIS_URL: &str = "REDIS_URL";
pub const REDIS_AUTH_SECRET_ID: &str = "REDIS_AUTH_SECRET_ID";
pub const REDIS_AUTH_TOKEN: &str = "REDIS_AUTH_TOKEN";
pub const REDIS_CONNECT_TIMEOUT: &str = "REDIS_CONNECT_TIMEOUT";
pub const REDIS_COMMAND_TIMEOUT: &str = "REDIS_COMMAND_TIMEOUT";
pub const RATE_LIMIT_KEY_PREFIX: &str = "RATE_LIMIT_KEY_PREFIX";
pub const AWS_TRUST_SYSTEM_ROOTS: &str = "AWS_TRUST_SYSTEM_ROOTS";
pub const AWS_CONNECT_TIMEOUT: &str = "AWS_CONNECT_TIMEOUT";
pub const AWS_CALL_TIMEOUT: &str = "AWS_CALL_TIMEOUT";

fn required(src: &dyn Source, name: &str) -> Result<String, ConfigError> {
    config::required(src, name, "must be set")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub countries: String,
    pub operations: String,
    pub retention: Duration,
}

impl Tables {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Tables {
            countries: required(src, COUNTRIES_TABLE)?,
            operations: required(src, OPERATIONS_TABLE)?,
            retention: countries_core::operation::retention_from_source(src)?,
        })
    }
}

pub fn queue_url(src: &dyn Source) -> Result<String, ConfigError> {
    let url = required(src, FETCH_QUEUE_URL)?;
    config::check(
        FETCH_QUEUE_URL,
        url.clone(),
        url.starts_with("http"),
        "must be the queue's URL",
    )
}

/// The tables and the queue every AWS composition (both Lambdas, the local server in AWS mode) uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsEnv {
    pub tables: Tables,
    pub queue_url: String,
    /// `AWS_TRUST_SYSTEM_ROOTS=true`: trust the system's CA bundle instead of the Amazon roots compiled
    /// in (for a TLS-intercepting proxy or an emulator behind TLS).
    pub trust_system_roots: bool,
    pub timeouts: SdkTimeouts,
}

/// Deadlines of every DynamoDB, SQS and Secrets Manager call: `AWS_CONNECT_TIMEOUT` for a connection,
/// `AWS_CALL_TIMEOUT` for the whole call, the SDK's retries included. A hung endpoint then costs a
/// request at most a few calls' worth, well inside the api function's 10 s and API Gateway's 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkTimeouts {
    pub connect: Duration,
    pub call: Duration,
}

impl Default for SdkTimeouts {
    fn default() -> Self {
        SdkTimeouts {
            connect: Duration::from_secs(1),
            call: Duration::from_secs(2),
        }
    }
}

impl SdkTimeouts {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = SdkTimeouts::default();
        Ok(SdkTimeouts {
            connect: config::duration_or(src, AWS_CONNECT_TIMEOUT, d.connect)?,
            call: config::duration_or(src, AWS_CALL_TIMEOUT, d.call)?,
        })
    }
}

impl AwsEnv {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(AwsEnv {
            tables: Tables::from_source(src)?,
            queue_url: queue_url(src)?,
            trust_system_roots: config::parse_or(src, AWS_TRUST_SYSTEM_ROOTS, false)?,
            timeouts: SdkTimeouts::from_source(src)?,
        })
    }
}

/// Redis settings without the AUTH token, which comes from a secret (or `REDIS_AUTH_TOKEN` locally).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisEnv {
    pub url: String,
    pub auth_secret_id: Option<String>,
    pub auth_token: Option<Hidden>,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    pub key_prefix: String,
}

impl RedisEnv {
    /// `REDIS_URL` and the settings beside it; the URL is required.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let url = required(src, REDIS_URL)?;
        RedisEnv::at(src, url)
    }

    /// As `from_source`, with `None` when `REDIS_URL` is not set (the local server then limits in
    /// its own process).
    pub fn from_source_if_set(src: &dyn Source) -> Result<Option<Self>, ConfigError> {
        src.var(REDIS_URL)
            .map(|url| RedisEnv::at(src, url))
            .transpose()
    }

    fn at(src: &dyn Source, url: String) -> Result<Self, ConfigError> {
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(ConfigError {
                var: REDIS_URL.into(),
                value: config::without_userinfo(&url),
                reason: "must start with redis:// or rediss://".into(),
            });
        }
        Ok(RedisEnv {
            url,
            auth_secret_id: src.var(REDIS_AUTH_SECRET_ID),
            auth_token: src.var(REDIS_AUTH_TOKEN).map(Hidden::from),
            connect_timeout: config::duration_or(
                src,
                REDIS_CONNECT_TIMEOUT,
                Duration::from_millis(500),
            )?,
            command_timeout: config::duration_or(
                src,
                REDIS_COMMAND_TIMEOUT,
                Duration::from_millis(100),
            )?,
            key_prefix: src.var(RATE_LIMIT_KEY_PREFIX).unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// The Redis password reaches neither a `Debug` of the settings nor a configuration error (the
    /// security review's L6).
    #[test]
    fn the_redis_password_is_never_printed() {
        let src = HashMap::from([
            (REDIS_URL.to_string(), "rediss://cache:6379".to_string()),
            (
                REDIS_AUTH_TOKEN.to_string(),
                "pa55word-in-the-env".to_string(),
            ),
        ]);
        let env = RedisEnv::from_source(&src).unwrap();
        assert_eq!(
            env.auth_token.as_ref().unwrap().expose(),
            "pa55word-in-the-env"
        );
        assert!(!format!("{env:?}").contains("pa55word"), "{env:?}");

        let bad = HashMap::from([(
            REDIS_URL.to_string(),
            "http://user:pa55word-in-the-url@cache:6379".to_string(),
        )]);
        let e = RedisEnv::from_source(&bad).unwrap_err();
        assert!(!e.to_string().contains("pa55word"), "{e}");
        assert!(e.to_string().contains("http://(hidden)@cache:6379"), "{e}");
    }
}
