//! The fleet-wide upstream budget in DynamoDB (moto): racing workers never take more than their share.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use countries_aws::DynamoBudget;
use countries_core::budget::{BudgetPolicy, Exhausted, Spend};
use countries_core::ports::UpstreamBudget;
use countries_core::ratelimit::Limit;

async fn budget(burst: u32, quota: u64) -> Arc<DynamoBudget> {
    let (client, _, operations) = crate::fresh_tables().await;
    let policy = BudgetPolicy {
        burst: Limit::new(burst, Duration::from_secs(10)),
        monthly_quota: quota,
    };
    Arc::new(DynamoBudget::new(client, &operations, policy))
}

/// Twenty workers asking at once at `now`: how many were granted.
async fn race(budget: &Arc<DynamoBudget>, now: DateTime<Utc>) -> Vec<Spend> {
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let budget = budget.clone();
            tokio::spawn(async move { budget.spend(now).await.unwrap() })
        })
        .collect();
    let mut spends = Vec::new();
    for call in calls {
        spends.push(call.await.unwrap());
    }
    spends
}

fn granted(spends: &[Spend]) -> usize {
    spends
        .iter()
        .filter(|s| matches!(s, Spend::Granted { .. }))
        .count()
}

#[tokio::test]
async fn racing_workers_share_the_burst_and_the_month_exactly() {
    let budget = budget(5, 8).await;
    // Call times are kept in milliseconds.
    let start = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap();
    let first = race(&budget, start).await;
    assert_eq!(granted(&first), 5);
    // Grants are dated when they are taken, a little after `start`; the window is 10 s plus 1 s.
    let later = start + chrono::Duration::seconds(11);
    assert!(first.iter().any(|s| matches!(s,
        Spend::Wait { until, reason: Exhausted::Burst(_) }
            if *until >= later && *until < later + chrono::Duration::seconds(2))));
    let later = later + chrono::Duration::seconds(2);
    // A window later, the month has three calls left.
    let second = race(&budget, later).await;
    assert_eq!(granted(&second), 3);
    assert!(second.iter().any(|s| matches!(
        s,
        Spend::Wait {
            reason: Exhausted::Month(8),
            ..
        }
    )));
    let usage = budget.usage(later).await.unwrap().unwrap();
    assert_eq!((usage.used, usage.quota), (8, 8));
}
