//! The router in-process, on the in-memory adapters and the bundled upstream.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use countries_api::Links;
use countries_api::routes::table::{Limit, table};
use countries_core::country::Fetched;
use countries_core::memory::MemoryLimiter;
use countries_core::ports::Unanswered;
use countries_core::ratelimit::{
    Decision, LimiterError, LimiterPolicy, RateLimiter, RateLimits, RouteGroup,
};
use countries_testkit::Scripted;
use serde_json::Value;

mod support;

use support::{app, app_with, call_from, get};

#[tokio::test]
async fn fetch_then_status_then_country() {
    let mut app = app();
    let (status, headers, body) = get(&app.router, "/fetch/costa-rica").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(headers["location"], "/status/CR");
    assert_eq!(body["country"], "CR");
    assert_eq!(body["state"], "queued");
    assert_eq!(body["deduplicated"], false);
    assert_eq!(body["status_url"], "/status/CR");
    let request_id = body["request_id"].as_str().unwrap().to_string();

    let (_, _, again) = get(&app.router, "/fetch/CRI").await;
    assert_eq!(
        (
            again["deduplicated"].as_bool(),
            again["request_id"].as_str()
        ),
        (Some(true), Some(request_id.as_str()))
    );

    app.drain().await;
    let (status, _, body) = get(&app.router, "/status/cr").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["country"], "CR");
    let op = &body["operations"][0];
    assert_eq!(op["request_id"], request_id.as_str());
    assert_eq!(op["state"], "succeeded");
    assert_eq!(op["attempts"], 1);
    assert_eq!(op["source"], "bundled");
    for key in ["requested_at", "started_at", "finished_at", "error"] {
        assert!(op.get(key).is_some(), "{key}");
    }

    let (status, headers, doc) = get(&app.router, "/country/Costa%20Rica").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["name"]["common"], "Costa Rica");
    assert_eq!(doc.as_object().unwrap().len(), 35);
    assert_eq!(headers["x-country-source"], "bundled");
    assert!(headers.contains_key("last-modified"));
    let etag = headers["etag"].to_str().unwrap().to_string();

    let (status, headers, body) = call_from(
        &app.router,
        Method::GET,
        "/country/CR",
        &[("if-none-match", &etag)],
        "192.0.2.10",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(headers["etag"], etag.as_str());
    assert_eq!(body, Value::Null);

    let (status, _, doc) = get(&app.router, "/country/CR?fields=name,capital").await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<_> = doc.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["name", "capital"]);

    let (status, _, fresh) = get(&app.router, "/fetch/CR").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fresh["state"], "fresh");
    assert_eq!(fresh["country_url"], "/country/CR");
    let (status, _, forced) = call_from(
        &app.router,
        Method::POST,
        "/fetch/CR?force=true",
        &[],
        "192.0.2.10",
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_ne!(forced["request_id"], request_id.as_str());
}

