//! Fetch operations: their states, the transitions between them, and when one stops blocking new fetches.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::country::CountryCode;

/// Where a fetch operation stands. Its text form (`queued`, `not_found`, ...) is what the API shows and
/// the stores keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationState {
    Queued,
    Running,
    Succeeded,
    NotFound,
    Failed,
}

impl OperationState {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OperationState::Succeeded | OperationState::NotFound | OperationState::Failed
        )
    }

    pub const ALL: [OperationState; 5] = [
        OperationState::Queued,
        OperationState::Running,
        OperationState::Succeeded,
        OperationState::NotFound,
        OperationState::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperationState::Queued => "queued",
            OperationState::Running => "running",
            OperationState::Succeeded => "succeeded",
            OperationState::NotFound => "not_found",
            OperationState::Failed => "failed",
        }
    }
}

impl fmt::Display for OperationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored state this code does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation state `{0}`")]
pub struct UnknownState(pub String);

impl FromStr for OperationState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OperationState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_string()))
    }
}

/// One request to fetch a country from the upstream, and what became of it. What it holds is private, so
/// that only its transitions move it; a store rebuilds one it read back with `Operation::restore`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation(StoredOperation);

/// An operation as a store keeps it, field for field: what `Operation::restore` rebuilds one from. A
/// plain struct, not a constructor with nine arguments, so that a store names each field it read.
/// Restoring trusts the store: the transitions guard the moves, not what was already stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOperation {
    /// Time-ordered (UUID v7), so sorting by it sorts by request time.
    pub request_id: Uuid,
    pub country: CountryCode,
    pub state: OperationState,
    pub requested_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Upstream calls made so far.
    pub attempts: u32,
    /// The last failure's message: the final error, or the one that will be retried.
    pub error: Option<String>,
    /// The upstream kind that answered (`bundled`, `v3.1`, `v5`).
    pub source: Option<String>,
}

/// The part of an operation a conditional write compares: two writers that read the same operation
/// cannot both move it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision {
    pub state: OperationState,
    pub attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("operation {request_id} is {from:?} and cannot become {to:?}")]
pub struct TransitionError {
    pub request_id: Uuid,
    pub from: OperationState,
    pub to: OperationState,
}

impl Operation {
    pub fn new(country: CountryCode, now: DateTime<Utc>) -> Self {
        Operation(StoredOperation {
            request_id: Uuid::now_v7(),
            country,
            state: OperationState::Queued,
            requested_at: now,
            started_at: None,
            finished_at: None,
            attempts: 0,
            error: None,
            source: None,
        })
    }

    /// An operation read back from a store, as it was stored.
    pub fn restore(stored: StoredOperation) -> Self {
        Operation(stored)
    }

    pub fn request_id(&self) -> Uuid {
        self.0.request_id
    }

    pub fn country(&self) -> CountryCode {
        self.0.country
    }

    pub fn state(&self) -> OperationState {
        self.0.state
    }

