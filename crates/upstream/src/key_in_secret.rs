use std::sync::Arc;

use async_trait::async_trait;
use countries_core::country::{CountryCode, Fetched};
use countries_core::metrics::Metrics;
use countries_core::ports::{
    CallGate, CatalogueFetch, Secret, Upstream, UpstreamError, UpstreamKind,
};
use countries_core::secret::AwaitedSecret;
use tokio::sync::OnceCell;

use crate::{HttpSettings, V5};

/// v5 with its key in a secret that a person puts after the first deploy. The worker starts without it;
/// until it is put, every fetch and sync ends at once, calling nothing, with the error that says where
/// the key goes (permanent: nothing retries it). Once put, the next call finds it: no redeploy, no
/// new instance.
pub struct KeyInSecret {
    base_url: String,
    http: HttpSettings,
    key: AwaitedSecret,
    client: OnceCell<V5>,
    missing: String,
    metrics: Arc<dyn Metrics>,
}

impl KeyInSecret {
    pub fn new(
        base_url: &str,
        secret_id: &str,
        key: Arc<dyn Secret>,
        (http, metrics): (&HttpSettings, Arc<dyn Metrics>),
    ) -> Self {
        KeyInSecret {
            metrics,
            base_url: base_url.to_string(),
            http: http.clone(),
            key: AwaitedSecret::new(key),
            client: OnceCell::new(),
            missing: format!(
                "the REST Countries v5 key is not set: put it in secret `{secret_id}` (docs/operations.md)"
            ),
        }
    }

    async fn client(&self) -> Result<&V5, UpstreamError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let key = match self.key.value().await {
            Ok(Some(key)) => key,
            Ok(None) => {
                tracing::warn!("{}", self.missing);
                return Err(UpstreamError::Permanent(self.missing.clone()));
            }
            // Secrets Manager unreachable or throttled: worth another try.
            Err(e) => {
                return Err(UpstreamError::Retryable {
                    message: format!("reading the v5 key: {e}"),
                    retry_after: None,
                });
            }
        };
        let v5 = V5::new(&self.base_url, key, &self.http)
            .map_err(|e| UpstreamError::Permanent(e.to_string()))?
            .counting(self.metrics.clone());
        Ok(self.client.get_or_init(|| async { v5 }).await)
    }
}

#[async_trait]
impl Upstream for KeyInSecret {
    fn kind(&self) -> UpstreamKind {
        UpstreamKind::V5
    }

    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        self.client().await?.fetch(code).await
    }

    async fn catalogue(&self, gate: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError> {
        self.client().await?.catalogue(gate).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    struct Put(Mutex<Option<String>>);

    #[async_trait]
    impl Secret for Put {
        async fn read(&self) -> Result<Option<String>, countries_core::ports::Unanswered> {
            Ok(self.0.lock().unwrap().clone())
        }
    }

    struct NoCalls;

    #[async_trait]
    impl CallGate for NoCalls {
        async fn admit(&self) -> Result<(), UpstreamError> {
            panic!("a call was admitted without a key")
        }
    }

    #[tokio::test]
    async fn without_the_key_every_call_fails_permanently_naming_the_secret() {
        let secret = Arc::new(Put(Mutex::new(None)));
        // A closed port: a call that got through would fail otherwise than asserted.
        let up = KeyInSecret::new(
            "http://127.0.0.1:9",
            "countries-dev/rest-countries-api-key",
            secret.clone(),
            (
                &HttpSettings::default(),
                Arc::new(countries_core::metrics::Counted::default()),
            ),
        );
        for err in [
            up.fetch("PY".parse().unwrap()).await.unwrap_err(),
            up.catalogue(&NoCalls).await.unwrap_err(),
        ] {
            let UpstreamError::Permanent(m) = err else {
                panic!("{err:?} is not permanent")
            };
            assert!(m.contains("countries-dev/rest-countries-api-key"), "{m}");
        }
        // Put: the next call goes to the upstream (here a closed port: retryable, not "not set").
        *secret.0.lock().unwrap() = Some("rc_live_key".into());
        let err = up.fetch("PY".parse().unwrap()).await.unwrap_err();
        assert!(matches!(err, UpstreamError::Retryable { .. }), "{err:?}");
    }
}
