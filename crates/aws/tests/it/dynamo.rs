//! The DynamoDB stores against moto in server mode.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use countries_aws::DynamoStore;
use countries_core::CountryCode;
use countries_core::country::CountryRecord;
use countries_core::operation::Operation;
use countries_core::ports::{CountryStore, Created, OperationStore, StoreError};

async fn store(retention: Duration) -> DynamoStore {
    let (client, countries, operations) = crate::fresh_tables().await;
    DynamoStore::new(client, &countries, &operations, retention)
}

/// A store on `config`'s endpoint, its tables never made: for calls that must fail before any table.
fn store_on(config: &aws_config::SdkConfig) -> DynamoStore {
    let client = aws_sdk_dynamodb::Client::new(config);
    DynamoStore::new(client, "a", "b", Duration::from_secs(60))
}

fn py() -> CountryCode {
    "PY".parse().unwrap()
}

fn record(version_ms: i64) -> CountryRecord {
    CountryRecord {
        code: py(),
        document: serde_json::json!({"cca2": "PY", "v": version_ms}),
        raw: serde_json::json!({"codes": {"alpha_2": "PY"}}),
        source: "v5".into(),
        fetched_at: chrono::DateTime::from_timestamp_millis(version_ms).unwrap(),
        version: version_ms,
    }
}

#[tokio::test]
async fn documents_round_trip_and_an_older_one_never_replaces_a_newer_one() {
    let store = store(Duration::from_secs(3600)).await;
    assert_eq!(store.get_country(py()).await.unwrap(), None);
    let newer = record(2_000_000);
    assert!(store.put_country(&newer).await.unwrap());
    assert!(
        !store.put_country(&record(1_000_000)).await.unwrap(),
        "older"
    );
    assert!(!store.put_country(&newer).await.unwrap(), "same version");
    assert_eq!(store.get_country(py()).await.unwrap(), Some(newer));
    assert!(store.put_country(&record(3_000_000)).await.unwrap());
}

