//! The operator key: what lets a request force a sync (`POST /sync?force=true`) sooner than the freshness
//! window allows. It comes from `OPERATOR_KEY`, or on AWS from the secret `OPERATOR_KEY_SECRET_ID` names.

use axum::http::{HeaderMap, header};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct OperatorKey(Option<String>);

impl std::fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never reaches a log line.
        f.write_str(if self.0.is_some() {
            "OperatorKey(set)"
        } else {
            "OperatorKey(none)"
        })
    }
}

impl OperatorKey {
    /// No key: nothing can force a sync.
    pub fn none() -> Self {
        OperatorKey(None)
    }

    /// A key shorter than 16 characters is refused: it would be guessable under the sync rate limit.
    pub fn new(key: &str) -> Result<Self, String> {
        let key = key.trim();
        if key.len() < 16 {
            return Err("the operator key must be at least 16 characters".into());
        }
        Ok(OperatorKey(Some(key.to_string())))
    }

    /// `OPERATOR_KEY`, if set.
    pub fn from_source(
        src: &dyn countries_core::config::Source,
    ) -> Result<Self, countries_core::config::ConfigError> {
        const VAR: &str = "OPERATOR_KEY";
        match src.var(VAR) {
            None => Ok(OperatorKey::none()),
            Some(key) => {
                OperatorKey::new(&key).map_err(|reason| countries_core::config::ConfigError {
                    var: VAR.into(),
                    value: "(hidden)".into(),
                    reason,
                })
            }
        }
    }

    /// Whether a key is configured at all: without one, forcing is refused whoever asks.
    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }

    /// Whether the request carries the key as `Authorization: Bearer <key>`, compared in constant time.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(key) = &self.0 else { return false };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        given.len() == key.len()
            && given
                .bytes()
                .zip(key.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn only_the_exact_key_is_admitted() {
        let key = OperatorKey::new("0123456789abcdef").unwrap();
        assert!(key.admits(&bearer("Bearer 0123456789abcdef")));
        for wrong in [
            "Bearer 0123456789abcdeX",
            "Bearer 0123456789abcde",
            "0123456789abcdef",
            "",
        ] {
            assert!(!key.admits(&bearer(wrong)), "{wrong}");
        }
        assert!(!OperatorKey::none().admits(&bearer("Bearer 0123456789abcdef")));
        assert!(OperatorKey::new("short").is_err());
        assert_eq!(format!("{key:?}"), "OperatorKey(set)");
    }
}
