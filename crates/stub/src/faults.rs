//! Fault injection: the faults a test or a demo can queue or make sticky, and the middleware that applies
//! them to data requests.

use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::StubState;

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
    /// Answer 200 with the real body cut in half, as a complete response (no `Content-Length`).
    Truncated,
    /// Send half the real body under the full `Content-Length`, then close the connection.
    ShortBody,
    /// Send half the real body, then reset the connection.
    ResetMidBody,
    /// Answer 200 with v5's envelope and no objects: v5's "no match".
    EmptyObjects,
    /// Answer 429, with `Retry-After` when given.
    RateLimited {
        #[serde(default)]
        retry_after: Option<u64>,
    },
    /// Accept the request and never answer.
    Hang,
    /// Answer 302 to `location`, wherever it points.
    Redirect { location: String },
    /// Answer with this status and an HTML page of `bytes` bytes, streamed without `Content-Length`
    /// unless one is given (a lie when it differs from `bytes`).
    Huge {
        status: u16,
        bytes: u64,
        #[serde(default)]
        content_length: Option<u64>,
    },
    /// Answer with this status and v5's error envelope, its message quoting the request's
    /// `Authorization` header, as a debugging proxy or a careless upstream would.
    EchoKey { status: u16 },
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

/// The chunk a [`Fault::Huge`] page is streamed in.
const CHUNK: usize = 64 * 1024;

pub(crate) async fn inject(State(s): State<Arc<StubState>>, req: Request, next: Next) -> Response {
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
            format!(
                "<!DOCTYPE html><html><head><title>{code} {}</title></head><body><h1>{code}</h1><p>The origin is not answering.</p></body></html>",
                status(code).canonical_reason().unwrap_or("Error")
            ),
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
        Fault::ShortBody | Fault::ResetMidBody => {
            let response = next.run(req).await;
            let (mut parts, body) = response.into_parts();
            let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
            let half = bytes.slice(..bytes.len() / 2);
            let end: Result<Bytes, std::io::Error> = match fault {
                Fault::ShortBody => {
                    parts.headers.insert(header::CONTENT_LENGTH, bytes.len().into());
                    Ok(Bytes::new())
                }
                _ => Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "reset by the stand-in",
                )),
            };
            let chunks = futures_util::stream::iter([Ok(half), end]);
            Response::from_parts(parts, Body::from_stream(chunks))
        }
        Fault::EmptyObjects => Json(json!({
            "data": {"objects": [], "meta": {"total": 0, "count": 0, "limit": 25, "offset": 0,
                                             "more": false, "request_id": "stub", "duration": 0.1}}
        }))
        .into_response(),
        Fault::RateLimited { retry_after } => {
            let mut response = (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response();
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, secs.into());
            }
            response
        }
        Fault::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Fault::Redirect { location } => {
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        Fault::Huge {
            status: code,
            bytes,
            content_length,
        } => {
            let head = Bytes::from(format!(
                "<!DOCTYPE html><html><head><title>{code} {}</title></head><body>",
                status(code).canonical_reason().unwrap_or("Error")
            ));
            let padding = Bytes::from(vec![b'x'; CHUNK]);
            // Made as it is sent, so that a page of gigabytes costs the stand-in no memory.
            let chunks = futures_util::stream::unfold(bytes, move |left| {
                let chunk = if left == bytes {
                    head.clone()
                } else {
                    padding.clone()
                };
                let chunk = chunk.slice(..chunk.len().min(left as usize));
                let left = left - chunk.len() as u64;
                async move { (!chunk.is_empty()).then_some((Ok::<_, std::io::Error>(chunk), left)) }
            });
            let mut response = (status(code), Body::from_stream(chunks)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, "text/html".parse().unwrap());
            if let Some(length) = content_length {
                headers.insert(header::CONTENT_LENGTH, length.into());
            }
            response
        }
        Fault::EchoKey { status: code } => {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("(none)")
                .to_string();
            (
                status(code),
                Json(json!({"success": false, "data": null, "errors": [{"message": format!("invalid key {given}")}]})),
            )
                .into_response()
        }
    }
}
