//! `GET /status/{country}`: the country's fetch operations, newest first.

use axum::Json;
use axum::extract::State as AxumState;
use chrono::{DateTime, Utc};
use countries_core::{Operation, OperationState};
use serde::Serialize;
use uuid::Uuid;

use super::{CountryErrors, CountryParam, CountryPath, Params, params};
use crate::AppState;
use crate::error::ApiError;

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusBody {
    #[schema(example = "PY")]
    pub country: String,
    /// Newest first.
    pub operations: Vec<OperationBody>,
}

/// One fetch operation and what became of it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Operation)]
pub struct OperationBody {
    /// Time-ordered (UUID v7).
    pub request_id: Uuid,
    #[schema(example = "PY")]
    pub country: String,
    pub state: State,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Upstream calls made so far.
    pub attempts: u32,
    /// The last failure's message: the final error, or the one that will be retried.
    pub error: Option<String>,
    /// The upstream kind that answered (`bundled`, `v3.1`, `v5`).
    pub source: Option<String>,
}

/// Where an operation stands: `queued` and `running` are in flight, the others final.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = OperationState)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Queued,
    Running,
    Succeeded,
    NotFound,
    Failed,
}

impl From<OperationState> for State {
    fn from(s: OperationState) -> Self {
        match s {
            OperationState::Queued => State::Queued,
            OperationState::Running => State::Running,
            OperationState::Succeeded => State::Succeeded,
            OperationState::NotFound => State::NotFound,
            OperationState::Failed => State::Failed,
        }
    }
}

impl From<Operation> for OperationBody {
    fn from(op: Operation) -> Self {
        OperationBody {
            request_id: op.request_id,
            country: op.country.to_string(),
            state: op.state.into(),
            requested_at: op.requested_at,
            started_at: op.started_at,
            finished_at: op.finished_at,
            attempts: op.attempts,
            error: op.error,
            source: op.source,
        }
    }
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatusQuery {
    /// How many operations, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// The fetch operations of one country, newest first.
#[utoipa::path(get, path = "/status/{country}", operation_id = "status", tag = "countries",
    params(CountryPath, StatusQuery),
    responses((status = 200, description = "The operations, newest first", body = StatusBody), CountryErrors))]
pub async fn get(
    AxumState(app): AxumState<AppState>,
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
    let (code, operations) = app
        .reads
        .status(&country, limit)
        .await
        .map_err(|e| ApiError::service(e, &app.links))?;
    Ok(Json(StatusBody {
        country: code.to_string(),
        operations: operations.into_iter().map(OperationBody::from).collect(),
    }))
}
