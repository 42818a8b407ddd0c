//! Helpers for the end-to-end tests: start a built binary, talk to it over loopback.

pub mod deployment;
pub mod hcl_eval;
pub mod iam;
pub mod provider_schema;
pub mod proxy;
pub mod runtime;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use countries_core::config::Source;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A workspace binary, built by `cargo build --bins` (as `make test` does before the tests).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the target directory")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first with `cargo build --bins` (`make test` does)",
        path.display()
    );
    path
}

/// The local server as a child process on a free loopback port; killed when dropped.
pub struct LocalServer {
    pub base: String,
    child: Child,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl LocalServer {
    pub fn start(env: &[(&str, &str)]) -> LocalServer {
        let mut cmd = Command::new(binary("countries-local"));
        cmd.env_clear()
            .env("PORT", "0")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start countries-local");
        let stdout = child.stdout.take().unwrap();
        let mut stdout = BufReader::new(stdout);
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        // Keep reading: a closed pipe would make the server's next print fail.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let base = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in the banner: {first:?}"))
            .to_string();
        let stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
            }
            all
        });
        LocalServer {
            base,
            child,
            stderr: Some(stderr),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM, waits for the exit, and returns whether it exited cleanly and its log.
    pub fn terminate(mut self) -> (bool, String) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        let log = self.stderr.take().unwrap().join().unwrap();
        (status.success(), log)
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// GETs a URL and returns the status, the headers and the JSON body (`Null` when empty).
pub async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {bytes:?}"))
    };
    (status, headers, body)
}

/// Sends `GET {path}` exactly as written (no URL normalisation) over a fresh connection and returns the
/// status and the body.
pub async fn raw_get(base: &str, path: &str) -> (u16, String) {
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{path}: no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Polls `/status/{country}` until its newest operation is final; returns that operation.
pub async fn wait_final(server: &LocalServer, country: &str, timeout: Duration) -> Value {
    let started = Instant::now();
    loop {
        let (status, _, body) = get(&server.url(&format!("/status/{country}?limit=1"))).await;
        assert_eq!(status, 200, "{body}");
        let op = &body["operations"][0];
        if matches!(
            op["state"].as_str(),
            Some("succeeded" | "not_found" | "failed")
        ) {
            return op.clone();
        }
        assert!(
            started.elapsed() < timeout,
            "{country} not final after {timeout:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A configuration source that answers from a map and remembers every name asked for.
pub struct Recording {
    values: BTreeMap<String, String>,
    asked: Mutex<BTreeSet<String>>,
}

impl Recording {
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Recording {
            values,
            asked: Mutex::new(BTreeSet::new()),
        }
    }
    pub fn asked(&self) -> BTreeSet<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Source for Recording {
    fn var(&self, name: &str) -> Option<String> {
        self.asked.lock().unwrap().insert(name.to_string());
        self.values.get(name).cloned()
    }
}
