//! How the stores' values become DynamoDB items and back: every attribute name, type and encoding of
//! both tables is here.

use std::collections::HashMap;

use std::io::{Read, Write};

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use countries_core::catalogue::StoredCatalogue;
use countries_core::country::{CountryCode, CountryRecord};
use countries_core::operation::{Operation, StoredOperation, UnknownState};
use countries_core::ports::StoreError;
use countries_core::sync_record::SyncRecord;

/// The tables' key and TTL attribute names. terraform/modules/data declares the same, and
/// tests/infra_contract.rs holds the two together.
pub mod keys {
    /// Countries table: partition key (S), the canonical alpha-2 code.
    pub const CODE: &str = "code";
    /// Operations table: partition key (S), the country's code.
    pub const COUNTRY: &str = "country";
    /// Operations table: sort key (S), `op#<uuid v7>` or `inflight`.
    pub const SORT: &str = "sk";
    /// Operations table: the TTL attribute (N, epoch seconds).
    pub const EXPIRES_AT: &str = "expires_at";
}

/// The sort key of the item that names the operation holding a country's in-flight slot.
pub const INFLIGHT: &str = "inflight";
/// Countries table: the key of the catalogue item (no country code has a `~`).
pub const CATALOGUE_KEY: &str = "~catalogue";
/// Operations table: the partition of sync records and their in-flight marker.
pub const SYNC_PARTITION: &str = "~sync";
/// The sort key prefix of sync records.
pub const SYNC_PREFIX: &str = "sync#";
/// The sort key of the marker naming the sync in flight (not `inflight`: the sweep scans for those).
pub const SYNC_INFLIGHT: &str = "sync-inflight";
/// The catalogue item's compressed body may take this much of DynamoDB's 400 KB (the data set's 1.4 MB
/// of JSON is about 190 KB gzipped).
const MAX_CATALOGUE_BYTES: usize = 380 * 1024;
/// The sort key prefix of operations.
pub const OP_PREFIX: &str = "op#";
/// Well under DynamoDB's 400 KB item limit; a country with its raw v5 document is about 20 KB.
const MAX_ITEM_BYTES: usize = 350 * 1024;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn get_s<'a>(item: &'a Item, key: &str) -> Option<&'a str> {
    item.get(key)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn get_n<T: std::str::FromStr>(item: &Item, key: &str) -> Option<T> {
    item.get(key)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn time(item: &Item, key: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    get_s(item, key)
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| StoreError::Corrupt(format!("stored {key} `{t}` is not a time: {e}")))
        })
        .transpose()
}

fn bad(what: &str) -> StoreError {
    StoreError::Corrupt(format!("a stored item lacks {what}"))
}

/// Past its TTL: DynamoDB deletes such items only eventually (and emulators never), so reads skip them.
pub fn is_expired(item: &Item, now: DateTime<Utc>) -> bool {
    get_n::<i64>(item, keys::EXPIRES_AT).is_some_and(|at| at <= now.timestamp())
}

pub fn operation_sort_key(request_id: impl std::fmt::Display) -> AttributeValue {
    s(format!("{OP_PREFIX}{request_id}"))
}

pub fn operation(op: &Operation, expires_at: i64) -> Item {
    let mut item = Item::new();
    item.insert(keys::COUNTRY.into(), s(op.country().as_str()));
    item.insert(keys::SORT.into(), operation_sort_key(op.request_id()));
    item.insert("request_id".into(), s(op.request_id().to_string()));
    item.insert("state".into(), s(op.state().as_str()));
    item.insert("requested_at".into(), s(op.requested_at().to_rfc3339()));
    item.insert("attempts".into(), n(op.attempts()));
    item.insert(keys::EXPIRES_AT.into(), n(expires_at));
    let optional = [
        ("started_at", op.started_at().map(|t| t.to_rfc3339())),
        ("finished_at", op.finished_at().map(|t| t.to_rfc3339())),
        ("error", op.error().map(str::to_string)),
        ("source", op.source().map(str::to_string)),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            item.insert(key.into(), s(value));
        }
    }
    item
}

pub fn operation_from(item: &Item) -> Result<Operation, StoreError> {
    let state = get_s(item, "state").ok_or_else(|| bad("state"))?;
    Ok(Operation::restore(StoredOperation {
        request_id: get_s(item, "request_id")
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| bad("request_id"))?,
        country: get_s(item, keys::COUNTRY)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad(keys::COUNTRY))?,
        state: state
            .parse()
            .map_err(|e: UnknownState| StoreError::Corrupt(e.to_string()))?,
        requested_at: time(item, "requested_at")?.ok_or_else(|| bad("requested_at"))?,
        started_at: time(item, "started_at")?,
        finished_at: time(item, "finished_at")?,
        attempts: get_n(item, "attempts").ok_or_else(|| bad("attempts"))?,
        error: get_s(item, "error").map(str::to_string),
        source: get_s(item, "source").map(str::to_string),
    }))
}

