//! Sync records (operations table, partition `~sync`) and the marker of the sync in flight; their
//! encodings are in `items.rs`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use countries_core::ports::{StoreError, SyncCreated, SyncStore};
use countries_core::sync_record::{SyncRecord, SyncState};
use uuid::Uuid;

use super::items::{
    self, SYNC_INFLIGHT, SYNC_PARTITION, SYNC_PREFIX, get_s, is_expired, keys, s, sync_sort_key,
};
use super::{DynamoStore, condition_failed, err};

impl DynamoStore {
    fn sync_expires_at(&self, sync: &SyncRecord) -> i64 {
        sync.requested_at().timestamp() + self.retention.as_secs() as i64
    }

    async fn sync_holder(&self) -> Result<Option<Uuid>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.operations_table)
            .key(keys::COUNTRY, s(SYNC_PARTITION))
            .key(keys::SORT, s(SYNC_INFLIGHT))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("get the sync marker", e))?;
        Ok(out
            .item
            .as_ref()
            .and_then(|i| get_s(i, "holder"))
            .and_then(|h| h.parse().ok()))
    }
}

#[async_trait]
impl SyncStore for DynamoStore {
    async fn create_sync(
        &self,
        sync: &SyncRecord,
        stuck_before: DateTime<Utc>,
    ) -> Result<SyncCreated, StoreError> {
        // As `create_operation`: read the marker, decide, then write marker and record in one
        // transaction conditional on the marker being as read.
        for _ in 0..3 {
            let holder_id = self.sync_holder().await?;
            let holder = match holder_id {
                Some(id) => self.get_sync(id).await?,
                None => None,
            };
            if let Some(h) = &holder
                && !h.state().is_final()
                && h.last_activity() >= stuck_before
            {
                return Ok(SyncCreated::InFlight(h.clone()));
            }
            let expires_at = self.sync_expires_at(sync);
            let mut lock = Put::builder()
                .table_name(&self.operations_table)
                .set_item(Some(items::sync_inflight(sync, expires_at)));
            lock = match holder_id {
                None => lock.condition_expression("attribute_not_exists(sk)"),
                Some(id) => lock
                    .condition_expression("holder = :old")
                    .expression_attribute_values(":old", s(id.to_string())),
            };
            let record = Put::builder()
                .table_name(&self.operations_table)
                .set_item(Some(items::sync(sync, expires_at)))
                .condition_expression("attribute_not_exists(sk)");
            let build = |p: Put| TransactWriteItem::builder().put(p).build();
            let result = self
                .client
                .transact_write_items()
                .transact_items(build(
                    lock.build()
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                ))
                .transact_items(build(
                    record
                        .build()
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                ))
                .send()
                .await;
            match result {
                Ok(_) => return Ok(SyncCreated::New),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_transaction_canceled_exception()) => {}
                Err(e) => return Err(err("create a sync", e)),
            }
        }
        match self.sync_holder().await? {
            Some(id) => self
                .get_sync(id)
                .await?
                .map(SyncCreated::InFlight)
                .ok_or_else(|| StoreError::Unavailable("lost the sync race three times".into())),
            None => Err(StoreError::Unavailable(
                "lost the sync race three times".into(),
            )),
        }
    }

    async fn get_sync(&self, id: Uuid) -> Result<Option<SyncRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.operations_table)
            .key(keys::COUNTRY, s(SYNC_PARTITION))
            .key(keys::SORT, sync_sort_key(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("get a sync", e))?;
        match out.item {
            Some(item) if !is_expired(&item, Utc::now()) => Ok(Some(items::sync_from(&item)?)),
            _ => Ok(None),
        }
    }

    async fn update_sync(
        &self,
        sync: &SyncRecord,
        expected: SyncState,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.operations_table)
            .set_item(Some(items::sync(sync, self.sync_expires_at(sync))))
            .condition_expression("#state = :state")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", s(expected.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if condition_failed(&e) => return Ok(false),
            Err(e) => return Err(err("update a sync", e)),
        }
        if sync.state().is_final() {
            let released = self
                .client
                .delete_item()
                .table_name(&self.operations_table)
                .key(keys::COUNTRY, s(SYNC_PARTITION))
                .key(keys::SORT, s(SYNC_INFLIGHT))
                .condition_expression("holder = :id")
                .expression_attribute_values(":id", s(sync.id().to_string()))
                .send()
                .await;
            if let Err(e) = released
                && !condition_failed(&e)
            {
                return Err(err("release the sync marker", e));
            }
        }
        Ok(true)
    }

    async fn list_syncs(&self, limit: usize) -> Result<Vec<SyncRecord>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.operations_table)
            .key_condition_expression("country = :c AND begins_with(sk, :p)")
            .expression_attribute_values(":c", s(SYNC_PARTITION))
            .expression_attribute_values(":p", s(SYNC_PREFIX))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100) as i32)
            .send()
            .await
            .map_err(|e| err("list syncs", e))?;
        let now = Utc::now();
        out.items()
            .iter()
            .filter(|i| !is_expired(i, now))
            .map(items::sync_from)
            .collect()
    }
}
