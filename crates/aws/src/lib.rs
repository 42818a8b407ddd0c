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
/// loaded once per process.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}