#[tokio::test]
async fn racing_creates_make_one_operation() {
    let store = Arc::new(store(Duration::from_secs(3600)).await);
    let now = Utc::now();
    let stuck_before = now - chrono::Duration::minutes(15);
    let racers: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let op = Operation::new(py(), now);
                (
                    op.request_id(),
                    store.create_operation(&op, stuck_before).await.unwrap(),
                )
            })
        })
        .collect();
    let mut winners = vec![];
    let mut holders = vec![];
    for r in racers {
        match r.await.unwrap() {
            (id, Created::New { superseded: None }) => winners.push(id),
            (_, Created::InFlight(holder)) => holders.push(holder.request_id()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert!(holders.iter().all(|h| *h == winners[0]));
    assert_eq!(store.list_operations(py(), 100).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_slot_frees_when_the_operation_finishes_or_gets_stuck() {
    let store = store(Duration::from_secs(3600)).await;
    let now = Utc::now();
    let fresh = now - chrono::Duration::minutes(15);
    let mut first = Operation::new(py(), now);
    assert_eq!(
        store.create_operation(&first, fresh).await.unwrap(),
        Created::New { superseded: None }
    );
    // Conditional updates: only from the revision read.
    let read = first.revision();
    first.start(now).unwrap();
    assert!(store.update_operation(&first, read).await.unwrap());
    assert!(!store.update_operation(&first, read).await.unwrap());
    let running = first.revision();
    first.succeed(now, "v5").unwrap();
    assert!(store.update_operation(&first, running).await.unwrap());
    assert_eq!(
        store.get_operation(py(), first.request_id()).await.unwrap(),
        Some(first.clone())
    );

    let second = Operation::new(py(), now);
    assert_eq!(
        store.create_operation(&second, fresh).await.unwrap(),
        Created::New { superseded: None }
    );
    // Past the stuck age, a third supersedes the second.
    let third = Operation::new(py(), now);
    let later = now + chrono::Duration::seconds(1);
    assert_eq!(
        store.create_operation(&third, later).await.unwrap(),
        Created::New {
            superseded: Some(second.clone())
        }
    );
    let listed: Vec<_> = store
        .list_operations(py(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.request_id())
        .collect();
    assert_eq!(
        listed,
        [third.request_id(), second.request_id(), first.request_id()],
        "newest first"
    );
}

#[tokio::test]
async fn expired_operations_are_hidden() {
    let store = store(Duration::from_secs(3600)).await;
    let now = Utc::now();
    let mut old = Operation::new(py(), now - chrono::Duration::hours(2));
    old.fail(now, "gave up".into()).unwrap();
    // Written through the store, with an expires_at already past.
    assert!(matches!(
        store.create_operation(&old, now).await.unwrap(),
        Created::New { .. }
    ));
    let recent = Operation::new(py(), now);
    store
        .create_operation(&recent, now - chrono::Duration::minutes(15))
        .await
        .unwrap();
    let listed = store.list_operations(py(), 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|o| o.request_id()).collect::<Vec<_>>(),
        [recent.request_id()]
    );
    assert_eq!(
        store.get_operation(py(), old.request_id()).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn operations_keep_every_field() {
    let store = store(Duration::from_secs(3600)).await;
    let now = Utc::now();
    let mut op = Operation::new(py(), now);
    store.create_operation(&op, now).await.unwrap();
    let read = op.revision();
    op.start(now).unwrap();
    op.requeue("upstream HTTP 503: busy".into()).unwrap();
    assert!(store.update_operation(&op, read).await.unwrap());
    assert_eq!(
        store.get_operation(py(), op.request_id()).await.unwrap(),
        Some(op)
    );
}

#[tokio::test]
async fn a_store_that_cannot_be_reached_is_an_error() {
    let config = countries_testkit::sdk_at("http://127.0.0.1:9")
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let e = store_on(&config).get_country(py()).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Unavailable(m) if m.starts_with("DynamoDB get country")),
        "{e:?}"
    );
}

/// An endpoint that accepts connections and never answers: each call ends at `AWS_CALL_TIMEOUT`.
#[tokio::test]
async fn a_hung_store_or_queue_answers_within_the_call_deadline() {
    let (addr, _hold) = countries_testkit::hung_server().await;
    let timeouts = countries_aws::config::SdkTimeouts {
        connect: Duration::from_millis(200),
        call: Duration::from_millis(500),
    };
    let config = countries_testkit::sdk_at(&format!("http://{addr}"))
        .timeout_config(countries_aws::deadlines(timeouts))
        .load()
        .await;
    let store = store_on(&config);
    let started = std::time::Instant::now();
    assert!(store.get_country(py()).await.is_err());
    let queue = countries_aws::SqsQueue::new(aws_sdk_sqs::Client::new(&config), "http://q/1/q");
    let job = countries_core::Job::from(&Operation::new(py(), chrono::Utc::now()));
    assert!(
        countries_core::ports::JobQueue::enqueue(&queue, &job)
            .await
            .is_err()
    );
    // Two calls of 500 ms each, with room for a slow machine; without the deadline each would hang.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

/// The whole bundled data set as the catalogue item: compressed under DynamoDB's item limit, read back
/// whole, written only under the revision it read.
#[tokio::test]
async fn the_catalogue_item_round_trips_under_its_revision() {
    use countries_core::catalogue::StoredCatalogue;
    use countries_core::ports::CatalogueStore;
    let store = store(Duration::from_secs(3600)).await;
    assert_eq!(store.catalogue_revision().await.unwrap(), None);
    let body = serde_json::to_string(
        &countries_core::dataset::documents()
            .iter()
            .map(|d| serde_json::json!({"code": d["cca2"], "version": 1, "hash": "0", "source": "bundled", "document": d}))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let first = StoredCatalogue {
        revision: 1,
        synced_at: Some(Utc::now()),
        body,
    };
    assert!(store.put_catalogue(&first, None).await.unwrap());
    assert!(
        !store.put_catalogue(&first, None).await.unwrap(),
        "one exists already"
    );
    assert_eq!(store.catalogue_revision().await.unwrap(), Some(1));
    let read = store.get_catalogue().await.unwrap().unwrap();
    assert_eq!(read.body, first.body);
    assert_eq!(
        read.synced_at.map(|t| t.timestamp()),
        first.synced_at.map(|t| t.timestamp())
    );
    let second = StoredCatalogue {
        revision: 2,
        ..first.clone()
    };
    assert!(
        !store.put_catalogue(&second, Some(7)).await.unwrap(),
        "stale revision"
    );
    assert!(store.put_catalogue(&second, Some(1)).await.unwrap());
    assert_eq!(store.catalogue_revision().await.unwrap(), Some(2));
}

#[tokio::test]
async fn one_sync_in_flight_at_a_time_and_the_sweep_is_not_confused_by_its_marker() {
    use countries_core::ports::{SyncCreated, SyncStore};
    use countries_core::sync_record::{SyncRecord, SyncState, SyncTally, SyncTrigger};
    let store = store(Duration::from_secs(3600)).await;
    let now = Utc::now();
    let stuck_before = now - chrono::Duration::minutes(15);
    let first = SyncRecord::new(SyncTrigger::Api, now);
    assert_eq!(
        store.create_sync(&first, stuck_before).await.unwrap(),
        SyncCreated::New
    );
    let second = SyncRecord::new(SyncTrigger::Schedule, now);
    assert_eq!(
        store.create_sync(&second, stuck_before).await.unwrap(),
        SyncCreated::InFlight(first.clone())
    );
    assert!(
        store.in_flight().await.unwrap().is_empty(),
        "the sweep sees fetches only"
    );
    let mut running = first.clone();
    running.start(now, "bundled").unwrap();
    assert!(
        !store
            .update_sync(&running, SyncState::Running)
            .await
            .unwrap(),
        "not running yet"
    );
    assert!(
        store
            .update_sync(&running, SyncState::Queued)
            .await
            .unwrap()
    );
    let mut done = running.clone();
    let brought = SyncTally {
        added: 250,
        ..SyncTally::default()
    };
    done.finish(now, brought).unwrap();
    assert_eq!(done.state(), SyncState::Succeeded);
    assert!(store.update_sync(&done, SyncState::Running).await.unwrap());
    assert_eq!(
        store.get_sync(first.id()).await.unwrap(),
        Some(done.clone())
    );
    assert_eq!(
        store.create_sync(&second, stuck_before).await.unwrap(),
        SyncCreated::New
    );
    let listed: Vec<_> = store
        .list_syncs(10)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id())
        .collect();
    assert_eq!(listed, [second.id(), first.id()], "newest first");
    // A sync that stopped moving long ago no longer blocks.
    let third = SyncRecord::new(SyncTrigger::Api, now);
    let later = now + chrono::Duration::hours(1);
    assert_eq!(
        store.create_sync(&third, later).await.unwrap(),
        SyncCreated::New
    );
}
