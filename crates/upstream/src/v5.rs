use async_trait::async_trait;
use countries_core::country::{CountryCode, Fetched};
use countries_core::ports::{Upstream, UpstreamError};
use countries_core::v5::from_v5;
use serde_json::Value;

use crate::http::{Http, HttpSettings, json_message};

/// The live keyed API: `GET {base}/codes.alpha_2/{code}` with a bearer key, answers in the
/// `data.objects` envelope, mapped onto the v3.1 shape with the raw document kept.
pub struct V5 {
    base_url: String,
    api_key: String,
    http: Http,
}

impl V5 {
    pub fn new(base_url: &str, api_key: &str, http: &HttpSettings) -> Result<Self, String> {
        Ok(V5 {
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            http: Http::new(http)?,
        })
    }
}

#[async_trait]
impl Upstream for V5 {
    fn kind(&self) -> &'static str {
        "v5"
    }

    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        let url = format!("{}/codes.alpha_2/{code}", self.base_url);
        let body = self.http.get_json(&url, Some(&self.api_key)).await?;
        // An error envelope can come back with 200 (`"success": false`).
        if body["success"] == Value::Bool(false)
            || body["errors"].as_array().is_some_and(|e| !e.is_empty())
        {
            let m =
                json_message(&body).unwrap_or_else(|| "error envelope without a message".into());
            return Err(UpstreamError::Permanent(format!("upstream error: {m}")));
        }
        let Some(objects) = body["data"]["objects"].as_array() else {
            return Err(UpstreamError::Permanent(
                "upstream sent no `data.objects` envelope".into(),
            ));
        };
        let mut raw = objects
            .iter()
            .find(|d| {
                d["codes"]["alpha_2"]
                    .as_str()
                    .is_some_and(|c| c.eq_ignore_ascii_case(code.as_str()))
            })
            .cloned()
            .ok_or_else(|| {
                UpstreamError::NotFound(format!("the v5 upstream has no country {code}"))
            })?;
        if let Some(obj) = raw.as_object_mut() {
            obj.remove("_match");
            obj.remove("_meta");
        }
        Ok(Fetched {
            document: from_v5(&raw),
            raw,
            source: self.kind().to_string(),
        })
    }
}
