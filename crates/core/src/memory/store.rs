//! The memory store: every stored port in one process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::catalogue::StoredCatalogue;
use crate::country::{CountryCode, CountryRecord};
use crate::operation::{Operation, Revision};
use crate::ports::{
    CatalogueStore, CountryStore, Created, OperationStore, StoreError, SyncCreated, SyncStore,
};
use crate::sync_record::{SyncRecord, SyncState};

/// Both stores in one mutex-guarded map each; every method is one critical section, which is what
/// makes `create_operation` and the conditional writes atomic. Finished operations older than the
/// retention are forgotten when the country's next operation is created, as DynamoDB's TTL would.
pub struct MemoryStore {
    countries: Mutex<HashMap<CountryCode, CountryRecord>>,
    operations: Mutex<HashMap<CountryCode, Vec<Operation>>>,
    catalogue: Mutex<Option<StoredCatalogue>>,
    syncs: Mutex<Vec<SyncRecord>>,
    retention: Duration,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::with_retention(crate::operation::DEFAULT_RETENTION)
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_retention(retention: Duration) -> Self {
        MemoryStore {
            countries: Mutex::default(),
            operations: Mutex::default(),
            catalogue: Mutex::default(),
            syncs: Mutex::default(),
            retention,
        }
    }

    fn expired_before(&self) -> DateTime<Utc> {
        Utc::now() - chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX)
    }
}

#[async_trait]
impl CountryStore for MemoryStore {
    async fn get_country(&self, code: CountryCode) -> Result<Option<CountryRecord>, StoreError> {
        Ok(self.countries.lock().unwrap().get(&code).cloned())
    }

    async fn put_country(&self, record: &CountryRecord) -> Result<bool, StoreError> {
        let mut countries = self.countries.lock().unwrap();
        match countries.get(&record.code) {
            Some(stored) if stored.version >= record.version => Ok(false),
            _ => {
                countries.insert(record.code, record.clone());
                Ok(true)
            }
        }
    }
}

#[async_trait]
impl OperationStore for MemoryStore {
    async fn create_operation(
        &self,
        op: &Operation,
        stuck_before: DateTime<Utc>,
    ) -> Result<Created, StoreError> {
        let expired_before = self.expired_before();
        let mut all = self.operations.lock().unwrap();
        let ops = all.entry(op.country()).or_default();
        ops.retain(|o| !(o.state().is_final() && o.requested_at() < expired_before));
        if let Some(holder) = ops.iter().find(|o| o.blocks_new_fetch(stuck_before)) {
            return Ok(Created::InFlight(holder.clone()));
        }
        let superseded = ops.iter().rev().find(|o| !o.state().is_final()).cloned();
        ops.push(op.clone());
        Ok(Created::New { superseded })
    }

    async fn get_operation(
        &self,
        country: CountryCode,
        request_id: Uuid,
    ) -> Result<Option<Operation>, StoreError> {
        let all = self.operations.lock().unwrap();
        Ok(all
            .get(&country)
            .and_then(|ops| ops.iter().find(|o| o.request_id() == request_id))
            .cloned())
    }