    pub fn requested_at(&self) -> DateTime<Utc> {
        self.0.requested_at
    }

    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        self.0.started_at
    }

    pub fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }

    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    pub fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    pub fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }

    pub fn revision(&self) -> Revision {
        Revision {
            state: self.0.state,
            attempts: self.0.attempts,
        }
    }

    /// When it last moved: a queued or running operation idle longer than the stuck age no longer blocks.
    pub fn last_activity(&self) -> DateTime<Utc> {
        self.0
            .started_at
            .map_or(self.0.requested_at, |s| s.max(self.0.requested_at))
    }

    /// Queued and never taken by a worker since `before`: its job may never have been sent (the process
    /// that created it stopped before queueing it), so sending it again is due. Safe either way: of two
    /// copies of a job only one calls the upstream.
    pub fn may_be_orphaned(&self, before: DateTime<Utc>) -> bool {
        self.0.state == OperationState::Queued
            && self.0.started_at.is_none()
            && self.0.requested_at < before
    }

    /// Whether it holds the country's one in-flight slot: queued or running, and not stuck.
    pub fn blocks_new_fetch(&self, stuck_before: DateTime<Utc>) -> bool {
        !self.0.state.is_final() && self.last_activity() >= stuck_before
    }

    fn transition(&mut self, to: OperationState) -> Result<(), TransitionError> {
        let allowed = matches!(
            (self.0.state, to),
            (
                OperationState::Queued | OperationState::Running,
                OperationState::Running | OperationState::Failed
            ) | (
                OperationState::Running,
                OperationState::Queued | OperationState::Succeeded | OperationState::NotFound
            )
        );
        if !allowed {
            return Err(TransitionError {
                request_id: self.0.request_id,
                from: self.0.state,
                to,
            });
        }
        self.0.state = to;
        Ok(())
    }

    /// A worker takes it: one more upstream attempt. A `running` operation can be taken over, because
    /// a job is only delivered again once the worker that had it is gone (SQS visibility timeout).
    pub fn start(&mut self, now: DateTime<Utc>) -> Result<(), TransitionError> {
        self.transition(OperationState::Running)?;
        self.0.attempts += 1;
        self.0.started_at = Some(now);
        Ok(())
    }

    pub fn succeed(&mut self, now: DateTime<Utc>, source: &str) -> Result<(), TransitionError> {
        self.transition(OperationState::Succeeded)?;
        self.0.finished_at = Some(now);
        self.0.source = Some(source.to_string());
        self.0.error = None;
        Ok(())
    }

    pub fn not_found(
        &mut self,
        now: DateTime<Utc>,
        message: String,
    ) -> Result<(), TransitionError> {
        self.transition(OperationState::NotFound)?;
        self.0.finished_at = Some(now);
        self.0.error = Some(message);
        Ok(())
    }

    pub fn fail(&mut self, now: DateTime<Utc>, message: String) -> Result<(), TransitionError> {
        self.transition(OperationState::Failed)?;
        self.0.finished_at = Some(now);
        self.0.error = Some(message);
        Ok(())
    }

    /// Taken but not started (no upstream budget): queued again, its attempt given back, the reason
    /// shown.
    pub fn wait(&mut self, message: String) -> Result<(), TransitionError> {
        if self.0.state == OperationState::Running {
            self.transition(OperationState::Queued)?;
            self.0.attempts = self.0.attempts.saturating_sub(1);
        } else if self.0.state != OperationState::Queued {
            self.transition(OperationState::Queued)?;
        }
        self.0.error = Some(message);
        Ok(())
    }

    /// A retryable failure: back in the queue, the error kept so that status shows why it waits.
    pub fn requeue(&mut self, message: String) -> Result<(), TransitionError> {
        self.transition(OperationState::Queued)?;
        self.0.error = Some(message);
        Ok(())
    }
}

/// How long an operation is kept after it was requested, unless `OPERATION_RETENTION` says otherwise.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 86400);

/// `OPERATION_RETENTION`: how long an operation is kept after it was requested (DynamoDB's TTL; the
/// memory store forgets finished ones as late).
pub fn retention_from_source(
    src: &dyn crate::config::Source,
) -> Result<Duration, crate::config::ConfigError> {
    crate::config::duration_or(src, "OPERATION_RETENTION", DEFAULT_RETENTION)
}

/// The message a fetch puts on the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub request_id: Uuid,
    pub country: CountryCode,
}

impl From<&Operation> for Job {
    fn from(op: &Operation) -> Self {
        Job {
            request_id: op.0.request_id,
            country: op.0.country,
        }
    }
}

