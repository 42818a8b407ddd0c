//! The AWS adapters against real protocols on loopback: DynamoDB on moto, the limiter on redis-server
//! (both started by `scripts/with-emulators.sh`, as `make test` does). One test binary: one link step.

mod budget;
mod dynamo;
mod redis_limiter;

/// Both tables, created afresh under unique names on moto: (client, countries table, operations table).
async fn fresh_tables() -> (aws_sdk_dynamodb::Client, String, String) {
    let client = aws_sdk_dynamodb::Client::new(&countries_testkit::sdk().await);
    let (countries, operations) = (
        countries_testkit::unique("countries"),
        countries_testkit::unique("operations"),
    );
    countries_aws::provision::create_tables(&client, &countries, &operations)
        .await
        .unwrap();
    (client, countries, operations)
}
