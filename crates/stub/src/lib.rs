//! A REST Countries stand-in serving the bundled data set as v3.1 and as v5, with fault injection and a
//! count of the requests it served, so that tests can assert how many upstream calls happened.
//!
//! Control it in-process through [`Stub`], or over HTTP: `POST /_stub/faults` with
//! `{"faults": [{"kind": "status", "status": 503}, ...], "sticky": null}`, `GET /_stub/stats`,
//! `POST /_stub/reset`.

pub mod v5view;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One injected fault, applied to one data request (or to all while sticky).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer with this status and a JSON error envelope.
    Status { status: u16 },
    /// Answer normally after a delay.
    Latency { ms: u64 },
    /// Answer with this status and an HTML error page.
    Html { status: u16 },
    /// Answer 200 with a body that is not JSON.
    Malformed,
    /// Answer 200 with the real body cut in half.
    Truncated,
    /// Answer 429 with `Retry-After`.
    RateLimited { retry_after: u64 },
    /// Accept the request and never answer.
    Hang,
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct FaultPlan {
    /// Applied to the next requests, one each, in order.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Applied to every request once `faults` is used up; `null` clears it.
    #[serde(default)]
    pub sticky: Option<Fault>,
}

struct StubState {
    v31: Vec<Value>,
    v5: Vec<Value>,
    api_key: Option<String>,
    faults: Mutex<VecDeque<Fault>>,
    sticky: Mutex<Option<Fault>>,
    requests: AtomicU64,
}

impl StubState {
    fn next_fault(&self) -> Option<Fault> {
        let queued = self.faults.lock().unwrap().pop_front();
        queued.or_else(|| self.sticky.lock().unwrap().clone())
    }

    fn plan(&self, plan: FaultPlan) {
        *self.faults.lock().unwrap() = plan.faults.into();
        *self.sticky.lock().unwrap() = plan.sticky;
    }
}

#[derive(Debug, Clone, Default)]
pub struct StubOptions {
    /// When set, v5 requests must carry `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
}

