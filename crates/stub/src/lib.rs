//! A REST Countries stand-in serving the bundled data set as v3.1 and as v5, with fault injection and a
//! count of the requests it served, so that tests can assert how many upstream calls happened.
//!
//! Control it in-process through [`Stub`], or over HTTP: `POST /_stub/faults` with
//! `{"faults": [{"kind": "status", "status": 503}, ...], "sticky": null}`, `GET /_stub/stats`,
//! `POST /_stub/reset`.

mod faults;
mod v31;
pub mod v5;

pub use faults::{Fault, FaultPlan};

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub(crate) struct StubState {
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
    let v5 = v31.iter().map(v5::to_v5).collect();
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
        .route("/countries/v5", get(v5::list))
        .route("/countries/v5/{property}/{value}", get(v5::lookup))
        .method_not_allowed_fallback(v5::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            v5::require_key,
        ));
    let data = Router::new()
        .route("/v3.1/alpha/{code}", get(v31::alpha))
        .route("/v3.1/all", get(v31::all))
        .merge(v5)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ));
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

/// Whether `v` is a non-empty string equal to `s`, ignoring ASCII case.
fn eq_ci(v: &Value, s: &str) -> bool {
    v.as_str()
        .is_some_and(|v| !v.is_empty() && v.eq_ignore_ascii_case(s))
}
