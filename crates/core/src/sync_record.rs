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

/// A sync and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRecord {
    /// Time-ordered (UUID v7).
    pub id: Uuid,
    pub state: SyncState,
    pub trigger: SyncTrigger,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The upstream kind synced from.
    pub source: Option<String>,
    /// Upstream calls made.
    pub calls: u32,
    pub added: u32,
    pub changed: u32,
    pub unchanged: u32,
    /// What could not be brought or stored: a page, or a country and why.
    pub failed: Vec<String>,
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
            calls: 0,
            added: 0,
            changed: 0,
            unchanged: 0,
            failed: Vec::new(),
        }
    }

    /// When it last moved.
    pub fn last_activity(&self) -> DateTime<Utc> {
        self.started_at.unwrap_or(self.requested_at)
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

    #[test]
    fn the_text_form_is_the_serialised_one() {
        use SyncState::*;
        for state in [Queued, Running, Succeeded, Partial, Failed] {
            assert_eq!(serde_json::to_value(state).unwrap(), state.as_str());
        }
    }
}
