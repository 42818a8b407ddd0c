//! The two built Lambda binaries under a Lambda Runtime API emulator, on moto (DynamoDB, SQS, Secrets
//! Manager) with IAM enforced, each under the role the Terraform gives it, on redis-server and the REST
//! Countries stand-in. This test plays API Gateway (events in) and the SQS event source mapping
//! (receive a batch as the worker's role, invoke the worker, delete what it did not report).

use std::time::Duration;

use countries_stub::Fault;
use e2e::deployment::{MAX_RECEIVES, Setup, deploy, deploy_with, exercise, exercise_setup};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_through_api_queue_and_worker_then_redelivery_then_dead_letter() {
    let d = deploy().await;

    // A fetch through the api function lands on the queue.
    let (status, body) = d.http("/fetch/paraguay").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status_url"], "/prod/status/PY");
    let (records, failed) = d.deliver().await;
    assert_eq!(records.len(), 1);
    assert!(failed.is_empty(), "{failed:?}");
    let op = d.newest_op("PY").await;
    assert_eq!(op["state"], "succeeded", "{op}");
    assert_eq!(op["source"], "v5");
    let (status, doc) = d.http("/country/PY").await;
    assert_eq!(
        (status, doc["name"]["common"].as_str()),
        (200, Some("Paraguay"))
    );
    assert_eq!(d.stub.requests(), 1);

    // The same message delivered again changes nothing.
    let mut again = records[0].clone();
    again["attributes"]["ApproximateReceiveCount"] = json!("2");
    let reply = d.worker.invoke(json!({"Records": [again]})).await.unwrap();
    assert_eq!(reply["batchItemFailures"], json!([]));
    assert_eq!(d.newest_op("PY").await, op);
    assert_eq!(d.stub.requests(), 1, "no second upstream call");

    // A job that keeps failing ends in the dead-letter queue, its operation failed.
    d.stub.set_sticky(Some(Fault::Status { status: 503 }));
    let (status, _) = d.http("/fetch/argentina").await;
    assert_eq!(status, 202);
    let mut deliveries = 0;
    for _ in 0..20 {
        let (records, failed) = d.deliver().await;
        if records.is_empty() {
            break;
        }
        deliveries += 1;
        assert_eq!(failed.len(), records.len(), "every delivery fails");
        tokio::time::sleep(Duration::from_millis(1100)).await; // the visibility timeout
    }
    assert_eq!(deliveries, MAX_RECEIVES);
    let op = d.newest_op("AR").await;
    assert_eq!(op["state"], "failed", "{op}");
    assert_eq!(op["attempts"], MAX_RECEIVES);
    assert!(op["error"].as_str().unwrap().contains("503"), "{op}");
    let dlq = d
        .admin_sqs
        .receive_message()
        .queue_url(&d.dlq_url)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap();
    let dead = dlq.messages.unwrap_or_default();
    assert_eq!(dead.len(), 1, "the job is in the dead-letter queue");
    assert!(dead[0].body().unwrap().contains("\"AR\""));
}

/// A bad configuration value stops either function at start, with a message naming the variable.
#[test]
fn a_bad_configuration_fails_the_start_with_its_name() {
    for (binary, var, value) in [
        ("worker-lambda", "MAX_ATTEMPTS", "zero"),
        ("api-lambda", "RATE_LIMIT_FETCH", "lots"),
    ] {
        let out = std::process::Command::new(e2e::binary(binary))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{binary}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("invalid {var}=`{value}`")),
            "{binary}: {err}"
        );
    }
}

/// A process that saved an operation and stopped before queueing its job leaves it `queued` with no
/// message: the worker's scheduled sweep sends the job, and the next batch finishes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sweep_queues_the_job_of_an_orphaned_operation() {
    use countries_core::operation::Operation;
    use countries_core::ports::OperationStore;
    let d = deploy().await;
    let requested = chrono::Utc::now() - countries_core::usecases::ORPHAN_GRACE * 2;
    let orphan = Operation::new("PY".parse().unwrap(), requested);
    d.store.create_operation(&orphan, requested).await.unwrap();

    let reply = d
        .worker
        .invoke(json!({"sweep": {}}))
        .await
        .expect("the sweep answers");
    assert_eq!(reply, json!({"in_flight": 1, "resent": 1}));
    let (messages, failed) = d.deliver().await;
    assert_eq!((messages.len(), failed.len()), (1, 0));
    let (status, body) = d.http("/status/PY").await;
    assert_eq!(status, 200);
    assert_eq!(body["operations"][0]["state"], "succeeded", "{body}");
    assert_eq!(
        body["operations"][0]["request_id"],
        orphan.request_id().to_string()
    );

    let reply = d.worker.invoke(json!({"sweep": {}})).await.unwrap();
    assert_eq!(reply, json!({"in_flight": 0, "resent": 0}));

    // Readiness on the real adapters: DynamoDB, SQS and Redis each answered.
    let (status, body) = d.http("/health?deep=true").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("ok")),
        "{body}"
    );
    for dependency in ["store", "queue", "limiter"] {
        assert_eq!(body["dependencies"][dependency]["status"], "ok", "{body}");
    }
}

