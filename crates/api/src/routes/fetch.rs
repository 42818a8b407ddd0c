//! `GET` and `POST /fetch/{country}`: queue a fetch, join the one in flight, or say the document is fresh.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use countries_core::usecases::FetchOutcome;
use serde::Serialize;
use uuid::Uuid;

use super::status::OperationStateBody;
use super::{CountryErrors, CountryParam, CountryPath, Params, flag, params};
use crate::AppState;
use crate::error::ApiError;

/// A fetch was queued, or joined one already in flight.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FetchAccepted {
    pub request_id: Uuid,
    #[schema(example = "PY")]
    pub country: String,
    pub state: OperationStateBody,
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

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FetchQuery {
    /// Queue a fetch even when the stored document is fresh.
    force: Option<bool>,
}

#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum FetchResponses {
    /// Queued, or already in flight (`deduplicated`)
    #[response(status = 202, headers(("Location" = String, description = "The status URL")))]
    Accepted(FetchAccepted),
    /// The stored document is fresh; nothing was queued
    #[response(status = 200)]
    Fresh(FetchFresh),
}

/// Queue a fetch of one country from the upstream.
#[utoipa::path(
    get,
    path = "/fetch/{country}",
    operation_id = "fetch",
    tag = "countries",
    params(CountryPath, FetchQuery),
    responses(FetchResponses, CountryErrors)
)]
pub async fn get(
    State(app): State<AppState>,
    CountryParam(country): CountryParam,
    query: Params,
) -> Result<Response, ApiError> {
    let force = flag(&params(query)?, "force")?;
    let outcome = app
        .fetches
        .request(&country, force)
        .await
        .map_err(|e| ApiError::service(e, &app.links))?;
    Ok(match outcome {
        FetchOutcome::Accepted { op, deduplicated } => {
            let status_url = app.links.status(op.country());
            let location = HeaderValue::from_str(&status_url).expect("a path is a valid header");
            let body = FetchAccepted {
                request_id: op.request_id(),
                country: op.country().to_string(),
                state: op.state().into(),
                requested_at: op.requested_at(),
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
            country_url: app.links.country(code),
        })
        .into_response(),
    })
}
