//! The catalogue routes through the router: `/countries`, the `/v3.1/` API with v3.1's answers, the
//! sync routes, `/country` from the snapshot, and CORS.

mod support;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use countries_core::sync_record::SyncTrigger;
use serde_json::{Value, json};
use support::{App, app, call_from, get};

/// The local server's state after its first start: the bundled catalogue synced.
async fn synced() -> App {
    let app = app();
    let sync = app.syncs.run_now(SyncTrigger::Startup).await.unwrap();
    assert_eq!(sync.tally().added, 250);
    app
}

fn codes(body: &Value) -> BTreeSet<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("not an array: {body}"))
        .iter()
        .map(|c| c["cca2"].as_str().unwrap().to_string())
        .collect()
}

fn set(codes: &[&str]) -> BTreeSet<String> {
    codes.iter().map(|c| c.to_string()).collect()
}

#[tokio::test]
async fn the_v31_routes_answer_as_v31_did() {
    let app = synced().await;
    let r = &app.router;
    let (status, _, all) = get(r, "/v3.1/all").await;
    assert_eq!(
        (status, all.as_array().unwrap().len()),
        (StatusCode::OK, 250)
    );
    assert_eq!(all[0].as_object().unwrap().len(), 35, "whole documents");
    let (_, _, py) = get(r, "/v3.1/alpha/py").await;
    assert_eq!(py.as_array().unwrap().len(), 1, "a list of one");
    assert_eq!(py[0]["name"]["common"], "Paraguay");
    // With fields, `alpha/{code}` answers the object alone, as v3.1 did.
    let (_, _, one) = get(r, "/v3.1/alpha/PRY?fields=name,capital,nonsense").await;
    assert_eq!(one["capital"], json!(["Asunción"]));
    assert_eq!(
        one.as_object().unwrap().len(),
        2,
        "unknown fields ignored: {one}"
    );
    for (uri, want) in [
        ("/v3.1/alpha?codes=py,bra,arg", &["PY", "BR", "AR"][..]),
        ("/v3.1/alpha/?codes=600,076", &["PY", "BR"]),
        ("/v3.1/name/paraguay", &["PY"]),
        ("/v3.1/name/republic%20of%20paraguay?fullText=true", &["PY"]),
        ("/v3.1/capital/asuncion/", &["PY"]),
        ("/v3.1/demonym/paraguayan", &["PY"]),
        ("/v3.1/lang/guaran%C3%AD", &["AR", "BO", "PY"]),
        ("/v3.1/lang/GRN", &["AR", "BO", "PY"]),
        ("/v3.1/currency/pyg", &["PY"]),
        ("/v3.1/translation/paraguai", &["PY"]),
        (
            "/v3.1/subregion/south%20america?fields=cca2",
            &[
                "AR", "BO", "BR", "CL", "CO", "EC", "FK", "GF", "GY", "PE", "PY", "SR", "UY", "VE",
            ],
        ),
    ] {
        let (status, _, body) = get(r, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        assert_eq!(codes(&body), set(want), "{uri}");
    }
    let (_, _, europe) = get(r, "/v3.1/region/europe?fields=name").await;
    assert_eq!(europe.as_array().unwrap().len(), 53);
    let (_, _, independent) = get(r, "/v3.1/independent?status=false&fields=cca2").await;
    let (_, _, dependent_default) = get(r, "/v3.1/independent?fields=cca2").await;
    assert_eq!(
        codes(&independent).len() + codes(&dependent_default).len(),
        250
    );
    let not_found = json!({"status": 404, "message": "Not Found"});
    for uri in [
        "/v3.1/name/atlantis",
        "/v3.1/alpha/zz",
        "/v3.1/currency/xyz",
        "/v3.1/name/paragu?fullText=true",
        "/v3.1/nope/x",
        "/v3.1/alpha?codes=zz,yy",
    ] {
        let (status, _, body) = get(r, uri).await;
        assert_eq!(
            (status, body),
            (StatusCode::NOT_FOUND, not_found.clone()),
            "{uri}"
        );
    }
    let bad = json!({"status": 400, "message": "Bad Request"});
    for uri in [
        "/v3.1/alpha/p",
        "/v3.1/alpha/pary",
        "/v3.1/alpha?codes=pary",
        "/v3.1/independent?status=maybe",
    ] {
        let (status, _, body) = get(r, uri).await;
        assert_eq!(
            (status, body),
            (StatusCode::BAD_REQUEST, bad.clone()),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn countries_filters_pages_and_caches() {
    let app = synced().await;
    let r = &app.router;
    let (status, headers, body) =
        get(r, "/countries?currency=EUR&limit=10&fields=name,currencies").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["total"].as_u64().unwrap() > 30);
    assert_eq!(body["count"], 10);
    assert_eq!(body["countries"][0].as_object().unwrap().len(), 2);
    let cursor = body["cursor"].as_str().unwrap();
    let (_, _, next) = get(
        r,
        &format!("/countries?currency=EUR&limit=10&fields=name,currencies&cursor={cursor}"),
    )
    .await;
    assert_ne!(next["countries"][0], body["countries"][0]);
    let etag = headers["etag"].to_str().unwrap();
    let (status, _, _) = call_from(
        r,
        Method::GET,
        "/countries?currency=EUR&limit=10&fields=name,currencies",
        &[("if-none-match", etag)],
        "192.0.2.1",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    let (_, _, united) = get(r, "/countries?q=united&fields=cca2").await;
    assert!(united["total"].as_u64().unwrap() >= 5);
    for (uri, name) in [
        ("/countries?regoin=europe", "regoin"),
        ("/countries?limit=1000", "limit"),
        ("/countries?sort=gdp", "sort"),
        ("/countries?landlocked=maybe", "landlocked"),
        ("/countries?cursor=zz", "cursor"),
        ("/countries?fields=name,gdp", "fields"),
    ] {
        let (status, _, body) = get(r, uri).await;
        assert_eq!(
            (status, body["Code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("InvalidParameter")),
            "{uri}"
        );
        assert!(
            body["Message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{name}`")),
            "{uri}: {body}"
        );
    }
}

#[tokio::test]
async fn country_comes_from_the_snapshot_with_the_same_bytes_as_from_the_store() {
    let mut app = app();
    // Fetched on its own first: served from the store (no catalogue yet, then the fetch publishes it).
    get(&app.router, "/fetch/PY").await;
    app.drain().await;
    let (status, headers, from_fetch) = get(&app.router, "/country/PY?fields=name,capital").await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, listed) = get(&app.router, "/countries?fields=cca2").await;
    assert_eq!(listed["total"], 1, "the fetch put PY in the catalogue");
    app.syncs.run_now(SyncTrigger::Startup).await.unwrap();
    let (_, again_headers, again) = get(&app.router, "/country/paraguay?fields=name,capital").await;
    assert_eq!(again, from_fetch);
    assert_eq!(again_headers["x-country-source"], "bundled");
    assert!(headers.contains_key("etag") && again_headers.contains_key("last-modified"));
}

#[tokio::test]
async fn a_sync_is_requested_joined_or_answered_fresh_and_forcing_needs_the_key() {
    let mut app = app();
    let (status, headers, body) =
        call_from(&app.router, Method::POST, "/sync", &[], "192.0.2.2").await;
    assert_eq!(
        (status, body["outcome"].as_str()),
        (StatusCode::ACCEPTED, Some("queued")),
        "{body}"
    );
    let location = headers["location"].to_str().unwrap().to_string();
    let (_, _, joined) = call_from(&app.router, Method::POST, "/sync", &[], "192.0.2.2").await;
    assert_eq!(
        (joined["outcome"].as_str(), &joined["sync"]["id"]),
        (Some("in_flight"), &body["sync"]["id"])
    );
    let (status, _, refused) = call_from(
        &app.router,
        Method::POST,
        "/sync?force=true",
        &[],
        "192.0.2.2",
    )
    .await;
    // This service has no operator key: forcing is refused whoever asks.
    assert_eq!(
        (status, refused["Code"].as_str()),
        (StatusCode::FORBIDDEN, Some("OperatorKeyNotConfigured"))
    );
    // The worker runs the queued sync.
    let id = body["sync"]["id"].as_str().unwrap().parse().unwrap();
    app.syncs
        .run_queued(&countries_core::sync_record::SyncJob { sync: id })
        .await
        .unwrap()
        .unwrap();
    let (_, _, done) = get(&app.router, &location).await;
    assert_eq!(
        (done["state"].as_str(), done["added"].as_u64()),
        (Some("succeeded"), Some(250))
    );
    let (status, _, fresh) = call_from(&app.router, Method::POST, "/sync", &[], "192.0.2.2").await;
    assert_eq!(
        (status, fresh["outcome"].as_str()),
        (StatusCode::OK, Some("fresh"))
    );
    let (_, _, list) = get(&app.router, "/sync").await;
    assert_eq!(list["syncs"].as_array().unwrap().len(), 1);
    // The document describes the sync as it is served.
    let (_, _, doc) = get(&app.router, "/openapi.json").await;
    let schema = &doc["components"]["schemas"]["Sync"];
    let served: BTreeSet<&String> = fresh["sync"].as_object().unwrap().keys().collect();
    let documented: BTreeSet<&String> = schema["properties"].as_object().unwrap().keys().collect();
    assert_eq!(served, documented);
    for required in schema["required"].as_array().unwrap() {
        assert!(
            !fresh["sync"][required.as_str().unwrap()].is_null(),
            "{required}"
        );
    }
    assert_eq!(
        doc["components"]["schemas"]["SyncState"]["enum"],
        json!(["queued", "running", "succeeded", "partial", "failed"])
    );
    let (status, _, unknown) = get(&app.router, "/sync/0193a000-0000-7000-8000-000000000000").await;
    assert_eq!(
        (status, unknown["Code"].as_str()),
        (StatusCode::NOT_FOUND, Some("UnknownSync"))
    );
    let (status, _, _) = get(&app.router, "/sync/not-a-uuid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    app.drain().await;
}

#[tokio::test]
async fn every_route_answers_cors_preflights_and_exposes_its_headers() {
    let app = synced().await;
    for uri in ["/countries", "/v3.1/all", "/country/PY", "/sync"] {
        let (status, headers, _) = call_from(
            &app.router,
            Method::OPTIONS,
            uri,
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "GET"),
            ],
            "192.0.2.3",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(headers["access-control-allow-origin"], "*", "{uri}");
    }
    let (_, headers, _) = call_from(
        &app.router,
        Method::GET,
        "/country/PY",
        &[("origin", "https://app.example")],
        "192.0.2.3",
    )
    .await;
    assert_eq!(headers["access-control-allow-origin"], "*");
    let exposed = headers["access-control-expose-headers"].to_str().unwrap();
    assert!(
        exposed.contains("etag") && exposed.contains("ratelimit-remaining"),
        "{exposed}"
    );
}

/// A catalogue the store holds but nobody can read is the service's fault and waiting will not mend it:
/// 500 without `Retry-After`, where an unreachable store is a 503 that asks the client to come back.
#[tokio::test]
async fn a_corrupt_catalogue_answers_500_without_retry_after() {
    use std::sync::Arc;

    use countries_core::catalogue::StoredCatalogue;
    use countries_core::memory::{MemoryQueue, MemoryStore};
    use countries_core::metrics::{Counted, Metric};
    use countries_core::ports::{CatalogueStore, SystemClock};
    use countries_core::ratelimit::LimiterPolicy;
    use countries_core::usecases::{ApiCases, FreshnessPolicy};

    let store = Arc::new(MemoryStore::new());
    let corrupt = StoredCatalogue {
        revision: 1,
        synced_at: None,
        body: "[{\"code\": \"PY\", \"docu".into(),
    };
    assert!(store.put_catalogue(&corrupt, None).await.unwrap());
    let (queue, _jobs) = MemoryQueue::new();
    let metrics = Arc::new(Counted::default());
    let cases = ApiCases::new(
        store,
        Arc::new(queue),
        Arc::new(SystemClock),
        FreshnessPolicy::default(),
        std::time::Duration::ZERO,
    );
    let router = countries_api::router(countries_api::AppState::new(
        &cases,
        (support::generous(), LimiterPolicy::Open),
        metrics.clone(),
    ));
    for path in ["/v3.1/all", "/countries"] {
        let (status, headers, body) = get(&router, path).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{path}: {body}");
        assert_eq!(body["Code"], "InternalError", "{path}");
        assert!(headers.get("retry-after").is_none(), "{path}");
        assert!(
            !body.to_string().contains("docu"),
            "no stored detail is shown"
        );
    }
    assert_eq!(
        metrics.get(Metric::StoredDataCorrupt),
        2,
        "counted for its alarm"
    );
}
