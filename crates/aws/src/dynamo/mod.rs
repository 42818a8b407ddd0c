//! The DynamoDB stores. Two tables (docs/architecture.md, "Tables"; the encoding is in `items.rs`):
//!
//! - countries: partition key `code` (S); `document` and `raw` as JSON strings, `source`, `fetched_at`,
//!   `version` (N). A put only replaces an item with a smaller version.
//! - operations: partition key `country` (S), sort key `sk` (S). Operations are `op#<request id>`
//!   (UUID v7, so the sort key orders them by time); one item `inflight` per country names the operation
//!   that holds the country's in-flight slot. Every item carries `expires_at` (N, epoch seconds), the
//!   table's TTL attribute; reads filter expired items too, because DynamoDB deletes them only eventually
//!   (and emulators never). The partition `~sync` holds sync records (`sync#<uuid v7>`) and the marker
//!   `sync-inflight` naming the sync in flight.
//! - the countries table also holds the catalogue item, key `~catalogue`: `revision` (N), `synced_at`,
//!   `body` (B, the gzipped JSON of every entry).

mod budget;
mod catalogue;
mod items;
mod syncs;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use countries_core::country::{CountryCode, CountryRecord};
use countries_core::operation::{Operation, Revision};
use countries_core::ports::{CountryStore, Created, OperationStore, StoreError, Unanswered};
use uuid::Uuid;

use crate::lazy::Lazy;

pub use budget::DynamoBudget;
pub use items::keys;
use items::{INFLIGHT, OP_PREFIX, get_s, is_expired, n, operation_sort_key, s};

#[derive(Clone)]
pub struct DynamoStore {
    client: Lazy<Client>,
    countries_table: String,
    operations_table: String,
    retention: Duration,
}

fn err<E, R>(what: &str, e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(format!("DynamoDB {what}: {}", DisplayErrorContext(&e)))
}

/// Whether a conditional write was refused because its condition did not hold: not a failure, the
/// answer to "was it still as I read it?".
fn condition_failed<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error()
        .and_then(ProvideErrorMetadata::code)
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

impl DynamoStore {
    pub fn new(
        client: impl Into<Lazy<Client>>,
        countries_table: &str,
        operations_table: &str,
        retention: Duration,
    ) -> Self {
        DynamoStore {
            client: client.into(),
            countries_table: countries_table.to_string(),
            operations_table: operations_table.to_string(),
            retention,
        }
    }

    fn expires_at(&self, op: &Operation) -> i64 {
        op.requested_at().timestamp() + self.retention.as_secs() as i64
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
            .key(keys::COUNTRY, s(op.country().as_str()))
            .key(keys::SORT, s(INFLIGHT))
            .condition_expression("holder = :id")
            .expression_attribute_values(":id", s(op.request_id().to_string()))
            .send()
            .await;
        match result {
            Err(e) if !condition_failed(&e) => Err(err("release in-flight marker", e)),
            _ => Ok(()),
        }
    }
}

/// A read of a key no country has: the table answers, and the role may read it.
#[async_trait]
impl countries_core::ports::Probe for DynamoStore {
    async fn probe(&self) -> Result<(), Unanswered> {
        self.client
            .get_item()
            .table_name(&self.countries_table)
            .key(keys::CODE, s("~probe"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Unanswered(err("probe", e).to_string()))
    }
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
        out.item
            .map(|item| items::country_from(code, &item))
            .transpose()
    }

    async fn put_country(&self, record: &CountryRecord) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.countries_table)
            .set_item(Some(items::country(record)?))
            .condition_expression("attribute_not_exists(code) OR version < :v")
            .expression_attribute_values(":v", n(record.version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
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
            let holder_id = self.holder(op.country()).await?;
            let holder = match holder_id {
                Some(id) => self.get_operation(op.country(), id).await?,
                None => None,
            };
            if let Some(h) = &holder
                && h.blocks_new_fetch(stuck_before)
            {
                return Ok(Created::InFlight(h.clone()));
            }
            let mut lock = Put::builder()
                .table_name(&self.operations_table)
                .set_item(Some(items::inflight(op, self.expires_at(op))));
            lock = match holder_id {
                None => lock.condition_expression("attribute_not_exists(sk)"),
                Some(id) => lock
                    .condition_expression("holder = :old")
                    .expression_attribute_values(":old", s(id.to_string())),
            };
            let put_op = Put::builder()
                .table_name(&self.operations_table)
                .set_item(Some(items::operation(op, self.expires_at(op))))
                .condition_expression("attribute_not_exists(sk)");
            let result = self
                .client
                .transact_write_items()
                .transact_items(
                    TransactWriteItem::builder()
                        .put(
                            lock.build()
                                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        )
                        .build(),
                )
                .transact_items(
                    TransactWriteItem::builder()
                        .put(
                            put_op
                                .build()
                                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        )
                        .build(),
                )
                .send()
                .await;
            match result {
                Ok(_) => {
                    return Ok(Created::New {
                        superseded: holder.filter(|h| !h.state().is_final()),
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
        let holder = match self.holder(op.country()).await? {
            Some(id) => self.get_operation(op.country(), id).await?,
            None => None,
        };
        holder
            .map(Created::InFlight)
            .ok_or_else(|| StoreError::Unavailable("lost the in-flight race three times".into()))
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
            .key(keys::SORT, operation_sort_key(request_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("get operation", e))?;
        match out.item {
            Some(item) if !is_expired(&item, Utc::now()) => Ok(Some(items::operation_from(&item)?)),
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
            .set_item(Some(items::operation(op, self.expires_at(op))))
            .condition_expression("#state = :state AND attempts = :attempts")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", s(expected.state.as_str()))
            .expression_attribute_values(":attempts", n(expected.attempts))
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if condition_failed(&e) => return Ok(false),
            Err(e) => return Err(err("update operation", e)),
        }
        if op.state().is_final() {
            self.release(op).await?;
        }
        Ok(true)
    }

    /// The in-flight markers (one item per country at most) name the operations; a Scan reads them,
    /// because the sweep runs every few minutes, not per request, over a table of a few thousand items.
    async fn in_flight(&self) -> Result<Vec<Operation>, StoreError> {
        let now = Utc::now();
        let mut holders = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.operations_table)
                .filter_expression("sk = :inflight")
                .expression_attribute_values(":inflight", s(INFLIGHT))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| err("scan the in-flight markers", e))?;
            for item in out.items() {
                if is_expired(item, now) {
                    continue;
                }
                let country =
                    get_s(item, keys::COUNTRY).and_then(|c| c.parse::<CountryCode>().ok());
                let holder = get_s(item, "holder").and_then(|h| h.parse::<Uuid>().ok());
                match (country, holder) {
                    (Some(country), Some(holder)) => holders.push((country, holder)),
                    _ => {
                        return Err(StoreError::Corrupt(format!(
                            "an unreadable in-flight marker: {item:?}"
                        )));
                    }
                }
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        let mut ops = Vec::new();
        for (country, holder) in holders {
            if let Some(op) = self.get_operation(country, holder).await?
                && !op.state().is_final()
            {
                ops.push(op);
            }
        }
        Ok(ops)
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
                    ops.push(items::operation_from(item)?);
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