/// A running stand-in; it stops when dropped.
pub struct Stub {
    pub addr: SocketAddr,
    state: Arc<StubState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stub {
    /// Starts on a free loopback port.
    pub async fn start(options: StubOptions) -> std::io::Result<Stub> {
        Self::start_on("127.0.0.1:0".parse().unwrap(), options).await
    }

    pub async fn start_on(addr: SocketAddr, options: StubOptions) -> std::io::Result<Stub> {
        let state = new_state(options);
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Ok(Stub { addr, state, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL a v3.1 client is configured with.
    pub fn v31_base(&self) -> String {
        format!("{}/v3.1", self.url())
    }

    /// The base URL a v5 client is configured with.
    pub fn v5_base(&self) -> String {
        format!("{}/countries/v5", self.url())
    }

    pub fn push_faults(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.faults.lock().unwrap().extend(faults);
    }

    pub fn set_sticky(&self, fault: Option<Fault>) {
        *self.state.sticky.lock().unwrap() = fault;
    }

    /// Data requests served (or failed on purpose) since start or the last reset.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.state.plan(FaultPlan::default());
        self.state.requests.store(0, Ordering::SeqCst);
    }
}

fn new_state(options: StubOptions) -> Arc<StubState> {
    let v31 = countries_core::dataset::documents();
    let v5 = v31.iter().map(v5view::to_v5).collect();
    Arc::new(StubState {
        v31,
        v5,
        api_key: options.api_key,
        faults: Mutex::new(VecDeque::new()),
        sticky: Mutex::new(None),
        requests: AtomicU64::new(0),
    })
}

/// The stand-in's routes, for serving from a binary.
pub fn app(options: StubOptions) -> Router {
    router(new_state(options))
}

fn router(state: Arc<StubState>) -> Router {
    let v5 = Router::new()
        .route("/countries/v5", get(v5_list))
        .route("/countries/v5/name", get(v5_name_search))
        .route("/countries/v5/{property}/{value}", get(v5_lookup))
        .layer(middleware::from_fn_with_state(state.clone(), require_key));
    let data = Router::new()
        .route("/v3.1/alpha/{code}", get(v31_alpha))
        .route("/v3.1/name/{name}", get(v31_name))
        .route("/v3.1/all", get(v31_all))
        .merge(v5)
        .layer(middleware::from_fn_with_state(state.clone(), inject_faults));
    Router::new()
        .route("/_stub/faults", post(set_faults))
        .route("/_stub/stats", get(stats))
        .route("/_stub/reset", post(reset))
        .merge(data)
        .with_state(state)
}

async fn set_faults(State(s): State<Arc<StubState>>, Json(plan): Json<FaultPlan>) -> StatusCode {
    s.plan(plan);
    StatusCode::NO_CONTENT
}

async fn stats(State(s): State<Arc<StubState>>) -> Json<Value> {
    Json(json!({"requests": s.requests.load(Ordering::SeqCst)}))
}

async fn reset(State(s): State<Arc<StubState>>) -> StatusCode {
    s.plan(FaultPlan::default());
    s.requests.store(0, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

async fn inject_faults(State(s): State<Arc<StubState>>, req: Request, next: Next) -> Response {
    s.requests.fetch_add(1, Ordering::SeqCst);
    let Some(fault) = s.next_fault() else {
        return next.run(req).await;
    };
    let status =
        |code: u16| StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match fault {
        Fault::Status { status: code } => (
            status(code),
            Json(json!({"success": false, "data": null, "errors": [{"message": format!("Injected HTTP {code}")}]})),
        )
            .into_response(),
        Fault::Latency { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Fault::Html { status: code } => (
            status(code),
            [(header::CONTENT_TYPE, "text/html")],
            format!("<!DOCTYPE html><html><head><title>{code} Bad Gateway</title></head><body><h1>{code}</h1><p>The origin is not answering.</p></body></html>"),
        )
            .into_response(),
        Fault::Malformed => (
            [(header::CONTENT_TYPE, "application/json")],
            "{\"data\": {\"objects\": [ not json",
        )
            .into_response(),
        Fault::Truncated => {
            let response = next.run(req).await;
            let (parts, body) = response.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            let half = bytes.slice(..bytes.len() / 2);
            let mut parts = parts;
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(half))
        }
        Fault::RateLimited { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, retry_after.to_string())],
            "Too Many Requests",
        )
            .into_response(),
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    }
}

fn v5_error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"errors": [{"message": message}]}))).into_response()
}

async fn require_key(
    State(s): State<Arc<StubState>>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    let Some(key) = &s.api_key else {
        return next.run(req).await;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(g) if g == key => next.run(req).await,
        Some(_) => v5_error(StatusCode::UNAUTHORIZED, "Invalid API key."),
        None => v5_error(StatusCode::UNAUTHORIZED, "Authorization key required."),
    }
}

fn v5_envelope(objects: Vec<Value>, total: usize, limit: usize, offset: usize) -> Response {
    let count = objects.len();
    Json(json!({
        "data": {
            "objects": objects,
            "meta": {
                "total": total, "count": count, "limit": limit, "offset": offset,
                "more": offset + count < total, "request_id": "stub", "duration": 0.1
            }
        }
    }))
    .into_response()
}

fn eq_ci(v: &Value, s: &str) -> bool {
    v.as_str()
        .is_some_and(|v| !v.is_empty() && v.eq_ignore_ascii_case(s))
}

