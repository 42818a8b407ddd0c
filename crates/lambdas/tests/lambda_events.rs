//! The router as the api Lambda runs it, on real API Gateway event payloads (HTTP API v2 and REST API v1,
//! with and without a stage), converted by lambda_http exactly as in Lambda.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use countries_api::{AppState, router};
use countries_core::Job;
use countries_core::memory::{InMemory, MemoryLimiter, Unmetered};
use countries_core::ratelimit::{Limit, LimiterPolicy, RateLimits};
use countries_core::usecases::{FreshnessPolicy, RetryPolicy};
use countries_lambdas::gateway::behind_api_gateway;
use countries_upstream::Bundled;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;
use tower::ServiceExt;

const V2: &str = include_str!("../../../tests/events/apigw-http-api-proxy.json");
const V2_PLAIN: &str =
    include_str!("../../../tests/events/example-apigw-v2-request-no-authorizer.json");
const V1: &str = include_str!("../../../tests/events/apigw-rest-aws-proxy.json");

/// The router on the in-memory adapters behind the Lambda middleware, and the queue's receiving end,
/// which must stay open for fetches to be accepted.
fn lambda_app(fetch_limit: u32) -> (Router, UnboundedReceiver<Job>) {
    let memory = InMemory::new(
        (Arc::new(Bundled::new()), Arc::new(Unmetered)),
        FreshnessPolicy::default(),
        RetryPolicy::default(),
    );
    let limits = RateLimits {
        fetch: Limit::new(fetch_limit, Duration::from_secs(60)),
        read: Limit::new(1000, Duration::from_secs(60)),
        sync: Limit::new(1000, Duration::from_secs(60)),
        on_error: LimiterPolicy::Open,
    };
    let state = AppState::new(
        &memory.cases.api,
        (Arc::new(MemoryLimiter::new(&limits)), limits.on_error),
        memory.metrics.clone(),
    );
    (behind_api_gateway(router(state)), memory.jobs)
}

/// An HTTP API v2 event for `path` (the raw path as API Gateway sends it) from `ip`, on `stage`.
fn v2(base: &str, path: &str, stage: &str, ip: &str) -> String {
    let mut e: Value = serde_json::from_str(base).unwrap();
    e["rawPath"] = json!(path);
    e["rawQueryString"] = json!("");
    e.as_object_mut().unwrap().remove("queryStringParameters");
    e.as_object_mut().unwrap().remove("cookies");
    e["requestContext"]["stage"] = json!(stage);
    e["requestContext"]["http"]["path"] = json!(path);
    e["requestContext"]["http"]["method"] = json!("GET");
    e["requestContext"]["http"]["sourceIp"] = json!(ip);
    e.to_string()
}

/// A REST API v1 event for `path` (without the stage, as API Gateway sends it) from `ip`, on `stage`.
fn v1(path: &str, stage: &str, ip: &str) -> String {
    let mut e: Value = serde_json::from_str(V1).unwrap();
    e["path"] = json!(path);
    e["httpMethod"] = json!("GET");
    e["body"] = Value::Null;
    e["isBase64Encoded"] = json!(false);
    e["queryStringParameters"] = Value::Null;
    e["multiValueQueryStringParameters"] = Value::Null;
    e["requestContext"]["stage"] = json!(stage);
    e["requestContext"]["path"] = json!(format!("/{stage}{path}"));
    e["requestContext"]["httpMethod"] = json!("GET");
    e["requestContext"]["identity"]["sourceIp"] = json!(ip);
    e.to_string()
}

async fn invoke(app: &Router, event: &str) -> (u16, Value) {
    let req = lambda_http::request::from_str(event).expect("an API Gateway event");
    let response = app
        .clone()
        .oneshot(req.map(axum::body::Body::new))
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn http_api_v2_events_reach_the_right_route_with_and_without_a_stage() {
    let (app, _keep) = lambda_app(100);
    for (base, stage, path) in [
        (V2, "prod", "/prod/fetch/PY"),
        (V2, "prod", "/fetch/PY"),
        (V2_PLAIN, "$default", "/fetch/PY"),
    ] {
        let (status, body) = invoke(&app, &v2(base, path, stage, "198.51.100.1")).await;
        assert!(status == 202, "{stage} {path}: {status} {body}");
        assert_eq!(body["country"], "PY");
    }
    let (status, body) = invoke(
        &app,
        &v2(V2, "/prod/country/paraguay", "prod", "198.51.100.1"),
    )
    .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("CountryNotFetched"))
    );
    let (status, body) = invoke(&app, &v2(V2, "/prod/nowhere", "prod", "198.51.100.1")).await;
    assert_eq!((status, body["Code"].as_str()), (404, Some("NotFound")));
}

#[tokio::test]
async fn rest_api_v1_events_reach_the_right_route_with_a_stage() {
    let (app, _keep) = lambda_app(100);
    let (status, body) = invoke(&app, &v1("/fetch/costa-rica", "prod", "198.51.100.2")).await;
    assert_eq!(
        (status, body["country"].as_str()),
        (202, Some("CR")),
        "{body}"
    );
    let (status, body) = invoke(&app, &v1("/status/CR", "dev", "198.51.100.2")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["operations"][0]["state"], "queued");
    let (status, _) = invoke(&app, &v1("/health", "prod", "198.51.100.2")).await;
    assert_eq!(status, 200);
}

/// The limiter keys on the caller's IP from the request context, not on a header.
#[tokio::test]
async fn the_limiter_keys_on_the_source_ip_of_the_request_context() {
    let (app, _keep) = lambda_app(1);
    let first = invoke(&app, &v2(V2, "/prod/fetch/DE", "prod", "192.0.2.50")).await;
    assert_eq!(first.0, 202);
    let (status, body) = invoke(&app, &v2(V2, "/prod/fetch/FR", "prod", "192.0.2.50")).await;
    assert_eq!((status, body["Code"].as_str()), (429, Some("RateLimited")));
    let other = invoke(&app, &v2(V2, "/prod/fetch/FR", "prod", "192.0.2.51")).await;
    assert_eq!(other.0, 202);
    let (status, _) = invoke(&app, &v1("/fetch/IT", "prod", "192.0.2.50")).await;
    assert_eq!(status, 429, "the same caller through the REST API");
}
