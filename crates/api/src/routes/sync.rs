//! `POST /sync` (queue a catalogue sync, or say why not), `GET /sync` (the latest syncs) and
//! `GET /sync/{id}` (one sync).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use countries_core::sync_record::{SyncRecord, SyncState, SyncTrigger};
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
    pub sync: SyncBody,
    #[schema(example = "/sync/01936f0e-0000-7000-8000-000000000000")]
    pub status_url: String,
}

/// The latest syncs, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SyncList {
    pub syncs: Vec<SyncBody>,
}

/// A catalogue sync and what became of it.
// The API's own form of core's `SyncRecord`, apart from how the stores keep it: either can change
// without the other.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Sync)]
pub struct SyncBody {
    /// Time-ordered (UUID v7).
    id: Uuid,
    state: SyncStateBody,
    trigger: SyncTriggerBody,
    /// When the sync was asked for.
    requested_at: DateTime<Utc>,
    /// When a worker started it.
    started_at: Option<DateTime<Utc>>,
    /// When it reached a final state.
    finished_at: Option<DateTime<Utc>>,
    /// The upstream kind synced from: bundled, v3.1 or v5.
    source: Option<String>,
    /// Upstream calls made.
    calls: u32,
    /// Countries stored that the catalogue did not have.
    added: u32,
    /// Countries whose document changed, stored again.
    changed: u32,
    /// Countries that came unchanged, not written.
    unchanged: u32,
    /// What could not be brought or stored: a page, or a country and why.
    failed: Vec<String>,
}

impl From<&SyncRecord> for SyncBody {
    fn from(sync: &SyncRecord) -> Self {
        let tally = sync.tally();
        SyncBody {
            id: sync.id(),
            state: sync.state().into(),
            trigger: sync.trigger().into(),
            requested_at: sync.requested_at(),
            started_at: sync.started_at(),
            finished_at: sync.finished_at(),
            source: sync.source().map(str::to_string),
            calls: tally.calls,
            added: tally.added,
            changed: tally.changed,
            unchanged: tally.unchanged,
            failed: tally.failed.clone(),
        }
    }
}

/// Where a sync stands: `queued` and `running` are in flight; `partial` stored some countries and says
/// in `failed` what it could not.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SyncState)]
pub enum SyncStateBody {
    Queued,
    Running,
    Succeeded,
    Partial,
    Failed,
}

impl From<SyncState> for SyncStateBody {
    fn from(state: SyncState) -> Self {
        match state {
            SyncState::Queued => SyncStateBody::Queued,
            SyncState::Running => SyncStateBody::Running,
            SyncState::Succeeded => SyncStateBody::Succeeded,
            SyncState::Partial => SyncStateBody::Partial,
            SyncState::Failed => SyncStateBody::Failed,
        }
    }
}

/// What started a sync: `api` (`POST /sync`), `forced` (`POST /sync?force=true`), `schedule`, or
/// `startup` (a local server's first start).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SyncTrigger)]
pub enum SyncTriggerBody {
    Api,
    Forced,
    Schedule,
    Startup,
}

impl From<SyncTrigger> for SyncTriggerBody {
    fn from(trigger: SyncTrigger) -> Self {
        match trigger {
            SyncTrigger::Api => SyncTriggerBody::Api,
            SyncTrigger::Forced => SyncTriggerBody::Forced,
            SyncTrigger::Schedule => SyncTriggerBody::Schedule,
            SyncTrigger::Startup => SyncTriggerBody::Startup,
        }
    }
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
    let status_url = app.links.sync(sync.id());
    let location = HeaderValue::from_str(&status_url).expect("a path is a valid header");
    let body = SyncAnswer {
        outcome: word,
        sync: SyncBody::from(&sync),
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
    Ok(Json(SyncList {
        syncs: syncs.iter().map(SyncBody::from).collect(),
    }))
}

/// One sync: when it started and finished, the calls it made, the countries added, changed, unchanged,
/// and what failed.
#[utoipa::path(get, path = "/sync/{id}", operation_id = "syncStatus", tag = "catalogue",
    params(("id" = String, Path, description = "The sync's id", format = Uuid)),
    responses(
        (status = 200, description = "The sync", body = SyncBody),
        (status = 400, description = "`InvalidParameter`: not a UUID", body = crate::error::ErrorBody),
        (status = 404, description = "`UnknownSync`", body = crate::error::ErrorBody),
        (status = 429, description = "`RateLimited`", body = crate::error::ErrorBody),
        (status = 503, description = "`ServiceUnavailable`", body = crate::error::ErrorBody),
    ))]
pub async fn get(
    State(app): State<AppState>,
    id: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Json<SyncBody>, ApiError> {
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
        .map(|sync| Json(SyncBody::from(&sync)))
        .ok_or(ApiError::UnknownSync(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in docs/api.md, as `/sync` served it before the API had its own form.
    const EXAMPLE: &str = r#"{"id":"01a214c0-8b37-7485-b387-cf64eda416b1","state":"succeeded","trigger":"startup","requested_at":"2026-11-25T22:08:12.599599797Z","started_at":"2026-11-25T22:08:12.599632836Z","finished_at":"2026-11-25T22:08:12.748182179Z","source":"bundled","calls":0,"added":250,"changed":0,"unchanged":0,"failed":[]}"#;

    #[test]
    fn a_sync_is_served_as_before() {
        let sync: SyncRecord = serde_json::from_str(EXAMPLE).unwrap();
        let served = serde_json::to_string(&SyncBody::from(&sync)).unwrap();
        assert_eq!(served, EXAMPLE);
    }
}
