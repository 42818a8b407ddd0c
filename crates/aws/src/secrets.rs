//! Secrets from AWS Secrets Manager. Values never reach a log line or an error.

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use countries_core::ports::{Secret, Unanswered};

/// A secret a person puts after the deploy, read when the core needs it ([`read_if_set`]).
pub struct SecretsManagerSecret {
    client: Client,
    id: String,
    key: String,
}

impl SecretsManagerSecret {
    pub fn new(client: Client, id: &str, key: &str) -> Self {
        SecretsManagerSecret {
            client,
            id: id.to_string(),
            key: key.to_string(),
        }
    }
}

#[async_trait]
impl Secret for SecretsManagerSecret {
    async fn read(&self) -> Result<Option<String>, Unanswered> {
        read_if_set(&self.client, &self.id, &self.key).await
    }
}

/// The secret's string. A JSON object secret (as the console creates them) gives the value of `key`.
/// A secret without a value is an error: for secrets Terraform fills (the Redis password).
pub async fn read(client: &Client, secret_id: &str, key: &str) -> Result<String, Unanswered> {
    read_if_set(client, secret_id, key)
        .await?
        .ok_or_else(|| Unanswered(format!("secret `{secret_id}` has no value")))
}

/// As [`read`], with `None` for a secret that has no value yet, or an empty one: Terraform creates the
/// upstream key's and the operator key's secrets empty, and a person puts their values after the first
/// deploy, so until then the functions must start and only what needs the value is refused.
///
/// Secrets Manager answers `ResourceNotFoundException` both for a secret without an `AWSCURRENT` version
/// and for one that does not exist; the ids come from Terraform's own resources, so both mean "not put".
pub async fn read_if_set(
    client: &Client,
    secret_id: &str,
    key: &str,
) -> Result<Option<String>, Unanswered> {
    let out = match client.get_secret_value().secret_id(secret_id).send().await {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => {
            return Err(Unanswered(format!(
                "reading secret `{secret_id}`: {}",
                DisplayErrorContext(&e)
            )));
        }
    };
    let Some(value) = out.secret_string() else {
        return Err(Unanswered(format!(
            "secret `{secret_id}` has no string value"
        )));
    };
    let value = match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(map)) => map
            .get(key)
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                Unanswered(format!(
                    "secret `{secret_id}` is a JSON object without a string `{key}`"
                ))
            })?
            .trim()
            .to_string(),
        _ => value.trim().to_string(),
    };
    Ok(Some(value).filter(|v| !v.is_empty()))
}
