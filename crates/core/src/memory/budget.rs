//! The upstream budget in this process, and none.

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::budget::{self, BudgetPolicy, Exhausted, Spend, Usage};
use crate::ports::{StoreError, UpstreamBudget};

/// The budget in this process: the latest calls' times and the month's count, under one lock.
pub struct MemoryBudget {
    policy: BudgetPolicy,
    state: Mutex<(Vec<DateTime<Utc>>, String, u64)>,
}

impl MemoryBudget {
    pub fn new(policy: BudgetPolicy) -> Self {
        MemoryBudget {
            policy,
            state: Mutex::new((Vec::new(), String::new(), 0)),
        }
    }
}

#[async_trait]
impl UpstreamBudget for MemoryBudget {
    async fn spend(&self, now: DateTime<Utc>) -> Result<Spend, StoreError> {
        let mut state = self.state.lock().unwrap();
        let (recent, month, used) = &mut *state;
        if *month != budget::month_of(now) {
            (*month, *used) = (budget::month_of(now), 0);
        }
        if *used >= self.policy.monthly_quota {
            return Ok(Spend::Wait {
                until: budget::next_month(now),
                reason: Exhausted::Month(self.policy.monthly_quota),
            });
        }
        match self.policy.admit(std::mem::take(recent), now) {
            Ok(log) => {
                *recent = log;
                *used += 1;
                Ok(Spend::Granted {
                    used: *used,
                    quota: self.policy.monthly_quota,
                })
            }
            Err(until) => Ok(Spend::Wait {
                until,
                reason: Exhausted::Burst(self.policy.burst),
            }),
        }
    }

    async fn usage(&self, now: DateTime<Utc>) -> Result<Option<Usage>, StoreError> {
        let state = self.state.lock().unwrap();
        let month = budget::month_of(now);
        let used = if state.1 == month { state.2 } else { 0 };
        Ok(Some(Usage {
            month,
            used,
            quota: self.policy.monthly_quota,
        }))
    }
}

/// No budget: for upstreams without a quota (the bundled data, a self-hosted v3.1 server).
pub struct Unmetered;

#[async_trait]
impl UpstreamBudget for Unmetered {
    async fn spend(&self, _: DateTime<Utc>) -> Result<Spend, StoreError> {
        Ok(Spend::Granted {
            used: 0,
            quota: u64::MAX,
        })
    }

    async fn usage(&self, _: DateTime<Utc>) -> Result<Option<Usage>, StoreError> {
        Ok(None)
    }
}
