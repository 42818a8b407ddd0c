//! The service's own routes: liveness, the OpenAPI document, and the JSON answers for no route and a
//! wrong method.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tracing::warn;

use super::{Params, flag, params};
use crate::AppState;
use crate::error::ApiError;

/// The longest one dependency's check may take in `/health?deep=true`.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

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
    /// With `deep=true`: each dependency's check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<BTreeMap<&'static str, DependencyBody>>,
}

/// One dependency's answer to the readiness check.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DependencyBody {
    /// `ok`, `down` (it answered with an error) or `timeout` (no answer within 2 s).
    #[schema(example = "ok")]
    pub status: &'static str,
    #[schema(example = 3)]
    pub ms: u64,
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

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct HealthQuery {
    /// `true`: also check each dependency (store, queue, rate limiter), each within 2 s, and answer
    /// 503 when one is down.
    deep: Option<bool>,
}

/// Liveness: the process answers, with the month's upstream use. A failing dependency never fails it
/// (the use is then left out), so a load balancer never drops every instance because one blinked.
/// With `deep=true`, readiness: each dependency is checked, and one that is down makes it a 503.
#[utoipa::path(get, path = "/health", operation_id = "health", tag = "service", params(HealthQuery),
    responses(
        (status = 200, description = "The process is up (and, with `deep=true`, every dependency answered)", body = Health),
        (status = 400, description = "`deep` is not a boolean", body = crate::error::ErrorBody),
        (status = 503, description = "With `deep=true`: a dependency is down; `dependencies` says which", body = Health),
    ))]
pub async fn health(State(app): State<AppState>, query: Params) -> Result<Response, ApiError> {
    let deep = flag(&params(query)?, "deep")?;
    let dependencies = if deep {
        Some(check_dependencies(&app).await)
    } else {
        None
    };
    let ready = dependencies
        .as_ref()
        .is_none_or(|d| d.values().all(|c| c.status == "ok"));
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
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: if ready { "ok" } else { "unavailable" },
        version: env!("CARGO_PKG_VERSION"),
        upstream: app.upstream.as_str(),
        upstream_budget,
        dependencies,
    };
    Ok((status, Json(body)).into_response())
}

/// Every probe at once, each bounded by `PROBE_TIMEOUT`; a failure's detail goes to the log.
async fn check_dependencies(app: &AppState) -> BTreeMap<&'static str, DependencyBody> {
    let checks = app.probes.iter().map(|(name, probe)| async move {
        let started = Instant::now();
        let status = match tokio::time::timeout(PROBE_TIMEOUT, probe.probe()).await {
            Ok(Ok(())) => "ok",
            Ok(Err(e)) => {
                warn!(dependency = *name, error = %e, "readiness: dependency down");
                "down"
            }
            Err(_) => {
                warn!(
                    dependency = *name,
                    "readiness: dependency did not answer in time"
                );
                "timeout"
            }
        };
        let ms = started.elapsed().as_millis() as u64;
        (*name, DependencyBody { status, ms })
    });
    futures_util::future::join_all(checks)
        .await
        .into_iter()
        .collect()
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
