//! The Redis limiter against a real redis-server on loopback.

use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use countries_aws::{RedisLimiter, RedisSettings};
use countries_core::ratelimit::{Limit, RateLimiter, RateLimits, RouteGroup};

fn settings(url: String) -> RedisSettings {
    RedisSettings {
        url,
        auth_token: None,
        connect_timeout: Duration::from_millis(300),
        command_timeout: Duration::from_millis(100),
        key_prefix: countries_testkit::unique("test") + ":",
    }
}

/// Per-client limits for a limiter under test.
fn limits(fetch: Limit, read: Limit) -> RateLimits {
    RateLimits {
        fetch,
        read,
        ..RateLimits::default()
    }
}

fn limiter(url: String, fetch: Limit, read: Limit) -> RedisLimiter {
    RedisLimiter::new(settings(url), limits(fetch, read)).unwrap()
}

async fn is_admitted(limiter: &RedisLimiter, last: u8, group: RouteGroup) -> bool {
    limiter.check(ip(last), group).await.unwrap().allowed
}

fn ip(last: u8) -> IpAddr {
    IpAddr::from([203, 0, 113, last])
}

#[tokio::test]
async fn admits_exactly_its_limit_under_50_concurrent_callers() {
    let limiter = Arc::new(limiter(
        countries_testkit::redis_url(),
        Limit::new(10, Duration::from_secs(60)),
        Limit::new(100, Duration::from_secs(60)),
    ));
    let callers: Vec<_> = (0..50)
        .map(|_| {
            let l = limiter.clone();
            tokio::spawn(async move { l.check(ip(1), RouteGroup::Fetch).await.unwrap() })
        })
        .collect();
    let mut admitted = 0;
    let mut remaining = vec![];
    for c in callers {
        let d = c.await.unwrap();
        if d.allowed {
            admitted += 1;
            remaining.push(d.remaining);
        } else {
            assert!(
                d.retry_after > Duration::ZERO && d.retry_after <= Duration::from_secs(6),
                "{d:?}"
            );
        }
    }
    assert_eq!(admitted, 10);
    remaining.sort_unstable();
    assert_eq!(remaining, (0..10).collect::<Vec<u32>>());
    // Another group and another client have their own budgets.
    assert!(is_admitted(&limiter, 1, RouteGroup::Read).await);
    assert!(is_admitted(&limiter, 2, RouteGroup::Fetch).await);
}

