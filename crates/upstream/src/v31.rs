use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use countries_core::country::{CountryCode, Fetched, V31_KEYS, from_v31};
use countries_core::metrics::Metrics;
use countries_core::ports::{CallGate, CatalogueFetch, Upstream, UpstreamError, UpstreamKind};
use serde_json::{Map, Value};

use crate::BuildError;
use crate::http::{Http, HttpSettings, contained, contained_text};

/// Fields per `/all` call: the last v3.1 server answers `/all` only with `fields`, 1 to 10 of them.
const FIELDS_PER_CALL: usize = 10;

/// A self-hosted REST Countries v3.1 server: `GET {base}/alpha/{code}`, and the catalogue through
/// `GET {base}/all?fields=...` in four calls (35 fields, 10 a call, `cca2` in each to join them).
pub struct V31 {
    base_url: String,
    http: Http,
}

impl V31 {
    pub fn new(base_url: &str, http: &HttpSettings) -> Result<Self, BuildError> {
        Ok(V31 {
            base_url: base_url.trim_end_matches('/').to_string(),
            http: Http::new(http)?,
        })
    }

    /// Counts the answers a person must act on (a wrong base URL) into `metrics`.
    pub fn counting(mut self, metrics: Arc<dyn Metrics>) -> Self {
        self.http.metrics = metrics;
        self
    }
}

#[async_trait]
impl Upstream for V31 {
    fn kind(&self) -> UpstreamKind {
        UpstreamKind::V31
    }

    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        self.fetch_one(code).await.map_err(|e| contained(e, None))
    }

    async fn catalogue(&self, gate: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError> {
        let mut fetch = self
            .all_fields(gate)
            .await
            .map_err(|e| contained(e, None))?;
        for m in &mut fetch.failed {
            *m = contained_text(m, None);
        }
        Ok(fetch)
    }
}

impl V31 {
    async fn fetch_one(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        let url = format!("{}/alpha/{code}", self.base_url);
        let body = self
            .http
            .get_json(&url, None, |v| v["status"] == 404)
            .await?;
        // A list (the usual answer) or a bare object; the order of a list is arbitrary.
        let candidates: Vec<Value> = match body {
            Value::Array(items) => items,
            obj @ Value::Object(_) => vec![obj],
            // Named by its kind: the value is the upstream's, of any size.
            other => {
                return Err(UpstreamError::Permanent(format!(
                    "upstream sent a JSON {} where a country was expected",
                    json_kind(&other)
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

    async fn all_fields(&self, gate: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError> {
        let others: Vec<&str> = V31_KEYS
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| *k != "cca2")
            .collect();
        let mut merged: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
        let mut calls = 0;
        for chunk in others.chunks(FIELDS_PER_CALL - 1) {
            gate.admit().await?;
            calls += 1;
            let url = format!("{}/all?fields=cca2,{}", self.base_url, chunk.join(","));
            let body = self.http.get_json(&url, None, |_| false).await?;
            let Value::Array(items) = body else {
                return Err(UpstreamError::Permanent(
                    "upstream sent something other than a list for /all".into(),
                ));
            };
            for item in items {
                let Value::Object(fields) = item else {
                    continue;
                };
                let Some(code) = fields.get("cca2").and_then(Value::as_str) else {
                    continue;
                };
                merged.entry(code.to_string()).or_default().extend(fields);
            }
        }
        let mut fetch = CatalogueFetch {
            calls,
            ..CatalogueFetch::default()
        };
        for (code, fields) in merged {
            match code.parse::<CountryCode>() {
                Ok(c) => {
                    let raw = Value::Object(fields);
                    let fetched = Fetched {
                        document: from_v31(&raw),
                        raw,
                        source: self.kind().to_string(),
                    };
                    fetch.countries.push((c, fetched));
                }
                Err(e) => fetch.failed.push(e.to_string()),
            }
        }
        Ok(fetch)
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