async fn v5_lookup(
    State(s): State<Arc<StubState>>,
    Path((property, value)): Path<(String, String)>,
) -> Response {
    let field: &dyn Fn(&Value) -> &Value = match property.as_str() {
        "codes.alpha_2" => &|d| &d["codes"]["alpha_2"],
        "codes.alpha_3" => &|d| &d["codes"]["alpha_3"],
        "codes.ccn3" => &|d| &d["codes"]["ccn3"],
        "codes.cioc" => &|d| &d["codes"]["cioc"],
        "names.common" => &|d| &d["names"]["common"],
        _ => {
            return v5_error(
                StatusCode::NOT_FOUND,
                &format!("Unknown property `{property}`."),
            );
        }
    };
    let found: Vec<Value> =
        s.v5.iter()
            .filter(|d| eq_ci(field(d), &value))
            .cloned()
            .collect();
    if found.is_empty() {
        return v5_error(StatusCode::NOT_FOUND, "No countries found.");
    }
    let total = found.len();
    v5_envelope(found, total, 25, 0)
}

#[derive(Deserialize)]
struct V5Query {
    q: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn v5_name_search(State(s): State<Arc<StubState>>, Query(q): Query<V5Query>) -> Response {
    let Some(needle) = q.q.map(|q| q.to_lowercase()).filter(|q| !q.is_empty()) else {
        return v5_error(StatusCode::BAD_REQUEST, "Parameter `q` is required.");
    };
    let found: Vec<Value> =
        s.v5.iter()
            .filter(|d| {
                let names = &d["names"];
                [&names["common"], &names["official"]]
                    .into_iter()
                    .chain(names["alternates"].as_array().into_iter().flatten())
                    .filter_map(Value::as_str)
                    .any(|n| n.to_lowercase().contains(&needle))
            })
            .map(|d| {
                let mut d = d.clone();
                d["_match"] = json!({"field": "names", "score": 1.0});
                d
            })
            .collect();
    if found.is_empty() {
        return v5_error(StatusCode::NOT_FOUND, "No countries found.");
    }
    page(found, q.limit, q.offset)
}

async fn v5_list(State(s): State<Arc<StubState>>, Query(q): Query<V5Query>) -> Response {
    page(s.v5.clone(), q.limit, q.offset)
}

fn page(all: Vec<Value>, limit: Option<usize>, offset: Option<usize>) -> Response {
    let limit = limit.unwrap_or(25);
    if !(1..=100).contains(&limit) {
        return v5_error(StatusCode::BAD_REQUEST, "`limit` must be from 1 to 100.");
    }
    let offset = offset.unwrap_or(0);
    let total = all.len();
    let objects = all.into_iter().skip(offset).take(limit).collect();
    v5_envelope(objects, total, limit, offset)
}

fn v31_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"status": 404, "message": "Not Found"})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct V31Query {
    fields: Option<String>,
    #[serde(rename = "fullText")]
    full_text: Option<bool>,
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

async fn v31_alpha(
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

async fn v31_name(
    State(s): State<Arc<StubState>>,
    Path(name): Path<String>,
    Query(q): Query<V31Query>,
) -> Response {
    let needle = name.to_lowercase();
    let full = q.full_text.unwrap_or(false);
    let found: Vec<Value> = s
        .v31
        .iter()
        .filter(|d| {
            [&d["name"]["common"], &d["name"]["official"]]
                .into_iter()
                .filter_map(Value::as_str)
                .any(|n| {
                    let n = n.to_lowercase();
                    if full {
                        n == needle
                    } else {
                        n.contains(&needle)
                    }
                })
        })
        .cloned()
        .collect();
    if found.is_empty() {
        return v31_not_found();
    }
    Json(found).into_response()
}

async fn v31_all(State(s): State<Arc<StubState>>, Query(q): Query<V31Query>) -> Response {
    let fields = q.fields.unwrap_or_default();
    let n = fields.split(',').filter(|f| !f.trim().is_empty()).count();
    if !(1..=10).contains(&n) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"status": 400, "message": "'fields' query not specified or more than 10 fields"})),
        )
            .into_response();
    }
    Json(s.v31.iter().map(|d| select(d, &fields)).collect::<Vec<_>>()).into_response()
}
