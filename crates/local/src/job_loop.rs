//! The local server's background work. The job loop takes jobs from the in-process queue, runs a
//! bounded number at once, re-queues retryable failures after their backoff, and on shutdown finishes
//! the jobs it started; beside it, the sweep on a timer, the sync jobs, and the first sync.

use std::sync::Arc;

use countries_core::Job;
use countries_core::ports::JobQueue;
use countries_core::sync_record::{SyncJob, SyncTrigger};
use countries_core::usecases::{CatalogueSync, JobOutcome, JobProcessor, Sweeper};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

pub async fn run(
    processor: Arc<JobProcessor>,
    queue: Arc<dyn JobQueue>,
    mut jobs: mpsc::UnboundedReceiver<Job>,
    concurrency: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(concurrency));
    let mut running = JoinSet::new();
    loop {
        let job = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => break,
            job = jobs.recv() => match job { Some(job) => job, None => break },
        };
        let permit = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => {
                warn!(country = %job.country, request_id = %job.request_id, "stopping before this job started");
                break;
            }
            permit = slots.clone().acquire_owned() => permit.expect("never closed"),
        };
        while running.try_join_next().is_some() {}
        let processor = processor.clone();
        let queue = queue.clone();
        running.spawn(async move {
            let outcome = processor.process(&job).await;
            drop(permit);
            let after = match outcome {
                Ok(JobOutcome::Retry { after } | JobOutcome::Deferred { after }) => after,
                Ok(_) => return,
                Err(e) => {
                    // The store failed: the job is kept and tried again later.
                    error!(country = %job.country, request_id = %job.request_id, error = %e, "job failed; retrying");
                    processor.policy().base_delay
                }
            };
            // Detached: a retry waiting for its backoff holds no slot and does not delay shutdown.
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                if let Err(e) = queue.enqueue(&job).await {
                    warn!(country = %job.country, request_id = %job.request_id, error = %e,
                          "could not re-queue a retry; the operation stays queued until it counts as stuck");
                }
            });
        });
    }
    while running.try_join_next().is_some() {}
    if !running.is_empty() {
        info!(in_flight = running.len(), "finishing in-flight jobs");
    }
    while let Some(done) = running.join_next().await {
        if let Err(e) = done {
            error!(error = %e, "a job task panicked");
        }
    }
}

/// How often the local server sweeps (the worker Lambda's schedule does it on AWS).
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Sweeps at once (operations a stopped process left behind) and then every `period` until shutdown:
/// jobs of operations nobody will finish are sent again.
pub async fn sweep_every(
    sweeper: Arc<Sweeper>,
    period: std::time::Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticks = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            _ = ticks.tick() => {}
        }
        match sweeper.sweep().await {
            Ok(swept) if swept.resent > 0 => {
                info!(in_flight = swept.in_flight, resent = swept.resent, "sweep")
            }
            Ok(_) => {}
            Err(e) => warn!(error = %e, "sweep failed; trying again at the next"),
        }
    }
}

/// Runs the sync jobs `POST /sync` queues, one at a time (the store allows one in flight anyway).
pub async fn run_syncs(syncs: Arc<CatalogueSync>, mut jobs: mpsc::UnboundedReceiver<SyncJob>) {
    while let Some(job) = jobs.recv().await {
        if let Err(e) = syncs.run_queued(&job).await {
            error!(sync = %job.sync, error = %e, "sync job failed");
        }
    }
}

/// The first start on an empty store brings the whole catalogue, so every country answers at once.
pub async fn first_sync(syncs: Arc<CatalogueSync>) {
    match syncs.has_catalogue().await {
        Ok(true) => {}
        Ok(false) => match syncs.run_now(SyncTrigger::Startup).await {
            Ok(sync) => {
                info!(state = ?sync.state(), added = sync.tally().added, calls = sync.tally().calls,
                              failed = ?sync.tally().failed, "first sync finished")
            }
            Err(e) => warn!(error = %e, "the first sync failed; POST /sync tries again"),
        },
        Err(e) => warn!(error = %e, "could not read the catalogue; no first sync"),
    }
}
