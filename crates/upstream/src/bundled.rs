use std::collections::HashMap;
use std::sync::OnceLock;

use async_trait::async_trait;
use countries_core::country::{CountryCode, Fetched, from_v31};
use countries_core::dataset;
use countries_core::ports::{CallGate, CatalogueFetch, Upstream, UpstreamError, UpstreamKind};
use serde_json::Value;

/// The data set in the repository as an upstream: the local default, no network.
#[derive(Default)]
pub struct Bundled {
    // Parsed on the first fetch, not at start-up: 1.4 MB of JSON the API process never needs.
    docs: OnceLock<HashMap<CountryCode, Value>>,
}

impl Bundled {
    pub fn new() -> Self {
        Self::default()
    }

    fn docs(&self) -> &HashMap<CountryCode, Value> {
        self.docs.get_or_init(|| {
            dataset::documents()
                .into_iter()
                .filter_map(|d| Some((d["cca2"].as_str()?.parse().ok()?, d)))
                .collect()
        })
    }
}

#[async_trait]
impl Upstream for Bundled {
    fn kind(&self) -> UpstreamKind {
        UpstreamKind::Bundled
    }

    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        let raw = self.docs().get(&code).cloned().ok_or_else(|| {
            UpstreamError::NotFound(format!("{code} is not in the bundled data set"))
        })?;
        Ok(Fetched {
            document: from_v31(&raw),
            raw,
            source: self.kind().to_string(),
        })
    }

    /// The whole data set, with no call.
    async fn catalogue(&self, _gate: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError> {
        let countries = dataset::documents()
            .into_iter()
            .filter_map(|raw| {
                let code: CountryCode = raw["cca2"].as_str()?.parse().ok()?;
                let fetched = Fetched {
                    document: from_v31(&raw),
                    raw,
                    source: self.kind().to_string(),
                };
                Some((code, fetched))
            })
            .collect();
        Ok(CatalogueFetch {
            countries,
            failed: Vec::new(),
            calls: 0,
        })
    }
}
