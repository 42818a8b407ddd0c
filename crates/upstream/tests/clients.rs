//! The clients against the REST Countries stand-in over loopback.

use std::time::Duration;

use countries_core::country::{CountryCode, from_v31};
use countries_core::ports::{Upstream, UpstreamError};
use countries_stub::{Fault, Stub, StubOptions, v5::to_v5};
use countries_upstream::v5::Document;
use countries_upstream::{Bundled, HttpSettings, V5, V31};

const KEY: &str = "rc_test_key";

fn settings() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_millis(500),
        timeout: Duration::from_millis(800),
        max_bytes: 1024 * 1024,
    }
}

fn py() -> CountryCode {
    "PY".parse().unwrap()
}

/// What the v5 client serves for the stand-in's form of a v3.1 document.
fn mapped_from_v5(v31: &serde_json::Value) -> serde_json::Value {
    Document::read(&to_v5(v31)).unwrap().to_v31()
}

fn bundled_doc(code: &str) -> serde_json::Value {
    countries_core::dataset::documents()
        .into_iter()
        .find(|d| d["cca2"] == code)
        .unwrap()
}

async fn stub() -> Stub {
    Stub::start(StubOptions {
        api_key: Some(KEY.into()),
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn v31_fetches_and_completes_the_document() {
    let stub = stub().await;
    let client = V31::new(&stub.v31_base(), &settings()).unwrap();
    let got = client.fetch(py()).await.unwrap();
    assert_eq!(got.source, "v3.1");
    assert_eq!(got.document, from_v31(&bundled_doc("PY")));
    assert_eq!(got.raw, bundled_doc("PY"));
    assert_eq!(stub.requests(), 1);
}

#[tokio::test]
async fn v5_fetches_with_the_key_and_maps_onto_v31() {
    let stub = stub().await;
    let client = V5::new(&stub.v5_base(), KEY, &settings()).unwrap();
    let got = client.fetch(py()).await.unwrap();
    assert_eq!(got.source, "v5");
    assert_eq!(got.document["name"]["common"], "Paraguay");
    assert_eq!(got.document, mapped_from_v5(&bundled_doc("PY")));
    assert_eq!(got.raw["codes"]["alpha_2"], "PY");
}

#[tokio::test]
async fn v5_without_a_valid_key_is_permanent() {
    let stub = stub().await;
    for (key, message) in [
        ("", "Authorization key required."),
        ("wrong", "Invalid API key."),
    ] {
        let client = V5::new(&stub.v5_base(), key, &settings()).unwrap();
        match client.fetch(py()).await {
            // reqwest sends `Bearer ` for an empty key, which the stand-in reads as no key.
            Err(UpstreamError::Permanent(m)) => assert!(m.contains("401"), "{m}"),
            other => panic!("{key}: {other:?} (want {message})"),
        }
    }
}

#[tokio::test]
async fn unknown_codes_are_not_found() {
    let stub = stub().await;
    let xx: CountryCode = "XX".parse().unwrap();
    let v31 = V31::new(&stub.v31_base(), &settings()).unwrap();
    let v5 = V5::new(&stub.v5_base(), KEY, &settings()).unwrap();
    assert!(
        matches!(v31.fetch(xx).await, Err(UpstreamError::NotFound(m)) if m.contains("Not Found"))
    );
    assert!(
        matches!(v5.fetch(xx).await, Err(UpstreamError::NotFound(m)) if m.contains("No countries found"))
    );
    assert!(matches!(
        Bundled::new().fetch(xx).await,
        Err(UpstreamError::NotFound(_))
    ));
}

type Check = fn(&Result<(), UpstreamError>) -> bool;

/// Every injected fault, through both clients, lands in the right class.
#[tokio::test]
async fn faults_are_classified() {
    let stub = stub().await;
    let v31 = V31::new(&stub.v31_base(), &settings()).unwrap();
    let v5 = V5::new(&stub.v5_base(), KEY, &settings()).unwrap();
    let clients: [&dyn Upstream; 2] = [&v31, &v5];
    for client in clients {
        let cases: Vec<(Fault, Check)> = vec![
            (
                Fault::Status { status: 503 },
                |r| matches!(r, Err(UpstreamError::Retryable { message, .. }) if message.contains("503")),
            ),
            (Fault::Status { status: 500 }, |r| {
                matches!(r, Err(UpstreamError::Retryable { .. }))
            }),
            (
                Fault::Status { status: 401 },
                |r| matches!(r, Err(UpstreamError::Permanent(m)) if m.contains("401")),
            ),
            (Fault::Status { status: 403 }, |r| {
                matches!(r, Err(UpstreamError::Permanent(_)))
            }),
            (
                Fault::Status { status: 410 },
                |r| matches!(r, Err(UpstreamError::Permanent(m)) if m.contains("Injected HTTP 410")),
            ),
            (
                Fault::Html { status: 502 },
                |r| matches!(r, Err(UpstreamError::Retryable { message, .. }) if message.contains("HTML page")),
            ),
            (
                Fault::Malformed,
                |r| matches!(r, Err(UpstreamError::Permanent(m)) if m.contains("cannot be read")),
            ),
            (
                Fault::Truncated,
                |r| matches!(r, Err(UpstreamError::Retryable { message, .. }) if message.contains("cut short")),
            ),
            (Fault::ShortBody, |r| {
                matches!(r, Err(UpstreamError::Retryable { .. }))
            }),
            (Fault::ResetMidBody, |r| {
                matches!(r, Err(UpstreamError::Retryable { .. }))
            }),
            (
                Fault::RateLimited {
                    retry_after: Some(3),
                },
                |r| matches!(r, Err(UpstreamError::Retryable { retry_after: Some(d), .. }) if *d == Duration::from_secs(3)),
            ),
            (Fault::RateLimited { retry_after: None }, |r| {
                matches!(
                    r,
                    Err(UpstreamError::Retryable {
                        retry_after: None,
                        ..
                    })
                )
            }),
            (
                Fault::Html { status: 429 },
                |r| matches!(r, Err(UpstreamError::Retryable { message, .. }) if message.contains("HTML page")),
            ),
            (
                Fault::Html { status: 404 },
                |r| matches!(r, Err(UpstreamError::Permanent(m)) if m.contains("REST_COUNTRIES_URL")),
            ),
            (
                Fault::Hang,
                |r| matches!(r, Err(UpstreamError::Retryable { message, .. }) if message.contains("timed out")),
            ),
            (Fault::Latency { ms: 100 }, |r| r.is_ok()),
        ];
        for (fault, ok) in cases {
            stub.push_faults([fault.clone()]);
            let result = client.fetch(py()).await.map(|_| ());
            assert!(ok(&result), "{} {fault:?}: {result:?}", client.kind());
        }
    }
}

/// v5's two answers for "no match": an empty `objects` list, and a 404 in its error envelope.
#[tokio::test]
async fn v5_no_match_is_not_found_either_way() {
    let stub = stub().await;
    let v5 = V5::new(&stub.v5_base(), KEY, &settings()).unwrap();
    stub.push_faults([Fault::EmptyObjects]);
    assert!(matches!(
        v5.fetch(py()).await,
        Err(UpstreamError::NotFound(_))
    ));
    stub.push_faults([Fault::Status { status: 404 }]);
    assert!(matches!(
        v5.fetch(py()).await,
        Err(UpstreamError::NotFound(_))
    ));
}

#[tokio::test]
async fn responses_over_the_cap_are_refused() {
    let stub = stub().await;
    let small = HttpSettings {
        max_bytes: 512,
        ..settings()
    };
    let client = V31::new(&stub.v31_base(), &small).unwrap();
    assert!(
        matches!(client.fetch(py()).await, Err(UpstreamError::Permanent(m)) if m.contains("larger than 512"))
    );
}

#[tokio::test]
async fn a_closed_port_is_retryable() {
    let stub = stub().await;
    let url = stub.v31_base();
    drop(stub);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let client = V31::new(&url, &settings()).unwrap();
    assert!(
        matches!(client.fetch(py()).await, Err(UpstreamError::Retryable { message, .. }) if message.contains("could not connect"))
    );
}

#[tokio::test]
async fn bundled_serves_every_country() {
    let bundled = Bundled::new();
    for code in countries_core::ident::index().codes() {
        let got = bundled.fetch(code).await.unwrap();
        assert_eq!(got.document["cca2"], code.as_str());
        assert_eq!(got.source, "bundled");
    }
}

/// Counts the calls a catalogue fetch asks for.
#[derive(Default)]
struct CountingGate(std::sync::atomic::AtomicU32);

#[async_trait::async_trait]
impl countries_core::ports::CallGate for CountingGate {
    async fn admit(&self) -> Result<(), UpstreamError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

fn catalogue_settings() -> HttpSettings {
    HttpSettings {
        max_bytes: 4 * 1024 * 1024,
        timeout: Duration::from_secs(2),
        ..settings()
    }
}

#[tokio::test]
async fn the_v5_catalogue_is_three_calls_and_maps_every_country() {
    let stub = stub().await;
    let client = V5::new(&stub.v5_base(), KEY, &catalogue_settings()).unwrap();
    let gate = CountingGate::default();
    let got = client.catalogue(&gate).await.unwrap();
    assert_eq!((got.calls, stub.requests(), gate.0.into_inner()), (3, 3, 3));
    assert!(got.failed.is_empty(), "{:?}", got.failed);
    assert_eq!(got.countries.len(), 250);
    let bundled = countries_core::dataset::documents();
    for ((code, fetched), v31) in got.countries.iter().zip(&bundled) {
        assert_eq!(v31["cca2"], code.as_str());
        assert_eq!(fetched.document, mapped_from_v5(v31), "{code}");
    }
}

#[tokio::test]
async fn a_failed_v5_page_keeps_the_pages_before_it_and_a_failed_first_page_is_an_error() {
    let stub = stub().await;
    let client = V5::new(&stub.v5_base(), KEY, &catalogue_settings()).unwrap();
    stub.push_faults([Fault::Hang]);
    assert!(matches!(
        client.catalogue(&CountingGate::default()).await,
        Err(UpstreamError::Retryable { .. })
    ));
    stub.reset();
    // The first page passes, the second fails.
    stub.push_faults([Fault::Latency { ms: 0 }, Fault::Status { status: 503 }]);
    let got = client.catalogue(&CountingGate::default()).await.unwrap();
    assert_eq!((got.calls, got.countries.len()), (2, 100));
    assert!(
        got.failed[0].contains("offset 100") && got.failed[0].contains("503"),
        "{:?}",
        got.failed
    );
}

#[tokio::test]
async fn the_v31_catalogue_joins_four_field_calls_into_whole_documents() {
    let stub = stub().await;
    let client = V31::new(&stub.v31_base(), &catalogue_settings()).unwrap();
    let got = client.catalogue(&CountingGate::default()).await.unwrap();
    assert_eq!((got.calls, stub.requests()), (4, 4));
    assert_eq!(got.countries.len(), 250);
    let bundled: std::collections::HashMap<String, serde_json::Value> =
        countries_core::dataset::documents()
            .into_iter()
            .map(|d| (d["cca2"].as_str().unwrap().to_string(), d))
            .collect();
    for (code, fetched) in &got.countries {
        let v31 = &bundled[code.as_str()];
        assert_eq!(fetched.document, from_v31(v31), "{code}");
    }
}

#[tokio::test]
async fn the_bundled_catalogue_calls_nothing() {
    let gate = CountingGate::default();
    let got = Bundled::new().catalogue(&gate).await.unwrap();
    assert_eq!(
        (got.calls, got.countries.len(), gate.0.into_inner()),
        (0, 250, 0)
    );
}

/// Neither client follows a redirect, to another host or anywhere (M1): the other host, which would
/// answer, is never asked, and the redirect fails for good, naming the likely misconfiguration.
#[tokio::test]
async fn a_redirect_is_not_followed() {
    let stub = stub().await;
    // Keyless, so that a followed redirect would succeed rather than fail on the dropped key.
    let other = Stub::start(StubOptions::default()).await.unwrap();
    let v31 = V31::new(&stub.v31_base(), &settings()).unwrap();
    let v5 = V5::new(&stub.v5_base(), KEY, &settings()).unwrap();
    let clients: [(&dyn Upstream, String); 2] = [
        (&v31, format!("{}/alpha/PY", other.v31_base())),
        (&v5, format!("{}/codes.alpha_2/PY", other.v5_base())),
    ];
    for (client, location) in clients {
        stub.push_faults([Fault::Redirect { location }]);
        let result = client.fetch(py()).await.map(|_| ());
        assert!(
            matches!(&result, Err(UpstreamError::Permanent(m)) if m.contains("redirect") && m.contains("REST_COUNTRIES_URL")),
            "{}: {result:?}",
            client.kind()
        );
    }
    assert_eq!((stub.requests(), other.requests()), (2, 0));
}

/// The longest message a client may give: what is stored on every operation and served on `/status`.
const MESSAGE_CHARS: usize = 200;

fn assert_contained(message: &str) {
    assert!(
        message.chars().count() <= MESSAGE_CHARS && !message.chars().any(char::is_control),
        "{} characters: {message:.300}",
        message.chars().count()
    );
}

/// A 5 MB error page (M2) is cut, not refused: its status still decides the class, its title is the
/// message, short and one line. Only the head of the page is read, whatever its framing says.
#[tokio::test]
async fn a_5_mb_error_page_keeps_its_status_and_gives_a_short_message() {
    let stub = stub().await;
    let v31 = V31::new(&stub.v31_base(), &HttpSettings::default()).unwrap();
    let v5 = V5::new(&stub.v5_base(), KEY, &HttpSettings::default()).unwrap();
    let clients: [&dyn Upstream; 2] = [&v31, &v5];
    for client in clients {
        for content_length in [None, Some(5_000_000), Some(1 << 40)] {
            stub.push_faults([Fault::Huge {
                status: 503,
                bytes: 5_000_000,
                content_length,
            }]);
            match client.fetch(py()).await {
                Err(UpstreamError::Retryable { message, .. }) => {
                    assert_eq!(
                        message,
                        "upstream HTTP 503: HTML page \"503 Service Unavailable\"",
                        "{} {content_length:?}",
                        client.kind()
                    );
                }
                other => panic!("{} {content_length:?}: {other:?}", client.kind()),
            }
        }
    }
}

/// A success body past `max_bytes` is refused while it streams, without `Content-Length` or with
/// one that lies: an endless body ends in the refusal, not in the timeout.
#[tokio::test]
async fn a_body_past_the_cap_is_refused_as_it_streams() {
    let stub = stub().await;
    let client = V31::new(&stub.v31_base(), &settings()).unwrap();
    for content_length in [None, Some(1 << 40)] {
        stub.push_faults([Fault::Huge {
            status: 200,
            bytes: u64::MAX,
            content_length,
        }]);
        let result = client.fetch(py()).await;
        assert!(
            matches!(&result, Err(UpstreamError::Permanent(m)) if m.contains("larger than 1048576 bytes")),
            "{content_length:?}: {result:?}"
        );
    }
}

/// An upstream that echoes the key (M1) never gets it into an error: the key is replaced before the
/// message exists, on a refusal, an outage and an error envelope sent with 200 alike.
#[tokio::test]
async fn an_error_that_echoes_the_key_is_redacted() {
    let stub = stub().await;
    let v5 = V5::new(&stub.v5_base(), KEY, &settings()).unwrap();
    for status in [401, 503, 200] {
        stub.push_faults([Fault::EchoKey { status }]);
        let err = v5.fetch(py()).await.unwrap_err();
        let message = err.to_string();
        assert!(
            !message.contains(KEY) && message.contains("invalid key Bearer [key]"),
            "{status}: {message}"
        );
        assert_contained(&message);
    }
    stub.push_faults([Fault::EchoKey { status: 401 }]);
    let err = v5.catalogue(&CountingGate::default()).await.unwrap_err();
    assert!(!err.to_string().contains(KEY), "{err}");
}
