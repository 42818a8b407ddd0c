use std::sync::Arc;

use async_trait::async_trait;
use countries_core::country::{CountryCode, Fetched};
use countries_core::metrics::Metrics;
use countries_core::ports::{CallGate, CatalogueFetch, Upstream, UpstreamError, UpstreamKind};
use serde_json::Value;

use super::Document;
use crate::BuildError;
use crate::http::{Http, HttpSettings, contained, contained_text, json_message};

/// Countries per list call: the free plan's largest page, so the catalogue is 3 calls.
const PAGE: usize = 100;
/// A bound on the list calls of one catalogue fetch, whatever `more` says.
const MOST_PAGES: usize = 10;

/// The live keyed API: `GET {base}/codes.alpha_2/{code}` with a bearer key, answers in the
/// `data.objects` envelope, mapped onto the v3.1 shape with the raw document kept; the catalogue is
/// `GET {base}?limit=100&offset=...` until `meta.more` is false.
pub struct V5 {
    base_url: String,
    api_key: String,
    http: Http,
}

impl V5 {
    pub fn new(base_url: &str, api_key: &str, http: &HttpSettings) -> Result<Self, BuildError> {
        Ok(V5 {
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key: api_key.to_string(),
            http: Http::new(http)?,
        })
    }

    /// Counts the answers a person must act on (a refused key, a wrong base URL) into `metrics`.
    pub fn counting(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.http.metrics = metrics;
        self
    }
}

#[async_trait]
impl Upstream for V5 {
    fn kind(&self) -> UpstreamKind {
        UpstreamKind::V5
    }

    // Every answer leaves through `contained`, whatever built its message: the key cannot slip out
    // through a message added later.
    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        self.fetch_one(code)
            .await
            .map_err(|e| contained(e, Some(&self.api_key)))
    }

    async fn catalogue(&self, gate: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError> {
        let mut fetch = self
            .all_pages(gate)
            .await
            .map_err(|e| contained(e, Some(&self.api_key)))?;
        for m in &mut fetch.failed {
            *m = contained_text(m, Some(&self.api_key));
        }
        Ok(fetch)
    }
}

impl V5 {
    async fn fetch_one(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        let url = format!("{}/codes.alpha_2/{code}", self.base_url);
        let body = self.get(&url).await?;
        let objects = objects(&body)?;
        let raw = objects
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
        self.mapped(code, raw)
    }

    async fn all_pages(&self, gate: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError> {
        let mut fetch = CatalogueFetch::default();
        for page in 0..MOST_PAGES {
            let offset = page * PAGE;
            let url = format!("{}?limit={PAGE}&offset={offset}", self.base_url);
            let result = match gate.admit().await {
                Ok(()) => {
                    fetch.calls += 1;
                    self.get(&url).await
                }
                Err(e) => Err(e),
            };
            let body = match result.and_then(|b| {
                let more = b["data"]["meta"]["more"] == Value::Bool(true);
                objects(&b).map(|o| (o.to_vec(), more))
            }) {
                Ok(body) => body,
                Err(e) if page == 0 => return Err(e),
                Err(e) => {
                    fetch
                        .failed
                        .push(format!("the page at offset {offset}: {e}"));
                    return Ok(fetch);
                }
            };
            let (objects, more) = body;
            for raw in objects {
                let code = raw["codes"]["alpha_2"]
                    .as_str()
                    .map(str::parse::<CountryCode>);
                match code {
                    Some(Ok(code)) => match self.mapped(code, raw) {
                        Ok(fetched) => fetch.countries.push((code, fetched)),
                        Err(e) => fetch.failed.push(format!("{code}: {e}")),
                    },
                    _ => fetch
                        .failed
                        .push(format!("a country at offset {offset} has no alpha-2 code")),
                }
            }
            if !more {
                return Ok(fetch);
            }
        }
        fetch.failed.push(format!(
            "the list had more than {} countries; the rest were not asked for",
            MOST_PAGES * PAGE
        ));
        Ok(fetch)
    }

    async fn get(&self, url: &str) -> Result<Value, UpstreamError> {
        self.http
            .get_json(url, Some(&self.api_key), |v| v["errors"].is_array())
            .await
    }

    /// The v3.1 form of a v5 document that fits v5's schema, annotations stripped.
    fn mapped(&self, code: CountryCode, mut raw: Value) -> Result<Fetched, UpstreamError> {
        if let Some(obj) = raw.as_object_mut() {
            obj.remove("_match");
            obj.remove("_meta");
        }
        let document = Document::read(&raw).map_err(|unfit| {
            UpstreamError::Permanent(format!(
                "the v5 document of {code} does not fit v5's schema {unfit}"
            ))
        })?;
        Ok(Fetched {
            document: document.to_v31(),
            raw,
            source: self.kind().to_string(),
        })
    }
}

/// The `data.objects` of a success envelope; an error envelope (which can come with 200, as
/// `"success": false`) is a permanent failure.
fn objects(body: &Value) -> Result<&[Value], UpstreamError> {
    if body["success"] == Value::Bool(false)
        || body["errors"].as_array().is_some_and(|e| !e.is_empty())
    {
        let m = json_message(body).unwrap_or_else(|| "error envelope without a message".into());
        return Err(UpstreamError::Permanent(format!("upstream error: {m}")));
    }
    body["data"]["objects"]
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| UpstreamError::Permanent("upstream sent no `data.objects` envelope".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_that_does_not_fit_is_refused_for_good_with_the_path() {
        let py = countries_core::dataset::documents()
            .into_iter()
            .find(|d| d["cca2"] == "PY")
            .unwrap();
        let client = V5::new("http://127.0.0.1:9", "rc_test", &HttpSettings::default()).unwrap();
        let code = "PY".parse().unwrap();
        let mut doc = countries_stub::v5::to_v5(&py);
        doc["_match"] = serde_json::json!({"score": 1});
        let fetched = client.mapped(code, doc.clone()).unwrap();
        assert!(fetched.raw.get("_match").is_none());
        doc["capitals"][0]["coordinates"]["lat"] = serde_json::json!("south");
        assert_eq!(
            client.mapped(code, doc.clone()),
            Err(UpstreamError::Permanent(
                "the v5 document of PY does not fit v5's schema at `capitals[0].coordinates.lat`: \
                 invalid value: string \"south\", expected a number, or a string holding one"
                    .into()
            ))
        );
        let mut doc = countries_stub::v5::to_v5(&py);
        doc.as_object_mut().unwrap().remove("assets");
        let refused = client.mapped(code, doc).unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("at `.`: missing field `assets`"),
            "{refused}"
        );
    }
}
