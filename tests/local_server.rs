//! The local server binary over loopback, fetching from the REST Countries stand-in.

use std::time::Duration;

use countries_stub::{Fault, Stub, StubOptions};
use e2e::{LocalServer, get, raw_get, wait_final};

const KEY: &str = "rc_e2e_key";

async fn stub() -> Stub {
    Stub::start(StubOptions {
        api_key: Some(KEY.into()),
    })
    .await
    .unwrap()
}

/// A local server on the stand-in's v5 API, with quick retries so that failures end fast.
fn server_on_v5(stub: &Stub, extra: &[(&str, &str)]) -> LocalServer {
    let base = stub.v5_base();
    let mut env = vec![
        ("COUNTRIES_UPSTREAM", "v5"),
        ("REST_COUNTRIES_URL", base.as_str()),
        ("REST_COUNTRIES_API_KEY", KEY),
        ("MAX_ATTEMPTS", "2"),
        ("RETRY_BASE_DELAY", "50ms"),
        ("UPSTREAM_TIMEOUT", "700ms"),
        ("RATE_LIMIT_FETCH", "1000/1m"),
        ("RATE_LIMIT_READ", "100000/1m"),
        ("UPSTREAM_BURST", "1000/1s"),
        // These tests count the upstream calls of single fetches.
        ("SYNC_ON_START", "never"),
    ];
    env.extend_from_slice(extra);
    LocalServer::start(&env)
}

async fn fetch_poll_read(server: &LocalServer, input: &str, code: &str, name: &str) {
    let (status, headers, body) = get(&server.url(&format!("/fetch/{input}"))).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["country"], code);
    assert_eq!(headers["location"], format!("/status/{code}").as_str());
    let op = wait_final(server, input, Duration::from_secs(10)).await;
    assert_eq!(op["state"], "succeeded", "{op}");
    assert_eq!(op["request_id"], body["request_id"]);
    let (status, headers, doc) = get(&server.url(&format!("/country/{input}"))).await;
    assert_eq!(status, 200);
    assert_eq!(doc["name"]["common"], name);
    assert_eq!(doc["cca2"], code);
    assert_eq!(
        doc.as_object().unwrap().len(),
        35,
        "the v3.1 top-level keys"
    );
    assert!(headers.contains_key("etag") && headers.contains_key("last-modified"));
}

#[tokio::test]
async fn fetch_poll_and_read_by_code_and_by_dashed_name_over_v5() {
    let stub = stub().await;
    let server = server_on_v5(&stub, &[]);
    fetch_poll_read(&server, "PY", "PY", "Paraguay").await;
    fetch_poll_read(&server, "costa-rica", "CR", "Costa Rica").await;
    let (_, headers, _) = get(&server.url("/country/CR")).await;
    assert_eq!(headers["x-country-source"], "v5");
    assert_eq!(stub.requests(), 2);
}

#[tokio::test]
async fn fetch_poll_and_read_over_a_self_hosted_v31() {
    let stub = stub().await;
    let base = stub.v31_base();
    let server = LocalServer::start(&[
        ("COUNTRIES_UPSTREAM", "v3.1"),
        ("REST_COUNTRIES_URL", &base),
    ]);
    fetch_poll_read(
        &server,
        "sao-tome-and-principe",
        "ST",
        "São Tomé and Príncipe",
    )
    .await;
}

#[tokio::test]
async fn the_default_bundled_upstream_needs_nothing() {
    let server = LocalServer::start(&[]);
    fetch_poll_read(&server, "paraguay", "PY", "Paraguay").await;
}

