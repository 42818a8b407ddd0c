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
        let body = self
            .http
            .get_json(&url, Some(&self.api_key), |v| v["errors"].is_array())
            .await?;
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
        fits_the_schema(code, &raw)?;
        Ok(Fetched {
            document: from_v5(&raw),
            raw,
            source: self.kind().to_string(),
        })
    }
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
