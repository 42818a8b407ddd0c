//! The rate limiter in this process.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};

use crate::ratelimit::{Decision, Limit, LimiterError, RateLimiter, RateLimits, RouteGroup};

type Keyed =
    Governor<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock, StateInformationMiddleware>;

/// GCRA rate limits per client IP and route group, in this process only (governor).
pub struct MemoryLimiter {
    fetch: (Limit, Keyed),
    read: (Limit, Keyed),
    sync: (Limit, Keyed),
    checks: AtomicU64,
}

impl MemoryLimiter {
    pub fn new(limits: &RateLimits) -> Self {
        let keyed = |l: Limit| {
            let burst = NonZeroU32::new(l.requests).expect("limits are above zero");
            let quota = Quota::with_period(l.interval())
                .expect("a non-zero interval")
                .allow_burst(burst);
            (
                l,
                Governor::keyed(quota).with_middleware::<StateInformationMiddleware>(),
            )
        };
        MemoryLimiter {
            fetch: keyed(limits.fetch),
            read: keyed(limits.read),
            sync: keyed(limits.sync),
            checks: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn check(&self, client: IpAddr, group: RouteGroup) -> Result<Decision, LimiterError> {
        let (limit, limiter) = match group {
            RouteGroup::Fetch => &self.fetch,
            RouteGroup::Read => &self.read,
            RouteGroup::Sync => &self.sync,
        };
        // Forget idle clients now and then, so the maps do not grow with every address ever seen.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.fetch.1.retain_recent();
            self.read.1.retain_recent();
            self.sync.1.retain_recent();
        }
        let per = limit.interval();
        Ok(match limiter.check_key(&client) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                Decision {
                    allowed: true,
                    limit: limit.requests,
                    remaining,
                    reset_after: per * (limit.requests - remaining),
                    retry_after: std::time::Duration::ZERO,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Decision {
                    allowed: false,
                    limit: limit.requests,
                    remaining: 0,
                    reset_after: per * limit.requests,
                    retry_after: wait,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn limiter_admits_its_limit_then_denies_with_a_wait() {
        let limiter = MemoryLimiter::new(&RateLimits {
            fetch: Limit::new(3, Duration::from_secs(60)),
            read: Limit::new(100, Duration::from_secs(60)),
            ..RateLimits::default()
        });
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut remaining = vec![];
        for _ in 0..3 {
            let d = limiter.check(ip, RouteGroup::Fetch).await.unwrap();
            assert!(d.allowed);
            remaining.push(d.remaining);
        }
        assert_eq!(remaining, [2, 1, 0]);
        let denied = limiter.check(ip, RouteGroup::Fetch).await.unwrap();
        assert!(!denied.allowed);
        assert!(denied.retry_after > Duration::from_secs(15), "{denied:?}");
        // Other groups and other clients have their own budgets.
        assert!(limiter.check(ip, RouteGroup::Read).await.unwrap().allowed);
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(
            limiter
                .check(other, RouteGroup::Fetch)
                .await
                .unwrap()
                .allowed
        );
    }
}
