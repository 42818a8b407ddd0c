//! Secrets read once at start-up from AWS Secrets Manager. Values never reach a log line or an error.

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

/// The secret's string. A JSON object secret (as the console creates them) gives the value of `key`.
pub async fn read(client: &Client, secret_id: &str, key: &str) -> Result<String, String> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| format!("reading secret `{secret_id}`: {}", DisplayErrorContext(&e)))?;
    let value = out
        .secret_string()
        .ok_or_else(|| format!("secret `{secret_id}` has no string value"))?;
    let value = match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(map)) => map
            .get(key)
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                format!("secret `{secret_id}` is a JSON object without a string `{key}`")
            })?
            .to_string(),
        _ => value.trim().to_string(),
    };
    if value.is_empty() {
        return Err(format!("secret `{secret_id}` is empty"));
    }
    Ok(value)
}
