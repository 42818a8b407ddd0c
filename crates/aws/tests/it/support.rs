//! Shared set-up: SDK clients on the emulator that `scripts/with-emulators.sh` started (`make test` runs
//! the tests under it).

use aws_config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::config::Credentials;
use countries_core::ratelimit::{Limit, RateLimits};

pub fn endpoint() -> String {
    std::env::var("TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!("TEST_AWS_ENDPOINT is not set: run the tests with scripts/with-emulators.sh (as `make test` does), which starts moto and redis-server")
    })
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("TEST_REDIS_URL is not set: run the tests with scripts/with-emulators.sh (as `make test` does)")
    })
}

pub async fn sdk() -> aws_config::SdkConfig {
    sdk_at(&endpoint()).load().await
}

/// The SDK configuration for an endpoint, with test credentials, before loading: a test that points it
/// somewhere else (a closed port, a hung server) adds its own retry or timeout settings.
pub fn sdk_at(endpoint: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
}

/// A name no other test uses, so that tests sharing the emulator do not see each other's data.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// Per-client limits for a limiter under test.
pub fn limits(fetch: Limit, read: Limit) -> RateLimits {
    RateLimits {
        fetch,
        read,
        ..RateLimits::default()
    }
}

/// A "hung" server: it accepts connections on a free loopback port and never reads or answers. Aborting
/// the task closes them.
pub async fn hung_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (addr, task)
}
