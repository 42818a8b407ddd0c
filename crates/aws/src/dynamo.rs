//! The DynamoDB stores. Two tables (see the README, "Table design"):
//!
//! - countries: partition key `code` (S); `document` and `raw` as JSON strings, `source`, `fetched_at`,
//!   `version` (N). A put only replaces an item with a smaller version.
//! - operations: partition key `country` (S), sort key `sk` (S). Operations are `op#<request id>`
//!   (UUID v7, so the sort key orders them by time); one item `inflight` per country names the operation
//!   that holds the country's in-flight slot. Every item carries `expires_at` (N, epoch seconds), the
//!   table's TTL attribute; reads filter expired items too, because DynamoDB deletes them only eventually
//!   (and emulators never).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use countries_core::country::{CountryCode, CountryRecord};
use countries_core::ops::{OpState, Operation, Revision};
use countries_core::ports::{CountryStore, Created, OperationStore, StoreError};
use uuid::Uuid;

/// Well under DynamoDB's 400 KB item limit; a country with its raw v5 document is about 20 KB.
const MAX_ITEM_BYTES: usize = 350 * 1024;
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

const INFLIGHT: &str = "inflight";
const OP_PREFIX: &str = "op#";

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    countries_table: String,
    operations_table: String,
    retention: Duration,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn err<E, R>(what: &str, e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError(format!("DynamoDB {what}: {}", DisplayErrorContext(&e)))
}

fn get_s<'a>(item: &'a Item, key: &str) -> Option<&'a str> {
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
                .map_err(|e| StoreError(format!("stored {key} `{t}` is not a time: {e}")))
        })
        .transpose()
}

fn bad(what: &str) -> StoreError {
    StoreError(format!("a stored item lacks {what}"))
}

fn is_expired(item: &Item, now: DateTime<Utc>) -> bool {
    get_n::<i64>(item, keys::EXPIRES_AT).is_some_and(|at| at <= now.timestamp())
}

impl DynamoStore {
    pub fn new(
        client: Client,
        countries_table: &str,
        operations_table: &str,
        retention: Duration,
    ) -> Self {
        DynamoStore {
            client,
            countries_table: countries_table.to_string(),
            operations_table: operations_table.to_string(),
            retention,
        }
    }

    fn expires_at(&self, from: DateTime<Utc>) -> i64 {
        from.timestamp() + self.retention.as_secs() as i64
    }

    fn op_item(&self, op: &Operation) -> Item {
        let mut item = Item::new();
        item.insert(keys::COUNTRY.into(), s(op.country.as_str()));
        item.insert(
            keys::SORT.into(),
            s(format!("{OP_PREFIX}{}", op.request_id)),
        );
        item.insert("request_id".into(), s(op.request_id.to_string()));
        item.insert("state".into(), s(op.state.as_str()));
        item.insert("requested_at".into(), s(op.requested_at.to_rfc3339()));
        item.insert("attempts".into(), n(op.attempts));
        item.insert(keys::EXPIRES_AT.into(), n(self.expires_at(op.requested_at)));
        if let Some(t) = op.started_at {
            item.insert("started_at".into(), s(t.to_rfc3339()));
        }
        if let Some(t) = op.finished_at {
            item.insert("finished_at".into(), s(t.to_rfc3339()));
        }
        if let Some(e) = &op.error {
            item.insert("error".into(), s(e.clone()));
        }
        if let Some(src) = &op.source {
            item.insert("source".into(), s(src.clone()));
        }
        item
    }

    fn lock_item(&self, op: &Operation) -> Item {
        HashMap::from([
            (keys::COUNTRY.into(), s(op.country.as_str())),
            (keys::SORT.into(), s(INFLIGHT)),
            ("holder".into(), s(op.request_id.to_string())),
            (keys::EXPIRES_AT.into(), n(self.expires_at(op.requested_at))),
        ])
    }