/// The marker that gives `op` the country's in-flight slot.
pub fn inflight(op: &Operation, expires_at: i64) -> Item {
    HashMap::from([
        (keys::COUNTRY.into(), s(op.country().as_str())),
        (keys::SORT.into(), s(INFLIGHT)),
        ("holder".into(), s(op.request_id().to_string())),
        (keys::EXPIRES_AT.into(), n(expires_at)),
    ])
}

pub fn country(record: &CountryRecord) -> Result<Item, StoreError> {
    let document = record.document.to_string();
    let raw = record.raw.to_string();
    if document.len() + raw.len() > MAX_ITEM_BYTES {
        return Err(StoreError::Corrupt(format!(
            "the document of {} is {} bytes, over the {MAX_ITEM_BYTES}-byte item budget",
            record.code,
            document.len() + raw.len()
        )));
    }
    Ok(HashMap::from([
        (keys::CODE.into(), s(record.code.as_str())),
        ("document".into(), s(document)),
        ("raw".into(), s(raw)),
        ("source".into(), s(record.source.clone())),
        ("fetched_at".into(), s(record.fetched_at.to_rfc3339())),
        ("version".into(), n(record.version)),
    ]))
}

pub fn country_from(code: CountryCode, item: &Item) -> Result<CountryRecord, StoreError> {
    let json = |key: &str| -> Result<serde_json::Value, StoreError> {
        serde_json::from_str(get_s(item, key).ok_or_else(|| bad(key))?)
            .map_err(|e| StoreError::Corrupt(format!("stored {key} is not JSON: {e}")))
    };
    Ok(CountryRecord {
        code,
        document: json("document")?,
        raw: json("raw")?,
        source: get_s(item, "source").unwrap_or_default().to_string(),
        fetched_at: time(item, "fetched_at")?.ok_or_else(|| bad("fetched_at"))?,
        version: get_n(item, "version").ok_or_else(|| bad("version"))?,
    })
}

/// The catalogue item: its body gzipped into a binary attribute, under the revision its writes check.
pub fn catalogue(c: &StoredCatalogue) -> Result<Item, StoreError> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(c.body.as_bytes())
        .and_then(|()| gz.flush())
        .map_err(|e| StoreError::Corrupt(format!("cannot compress the catalogue: {e}")))?;
    let body = gz
        .finish()
        .map_err(|e| StoreError::Corrupt(format!("cannot compress the catalogue: {e}")))?;
    if body.len() > MAX_CATALOGUE_BYTES {
        return Err(StoreError::Corrupt(format!(
            "the catalogue is {} bytes compressed, over the {MAX_CATALOGUE_BYTES}-byte item budget",
            body.len()
        )));
    }
    let mut item = HashMap::from([
        (keys::CODE.into(), s(CATALOGUE_KEY)),
        ("revision".into(), n(c.revision)),
        ("body".into(), AttributeValue::B(Blob::new(body))),
    ]);
    if let Some(at) = c.synced_at {
        item.insert("synced_at".into(), s(at.to_rfc3339()));
    }
    Ok(item)
}

pub fn catalogue_from(item: &Item) -> Result<StoredCatalogue, StoreError> {
    let compressed = item
        .get("body")
        .and_then(|v| v.as_b().ok())
        .ok_or_else(|| bad("body"))?;
    let mut body = String::new();
    flate2::read::GzDecoder::new(compressed.as_ref())
        .read_to_string(&mut body)
        .map_err(|e| {
            StoreError::Corrupt(format!("the stored catalogue does not decompress: {e}"))
        })?;
    Ok(StoredCatalogue {
        revision: get_n(item, "revision").ok_or_else(|| bad("revision"))?,
        synced_at: time(item, "synced_at")?,
        body,
    })
}

pub fn sync_sort_key(id: impl std::fmt::Display) -> AttributeValue {
    s(format!("{SYNC_PREFIX}{id}"))
}

/// A sync record: the record as JSON, with its state beside it for the conditional writes.
pub fn sync(record: &SyncRecord, expires_at: i64) -> Item {
    HashMap::from([
        (keys::COUNTRY.into(), s(SYNC_PARTITION)),
        (keys::SORT.into(), sync_sort_key(record.id())),
        ("state".into(), s(record.state().as_str())),
        (
            "record".into(),
            s(serde_json::to_string(record).expect("a sync record serialises")),
        ),
        (keys::EXPIRES_AT.into(), n(expires_at)),
    ])
}

pub fn sync_from(item: &Item) -> Result<SyncRecord, StoreError> {
    let json = get_s(item, "record").ok_or_else(|| bad("record"))?;
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("a stored sync is unreadable: {e}")))
}

