//! The two built Lambda binaries under a Lambda Runtime API emulator, on moto (DynamoDB, SQS, Secrets
//! Manager), redis-server and the REST Countries stand-in. This test plays API Gateway (events in) and
//! the SQS event source mapping (receive a batch, invoke the worker, delete what it did not report).

use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use countries_aws::provision;
use countries_stub::{Fault, Stub, StubOptions};
use e2e::runtime::Runtime;
use serde_json::{Value, json};

const V2: &str = include_str!("events/example-apigw-v2-request-no-authorizer.json");
const KEY: &str = "rc_lambda_key";
const MAX_RECEIVES: u32 = 3;
const OPERATOR_KEY: &str = "operator-key-for-the-lambda-test";

struct Deployment {
    api: Runtime,
    worker: Runtime,
    /// The operations store the functions use, to set up what a crashed process leaves behind.
    store: countries_aws::DynamoStore,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    dlq_url: String,
    stub: Stub,
}

async fn deploy() -> Deployment {
    let endpoint = e2e::aws_endpoint();
    let sdk = e2e::sdk_config(&endpoint).await;
    let id = e2e::unique();
    let (countries, operations) = (format!("countries-{id}"), format!("operations-{id}"));
    provision::create_tables(&aws_sdk_dynamodb_client(&sdk), &countries, &operations)
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    // A short visibility timeout, so that a reported failure comes back quickly.
    let (queue_url, dlq_url) =
        provision::create_queues(&sqs, &format!("fetch-{id}"), MAX_RECEIVES, 1)
            .await
            .unwrap();
    let secret = format!("rest-countries-key-{id}");
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&secret)
        .secret_string(json!({"api_key": KEY}).to_string())
        .send()
        .await
        .unwrap();
    let operator_secret = format!("operator-key-{id}");
    aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name(&operator_secret)
        .secret_string(json!({"operator_key": OPERATOR_KEY}).to_string())
        .send()
        .await
        .unwrap();
    let stub = Stub::start(StubOptions {
        api_key: Some(KEY.into()),
    })
    .await
    .unwrap();
    let mut env = e2e::aws_env(&endpoint);
    env.extend(
        [
            ("COUNTRIES_TABLE", countries.as_str()),
            ("OPERATIONS_TABLE", operations.as_str()),
            ("FETCH_QUEUE_URL", queue_url.as_str()),
            ("MAX_ATTEMPTS", "3"),
            ("RETRY_BASE_DELAY", "0s"),
            ("UPSTREAM_TIMEOUT", "2s"),
            ("COUNTRIES_UPSTREAM", "v5"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let mut api_env = env.clone();
    api_env.extend([
        ("REDIS_URL".to_string(), e2e::redis_url()),
        ("RATE_LIMIT_KEY_PREFIX".to_string(), format!("{id}:")),
        ("PUBLIC_BASE_PATH".to_string(), "/prod".to_string()),
        ("OPERATOR_KEY_SECRET_ID".to_string(), operator_secret),
        ("CATALOGUE_REFRESH".to_string(), "0s".to_string()),
    ]);
    let mut worker_env = env;
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
        sqs,
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
        .sqs
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