#[tokio::test]
async fn errors_have_the_right_status_and_body() {
    let app = app();
    for (uri, status, code) in [
        ("/country/PY", 404, "CountryNotFetched"),
        ("/country/atlantis", 404, "UnknownCountry"),
        ("/country/%00", 400, "InvalidCountry"),
        ("/country/%FF%FE", 400, "InvalidCountry"),
        ("/fetch/korea", 300, "AmbiguousCountry"),
        ("/fetch/PY?force=maybe", 400, "InvalidParameter"),
        ("/status/PY?limit=0", 400, "InvalidParameter"),
        ("/status/PY?limit=101", 400, "InvalidParameter"),
        ("/status/PY?limit=ten", 400, "InvalidParameter"),
        ("/nowhere", 404, "NotFound"),
        ("/country/a/b", 404, "NotFound"),
        ("/country/", 404, "NotFound"),
    ] {
        let (got, _, body) = get(&app.router, uri).await;
        assert_eq!(got.as_u16(), status, "{uri}: {body}");
        assert_eq!(body["Code"], code, "{uri}: {body}");
        assert!(
            body["Message"].as_str().is_some_and(|m| !m.is_empty()),
            "{uri}"
        );
    }
    let (_, _, body) = get(&app.router, "/country/PY").await;
    assert_eq!(body["FetchUrl"], "/fetch/PY");
    let (status, _, body) = get(&app.router, "/status/PY").await;
    assert_eq!(
        (status, body["operations"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    let (_, _, body) = get(&app.router, "/fetch/korea").await;
    let codes: Vec<&str> = body["Candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"KR") && codes.contains(&"KP"), "{body}");
    let (status, _, body) = call_from(
        &app.router,
        Method::DELETE,
        "/country/PY",
        &[],
        "192.0.2.10",
    )
    .await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("MethodNotAllowed"))
    );
}

#[tokio::test]
async fn status_lists_newest_first_with_a_limit() {
    let mut app = app();
    for _ in 0..3 {
        get(&app.router, "/fetch/PY?force=true").await;
        app.drain().await;
    }
    let (_, _, body) = get(&app.router, "/status/paraguay").await;
    let ops = body["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 3);
    let ids: Vec<&str> = ops
        .iter()
        .map(|o| o["request_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first");
    let (_, _, body) = get(&app.router, "/status/PY?limit=2").await;
    assert_eq!(body["operations"].as_array().unwrap().len(), 2);
    let (status, _, body) = get(&app.router, "/status/US").await;
    assert_eq!(
        (status, body["operations"].as_array().unwrap().len()),
        (StatusCode::OK, 0)
    );
}

/// At least 50 hostile identifiers on every route: always 400 or 404 with the error body, never a 5xx.
#[tokio::test]
async fn hostile_identifiers_never_cause_a_server_error() {
    let app = app();
    let long = "a".repeat(101);
    let hostile: Vec<String> = [
        "%00", "%0A", "%0D%0A", "..", "...", ".", "%2E%2E", "..%2F..%2Fetc%2Fpasswd", "%2F", "%5C",
        "a%2Fb", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%22%3E%3Cimg%20src%3Dx%3E", "'%20OR%201%3D1--",
        "%27%3B%20DROP%20TABLE%20countries%3B--", "%F0%9F%98%80", "%F0%9F%87%B5%F0%9F%87%BE", "%FF",
        "%C0%AF", "%ED%A0%80", "%E2%80%8B", "%E2%80%AE", "%EF%BB%BF", "%7B%7B7*7%7D%7D", "%24%7Bjndi%3Aldap%3A%2F%2Fx%7D",
        "%25", "%2525", "%20", "%09", "---", "___", "()", ",,,", "''", "%E3%80%80", &long,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "0", "000", "9999", "-1", "1e3", "0x25", "ZZ", "ZZZ", "xx-yy", "null", "undefined", "NaN",
        "true", "%00PY", "PY%00", "P%00Y", "united%00states", "C%3A%5Cwindows", "%2e%2e%2f", "%u002e",
        "@", "%40admin", "*", "%2A", "?", "%3F%3F", "%23", "%26", "%7C%7Cls", "%60id%60", "%24(id)",
        "robots.txt", "index.html", "..%00", "%E2%80%A8", "%CC%81%CC%81", "atlantis", "narnia",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert!(hostile.len() >= 50);
    for id in &hostile {
        for route in ["fetch", "country", "status"] {
            let uri = format!("/{route}/{id}");
            let (status, _, body) = get(&app.router, &uri).await;
            assert!(
                status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
                "{uri}: {status} {body}"
            );
            assert!(
                body["Code"].is_string() && body["Message"].is_string(),
                "{uri}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn the_limiter_answers_429_past_the_limit() {
    let limiter = Arc::new(MemoryLimiter::new(&RateLimits {
        fetch: countries_core::ratelimit::Limit::new(2, Duration::from_secs(60)),
        read: countries_core::ratelimit::Limit::new(3, Duration::from_secs(60)),
        sync: countries_core::ratelimit::Limit::new(1, Duration::from_secs(60)),
        on_error: LimiterPolicy::Open,
    }));
    let app = app_with(limiter, LimiterPolicy::Open, Links::default());
    let mut statuses = vec![];
    for _ in 0..3 {
        let (status, headers, body) =
            call_from(&app.router, Method::GET, "/fetch/PY", &[], "198.51.100.7").await;
        statuses.push(status.as_u16());
        assert_eq!(headers["ratelimit-limit"], "2");
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(body["Code"], "RateLimited");
            let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=60).contains(&retry), "{retry}");
            assert_eq!(headers["ratelimit-remaining"], "0");
        }
    }
    assert_eq!(statuses, [202, 202, 429]);
    // Reads have their own, larger budget; another client is not affected.
    let (status, headers, _) =
        call_from(&app.router, Method::GET, "/status/PY", &[], "198.51.100.7").await;
    assert_eq!(
        (status, headers["ratelimit-remaining"].to_str().unwrap()),
        (StatusCode::OK, "2")
    );
    let (status, _, _) =
        call_from(&app.router, Method::GET, "/fetch/PY", &[], "198.51.100.8").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // Health and the OpenAPI document are not limited.
    let (_, headers, _) = get(&app.router, "/health").await;
    assert!(!headers.contains_key("ratelimit-limit"));
}

/// Refuses every request, and keeps the group each was checked against.
#[derive(Default)]
struct Refusing(Mutex<Vec<RouteGroup>>);

#[async_trait]
impl RateLimiter for Refusing {
    async fn check(&self, _: IpAddr, group: RouteGroup) -> Result<Decision, LimiterError> {
        self.0.lock().unwrap().push(group);
        Ok(Decision {
            allowed: false,
            limit: 1,
            remaining: 0,
            reset_after: Duration::from_secs(60),
            retry_after: Duration::from_secs(60),
        })
    }
}

/// Every method of every route in the table, through the router: a limited one is checked against
/// its group once and refused; an exempt one is never checked.
#[tokio::test]
async fn every_route_is_limited_as_the_table_says() {
    let limiter = Arc::new(Refusing::default());
    let app = app_with(limiter.clone(), LimiterPolicy::Open, Links::default());
    for route in table() {
        let path = route
            .path
            .split('/')
            .map(|segment| match segment {
                s if s.starts_with("{*") => "no/such",
                s if s.starts_with('{') => "PY",
                s => s,
            })
            .collect::<Vec<_>>()
            .join("/");
        for served in &route.methods {
            let m = &served.method;
            let (status, _, _) = call_from(&app.router, m.clone(), &path, &[], "192.0.2.10").await;
            let seen = std::mem::take(&mut *limiter.0.lock().unwrap());
            assert_eq!(seen, Vec::from_iter(served.limit.group()), "{m} {path}");
            assert_eq!(
                status == StatusCode::TOO_MANY_REQUESTS,
                served.limit != Limit::Exempt,
                "{m} {path}: {status}"
            );
        }
    }
}

struct Down;

#[async_trait]
impl RateLimiter for Down {
    async fn check(&self, _: IpAddr, _: RouteGroup) -> Result<Decision, LimiterError> {
        Err(LimiterError::Unavailable("connection refused".into()))
    }
}

#[tokio::test]
async fn a_limiter_that_is_down_follows_the_policy() {
    let open = app_with(Arc::new(Down), LimiterPolicy::Open, Links::default());
    assert_eq!(get(&open.router, "/fetch/PY").await.0, StatusCode::ACCEPTED);
    let closed = app_with(Arc::new(Down), LimiterPolicy::Closed, Links::default());
    let (status, _, body) = get(&closed.router, "/fetch/PY").await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("ServiceUnavailable"))
    );
    for app in [&open, &closed] {
        let counted = app
            .metrics
            .get(countries_core::metrics::Metric::LimiterUnavailable);
        assert!(counted >= 1, "each decision it could not make is counted");
    }
}

/// The document and the route table (`countries_api::routes::table`) name the same operations, both
/// ways, and every documented error has the error body of its route.
#[tokio::test]
async fn openapi_covers_every_route_and_error() {
    let app = app();
    let (status, _, doc) = get(&app.router, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut routed = BTreeSet::new();
    for route in table() {
        for served in route.methods.iter().filter(|s| s.operation.is_some()) {
            let m = served.method.as_str().to_lowercase();
            routed.insert((route.path.to_string(), m.clone()));
            let op = &doc["paths"][route.path][&m];
            assert!(
                op.is_object(),
                "{m} {} is routed, not documented",
                route.path
            );
            assert_eq!(
                op["operationId"],
                served.operation.unwrap(),
                "{m} {}",
                route.path
            );
            let responses = op["responses"].as_object().unwrap();
            for (code, response) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    // The readiness check's 503 is its report (which dependency is down), not an
                    // error; v3.1's routes answer v3.1's own error body, but for the limiter's 429,
                    // answered before any route runs.
                    let expected = if route.path == "/health" && code == "503" {
                        "#/components/schemas/Health"
                    } else if route.path.starts_with("/v3.1/") && code != "429" {
                        "#/components/schemas/V31Error"
                    } else {
                        "#/components/schemas/ErrorBody"
                    };
                    assert_eq!(schema, expected, "{m} {} {code}", route.path);
                }
            }
        }
    }
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys() {
            documented.insert((path.clone(), m.clone()));
        }
    }
    assert_eq!(documented, routed, "documented against routed");
    for schema in [
        "ErrorBody",
        "FetchAccepted",
        "FetchFresh",
        "StatusBody",
        "Operation",
        "OperationState",
        "Candidate",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    let params: Vec<&str> = doc["paths"]["/country/{country}"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["country", "fields", "format", "If-None-Match"]);
}

#[tokio::test]
async fn health_answers() {
    let (status, _, body) = get(&app().router, "/health").await;
    assert_eq!(
        (status, body["status"].as_str(), body["upstream"].as_str()),
        (StatusCode::OK, Some("ok"), Some("bundled"))
    );
}

#[tokio::test]
async fn every_url_handed_out_is_under_the_public_base_path() {
    let mut app = app_with(
        support::generous(),
        LimiterPolicy::Open,
        Links::new("/prod"),
    );
    let (_, _, body) = get(&app.router, "/country/PY").await;
    assert_eq!(body["FetchUrl"], "/prod/fetch/PY");
    let (status, headers, body) = get(&app.router, "/fetch/PY").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(headers["location"], "/prod/status/PY");
    assert_eq!(body["status_url"], "/prod/status/PY");
    app.drain().await;
    let (status, _, body) = get(&app.router, "/fetch/PY").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["country_url"], "/prod/country/PY");
}

/// The document's `Operation` schema is written by hand (core's type has no schema derive): it must name
/// exactly the fields `/status` serialises, and require those that are never null.
#[tokio::test]
async fn the_operation_schema_matches_what_status_serialises() {
    let mut app = app();
    get(&app.router, "/fetch/PY").await;
    app.drain().await;
    let (_, _, status) = get(&app.router, "/status/PY").await;
    let (_, _, doc) = get(&app.router, "/openapi.json").await;
    let schema = &doc["components"]["schemas"]["Operation"];
    let op = status["operations"][0].as_object().unwrap();
    let mut served: Vec<&str> = op.keys().map(String::as_str).collect();
    let mut documented: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    served.sort_unstable();
    documented.sort_unstable();
    assert_eq!(served, documented);
    for required in schema["required"].as_array().unwrap() {
        assert!(!op[required.as_str().unwrap()].is_null(), "{required}");
    }
    let states = doc["components"]["schemas"]["OperationState"]["enum"].clone();
    assert_eq!(
        states,
        serde_json::json!(["queued", "running", "succeeded", "not_found", "failed"])
    );
    let post = &doc["paths"]["/fetch/{country}"]["post"];
    assert_eq!(post["operationId"], "fetchPost");
    assert_eq!(
        post["responses"],
        doc["paths"]["/fetch/{country}"]["get"]["responses"]
    );
}

/// Answers every country with a small v5 document, as the v5 client would.
fn from_v5() -> Scripted {
    Scripted::new().answering(|code| {
        let raw = serde_json::json!({
            "names": {"common": "Paraguay", "official": "Republic of Paraguay"},
            "codes": {"alpha_2": code.as_str(), "alpha_3": "PRY"},
        });
        Ok(Fetched {
            document: countries_core::country::from_v31(
                &serde_json::json!({"cca2": code.as_str()}),
            ),
            raw,
            source: "v5".into(),
        })
    })
}

#[tokio::test]
async fn a_country_from_v5_is_served_as_v5_sent_it_on_request() {
    let mut app = support::app_on(
        Arc::new(from_v5()),
        support::generous(),
        LimiterPolicy::Open,
        Links::default(),
    );
    get(&app.router, "/fetch/PY").await;
    app.drain().await;
    let (status, v31_headers, v31) = get(&app.router, "/country/PY").await;
    assert_eq!((status, v31["cca2"].as_str()), (StatusCode::OK, Some("PY")));
    let (status, headers, v5) = get(&app.router, "/country/PY?format=v5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v5["codes"],
        serde_json::json!({"alpha_2": "PY", "alpha_3": "PRY"})
    );
    assert!(v5.get("cca2").is_none());
    assert_eq!(headers["x-country-source"], "v5");
    assert_ne!(
        headers["etag"], v31_headers["etag"],
        "each form has its own ETag"
    );
    let etag = headers["etag"].to_str().unwrap().to_string();
    let (status, _, _) = call_from(
        &app.router,
        Method::GET,
        "/country/PY?format=v5",
        &[("if-none-match", etag.as_str())],
        "192.0.2.10",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (_, _, picked) = get(&app.router, "/country/PY?format=v5&fields=codes").await;
    assert_eq!(picked, serde_json::json!({"codes": v5["codes"]}));
    // Names the document lacks are ignored, as v3.1 did.
    let (status, _, body) = get(&app.router, "/country/PY?format=v5&fields=capital,codes").await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, serde_json::json!({"codes": v5["codes"]}))
    );
    let (status, _, body) = get(&app.router, "/country/PY?format=v4").await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidParameter"))
    );
}