    async fn holder(&self, country: CountryCode) -> Result<Option<Uuid>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.operations_table)
            .key(keys::COUNTRY, s(country.as_str()))
            .key(keys::SORT, s(INFLIGHT))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("get in-flight marker", e))?;
        Ok(out
            .item
            .as_ref()
            .and_then(|i| get_s(i, "holder"))
            .and_then(|h| h.parse().ok()))
    }

    /// Releases the in-flight slot if `op` still holds it.
    async fn release(&self, op: &Operation) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.operations_table)
            .key(keys::COUNTRY, s(op.country.as_str()))
            .key(keys::SORT, s(INFLIGHT))
            .condition_expression("holder = :id")
            .expression_attribute_values(":id", s(op.request_id.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(err("release in-flight marker", e)),
        }
    }
}

pub fn operation_from_item(item: &Item) -> Result<Operation, StoreError> {
    let state = match get_s(item, "state").ok_or_else(|| bad("state"))? {
        "queued" => OpState::Queued,
        "running" => OpState::Running,
        "succeeded" => OpState::Succeeded,
        "not_found" => OpState::NotFound,
        "failed" => OpState::Failed,
        other => return Err(StoreError(format!("unknown operation state `{other}`"))),
    };
    Ok(Operation {
        request_id: get_s(item, "request_id")
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| bad("request_id"))?,
        country: get_s(item, keys::COUNTRY)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad(keys::COUNTRY))?,
        state,
        requested_at: time(item, "requested_at")?.ok_or_else(|| bad("requested_at"))?,
        started_at: time(item, "started_at")?,
        finished_at: time(item, "finished_at")?,
        attempts: get_n(item, "attempts").ok_or_else(|| bad("attempts"))?,
        error: get_s(item, "error").map(str::to_string),
        source: get_s(item, "source").map(str::to_string),
    })
}

