//! `GET /status/{country}`: the country's fetch operations, newest first.

use std::borrow::Cow;

use axum::Json;
use axum::extract::State as AxumState;
use countries_core::{Operation, OperationState};
use serde::Serialize;
use serde_json::json;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type};
use utoipa::openapi::{Ref, RefOr};

use super::{CountryErrors, CountryParam, CountryPath, Params, params};
use crate::AppState;
use crate::error::ApiError;

#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusBody {
    #[schema(example = "PY")]
    pub country: String,
    /// Newest first.
    #[schema(value_type = Vec<OperationSchema>)]
    pub operations: Vec<Operation>,
}

/// The schema of one operation as `/status` shows it: core's `Operation`, serialised by serde. Written
/// here because the API owns its document; the router tests hold the two to the same fields.
pub struct OperationSchema;

impl utoipa::ToSchema for OperationSchema {
    fn name() -> Cow<'static, str> {
        "Operation".into()
    }
}

impl utoipa::PartialSchema for OperationSchema {
    fn schema() -> RefOr<Schema> {
        let text = |description: &str, types: &[Type]| {
            ObjectBuilder::new()
                .schema_type(types.iter().cloned().collect::<SchemaType>())
                .description(Some(description))
        };
        let time = |description: &str, types: &[Type]| {
            text(description, types).format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        };
        let (required, optional) = (&[Type::String][..], &[Type::String, Type::Null][..]);
        let uuid = SchemaFormat::KnownFormat(KnownFormat::Uuid);
        ObjectBuilder::new()
            .description(Some("One fetch operation and what became of it."))
            .property(
                "request_id",
                text("Time-ordered (UUID v7).", required).format(Some(uuid)),
            )
            .property(
                "country",
                text("The alpha-2 code.", required).examples([json!("PY")]),
            )
            .property("state", Ref::from_schema_name("OperationState"))
            .property(
                "requested_at",
                time("When the fetch was asked for.", required),
            )
            .property(
                "started_at",
                time("When the last attempt started.", optional),
            )
            .property(
                "finished_at",
                time("When it reached a final state.", optional),
            )
            .property(
                "attempts",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .description(Some("Upstream calls made so far.")),
            )
            .property(
                "error",
                text(
                    "The last failure: final, or the one that will be retried.",
                    optional,
                ),
            )
            .property(
                "source",
                text(
                    "The upstream kind that answered: bundled, v3.1 or v5.",
                    optional,
                ),
            )
            .required("request_id")
            .required("country")
            .required("state")
            .required("requested_at")
            .required("attempts")
            .into()
    }
}

/// Where an operation stands: `queued` and `running` are in flight, the others final.
pub struct OperationStateSchema;

impl utoipa::ToSchema for OperationStateSchema {
    fn name() -> Cow<'static, str> {
        "OperationState".into()
    }
}

impl utoipa::PartialSchema for OperationStateSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(OperationState::ALL.map(|s| s.as_str())))
            .description(Some(
                "Where an operation stands: `queued` and `running` are in flight, the others final.",
            ))
            .into()
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
        operations,
    }))
}