#[tokio::test]
async fn a_country_from_another_upstream_has_no_v5_form() {
    let mut app = app();
    get(&app.router, "/fetch/PY").await;
    app.drain().await;
    let (status, _, body) = get(&app.router, "/country/PY?format=v5").await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (StatusCode::NOT_FOUND, Some("NoV5Form"))
    );
    assert!(
        body["Message"].as_str().unwrap().contains("bundled"),
        "{body}"
    );
    assert_eq!(
        get(&app.router, "/country/PY?format=v3.1").await.0,
        StatusCode::OK
    );
}

/// A dependency that fails is named in words a client can use, with when to come back; its own error
/// (which may carry internal addresses) stays in the log, out of the body and out of `/status`.
#[tokio::test]
async fn a_failed_dependency_is_a_503_with_retry_after_and_no_internal_detail() {
    let app = app();
    drop(app.queued); // the queue is gone
    let (status, headers, body) = get(&app.router, "/fetch/PY").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "5");
    assert_eq!(body["Code"], "ServiceUnavailable");
    assert_eq!(
        body["Message"],
        "the job queue is unavailable; try again shortly"
    );
    let (_, _, status_body) = get(&app.router, "/status/PY").await;
    assert_eq!(status_body["operations"][0]["state"], "failed");
    assert_eq!(
        status_body["operations"][0]["error"],
        "the job queue was unavailable; fetch again"
    );
    let closed = app_with(Arc::new(Down), LimiterPolicy::Closed, Links::default());
    let (status, headers, body) = get(&closed.router, "/country/PY").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers["retry-after"], "5");
    assert_eq!(
        body["Message"],
        "the rate limiter is unavailable; try again shortly"
    );
}

