//! Both Lambda functions deployed as the Terraform deploys them, on the moto that enforces IAM: tables,
//! queues and secrets made by its administrator, each function under the role the Terraform gives it
//! (`iam::function_actions`), on redis-server and the REST Countries stand-in. A test plays API Gateway
//! (events in) and the SQS event source mapping (receive a batch as the worker's role, invoke the
//! worker, delete what it did not report). The functions are the workspace's debug binaries, or the
//! arm64 bootstraps `make build` zipped, run under qemu (`make test-arm64`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use countries_aws::provision;
use countries_stub::{Fault, Stub, StubOptions};
use serde_json::{Value, json};

use crate::iam;
use crate::runtime::Runtime;

const V2: &str = include_str!("../events/example-apigw-v2-request-no-authorizer.json");
pub const KEY: &str = "rc_lambda_key";
pub const MAX_RECEIVES: u32 = 3;
pub const OPERATOR_KEY: &str = "operator-key-for-the-lambda-test";

pub struct Deployment {
    pub api: Runtime,
    /// A second api instance whose queue calls fail (its queue URL names no queue): what the api does
    /// when SQS refuses a job.
    pub queueless_api: Runtime,
    pub worker: Runtime,
    /// The operations store, as the administrator: to set up what a crashed process leaves behind.
    pub store: countries_aws::DynamoStore,
    /// The queue as the worker's role, which the event source mapping polls with.
    pub sqs: aws_sdk_sqs::Client,
    /// The queues as the administrator, to look into the dead-letter queue.
    pub admin_sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub dlq_url: String,
    pub stub: Stub,
    /// The administrator's Secrets Manager, and the upstream key's and the operator key's secrets.
    secrets: (aws_sdk_secretsmanager::Client, String, String),
}

/// How a test deploys: what each function's role may do (by default what the Terraform gives it),
/// whether the upstream key's and the operator key's secrets have values, and the queue's visibility.
pub struct Setup {
    pub api: BTreeSet<String>,
    pub worker: BTreeSet<String>,
    pub keys_put: bool,
    pub visibility_seconds: u32,
    pub functions: Functions,
}

/// Which builds of the two functions run.
#[derive(Clone)]
pub enum Functions {
    /// The workspace's binaries (`cargo build`).
    Native,
    /// The arm64 `bootstrap` of each function, unpacked from `make build`'s zips into this directory
    /// (`<dir>/api-lambda/bootstrap`), run by `qemu-aarch64-static` with Debian's arm64 libraries.
    Arm64(PathBuf),
}

impl Functions {
    async fn start(&self, name: &str, env: &[(String, String)]) -> Runtime {
        match self {
            Functions::Native => Runtime::start(name, env).await,
            Functions::Arm64(dir) => {
                let mut qemu = Command::new("qemu-aarch64-static");
                qemu.arg("-L")
                    .arg("/usr/aarch64-linux-gnu")
                    .arg(dir.join(name).join("bootstrap"));
                Runtime::launch(name, qemu, env).await
            }
        }
    }
}

impl Setup {
    pub fn as_terraform() -> Setup {
        Setup {
            api: iam::function_actions("api"),
            worker: iam::function_actions("worker"),
            keys_put: true,
            // Short, so that a reported failure comes back quickly.
            visibility_seconds: 1,
            functions: Functions::Native,
        }
    }
}

pub async fn deploy() -> Deployment {
    deploy_with(Setup::as_terraform()).await
}

/// The tables, queues and secrets made as Terraform makes them (by the administrator of the moto that
/// enforces IAM), and the two functions started under roles that may do what `setup` says.
pub async fn deploy_with(setup: Setup) -> Deployment {
    let sdk = iam::sdk_config(&iam::admin()).await;
    let id = countries_testkit::unique("e2e");
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
    for (name, value) in key_values(&secret, &operator_secret) {
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
        ("REDIS_URL".to_string(), countries_testkit::redis_url()),
        ("RATE_LIMIT_KEY_PREFIX".to_string(), format!("{id}:")),
        ("PUBLIC_BASE_PATH".to_string(), "/prod".to_string()),
        (
            "OPERATOR_KEY_SECRET_ID".to_string(),
            operator_secret.clone(),
        ),
        ("CATALOGUE_REFRESH".to_string(), "0s".to_string()),
    ]);
    let mut worker_env = iam::env(&worker_role);
    worker_env.extend(env);
    worker_env.extend([
        ("REST_COUNTRIES_URL".to_string(), stub.v5_base()),
        (
            "REST_COUNTRIES_API_KEY_SECRET_ID".to_string(),
            secret.clone(),
        ),
    ]);
    let mut queueless_env = api_env.clone();
    queueless_env.retain(|(k, _)| k != "FETCH_QUEUE_URL");
    queueless_env.push((
        "FETCH_QUEUE_URL".to_string(),
        format!("{queue_url}-that-is-not-there"),
    ));
    Deployment {
        queueless_api: setup.functions.start("api-lambda", &queueless_env).await,
        api: setup.functions.start("api-lambda", &api_env).await,
        worker: setup.functions.start("worker-lambda", &worker_env).await,
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
        secrets: (secrets, secret, operator_secret),
    }
}

