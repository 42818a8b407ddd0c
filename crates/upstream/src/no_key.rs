use async_trait::async_trait;
use countries_core::country::{CountryCode, Fetched};
use countries_core::ports::{CallGate, CatalogueFetch, Upstream, UpstreamError};

/// v5 before its key is put: the worker starts on the first deploy, and every fetch and sync ends at
/// once, calling nothing, with the error that says where the key goes. Permanent, so nothing retries
/// it; the fetch that comes after the key is put succeeds.
pub struct NoKey {
    message: String,
}

impl NoKey {
    pub fn new(secret_id: &str) -> Self {
        NoKey {
            message: format!(
                "the REST Countries v5 key is not set: put it in secret `{secret_id}` (docs/operations.md)"
            ),
        }
    }
}

#[async_trait]
impl Upstream for NoKey {
    fn kind(&self) -> &'static str {
        "v5"
    }

    async fn fetch(&self, _: CountryCode) -> Result<Fetched, UpstreamError> {
        Err(UpstreamError::Permanent(self.message.clone()))
    }

    async fn catalogue(&self, _: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError> {
        Err(UpstreamError::Permanent(self.message.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoCalls;

    #[async_trait]
    impl CallGate for NoCalls {
        async fn admit(&self) -> Result<(), UpstreamError> {
            panic!("a call was admitted without a key")
        }
    }

    #[tokio::test]
    async fn every_call_fails_permanently_naming_the_secret_and_spends_nothing() {
        let up = NoKey::new("countries-dev/rest-countries-api-key");
        for err in [
            up.fetch("PY".parse().unwrap()).await.unwrap_err(),
            up.catalogue(&NoCalls).await.unwrap_err(),
        ] {
            let UpstreamError::Permanent(m) = err else {
                panic!("{err:?} is not permanent")
            };
            assert!(m.contains("countries-dev/rest-countries-api-key"), "{m}");
        }
    }
}
