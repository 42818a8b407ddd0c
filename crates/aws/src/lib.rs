//! AWS adapters for the core's ports: DynamoDB stores, the SQS queue, the Redis rate limiter, and secrets
//! from Secrets Manager; plus the configuration they read.

pub mod config;
pub mod dynamo;
pub mod provision;
pub mod redis_limiter;
pub mod secrets;
pub mod sqs;
pub mod wiring;

pub use dynamo::DynamoStore;
pub use redis_limiter::{RedisLimiter, RedisSettings};
pub use sqs::SqsQueue;

/// The SDK configuration from the environment (region, credentials, and `AWS_ENDPOINT_URL` for emulators),
/// loaded once per process, with an HTTPS client that trusts the Amazon Trust Services roots compiled in
/// (see `certs/README.md`): a cold start does not read and parse the system's whole CA bundle.
pub async fn sdk_config() -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    let system_roots = std::env::var("AWS_TRUST_SYSTEM_ROOTS").is_ok_and(|v| v == "true");
    if system_roots {
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