/// What a person puts in the two keys' secrets.
fn key_values<'a>(upstream: &'a str, operator: &'a str) -> [(&'a str, Value); 2] {
    [
        (upstream, json!({"api_key": KEY})),
        (operator, json!({"operator_key": OPERATOR_KEY})),
    ]
}

fn aws_sdk_dynamodb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

impl Deployment {
    /// An HTTP API v2 request through API Gateway's `prod` stage; the status and the JSON body.
    pub async fn http(&self, path: &str) -> (u64, Value) {
        self.http_as("GET", path, None).await
    }

    /// As `http`, with a method and an `Authorization` header.
    pub async fn http_as(
        &self,
        method: &str,
        path: &str,
        authorization: Option<&str>,
    ) -> (u64, Value) {
        Self::http_to(&self.api, method, path, authorization).await
    }

    /// As `http_as`, to the api instance `api`.
    pub async fn http_to(
        api: &Runtime,
        method: &str,
        path: &str,
        authorization: Option<&str>,
    ) -> (u64, Value) {
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
        let reply = api.invoke(event).await.expect("the api function answers");
        let body: Value =
            serde_json::from_str(reply["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
        (reply["statusCode"].as_u64().unwrap(), body)
    }

    /// One round of the event source mapping: receive up to 10 messages, invoke the worker with them,
    /// delete those it did not report. Returns (messages, message ids reported).
    pub async fn deliver(&self) -> (Vec<Value>, Vec<String>) {
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

    /// Puts both keys' values, as a person does after the first deploy of a `keys_put: false` setup.
    pub async fn put_keys(&self) {
        let (client, upstream, operator) = &self.secrets;
        for (name, value) in key_values(upstream, operator) {
            client
                .put_secret_value()
                .secret_id(name)
                .secret_string(value.to_string())
                .send()
                .await
                .unwrap();
        }
    }

    /// A sync forced through the api with the operator key, queued, run by the worker from its job:
    /// its record once done, which must have succeeded.
    pub async fn forced_sync(&self) -> Value {
        let (status, forced) = self
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
        let (records, failed) = self.deliver().await;
        assert_eq!((records.len(), failed.len()), (1, 0), "the sync job");
        let status_url = forced["status_url"].as_str().unwrap();
        let (_, done) = self.http(status_url.trim_start_matches("/prod")).await;
        assert_eq!(done["state"], "succeeded", "{done}");
        done
    }

    pub async fn newest_op(&self, country: &str) -> Value {
        let (status, body) = self.http(&format!("/status/{country}?limit=1")).await;
        assert_eq!(status, 200, "{body}");
        body["operations"][0].clone()
    }
}

/// Every kind of AWS call the two functions make, as clients and schedules cause them: a fetch through
/// the queue with one retryable upstream failure (the worker makes the job visible again at once), a
/// fetch whose job SQS refuses (the api releases its in-flight marker), the
/// status and the document, the sweep re-sending an orphaned job, readiness, a scheduled sync, and a
/// forced sync requested through the api and run by the worker. Panics at the first step that fails.
pub async fn exercise(d: &Deployment) {
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

    // A job SQS refuses: the operation ends failed and its in-flight marker is released (a DeleteItem),
    // and the client is told it was the queue.
    let (status, body) = Deployment::http_to(&d.queueless_api, "GET", "/fetch/UY", None).await;
    assert_eq!(
        (status, body["Message"].as_str()),
        (503, Some("the job queue is unavailable; try again shortly")),
        "{body}"
    );
    let op = d.newest_op("UY").await;
    assert_eq!(op["state"], "failed", "{op}");
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
    d.forced_sync().await;
    let (status, syncs) = d.http("/sync").await;
    assert_eq!(status, 200, "{syncs}");
}

/// A setup for [`exercise`]: the Terraform's roles, and a visibility long enough that only the
/// worker's own call makes a retried job visible again at once.
pub fn exercise_setup() -> Setup {
    Setup {
        visibility_seconds: 30,
        ..Setup::as_terraform()
    }
}