struct Answers(Result<(), Unanswered>);

#[async_trait]
impl countries_core::ports::Probe for Answers {
    async fn probe(&self) -> Result<(), Unanswered> {
        self.0.clone()
    }
}

struct Hangs;

#[async_trait]
impl countries_core::ports::Probe for Hangs {
    async fn probe(&self) -> Result<(), Unanswered> {
        std::future::pending().await
    }
}

/// `/health` stays cheap and 200; `?deep=true` checks each dependency within its bound and says which
/// one is down, with a 503 and no internal detail.
#[tokio::test(start_paused = true)]
async fn deep_health_names_the_dependency_that_is_down() {
    use countries_core::ports::Probe;
    let with = |probes: Vec<(&'static str, Arc<dyn Probe>)>| {
        let memory = countries_core::memory::InMemory::new(
            (
                Arc::new(countries_upstream::Bundled::new()),
                Arc::new(countries_core::memory::Unmetered),
            ),
            countries_core::usecases::FreshnessPolicy::default(),
            countries_core::usecases::RetryPolicy::default(),
        );
        countries_api::router(
            countries_api::AppState::new(
                &memory.cases.api,
                (support::generous(), LimiterPolicy::Open),
                memory.metrics.clone(),
            )
            .with_probes(probes),
        )
    };
    let healthy = with(vec![
        ("store", Arc::new(Answers(Ok(())))),
        ("queue", Arc::new(Answers(Ok(())))),
    ]);
    let (status, _, body) = get(&healthy, "/health?deep=true").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["dependencies"]["store"]["status"], "ok");
    let (status, _, body) = get(&healthy, "/health").await;
    assert_eq!((status, body.get("dependencies")), (StatusCode::OK, None));

    let broken = with(vec![
        ("store", Arc::new(Hangs)),
        (
            "queue",
            Arc::new(Answers(Err(Unanswered(
                "SQS at http://10.0.0.7: refused".into(),
            )))),
        ),
        ("limiter", Arc::new(Answers(Ok(())))),
    ]);
    let (status, _, body) = get(&broken, "/health?deep=true").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["dependencies"]["store"]["status"], "timeout");
    assert_eq!(body["dependencies"]["queue"]["status"], "down");
    assert_eq!(body["dependencies"]["limiter"]["status"], "ok");
    assert!(!body.to_string().contains("10.0.0.7"));
    // Liveness does not look at them.
    assert_eq!(get(&broken, "/health").await.0, StatusCode::OK);

    let (status, _, body) = get(&broken, "/health?deep=maybe").await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("InvalidParameter"))
    );
}

