//! The two built Lambda binaries under a Lambda Runtime API emulator, on moto (DynamoDB, SQS, Secrets
//! Manager) with IAM enforced, each under the role the Terraform gives it, on redis-server and the REST
//! Countries stand-in. This test plays API Gateway (events in) and the SQS event source mapping
//! (receive a batch as the worker's role, invoke the worker, delete what it did not report).

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use countries_aws::provision;
use countries_stub::{Fault, Stub, StubOptions};
use e2e::iam;
use e2e::runtime::Runtime;
use serde_json::{Value, json};

const V2: &str = include_str!("events/example-apigw-v2-request-no-authorizer.json");
const KEY: &str = "rc_lambda_key";
const MAX_RECEIVES: u32 = 3;
const OPERATOR_KEY: &str = "operator-key-for-the-lambda-test";

struct Deployment {
    api: Runtime,
    worker: Runtime,
    /// The operations store, as the administrator: to set up what a crashed process leaves behind.
    store: countries_aws::DynamoStore,
    /// The queue as the worker's role, which the event source mapping polls with.
    sqs: aws_sdk_sqs::Client,
    /// The queues as the administrator, to look into the dead-letter queue.
    admin_sqs: aws_sdk_sqs::Client,
    queue_url: String,
    dlq_url: String,
    stub: Stub,
}

/// How a test deploys: what each function's role may do (by default what the Terraform gives it),
/// whether the upstream key's and the operator key's secrets have values, and the queue's visibility.
struct Setup {
    api: BTreeSet<String>,
    worker: BTreeSet<String>,
    keys_put: bool,
    visibility_seconds: u32,
}

impl Setup {
    fn as_terraform() -> Setup {
        Setup {
            api: iam::function_actions("api"),
            worker: iam::function_actions("worker"),
            keys_put: true,
            // Short, so that a reported failure comes back quickly.
            visibility_seconds: 1,
        }
    }
}

async fn deploy() -> Deployment {
    deploy_with(Setup::as_terraform()).await
}

