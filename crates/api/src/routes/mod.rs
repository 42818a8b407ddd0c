//! The handlers, one module per route group; each resolves its inputs, calls one use case, and shapes
//! the response. [`table`] declares which route reaches which. This module holds what the handlers
//! share: the `{country}` path segment, query parameters, and the error responses every country route
//! documents.

pub mod catalogue;
pub mod country;
pub mod fetch;
pub mod service;
pub mod status;
pub mod sync;
pub mod table;
pub mod v31;

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use tracing::Span;

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

/// The `{country}` path parameter, as the OpenAPI document describes it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct CountryPath {
    /// Any common identifier: alpha-2, alpha-3, ISO numeric, IOC code, or a name (common, official,
    /// alternate, native, translated), case-insensitive, accents optional, dashes for spaces. 1 to 100
    /// characters, no control characters and none of `/ \ < > { } [ ] | ^ ` " # % ? & = + ; : ! @ $ * ~`
    /// (`countries_core::ident::IDENTIFIER_PATTERN`); one that names no country is a 404.
    // Its lengths and pattern come from `ident` (`openapi::ParameterRules`).
    #[param(example = "paraguay")]
    country: String,
}

/// The error answers of every `/{route}/{country}` route.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum CountryErrors {
    /// `AmbiguousCountry`: the identifier names several countries; `Candidates` lists them
    #[response(status = 300)]
    Ambiguous(ErrorBody),
    /// `InvalidCountry` or `InvalidParameter`
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// `UnknownCountry`; on `/country`, also `CountryNotFetched` with the `/fetch` URL to call, or
    /// `NoV5Form` for `format=v5` on a country that did not come from v5
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// `RateLimited`
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait")))]
    TooManyRequests(ErrorBody),
    /// `ServiceUnavailable`: the store or the queue cannot be reached
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

pub type Params = Result<Query<HashMap<String, String>>, QueryRejection>;

pub fn params(p: Params) -> Result<HashMap<String, String>, ApiError> {
    p.map(|Query(q)| q).map_err(|e| ApiError::InvalidParameter {
        name: "query".into(),
        reason: shown(&e.body_text(), 200),
    })
}

/// A value a client sent, as an error message repeats it: its first `chars` characters, so that a
/// 50 KB value does not come back as a 50 KB answer.
pub fn shown(value: &str, chars: usize) -> String {
    match value.char_indices().nth(chars) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}

/// A boolean query parameter, `true` or `false` as the OpenAPI document's `boolean` says; absent is false.
pub fn flag(params: &HashMap<String, String>, name: &'static str) -> Result<bool, ApiError> {
    match params.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::InvalidParameter {
            name: name.into(),
            reason: format!("`{}` is not true or false", shown(other, 40)),
        }),
    }
}