/// The scheduled sync brings v5's catalogue in three calls into DynamoDB; the api answers the catalogue
/// routes and `/country` from its snapshot; `POST /sync` answers "fresh" without a call, and forcing it
/// takes the operator key from Secrets Manager, queues a job the worker runs, and rewrites nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_sync_fills_the_catalogue_the_api_serves() {
    let d = deploy().await;
    let started = std::time::Instant::now();
    let sync = d
        .worker
        .invoke(json!({"sync": {}}))
        .await
        .expect("the sync answers");
    let wall = started.elapsed();
    assert_eq!(sync["state"], "succeeded", "{sync}");
    assert_eq!(
        (sync["calls"].as_u64(), sync["added"].as_u64()),
        (Some(3), Some(250))
    );
    assert_eq!(
        d.stub.requests(),
        3,
        "the whole v5 catalogue in three calls"
    );
    println!(
        "full v5 sync into DynamoDB (moto): {:.2} s, 3 upstream calls, 250 countries written",
        wall.as_secs_f64()
    );

    let (status, peru) = d.http("/v3.1/name/peru").await;
    assert_eq!(
        (status, peru[0]["cca2"].as_str()),
        (200, Some("PE")),
        "{peru}"
    );
    let (_, europe) = d.http("/countries?region=europe&limit=1").await;
    assert_eq!(europe["total"], 53);
    let (status, py) = d.http("/country/PY").await;
    assert_eq!(
        (status, py["name"]["common"].as_str()),
        (200, Some("Paraguay"))
    );
    assert_eq!(d.stub.requests(), 3, "reads call nothing upstream");

    let (status, fresh) = d.http_as("POST", "/sync", None).await;
    assert_eq!(
        (status, fresh["outcome"].as_str()),
        (200, Some("fresh")),
        "{fresh}"
    );
    let (status, _) = d
        .http_as(
            "POST",
            "/sync?force=true",
            Some("Bearer wrong-key-wrong-key"),
        )
        .await;
    assert_eq!(status, 401);
    let done = d.forced_sync().await;
    assert_eq!(
        (done["unchanged"].as_u64(), done["added"].as_u64()),
        (Some(250), Some(0))
    );
    assert_eq!(d.stub.requests(), 6);

    // A scheduled sync that fails says so: the invocation fails, for the schedule's alarm.
    d.stub.set_sticky(Some(Fault::Status { status: 503 }));
    assert!(d.worker.invoke(json!({"sync": {}})).await.is_err());
    d.stub.set_sticky(None);
    let (_, py_after) = d.http("/country/PY").await;
    assert_eq!(py_after, py, "a failed sync removes nothing");
}

/// Under the roles the Terraform renders (each function's policy within the permissions boundary), on a
/// moto that enforces IAM, both functions do all they do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_functions_do_everything_under_the_roles_terraform_gives_them() {
    let d = deploy_with(exercise_setup()).await;
    exercise(&d).await;
}

/// Actions granted for calls that AWS makes with the function's credentials, which moto does not: the
/// KMS calls SQS, DynamoDB and Secrets Manager make on the caller's behalf for encrypted data.
const GRANTED_FOR_AWS: [(&str, &str, &str); 4] = [
    (
        "api",
        "kms:Decrypt",
        "Secrets Manager and SQS decrypt with the caller's KMS rights",
    ),
    (
        "api",
        "kms:GenerateDataKey",
        "SQS encrypts a sent message with the caller's KMS rights",
    ),
    (
        "worker",
        "kms:Decrypt",
        "SQS and Secrets Manager decrypt with the caller's KMS rights",
    ),
    (
        "worker",
        "kms:GenerateDataKey",
        "SQS encrypts a sent message with the caller's KMS rights",
    ),
];