/// The marker that gives `record` the one sync slot.
pub fn sync_inflight(record: &SyncRecord, expires_at: i64) -> Item {
    HashMap::from([
        (keys::COUNTRY.into(), s(SYNC_PARTITION)),
        (keys::SORT.into(), s(SYNC_INFLIGHT)),
        ("holder".into(), s(record.id().to_string())),
        (keys::EXPIRES_AT.into(), n(expires_at)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use countries_core::OperationState;

    #[test]
    fn operations_and_countries_read_back_as_written() {
        let mut op = Operation::new("PY".parse().unwrap(), Utc::now());
        op.start(Utc::now()).unwrap();
        op.requeue("upstream 503".into()).unwrap();
        assert_eq!(operation_from(&operation(&op, 1)).unwrap(), op);
        let record = CountryRecord {
            code: op.country(),
            document: serde_json::json!({"cca2": "PY"}),
            raw: serde_json::json!({}),
            source: "bundled".into(),
            fetched_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            version: 1_700_000_000_000,
        };
        let item = country(&record).unwrap();
        assert_eq!(country_from(record.code, &item).unwrap(), record);
    }

    #[test]
    fn catalogues_and_syncs_read_back_as_written() {
        let c = StoredCatalogue {
            revision: 7,
            synced_at: DateTime::from_timestamp(1_700_000_000, 0),
            body: format!("[{}]", "{\"a\":1},".repeat(1000).trim_end_matches(',')),
        };
        let item = catalogue(&c).unwrap();
        assert!(item["body"].as_b().unwrap().as_ref().len() < c.body.len() / 10);
        assert_eq!(catalogue_from(&item).unwrap(), c);
        let record = SyncRecord::new(countries_core::sync_record::SyncTrigger::Api, Utc::now());
        let item = sync(&record, 1);
        assert_eq!(get_s(&item, "state"), Some("queued"));
        assert_eq!(sync_from(&item).unwrap(), record);
    }

    /// The `record` attribute as syncs already stored have it: it must still read, and be written back
    /// the same, whatever the record's fields are called in the code.
    #[test]
    fn a_sync_stored_in_the_current_format_reads_and_writes_back_the_same() {
        let stored = r#"{"id":"01a214c0-8b37-7485-b387-cf64eda416b1","state":"partial","trigger":"schedule","requested_at":"2026-11-25T22:08:12.599599797Z","started_at":"2026-11-25T22:08:12.599632836Z","finished_at":"2026-11-25T22:08:12.748182179Z","source":"v5","calls":3,"added":0,"changed":2,"unchanged":98,"failed":["page at offset 100: upstream HTTP 503"]}"#;
        let item = HashMap::from([("record".to_string(), s(stored))]);
        let record = sync_from(&item).unwrap();
        assert_eq!(
            (record.state(), record.tally().unchanged),
            (countries_core::sync_record::SyncState::Partial, 98)
        );
        assert_eq!(get_s(&sync(&record, 1), "record"), Some(stored));
    }

    /// An operation item as operations already stored have it: it must still read, and be written back
    /// attribute for attribute, whatever the operation's fields are called in the code.
    #[test]
    fn an_operation_stored_in_the_current_format_reads_and_writes_back_the_same() {
        let stored = Item::from([
            (keys::COUNTRY.into(), s("PY")),
            (
                keys::SORT.into(),
                s("op#01a20811-9d47-7107-827d-6af3a8884c20"),
            ),
            (
                "request_id".into(),
                s("01a20811-9d47-7107-827d-6af3a8884c20"),
            ),
            ("state".into(), s("queued")),
            (
                "requested_at".into(),
                s("2026-11-23T11:01:41.831695132+00:00"),
            ),
            (
                "started_at".into(),
                s("2026-11-23T11:01:41.831992554+00:00"),
            ),
            ("attempts".into(), n(1)),
            ("error".into(), s("upstream HTTP 503: busy")),
            (keys::EXPIRES_AT.into(), n(1_766_488_901)),
        ]);
        let op = operation_from(&stored).unwrap();
        assert_eq!(
            (op.state(), op.attempts(), op.error()),
            (OperationState::Queued, 1, Some("upstream HTTP 503: busy"))
        );
        assert_eq!(operation(&op, 1_766_488_901), stored);
    }

    #[test]
    fn an_unknown_state_is_corrupt_data_that_names_it() {
        let op = Operation::new("PY".parse().unwrap(), Utc::now());
        let mut item = operation(&op, 1);
        item.insert("state".into(), s("done"));
        let e = operation_from(&item).unwrap_err();
        assert!(
            matches!(&e, StoreError::Corrupt(m) if m.contains("`done`")),
            "{e:?}"
        );
        assert_eq!(op.state(), OperationState::Queued);
    }
}
