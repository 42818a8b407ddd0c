//! The worker's batch handler on real SQS event payloads, on the in-memory adapters.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use countries_core::country::{CountryCode, Fetched};
use countries_core::memory::{MemoryQueue, MemoryStore};
use countries_core::ports::{SystemClock, Upstream, UpstreamError};
use countries_core::service::FetchOutcome;
use countries_core::{Job, OpState, Service, Settings};
use countries_worker::Worker;
use serde_json::{Value, json};

const SQS: &str = include_str!("../../../tests/events/sqs-receive-message.json");

/// Succeeds for every country but Argentina, whose upstream answers 503.
struct ArgentinaDown;

#[async_trait]
impl Upstream for ArgentinaDown {
    fn kind(&self) -> &'static str {
        "test"
    }
    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        if code.as_str() == "AR" {
            return Err(UpstreamError::Retryable {
                message: "upstream HTTP 503: down".into(),
                retry_after: None,
            });
        }
        Ok(Fetched {
            document: json!({"cca2": code.as_str()}),
            raw: json!({}),
            source: "test".into(),
        })
    }
}

fn worker() -> (Worker, tokio::sync::mpsc::UnboundedReceiver<Job>) {
    let store = Arc::new(MemoryStore::new());
    let (queue, jobs) = MemoryQueue::new();
    let service = Service {
        index: countries_core::ident::index(),
        countries: store.clone(),
        operations: store,
        queue: Arc::new(queue),
        upstream: Arc::new(ArgentinaDown),
        clock: Arc::new(SystemClock),
        settings: Settings {
            max_attempts: 3,
            ..Settings::default()
        },
    };
    let worker = Worker {
        service: Arc::new(service),
        queue: None,
        max_receives: 3,
        concurrency: 4,
    };
    (worker, jobs)
}

async fn job_for(worker: &Worker, country: &str) -> Job {
    match worker.service.request_fetch(country, false).await.unwrap() {
        FetchOutcome::Accepted { op, .. } => Job::from(&op),
        other => panic!("{other:?}"),
    }
}

/// The sample event's record, with another id, body and receive count.
fn record(id: &str, body: &str, receives: u32) -> Value {
    let mut r: Value = serde_json::from_str::<Value>(SQS).unwrap()["Records"][0].clone();
    r["messageId"] = json!(id);
    r["body"] = json!(body);
    r["attributes"]["ApproximateReceiveCount"] = json!(receives.to_string());
    r
}

fn event(records: Vec<Value>) -> SqsEvent {
    serde_json::from_value(json!({"Records": records})).unwrap()
}

async fn state(worker: &Worker, country: &str) -> (OpState, Option<String>) {
    let (_, ops) = worker.service.status(country, 1).await.unwrap();
    (ops[0].state, ops[0].error.clone())
}

#[tokio::test]
async fn a_poison_message_and_an_upstream_failure_are_exactly_the_failures() {
    let (worker, _jobs) = worker();
    let py = serde_json::to_string(&job_for(&worker, "PY").await).unwrap();
    let ar = serde_json::to_string(&job_for(&worker, "AR").await).unwrap();
    let de = serde_json::to_string(&job_for(&worker, "DE").await).unwrap();
    let response = worker
        .handle(event(vec![
            record("m-py", &py, 1),
            record("m-poison", "Hello from SQS!", 1),
            record("m-ar", &ar, 1),
            record("m-de", &de, 1),
        ]))
        .await;
    let failed: HashSet<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, HashSet::from(["m-poison", "m-ar"]));
    assert_eq!(state(&worker, "PY").await.0, OpState::Succeeded);
    assert_eq!(state(&worker, "DE").await.0, OpState::Succeeded);
    assert_eq!(
        state(&worker, "AR").await,
        (OpState::Queued, Some("upstream HTTP 503: down".into()))
    );
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing() {
    let (worker, _jobs) = worker();
    let body = serde_json::to_string(&job_for(&worker, "PY").await).unwrap();
    let first = worker.handle(event(vec![record("m1", &body, 1)])).await;
    assert!(first.batch_item_failures.is_empty());
    let stored = worker.service.country("PY").await.unwrap();
    let (_, ops) = worker.service.status("PY", 10).await.unwrap();
    let again = worker.handle(event(vec![record("m1", &body, 2)])).await;
    assert!(
        again.batch_item_failures.is_empty(),
        "a duplicate is acknowledged"
    );
    assert_eq!(worker.service.country("PY").await.unwrap(), stored);
    assert_eq!(worker.service.status("PY", 10).await.unwrap().1, ops);
}

#[tokio::test]
async fn the_last_delivery_marks_the_operation_failed_before_the_dlq() {
    let (worker, _jobs) = worker();
    let body = serde_json::to_string(&job_for(&worker, "AR").await).unwrap();
    for receives in 1..=3 {
        let response = worker
            .handle(event(vec![record("m-ar", &body, receives)]))
            .await;
        assert_eq!(response.batch_item_failures.len(), 1, "delivery {receives}");
    }
    let (state, error) = state(&worker, "AR").await;
    assert_eq!(state, OpState::Failed);
    assert!(error.unwrap().contains("gave up after 3 attempts"));
}

#[tokio::test]
async fn the_receive_count_ends_an_operation_whose_attempts_lag() {
    // The operation has had one attempt, but this is the queue's last delivery (earlier ones were lost to
    // crashes or timeouts): the operation is failed now, not left queued behind a message in the DLQ.
    let (worker, _jobs) = worker();
    let body = serde_json::to_string(&job_for(&worker, "AR").await).unwrap();
    let response = worker.handle(event(vec![record("m-ar", &body, 3)])).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    let (state, error) = state(&worker, "AR").await;
    assert_eq!(state, OpState::Failed);
    assert!(
        error.unwrap().contains("gave up after 3 deliveries"),
        "dead-letter queue"
    );
}
