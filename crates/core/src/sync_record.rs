//! Catalogue syncs: one operation that brings the whole catalogue from the upstream, and its record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a sync stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    Queued,
    Running,
    /// Every country came and was stored.
    Succeeded,
    /// Some came and were stored, some did not: what was stored is kept, `failed` says what was not.
    Partial,
    /// Nothing could be brought.
    Failed,
}

impl SyncState {
    pub fn is_final(self) -> bool {
        !matches!(self, SyncState::Queued | SyncState::Running)
    }

    /// Its text form, as serde writes it (`queued`, `partial`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Queued => "queued",
            SyncState::Running => "running",
            SyncState::Succeeded => "succeeded",
            SyncState::Partial => "partial",
            SyncState::Failed => "failed",
        }
    }
}

/// What started a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncTrigger {
    /// `POST /sync`, when the catalogue was older than the freshness window.
    Api,
    /// `POST /sync?force=true` with the operator key.
    Forced,
    /// The schedule (EventBridge Scheduler in AWS).
    Schedule,
    /// The first start of a local server with an empty catalogue.
    Startup,
}

/// A sync and what became of it. Its fields are private so that only its transitions move it; its
/// serde form is how the stores keep it (the DynamoDB adapter's `record` attribute, held to the
/// stored format by a test there), and the API serves its own form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRecord {
    /// Time-ordered (UUID v7).
    id: Uuid,
    state: SyncState,
    trigger: SyncTrigger,
    requested_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    /// The upstream kind synced from.
    source: Option<String>,
    #[serde(flatten)]
    tally: SyncTally,
}

/// What a sync brought, counted while it runs and kept on its record when it finishes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncTally {
    /// Upstream calls made.
    pub calls: u32,
    pub added: u32,
    pub changed: u32,
    pub unchanged: u32,
    /// What could not be brought or stored: a page, or a country and why.
    pub failed: Vec<String>,
}

impl SyncTally {
    /// Countries that came and were stored, or found unchanged.
    pub fn brought(&self) -> u32 {
        self.added + self.changed + self.unchanged
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sync {id} is {from:?} and cannot become {to:?}")]
pub struct TransitionError {
    pub id: Uuid,
    pub from: SyncState,
    pub to: SyncState,
}

impl SyncRecord {
    pub fn new(trigger: SyncTrigger, now: DateTime<Utc>) -> Self {
        SyncRecord {
            id: Uuid::now_v7(),
            state: SyncState::Queued,
            trigger,
            requested_at: now,
            started_at: None,
            finished_at: None,
            source: None,
            tally: SyncTally::default(),
        }
    }

    pub fn id(&self) -> Uuid {
        self.id
    }

    pub fn state(&self) -> SyncState {
        self.state
    }

    pub fn trigger(&self) -> SyncTrigger {
        self.trigger
    }

    pub fn requested_at(&self) -> DateTime<Utc> {
        self.requested_at
    }

    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        self.started_at
    }

    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.finished_at
    }

    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    pub fn tally(&self) -> &SyncTally {
        &self.tally
    }

    /// When it last moved.
    pub fn last_activity(&self) -> DateTime<Utc> {
        self.started_at.unwrap_or(self.requested_at)
    }

    fn transition(&mut self, to: SyncState) -> Result<(), TransitionError> {
        use SyncState::*;
        let allowed = matches!(
            (self.state, to),
            (Queued | Running, Running | Failed) | (Running, Succeeded | Partial)
        );
        if !allowed {
            return Err(TransitionError {
                id: self.id,
                from: self.state,
                to,
            });
        }
        self.state = to;
        Ok(())
    }

    /// A worker runs it. A `running` sync can be taken over: its runner stopped answering (the caller
    /// decides when it has been idle long enough).
    pub fn start(&mut self, now: DateTime<Utc>, source: &str) -> Result<(), TransitionError> {
        self.transition(SyncState::Running)?;
        self.started_at = Some(now);
        self.source = Some(source.to_string());
        Ok(())
    }

    /// The run is over: succeeded when everything came, partial when some did, failed when none did.
    pub fn finish(&mut self, now: DateTime<Utc>, tally: SyncTally) -> Result<(), TransitionError> {
        if self.state != SyncState::Running {
            return Err(TransitionError {
                id: self.id,
                from: self.state,
                to: SyncState::Succeeded,
            });
        }
        let to = match (tally.brought(), tally.failed.is_empty()) {
            (0, _) => SyncState::Failed,
            (_, true) => SyncState::Succeeded,
            (_, false) => SyncState::Partial,
        };
        self.transition(to)?;
        self.finished_at = Some(now);
        self.tally = tally;
        Ok(())
    }

    /// Failed without running (its job could not be queued), and why.
    pub fn abandon(&mut self, now: DateTime<Utc>, reason: String) -> Result<(), TransitionError> {
        if self.state != SyncState::Queued {
            return Err(TransitionError {
                id: self.id,
                from: self.state,
                to: SyncState::Failed,
            });
        }
        self.transition(SyncState::Failed)?;
        self.finished_at = Some(now);
        self.tally.failed.push(reason);
        Ok(())
    }
}

/// The message that asks a worker to run a queued sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJob {
    pub sync: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(added: u32, failed: &[&str]) -> SyncTally {
        SyncTally {
            added,
            failed: failed.iter().map(|f| f.to_string()).collect(),
            ..SyncTally::default()
        }
    }

    #[test]
    fn a_run_ends_by_what_it_brought() {
        let now = Utc::now();
        for (brought, want) in [
            (tally(250, &[]), SyncState::Succeeded),
            (tally(100, &["page 2"]), SyncState::Partial),
            (tally(0, &["the upstream"]), SyncState::Failed),
            (tally(0, &[]), SyncState::Failed),
        ] {
            let mut sync = SyncRecord::new(SyncTrigger::Api, now);
            sync.start(now, "bundled").unwrap();
            sync.finish(now, brought.clone()).unwrap();
            assert_eq!(sync.state(), want, "{brought:?}");
            assert_eq!(sync.tally(), &brought);
            assert_eq!(sync.finished_at(), Some(now));
        }
    }

    #[test]
    fn only_a_running_sync_finishes_and_a_final_one_stays_final() {
        let now = Utc::now();
        let mut sync = SyncRecord::new(SyncTrigger::Api, now);
        assert!(sync.finish(now, tally(1, &[])).is_err(), "not started");
        sync.start(now, "bundled").unwrap();
        sync.start(now, "bundled")
            .expect("a stale run is taken over");
        assert!(sync.abandon(now, "x".into()).is_err(), "running");
        sync.finish(now, tally(1, &[])).unwrap();
        assert!(sync.start(now, "bundled").is_err());
        assert!(sync.finish(now, tally(1, &[])).is_err());
        assert!(sync.abandon(now, "x".into()).is_err());
        let mut unqueued = SyncRecord::new(SyncTrigger::Api, now);
        unqueued.abandon(now, "no queue".into()).unwrap();
        assert_eq!(
            (unqueued.state(), unqueued.tally().failed.as_slice()),
            (SyncState::Failed, &["no queue".to_string()][..])
        );
        assert!(unqueued.start(now, "bundled").is_err());
    }

    #[test]
    fn the_text_form_is_the_serialised_one() {
        use SyncState::*;
        for state in [Queued, Running, Succeeded, Partial, Failed] {
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
    }
}
