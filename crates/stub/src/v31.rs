//! The v3.1 view: `GET /v3.1/alpha/{code}`, the one call the v3.1 client makes, as a self-hosted
//! REST Countries v3.1 server answers it (a list, or one object with `?fields=`; 404 `{"status", "message"}`).

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
