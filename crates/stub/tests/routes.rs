//! The stand-in's own routes, as a client sees them over loopback.

use countries_stub::{Fault, Stub, StubOptions};
use serde_json::Value;

async fn get(url: &str, key: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn v31_routes() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let base = stub.v31_base();
    for code in ["py", "PRY", "600", "PAR"] {
        let (status, body) = get(&format!("{base}/alpha/{code}"), None).await;
        assert_eq!(
            (status, body[0]["cca2"].as_str()),
            (200, Some("PY")),
            "{code}"
        );
    }
    let (status, body) = get(&format!("{base}/alpha/PY?fields=cca2,capital"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({"cca2": "PY", "capital": ["Asunción"]})
    );
    let (status, body) = get(&format!("{base}/alpha/XX"), None).await;
    assert_eq!(
        (status, body),
        (
            404,
            serde_json::json!({"status": 404, "message": "Not Found"})
        )
    );
}

#[tokio::test]
async fn v5_lookups_need_the_key() {
    let stub = Stub::start(StubOptions {
        api_key: Some("k".into()),
    })
    .await
    .unwrap();
    let base = stub.v5_base();
    let (status, body) = get(&format!("{base}/codes.alpha_2/PY"), None).await;
    assert_eq!(
        (status, body["errors"][0]["message"].as_str()),
        (401, Some("Authorization key required."))
    );
    let (status, body) = get(&format!("{base}/codes.alpha_2/py"), Some("k")).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["objects"][0]["codes"]["alpha_2"], "PY");
    assert_eq!(body["data"]["meta"]["total"], 1);
    let (status, body) = get(&format!("{base}/codes.alpha_2/XX"), Some("k")).await;
    assert_eq!(
        (status, body["errors"][0]["message"].as_str()),
        (404, Some("No countries found."))
    );
    let (status, _) = get(&format!("{base}/codes.alpha_2/PY"), Some("wrong")).await;
    assert_eq!(status, 401);
    for lookup in [
        "codes.alpha_3/pry",
        "codes.ccn3/600",
        "codes.cioc/PAR",
        "names.common/Paraguay",
    ] {
        let (status, body) = get(&format!("{base}/{lookup}"), Some("k")).await;
        assert_eq!(status, 200, "{lookup}");
        assert_eq!(
            body["data"]["objects"][0]["codes"]["alpha_2"], "PY",
            "{lookup}"
        );
    }
    let (status, body) = get(&format!("{base}/codes.nope/PY"), Some("k")).await;
    assert_eq!(
        (status, body["errors"][0]["message"].as_str()),
        (404, Some("Unknown property `codes.nope`."))
    );
    let post = reqwest::Client::new()
        .post(format!("{base}/codes.alpha_2/PY"))
        .bearer_auth("k")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status().as_u16(), 405);
}

#[tokio::test]
async fn the_v5_list_pages_through_the_catalogue() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let base = stub.v5_base();
    let mut seen = std::collections::HashSet::new();
    for offset in [0, 100, 200] {
        let (status, body) = get(&format!("{base}?limit=100&offset={offset}"), None).await;
        assert_eq!(status, 200);
        let meta = &body["data"]["meta"];
        assert_eq!(
            (meta["total"].as_u64(), meta["offset"].as_u64()),
            (Some(250), Some(offset))
        );
        assert_eq!(meta["more"], offset < 200);
        for o in body["data"]["objects"].as_array().unwrap() {
            seen.insert(o["codes"]["alpha_2"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(seen.len(), 250);
    let (_, body) = get(&base, None).await;
    assert_eq!(body["data"]["meta"]["limit"], 25);
    for bad in ["limit=101", "limit=0", "limit=ten", "offset=-1"] {
        let (status, body) = get(&format!("{base}?{bad}"), None).await;
        assert_eq!(status, 400, "{bad}");
        assert!(body["errors"][0]["message"].is_string(), "{bad}");
    }
}

#[tokio::test]
async fn faults_are_applied_in_order_then_sticky_and_reset() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let url = format!("{}/alpha/PY", stub.v31_base());
    stub.push_faults([Fault::Status { status: 503 }, Fault::Status { status: 500 }]);
    stub.set_sticky(Some(Fault::Status { status: 418 }));
    let mut statuses = vec![];
    for _ in 0..4 {
        statuses.push(get(&url, None).await.0);
    }
    assert_eq!(statuses, [503, 500, 418, 418]);
    // Over HTTP too, for cross-process tests.
    let client = reqwest::Client::new();
    let reset = client
        .post(format!("{}/_stub/reset", stub.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);
    assert_eq!(get(&url, None).await.0, 200);
    let plan = serde_json::json!({"faults": [{"kind": "rate_limited", "retry_after": 9}]});
    client
        .post(format!("{}/_stub/faults", stub.url()))
        .json(&plan)
        .send()
        .await
        .unwrap();
    let resp = client.get(&url).send().await.unwrap();
    assert_eq!(
        (
            resp.status().as_u16(),
            resp.headers()["retry-after"].to_str().unwrap()
        ),
        (429, "9")
    );
    let (_, stats) = get(&format!("{}/_stub/stats", stub.url()), None).await;
    assert_eq!(stats["requests"], 2);
}

/// The hostile faults answer as their names say: a redirect not followed here, a page of exactly the
/// size asked, and an error quoting the key it was sent.
#[tokio::test]
async fn hostile_faults_answer_as_described() {
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    let url = format!("{}/alpha/PY", stub.v31_base());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    stub.push_faults([
        Fault::Redirect {
            location: "http://127.0.0.2:9/secret".into(),
        },
        Fault::Huge {
            status: 503,
            bytes: 300_000,
            content_length: None,
        },
        Fault::EchoKey { status: 401 },
    ]);
    let redirect = client.get(&url).send().await.unwrap();
    assert_eq!(redirect.status(), 302);
    assert_eq!(redirect.headers()["location"], "http://127.0.0.2:9/secret");
    let huge = client.get(&url).send().await.unwrap();
    assert_eq!((huge.status().as_u16(), huge.content_length()), (503, None));
    let page = huge.text().await.unwrap();
    assert_eq!(page.len(), 300_000);
    assert!(page.contains("<title>503 Service Unavailable</title>"));
    let (status, body) = get(&url, Some("rc_secret")).await;
    assert_eq!(
        (status, body["errors"][0]["message"].as_str()),
        (401, Some("invalid key Bearer rc_secret"))
    );
}
