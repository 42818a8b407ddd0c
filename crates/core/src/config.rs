//! Reading configuration values: every composition root reads its environment once at start-up through
//! these helpers, so that a bad value stops it with a message naming the variable.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {var}=`{value}`: {reason}")]
pub struct ConfigError {
    pub var: String,
    pub value: String,
    pub reason: String,
}

/// Where configuration comes from: the process environment, or a map in tests.
pub trait Source {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl Source for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// `name` parsed with `FromStr`, or `default` when unset.
pub fn parse_or<T>(src: &dyn Source, name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match src.var(name) {
        None => Ok(default),
        Some(value) => value.trim().parse().map_err(|e: T::Err| ConfigError {
            var: name.to_string(),
            reason: e.to_string(),
            value,
        }),
    }
}

/// A duration such as `24h`, `90s` or `1h 30m`, or `default` when unset.
pub fn duration_or(
    src: &dyn Source,
    name: &str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    Ok(parse_or::<humantime::Duration>(src, name, default.into())?.into())
}

/// One of `choices`, case-insensitively, or `default` when unset.
pub fn choice_or<'a>(
    src: &dyn Source,
    name: &str,
    choices: &[&'a str],
    default: &'a str,
) -> Result<&'a str, ConfigError> {
    let Some(value) = src.var(name) else {
        return Ok(default);
    };
    choices
        .iter()
        .find(|c| c.eq_ignore_ascii_case(value.trim()))
        .copied()
        .ok_or_else(|| ConfigError {
            var: name.to_string(),
            reason: format!("expected one of {}", choices.join(", ")),
            value,
        })
}

/// Checks a parsed value, so that the error names the variable.
pub fn check<T>(name: &str, value: T, ok: bool, reason: &str) -> Result<T, ConfigError>
where
    T: fmt::Display,
{
    if ok {
        Ok(value)
    } else {
        Err(ConfigError {
            var: name.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        })
    }
}

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

impl FromStr for Limit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (n, w) = s
            .split_once('/')
            .ok_or("expected REQUESTS/WINDOW, such as 10/1m")?;
        let requests: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` is not a whole number of requests"))?;
        let window: Duration = w
            .trim()
            .parse::<humantime::Duration>()
            .map_err(|e| format!("window `{w}`: {e}"))?
            .into();
        if requests == 0 || window.is_zero() {
            return Err("requests and window must be above zero".into());
        }
        if (window / requests).is_zero() {
            return Err("more than one request per nanosecond cannot be measured".into());
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
    fn errors_name_the_variable() {
        let e =
            duration_or(&env(&[("FRESH_FOR", "soon")]), "FRESH_FOR", Duration::ZERO).unwrap_err();
        assert_eq!(e.var, "FRESH_FOR");
        assert!(e.to_string().starts_with("invalid FRESH_FOR=`soon`"), "{e}");
        let e = choice_or(&env(&[("MODE", "x")]), "MODE", &["a", "b"], "a").unwrap_err();
        assert!(e.to_string().contains("expected one of a, b"));
        assert_eq!(
            choice_or(&env(&[("MODE", "B")]), "MODE", &["a", "b"], "a"),
            Ok("b")
        );
        assert_eq!(parse_or(&env(&[]), "N", 3u32), Ok(3));
    }
}