/// Least privilege, both ways: each action a role is granted is needed, as removing it from the
/// rendered role makes [`exercise`] fail (but those AWS uses on the function's behalf).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_any_granted_action_makes_the_functions_fail() {
    let full = exercise_setup();
    let mut cases = Vec::new();
    for (function, actions) in [("api", &full.api), ("worker", &full.worker)] {
        for action in actions {
            if GRANTED_FOR_AWS
                .iter()
                .any(|(f, a, _)| *f == function && a == action)
            {
                continue;
            }
            cases.push((function, action.clone()));
        }
    }
    for (f, a, _) in GRANTED_FOR_AWS {
        let granted = if f == "api" { &full.api } else { &full.worker };
        assert!(
            granted.contains(a),
            "{f} is no longer granted {a}: drop it from GRANTED_FOR_AWS"
        );
    }
    // The cases' panics are the expected outcome: kept out of the output (nextest runs each test in a
    // process of its own, so the hook is this test's alone).
    std::panic::set_hook(Box::new(|_| {}));
    // Four deployments at a time: each is its own tables, queues, roles and function processes.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
    let mut runs = tokio::task::JoinSet::new();
    for (function, action) in cases {
        let slots = slots.clone();
        runs.spawn(async move {
            let _slot = slots.acquire_owned().await.unwrap();
            let mut setup = exercise_setup();
            let role = if function == "api" {
                &mut setup.api
            } else {
                &mut setup.worker
            };
            role.remove(&action);
            let d = deploy_with(setup).await;
            // A panic inside the spawned task is the failure this test wants.
            let failed = tokio::spawn(async move { exercise(&d).await })
                .await
                .is_err();
            (function, action, failed)
        });
    }
    let mut survived = Vec::new();
    let mut failing = 0;
    while let Some(run) = runs.join_next().await {
        let (function, action, failed) = run.unwrap();
        if failed {
            failing += 1;
            println!("{function} without {action}: fails, as it must");
        } else {
            survived.push(format!("{function}: {action}"));
        }
    }
    drop(std::panic::take_hook());
    println!("{failing} actions removed one at a time, each made the functions fail");
    assert!(failing > 0, "no action was tried");
    assert!(
        survived.is_empty(),
        "granted but not needed (the functions did everything without them):\n{}",
        survived.join("\n")
    );
}

/// Terraform creates the upstream key's and the operator key's secrets without a value. Until a person
/// puts them, both functions start and serve; a forced sync is refused with a clear error, and a fetch
/// ends `failed` naming the secret, calling nothing upstream (the first pipeline run's smoke test sees
/// exactly this). Once put, the running instances find both keys on their next use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_functions_start_and_serve_before_the_keys_are_put() {
    let d = deploy_with(Setup {
        keys_put: false,
        ..Setup::as_terraform()
    })
    .await;
    let (status, health) = d.http("/health").await;
    assert_eq!(
        (status, health["status"].as_str()),
        (200, Some("ok")),
        "{health}"
    );
    let (status, refused) = d
        .http_as("POST", "/sync?force=true", Some("Bearer some-key-some-key"))
        .await;
    assert_eq!(
        (status, refused["Code"].as_str()),
        (403, Some("OperatorKeyNotConfigured")),
        "{refused}"
    );
    let (status, _) = d.http("/fetch/PY?force=true").await;
    assert_eq!(status, 202);
    let (records, failed) = d.deliver().await;
    assert_eq!(
        (records.len(), failed.len()),
        (1, 0),
        "failed for good, not retried"
    );
    let op = d.newest_op("PY").await;
    assert_eq!(op["state"], "failed", "{op}");
    let error = op["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("key is not set") && error.contains("rest-countries-key-"),
        "{op}"
    );
    let sync = d.worker.invoke(json!({"sync": {}})).await;
    assert!(
        sync.is_err(),
        "a scheduled sync without the key fails its invocation: {sync:?}"
    );
    assert_eq!(d.stub.requests(), 0, "nothing reached the upstream");

    // A person puts both keys: the same instances find them on their next use, no restart.
    d.put_keys().await;
    d.forced_sync().await;
    assert_eq!(d.stub.requests(), 3, "the whole catalogue, with the key");
}
