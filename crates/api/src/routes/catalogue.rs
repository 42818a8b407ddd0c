//! `GET /countries`: the catalogue searched, filtered, sorted and paged, from the snapshot.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query as AxumQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use countries_core::catalogue::query::Query;

use super::country::matches_etag;
use crate::AppState;
use crate::error::ApiError;

/// One page of `/countries` (written as text by the handler: the documents are copied from the snapshot).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct CountriesPage {
    /// Countries matching the query.
    total: usize,
    /// Countries on this page.
    count: usize,
    /// The next page's cursor; null on the last page.
    cursor: Option<String>,
    countries: Vec<super::v31::CountryV31>,
}

/// `/countries`' parameters; their lengths, patterns and bounds come from the parser's own constants
/// (`openapi::ParameterRules`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CountriesQuery {
    /// Region, whole, case- and accent-insensitive (`Europe`).
    region: Option<String>,
    /// Subregion, whole (`South America`).
    subregion: Option<String>,
    /// One of the country's continents, whole (`Africa`).
    continent: Option<String>,
    /// A currency code (`EUR`) or words of its name (`euro`).
    currency: Option<String>,
    /// A language's ISO 639-3 code (`grn`) or its English name (`Guaraní`).
    language: Option<String>,
    independent: Option<bool>,
    #[param(rename = "unMember")]
    un_member: Option<bool>,
    landlocked: Option<bool>,
    /// An international calling code, with or without `+` (`595`, `+1`).
    #[param(rename = "callingCode", pattern = "^\\+?[0-9]{1,6}$")]
    calling_code: Option<String>,
    /// Name search: partial, case- and accent-insensitive, over common, official, alternate, native and
    /// translated names; best match first (the whole name, then its beginning, then whole words, then part
    /// of a word; the English common name before the official one, then alternate, native and translated
    /// names).
    q: Option<String>,
    /// Comma-separated top-level fields of the v3.1 document (`name,capital`), no spaces.
    fields: Option<String>,
    /// `name`, `population` or `area`; a leading `-` sorts descending. Default: by name, or by relevance
    /// with `q`.
    #[param(pattern = "^-?(name|population|area)$")]
    sort: Option<String>,
    /// Countries per page, 1 to 250 (default 50).
    limit: Option<u32>,
    /// The `cursor` of the previous page's answer.
    #[param(pattern = "^[0-9a-f]{24}$")]
    cursor: Option<String>,
}

#[utoipa::path(get, path = "/countries", operation_id = "countries", tag = "catalogue",
    params(CountriesQuery,
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer: 304 when unchanged.")),
    responses(
        (status = 200, description = "One page: `total` matches, `count` here, the `countries` (v3.1 documents, or their `fields`), and the `cursor` of the next page (null on the last)",
         content_type = "application/json", body = CountriesPage,
         headers(("ETag" = String, description = "Changes when the catalogue or the query does"))),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 400, description = "`InvalidParameter`, naming the parameter", body = crate::error::ErrorBody),
        (status = 409, description = "`CursorMismatch`: the cursor came from a query with other parameters", body = crate::error::ErrorBody),
        (status = 429, description = "`RateLimited`", body = crate::error::ErrorBody),
        (status = 503, description = "`ServiceUnavailable`", body = crate::error::ErrorBody),
    ))]
/// Search, filter, sort and page the catalogue.
pub async fn list(
    State(app): State<AppState>,
    pairs: Result<AxumQuery<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let AxumQuery(pairs) = pairs.map_err(|e| ApiError::InvalidParameter {
        name: "query".into(),
        reason: e.body_text(),
    })?;
    let query = Query::parse(&pairs).map_err(|e| match e.foreign_cursor {
        true => ApiError::CursorMismatch(e.reason),
        false => ApiError::InvalidParameter {
            name: e.name,
            reason: e.reason,
        },
    })?;
    let snapshot = app.catalogue.snapshot().await.map_err(ApiError::from)?;
    let etag = format!("\"{:x}-{}\"", snapshot.revision, query.page_fingerprint());
    let cache_headers = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_string()),
    ];
    if matches_etag(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache_headers).into_response());
    }
    let page = query.run(&snapshot);
    let countries = snapshot.array(&page.indices, query.fields.as_deref());
    let cursor = page
        .next
        .as_ref()
        .map_or("null".to_string(), |c| format!("\"{c}\""));
    let body = format!(
        "{{\"total\":{},\"count\":{},\"cursor\":{cursor},\"countries\":{countries}}}",
        page.total,
        page.indices.len()
    );
    Ok((
        cache_headers,
        [(header::CONTENT_TYPE, "application/json".to_string())],
        body,
    )
        .into_response())
}