/// Each injected upstream fault ends in the right state, with the right error and number of attempts.
#[tokio::test]
async fn each_upstream_fault_ends_in_the_right_state() {
    let stub = stub().await;
    let server = server_on_v5(&stub, &[]);
    let f = |status| Fault::Status { status };
    // (country, faults for the next calls, final state, attempts, words the error must contain)
    let cases: Vec<(&str, Vec<Fault>, &str, u64, &str)> = vec![
        (
            "AR",
            vec![f(503), f(503)],
            "failed",
            2,
            "gave up after 2 attempts: upstream HTTP 503",
        ),
        ("BO", vec![f(500)], "succeeded", 2, ""),
        ("BR", vec![f(401)], "failed", 1, "HTTP 401"),
        ("CL", vec![f(403)], "failed", 1, "HTTP 403"),
        ("CO", vec![f(410)], "failed", 1, "HTTP 410"),
        ("EC", vec![f(404)], "not_found", 1, "HTTP 404"),
        (
            "GY",
            vec![Fault::Html { status: 502 }; 2],
            "failed",
            2,
            "HTML page \"502 Bad Gateway\"",
        ),
        ("PE", vec![Fault::Malformed], "failed", 1, "cannot be read"),
        ("SR", vec![Fault::Truncated], "succeeded", 2, ""),
        (
            "UY",
            vec![Fault::RateLimited {
                retry_after: Some(1),
            }],
            "succeeded",
            2,
            "",
        ),
        (
            "VE",
            vec![Fault::Hang, Fault::Hang],
            "failed",
            2,
            "timed out",
        ),
        ("FK", vec![Fault::Latency { ms: 200 }], "succeeded", 1, ""),
        ("NZ", vec![Fault::ShortBody], "succeeded", 2, ""),
        ("AU", vec![Fault::ResetMidBody], "succeeded", 2, ""),
        (
            "FJ",
            vec![Fault::EmptyObjects],
            "not_found",
            1,
            "has no country FJ",
        ),
        (
            "TO",
            vec![Fault::Html { status: 404 }],
            "failed",
            1,
            "is REST_COUNTRIES_URL its base URL?",
        ),
        (
            "WS",
            vec![Fault::RateLimited { retry_after: None }],
            "succeeded",
            2,
            "",
        ),
        ("NC", vec![Fault::Html { status: 429 }], "succeeded", 2, ""),
    ];
    println!("| country | upstream answers | final state | attempts | error |");
    for (country, faults, state, attempts, error) in cases {
        stub.reset();
        stub.push_faults(faults.clone());
        let started = std::time::Instant::now();
        let (status, _, body) = get(&server.url(&format!("/fetch/{country}"))).await;
        assert_eq!(status, 202, "{country}: {body}");
        let op = wait_final(&server, country, Duration::from_secs(15)).await;
        assert_eq!(op["state"], state, "{country} {faults:?}: {op}");
        assert_eq!(op["attempts"], attempts, "{country} {faults:?}: {op}");
        if error.is_empty() {
            assert!(op["error"].is_null(), "{country}: {op}");
        } else {
            let message = op["error"].as_str().unwrap_or_default();
            assert!(
                message.contains(error),
                "{country}: `{message}` lacks `{error}`"
            );
        }
        assert_eq!(stub.requests(), attempts, "{country}: upstream calls");
        println!(
            "| {country} | {faults:?} then success | {} | {} | {} |",
            op["state"], op["attempts"], op["error"]
        );
        if matches!(
            faults[0],
            Fault::RateLimited {
                retry_after: Some(_)
            }
        ) {
            assert!(
                started.elapsed() >= Duration::from_secs(1),
                "Retry-After honoured"
            );
        }
        let (status, _, body) = get(&server.url(&format!("/country/{country}"))).await;
        let want = if state == "succeeded" { 200 } else { 404 };
        assert_eq!(status, want, "{country}: {body}");
    }
}

