//! The handlers: each resolves its inputs, calls one use case, and shapes the response.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use countries_core::country::{V31_KEYS, is_v31_key};
use countries_core::ops::{OpState, Operation};
use countries_core::service::FetchOutcome;
use serde::Serialize;
use serde_json::{Map, Value};
use tracing::Span;
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

/// The `{country}` path segment, percent-decoded; a segment that does not decode is an invalid country.
pub struct CountryParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CountryParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(country) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadPath(e.body_text()))?;
        Span::current().record("country", country.as_str());
        Ok(CountryParam(country))
    }
}

type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

fn params(p: Params) -> Result<HashMap<String, String>, ApiError> {
    p.map(|Query(q)| q).map_err(|e| ApiError::InvalidParameter {
        name: "query",
        reason: e.body_text(),
    })
}

fn flag(params: &HashMap<String, String>, name: &'static str) -> Result<bool, ApiError> {
    match params.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("" | "true" | "1" | "yes") => Ok(true),
        Some(other) => Err(ApiError::InvalidParameter {
            name,
            reason: format!("`{other}` is not true or false"),
        }),
    }
}

/// A fetch was queued, or joined one already in flight.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FetchAccepted {
    pub request_id: Uuid,
    #[schema(example = "PY")]
    pub country: String,
    pub state: OpState,
    pub requested_at: DateTime<Utc>,
    /// True when an operation already in flight answered instead of a new one.
    pub deduplicated: bool,
    #[schema(example = "/status/PY")]
    pub status_url: String,
}

/// The stored document is fresh: nothing was queued.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FetchFresh {
    /// Always `fresh`.
    #[schema(example = "fresh")]
    pub state: &'static str,
    #[schema(example = "PY")]
    pub country: String,
    pub fetched_at: DateTime<Utc>,
    pub fresh_until: DateTime<Utc>,
    #[schema(example = "/country/PY")]
    pub country_url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusBody {
    #[schema(example = "PY")]
    pub country: String,
    /// Newest first.
    pub operations: Vec<Operation>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// The upstream kind the worker fetches from.
    #[schema(example = "bundled")]
    pub upstream: &'static str,
}

/// Queue a fetch of one country from the upstream.
#[utoipa::path(
    get,
    path = "/fetch/{country}",
    operation_id = "fetch",
    tag = "countries",
    params(
        ("country" = String, Path, description = "Any common identifier: alpha-2, alpha-3, ISO numeric, IOC code, or a name (common, official, alternate, native, translated), case-insensitive, accents optional, dashes for spaces.", example = "paraguay"),
        ("force" = Option<bool>, Query, description = "Queue a fetch even when the stored document is fresh."),
    ),
    responses(
        (status = 202, description = "Queued, or already in flight (`deduplicated`)", body = FetchAccepted,
         headers(("Location" = String, description = "The status URL"))),
        (status = 200, description = "The stored document is fresh; nothing was queued", body = FetchFresh),
        (status = 400, description = "`InvalidCountry`, `AmbiguousCountry` or `InvalidParameter`", body = ErrorBody),
        (status = 404, description = "`UnknownCountry`", body = ErrorBody),
        (status = 429, description = "`RateLimited`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`ServiceUnavailable`: the store or the queue cannot be reached", body = ErrorBody),
    )
)]
pub async fn fetch(
    State(app): State<AppState>,
    CountryParam(country): CountryParam,
    query: Params,
) -> Result<Response, ApiError> {
    let force = flag(&params(query)?, "force")?;
    Ok(match app.service.request_fetch(&country, force).await? {
        FetchOutcome::Accepted { op, deduplicated } => {
            let status_url = format!("{}/status/{}", app.base_path, op.country);
            let location = HeaderValue::from_str(&status_url).expect("a path is a valid header");
            let body = FetchAccepted {
                request_id: op.request_id,
                country: op.country.to_string(),
                state: op.state,
                requested_at: op.requested_at,
                deduplicated,
                status_url,
            };
            (
                StatusCode::ACCEPTED,
                [(header::LOCATION, location)],
                Json(body),
            )
                .into_response()
        }
        FetchOutcome::Fresh {
            code,
            fetched_at,
            fresh_until,
        } => Json(FetchFresh {
            state: "fresh",
            country: code.to_string(),
            fetched_at,
            fresh_until,
            country_url: format!("{}/country/{code}", app.base_path),
        })
        .into_response(),
    })
}

/// Queue a fetch (the same as `GET /fetch/{country}`).
#[utoipa::path(
    post,
    path = "/fetch/{country}",
    operation_id = "fetchPost",
    tag = "countries",
    params(
        ("country" = String, Path, description = "Any common identifier of a country.", example = "PY"),
        ("force" = Option<bool>, Query, description = "Queue a fetch even when the stored document is fresh."),
    ),
    responses(
        (status = 202, description = "Queued, or already in flight (`deduplicated`)", body = FetchAccepted,
         headers(("Location" = String, description = "The status URL"))),
        (status = 200, description = "The stored document is fresh; nothing was queued", body = FetchFresh),
        (status = 400, description = "`InvalidCountry`, `AmbiguousCountry` or `InvalidParameter`", body = ErrorBody),
        (status = 404, description = "`UnknownCountry`", body = ErrorBody),
        (status = 429, description = "`RateLimited`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`ServiceUnavailable`", body = ErrorBody),
    )
)]
pub async fn fetch_post(
    state: State<AppState>,
    country: CountryParam,
    query: Params,
) -> Result<Response, ApiError> {
    fetch(state, country, query).await
}

