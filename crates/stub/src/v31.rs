//! The v3.1 view: `GET /v3.1/alpha/{code}` and `GET /v3.1/all?fields=`, the calls the v3.1 client
//! makes, as a self-hosted REST Countries v3.1 server answers them (a list, or one object for `alpha` with
//! `?fields=`; 404 `{"status", "message"}`; `/all` only with 1 to 10 fields).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{StubState, eq_ci};

fn v31_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"status": 404, "message": "Not Found"})),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(crate) struct V31Query {
    fields: Option<String>,
}

fn select(d: &Value, fields: &str) -> Value {
    let wanted: Vec<&str> = fields.split(',').map(str::trim).collect();
    let obj = d
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| wanted.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(obj)
}

pub(crate) async fn alpha(
    State(s): State<Arc<StubState>>,
    Path(code): Path<String>,
    Query(q): Query<V31Query>,
) -> Response {
    let found = s.v31.iter().find(|d| {
        ["cca2", "cca3", "ccn3", "cioc"]
            .iter()
            .any(|k| eq_ci(&d[*k], &code))
    });
    match (found, q.fields) {
        (None, _) => v31_not_found(),
        (Some(d), Some(fields)) => Json(select(d, &fields)).into_response(),
        (Some(d), None) => Json(json!([d])).into_response(),
    }
}

/// `GET /v3.1/all?fields=`: as the last v3.1 server, 400 unless `fields` names 1 to 10 fields.
pub(crate) async fn all(State(s): State<Arc<StubState>>, Query(q): Query<V31Query>) -> Response {
    let fields = q.fields.unwrap_or_default();
    let names: Vec<&str> = fields.split(',').map(str::trim).collect();
    if fields.is_empty() || names.iter().any(|n| n.is_empty()) || names.len() > 10 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": 400,
                "message": "'fields' query not specified or you're requesting more than 10 fields"})),
        )
            .into_response();
    }
    Json(Value::Array(
        s.v31.iter().map(|d| select(d, &fields)).collect(),
    ))
    .into_response()
}
