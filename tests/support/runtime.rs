//! A Lambda Runtime API (2018-06-01) on loopback, enough to run a built function binary as Lambda runs
//! it: the binary polls `invocation/next`, posts its response or error, and we hand out events one at a
//! time through [`Runtime::invoke`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot};

type Reply = Result<Value, String>;

#[derive(Clone)]
struct Shared {
    events: Arc<AsyncMutex<mpsc::Receiver<(String, Value)>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Reply>>>>,
    init_error: Arc<Mutex<Option<String>>>,
}

/// A function process under the emulated runtime; killed when dropped.
pub struct Runtime {
    pub addr: SocketAddr,
    tx: mpsc::Sender<(String, Value)>,
    shared: Shared,
    child: Child,
    task: tokio::task::JoinHandle<()>,
    counter: std::sync::atomic::AtomicU64,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        self.task.abort();
    }
}

impl Runtime {
    /// Starts the Runtime API and the workspace's function `binary` against it with `env`.
    pub async fn start(binary: &str, env: &[(String, String)]) -> Runtime {
        Self::launch(binary, Command::new(crate::binary(binary)), env).await
    }

    /// As [`Runtime::start`], the function `name` started by `command` (an emulator and a binary).
    pub async fn launch(name: &str, mut command: Command, env: &[(String, String)]) -> Runtime {
        let (tx, rx) = mpsc::channel(16);
        let shared = Shared {
            events: Arc::new(AsyncMutex::new(rx)),
            waiting: Arc::default(),
            init_error: Arc::default(),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        let child = command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Runtime {
            addr,
            tx,
            shared,
            child,
            task,
            counter: Default::default(),
        }
    }

    /// Hands `event` to the function and waits for its answer.
    pub async fn invoke(&self, event: Value) -> Reply {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let (reply_tx, reply_rx) = oneshot::channel();
        self.shared
            .waiting
            .lock()
            .unwrap()
            .insert(id.clone(), reply_tx);
        self.tx.send((id, event)).await.unwrap();
        match tokio::time::timeout(Duration::from_secs(30), reply_rx).await {
            Ok(Ok(reply)) => reply,
            _ => Err(format!(
                "no answer in 30 s (init error: {:?})",
                self.shared.init_error.lock().unwrap()
            )),
        }
    }
}

async fn next(State(s): State<Shared>) -> Response {
    let Some((id, event)) = s.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        + 30_000;
    let mut headers = HeaderMap::new();
    let mut set = |k: &'static str, v: String| {
        headers.insert(k, HeaderValue::from_str(&v).unwrap());
    };
    set("lambda-runtime-aws-request-id", id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:test".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".into(),
    );
    set("content-type", "application/json".into());
    (headers, event.to_string()).into_response()
}

async fn response(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let reply = serde_json::from_slice(&body).map_err(|e| format!("the response is not JSON: {e}"));
    if let Some(tx) = s.waiting.lock().unwrap().remove(&id) {
        tx.send(reply).ok();
    }
    StatusCode::ACCEPTED
}

async fn error(State(s): State<Shared>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    if let Some(tx) = s.waiting.lock().unwrap().remove(&id) {
        tx.send(Err(String::from_utf8_lossy(&body).to_string()))
            .ok();
    }
    StatusCode::ACCEPTED
}

async fn init_error(State(s): State<Shared>, body: Bytes) -> StatusCode {
    *s.init_error.lock().unwrap() = Some(String::from_utf8_lossy(&body).to_string());
    StatusCode::ACCEPTED
}
