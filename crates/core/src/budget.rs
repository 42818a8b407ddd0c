//! The fleet-wide upstream budget: REST Countries v5 allows about 20 requests per 10 s and, on the free
//! plan, 500 a month. Every upstream call first spends from the budget that all workers share; when it
//! is spent the job waits (its operation stays queued), it is neither failed nor dropped.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeZone, Utc};

use crate::config::{self, ConfigError, Source};
use crate::ratelimit::Limit;

/// `UPSTREAM_BURST`, `UPSTREAM_MONTHLY_QUOTA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetPolicy {
    /// At most this many calls in any window of this length (a sliding window, not a token bucket: a
    /// bucket with a refill would let nearly twice the burst through in one window).
    pub burst: Limit,
    pub monthly_quota: u64,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        BudgetPolicy {
            burst: Limit::new(20, Duration::from_secs(10)),
            monthly_quota: 500,
        }
    }
}

impl BudgetPolicy {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = BudgetPolicy::default();
        Ok(BudgetPolicy {
            burst: config::parse_or(src, "UPSTREAM_BURST", d.burst)?,
            monthly_quota: config::number_in(
                src,
                "UPSTREAM_MONTHLY_QUOTA",
                d.monthly_quota,
                1..=100_000_000,
            )?,
        })
    }

    /// Whether one more call fits the window, given the times of the latest grants: `Ok` with the log to
    /// keep (this grant added, grants that left the window dropped), or `Err` with when it would fit.
    /// The window is kept [`GRANT_MARGIN`] longer than the upstream's: a call is made a moment after it
    /// is granted, and the calls themselves, not only their grants, must fit the upstream's window.
    pub fn admit(
        &self,
        mut recent: Vec<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, DateTime<Utc>> {
        let window = chrono::Duration::from_std(self.burst.window + GRANT_MARGIN)
            .unwrap_or(chrono::Duration::MAX);
        recent.retain(|t| *t > now - window);
        recent.sort_unstable();
        if recent.len() >= self.burst.requests as usize {
            let oldest_that_matters = recent[recent.len() - self.burst.requests as usize];
            return Err(oldest_that_matters + window);
        }
        recent.push(now);
        Ok(recent)
    }
}

/// How much longer than the upstream's window the grants are spread: more than the time between a grant
/// and its call (a store write or two).
pub const GRANT_MARGIN: Duration = Duration::from_secs(1);

/// The calendar month a call counts against (UTC), as `2026-11`.
pub fn month_of(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", t.year(), t.month())
}

/// When the next month's quota starts.
pub fn next_month(t: DateTime<Utc>) -> DateTime<Utc> {
    let (year, month) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .expect("the first of a month exists")
}

/// What the budget says to one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spend {
    /// Go ahead; `used` of the month's `quota` are spent, this call included.
    Granted { used: u64, quota: u64 },
    /// Not now: try again at `until`.
    Wait {
        until: DateTime<Utc>,
        reason: Exhausted,
    },
}

/// Which part of the budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    Burst(Limit),
    Month(u64),
}

impl fmt::Display for Exhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exhausted::Burst(limit) => write!(f, "the burst limit of {limit} is reached"),
            Exhausted::Month(quota) => write!(f, "the monthly quota of {quota} calls is spent"),
        }
    }
}

/// The month's use, for `/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub month: String,
    pub used: u64,
    pub quota: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn at_most_the_burst_in_any_window() {
        let policy = BudgetPolicy {
            burst: Limit::new(3, Duration::from_secs(10)),
            monthly_quota: 500,
        };
        // The window is 10 s plus the 1 s margin.
        let mut log = vec![];
        for t in [0, 1, 2] {
            log = policy.admit(log, at(t)).unwrap();
        }
        assert_eq!(policy.admit(log.clone(), at(10)), Err(at(11)));
        let log = policy.admit(log, at(11)).unwrap();
        assert_eq!(log, [at(1), at(2), at(11)]);
        let log = policy.admit(log, at(12)).unwrap();
        assert_eq!(log, [at(2), at(11), at(12)]);
        assert_eq!(policy.admit(log, at(12)), Err(at(13)));
    }

    #[test]
    fn months_roll_over_in_utc() {
        let t = Utc.with_ymd_and_hms(2026, 12, 31, 23, 59, 0).unwrap();
        assert_eq!(month_of(t), "2026-12");
        assert_eq!(
            next_month(t),
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn the_policy_from_the_environment() {
        let p = BudgetPolicy::from_source(&[("UPSTREAM_BURST", "5/1s")]).unwrap();
        assert_eq!(p.burst, Limit::new(5, Duration::from_secs(1)));
        for (var, bad) in [("UPSTREAM_BURST", "lots"), ("UPSTREAM_MONTHLY_QUOTA", "0")] {
            assert_eq!(
                BudgetPolicy::from_source(&[(var, bad)]).unwrap_err().var,
                var
            );
        }
    }
}
