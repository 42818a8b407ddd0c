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
// The API's own form of core's `Operation`, apart from how the stores keep it: either can change
// without the other.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Operation)]
pub struct OperationBody {
    /// Time-ordered (UUID v7).
    request_id: Uuid,
    /// The alpha-2 code.
    #[schema(examples("PY"))]
    country: String,
    state: OperationStateBody,
    /// When the fetch was asked for.
    requested_at: DateTime<Utc>,
    /// When the last attempt started.
    started_at: Option<DateTime<Utc>>,
    /// When it reached a final state.
    finished_at: Option<DateTime<Utc>>,
    /// Upstream calls made so far.
    attempts: u32,
    /// The last failure: final, or the one that will be retried.
    error: Option<String>,
    /// The upstream kind that answered: bundled, v3.1 or v5.
    source: Option<String>,
}

impl From<&Operation> for OperationBody {
    fn from(op: &Operation) -> Self {
        OperationBody {
            request_id: op.request_id(),
            country: op.country().to_string(),
            state: op.state().into(),
            requested_at: op.requested_at(),
            started_at: op.started_at(),
            finished_at: op.finished_at(),
            attempts: op.attempts(),
            error: op.error().map(str::to_string),
            source: op.source().map(str::to_string),
        }
    }
}

/// Where an operation stands: `queued` and `running` are in flight, the others final.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = OperationState)]
pub enum OperationStateBody {
    Queued,
    Running,
    Succeeded,
    NotFound,
    Failed,
}

impl From<OperationState> for OperationStateBody {
    fn from(state: OperationState) -> Self {
        match state {
            OperationState::Queued => OperationStateBody::Queued,
            OperationState::Running => OperationStateBody::Running,
            OperationState::Succeeded => OperationStateBody::Succeeded,
            OperationState::NotFound => OperationStateBody::NotFound,
            OperationState::Failed => OperationStateBody::Failed,
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
        Some(v) => Some(v)
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::InvalidParameter {
                name: "limit".into(),
                reason: format!(
                    "`{}` is not a whole number from 1 to 100",
                    super::shown(v, 40)
                ),
            })?,
    };
    let (code, operations) = app
        .reads
        .status(&country, limit)
        .await
        .map_err(|e| ApiError::service(e, &app.links))?;
    Ok(Json(StatusBody {
        country: code.to_string(),
        operations: operations.iter().map(OperationBody::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use countries_core::operation::StoredOperation;

    /// The example in docs/api.md, as `/status` served it before the API had its own form.
    const EXAMPLE: &str = r#"{"request_id":"01a20811-9d47-7107-827d-6af3a8884c20","country":"PY","state":"succeeded","requested_at":"2026-11-23T11:01:41.831695132Z","started_at":"2026-11-23T11:01:41.831992554Z","finished_at":"2026-11-23T11:01:41.862388981Z","attempts":1,"error":null,"source":"bundled"}"#;

    #[test]
    fn an_operation_is_served_as_before() {
        let op = Operation::restore(StoredOperation {
            request_id: "01a20811-9d47-7107-827d-6af3a8884c20".parse().unwrap(),
            country: "PY".parse().unwrap(),
            state: OperationState::Succeeded,
            requested_at: "2026-11-23T11:01:41.831695132Z".parse().unwrap(),
            started_at: Some("2026-11-23T11:01:41.831992554Z".parse().unwrap()),
            finished_at: Some("2026-11-23T11:01:41.862388981Z".parse().unwrap()),
            attempts: 1,
            error: None,
            source: Some("bundled".into()),
        });
        let served = serde_json::to_string(&OperationBody::from(&op)).unwrap();
        assert_eq!(served, EXAMPLE);
    }
}
