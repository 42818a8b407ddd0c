//! The fault matrix: the local server on the AWS adapters (moto's DynamoDB and SQS, redis-server) and
//! the REST Countries stand-in, with a fault proxy in front of DynamoDB, SQS and Redis. Each case injects
//! one fault, checks what clients are told while it lasts, ends it, and checks that every accepted fetch
//! ends final (or, for a poison message, in the dead-letter queue), how many upstream calls were made,
//! and how long recovery took. Prints one table row per case; exits non-zero if a case fails.
//!
//! `make chaos` (runs it under `scripts/with-emulators.sh`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use countries_aws::provision;
use countries_stub::{Fault, Stub, StubOptions};
use e2e::LocalServer;
use e2e::proxy::{FaultProxy, Mode};
use serde_json::{Value, json};

const KEY: &str = "rc_chaos_key";
const MAX_ATTEMPTS: u32 = 3;
/// Long enough for the slowest recovery (a worker killed mid-job: its operation's lease, then a sweep).
const SETTLE: Duration = Duration::from_secs(120);

struct Rig {
    stub: Stub,
    dynamodb: FaultProxy,
    sqs: FaultProxy,
    redis: FaultProxy,
    env: Vec<(String, String)>,
    sqs_client: aws_sdk_sqs::Client,
    queue_url: String,
    dlq_url: String,
    server: Option<LocalServer>,
}

fn addr(url: &str) -> SocketAddr {
    let host = url.split("://").nth(1).unwrap().trim_end_matches('/');
    host.parse().unwrap_or_else(|_| {
        let (h, p) = host.rsplit_once(':').unwrap();
        let h = if h == "localhost" { "127.0.0.1" } else { h };
        format!("{h}:{p}").parse().unwrap()
    })
}

impl Rig {
    async fn new() -> Rig {
        let endpoint = countries_testkit::aws_endpoint();
        let redis = countries_testkit::redis_url();
        let stub = Stub::start(StubOptions {
            api_key: Some(KEY.into()),
        })
        .await
        .unwrap();
        let sdk = countries_testkit::sdk().await;
        let id = countries_testkit::unique("chaos");
        let (countries, operations) = (format!("chaos-c-{id}"), format!("chaos-o-{id}"));
        provision::create_tables(
            &aws_sdk_dynamodb::Client::new(&sdk),
            &countries,
            &operations,
        )
        .await
        .unwrap();
        let sqs_client = aws_sdk_sqs::Client::new(&sdk);
        // A 2 s visibility timeout: a failed delivery comes back quickly.
        let (queue_url, dlq_url) =
            provision::create_queues(&sqs_client, &format!("chaos-{id}"), MAX_ATTEMPTS, 2)
                .await
                .unwrap();
        let dynamodb = FaultProxy::start(addr(&endpoint)).await;
        let sqs = FaultProxy::start(addr(&endpoint)).await;
        let redis_proxy = FaultProxy::start(addr(&redis)).await;
        let mut env = countries_testkit::aws_env();
        env.extend(
            [
                ("BACKEND", "aws".to_string()),
                ("AWS_ENDPOINT_URL_DYNAMODB", dynamodb.url("http")),
                ("AWS_ENDPOINT_URL_SQS", sqs.url("http")),
                ("AWS_CALL_TIMEOUT", "1s".into()),
                ("AWS_CONNECT_TIMEOUT", "500ms".into()),
                ("COUNTRIES_TABLE", countries),
                ("OPERATIONS_TABLE", operations),
                ("FETCH_QUEUE_URL", queue_url.clone()),
                ("REDIS_URL", redis_proxy.url("redis")),
                ("RATE_LIMIT_KEY_PREFIX", format!("{id}:")),
                ("RATE_LIMIT_ON_ERROR", "open".into()),
                // One client (this harness) makes every request: limits it never reaches.
                ("RATE_LIMIT_FETCH", "100000/1m".into()),
                ("RATE_LIMIT_READ", "100000/1m".into()),
                // The cases count the upstream calls of single fetches.
                ("SYNC_ON_START", "never".into()),
                ("COUNTRIES_UPSTREAM", "v5".into()),
                ("REST_COUNTRIES_URL", stub.v5_base()),
                ("REST_COUNTRIES_API_KEY", KEY.into()),
                ("UPSTREAM_TIMEOUT", "1s".into()),
                ("MAX_ATTEMPTS", MAX_ATTEMPTS.to_string()),
                ("RETRY_BASE_DELAY", "200ms".into()),
                ("RETRY_MAX_DELAY", "1s".into()),
            ]
            .map(|(k, v)| (k.to_string(), v)),
        );
        let mut rig = Rig {
            stub,
            dynamodb,
            sqs,
            redis: redis_proxy,
            env,
            sqs_client,
            queue_url,
            dlq_url,
            server: None,
        };
        rig.start();
        rig
    }