    async fn update_operation(
        &self,
        op: &Operation,
        expected: Revision,
    ) -> Result<bool, StoreError> {
        let mut all = self.operations.lock().unwrap();
        let stored = all
            .get_mut(&op.country())
            .and_then(|ops| ops.iter_mut().find(|o| o.request_id() == op.request_id()));
        match stored {
            Some(stored) if stored.revision() == expected => {
                *stored = op.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn in_flight(&self) -> Result<Vec<Operation>, StoreError> {
        let all = self.operations.lock().unwrap();
        Ok(all
            .values()
            .flatten()
            .filter(|o| !o.state().is_final())
            .cloned()
            .collect())
    }

    async fn list_operations(
        &self,
        country: CountryCode,
        limit: usize,
    ) -> Result<Vec<Operation>, StoreError> {
        let all = self.operations.lock().unwrap();
        let mut ops: Vec<Operation> = all.get(&country).cloned().unwrap_or_default();
        ops.sort_by_key(|o| std::cmp::Reverse(o.request_id()));
        ops.truncate(limit);
        Ok(ops)
    }
}

#[async_trait]
impl CatalogueStore for MemoryStore {
    async fn catalogue_revision(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.catalogue.lock().unwrap().as_ref().map(|c| c.revision))
    }

    async fn get_catalogue(&self) -> Result<Option<StoredCatalogue>, StoreError> {
        Ok(self.catalogue.lock().unwrap().clone())
    }

    async fn put_catalogue(
        &self,
        catalogue: &StoredCatalogue,
        expected: Option<u64>,
    ) -> Result<bool, StoreError> {
        let mut stored = self.catalogue.lock().unwrap();
        if stored.as_ref().map(|c| c.revision) != expected {
            return Ok(false);
        }
        *stored = Some(catalogue.clone());
        Ok(true)
    }
}

#[async_trait]
impl SyncStore for MemoryStore {
    async fn create_sync(
        &self,
        sync: &SyncRecord,
        stuck_before: DateTime<Utc>,
    ) -> Result<SyncCreated, StoreError> {
        let expired_before = self.expired_before();
        let mut syncs = self.syncs.lock().unwrap();
        syncs.retain(|s| !(s.state().is_final() && s.requested_at() < expired_before));
        let holder = syncs
            .iter()
            .find(|s| !s.state().is_final() && s.last_activity() >= stuck_before);
        if let Some(holder) = holder {
            return Ok(SyncCreated::InFlight(holder.clone()));
        }
        syncs.push(sync.clone());
        Ok(SyncCreated::New)
    }

    async fn get_sync(&self, id: Uuid) -> Result<Option<SyncRecord>, StoreError> {
        Ok(self
            .syncs
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.id() == id)
            .cloned())
    }

    async fn update_sync(
        &self,
        sync: &SyncRecord,
        expected: SyncState,
    ) -> Result<bool, StoreError> {
        let mut syncs = self.syncs.lock().unwrap();
        match syncs.iter_mut().find(|s| s.id() == sync.id()) {
            Some(stored) if stored.state() == expected => {
                *stored = sync.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn list_syncs(&self, limit: usize) -> Result<Vec<SyncRecord>, StoreError> {
        let mut syncs = self.syncs.lock().unwrap().clone();
        syncs.sort_by_key(|s| std::cmp::Reverse(s.id()));
        syncs.truncate(limit);
        Ok(syncs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Finished operations older than the retention are forgotten when the country's next one is
    /// created; one in flight is kept whatever its age.
    #[tokio::test]
    async fn the_memory_store_forgets_finished_operations_after_the_retention() {
        let store = MemoryStore::with_retention(Duration::from_secs(3600));
        let py: CountryCode = "PY".parse().unwrap();
        let long_ago = Utc::now() - chrono::Duration::hours(2);
        let mut old = Operation::new(py, long_ago);
        store.create_operation(&old, long_ago).await.unwrap();
        let read = old.revision();
        old.start(long_ago).unwrap();
        old.succeed(long_ago, "test").unwrap();
        assert!(store.update_operation(&old, read).await.unwrap());
        let recent = Operation::new(py, Utc::now());
        store.create_operation(&recent, Utc::now()).await.unwrap();
        let kept = store.list_operations(py, 10).await.unwrap();
        assert_eq!(kept, vec![recent.clone()]);
        // An old one still in flight is not forgotten (it is the sweep's, or a stuck one's, to settle).
        let de: CountryCode = "DE".parse().unwrap();
        let stuck = Operation::new(de, long_ago);
        store.create_operation(&stuck, long_ago).await.unwrap();
        store
            .create_operation(&Operation::new(de, Utc::now()), Utc::now())
            .await
            .unwrap();
        assert_eq!(store.list_operations(de, 10).await.unwrap().len(), 2);
    }

    fn record(version: i64) -> CountryRecord {
        CountryRecord {
            code: "PY".parse().unwrap(),
            document: serde_json::json!({"v": version}),
            raw: serde_json::json!({}),
            source: "test".into(),
            fetched_at: DateTime::from_timestamp_millis(version).unwrap(),
            version,
        }
    }

    #[tokio::test]
    async fn an_older_document_never_replaces_a_newer_one() {
        let store = MemoryStore::new();
        assert!(store.put_country(&record(2)).await.unwrap());
        assert!(!store.put_country(&record(1)).await.unwrap());
        assert!(!store.put_country(&record(2)).await.unwrap());
        let code = "PY".parse().unwrap();
        assert_eq!(store.get_country(code).await.unwrap().unwrap().version, 2);
        assert!(store.put_country(&record(3)).await.unwrap());
    }

    #[tokio::test]
    async fn one_operation_in_flight_per_country() {
        let store = MemoryStore::new();
        let now = Utc::now();
        let code = "PY".parse().unwrap();
        let first = Operation::new(code, now);
        let old = now - chrono::Duration::minutes(1);
        assert_eq!(
            store.create_operation(&first, old).await.unwrap(),
            Created::New { superseded: None }
        );
        let second = Operation::new(code, now);
        assert_eq!(
            store.create_operation(&second, old).await.unwrap(),
            Created::InFlight(first.clone())
        );
        // Past the stuck age the holder is superseded.
        let later = now + chrono::Duration::minutes(1);
        assert_eq!(
            store.create_operation(&second, later).await.unwrap(),
            Created::New {
                superseded: Some(first.clone())
            }
        );
        let listed = store.list_operations(code, 10).await.unwrap();
        assert_eq!(listed[0].request_id(), second.request_id());
        assert_eq!(listed.len(), 2);
    }

    #[tokio::test]
    async fn updates_are_conditional_on_the_revision() {
        let store = MemoryStore::new();
        let mut op = Operation::new("PY".parse().unwrap(), Utc::now());
        store.create_operation(&op, Utc::now()).await.unwrap();
        let read = op.revision();
        op.start(Utc::now()).unwrap();
        assert!(store.update_operation(&op, read).await.unwrap());
        assert!(!store.update_operation(&op, read).await.unwrap());
    }
}
