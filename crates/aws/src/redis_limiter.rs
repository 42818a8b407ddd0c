//! Rate limits in Redis: one GCRA decision per request, made atomically by a Lua script, keyed by client
//! IP and route group, so every Lambda instance shares the same budget.

use std::net::IpAddr;
use std::time::Duration;

use std::sync::Mutex;

use async_trait::async_trait;
use countries_core::config::{ConfigError, Hidden};
use countries_core::ports::Unanswered;
use countries_core::ratelimit::{Decision, LimiterError, RateLimiter, RateLimits, RouteGroup};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ErrorKind, RedisError, Script};

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
    pub auth_token: Option<Hidden>,
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
    conn: Mutex<Conn>,
}

type Connecting = Shared<BoxFuture<'static, Result<ConnectionManager, LimiterError>>>;

/// The connection, built on first use and reused (a Redis outage at start-up does not stop the API).
/// Requests that find it being built wait for that one attempt, each at most the connect timeout,
/// instead of queueing for attempts of their own.
enum Conn {
    Idle,
    Connecting(Connecting),
    Ready(ConnectionManager),
}

/// Why one script call failed.
enum CallError {
    TimedOut,
    Redis(RedisError),
}

impl CallError {
    /// The connection broke under the call (Redis restarted, the sandbox was frozen): the connection
    /// manager is already replacing it, so the call is worth one more try.
    fn connection_lost(&self) -> bool {
        matches!(self, CallError::Redis(e) if e.is_connection_dropped() || e.is_io_error() || e.is_connection_refusal())
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::TimedOut => f.write_str("Redis did not answer in time"),
            CallError::Redis(e) => write!(f, "Redis: {e}"),
        }
    }
}

impl From<CallError> for LimiterError {
    /// An answer of the wrong shape is the script's or the server's fault, not a passing outage.
    fn from(e: CallError) -> Self {
        match &e {
            CallError::Redis(r) if r.kind() == ErrorKind::UnexpectedReturnType => {
                LimiterError::Corrupt(e.to_string())
            }
            _ => LimiterError::Unavailable(e.to_string()),
        }
    }
}

impl RedisLimiter {
    pub fn new(settings: RedisSettings, limits: RateLimits) -> Result<Self, ConfigError> {
        let invalid = |e: RedisError| ConfigError {
            var: crate::config::REDIS_URL.into(),
            value: countries_core::config::without_userinfo(&settings.url),
            reason: e.to_string(),
        };
        let mut info: redis::ConnectionInfo = settings.url.as_str().parse().map_err(invalid)?;
        if let Some(token) = &settings.auth_token {
            let redis = info.redis_settings().clone().set_password(token.expose());
            info = info.set_redis_settings(redis);
        }
        let client = Client::open(info).map_err(invalid)?;
        Ok(RedisLimiter {
            client,
            settings,
            limits,
            script: Script::new(GCRA),
            conn: Mutex::new(Conn::Idle),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, LimiterError> {
        let attempt = {
            let mut state = self.conn.lock().expect("never poisoned");
            match &*state {
                Conn::Ready(c) => return Ok(c.clone()),
                Conn::Connecting(attempt) => attempt.clone(),
                Conn::Idle => {
                    let attempt = self.connect().boxed().shared();
                    *state = Conn::Connecting(attempt.clone());
                    attempt
                }
            }
        };
        let made = attempt.await;
        let mut state = self.conn.lock().expect("never poisoned");
        if matches!(*state, Conn::Connecting(_)) {
            *state = match &made {
                Ok(c) => Conn::Ready(c.clone()),
                Err(_) => Conn::Idle,
            };
        }
        made
    }

    /// One connection attempt, bounded by the connect timeout. The manager reconnects by itself after
    /// this (also after the Lambda sandbox was frozen and the socket went stale).
    fn connect(
        &self,
    ) -> impl Future<Output = Result<ConnectionManager, LimiterError>> + Send + 'static {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.settings.connect_timeout))
            .set_response_timeout(Some(self.settings.command_timeout))
            .set_number_of_retries(1);
        let (client, timeout) = (self.client.clone(), self.settings.connect_timeout);
        async move {
            tokio::time::timeout(timeout, ConnectionManager::new_with_config(client, config))
                .await
                .map_err(|_| LimiterError::Unavailable("connecting to Redis timed out".into()))?
                .map_err(|e| LimiterError::Unavailable(format!("connecting to Redis: {e}")))
        }
    }

    async fn call(
        &self,
        conn: &mut ConnectionManager,
        key: &str,
        interval_ms: u64,
        requests: u32,
    ) -> Result<(i64, i64, i64, i64), CallError> {
        let mut invocation = self.script.key(key);
        invocation.arg(interval_ms).arg(requests);
        tokio::time::timeout(self.settings.command_timeout, invocation.invoke_async(conn))
            .await
            .map_err(|_| CallError::TimedOut)?
            .map_err(CallError::Redis)
    }
}

/// PING on the limiter's connection (its ACL allows it), within the connect and command timeouts.
#[async_trait]
impl countries_core::ports::Probe for RedisLimiter {
    async fn probe(&self) -> Result<(), Unanswered> {
        let unanswered = |e: &dyn std::fmt::Display| Unanswered(e.to_string());
        let mut conn = self.connection().await.map_err(|e| unanswered(&e))?;
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(self.settings.command_timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(unanswered(&CallError::Redis(e))),
            Err(_) => Err(unanswered(&CallError::TimedOut)),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, client: IpAddr, group: RouteGroup) -> Result<Decision, LimiterError> {
        let limit = self.limits.limit(group);
        let mut conn = self.connection().await?;
        let key = format!("{}rl:{}:{client}", self.settings.key_prefix, group.as_str());
        let interval_ms = limit.interval().as_millis().max(1) as u64;
        let answer = match self
            .call(&mut conn, &key, interval_ms, limit.requests)
            .await
        {
            Err(e) if e.connection_lost() => {
                self.call(&mut conn, &key, interval_ms, limit.requests)
                    .await
            }
            other => other,
        };
        let (allowed, remaining, reset_ms, retry_ms) = answer?;
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
