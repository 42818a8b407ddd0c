//! Metrics as CloudWatch embedded metric format (EMF) lines on stdout: in Lambda, CloudWatch Logs turns
//! them into metrics with no client, no network call and no extra latency; locally they are log lines.

use std::io::Write;

/// The namespace the alarms and the dashboard read (`terraform/modules/monitoring`).
pub const NAMESPACE: &str = "CountryDataService";

/// Counted each time a rate-limit decision could not reach Redis (alarm in terraform/modules/monitoring).
pub const LIMITER_UNAVAILABLE: &str = "RateLimiterUnavailable";

/// Counted when the upstream answers 404 without its own error body: a wrong `REST_COUNTRIES_URL` (alarm).
pub const UPSTREAM_MISCONFIGURED: &str = "UpstreamMisconfigured";

/// Counted for each upstream call once 80 % of the month's quota is spent (alarm): the rest of the month
/// is at risk.
pub const UPSTREAM_QUOTA_HIGH: &str = "UpstreamQuotaHigh";

/// Counted when the upstream refuses the key (401, 403: a bad key, a frozen account, a premium field):
/// a person must act (alarm).
pub const UPSTREAM_REJECTED: &str = "UpstreamRejected";

/// Counted when a sync ends failed or partial (alarm): the catalogue did not fully refresh.
pub const SYNC_FAILED: &str = "SyncFailed";

/// Counted when a fetched document could not be written into the catalogue item: catalogue reads miss it
/// until the next sync.
pub const CATALOGUE_PUBLISH_FAILED: &str = "CataloguePublishFailed";

/// One EMF record counting `name` once, with the function name as its dimension.
pub fn count_line(name: &str, function: &str, timestamp_ms: i64) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function"]],
                "Metrics": [{"Name": name, "Unit": "Count"}]
            }]
        },
        "Function": function,
        name: 1
    })
    .to_string()
}

pub fn count(name: &str) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    let line = count_line(name, &function, chrono::Utc::now().timestamp_millis());
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").ok();
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_emf_record_names_its_metric_and_dimension() {
        let line: serde_json::Value = serde_json::from_str(&super::count_line(
            "RateLimiterUnavailable",
            "api",
            1_700_000_000_000,
        ))
        .unwrap();
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "CountryDataService");
        assert_eq!(directive["Metrics"][0]["Name"], "RateLimiterUnavailable");
        assert_eq!(line["Function"], "api");
        assert_eq!(line["RateLimiterUnavailable"], 1);
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }
}