#[async_trait]
impl CountryStore for DynamoStore {
    async fn get_country(&self, code: CountryCode) -> Result<Option<CountryRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.countries_table)
            .key(keys::CODE, s(code.as_str()))
            .send()
            .await
            .map_err(|e| err("get country", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let json = |key: &str| -> Result<serde_json::Value, StoreError> {
            serde_json::from_str(get_s(&item, key).ok_or_else(|| bad(key))?)
                .map_err(|e| StoreError(format!("stored {key} is not JSON: {e}")))
        };
        Ok(Some(CountryRecord {
            code,
            document: json("document")?,
            raw: json("raw")?,
            source: get_s(&item, "source").unwrap_or_default().to_string(),
            fetched_at: time(&item, "fetched_at")?.ok_or_else(|| bad("fetched_at"))?,
            version: get_n(&item, "version").ok_or_else(|| bad("version"))?,
        }))
    }

    async fn put_country(&self, record: &CountryRecord) -> Result<bool, StoreError> {
        let document = record.document.to_string();
        let raw = record.raw.to_string();
        if document.len() + raw.len() > MAX_ITEM_BYTES {
            return Err(StoreError(format!(
                "the document of {} is {} bytes, over the {MAX_ITEM_BYTES}-byte item budget",
                record.code,
                document.len() + raw.len()
            )));
        }
        let result = self
            .client
            .put_item()
            .table_name(&self.countries_table)
            .item(keys::CODE, s(record.code.as_str()))
            .item("document", s(document))
            .item("raw", s(raw))
            .item("source", s(record.source.clone()))
            .item("fetched_at", s(record.fetched_at.to_rfc3339()))
            .item("version", n(record.version))
            .condition_expression("attribute_not_exists(code) OR version < :v")
            .expression_attribute_values(":v", n(record.version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(err("put country", e)),
        }
    }
}

#[async_trait]
impl OperationStore for DynamoStore {
    async fn create_operation(
        &self,
        op: &Operation,
        stuck_before: DateTime<Utc>,
    ) -> Result<Created, StoreError> {
        // Read the marker, decide, then write the marker and the operation in one transaction conditional
        // on the marker being as read: of two racing writers exactly one wins; the other reads again.
        for _ in 0..3 {
            let holder_id = self.holder(op.country).await?;
            let holder = match holder_id {
                Some(id) => self.get_operation(op.country, id).await?,
                None => None,
            };
            if let Some(h) = &holder
                && h.blocks_new_fetch(stuck_before)
            {
                return Ok(Created::InFlight(h.clone()));
            }
            let mut lock = Put::builder()
                .table_name(&self.operations_table)
                .set_item(Some(self.lock_item(op)));
            lock = match holder_id {
                None => lock.condition_expression("attribute_not_exists(sk)"),
                Some(id) => lock
                    .condition_expression("holder = :old")
                    .expression_attribute_values(":old", s(id.to_string())),
            };
            let put_op = Put::builder()
                .table_name(&self.operations_table)
                .set_item(Some(self.op_item(op)))
                .condition_expression("attribute_not_exists(sk)");
            let result = self
                .client
                .transact_write_items()
                .transact_items(
                    TransactWriteItem::builder()
                        .put(lock.build().map_err(|e| StoreError(e.to_string()))?)
                        .build(),
                )
                .transact_items(
                    TransactWriteItem::builder()
                        .put(put_op.build().map_err(|e| StoreError(e.to_string()))?)
                        .build(),
                )
                .send()
                .await;
            match result {
                Ok(_) => {
                    return Ok(Created::New {
                        superseded: holder.filter(|h| !h.state.is_final()),
                    });
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_transaction_canceled_exception()) =>
                {
                    continue;
                }
                Err(e) => return Err(err("create operation", e)),
            }
        }
        match self.holder(op.country).await? {
            Some(id) => match self.get_operation(op.country, id).await? {
                Some(h) => Ok(Created::InFlight(h)),
                None => Err(StoreError("lost the in-flight race three times".into())),
            },
            None => Err(StoreError("lost the in-flight race three times".into())),
        }
    }

    async fn get_operation(
        &self,
        country: CountryCode,
        request_id: Uuid,
    ) -> Result<Option<Operation>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.operations_table)
            .key(keys::COUNTRY, s(country.as_str()))
            .key(keys::SORT, s(format!("{OP_PREFIX}{request_id}")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("get operation", e))?;
        match out.item {
            Some(item) if !is_expired(&item, Utc::now()) => Ok(Some(operation_from_item(&item)?)),
            _ => Ok(None),
        }
    }

    async fn update_operation(
        &self,
        op: &Operation,
        expected: Revision,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.operations_table)
            .set_item(Some(self.op_item(op)))
            .condition_expression("#state = :state AND attempts = :attempts")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", s(expected.state.as_str()))
            .expression_attribute_values(":attempts", n(expected.attempts))
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                return Ok(false);
            }
            Err(e) => return Err(err("update operation", e)),
        }
        if op.state.is_final() {
            self.release(op).await?;
        }
        Ok(true)
    }

    async fn list_operations(
        &self,
        country: CountryCode,
        limit: usize,
    ) -> Result<Vec<Operation>, StoreError> {
        let now = Utc::now();
        let mut ops = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.operations_table)
                .key_condition_expression("country = :c AND begins_with(sk, :p)")
                .expression_attribute_values(":c", s(country.as_str()))
                .expression_attribute_values(":p", s(OP_PREFIX))
                .scan_index_forward(false)
                .limit(limit.clamp(1, 100) as i32)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| err("list operations", e))?;
            for item in out.items() {
                if !is_expired(item, now) {
                    ops.push(operation_from_item(item)?);
                }
            }
            start = out.last_evaluated_key;
            if ops.len() >= limit || start.is_none() {
                break;
            }
        }
        ops.truncate(limit);
        Ok(ops)
    }
}