/// Past the burst limit, a fetch waits queued (no attempt spent, the reason and next try shown), then goes
/// through; `/health` shows the month's use.
#[tokio::test]
async fn a_spent_upstream_budget_makes_fetches_wait_then_go_through() {
    let stub = stub().await;
    let server = server_on_v5(
        &stub,
        &[
            ("UPSTREAM_BURST", "1/2s"),
            ("UPSTREAM_MONTHLY_QUOTA", "100"),
        ],
    );
    for country in ["PY", "UY"] {
        assert_eq!(get(&server.url(&format!("/fetch/{country}"))).await.0, 202);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, _, status) = get(&server.url("/status/UY")).await;
    let op = &status["operations"][0];
    assert_eq!(
        (op["state"].as_str(), op["attempts"].as_u64()),
        (Some("queued"), Some(0)),
        "{op}"
    );
    let error = op["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("burst limit of 1/2s") && error.contains("next try at"),
        "{error}"
    );
    let op = wait_final(&server, "UY", Duration::from_secs(10)).await;
    assert_eq!(
        (op["state"].as_str(), op["attempts"].as_u64()),
        (Some("succeeded"), Some(1)),
        "{op}"
    );
    assert_eq!(stub.requests(), 2);
    let (_, _, health) = get(&server.url("/health")).await;
    let budget = &health["upstream_budget"];
    assert_eq!(
        (budget["used"].as_u64(), budget["remaining"].as_u64()),
        (Some(2), Some(98)),
        "{health}"
    );
}

/// Within the freshness window, a thousand fetches of one country by ten concurrent clients, by any of
/// its names, cost one upstream call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_fetches_from_ten_clients_cause_one_upstream_request() {
    let stub = stub().await;
    let server = server_on_v5(&stub, &[]);
    let clients: Vec<_> = (0..10)
        .map(|client| {
            let urls: Vec<String> = ["/fetch/PY", "/fetch/paraguay", "/fetch/PRY", "/fetch/600"]
                .iter()
                .map(|p| server.url(p))
                .collect();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..100 {
                    let (status, _) = get_owned(urls[(client + i) % urls.len()].clone()).await;
                    statuses.push(status);
                }
                statuses
            })
        })
        .collect();
    let mut answered = 0;
    for client in clients {
        let statuses = client.await.unwrap();
        assert!(
            statuses.iter().all(|s| *s == 202 || *s == 200),
            "{statuses:?}"
        );
        answered += statuses.len();
    }
    println!(
        "upstream calls for {answered} /fetch of one country from 10 clients: {}",
        stub.requests()
    );
    assert_eq!(answered, 1000);
    assert_eq!(stub.requests(), 1);
}

