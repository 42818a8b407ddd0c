//! The AWS adapters against real protocols on loopback: DynamoDB on moto, the limiter on redis-server
//! (both started by `scripts/with-emulators.sh`, as `make test` does). One test binary: one link step.

mod budget;
mod dynamo;
mod redis_limiter;
