//! Reading the catalogue through one in-memory snapshot per process, and writing changes into it.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::catalogue::{Entry, Snapshot, StoredCatalogue, merge};
use crate::config::{self, ConfigError, Source};
use crate::ports::{CatalogueStore, StoreError};

/// `CATALOGUE_REFRESH`: how long a process answers from its snapshot before it checks the stored
/// catalogue's revision again (one small read), so the bound on how stale a catalogue read can be.
pub fn refresh_from_source(src: &dyn Source) -> Result<Duration, ConfigError> {
    config::duration_or(src, "CATALOGUE_REFRESH", Duration::from_secs(10))
}

pub struct CatalogueReads {
    store: Arc<dyn CatalogueStore>,
    refresh: Duration,
    /// The snapshot, and when its revision was last confirmed (`None`: never loaded).
    current: RwLock<(Arc<Snapshot>, Option<Instant>)>,
    /// Held by the one request that checks the revision; the others answer from the snapshot they have.
    checking: tokio::sync::Mutex<()>,
}

impl CatalogueReads {
    pub fn new(store: Arc<dyn CatalogueStore>, refresh: Duration) -> Self {
        CatalogueReads {
            store,
            refresh,
            current: RwLock::new((Arc::new(Snapshot::empty()), None)),
            checking: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> (Arc<Snapshot>, Option<Instant>) {
        let guard = self.current.read().unwrap();
        (guard.0.clone(), guard.1)
    }

    /// The snapshot, checked against the store at most once per refresh period: reloaded (one read of
    /// the catalogue item) only when the stored revision differs.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, StoreError> {
        let (snapshot, checked) = self.current();
        if checked.is_some_and(|at| at.elapsed() < self.refresh) {
            return Ok(snapshot);
        }
        let _checking = match self.checking.try_lock() {
            Ok(guard) => guard,
            // Another request is checking: a loaded snapshot is good enough meanwhile.
            Err(_) if checked.is_some() => return Ok(snapshot),
            Err(_) => self.checking.lock().await,
        };
        let (snapshot, checked) = self.current();
        if checked.is_some_and(|at| at.elapsed() < self.refresh) {
            return Ok(snapshot);
        }
        let revision = match self.store.catalogue_revision().await {
            Ok(r) => r,
            Err(e) if checked.is_some() => {
                warn!(error = %e, "could not check the catalogue's revision; answering from the snapshot");
                return Ok(snapshot);
            }
            Err(e) => return Err(e),
        };
        let fresh = match revision {
            Some(r) if r == snapshot.revision => snapshot,
            None => Arc::new(Snapshot::empty()),
            Some(_) => match self.store.get_catalogue().await? {
                Some(stored) => {
                    let built = Snapshot::build(stored)?;
                    info!(
                        revision = built.revision,
                        countries = built.len(),
                        "catalogue snapshot loaded"
                    );
                    Arc::new(built)
                }
                None => Arc::new(Snapshot::empty()),
            },
        };
        *self.current.write().unwrap() = (fresh.clone(), Some(Instant::now()));
        Ok(fresh)
    }
}

/// Merges `changed` into `stored`, the catalogue as the caller read it (see [`merge`]), under its
/// revision check, reading it again when another writer got there first. `synced_at` marks a sync that
/// brought every country.
pub(crate) async fn publish(
    store: &dyn CatalogueStore,
    mut stored: Option<StoredCatalogue>,
    changed: Vec<Entry>,
    synced_at: Option<DateTime<Utc>>,
) -> Result<StoredCatalogue, StoreError> {
    for attempt in 0..5 {
        if attempt > 0 {
            stored = store.get_catalogue().await?;
        }
        let mut entries = match &stored {
            Some(s) => s.entries()?,
            None => Vec::new(),
        };
        merge(&mut entries, changed.clone());
        let next = StoredCatalogue::next(stored.as_ref(), &entries, synced_at);
        if store
            .put_catalogue(&next, stored.as_ref().map(|s| s.revision))
            .await?
        {
            return Ok(next);
        }
    }
    Err(StoreError::Unavailable(
        "the catalogue kept changing under five attempts to write it".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::testing::bundled;
    use crate::memory::MemoryStore;

    #[tokio::test(start_paused = true)]
    async fn the_snapshot_is_reloaded_only_when_the_revision_changes() {
        let store = Arc::new(MemoryStore::new());
        let reads = CatalogueReads::new(store.clone(), Duration::from_secs(10));
        assert!(reads.snapshot().await.unwrap().is_empty());
        store.put_catalogue(bundled(), None).await.unwrap();
        // Within the refresh period the empty snapshot stands.
        assert!(reads.snapshot().await.unwrap().is_empty());
        tokio::time::advance(Duration::from_secs(11)).await;
        let loaded = reads.snapshot().await.unwrap();
        assert_eq!(loaded.len(), 250);
        tokio::time::advance(Duration::from_secs(11)).await;
        let same = reads.snapshot().await.unwrap();
        assert!(Arc::ptr_eq(&loaded, &same), "same revision: not rebuilt");
    }

    #[tokio::test]
    async fn publishing_merges_under_the_revision() {
        let store = MemoryStore::new();
        let mut entries = bundled().entries().unwrap();
        let first = publish(&store, None, entries.drain(..10).collect(), None)
            .await
            .unwrap();
        assert_eq!((first.revision, first.entries().unwrap().len()), (1, 10));
        let now = Utc::now();
        let stale = None; // read before the first write: the revision check sends it to read again
        let second = publish(&store, stale, entries, Some(now)).await.unwrap();
        assert_eq!((second.revision, second.entries().unwrap().len()), (2, 250));
        assert_eq!(second.synced_at, Some(now));
    }
}
