//! The service's own routes: liveness, the OpenAPI document, and the JSON answers for no route and a
//! wrong method.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracing::warn;

use crate::AppState;
use crate::error::ApiError;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
    #[schema(example = "0.1.0")]
    pub version: &'static str,
    /// The upstream kind the worker fetches from.
    #[schema(example = "bundled")]
    pub upstream: &'static str,
    /// The month's upstream calls against the plan's quota (v5); absent for an upstream without one, or
    /// when the count cannot be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_budget: Option<BudgetBody>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BudgetBody {
    #[schema(example = "2026-11")]
    pub month: String,
    #[schema(example = 120)]
    pub used: u64,
    #[schema(example = 380)]
    pub remaining: u64,
    #[schema(example = 500)]
    pub quota: u64,
}

/// Liveness: the process answers, with the month's upstream use. A failing dependency never fails it
/// (the use is then left out), so a load balancer never drops every instance because one blinked.
#[utoipa::path(get, path = "/health", operation_id = "health", tag = "service",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn health(State(app): State<AppState>) -> Json<Health> {
    let upstream_budget = match app.budget.usage(chrono::Utc::now()).await {
        Ok(usage) => usage.map(|u| BudgetBody {
            remaining: u.quota.saturating_sub(u.used),
            month: u.month,
            used: u.used,
            quota: u.quota,
        }),
        Err(e) => {
            warn!(error = %e, "could not read the upstream budget");
            None
        }
    };
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        upstream: app.upstream,
        upstream_budget,
    })
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "openapi", tag = "service",
    responses((status = 200, description = "The OpenAPI 3 document of this API", body = Object)))]
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::json(),
    )
        .into_response()
}

pub async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::NoRoute(uri.path().chars().take(200).collect())
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
