//! `GET /country/{country}`: the stored document in the v3.1 shape, with `?fields=`, an ETag and 304s.

use std::collections::{HashMap, HashSet};
use std::hash::Hasher;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use countries_core::catalogue::field;
use countries_core::fnv::Fnv1a;
use countries_core::ports::UpstreamKind;
use serde_json::{Map, Value};

use super::{CountryErrors, CountryParam, CountryPath, Params, params};
use crate::AppState;
use crate::error::ApiError;

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CountryQuery {
    /// Comma-separated top-level fields to return, such as `name,capital` (of the v5 document with
    /// `format=v5`, such as `names,codes`); names the document lacks are ignored, as v3.1 did, and none
    /// means the whole document.
    fields: Option<String>,
    /// `v3.1` (default): the REST Countries v3.1 shape; `v5`: the document as REST Countries v5 sent it,
    /// for a country fetched from v5.
    #[param(pattern = "^(v3\\.1|v5)$")]
    format: Option<String>,
}

/// The stored country document, in the REST Countries v3.1 shape (or, with `format=v5`, as v5 sent it).
#[utoipa::path(get, path = "/country/{country}", operation_id = "country", tag = "countries",
    params(CountryPath, CountryQuery,
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer: 304 when unchanged.")),
    responses(
        (status = 200, description = "The REST Countries v3.1 document, or the v5 document with `format=v5`", body = Object,
         headers(
            ("ETag" = String, description = "Changes when the document does"),
            ("Last-Modified" = String, description = "When the upstream was asked"),
            ("X-Country-Source" = String, description = "The upstream kind: bundled, v3.1 or v5"),
         )),
        (status = 304, description = "Unchanged since the given ETag"),
        CountryErrors,
    )
)]
pub async fn get(
    State(app): State<AppState>,
    CountryParam(country): CountryParam,
    query: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = params(query)?;
    let format = Format::of(&params)?;
    let wanted = fields(&params);
    if let Format::V31 = format
        && let Some(response) = from_snapshot(&app, &country, wanted.as_ref(), &headers).await?
    {
        return Ok(response);
    }
    let record = app
        .reads
        .country(&country)
        .await
        .map_err(|e| ApiError::service(e, &app.links))?;
    let document = match format {
        Format::V31 => record.document,
        // Only a v5 upstream's raw document is in v5's shape; the others' is v3.1 data.
        Format::V5 if record.source == UpstreamKind::V5.as_str() => record.raw,
        Format::V5 => {
            return Err(ApiError::NoV5Form {
                code: record.code.to_string(),
                upstream: record.source,
            });
        }
    };
    let document = match wanted {
        None => document,
        Some(wanted) => select(&document, &wanted),
    };
    let body = serde_json::to_vec(&document).expect("a JSON value serialises");
    Ok(answer(body, record.fetched_at, record.source, &headers))
}

/// The document from the catalogue snapshot, when the country is in it: no store read. The snapshot is
/// at most `CATALOGUE_REFRESH` behind the catalogue item, which every stored fetch and sync updates.
async fn from_snapshot(
    app: &AppState,
    country: &str,
    wanted: Option<&HashSet<String>>,
    headers: &HeaderMap,
) -> Result<Option<Response>, ApiError> {
    let code = countries_core::ident::index()
        .resolve(country)
        .map_err(ApiError::Ident)?;
    let Ok(snapshot) = app.catalogue.snapshot().await else {
        return Ok(None);
    };
    let Some((at, version, source)) = snapshot.find(code) else {
        return Ok(None);
    };
    let fields: Option<Vec<usize>> = wanted.map(|w| w.iter().filter_map(|f| field(f)).collect());
    let mut body = String::new();
    snapshot.write(&mut body, at, fields.as_deref());
    let fetched_at = chrono::DateTime::from_timestamp_millis(version).unwrap_or_default();
    Ok(Some(answer(
        body.into_bytes(),
        fetched_at,
        source.to_string(),
        headers,
    )))
}

fn answer(
    body: Vec<u8>,
    fetched_at: chrono::DateTime<chrono::Utc>,
    source: String,
    headers: &HeaderMap,
) -> Response {
    let etag = format!("\"{:016x}\"", {
        let mut h = Fnv1a::default();
        h.write(&body);
        h.finish()
    });
    let last_modified = httpdate::fmt_http_date(fetched_at.into());
    let cache_headers = [
        (header::ETAG, etag.clone()),
        (header::LAST_MODIFIED, last_modified),
        (header::CACHE_CONTROL, "no-cache".to_string()),
    ];
    if matches_etag(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, cache_headers).into_response();
    }
    (
        cache_headers,
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::HeaderName::from_static("x-country-source"), source),
        ],
        body,
    )
        .into_response()
}

/// The shape `/country` answers in.
enum Format {
    V31,
    V5,
}

impl Format {
    fn of(params: &HashMap<String, String>) -> Result<Self, ApiError> {
        match params.get("format").map(String::as_str) {
            None | Some("v3.1") => Ok(Format::V31),
            Some("v5") => Ok(Format::V5),
            Some(other) => Err(ApiError::InvalidParameter {
                name: "format".into(),
                reason: format!("`{}` is not v3.1 or v5", super::shown(other, 40)),
            }),
        }
    }
}

/// `?fields=`: the top-level keys wanted, if any were named (`None`: the whole document). A set, so
/// that selecting costs a lookup per key of the document however long the list (a 21,000-name list
/// once cost twenty times a short one).
fn fields(params: &HashMap<String, String>) -> Option<HashSet<String>> {
    let wanted: HashSet<String> = params
        .get("fields")?
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    (!wanted.is_empty()).then_some(wanted)
}

fn select(document: &Value, wanted: &HashSet<String>) -> Value {
    let map: Map<String, Value> = document
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| wanted.contains(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(map)
}

pub(crate) fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}
