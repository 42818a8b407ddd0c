use std::sync::Arc;

use async_trait::async_trait;
use countries_core::country::{CountryCode, Fetched};
use countries_core::metrics::Metrics;
use countries_core::ports::{CallGate, CatalogueFetch, Upstream, UpstreamError};
use countries_core::v5::from_v5;
use serde_json::Value;

use crate::http::{Http, HttpSettings, json_message};

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
    pub fn new(base_url: &str, api_key: &str, http: &HttpSettings) -> Result<Self, String> {
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
    fn kind(&self) -> &'static str {
        "v5"
    }

    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
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

    async fn catalogue(&self, gate: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError> {
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
}

impl V5 {
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
        fits_the_schema(code, &raw)?;
        Ok(Fetched {
            document: from_v5(&raw),
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

fn fits_the_schema(code: CountryCode, raw: &Value) -> Result<(), UpstreamError> {
    serde_path_to_error::deserialize::<_, schema::Document>(raw)
        .map(|_| ())
        .map_err(|e| {
            UpstreamError::Permanent(format!(
                "the v5 document of {code} does not fit v5's schema at `{}`: {}",
                e.path(),
                e.inner()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_that_does_not_fit_is_refused_with_the_path() {
        let py = countries_core::dataset::documents()
            .into_iter()
            .find(|d| d["cca2"] == "PY")
            .unwrap();
        let mut doc = countries_stub::v5::to_v5(&py);
        let code = "PY".parse().unwrap();
        assert_eq!(fits_the_schema(code, &doc), Ok(()));
        doc["capitals"][0]["coordinates"]["lat"] = serde_json::json!("south");
        match fits_the_schema(code, &doc) {
            Err(UpstreamError::Permanent(m)) => {
                assert!(m.contains("`capitals[0].coordinates.lat`"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        doc.as_object_mut().unwrap().remove("codes");
        assert!(fits_the_schema(code, &doc).is_err());
    }
}

/// v5's schema, as far as the mapping reads it. The fields are read by serde only, for their types.
mod schema {
    #![allow(dead_code)]

    use std::collections::HashMap;

    use serde::Deserialize;

    /// The part of v5's country schema the mapping reads, with its types: a document that does not fit is
    /// refused with the path of what does not. Keys v5 adds later are accepted (kept in the raw document).
    #[derive(Deserialize)]
    pub(super) struct Document {
        names: Names,
        codes: Codes,
        capitals: Vec<Capital>,
        flag: Flag,
        region: String,
        subregion: String,
        area: Area,
        assets: Vec<String>,
        borders: Vec<String>,
        calling_codes: Vec<String>,
        cars: Cars,
        classification: Classification,
        continents: Vec<String>,
        coordinates: LatLng,
        currencies: Vec<Currency>,
        date: Date,
        demonyms: HashMap<String, Demonym>,
        economy: Economy,
        landlocked: bool,
        languages: Vec<Language>,
        links: Links,
        population: f64,
        postal_code: PostalCode,
        timezones: Vec<String>,
        tlds: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Names {
        common: String,
        official: String,
        alternates: Vec<String>,
        native: HashMap<String, Localized>,
        translations: HashMap<String, Localized>,
    }

    #[derive(Deserialize)]
    struct Localized {
        common: String,
        official: String,
    }

    #[derive(Deserialize)]
    struct Codes {
        alpha_2: String,
        alpha_3: String,
        ccn3: String,
        cioc: String,
        fifa: String,
    }

    #[derive(Deserialize)]
    struct Capital {
        name: String,
        coordinates: LatLng,
        attributes: CapitalAttributes,
    }

    #[derive(Deserialize)]
    struct CapitalAttributes {
        primary: bool,
    }

    #[derive(Deserialize)]
    struct LatLng {
        lat: f64,
        lng: f64,
    }

    #[derive(Deserialize)]
    struct Flag {
        description: String,
        emoji: String,
        url_png: String,
        url_svg: String,
    }

    #[derive(Deserialize)]
    struct Area {
        kilometers: f64,
    }

    #[derive(Deserialize)]
    struct Cars {
        driving_side: String,
        signs: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Classification {
        iso_status: String,
        sovereign: bool,
        un_member: bool,
    }

    #[derive(Deserialize)]
    struct Currency {
        code: String,
        name: String,
        symbol: String,
    }

    #[derive(Deserialize)]
    struct Date {
        start_of_week: String,
    }

    #[derive(Deserialize)]
    struct Demonym {
        f: String,
        m: String,
    }

    #[derive(Deserialize)]
    struct Economy {
        gini_coefficient: HashMap<String, f64>,
    }

    #[derive(Deserialize)]
    struct Language {
        iso639_3: String,
        name: String,
    }

    #[derive(Deserialize)]
    struct Links {
        google_maps: String,
        open_street_maps: String,
    }

    #[derive(Deserialize)]
    struct PostalCode {
        format: String,
        regex: String,
    }
}
