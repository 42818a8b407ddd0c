//! The upstream budget in DynamoDB, shared by every worker: two items of the operations table under the
//! partition `~budget` (no country code starts with `~`), each changed by read, decide, conditional put
//! on its version, so racing workers never both take the last share.
//!
//! - `burst`: `calls` (L of N, epoch ms): the latest calls within the window;
//! - `month#YYYY-MM`: `used` (N), kept two months (`expires_at`).
//!
//! DynamoDB rather than Redis: the worker runs outside the VPC (it needs the internet and the VPC has no
//! NAT gateway), so it cannot reach the cache, and it reaches DynamoDB already.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use countries_core::budget::{self, BudgetPolicy, Exhausted, Spend, Usage};
use countries_core::ports::{StoreError, UpstreamBudget};

use super::items::{Item, keys, n, s};
use super::{condition_failed, err};
use crate::lazy::Lazy;

const PARTITION: &str = "~budget";
const BURST: &str = "burst";
/// Tries of a conditional write that other workers keep winning before giving up with an error (the
/// job is then retried later, like after any store error).
const TRIES: usize = 20;

/// Between two tries: a few milliseconds, at random, so that the racers spread out.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(fastrand::u64(2..20))).await;
}

pub struct DynamoBudget {
    client: Lazy<Client>,
    table: String,
    policy: BudgetPolicy,
}

impl DynamoBudget {
    /// On the operations table.
    pub fn new(
        client: impl Into<Lazy<Client>>,
        operations_table: &str,
        policy: BudgetPolicy,
    ) -> Self {
        DynamoBudget {
            client: client.into(),
            table: operations_table.to_string(),
            policy,
        }
    }

    async fn get(&self, sort: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(keys::COUNTRY, s(PARTITION))
            .key(keys::SORT, s(sort))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err("get budget", e))?;
        Ok(out.item)
    }

    /// Writes `item` if the stored one still has `version` (none: still absent); whether it wrote.
    async fn put_if(
        &self,
        mut item: Item,
        sort: &str,
        version: Option<i64>,
    ) -> Result<bool, StoreError> {
        item.insert(keys::COUNTRY.into(), s(PARTITION));
        item.insert(keys::SORT.into(), s(sort));
        item.insert("version".into(), n(version.unwrap_or(0) + 1));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let put = match version {
            None => put.condition_expression("attribute_not_exists(version)"),
            Some(v) => put
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(v)),
        };
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(err("put budget", e)),
        }
    }

    /// Takes one share of the window, or says when one frees up.
    async fn take_burst(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Result<(), DateTime<Utc>>, StoreError> {
        for _ in 0..TRIES {
            let item = self.get(BURST).await?;
            let version = item.as_ref().and_then(|i| number(i, "version"));
            let calls: Vec<DateTime<Utc>> = item
                .as_ref()
                .and_then(|i| i.get("calls"))
                .and_then(|c| c.as_l().ok())
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_n().ok()?.parse().ok())
                .filter_map(DateTime::from_timestamp_millis)
                .collect();
            let log = match self.policy.admit(calls, now) {
                Ok(log) => log,
                Err(until) => return Ok(Err(until)),
            };
            let calls = log.iter().map(|t| n(t.timestamp_millis())).collect();
            let item = Item::from([("calls".to_string(), AttributeValue::L(calls))]);
            if self.put_if(item, BURST, version).await? {
                return Ok(Ok(()));
            }
            pause().await;
        }
        Err(StoreError::Unavailable(
            "the upstream budget is too contended to update".into(),
        ))
    }

    /// Counts one call against the month (item `sort`), or `None` when its quota is spent. `read` is the
    /// item as last read; a stale one only costs a try, since the write is conditional on its version.
    async fn take_month(
        &self,
        sort: &str,
        now: DateTime<Utc>,
        mut read: Option<Item>,
    ) -> Result<Option<u64>, StoreError> {
        for _ in 0..TRIES {
            let version = read.as_ref().and_then(|i| number(i, "version"));
            let used = used(&read);
            if used >= self.policy.monthly_quota {
                return Ok(None);
            }
            let expires = budget::next_month(budget::next_month(now)).timestamp();
            let item = Item::from([
                ("used".to_string(), n(used + 1)),
                (keys::EXPIRES_AT.to_string(), n(expires)),
            ]);
            if self.put_if(item, sort, version).await? {
                return Ok(Some(used + 1));
            }
            pause().await;
            read = self.get(sort).await?;
        }
        Err(StoreError::Unavailable(
            "the upstream budget is too contended to update".into(),
        ))
    }
}

/// The month's count in its item (none yet: 0).
fn used(item: &Option<Item>) -> u64 {
    item.as_ref().and_then(|i| number(i, "used")).unwrap_or(0) as u64
}

fn number(item: &Item, key: &str) -> Option<i64> {
    item.get(key)?.as_n().ok()?.parse().ok()
}

#[async_trait]
impl UpstreamBudget for DynamoBudget {
    async fn spend(&self, now: DateTime<Utc>) -> Result<Spend, StoreError> {
        let month = format!("month#{}", budget::month_of(now));
        let spent = || Spend::Wait {
            until: budget::next_month(now),
            reason: Exhausted::Month(self.policy.monthly_quota),
        };
        // The month is read first so that a spent month does not also use up the window; the same read
        // starts the month's update.
        let read = self.get(&month).await?;
        if used(&read) >= self.policy.monthly_quota {
            return Ok(spent());
        }
        if let Err(until) = self.take_burst(now).await? {
            return Ok(Spend::Wait {
                until,
                reason: Exhausted::Burst(self.policy.burst),
            });
        }
        Ok(match self.take_month(&month, now, read).await? {
            Some(used) => Spend::Granted {
                used,
                quota: self.policy.monthly_quota,
            },
            None => spent(),
        })
    }

    async fn usage(&self, now: DateTime<Utc>) -> Result<Option<Usage>, StoreError> {
        let month = budget::month_of(now);
        let used = used(&self.get(&format!("month#{month}")).await?);
        Ok(Some(Usage {
            month,
            used,
            quota: self.policy.monthly_quota,
        }))
    }
}