/// The tables, queues and secrets made as Terraform makes them (by the administrator of the moto that
/// enforces IAM), and the two functions started under roles that may do what `setup` says.
async fn deploy_with(setup: Setup) -> Deployment {
    let sdk = iam::sdk_config(&iam::admin()).await;
    let id = e2e::unique();
    let (countries, operations) = (format!("countries-{id}"), format!("operations-{id}"));
    provision::create_tables(&aws_sdk_dynamodb_client(&sdk), &countries, &operations)
        .await
        .unwrap();
    let admin_sqs = aws_sdk_sqs::Client::new(&sdk);
    let (queue_url, dlq_url) = provision::create_queues(
        &admin_sqs,
        &format!("fetch-{id}"),
        MAX_RECEIVES,
        setup.visibility_seconds,
    )
    .await
    .unwrap();
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let (secret, operator_secret) = (
        format!("rest-countries-key-{id}"),
        format!("operator-key-{id}"),
    );
    for (name, value) in [
        (&secret, json!({"api_key": KEY})),
        (&operator_secret, json!({"operator_key": OPERATOR_KEY})),
    ] {
        // Terraform creates both secrets without a value; a person puts it after the first deploy.
        let create = secrets.create_secret().name(name);
        let create = if setup.keys_put {
            create.secret_string(value.to_string())
        } else {
            create
        };
        create.send().await.unwrap();
    }
    let stub = Stub::start(StubOptions {
        api_key: Some(KEY.into()),
    })
    .await
    .unwrap();
    let env: Vec<(String, String)> = [
        ("COUNTRIES_TABLE", countries.as_str()),
        ("OPERATIONS_TABLE", operations.as_str()),
        ("FETCH_QUEUE_URL", queue_url.as_str()),
        ("MAX_ATTEMPTS", "3"),
        ("RETRY_BASE_DELAY", "0s"),
        ("UPSTREAM_TIMEOUT", "2s"),
        ("COUNTRIES_UPSTREAM", "v5"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .into();
    let (api_role, worker_role) = (
        iam::assume(&format!("api-{id}"), &setup.api),
        iam::assume(&format!("worker-{id}"), &setup.worker),
    );
    let mut api_env = iam::env(&api_role);
    api_env.extend(env.clone());
    api_env.extend([
        ("REDIS_URL".to_string(), e2e::redis_url()),
        ("RATE_LIMIT_KEY_PREFIX".to_string(), format!("{id}:")),
        ("PUBLIC_BASE_PATH".to_string(), "/prod".to_string()),
        ("OPERATOR_KEY_SECRET_ID".to_string(), operator_secret),
        ("CATALOGUE_REFRESH".to_string(), "0s".to_string()),
    ]);
    let mut worker_env = iam::env(&worker_role);
    worker_env.extend(env);
    worker_env.extend([
        ("REST_COUNTRIES_URL".to_string(), stub.v5_base()),
        ("REST_COUNTRIES_API_KEY_SECRET_ID".to_string(), secret),
    ]);
    Deployment {
        api: Runtime::start("api-lambda", &api_env).await,
        worker: Runtime::start("worker-lambda", &worker_env).await,
        store: countries_aws::DynamoStore::new(
            aws_sdk_dynamodb_client(&sdk),
            &countries,
            &operations,
            Duration::from_secs(86400),
        ),
        sqs: aws_sdk_sqs::Client::new(&iam::sdk_config(&worker_role).await),
        admin_sqs,
        queue_url,
        dlq_url,
        stub,
    }
}

fn aws_sdk_dynamodb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

impl Deployment {
    /// An HTTP API v2 request through API Gateway's `prod` stage; the status and the JSON body.
    async fn http(&self, path: &str) -> (u64, Value) {
        self.http_as("GET", path, None).await
    }

    /// As `http`, with a method and an `Authorization` header.
    async fn http_as(&self, method: &str, path: &str, authorization: Option<&str>) -> (u64, Value) {
        let mut event: Value = serde_json::from_str(V2).unwrap();
        event["requestContext"]["http"]["method"] = json!(method);
        if let Some(a) = authorization {
            event["headers"]["authorization"] = json!(a);
        }
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let params: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        event["rawQueryString"] = json!(query);
        event["queryStringParameters"] = json!(params);
        event["rawPath"] = json!(format!("/prod{path}"));
        event["requestContext"]["stage"] = json!("prod");
        event["requestContext"]["http"]["path"] = json!(format!("/prod{path}"));
        event["requestContext"]["http"]["sourceIp"] = json!("198.51.100.77");
        let reply = self
            .api
            .invoke(event)
            .await
            .expect("the api function answers");
        let body: Value =
            serde_json::from_str(reply["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
        (reply["statusCode"].as_u64().unwrap(), body)
    }

    /// One round of the event source mapping: receive up to 10 messages, invoke the worker with them,
    /// delete those it did not report. Returns (messages, message ids reported).
    async fn deliver(&self) -> (Vec<Value>, Vec<String>) {
        // As the mapping does when it is created and as it scales, with the function's role.
        self.sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .expect("the event source mapping reads the queue's attributes");
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return (vec![], vec![]);
        }
        let records: Vec<Value> = messages
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, Value> = m
                    .attributes()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str().to_string(), json!(v)))
                    .collect();
                json!({
                    "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                    "attributes": attributes, "messageAttributes": {}, "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:fetch",
                    "awsRegion": "us-east-1"
                })
            })
            .collect();
        let reply = self
            .worker
            .invoke(json!({"Records": records}))
            .await
            .expect("the worker answers");
        let failed: Vec<String> = reply["batchItemFailures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["itemIdentifier"].as_str().unwrap().to_string())
            .collect();
        for m in &messages {
            if !failed.iter().any(|f| Some(f.as_str()) == m.message_id()) {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
        (records, failed)
    }

    async fn newest_op(&self, country: &str) -> Value {
        let (status, body) = self.http(&format!("/status/{country}?limit=1")).await;
        assert_eq!(status, 200, "{body}");
        body["operations"][0].clone()
    }
}

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
        orphan.request_id.to_string()
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
    let (status, forced) = d
        .http_as(
            "POST",
            "/sync?force=true",
            Some(&format!("Bearer {OPERATOR_KEY}")),
        )
        .await;
    assert_eq!(
        (status, forced["outcome"].as_str()),
        (202, Some("queued")),
        "{forced}"
    );
    let (messages, failed) = d.deliver().await;
    assert_eq!((messages.len(), failed.len()), (1, 0));
    let (_, done) = d
        .http(
            forced["status_url"]
                .as_str()
                .unwrap()
                .trim_start_matches("/prod"),
        )
        .await;
    assert_eq!(done["state"], "succeeded", "{done}");
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

/// Every kind of AWS call the two functions make, as clients and schedules cause them: a fetch through
/// the queue with one retryable upstream failure (the worker makes the job visible again at once), the
/// status and the document, the sweep re-sending an orphaned job, readiness, a scheduled sync, and a
/// forced sync requested through the api and run by the worker. Panics at the first step that fails.
async fn exercise(d: &Deployment) {
    use countries_core::operation::Operation;
    use countries_core::ports::OperationStore;

    d.stub.push_faults([Fault::Status { status: 503 }]);
    let (status, body) = d.http("/fetch/PY").await;
    assert_eq!(status, 202, "{body}");
    let (records, failed) = d.deliver().await;
    assert_eq!((records.len(), failed.len()), (1, 1), "the 503 is reported");
    // The queue's own visibility is 30 s: only the worker's ChangeMessageVisibility brings it back now.
    let (records, failed) = d.deliver().await;
    assert_eq!(
        (records.len(), failed.len()),
        (1, 0),
        "the retry comes back at once and succeeds"
    );
    let op = d.newest_op("PY").await;
    assert_eq!(op["state"], "succeeded", "{op}");
    let (status, doc) = d.http("/country/PY").await;
    assert_eq!((status, doc["cca2"].as_str()), (200, Some("PY")), "{doc}");

    let requested = chrono::Utc::now() - countries_core::usecases::ORPHAN_GRACE * 2;
    let orphan = Operation::new("AR".parse().unwrap(), requested);
    d.store.create_operation(&orphan, requested).await.unwrap();
    let reply = d.worker.invoke(json!({"sweep": {}})).await;
    assert_eq!(
        reply.as_ref().ok(),
        Some(&json!({"in_flight": 1, "resent": 1})),
        "the sweep: {reply:?}"
    );
    let (records, failed) = d.deliver().await;
    assert_eq!((records.len(), failed.len()), (1, 0), "the re-sent job");

    let (status, health) = d.http("/health?deep=true").await;
    assert_eq!(
        (status, health["status"].as_str()),
        (200, Some("ok")),
        "{health}"
    );

    let sync = d.worker.invoke(json!({"sync": {}})).await;
    let sync = sync.unwrap_or_else(|e| panic!("the scheduled sync: {e:?}"));
    assert_eq!(sync["state"], "succeeded", "{sync}");
    let (status, peru) = d.http("/v3.1/alpha/PE").await;
    assert_eq!(
        (status, peru[0]["cca2"].as_str()),
        (200, Some("PE")),
        "{peru}"
    );
    let (status, forced) = d
        .http_as(
            "POST",
            "/sync?force=true",
            Some(&format!("Bearer {OPERATOR_KEY}")),
        )
        .await;
    assert_eq!(
        (status, forced["outcome"].as_str()),
        (202, Some("queued")),
        "{forced}"
    );
    let (records, failed) = d.deliver().await;
    assert_eq!((records.len(), failed.len()), (1, 0), "the sync job");
    let status_url = forced["status_url"]
        .as_str()
        .unwrap()
        .trim_start_matches("/prod");
    let (_, done) = d.http(status_url).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let (status, syncs) = d.http("/sync").await;
    assert_eq!(status, 200, "{syncs}");
}

/// A setup for [`exercise`]: the Terraform's roles, and a visibility long enough that only the
/// worker's own call makes a retried job visible again at once.
fn exercise_setup() -> Setup {
    Setup {
        visibility_seconds: 30,
        ..Setup::as_terraform()
    }
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
/// ends `failed` naming the secret, calling nothing upstream. The first pipeline run's smoke test sees
/// exactly this.
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
}
