//! AWS adapters for the core's ports: DynamoDB stores, the SQS queue, the Redis rate limiter, and secrets
//! from Secrets Manager; plus the configuration they read and the SDK clients they share.

pub mod config;
pub mod dynamo;
pub mod lazy;
pub mod provision;
pub mod redis_limiter;
pub mod secrets;
pub mod sqs;
pub mod wiring;

pub use dynamo::{DynamoBudget, DynamoStore};
pub use redis_limiter::{RedisLimiter, RedisSettings};
pub use sqs::SqsQueue;

/// The SDK's deadlines for `timeouts`: a connection, and a whole call with its retries.
pub fn deadlines(timeouts: config::SdkTimeouts) -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(timeouts.connect)
        .operation_attempt_timeout(timeouts.call)
        .operation_timeout(timeouts.call)
        .build()
}

/// The SDK configuration from the environment (region, credentials, and `AWS_ENDPOINT_URL` for emulators),
/// loaded once per process, with an HTTPS client that trusts the Amazon Trust Services roots compiled in
/// (see `certs/README.md`): a cold start does not read and parse the system's whole CA bundle.
///
/// In Lambda the credentials and the region are always in the environment (`AWS_ACCESS_KEY_ID`, ...,
/// `AWS_REGION`), so they are read from there directly instead of building the default chains (profile
/// files, SSO, web identity, ECS, IMDS), which a cold start would otherwise pay for and never use.
pub async fn sdk_config(
    trust_system_roots: bool,
    timeouts: config::SdkTimeouts,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(deadlines(timeouts));
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
        && std::env::var_os("AWS_ACCESS_KEY_ID").is_some()
        && let Ok(region) = std::env::var("AWS_REGION")
    {
        loader = loader
            .region(aws_config::Region::new(region))
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            );
    }
    if trust_system_roots {
        return loader.load().await;
    }
    loader.http_client(amazon_roots_client()).load().await
}

fn amazon_roots_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    const ROOTS: [&[u8]; 5] = [
        include_bytes!("../certs/Amazon_Root_CA_1.pem"),
        include_bytes!("../certs/Amazon_Root_CA_2.pem"),
        include_bytes!("../certs/Amazon_Root_CA_3.pem"),
        include_bytes!("../certs/Amazon_Root_CA_4.pem"),
        include_bytes!("../certs/Starfield_Services_Root_Certificate_Authority_-_G2.pem"),
    ];
    let store = ROOTS.iter().fold(tls::TrustStore::empty(), |store, pem| {
        store.with_pem_certificate(*pem)
    });
    let context = tls::TlsContext::builder()
        .with_trust_store(store)
        .build()
        .expect("a TLS context from compiled-in certificates");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(context)
        .build_https()
}
