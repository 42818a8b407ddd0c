//! `POST /sync` (queue a catalogue sync, or say why not), `GET /sync` (the latest syncs) and
//! `GET /sync/{id}` (one sync).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use countries_core::sync_record::SyncRecord;
use countries_core::usecases::SyncOutcome;
use serde::Serialize;
use uuid::Uuid;

use super::{Params, flag, params};
use crate::AppState;
use crate::error::ApiError;

/// What `POST /sync` did, with the sync it concerns.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SyncAnswer {
    /// `queued` (a new sync), `in_flight` (the running one answers), `fresh` (the last successful sync
    /// is within the freshness window: nothing was called).
    #[schema(example = "queued")]
    pub outcome: &'static str,
    #[schema(value_type = Object)]
    pub sync: SyncRecord,
    #[schema(example = "/sync/01936f0e-0000-7000-8000-000000000000")]
    pub status_url: String,
}

/// The latest syncs, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SyncList {
    #[schema(value_type = Vec<Object>)]
    pub syncs: Vec<SyncRecord>,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SyncQuery {
    /// Sync even when the catalogue is fresh: needs the operator key (`Authorization: Bearer <key>`),
    /// and still spends the fleet's upstream budget.
    force: Option<bool>,
}

/// Bring the whole catalogue from the upstream, unless it is fresh or a sync is in flight.
#[utoipa::path(post, path = "/sync", operation_id = "sync", tag = "catalogue", params(SyncQuery),
    responses(
        (status = 202, description = "Queued, or already in flight", body = SyncAnswer,
         headers(("Location" = String, description = "The sync's status URL"))),
        (status = 200, description = "The catalogue is fresh: the last successful sync, nothing called", body = SyncAnswer),
        (status = 400, description = "`InvalidParameter`", body = crate::error::ErrorBody),
        (status = 401, description = "`OperatorKeyRequired`: `force` without the operator key", body = crate::error::ErrorBody),
        (status = 403, description = "`OperatorKeyNotConfigured`: `force`, and the service has no operator key", body = crate::error::ErrorBody),
        (status = 429, description = "`RateLimited`", body = crate::error::ErrorBody),
        (status = 503, description = "`ServiceUnavailable`", body = crate::error::ErrorBody),
    ))]
pub async fn post(
    State(app): State<AppState>,
    query: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let force = flag(&params(query)?, "force")?;
    if force {
        app.operator_key.admit(&headers).await?;
    }
    let outcome = app
        .sync_requests
        .request(force)
        .await
        .map_err(|e| ApiError::service(e, &app.links))?;
    let (status, word, sync) = match outcome {
        SyncOutcome::Accepted(s) => (StatusCode::ACCEPTED, "queued", s),
        SyncOutcome::InFlight(s) => (StatusCode::ACCEPTED, "in_flight", s),
        SyncOutcome::Fresh(s) => (StatusCode::OK, "fresh", s),
    };
    let status_url = app.links.sync(sync.id);
    let location = HeaderValue::from_str(&status_url).expect("a path is a valid header");
    let body = SyncAnswer {
        outcome: word,
        sync,
        status_url,
    };
    Ok((status, [(header::LOCATION, location)], Json(body)).into_response())
}

/// The latest syncs, newest first (at most 20).
#[utoipa::path(get, path = "/sync", operation_id = "syncs", tag = "catalogue",
    responses(
        (status = 200, description = "The latest syncs", body = SyncList),
        (status = 429, description = "`RateLimited`", body = crate::error::ErrorBody),
        (status = 503, description = "`ServiceUnavailable`", body = crate::error::ErrorBody),
    ))]
pub async fn list(State(app): State<AppState>) -> Result<Json<SyncList>, ApiError> {
    let syncs = app.sync_requests.latest(20).await.map_err(ApiError::from)?;
    Ok(Json(SyncList { syncs }))
}

/// One sync: when it started and finished, the calls it made, the countries added, changed, unchanged,
/// and what failed.
#[utoipa::path(get, path = "/sync/{id}", operation_id = "syncStatus", tag = "catalogue",
    params(("id" = String, Path, description = "The sync's id", format = Uuid)),
    responses(
        (status = 200, description = "The sync", body = Object),
        (status = 400, description = "`InvalidParameter`: not a UUID", body = crate::error::ErrorBody),
        (status = 404, description = "`UnknownSync`", body = crate::error::ErrorBody),
        (status = 429, description = "`RateLimited`", body = crate::error::ErrorBody),
        (status = 503, description = "`ServiceUnavailable`", body = crate::error::ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<SyncRecord>, ApiError> {
    let Path(id) = id.map_err(|e| ApiError::InvalidParameter {
        name: "id".into(),
        reason: e.body_text(),
    })?;
    // Only the hyphenated form the document's `format: uuid` names (the parser takes others too).
    let hyphenated = id.len() == 36;
    let id: Uuid = Some(id)
        .filter(|_| hyphenated)
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| ApiError::InvalidParameter {
            name: "id".into(),
            reason: "not a sync id (a hyphenated UUID)".into(),
        })?;
    app.sync_requests
        .get(id)
        .await
        .map_err(ApiError::from)?
        .map(Json)
        .ok_or(ApiError::UnknownSync(id))
}
