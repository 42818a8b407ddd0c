//! In-process latency through the whole router (rate limiter, identifier resolution, store or snapshot
//! read, serialisation, ETag), on the in-memory adapters: `/country/{id}` from the store (no catalogue
//! yet), then, after a sync, `/country/{id}` from the catalogue snapshot and the catalogue routes. Reports
//! p50, p99 and throughput; `cargo bench -p countries-api --bench country_latency` (`make bench`).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use countries_api::{AppState, ClientIp, router};
use countries_core::CountryCode;
use countries_core::country::{CountryRecord, Fetched, from_v31};
use countries_core::memory::{MemoryLimiter, MemoryQueue, MemoryStore, Unmetered};
use countries_core::ports::{CountryStore, SystemClock};
use countries_core::ratelimit::{Limit, LimiterPolicy, RateLimits};
use countries_core::usecases::{FreshnessPolicy, RetryPolicy, UseCases};
use countries_upstream::Bundled;
use http_body_util::BodyExt;
use tower::ServiceExt;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let store = Arc::new(MemoryStore::new());
    for doc in countries_core::dataset::documents() {
        let code: CountryCode = doc["cca2"].as_str().unwrap().parse().unwrap();
        let fetched = Fetched {
            document: from_v31(&doc),
            raw: doc,
            source: "bundled".into(),
        };
        store
            .put_country(&CountryRecord::new(code, fetched, chrono::Utc::now()))
            .await
            .unwrap();
    }
    let (queue, _jobs) = MemoryQueue::new();
    let metrics = Arc::new(countries_core::metrics::Counted::default());
    let cases = UseCases::new(
        store,
        Arc::new(queue),
        (Arc::new(Bundled::new()), Arc::new(Unmetered)),
        Arc::new(SystemClock),
        metrics.clone(),
        FreshnessPolicy::default(),
        RetryPolicy::default(),
    );
    let unlimited = Limit::new(1_000_000, Duration::from_secs(1));
    let limiter = Arc::new(MemoryLimiter::new(&RateLimits {
        fetch: unlimited,
        read: unlimited,
        sync: unlimited,
        on_error: LimiterPolicy::Open,
    }));
    let app = router(AppState::new(
        &cases.api,
        (limiter, LimiterPolicy::Open),
        metrics,
    ));

    let from_store = [
        ("from the store: by code (/country/PY)", vec!["/country/PY"]),
        ("by name (/country/costa-rica)", vec!["/country/costa-rica"]),
        (
            "mixed (code, alpha-3, name, fields)",
            vec![
                "/country/PY",
                "/country/DEU",
                "/country/united-states",
                "/country/JP?fields=name,capital",
            ],
        ),
    ];
    for (label, paths) in from_store {
        measure(&app, label, &paths, 20_000).await;
    }
    // The sync writes the catalogue item; the reads below answer from the snapshot.
    cases
        .worker
        .syncs
        .run_now(countries_core::sync_record::SyncTrigger::Startup)
        .await
        .unwrap();
    for (label, path, iterations) in [
        ("from the snapshot: /country/PY", "/country/PY", 20_000),
        ("/v3.1/region/europe", "/v3.1/region/europe", 5_000),
        ("/v3.1/name/united", "/v3.1/name/united", 5_000),
        ("/countries?q=united", "/countries?q=united", 5_000),
        ("/countries?currency=EUR", "/countries?currency=EUR", 5_000),
        (
            "/countries?region=europe&sort=-population&fields=name,population",
            "/countries?region=europe&sort=-population&fields=name,population",
            5_000,
        ),
        (
            "/v3.1/all?fields=name,cca2",
            "/v3.1/all?fields=name,cca2",
            2_000,
        ),
        ("/v3.1/all (whole documents, 0.87 MB)", "/v3.1/all", 500),
    ] {
        measure(&app, label, &[path], iterations).await;
    }
}

async fn measure(app: &axum::Router, label: &str, paths: &[&str], iterations: usize) {
    {
        let mut samples = Vec::with_capacity(iterations);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let warm_up = iterations / 10;
        for i in 0..iterations + warm_up {
            let mut req = Request::get(paths[i % paths.len()])
                .body(Body::empty())
                .unwrap();
            req.extensions_mut().insert(ClientIp(ip));
            let started = Instant::now();
            let response = app.clone().oneshot(req).await.unwrap();
            assert_eq!(response.status(), 200);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            let elapsed = started.elapsed();
            assert!(!body.is_empty());
            if i >= warm_up {
                samples.push(elapsed);
            }
        }
        let total: Duration = samples.iter().sum();
        samples.sort_unstable();
        println!(
            "country_latency {label}: n={} p50={:.1}µs p99={:.1}µs max={:.1}µs throughput={:.0} req/s (one core)",
            samples.len(),
            percentile(&samples, 0.50).as_secs_f64() * 1e6,
            percentile(&samples, 0.99).as_secs_f64() * 1e6,
            samples.last().unwrap().as_secs_f64() * 1e6,
            samples.len() as f64 / total.as_secs_f64(),
        );
    }
}
