//! Every error the API answers with, mapped once to a status and the `{"Code", "Message"}` body.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use countries_core::ident::Candidate;
use countries_core::ports::{StoreError, Unanswered};
use countries_core::{IdentError, ServiceError};
use serde::Serialize;

use crate::Links;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Ident(IdentError),
    #[error("{code} has not been fetched yet")]
    NotFetched { code: String, fetch_url: String },
    #[error(
        "{code} came from the {upstream} upstream, which has no v5 form: omit `format` for the v3.1 shape"
    )]
    NoV5Form { code: String, upstream: String },
    /// The store or the queue failed; the detail is logged, never shown.
    #[error("{0}")]
    Unavailable(ServiceError),
    /// The stored data cannot be read: a fault of the service that waiting will not mend. The detail
    /// is logged, never shown.
    #[error("{0}")]
    Corrupt(StoreError),
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter { name: String, reason: String },
    #[error("the path segment is not a valid country identifier: {0}")]
    BadPath(String),
    #[error("too many requests: try again in {} s", whole_seconds(*.retry_after))]
    RateLimited { retry_after: Duration },
    #[error("the rate limiter is unavailable")]
    LimiterUnavailable,
    #[error("no route for {0}")]
    NoRoute(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("forcing a sync needs the operator key: `Authorization: Bearer <key>`")]
    OperatorKeyRequired,
    #[error(
        "forcing a sync needs the operator key, and this service has none configured (OPERATOR_KEY, or the value of its secret on AWS)"
    )]
    OperatorKeyNotConfigured,
    /// The operator key's secret could not be read; the detail is logged, never shown.
    #[error("the operator key could not be read: {0}")]
    OperatorKeyUnavailable(Unanswered),
    #[error("no sync {0} is known")]
    UnknownSync(uuid::Uuid),
    #[error("invalid parameter `cursor`: {0}")]
    CursorMismatch(String),
}

impl ApiError {
    /// A use case's error, with the URLs it hands out under the public base path.
    pub fn service(e: ServiceError, links: &Links) -> ApiError {
        match e {
            ServiceError::Ident(e) => ApiError::Ident(e),
            ServiceError::NotFetched { code } => ApiError::NotFetched {
                code: code.to_string(),
                fetch_url: links.fetch(code),
            },
            ServiceError::Store(e) => e.into(),
            e @ ServiceError::Queue(_) => ApiError::Unavailable(e),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Corrupt(_) => ApiError::Corrupt(e),
            StoreError::Unavailable(_) => ApiError::Unavailable(ServiceError::Store(e)),
        }
    }
}

