//! The worker's batch handler on real SQS event payloads, on the in-memory adapters.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use countries_core::budget::BudgetPolicy;
use countries_core::memory::{InMemory, MemoryBudget, Unmetered};
use countries_core::ports::{Upstream, UpstreamBudget, UpstreamError};
use countries_core::ratelimit::Limit;
use countries_core::usecases::{FetchOutcome, FreshnessPolicy, RetryPolicy, UseCases};
use countries_core::{Job, OperationState};
use countries_testkit::Scripted;
use countries_worker::{Worker, WorkerSettings};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

const SQS: &str = include_str!("../../../tests/events/sqs-receive-message.json");

/// Succeeds for every country but Argentina, whose upstream answers 503.
fn argentina_down() -> Arc<Scripted> {
    let down = UpstreamError::Retryable {
        message: "upstream HTTP 503: down".into(),
        retry_after: None,
    };
    Arc::new(Scripted::new().failing("AR", down))
}

struct Fixture {
    worker: Worker,
    cases: UseCases,
    _queued: UnboundedReceiver<Job>,
}

/// The use cases on the memory adapters and a worker running `concurrency` records at once on them.
fn worker_on(
    upstream: (Arc<dyn Upstream>, Arc<dyn UpstreamBudget>),
    retry: RetryPolicy,
    concurrency: usize,
) -> (Worker, InMemory) {
    let memory = InMemory::new(upstream, FreshnessPolicy::default(), retry);
    let worker = Worker::new(
        (
            memory.cases.worker.jobs.clone(),
            memory.cases.worker.syncs.clone(),
        ),
        memory.queue.clone(),
        None,
        WorkerSettings { concurrency },
    );
    (worker, memory)
}

/// The worker on the memory adapters, with `MAX_ATTEMPTS` (and so the queue's receive count) 3.
fn fixture() -> Fixture {
    let retry = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let (worker, memory) = worker_on((argentina_down(), Arc::new(Unmetered)), retry, 4);
    Fixture {
        worker,
        cases: memory.cases,
        _queued: memory.jobs,
    }
}