#[tokio::test]
async fn recovers_after_the_window() {
    let limiter = limiter(
        countries_testkit::redis_url(),
        Limit::new(5, Duration::from_millis(500)),
        Limit::new(5, Duration::from_secs(1)),
    );
    for _ in 0..5 {
        assert!(is_admitted(&limiter, 3, RouteGroup::Fetch).await);
    }
    let denied = limiter.check(ip(3), RouteGroup::Fetch).await.unwrap();
    assert!(!denied.allowed);
    tokio::time::sleep(denied.reset_after + Duration::from_millis(50)).await;
    for _ in 0..5 {
        assert!(is_admitted(&limiter, 3, RouteGroup::Fetch).await);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A redis-server of this test's own on loopback, without persistence, with `args` (which name its
/// port), once it accepts connections on `port`.
fn redis_server_with(port: u16, args: &[&str]) -> Child {
    let child = Command::new("redis-server")
        .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(args)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (scripts/with-emulators.sh installs it)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn redis_server(port: u16) -> Child {
    redis_server_with(port, &["--port", &port.to_string()])
}

/// With its Redis stopped the limiter answers an error within its timeouts (the API then follows its
/// policy, fail open by default), and it reconnects by itself once Redis is back.
#[tokio::test]
async fn a_stopped_redis_fails_fast_and_is_reconnected() {
    let port = free_port();
    let mut redis = redis_server(port);
    let limiter = limiter(
        format!("redis://127.0.0.1:{port}"),
        Limit::new(100, Duration::from_secs(60)),
        Limit::new(100, Duration::from_secs(60)),
    );
    assert!(is_admitted(&limiter, 4, RouteGroup::Read).await);
    redis.kill().unwrap();
    redis.wait().unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        let e = limiter.check(ip(4), RouteGroup::Read).await.unwrap_err();
        // Bounded by the connect and command timeouts (300 + 100 ms), with room for a loaded machine.
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}: {e}",
            started.elapsed()
        );
    }
    let mut redis = redis_server(port);
    let mut recovered = false;
    for _ in 0..50 {
        if limiter.check(ip(4), RouteGroup::Read).await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    redis.kill().ok();
    redis.wait().ok();
    assert!(recovered, "no reconnect after Redis came back");
}

/// A Redis that accepts connections and never answers (a hung node) costs at most the timeouts.
#[tokio::test]
async fn a_hung_redis_costs_at_most_the_timeout() {
    let (addr, hold) = countries_testkit::hung_server().await;
    let port = addr.port();
    let limiter = limiter(
        format!("redis://127.0.0.1:{port}"),
        Limit::new(1, Duration::from_secs(1)),
        Limit::new(1, Duration::from_secs(1)),
    );
    let started = Instant::now();
    assert!(limiter.check(ip(5), RouteGroup::Fetch).await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    hold.abort();
}

#[tokio::test]
async fn an_auth_token_is_sent() {
    let port = free_port();
    let mut redis = redis_server_with(
        port,
        &["--port", &port.to_string(), "--requirepass", "s3cret"],
    );
    let limits = limits(
        Limit::new(5, Duration::from_secs(1)),
        Limit::new(5, Duration::from_secs(1)),
    );
    let mut with = settings(format!("redis://127.0.0.1:{port}"));
    with.auth_token = Some("s3cret".into());
    let ok = RedisLimiter::new(with, limits)
        .unwrap()
        .check(ip(6), RouteGroup::Read)
        .await;
    let without = RedisLimiter::new(settings(format!("redis://127.0.0.1:{port}")), limits)
        .unwrap()
        .check(ip(6), RouteGroup::Read)
        .await;
    redis.kill().ok();
    redis.wait().ok();
    assert!(ok.is_ok(), "{ok:?}");
    let e = without.unwrap_err().to_string();
    assert!(!e.contains("s3cret"));
}

/// `rediss://`: in-transit encryption as ElastiCache offers it, against a redis-server with TLS and a
/// throwaway self-signed certificate (`#insecure` skips verifying it; ElastiCache's is publicly trusted).
#[tokio::test]
async fn rediss_connects_over_tls() {
    let dir = std::env::temp_dir().join(countries_testkit::unique("redis-tls"));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(made.success());
    let port = free_port();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let port_arg = port.to_string();
    let tls = [
        "--port",
        "0",
        "--tls-port",
        &port_arg,
        "--tls-cert-file",
        cert,
        "--tls-key-file",
        key,
        "--tls-auth-clients",
        "no",
        "--requirepass",
        "tok",
    ];
    let mut redis = redis_server_with(port, &tls);
    let mut s = settings(format!("rediss://127.0.0.1:{port}/#insecure"));
    s.auth_token = Some("tok".into());
    let limiter = RedisLimiter::new(
        s,
        limits(
            Limit::new(2, Duration::from_secs(60)),
            Limit::new(2, Duration::from_secs(60)),
        ),
    )
    .unwrap();
    let decision = limiter.check(ip(7), RouteGroup::Fetch).await;
    redis.kill().ok();
    redis.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
    let decision = decision.expect("a decision over TLS");
    assert!(decision.allowed && decision.remaining == 1, "{decision:?}");
}

/// A fresh process, a hung Redis and 16 requests at once: they share one connection attempt, so each
/// waits at most the connect timeout instead of behind every earlier attempt.
#[tokio::test]
async fn concurrent_requests_share_one_connection_attempt() {
    let (addr, hold) = countries_testkit::hung_server().await;
    let port = addr.port();
    let limiter = Arc::new(limiter(
        format!("redis://127.0.0.1:{port}"),
        Limit::new(1, Duration::from_secs(1)),
        Limit::new(1, Duration::from_secs(1)),
    ));
    let callers: Vec<_> = (0..16)
        .map(|n| {
            let l = limiter.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let result = l.check(ip(n), RouteGroup::Read).await;
                (result.is_err(), started.elapsed())
            })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for c in callers {
        let (failed, took) = c.await.unwrap();
        assert!(failed);
        slowest = slowest.max(took);
    }
    hold.abort();
    // One 300 ms attempt shared; sixteen queued attempts would take 16 x 300 ms.
    assert!(
        slowest < Duration::from_millis(1500),
        "the slowest waited {slowest:?}"
    );
}

/// Redis restarts under a connected limiter: the request that meets the dead connection is answered
/// on the replacement, not failed.
#[tokio::test]
async fn the_request_that_finds_a_dropped_connection_is_answered() {
    let port = free_port();
    let mut redis = redis_server(port);
    let mut s = settings(format!("redis://127.0.0.1:{port}"));
    s.command_timeout = Duration::from_secs(1);
    let limiter = RedisLimiter::new(
        s,
        limits(
            Limit::new(100, Duration::from_secs(60)),
            Limit::new(100, Duration::from_secs(60)),
        ),
    )
    .unwrap();
    assert!(is_admitted(&limiter, 8, RouteGroup::Read).await);
    redis.kill().unwrap();
    redis.wait().unwrap();
    let mut redis = redis_server(port);
    let decision = limiter.check(ip(8), RouteGroup::Read).await;
    redis.kill().ok();
    redis.wait().ok();
    assert!(decision.is_ok(), "{decision:?}");
}