#[tokio::test]
async fn twenty_concurrent_fetches_cause_one_upstream_request() {
    let stub = stub().await;
    // The one upstream call is slow, so every request arrives while it is in flight.
    stub.push_faults([Fault::Latency { ms: 500 }]);
    let server = server_on_v5(&stub, &[]);
    let url = server.url("/fetch/paraguay");
    let calls: Vec<_> = (0..20)
        .map(|_| tokio::spawn(get_owned(url.clone())))
        .collect();
    let mut ids = std::collections::HashSet::new();
    let mut fresh = 0;
    for call in calls {
        let (status, body) = call.await.unwrap();
        match status {
            202 => {
                ids.insert(body["request_id"].as_str().unwrap().to_string());
            }
            200 => fresh += 1,
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(ids.len(), 1, "one operation for all: {ids:?}");
    assert_eq!(fresh, 0);
    wait_final(&server, "PY", Duration::from_secs(10)).await;
    assert_eq!(stub.requests(), 1);
}

async fn get_owned(url: String) -> (u16, serde_json::Value) {
    let (status, _, body) = get(&url).await;
    (status, body)
}

/// Hostile identifiers sent byte for byte over loopback: 400 or 404 with the error body, never a 5xx.
#[tokio::test]
async fn hostile_identifiers_get_a_client_error_with_the_body() {
    let server = LocalServer::start(&[
        ("RATE_LIMIT_FETCH", "100000/1m"),
        ("RATE_LIMIT_READ", "100000/1m"),
    ]);
    let long = "x".repeat(150);
    let hostile = [
        "..",
        "../..",
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "%2e%2e%2f",
        ".",
        "...",
        "%00",
        "a%00b",
        "%0d%0aSet-Cookie:x",
        "%2F",
        "%5C",
        "a%5Cb",
        "%3Cscript%3Ealert(1)%3C/script%3E",
        "%3Cimg%20src=x%20onerror=alert(1)%3E",
        "'%20OR%20'1'='1",
        "1;DROP%20TABLE%20x",
        "%F0%9F%98%80",
        "%F0%9F%87%B5%F0%9F%87%BE",
        "%FF%FE",
        "%C0%AE%C0%AE",
        "%E2%80%8B",
        "%E2%80%AE",
        "%EF%BB%BF",
        "%7B%7B7*7%7D%7D",
        "$%7Bjndi:ldap://x%7D",
        "%25",
        "%252e%252e",
        "%20%20",
        "%09",
        "---",
        "___",
        "()",
        ",",
        "%22",
        "%60id%60",
        "$(id)",
        "%7C",
        "%26%26",
        "~root",
        "@",
        "*",
        "%2A",
        "%23",
        "null",
        "NaN",
        "-1",
        "0",
        "9999",
        "0x10",
        "1e9",
        "ZZ",
        "ZZZ",
        "atlantis",
        "middle-earth",
        "%E3%80%80",
        &long,
        "PY%00",
        "P%0AY",
        "korea%00",
    ];
    assert!(hostile.len() >= 50, "{}", hostile.len());
    for id in hostile {
        for route in ["fetch", "country", "status"] {
            let path = format!("/{route}/{id}");
            let (status, body) = raw_get(&server.base, &path).await;
            assert!(status == 400 || status == 404, "{path}: {status} {body}");
            let body: serde_json::Value = serde_json::from_str(&body)
                .unwrap_or_else(|e| panic!("{path}: {status} not JSON ({e}): {body}"));
            assert!(
                body["Code"].is_string() && body["Message"].is_string(),
                "{path}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn the_limiter_answers_429_with_retry_after() {
    let server = LocalServer::start(&[("RATE_LIMIT_FETCH", "3/1m")]);
    let mut statuses = vec![];
    for _ in 0..5 {
        let (status, headers, body) = get(&server.url("/fetch/DE")).await;
        statuses.push(status);
        if status == 429 {
            assert_eq!(body["Code"], "RateLimited");
            let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait));
            assert_eq!(headers["ratelimit-limit"], "3");
            assert_eq!(headers["ratelimit-remaining"], "0");
        }
    }
    assert_eq!(&statuses[3..], [429, 429], "{statuses:?}");
    assert!(
        statuses[..3].iter().all(|s| *s == 202 || *s == 200),
        "{statuses:?}"
    );
}

// Multi-threaded: `terminate` blocks this thread while the in-process stand-in must keep answering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_jobs_then_stops() {
    let stub = stub().await;
    stub.push_faults([Fault::Latency { ms: 800 }]);
    let server = server_on_v5(&stub, &[("UPSTREAM_TIMEOUT", "5s")]);
    let (status, _, _) = get(&server.url("/fetch/JP")).await;
    assert_eq!(status, 202);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (clean, log) = server.terminate();
    assert!(clean, "exit status\n{log}");
    let processed = log
        .find("job processed")
        .unwrap_or_else(|| panic!("job not finished:\n{log}"));
    let stopping = log.find("no longer accepting requests").unwrap();
    assert!(
        stopping < processed,
        "the job finished after the stop began:\n{log}"
    );
    assert!(log[processed..].contains("state=\"succeeded\""), "{log}");
    assert!(log.contains("stopped"));
}

#[test]
fn a_bad_configuration_value_stops_it_at_start() {
    for (var, value) in [
        ("PORT", "eighty"),
        ("FRESH_FOR", "a day"),
        ("COUNTRIES_UPSTREAM", "v4"),
    ] {
        let out = std::process::Command::new(e2e::binary("countries-local"))
            .env_clear()
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("invalid {var}=`{value}`")),
            "{var}: {err}"
        );
    }
}