impl Fixture {
    async fn job_for(&self, country: &str) -> String {
        match self
            .cases
            .api
            .fetches
            .request(country, false)
            .await
            .unwrap()
        {
            FetchOutcome::Accepted { op, .. } => serde_json::to_string(&Job::from(&op)).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    async fn state(&self, country: &str) -> (OperationState, Option<String>) {
        let (_, ops) = self.cases.api.reads.status(country, 1).await.unwrap();
        (ops[0].state(), ops[0].error().map(str::to_string))
    }
}

/// Requests a fetch of `country` and takes the message its job went out as.
async fn queued(memory: &mut InMemory, country: &str) -> String {
    memory
        .cases
        .api
        .fetches
        .request(country, false)
        .await
        .unwrap();
    serde_json::to_string(&memory.jobs.try_recv().unwrap()).unwrap()
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

#[tokio::test]
async fn a_poison_message_and_an_upstream_failure_are_exactly_the_failures() {
    let f = fixture();
    let py = f.job_for("PY").await;
    let ar = f.job_for("AR").await;
    let de = f.job_for("DE").await;
    let response = f
        .worker
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
    assert_eq!(f.state("PY").await.0, OperationState::Succeeded);
    assert_eq!(f.state("DE").await.0, OperationState::Succeeded);
    assert_eq!(
        f.state("AR").await,
        (
            OperationState::Queued,
            Some("upstream HTTP 503: down".into())
        )
    );
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing() {
    let f = fixture();
    let body = f.job_for("PY").await;
    let first = f.worker.handle(event(vec![record("m1", &body, 1)])).await;
    assert!(first.batch_item_failures.is_empty());
    let stored = f.cases.api.reads.country("PY").await.unwrap();
    let (_, ops) = f.cases.api.reads.status("PY", 10).await.unwrap();
    let again = f.worker.handle(event(vec![record("m1", &body, 2)])).await;
    assert!(
        again.batch_item_failures.is_empty(),
        "a duplicate is acknowledged"
    );
    assert_eq!(f.cases.api.reads.country("PY").await.unwrap(), stored);
    assert_eq!(f.cases.api.reads.status("PY", 10).await.unwrap().1, ops);
}

#[tokio::test]
async fn the_last_delivery_marks_the_operation_failed_before_the_dlq() {
    let f = fixture();
    let body = f.job_for("AR").await;
    for receives in 1..=3 {
        let response = f
            .worker
            .handle(event(vec![record("m-ar", &body, receives)]))
            .await;
        assert_eq!(response.batch_item_failures.len(), 1, "delivery {receives}");
    }
    let (state, error) = f.state("AR").await;
    assert_eq!(state, OperationState::Failed);
    assert!(error.unwrap().contains("gave up after 3 attempts"));
}

#[tokio::test]
async fn the_receive_count_ends_an_operation_whose_attempts_lag() {
    // The operation has had one attempt, but this is the queue's last delivery (earlier ones were lost to
    // crashes or timeouts): the operation is failed now, not left queued behind a message in the DLQ.
    let f = fixture();
    let body = f.job_for("AR").await;
    let response = f.worker.handle(event(vec![record("m-ar", &body, 3)])).await;
    assert_eq!(response.batch_item_failures.len(), 1);
    let (state, error) = f.state("AR").await;
    assert_eq!(state, OperationState::Failed);
    assert!(
        error.unwrap().contains("gave up after 3 deliveries"),
        "dead-letter queue"
    );
}

/// A job the upstream budget cannot afford now is acknowledged and queued again as a new message (so
/// that waiting never counts as a delivery towards the dead-letter queue), its operation still queued.
#[tokio::test]
async fn a_job_the_budget_cannot_afford_is_queued_again_and_acknowledged() {
    let policy = BudgetPolicy {
        burst: Limit::new(1, Duration::from_secs(1)),
        monthly_quota: 100,
    };
    let budget = Arc::new(MemoryBudget::new(policy));
    let (worker, mut memory) = worker_on((argentina_down(), budget), RetryPolicy::default(), 1);
    let mut bodies = Vec::new();
    for country in ["PY", "DE"] {
        bodies.push(queued(&mut memory, country).await);
    }
    let response = worker
        .handle(event(vec![
            record("m-py", &bodies[0], 1),
            record("m-de", &bodies[1], 1),
        ]))
        .await;
    assert!(response.batch_item_failures.is_empty(), "both acknowledged");
    let (_, ops) = memory.cases.api.reads.status("DE", 1).await.unwrap();
    assert_eq!(
        (ops[0].state(), ops[0].attempts()),
        (OperationState::Queued, 0)
    );
    assert!(ops[0].error().unwrap().contains("burst limit"));
    let again = tokio::time::timeout(Duration::from_secs(5), memory.jobs.recv())
        .await
        .expect("queued again within the window")
        .unwrap();
    assert_eq!(serde_json::to_string(&again).unwrap(), bodies[1]);
}

/// Two at a time, a second each, 1.5 s the longest a job may take and 2.6 s left: two waves start (at 0
/// and 1 s, before 1.1 s), the third would end past the deadline and is not started.
#[tokio::test(start_paused = true)]
async fn near_the_deadline_no_job_starts_and_the_rest_are_failures() {
    let retry = RetryPolicy {
        attempt_lease: Duration::from_millis(1500),
        ..RetryPolicy::default()
    };
    let slow = Arc::new(Scripted::new().taking(Duration::from_secs(1)));
    let (worker, mut memory) = worker_on((slow, Arc::new(Unmetered)), retry, 2);
    let countries = ["PY", "DE", "FR", "IT", "ES", "PT"];
    let mut records = Vec::new();
    for (n, country) in countries.iter().enumerate() {
        let body = queued(&mut memory, country).await;
        records.push(record(&format!("m{n}"), &body, 1));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_millis(2600);
    let response = worker.handle_until(event(records), Some(deadline)).await;
    let failed: HashSet<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(tokio::time::Instant::now() <= deadline, "answered in time");
    let mut done = 0;
    for country in countries {
        let (_, ops) = memory.cases.api.reads.status(country, 1).await.unwrap();
        match ops[0].state() {
            OperationState::Succeeded => done += 1,
            // Not started: still queued, no attempt spent.
            state => assert_eq!((state, ops[0].attempts()), (OperationState::Queued, 0)),
        }
    }
    assert_eq!(done, 4);
}

/// SQS may deliver one message several times, even in one batch: one copy takes the operation and calls
/// the upstream; the others see it running under a live attempt (or finished) and are acknowledged.
#[tokio::test(start_paused = true)]
async fn copies_of_one_job_delivered_together_make_one_upstream_call() {
    let upstream = Arc::new(Scripted::new().taking(Duration::from_millis(100)));
    let (worker, mut memory) = worker_on(
        (upstream.clone(), Arc::new(Unmetered)),
        RetryPolicy::default(),
        5,
    );
    let body = queued(&mut memory, "PY").await;
    let copies = (1..=5)
        .map(|n| record(&format!("m{n}"), &body, 1))
        .collect();
    let response = worker.handle(event(copies)).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "every copy acknowledged"
    );
    assert_eq!(upstream.calls(), 1);
    let (_, ops) = memory.cases.api.reads.status("PY", 1).await.unwrap();
    assert_eq!(
        (ops[0].state(), ops[0].attempts()),
        (OperationState::Succeeded, 1)
    );

    // A copy delivered after the operation finished calls nothing either.
    let late = worker.handle(event(vec![record("m6", &body, 2)])).await;
    assert!(late.batch_item_failures.is_empty());
    assert_eq!(upstream.calls(), 1);
}
