use async_trait::async_trait;
use countries_core::country::{CountryCode, Fetched};
use countries_core::ports::{Upstream, UpstreamError};

/// The upstream of a process that never fetches (the api Lambda): it knows which kind the worker uses,
/// for `/health`, and refuses to be called.
pub struct Elsewhere {
    kind: &'static str,
}

impl Elsewhere {
    pub fn new(kind: &'static str) -> Self {
        Elsewhere { kind }
    }
}

#[async_trait]
impl Upstream for Elsewhere {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn fetch(&self, _: CountryCode) -> Result<Fetched, UpstreamError> {
        Err(UpstreamError::Permanent(
            "this process does not call the upstream; the worker does".into(),
        ))
    }
}