/// `BACKEND=aws`: the same server on DynamoDB and SQS (moto) and Redis, polling SQS in-process.
#[tokio::test]
async fn the_aws_backend_runs_on_dynamodb_sqs_and_redis() {
    let endpoint = countries_testkit::aws_endpoint();
    let redis = countries_testkit::redis_url();
    let stub = stub().await;
    let id = countries_testkit::unique("e2e");
    let queue_url = format!("{endpoint}/123456789012/fetch-{id}");
    let (countries, operations) = (format!("countries-{id}"), format!("operations-{id}"));
    let mut env = countries_testkit::aws_env();
    env.extend([
        ("BACKEND".to_string(), "aws".to_string()),
        ("AWS_CREATE_RESOURCES".into(), "true".into()),
        ("COUNTRIES_TABLE".into(), countries),
        ("OPERATIONS_TABLE".into(), operations),
        ("FETCH_QUEUE_URL".into(), queue_url),
        ("REDIS_URL".into(), redis),
        ("RATE_LIMIT_KEY_PREFIX".into(), format!("{id}:")),
        ("COUNTRIES_UPSTREAM".into(), "v5".into()),
        ("REST_COUNTRIES_URL".into(), stub.v5_base()),
        ("REST_COUNTRIES_API_KEY".into(), KEY.into()),
        ("SYNC_ON_START".into(), "never".into()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = LocalServer::start(&env);
    fetch_poll_read(&server, "uruguay", "UY", "Uruguay").await;
    let (status, headers, _) = get(&server.url("/status/UY")).await;
    assert_eq!(status, 200);
    assert!(headers.contains_key("ratelimit-remaining"));
    assert_eq!(stub.requests(), 1);
}

/// scripts/smoke-test.py, which the deploy buildspec runs against a deployment, passes against a working
/// service and fails against one whose fetches fail.
#[tokio::test]
async fn the_deploy_smoke_test_passes_on_a_working_service_and_fails_on_a_broken_one() {
    // On a blocking thread: the stand-in serves from this test's runtime meanwhile.
    let smoke = |url: String| async move {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/smoke-test.py");
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("python3")
                .arg(script)
                .arg(url)
                .env("SMOKE_TIMEOUT", "20")
                .output()
                .expect("python3 runs the smoke test")
        })
        .await
        .unwrap()
    };
    let working = LocalServer::start(&[]);
    let out = smoke(working.url("")).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("the fetch of PY succeeded"), "{stdout}");

    let stub = stub().await;
    stub.set_sticky(Some(Fault::Status { status: 503 }));
    let broken = server_on_v5(&stub, &[("RETRY_BASE_DELAY", "10ms")]);
    let out = smoke(broken.url("")).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a failing upstream must fail the smoke test"
    );
    assert!(
        stderr.contains("FAILED: the fetch of PY succeeded"),
        "{stderr}"
    );

    // The first pipeline run: the upstream key's secret exists (Terraform made it) without a value.
    let endpoint = countries_testkit::aws_endpoint();
    let id = countries_testkit::unique("e2e");
    let secret = format!("rest-countries-key-{id}");
    aws_sdk_secretsmanager::Client::new(&countries_testkit::sdk().await)
        .create_secret()
        .name(&secret)
        .send()
        .await
        .unwrap();
    let mut env = countries_testkit::aws_env();
    env.extend([
        ("BACKEND".to_string(), "aws".to_string()),
        ("AWS_CREATE_RESOURCES".into(), "true".into()),
        ("COUNTRIES_TABLE".into(), format!("countries-{id}")),
        ("OPERATIONS_TABLE".into(), format!("operations-{id}")),
        (
            "FETCH_QUEUE_URL".into(),
            format!("{endpoint}/123456789012/fetch-{id}"),
        ),
        ("COUNTRIES_UPSTREAM".into(), "v5".into()),
        ("REST_COUNTRIES_URL".into(), stub.v5_base()),
        ("REST_COUNTRIES_API_KEY_SECRET_ID".into(), secret),
        ("SYNC_ON_START".into(), "never".into()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    stub.set_sticky(None);
    let before = stub.requests();
    let first_deploy = LocalServer::start(&env);
    let out = smoke(first_deploy.url("")).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("the upstream key is not put yet"),
        "{stdout}"
    );
    assert_eq!(stub.requests(), before, "nothing called without the key");
}

/// The local server's first start synced the bundled catalogue: waits for it.
async fn synced(server: &LocalServer) {
    for _ in 0..100 {
        let (_, _, body) = get(&server.url("/sync")).await;
        if body["syncs"][0]["state"] == "succeeded" {
            assert_eq!(body["syncs"][0]["added"], 250, "{body}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the first sync did not finish");
}

/// A tool that `make test` installs (scripts/contract-tools.sh), or a message saying so.
fn contract_tool(path: &str) -> std::path::PathBuf {
    let tool = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    assert!(
        tool.exists(),
        "{} is missing: run scripts/contract-tools.sh (make test does)",
        tool.display()
    );
    tool
}

/// Runs a command to its end on a blocking thread (the test's runtime keeps serving meanwhile).
async fn run(mut command: std::process::Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().expect("the tool runs"))
        .await
        .unwrap()
}

/// A published REST Countries v3.1 client from npm (tests/clients), unchanged but for its base URL,
/// against `make run`'s service: every answer equals the bundled v3.1 data's.
#[tokio::test]
async fn a_published_v31_client_works_unchanged_against_the_local_service() {
    let server = LocalServer::start(&[]);
    synced(&server).await;
    let dir = contract_tool("clients/node_modules/@yusifaliyevpro/countries");
    let dir = dir.ancestors().nth(3).unwrap().to_path_buf();
    let mut node = std::process::Command::new("node");
    node.arg("--test")
        .arg("v31-client.test.mjs")
        .current_dir(&dir)
        .env("COUNTRIES_BASE_URL", &server.base)
        .env(
            "V31_DATA",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../crates/core/data/countriesV3.1.json"
            ),
        );
    let out = run(node).await;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains("# fail 0") && report.contains("# pass 6"),
        "{report}"
    );
}