/// Delay before retry number `attempt` (1-based): exponential from `base`, capped at `max`, with "equal
/// jitter" (between half and all of it, by `draw`, a uniform number in [0, 1)) so that jobs failed by one
/// outage do not all come back at once; and never sooner than the upstream asked for.
pub fn backoff(
    attempt: u32,
    base: Duration,
    max: Duration,
    retry_after: Option<Duration>,
    draw: f64,
) -> Duration {
    let exp = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
        .min(max);
    let jittered = exp / 2 + exp.mul_f64(draw.clamp(0.0, 1.0) / 2.0);
    jittered.max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> Operation {
        Operation::new("PY".parse().unwrap(), Utc::now())
    }

    #[test]
    fn happy_path() {
        let mut o = op();
        let now = Utc::now();
        o.start(now).unwrap();
        assert_eq!((o.0.state, o.0.attempts), (OperationState::Running, 1));
        o.succeed(now, "bundled").unwrap();
        assert_eq!(o.0.state, OperationState::Succeeded);
        assert_eq!(o.0.source.as_deref(), Some("bundled"));
        assert!(o.0.finished_at.is_some());
    }

    #[test]
    fn retry_then_fail() {
        let mut o = op();
        let now = Utc::now();
        o.start(now).unwrap();
        o.requeue("upstream 503".into()).unwrap();
        assert_eq!(o.0.state, OperationState::Queued);
        o.start(now).unwrap();
        assert_eq!(o.0.attempts, 2);
        o.fail(now, "gave up".into()).unwrap();
        assert_eq!(o.0.error.as_deref(), Some("gave up"));
    }

    #[test]
    fn final_states_are_final() {
        let now = Utc::now();
        for finish in [
            |o: &mut Operation, n| o.succeed(n, "x"),
            |o: &mut Operation, n| o.not_found(n, "x".into()),
            |o: &mut Operation, n| o.fail(n, "x".into()),
        ] {
            let mut o = op();
            o.start(now).unwrap();
            finish(&mut o, now).unwrap();
            assert!(o.0.state.is_final());
            assert!(o.start(now).is_err());
            assert!(o.requeue("x".into()).is_err());
            assert!(o.succeed(now, "x").is_err());
            assert!(o.fail(now, "x".into()).is_err());
        }
    }

    #[test]
    fn only_a_running_operation_can_succeed_or_requeue() {
        let now = Utc::now();
        let mut o = op();
        assert!(o.succeed(now, "x").is_err());
        assert!(o.not_found(now, "x".into()).is_err());
        assert!(o.requeue("x".into()).is_err());
        // A queued operation can be abandoned as failed (stuck, or its job could not be enqueued).
        assert!(o.fail(now, "x".into()).is_ok());
    }

    #[test]
    fn stuck_operations_stop_blocking() {
        let now = Utc::now();
        let mut o = op();
        o.0.requested_at = now - chrono::Duration::minutes(20);
        assert!(o.blocks_new_fetch(now - chrono::Duration::minutes(30)));
        assert!(!o.blocks_new_fetch(now - chrono::Duration::minutes(15)));
        o.start(now).unwrap();
        assert!(o.blocks_new_fetch(now - chrono::Duration::minutes(15)));
        o.succeed(now, "x").unwrap();
        assert!(!o.blocks_new_fetch(now - chrono::Duration::minutes(30)));
    }

    #[test]
    fn states_read_back_from_their_text() {
        for state in OperationState::ALL {
            assert_eq!(state.to_string().parse::<OperationState>(), Ok(state));
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::json!(state.as_str())
            );
        }
        assert!("done".parse::<OperationState>().is_err());
    }

    #[test]
    fn backoff_grows_is_capped_jittered_and_honours_retry_after() {
        let s = Duration::from_secs;
        assert_eq!(
            backoff(1, s(2), s(60), None, 0.999_999),
            s(2) - Duration::from_micros(1)
        );
        assert_eq!(backoff(1, s(2), s(60), None, 0.0), s(1));
        assert_eq!(backoff(3, s(2), s(60), None, 0.5), s(6));
        assert_eq!(backoff(30, s(2), s(60), None, 0.0), s(30));
        assert!(backoff(30, s(2), s(60), None, 0.99) <= s(60));
        assert_eq!(backoff(1, s(2), s(60), Some(s(30)), 0.5), s(30));
    }
}