/// The stored country document, in the REST Countries v3.1 shape.
#[utoipa::path(
    get,
    path = "/country/{country}",
    operation_id = "country",
    tag = "countries",
    params(
        ("country" = String, Path, description = "Any common identifier of a country.", example = "PY"),
        ("fields" = Option<String>, Query, description = "Comma-separated top-level fields to return, such as `name,capital`."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer: 304 when unchanged."),
    ),
    responses(
        (status = 200, description = "The REST Countries v3.1 document", body = Object,
         headers(
            ("ETag" = String, description = "Changes when the document does"),
            ("Last-Modified" = String, description = "When the upstream was asked"),
            ("X-Country-Source" = String, description = "The upstream kind: bundled, v3.1 or v5"),
         )),
        (status = 304, description = "Unchanged since the given ETag"),
        (status = 400, description = "`InvalidCountry`, `AmbiguousCountry` or `InvalidParameter`", body = ErrorBody),
        (status = 404, description = "`UnknownCountry`, or `CountryNotFetched` with the `/fetch` URL to call", body = ErrorBody),
        (status = 429, description = "`RateLimited`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`ServiceUnavailable`", body = ErrorBody),
    )
)]
pub async fn country(
    State(app): State<AppState>,
    CountryParam(country): CountryParam,
    query: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let fields = fields(&params(query)?)?;
    let record = app.service.country(&country).await?;
    let document = match &fields {
        None => record.document,
        Some(wanted) => select(&record.document, wanted),
    };
    let body = serde_json::to_vec(&document).expect("a JSON value serialises");
    let etag = format!("\"{:016x}\"", fnv1a(&body));
    let last_modified = httpdate::fmt_http_date(record.fetched_at.into());
    let cache_headers = [
        (header::ETAG, etag.clone()),
        (header::LAST_MODIFIED, last_modified),
        (header::CACHE_CONTROL, "no-cache".to_string()),
    ];
    if matches_etag(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache_headers).into_response());
    }
    Ok((
        cache_headers,
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::HeaderName::from_static("x-country-source"),
                record.source,
            ),
        ],
        body,
    )
        .into_response())
}

fn fields(params: &HashMap<String, String>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(raw) = params.get("fields") else {
        return Ok(None);
    };
    let wanted: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    if wanted.is_empty() {
        return Err(ApiError::InvalidParameter {
            name: "fields",
            reason: "name at least one field".into(),
        });
    }
    let unknown: Vec<&str> = wanted
        .iter()
        .map(String::as_str)
        .filter(|f| !is_v31_key(f))
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = V31_KEYS.iter().map(|(k, _)| *k).collect();
        return Err(ApiError::InvalidParameter {
            name: "fields",
            reason: format!(
                "unknown field(s) {}; known: {}",
                unknown.join(", "),
                known.join(", ")
            ),
        });
    }
    Ok(Some(wanted))
}

fn select(document: &Value, wanted: &[String]) -> Value {
    let map: Map<String, Value> = document
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| wanted.iter().any(|w| w == *k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(map)
}

/// FNV-1a: a stable, dependency-free hash for ETags (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// The fetch operations of one country, newest first.
#[utoipa::path(
    get,
    path = "/status/{country}",
    operation_id = "status",
    tag = "countries",
    params(
        ("country" = String, Path, description = "Any common identifier of a country.", example = "PY"),
        ("limit" = Option<u32>, Query, description = "How many operations, 1 to 100 (default 10).", minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "The operations, newest first", body = StatusBody),
        (status = 400, description = "`InvalidCountry`, `AmbiguousCountry` or `InvalidParameter`", body = ErrorBody),
        (status = 404, description = "`UnknownCountry`", body = ErrorBody),
        (status = 429, description = "`RateLimited`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`ServiceUnavailable`", body = ErrorBody),
    )
)]
pub async fn status(
    State(app): State<AppState>,
    CountryParam(country): CountryParam,
    query: Params,
) -> Result<Json<StatusBody>, ApiError> {
    let params = params(query)?;
    let limit = match params.get("limit") {
        None => 10,
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::InvalidParameter {
                name: "limit",
                reason: format!("`{v}` is not a whole number from 1 to 100"),
            })?,
    };
    let (code, operations) = app.service.status(&country, limit).await?;
    Ok(Json(StatusBody {
        country: code.to_string(),
        operations,
    }))
}

/// Liveness: the process answers. It checks no dependency, so a load balancer never drops every
/// instance because a shared dependency blinked.
#[utoipa::path(get, path = "/health", operation_id = "health", tag = "service",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn health(State(app): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        upstream: app.service.upstream.kind(),
    })
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi", tag = "service",
    responses((status = 200, description = "The OpenAPI 3 document of this API", body = Object)))]
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi_json(),
    )
        .into_response()
}

pub async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute(uri.path().chars().take(200).collect())
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