/// When a 503 tells the client to come back: long enough for a dependency's blip (and the SDK's
/// retries) to pass, short enough not to lose the client.
pub const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Seconds to wait, rounded up: a client that waits this long is admitted.
fn whole_seconds(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct ErrorBody {
    /// A stable, machine-readable code: `InvalidCountry`, `AmbiguousCountry`, `UnknownCountry`,
    /// `CountryNotFetched`, `NoV5Form`, `InvalidParameter`, `RateLimited`, `NotFound`,
    /// `MethodNotAllowed`, `ServiceUnavailable`, `InternalError`, `OperatorKeyRequired`, `OperatorKeyNotConfigured`, `UnknownSync`, `CursorMismatch`.
    #[schema(example = "UnknownCountry")]
    pub code: &'static str,
    #[schema(example = "no country is known as `atlantis`")]
    pub message: String,
    /// With `AmbiguousCountry`: the countries the identifier could mean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<CandidateBody>>,
    /// With `CountryNotFetched`: the URL that fetches it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "/fetch/PY")]
    pub fetch_url: Option<String>,
}

/// A country an ambiguous identifier could mean.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Candidate)]
pub struct CandidateBody {
    #[schema(example = "CG")]
    pub code: String,
    #[schema(example = "Republic of the Congo")]
    pub name: String,
}

impl From<&Candidate> for CandidateBody {
    fn from(c: &Candidate) -> Self {
        CandidateBody {
            code: c.code.to_string(),
            name: c.name.clone(),
        }
    }
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Ident(IdentError::Invalid { .. }) | ApiError::BadPath(_) => {
                (StatusCode::BAD_REQUEST, "InvalidCountry")
            }
            // Well-formed, and several countries answer to it: HTTP's own "pick one" (no Location).
            ApiError::Ident(IdentError::Ambiguous { .. }) => {
                (StatusCode::MULTIPLE_CHOICES, "AmbiguousCountry")
            }
            ApiError::Ident(IdentError::Unknown { .. }) => {
                (StatusCode::NOT_FOUND, "UnknownCountry")
            }
            ApiError::NotFetched { .. } => (StatusCode::NOT_FOUND, "CountryNotFetched"),
            ApiError::NoV5Form { .. } => (StatusCode::NOT_FOUND, "NoV5Form"),
            ApiError::Unavailable(_)
            | ApiError::LimiterUnavailable
            | ApiError::OperatorKeyUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
            }
            ApiError::Corrupt(_) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
            ApiError::InvalidParameter { .. } => (StatusCode::BAD_REQUEST, "InvalidParameter"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RateLimited"),
            ApiError::NoRoute(_) => (StatusCode::NOT_FOUND, "NotFound"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed"),
            ApiError::OperatorKeyRequired => (StatusCode::UNAUTHORIZED, "OperatorKeyRequired"),
            ApiError::OperatorKeyNotConfigured => {
                (StatusCode::FORBIDDEN, "OperatorKeyNotConfigured")
            }
            ApiError::UnknownSync(_) => (StatusCode::NOT_FOUND, "UnknownSync"),
            ApiError::CursorMismatch(_) => (StatusCode::CONFLICT, "CursorMismatch"),
        }
    }
}

/// What a 5xx answer carries for the request log (`crate::request_log`), which logs and counts it:
/// our fault, so the detail goes to the log and the client gets a plain message.
#[derive(Debug, Clone)]
pub struct Failure {
    pub detail: String,
    /// Stored data that cannot be read (`Metric::StoredDataCorrupt`).
    pub corrupt: bool,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        // What failed, in words a client can use; the dependency's own error is in the log line above.
        let message = match &self {
            ApiError::Unavailable(ServiceError::Queue(_)) => {
                "the job queue is unavailable; try again shortly".to_string()
            }
            ApiError::Unavailable(_) => {
                "the data store is unavailable; try again shortly".to_string()
            }
            ApiError::Corrupt(_) => "the service's stored data cannot be read".to_string(),
            ApiError::LimiterUnavailable => {
                "the rate limiter is unavailable; try again shortly".to_string()
            }
            ApiError::OperatorKeyUnavailable(_) => {
                "the operator key cannot be checked now; try again shortly".to_string()
            }
            other => other.to_string(),
        };
        let candidates = match &self {
            ApiError::Ident(IdentError::Ambiguous { candidates, .. }) => {
                Some(candidates.iter().map(CandidateBody::from).collect())
            }
            _ => None,
        };
        let fetch_url = match &self {
            ApiError::NotFetched { fetch_url, .. } => Some(fetch_url.clone()),
            _ => None,
        };
        let body = ErrorBody {
            code,
            message,
            candidates,
            fetch_url,
        };
        let mut response = (status, Json(body)).into_response();
        if status.is_server_error() {
            response.extensions_mut().insert(Failure {
                detail: self.to_string(),
                corrupt: matches!(self, ApiError::Corrupt(_)),
            });
        }
        let retry_after = match self {
            ApiError::RateLimited { retry_after } => Some(retry_after),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(UNAVAILABLE_RETRY_AFTER),
            _ => None,
        };
        if let Some(after) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(whole_seconds(after)));
        }
        response
    }
}
