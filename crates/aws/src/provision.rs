//! Creates the tables and queues the adapters expect, for emulators and tests; in AWS, Terraform owns them
//! (`terraform/modules/data`, `terraform/modules/queue`) with the same keys and attributes.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

use countries_core::ports::{QueueError, StoreError};

use crate::dynamo::keys;

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("complete")
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("complete")
}

/// Creates both tables (if missing) with the TTL attribute `expires_at` on the operations table.
pub async fn create_tables(
    client: &aws_sdk_dynamodb::Client,
    countries: &str,
    operations: &str,
) -> Result<(), StoreError> {
    let existing = client
        .list_tables()
        .send()
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let names = existing.table_names();
    if !names.iter().any(|n| n == countries) {
        client
            .create_table()
            .table_name(countries)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(keys::CODE))
            .key_schema(key(keys::CODE, KeyType::Hash))
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("create {countries}: {e:?}")))?;
    }
    if !names.iter().any(|n| n == operations) {
        client
            .create_table()
            .table_name(operations)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(keys::COUNTRY))
            .attribute_definitions(attr(keys::SORT))
            .key_schema(key(keys::COUNTRY, KeyType::Hash))
            .key_schema(key(keys::SORT, KeyType::Range))
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("create {operations}: {e:?}")))?;
        client
            .update_time_to_live()
            .table_name(operations)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(keys::EXPIRES_AT)
                    .enabled(true)
                    .build()
                    .expect("complete"),
            )
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("TTL on {operations}: {e:?}")))?;
    }
    Ok(())
}

/// Creates the fetch queue and its dead-letter queue; returns (queue URL, DLQ URL).
pub async fn create_queues(
    client: &aws_sdk_sqs::Client,
    name: &str,
    max_receive_count: u32,
    visibility_timeout_secs: u32,
) -> Result<(String, String), QueueError> {
    let dlq = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .map_err(|e| QueueError::Unavailable(format!("create {name}-dlq: {e:?}")))?;
    let dlq_url = dlq.queue_url().unwrap_or_default().to_string();
    let attrs = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| QueueError::Unavailable(e.to_string()))?;
    let dlq_arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .unwrap_or_default();
    let redrive =
        serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count});
    let queue = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout_secs.to_string(),
        )
        .send()
        .await
        .map_err(|e| QueueError::Unavailable(format!("create {name}: {e:?}")))?;
    Ok((queue.queue_url().unwrap_or_default().to_string(), dlq_url))
}
