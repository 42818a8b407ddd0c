//! What the tests share, so that each piece is written once:
//!
//! - the emulators `scripts/with-emulators.sh` starts (`make test` runs the tests under it): every
//!   `TEST_*` setting is read here;
//! - the SDK configuration and process environment for moto (the SDK part behind the `aws` feature);
//! - names no other test uses and a hung server;
//! - `Scripted`, the one scriptable upstream (feature `scripted`).
//!
//! A dev-dependency only: nothing that ships depends on it.

use std::net::SocketAddr;

use tokio::task::JoinHandle;

#[cfg(feature = "scripted")]
pub use countries_core::testing::Scripted;

/// The region and credentials the emulators are called with.
const REGION: &str = "us-east-1";
const KEY: &str = "test";

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/with-emulators.sh (as `make test` does), which starts moto and redis-server")
    })
}

/// The moto for DynamoDB, SQS and Secrets Manager.
pub fn aws_endpoint() -> String {
    var("TEST_AWS_ENDPOINT")
}

/// The second moto, which enforces IAM.
pub fn aws_iam_endpoint() -> String {
    var("TEST_AWS_IAM_ENDPOINT")
}

/// The IAM-enforcing moto's administrator, as `key:secret`.
pub fn aws_iam_admin() -> String {
    var("TEST_AWS_IAM_ADMIN")
}

/// The Python of moto's virtualenv, whose boto3 can create roles.
pub fn moto_python() -> String {
    var("TEST_MOTO_PYTHON")
}

pub fn redis_url() -> String {
    var("TEST_REDIS_URL")
}

/// The environment a process's SDK clients need to call the moto at `aws_endpoint`.
pub fn aws_env() -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", aws_endpoint()),
        ("AWS_REGION", REGION.into()),
        ("AWS_ACCESS_KEY_ID", KEY.into()),
        ("AWS_SECRET_ACCESS_KEY", KEY.into()),
    ]
    .map(|(k, v)| (k.to_string(), v))
    .into()
}

/// The SDK configuration for the moto at `aws_endpoint`.
#[cfg(feature = "aws")]
pub async fn sdk() -> aws_config::SdkConfig {
    sdk_at(&aws_endpoint()).load().await
}

/// The SDK configuration for an endpoint, with test credentials, before loading: a test that points it
/// somewhere else (a closed port, a hung server) adds its own retry or timeout settings, and one that
/// calls as another identity its own credentials.
#[cfg(feature = "aws")]
pub fn sdk_at(endpoint: &str) -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_credential_types::Credentials::new(
            KEY, KEY, None, None, KEY,
        ))
}

/// A name no other test uses, so that tests sharing an emulator do not see each other's data.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

/// A "hung" server: it accepts connections on a free loopback port and never reads or answers. Aborting
/// the task closes them.
pub async fn hung_server() -> (SocketAddr, JoinHandle<()>) {
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