/// Hostile input at scale: for each route, 10,000 generated requests (identifiers of any bytes, real
/// names mangled, every query parameter with any value, unknown parameters). Never a 5xx, never a panic,
/// and every error carries the error body.
mod generated {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    const CASES: u32 = 10_000;

    /// Every byte outside the unreserved set percent-encoded, so any byte string is a valid URI part.
    fn encode(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (*b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    /// A path segment: raw bytes, text of any script, or a real identifier mangled.
    fn segment() -> impl Strategy<Value = String> {
        let real = prop::sample::select(vec![
            "PY",
            "PRY",
            "paraguay",
            "United States",
            "côte d'ivoire",
            "DE",
            "ger",
            "Congo",
            "CG",
            "Åland Islands",
            "600",
            "076",
        ]);
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..80).prop_map(|b| encode(&b)),
            any::<String>().prop_map(|s| encode(s.as_bytes())),
            (real, any::<u8>(), 0usize..12).prop_map(|(name, byte, at)| {
                let mut b = name.as_bytes().to_vec();
                b.insert(at.min(b.len()), byte);
                encode(&b)
            }),
        ]
    }

    /// A query string of the route's own parameters and others, any values, sometimes malformed.
    fn query(names: &'static [&'static str]) -> impl Strategy<Value = String> {
        let name = prop_oneof![
            prop::sample::select(names.to_vec()).prop_map(str::to_string),
            "[a-z]{1,8}",
        ];
        let value = prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| encode(&b)),
            prop::sample::select(vec![
                "true",
                "false",
                "v5",
                "v3.1",
                "name,capital",
                "1",
                "0",
                "-1",
                "99999999999999999999",
                ""
            ])
            .prop_map(str::to_string),
        ];
        prop_oneof![
            prop::collection::vec((name, value), 0..4).prop_map(|pairs| {
                pairs
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            }),
            prop::collection::vec(any::<u8>(), 0..30).prop_map(|b| {
                // Raw bytes, '&' and '=' and '%' kept where they fall: malformed pairs and escapes.
                b.iter()
                    .map(|c| match c {
                        b'&' | b'=' | b'%' => (*c as char).to_string(),
                        _ => encode(&[*c]),
                    })
                    .collect()
            }),
        ]
    }

    fn run(route: &'static str, names: &'static [&'static str], with_segment: bool) -> u32 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let unlimited = countries_core::ratelimit::Limit::new(1_000_000, Duration::from_secs(1));
        let limiter = Arc::new(countries_core::memory::MemoryLimiter::new(
            &countries_core::ratelimit::RateLimits {
                fetch: unlimited,
                read: unlimited,
                sync: unlimited,
                on_error: LimiterPolicy::Open,
            },
        ));
        let app = app_with(limiter, LimiterPolicy::Open, Links::default());
        let config = Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let tried = std::cell::Cell::new(0u32);
        runner
            .run(&(segment(), query(names)), |(seg, q)| {
                tried.set(tried.get() + 1);
                let path = if with_segment {
                    format!("/{route}/{seg}")
                } else {
                    format!("/{route}")
                };
                let uri = if q.is_empty() {
                    path
                } else {
                    format!("{path}?{q}")
                };
                let (status, _, body) = runtime.block_on(get(&app.router, &uri));
                prop_assert!(status.as_u16() < 500, "{uri}: {status} {body}");
                if status.as_u16() >= 400 {
                    prop_assert!(
                        body["Code"].is_string() && body["Message"].is_string(),
                        "{uri}: {status} {body}"
                    );
                }
                Ok(())
            })
            .unwrap();
        tried.get()
    }

    #[test]
    fn fetch() {
        assert!(run("fetch", &["force"], true) >= CASES);
    }

    #[test]
    fn country() {
        assert!(run("country", &["fields", "format"], true) >= CASES);
    }

    #[test]
    fn status() {
        assert!(run("status", &["limit"], true) >= CASES);
    }

    #[test]
    fn health() {
        assert!(run("health", &["deep"], false) >= CASES);
    }
}