    fn start(&mut self) {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.server = Some(LocalServer::start(&env));
    }

    /// `kill -9`: no shutdown, no finishing of jobs.
    fn kill(&mut self) {
        drop(self.server.take());
    }

    fn url(&self, path: &str) -> String {
        self.server.as_ref().expect("running").url(path)
    }

    async fn get(&self, path: &str) -> (u16, Value, Duration) {
        let started = Instant::now();
        let (status, _, body) = e2e::get(&self.url(path)).await;
        (status, body, started.elapsed())
    }

    /// Waits until each country's newest operation is final; the ones still not final are lost.
    async fn settle(&self, countries: &[&str], within: Duration) -> (usize, Duration) {
        let started = Instant::now();
        let mut open: Vec<&str> = countries.to_vec();
        while !open.is_empty() && started.elapsed() < within {
            let mut still = Vec::new();
            for c in open {
                let (status, _, body) = e2e::get(&self.url(&format!("/status/{c}?limit=1"))).await;
                let state = body["operations"][0]["state"].as_str().unwrap_or("");
                if status != 200 || !matches!(state, "succeeded" | "not_found" | "failed") {
                    still.push(c);
                }
            }
            open = still;
            if !open.is_empty() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        (open.len(), started.elapsed())
    }

    async fn state(&self, country: &str) -> Value {
        let (_, body, _) = self.get(&format!("/status/{country}?limit=1")).await;
        body["operations"][0].clone()
    }

    async fn send_raw(&self, body: &str) {
        self.sqs_client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }

    async fn dlq_depth(&self) -> u64 {
        let out = self
            .sqs_client
            .get_queue_attributes()
            .queue_url(&self.dlq_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        out.attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

/// One row of the table.
struct Row {
    case: String,
    during: String,
    lost: usize,
    calls: u64,
    recovery: Duration,
    problems: Vec<String>,
}

fn check(problems: &mut Vec<String>, ok: bool, what: String) {
    if !ok {
        problems.push(what);
    }
}

/// A client's mistake during any fault is a 4xx with the error body, never a 5xx.
async fn client_mistake(rig: &Rig, problems: &mut Vec<String>) {
    let (status, body, _) = rig.get("/fetch/atlantis").await;
    check(
        problems,
        status == 404 && body["Code"] == "UnknownCountry",
        format!("/fetch/atlantis: {status} {body}"),
    );
}

/// An upstream fault: one fetch, the faults, then the stand-in answers.
async fn upstream_case(
    rig: &Rig,
    name: &str,
    country: &str,
    faults: Vec<Fault>,
    state: &str,
    calls: u64,
) -> Row {
    let mut problems = Vec::new();
    rig.stub.reset();
    rig.stub.push_faults(faults);
    let (status, body, _) = rig.get(&format!("/fetch/{country}")).await;
    check(
        &mut problems,
        status == 202,
        format!("/fetch/{country}: {status} {body}"),
    );
    client_mistake(rig, &mut problems).await;
    let (lost, recovery) = rig.settle(&[country], SETTLE).await;
    let op = rig.state(country).await;
    check(
        &mut problems,
        op["state"] == state,
        format!(
            "{country} ended {} ({}), not {state}",
            op["state"], op["error"]
        ),
    );
    let made = rig.stub.requests();
    check(
        &mut problems,
        made == calls,
        format!("{made} upstream calls, not {calls}"),
    );
    Row {
        case: format!("upstream {name}"),
        during: format!("202, then {}", op["state"].as_str().unwrap_or("?")),
        lost,
        calls: made,
        recovery,
        problems,
    }
}

/// A dependency behind the proxy goes down, hangs or slows; `expect` is the fetch's status meanwhile.
async fn dependency_case(
    rig: &Rig,
    proxy: &FaultProxy,
    name: &str,
    mode: Mode,
    country: &str,
    expect: u16,
    words: &str,
) -> Row {
    let mut problems = Vec::new();
    rig.stub.reset();
    proxy.set(mode);
    let (status, body, took) = rig.get(&format!("/fetch/{country}")).await;
    check(
        &mut problems,
        status == expect,
        format!("/fetch/{country} during the fault: {status} {body}"),
    );
    if status == 503 {
        let message = body["Message"].as_str().unwrap_or("");
        check(
            &mut problems,
            message.contains(words),
            format!("503 says `{message}`, not `{words}`"),
        );
    }
    check(
        &mut problems,
        took < Duration::from_secs(5),
        format!("the answer took {took:?}"),
    );
    client_mistake(rig, &mut problems).await;
    proxy.set(Mode::Pass);
    let ended = Instant::now();
    // Recovered: a fetch of the country is accepted (or was) and ends final.
    let mut accepted = status == 202;
    while !accepted && ended.elapsed() < SETTLE {
        let (status, _, _) = rig.get(&format!("/fetch/{country}")).await;
        accepted = status == 202;
        if !accepted {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let (lost, _) = rig.settle(&[country], SETTLE).await;
    let recovery = ended.elapsed();
    let op = rig.state(country).await;
    check(
        &mut problems,
        op["state"] == "succeeded",
        format!("{country} ended {} ({})", op["state"], op["error"]),
    );
    Row {
        case: format!("{name} {}", mode_name(mode)),
        during: format!("{status} in {} ms", took.as_millis()),
        lost,
        calls: rig.stub.requests(),
        recovery,
        problems,
    }
}

fn mode_name(mode: Mode) -> String {
    match mode {
        Mode::Pass => "passing".into(),
        Mode::Down => "down".into(),
        Mode::Hang => "hung".into(),
        Mode::Slow(d) => format!("slow ({} ms a chunk)", d.as_millis()),
    }
}

async fn accepted_id(rig: &Rig, path: &str, problems: &mut Vec<String>) -> String {
    let (status, body, _) = rig.get(path).await;
    check(problems, status == 202, format!("{path}: {status} {body}"));
    body["request_id"].as_str().unwrap_or_default().to_string()
}

#[tokio::main]
async fn main() {
    let mut rig = Rig::new().await;
    let mut rows = Vec::new();
    let f = |status| Fault::Status { status };

    // Every upstream fault kind.
    for (name, country, faults, state, calls) in [
        ("hang", "AR", vec![Fault::Hang], "succeeded", 2),
        ("503", "BO", vec![f(503)], "succeeded", 2),
        (
            "HTML 502",
            "BR",
            vec![Fault::Html { status: 502 }],
            "succeeded",
            2,
        ),
        (
            "429 with Retry-After",
            "CL",
            vec![Fault::RateLimited {
                retry_after: Some(1),
            }],
            "succeeded",
            2,
        ),
        (
            "429 without Retry-After",
            "CO",
            vec![Fault::RateLimited { retry_after: None }],
            "succeeded",
            2,
        ),
        ("401", "EC", vec![f(401)], "failed", 1),
        ("404", "GY", vec![f(404)], "not_found", 1),
        ("malformed", "PE", vec![Fault::Malformed], "failed", 1),
        ("truncated", "SR", vec![Fault::Truncated], "succeeded", 2),
    ] {
        rows.push(upstream_case(&rig, name, country, faults, state, calls).await);
    }

    // Redis: the limiter fails open, fast; DynamoDB and SQS: 503 naming them, then recovery.
    let slow = Mode::Slow(Duration::from_millis(150));
    let cases: [(&str, u8, Mode, &str, u16, &str); 9] = [
        ("Redis", 0, Mode::Down, "UY", 202, ""),
        ("Redis", 0, Mode::Hang, "VE", 202, ""),
        ("Redis", 0, slow, "FK", 202, ""),
        ("DynamoDB", 1, Mode::Down, "FR", 503, "data store"),
        ("DynamoDB", 1, Mode::Hang, "DE", 503, "data store"),
        ("DynamoDB", 1, slow, "IT", 202, ""),
        ("SQS", 2, Mode::Down, "ES", 503, "job queue"),
        ("SQS", 2, Mode::Hang, "PT", 503, "job queue"),
        ("SQS", 2, slow, "NL", 202, ""),
    ];
    for (name, which, mode, country, expect, words) in cases {
        let proxy = [&rig.redis, &rig.dynamodb, &rig.sqs][which as usize];
        rows.push(dependency_case(&rig, proxy, name, mode, country, expect, words).await);
    }

    // Messages: delivered twice, out of order and after the operation finished, unreadable.
    {
        let mut problems = Vec::new();
        rig.stub.reset();
        rig.stub.push_faults([Fault::Latency { ms: 300 }]);
        let id = accepted_id(&rig, "/fetch/BE", &mut problems).await;
        let job = json!({"request_id": id, "country": "BE"}).to_string();
        rig.send_raw(&job).await; // a second copy while the first runs
        let (lost, recovery) = rig.settle(&["BE"], SETTLE).await;
        tokio::time::sleep(Duration::from_secs(1)).await; // the copy has been delivered too
        let calls = rig.stub.requests();
        check(&mut problems, calls == 1, format!("{calls} upstream calls"));
        rows.push(Row {
            case: "message delivered twice".into(),
            during: "202".into(),
            lost,
            calls,
            recovery,
            problems,
        });
    }
    {
        let mut problems = Vec::new();
        rig.stub.reset();
        let first = accepted_id(&rig, "/fetch/LU", &mut problems).await;
        rig.settle(&["LU"], SETTLE).await;
        accepted_id(&rig, "/fetch/LU?force=true", &mut problems).await;
        let (lost, recovery) = rig.settle(&["LU"], SETTLE).await;
        let before = rig.stub.requests();
        // The first operation's job again, after a newer one finished; and a job no operation has.
        rig.send_raw(&json!({"request_id": first, "country": "LU"}).to_string())
            .await;
        rig.send_raw(
            &json!({"request_id": "0190a0a0-0000-7000-8000-000000000000", "country": "LU"})
                .to_string(),
        )
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let calls = rig.stub.requests() - before;
        check(
            &mut problems,
            calls == 0,
            format!("{calls} upstream calls for stale jobs"),
        );
        let op = rig.state("LU").await;
        check(
            &mut problems,
            op["state"] == "succeeded",
            format!("LU: {op}"),
        );
        rows.push(Row {
            case: "messages out of order, after the operation finished, unknown".into(),
            during: "ignored".into(),
            lost,
            calls,
            recovery,
            problems,
        });
    }
    {
        let mut problems = Vec::new();
        rig.stub.reset();
        let before = rig.dlq_depth().await;
        rig.send_raw("{not a job").await;
        let started = Instant::now();
        let mut depth = before;
        while depth == before && started.elapsed() < SETTLE {
            tokio::time::sleep(Duration::from_millis(500)).await;
            depth = rig.dlq_depth().await;
        }
        check(
            &mut problems,
            depth == before + 1,
            format!("the DLQ holds {depth}, was {before}"),
        );
        rows.push(Row {
            case: "poison message".into(),
            during: format!("{MAX_ATTEMPTS} deliveries"),
            lost: usize::from(depth != before + 1),
            calls: rig.stub.requests(),
            recovery: started.elapsed(),
            problems,
        });
    }

    // The process killed mid-request (between saving operations and queueing their jobs) and mid-batch.
    {
        let mut problems = Vec::new();
        rig.stub.reset();
        let countries = ["AT", "CH", "CZ", "SK", "HU", "PL", "SI", "HR"];
        rig.sqs.set(Mode::Hang);
        let base = rig.url("");
        let requests: Vec<_> = countries
            .iter()
            .map(|c| {
                let url = format!("{base}/fetch/{c}");
                tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status().as_u16()) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        rig.kill();
        for r in requests {
            let _ = r.await; // the connection was cut
        }
        // The jobs' messages die with the process: the proxy drops what it held.
        rig.sqs.set(Mode::Down);
        tokio::time::sleep(Duration::from_millis(100)).await;
        rig.sqs.set(Mode::Pass);
        rig.start();
        let (lost, recovery) = rig.settle(&countries, SETTLE).await;
        let calls = rig.stub.requests();
        check(
            &mut problems,
            lost == 0,
            format!("{lost} operations left queued"),
        );
        check(
            &mut problems,
            calls == countries.len() as u64,
            format!("{calls} upstream calls"),
        );
        rows.push(Row {
            case: "process killed between saving and queueing (8 fetches)".into(),
            during: "connections cut".into(),
            lost,
            calls,
            recovery,
            problems,
        });
    }
    {
        let mut problems = Vec::new();
        rig.stub.reset();
        let countries = ["NO", "SE", "FI", "DK"];
        rig.stub.set_sticky(Some(Fault::Latency { ms: 1500 }));
        for c in countries {
            accepted_id(&rig, &format!("/fetch/{c}"), &mut problems).await;
        }
        tokio::time::sleep(Duration::from_millis(700)).await; // the jobs are running
        rig.kill();
        rig.stub.set_sticky(None);
        rig.start();
        let (lost, recovery) = rig.settle(&countries, SETTLE).await;
        let calls = rig.stub.requests();
        check(
            &mut problems,
            lost == 0,
            format!("{lost} operations left running"),
        );
        rows.push(Row {
            case: "process killed mid-batch (4 jobs running)".into(),
            during: "202".into(),
            lost,
            calls,
            recovery,
            problems,
        });
    }

    println!(
        "| case | client told during the fault | lost | upstream calls | recovery (s) | result |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    let mut failed = 0;
    for row in &rows {
        let result = if row.problems.is_empty() {
            "ok".to_string()
        } else {
            failed += 1;
            format!("FAILED: {}", row.problems.join("; "))
        };
        println!(
            "| {} | {} | {} | {} | {:.1} | {} |",
            row.case,
            row.during,
            row.lost,
            row.calls,
            row.recovery.as_secs_f64(),
            result
        );
    }
    rig.kill();
    if failed > 0 {
        eprintln!("chaos: {failed} of {} cases failed", rows.len());
        std::process::exit(1);
    }
}