/// schemathesis, every check and every phase (stateful included), against the local service's own
/// OpenAPI document: no failure, no server error.
#[tokio::test]
async fn schemathesis_finds_no_failure_against_the_local_service() {
    let server = LocalServer::start(&[
        ("RATE_LIMIT_FETCH", "1000000/1s"),
        ("RATE_LIMIT_READ", "1000000/1s"),
        ("RATE_LIMIT_SYNC", "1000000/1s"),
        ("RUST_LOG", "warn"),
    ]);
    synced(&server).await;
    let mut st = std::process::Command::new(contract_tool("../.venv-contract/bin/schemathesis"));
    st.args(["run", &server.url("/openapi.json"), "--checks", "all"])
        .args(["--max-examples", "40", "--workers", "2", "--no-color"]);
    let out = run(st).await;
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("No issues found"), "{report}");
}

/// A client that sends part of a request and then nothing, or keeps a connection idle, is cut off
/// after `HEADER_READ_TIMEOUT` (the security review's M3: such connections stayed open for as long as
/// the client liked, and a few thousand exhaust the server); a whole request is answered as before.
#[tokio::test]
async fn a_slow_or_idle_connection_is_closed_after_the_header_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = LocalServer::start(&[("HEADER_READ_TIMEOUT", "1s")]);
    let addr = server.base.trim_start_matches("http://").to_string();
    for opening in ["", "GET /health HTTP/1.1\r\nHost: x\r\n"] {
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        conn.write_all(opening.as_bytes()).await.unwrap();
        let mut rest = Vec::new();
        let closed =
            tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut rest)).await;
        assert!(closed.is_ok(), "{opening:?}: still open after 5 s");
    }
    let (status, _) = get_owned(server.url("/health")).await;
    assert_eq!(status, 200);
}
