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

/// A secret setting's value (a password, a token): shown as `Hidden` by `Debug`, so that no derived
/// `Debug` of a configuration, no failed `assert_eq!` and no `?config` log field can print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Hidden(String);

impl Hidden {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hidden")
    }
}

impl From<String> for Hidden {
    fn from(value: String) -> Self {
        Hidden(value)
    }
}

impl From<&str> for Hidden {
    fn from(value: &str) -> Self {
        Hidden(value.to_string())
    }
}

/// `url` with any `user:password@` replaced by `(hidden)@`: how an error or a banner may show a URL.
pub fn without_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}(hidden){}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_string(),
    }
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

/// `[("NAME", "value"), ...]`: settings written out in place, as tests do.
impl<const N: usize> Source for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.as_slice().var(name)
    }
}

impl Source for Vec<(&str, &str)> {
    fn var(&self, name: &str) -> Option<String> {
        self.as_slice().var(name)
    }
}

impl Source for &[(&str, &str)] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
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

/// A variable that must be set; `reason` says what it is for.
pub fn required(src: &dyn Source, name: &str, reason: &str) -> Result<String, ConfigError> {
    src.var(name).ok_or_else(|| ConfigError {
        var: name.to_string(),
        value: String::new(),
        reason: reason.to_string(),
    })
}

/// A whole number within `range`, or `default` when unset.
pub fn number_in<T>(
    src: &dyn Source,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
    T::Err: fmt::Display,
{
    let value = parse_or(src, name, default)?;
    check(
        name,
        value,
        range.contains(&value),
        &format!("must be from {} to {}", range.start(), range.end()),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_variable() {
        let e = duration_or(&[("FRESH_FOR", "soon")], "FRESH_FOR", Duration::ZERO).unwrap_err();
        assert_eq!(e.var, "FRESH_FOR");
        assert!(e.to_string().starts_with("invalid FRESH_FOR=`soon`"), "{e}");
        let e = choice_or(&[("MODE", "x")], "MODE", &["a", "b"], "a").unwrap_err();
        assert!(e.to_string().contains("expected one of a, b"));
        assert_eq!(
            choice_or(&[("MODE", "B")], "MODE", &["a", "b"], "a"),
            Ok("b")
        );
        assert_eq!(parse_or(&[], "N", 3u32), Ok(3));
        for bad in ["0", "257", "-1", "four"] {
            let e = number_in(&[("N", bad)], "N", 4usize, 1..=256).unwrap_err();
            assert_eq!(e.var, "N", "{bad}");
        }
        assert_eq!(number_in(&[("N", "256")], "N", 4usize, 1..=256), Ok(256));
        let e = required(&[], "URL", "the queue's URL").unwrap_err();
        assert_eq!(e.to_string(), "invalid URL=``: the queue's URL");
    }
}
