//! The operator key: what lets a request force a sync (`POST /sync?force=true`) sooner than the freshness
//! window allows. It comes from `OPERATOR_KEY`, or on AWS from the secret `OPERATOR_KEY_SECRET_ID` names,
//! which a person puts after the first deploy: read when a request first forces, and again while it has
//! no value, so that an instance started before it was put finds it.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use countries_core::ports::{Secret, Unanswered};
use countries_core::secret::AwaitedSecret;

use crate::error::ApiError;

/// Shorter keys would be guessable under the sync rate limit.
const SHORTEST: usize = 16;

#[derive(Clone, Default)]
pub struct OperatorKey(Kind);

#[derive(Clone, Default)]
enum Kind {
    /// Nothing can force a sync.
    #[default]
    None,
    Key(String),
    InSecret(Arc<AwaitedSecret>),
}

impl std::fmt::Debug for OperatorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never reaches a log line.
        f.write_str(match self.0 {
            Kind::None => "OperatorKey(none)",
            Kind::Key(_) => "OperatorKey(set)",
            Kind::InSecret(_) => "OperatorKey(in a secret)",
        })
    }
}

/// For configurations compared in tests: the same key, or the same secret.
impl PartialEq for OperatorKey {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Kind::None, Kind::None) => true,
            (Kind::Key(a), Kind::Key(b)) => a == b,
            (Kind::InSecret(a), Kind::InSecret(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl OperatorKey {
    /// No key: nothing can force a sync.
    pub fn none() -> Self {
        OperatorKey(Kind::None)
    }

    /// A key shorter than 16 characters is refused.
    pub fn new(key: &str) -> Result<Self, KeyTooShort> {
        let key = key.trim();
        if key.len() < SHORTEST {
            return Err(KeyTooShort);
        }
        Ok(OperatorKey(Kind::Key(key.to_string())))
    }

    /// The key in a secret that may be put later.
    pub fn in_secret(secret: Arc<dyn Secret>) -> Self {
        let checked = Arc::new(LongEnough(secret));
        OperatorKey(Kind::InSecret(Arc::new(AwaitedSecret::new(checked))))
    }

    /// `OPERATOR_KEY`, if set.
    pub fn from_source(
        src: &dyn countries_core::config::Source,
    ) -> Result<Self, countries_core::config::ConfigError> {
        const VAR: &str = "OPERATOR_KEY";
        match src.var(VAR) {
            None => Ok(OperatorKey::none()),
            Some(key) => OperatorKey::new(&key).map_err(|e| countries_core::config::ConfigError {
                var: VAR.into(),
                value: "(hidden)".into(),
                reason: e.to_string(),
            }),
        }
    }

    /// Whether the request may force: it carries the key as `Authorization: Bearer <key>`, compared in
    /// constant time. Without a key configured (or a secret with no value yet, or one too short to be
    /// safe), no request may.
    pub async fn admit(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let key = match &self.0 {
            Kind::None => None,
            Kind::Key(key) => Some(key.as_str()),
            Kind::InSecret(secret) => secret
                .value()
                .await
                .map_err(ApiError::OperatorKeyUnavailable)?,
        };
        let Some(key) = key else {
            return Err(ApiError::OperatorKeyNotConfigured);
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .unwrap_or_default();
        if same_key(given, key) {
            Ok(())
        } else {
            Err(ApiError::OperatorKeyRequired)
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 9110).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether `given` is the key, in time that tells nothing about either: their SHA-256 digests are
/// compared in constant time, so not even a length mismatch answers sooner.
fn same_key(given: &str, key: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let (given, key) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(key.as_bytes()),
    );
    given.as_slice().ct_eq(key.as_slice()).into()
}

#[derive(Debug, thiserror::Error)]
#[error("the operator key must be at least {SHORTEST} characters")]
pub struct KeyTooShort;

/// A secret's value counts only when it is long enough; a short one is refused (and logged) until it is
/// replaced, and never kept.
struct LongEnough(Arc<dyn Secret>);

#[async_trait::async_trait]
impl Secret for LongEnough {
    async fn read(&self) -> Result<Option<String>, Unanswered> {
        let value = self.0.read().await?;
        if value.as_ref().is_some_and(|v| v.len() < SHORTEST) {
            tracing::error!(
                "the operator key's secret holds a key shorter than {SHORTEST} characters: forcing is refused"
            );
            return Ok(None);
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;

    fn bearer(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    fn code(r: Result<(), ApiError>) -> &'static str {
        match r {
            Ok(()) => "admitted",
            Err(ApiError::OperatorKeyRequired) => "required",
            Err(ApiError::OperatorKeyNotConfigured) => "not configured",
            Err(ApiError::OperatorKeyUnavailable(_)) => "unavailable",
            Err(other) => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn only_the_exact_key_is_admitted() {
        let key = OperatorKey::new("0123456789abcdef").unwrap();
        for right in [
            "Bearer 0123456789abcdef",
            "bearer 0123456789abcdef",
            "BEARER  0123456789abcdef",
        ] {
            assert_eq!(code(key.admit(&bearer(right)).await), "admitted", "{right}");
        }
        for wrong in [
            "Basic 0123456789abcdef",
            "Bearer0123456789abcdef",
            "Bearer 0123456789abcdeX",
            "Bearer 0123456789abcde",
            "0123456789abcdef",
            "",
        ] {
            assert_eq!(code(key.admit(&bearer(wrong)).await), "required", "{wrong}");
        }
        let none = OperatorKey::none();
        assert_eq!(
            code(none.admit(&bearer("Bearer 0123456789abcdef")).await),
            "not configured"
        );
        assert!(OperatorKey::new("short").is_err());
        assert_eq!(format!("{key:?}"), "OperatorKey(set)");
    }

    struct Put(Mutex<Result<Option<String>, Unanswered>>);

    #[async_trait]
    impl Secret for Put {
        async fn read(&self) -> Result<Option<String>, Unanswered> {
            self.0.lock().unwrap().clone()
        }
    }

    #[tokio::test]
    async fn a_key_put_in_its_secret_later_is_found_by_the_next_request() {
        let secret = Arc::new(Put(Mutex::new(Ok(None))));
        let key = OperatorKey::in_secret(secret.clone());
        let right = bearer("Bearer 0123456789abcdef");
        assert_eq!(code(key.admit(&right).await), "not configured");
        *secret.0.lock().unwrap() = Err(Unanswered("throttled".into()));
        assert_eq!(code(key.admit(&right).await), "unavailable");
        *secret.0.lock().unwrap() = Ok(Some("short".into()));
        assert_eq!(code(key.admit(&right).await), "not configured");
        *secret.0.lock().unwrap() = Ok(Some("0123456789abcdef".into()));
        assert_eq!(code(key.admit(&bearer("Bearer nope")).await), "required");
        assert_eq!(code(key.admit(&right).await), "admitted");
    }
}
