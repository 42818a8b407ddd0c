use async_trait::async_trait;
use countries_core::country::{CountryCode, Fetched, from_v31};
use countries_core::ports::{Upstream, UpstreamError};
use serde_json::Value;

use crate::http::{Http, HttpSettings};

/// A self-hosted REST Countries v3.1 server: `GET {base}/alpha/{code}`.
pub struct V31 {
    base_url: String,
    http: Http,
}

impl V31 {
    pub fn new(base_url: &str, http: &HttpSettings) -> Result<Self, String> {
        Ok(V31 {
            base_url: base_url.trim_end_matches('/').to_string(),
            http: Http::new(http)?,
        })
    }
}

#[async_trait]
impl Upstream for V31 {
    fn kind(&self) -> &'static str {
        "v3.1"
    }

    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        let url = format!("{}/alpha/{code}", self.base_url);
        let body = self
            .http
            .get_json(&url, None, |v| v["status"] == 404)
            .await?;
        // A list (the usual answer) or a bare object; the order of a list is arbitrary.
        let candidates: Vec<Value> = match body {
            Value::Array(items) => items,
            obj @ Value::Object(_) => vec![obj],
            other => {
                return Err(UpstreamError::Permanent(format!(
                    "upstream sent {other} where a country was expected"
                )));
            }
        };
        let raw = candidates
            .iter()
            .find(|d| {
                d["cca2"]
                    .as_str()
                    .is_some_and(|c| c.eq_ignore_ascii_case(code.as_str()))
            })
            .cloned()
            .ok_or_else(|| {
                UpstreamError::NotFound(format!("the v3.1 upstream has no country {code}"))
            })?;
        Ok(Fetched {
            document: from_v31(&raw),
            raw,
            source: self.kind().to_string(),
        })
    }
}
