//! Rate limits in Redis: one GCRA decision per request, made atomically by a Lua script, keyed by client
//! IP and route group, so every Lambda instance shares the same budget.

use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use countries_core::ratelimit::{Decision, LimiterError, RateLimiter, RateLimits, RouteGroup};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};
use tokio::sync::Mutex;

/// GCRA (the algorithm of redis-cell and governor): the key holds the "theoretical arrival time" in ms.
/// The time comes from Redis itself, so that instances with skewed clocks agree.
/// Returns {allowed, remaining, reset_after_ms, retry_after_ms}.
const GCRA: &str = r#"
local interval = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = interval * limit
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - window
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((now - allow_at) / interval), new_tat - now, 0}
"#;

#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `redis://host:6379` or, for ElastiCache in-transit encryption, `rediss://host:6379`.
    pub url: String,
    /// The AUTH token, kept out of the URL so that it never reaches a log line.
    pub auth_token: Option<String>,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    /// Prefixed to every key, so that environments can share a cluster.
    pub key_prefix: String,
}

pub struct RedisLimiter {
    client: Client,
    settings: RedisSettings,
    limits: RateLimits,
    script: Script,
    /// Built on first use and reused; `None` until Redis has been reached once, so that a Redis outage
    /// at start-up does not stop the API.
    conn: Mutex<Option<ConnectionManager>>,
}

impl RedisLimiter {
    pub fn new(settings: RedisSettings, limits: RateLimits) -> Result<Self, String> {
        let mut info: redis::ConnectionInfo = settings
            .url
            .as_str()
            .parse()
            .map_err(|e| format!("REDIS_URL: {e}"))?;
        if let Some(token) = &settings.auth_token {
            let redis = info.redis_settings().clone().set_password(token);
            info = info.set_redis_settings(redis);
        }
        let client = Client::open(info).map_err(|e| format!("REDIS_URL: {e}"))?;
        Ok(RedisLimiter {
            client,
            settings,
            limits,
            script: Script::new(GCRA),
            conn: Mutex::new(None),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, LimiterError> {
        let mut conn = self.conn.lock().await;
        if let Some(c) = conn.as_ref() {
            return Ok(c.clone());
        }
        // The manager reconnects by itself after this (also after the Lambda sandbox was frozen and the
        // socket went stale); retries are its job only in the background, never on a request's time.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.settings.connect_timeout))
            .set_response_timeout(Some(self.settings.command_timeout))
            .set_number_of_retries(1);
        let made = tokio::time::timeout(
            self.settings.connect_timeout,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        .map_err(|_| LimiterError("connecting to Redis timed out".into()))?
        .map_err(|e| LimiterError(format!("connecting to Redis: {e}")))?;
        *conn = Some(made.clone());
        Ok(made)
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, client: IpAddr, group: RouteGroup) -> Result<Decision, LimiterError> {
        let limit = self.limits.limit(group);
        let mut conn = self.connection().await?;
        let key = format!("{}rl:{}:{client}", self.settings.key_prefix, group.as_str());
        let interval_ms = limit.interval().as_millis().max(1) as u64;
        let mut invocation = self.script.key(key);
        invocation.arg(interval_ms).arg(limit.requests);
        let call = invocation.invoke_async::<(i64, i64, i64, i64)>(&mut conn);
        let (allowed, remaining, reset_ms, retry_ms) =
            tokio::time::timeout(self.settings.command_timeout, call)
                .await
                .map_err(|_| LimiterError("Redis did not answer in time".into()))?
                .map_err(|e| LimiterError(format!("Redis: {e}")))?;
        let ms = |v: i64| Duration::from_millis(v.max(0) as u64);
        Ok(Decision {
            allowed: allowed == 1,
            limit: limit.requests,
            remaining: remaining.clamp(0, i64::from(limit.requests)) as u32,
            reset_after: ms(reset_ms),
            retry_after: ms(retry_ms),
        })
    }
}