/// A client's request id is kept when it is a plain token, and replaced by one of ours when it could
/// forge a log field or inflate every line of the request (the security review's L3).
#[tokio::test]
async fn only_a_plain_request_id_is_taken_from_the_client() {
    let app = app();
    let id_for = |given: String| {
        let router = app.router.clone();
        async move {
            let (_, headers, _) = support::call_from(
                &router,
                Method::GET,
                "/health",
                &[("x-request-id", &given)],
                "192.0.2.30",
            )
            .await;
            headers["x-request-id"].to_str().unwrap().to_string()
        }
    };
    assert_eq!(id_for("req-42.a:b_c".into()).await, "req-42.a:b_c");
    for forged in [
        "forged-id \"quoted\" <script>".to_string(),
        "a=b c=d".to_string(),
        "A".repeat(65),
    ] {
        let answered = id_for(forged.clone()).await;
        assert_ne!(answered, forged);
        assert!(answered.parse::<uuid::Uuid>().is_ok(), "{answered}");
    }
}

/// A bad value is repeated in its error cut short, and no answer may be sniffed into HTML (the
/// security review's L4): a 50 KB value once came back as a 50 KB answer.
#[tokio::test]
async fn errors_repeat_a_bad_value_cut_short_and_answers_are_not_sniffed() {
    let app = app();
    let long = "x".repeat(50_000);
    for path in [
        format!("/status/PY?limit={long}"),
        format!("/country/PY?format={long}"),
        format!("/health?deep={long}"),
        format!("/fetch/PY?force={long}"),
    ] {
        let (status, headers, body) = get(&app.router, &path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}", &path[..20]);
        let message = body["Message"].as_str().unwrap();
        assert!(
            message.len() < 300,
            "{}: {} bytes",
            &path[..20],
            message.len()
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
    let (_, headers, _) = get(&app.router, "/v3.1/all").await;
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

/// `fields` keeps only keys a v3.1 document has, so a 21,000-name list costs what `fields=name`
/// does (the security review's M4) and still answers as before: unknown names select nothing.
#[tokio::test]
async fn a_long_fields_list_selects_as_a_short_one() {
    let mut app = app();
    get(&app.router, "/fetch/PY").await;
    app.drain().await;
    let long = vec!["zz"; 21_000].join(",");
    let (status, _, body) = get(&app.router, &format!("/country/PY?fields=name,{long}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["name"]
    );
    let (_, _, nothing) = get(&app.router, &format!("/country/PY?fields={long}")).await;
    assert_eq!(nothing, serde_json::json!({}));
}
