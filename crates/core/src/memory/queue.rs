//! The in-process queue.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::operation::Job;
use crate::ports::{JobQueue, QueueError};
use crate::sync_record::SyncJob;

/// A queue that hands jobs to an in-process worker loop through a channel, and sync jobs through
/// another.
pub struct MemoryQueue {
    tx: mpsc::UnboundedSender<Job>,
    sync_tx: mpsc::UnboundedSender<SyncJob>,
    sync_rx: Mutex<Option<mpsc::UnboundedReceiver<SyncJob>>>,
}

impl MemoryQueue {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Job>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (sync_tx, sync_rx) = mpsc::unbounded_channel();
        let queue = MemoryQueue {
            tx,
            sync_tx,
            sync_rx: Mutex::new(Some(sync_rx)),
        };
        (queue, rx)
    }

    /// The sync jobs' end of the queue, for the one loop that runs them.
    pub fn take_syncs(&self) -> Option<mpsc::UnboundedReceiver<SyncJob>> {
        self.sync_rx.lock().unwrap().take()
    }
}

#[async_trait]
impl JobQueue for MemoryQueue {
    async fn enqueue(&self, job: &Job) -> Result<(), QueueError> {
        self.tx.send(job.clone()).map_err(|_| QueueError::Closed)
    }

    async fn enqueue_sync(&self, job: &SyncJob) -> Result<(), QueueError> {
        self.sync_tx.send(*job).map_err(|_| QueueError::Closed)
    }

    async fn enqueue_after(&self, job: &Job, delay: Duration) -> Result<(), QueueError> {
        let (tx, job) = (self.tx.clone(), job.clone());
        // Detached: a job waiting for its turn holds nothing and does not delay shutdown.
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            tx.send(job).ok();
        });
        Ok(())
    }
}
