//! Rate limiting, all in one place: the limit a setting names, the route groups that have one each,
//! a limiter's decision, the port a limiter implements, and what to do when it cannot answer.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::{self, ConfigError, Source};

/// A rate limit, `REQUESTS/WINDOW`: `10/1m` allows bursts of 10 and refills one every 6 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub requests: u32,
    pub window: Duration,
}

impl Limit {
    pub fn new(requests: u32, window: Duration) -> Self {
        Limit { requests, window }
    }

    /// The time one request's share of the window takes to come back.
    pub fn interval(&self) -> Duration {
        self.window / self.requests
    }
}

/// Why a limit's text (`REQUESTS/WINDOW`) is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidLimit(String);

impl FromStr for Limit {
    type Err = InvalidLimit;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: String| InvalidLimit(reason);
        let (n, w) = s
            .split_once('/')
            .ok_or_else(|| invalid("expected REQUESTS/WINDOW, such as 10/1m".into()))?;
        let requests: u32 = n
            .trim()
            .parse()
            .map_err(|_| invalid(format!("`{n}` is not a whole number of requests")))?;
        let window: Duration = w
            .trim()
            .parse::<humantime::Duration>()
            .map_err(|e| invalid(format!("window `{w}`: {e}")))?
            .into();
        if requests == 0 || window.is_zero() {
            return Err(invalid("requests and window must be above zero".into()));
        }
        if (window / requests).is_zero() {
            return Err(invalid(
                "more than one request per nanosecond cannot be measured".into(),
            ));
        }
        Ok(Limit { requests, window })
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.requests,
            humantime::format_duration(self.window)
        )
    }
}

/// Which limit a request counts against: fetches cost upstream quota, so they are limited harder, and
/// `POST /sync` hardest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteGroup {
    Fetch,
    Read,
    Sync,
}

impl RouteGroup {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteGroup::Fetch => "fetch",
            RouteGroup::Read => "read",
            RouteGroup::Sync => "sync",
        }
    }
}

/// A limiter's answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left right now, after this one.
    pub remaining: u32,
    /// Until the full limit is available again.
    pub reset_after: Duration,
    /// When denied: until the next request would be admitted.
    pub retry_after: Duration,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimiterError {
    /// The limiter is down or slow: the same call may work later.
    #[error("rate limiter unavailable: {0}")]
    Unavailable(String),
    /// The limiter answered something this code cannot read.
    #[error("rate limiter answer unusable: {0}")]
    Corrupt(String),
}

#[async_trait]
pub trait RateLimiter: Send + Sync {
    async fn check(&self, client: IpAddr, group: RouteGroup) -> Result<Decision, LimiterError>;
}

/// What to do when the rate limiter cannot answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimiterPolicy {
    /// Admit the request (and log a warning): the limiter protects, it must not take the API down.
    Open,
    /// Refuse with 503.
    Closed,
}

/// The per-client limits and the failure policy: `RATE_LIMIT_FETCH`, `RATE_LIMIT_READ`,
/// `RATE_LIMIT_SYNC`, `RATE_LIMIT_ON_ERROR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub fetch: Limit,
    pub read: Limit,
    pub sync: Limit,
    pub on_error: LimiterPolicy,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            fetch: Limit::new(10, Duration::from_secs(60)),
            read: Limit::new(300, Duration::from_secs(60)),
            sync: Limit::new(3, Duration::from_secs(3600)),
            on_error: LimiterPolicy::Open,
        }
    }
}

impl RateLimits {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = RateLimits::default();
        let on_error =
            match config::choice_or(src, "RATE_LIMIT_ON_ERROR", &["open", "closed"], "open")? {
                "closed" => LimiterPolicy::Closed,
                _ => LimiterPolicy::Open,
            };
        Ok(RateLimits {
            fetch: config::parse_or(src, "RATE_LIMIT_FETCH", d.fetch)?,
            read: config::parse_or(src, "RATE_LIMIT_READ", d.read)?,
            sync: config::parse_or(src, "RATE_LIMIT_SYNC", d.sync)?,
            on_error,
        })
    }

    pub fn limit(&self, group: RouteGroup) -> Limit {
        match group {
            RouteGroup::Fetch => self.fetch,
            RouteGroup::Read => self.read,
            RouteGroup::Sync => self.sync,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse() {
        assert_eq!(
            "10/1m".parse::<Limit>().unwrap(),
            Limit::new(10, Duration::from_secs(60))
        );
        assert_eq!(
            "10/1m".parse::<Limit>().unwrap().interval(),
            Duration::from_secs(6)
        );
        for bad in ["10", "0/1m", "10/0s", "x/1m", "10/soon", "2000000000/1s"] {
            assert!(bad.parse::<Limit>().is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_default_and_name_the_bad_variable() {
        assert_eq!(
            RateLimits::from_source(&std::collections::HashMap::new()).unwrap(),
            RateLimits::default()
        );
        let closed = RateLimits::from_source(&[("RATE_LIMIT_ON_ERROR", "Closed")]).unwrap();
        assert_eq!(closed.on_error, LimiterPolicy::Closed);
        for var in [
            "RATE_LIMIT_FETCH",
            "RATE_LIMIT_READ",
            "RATE_LIMIT_SYNC",
            "RATE_LIMIT_ON_ERROR",
        ] {
            let e = RateLimits::from_source(&[(var, "lots")]).unwrap_err();
            assert_eq!(e.var, var);
        }
    }
}
