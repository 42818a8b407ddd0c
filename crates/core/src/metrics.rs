//! What the service counts, and the port that counts it. On Lambda the counts are CloudWatch embedded
//! metric format (EMF) lines on stdout: CloudWatch Logs turns them into metrics with no client, no network
//! call and no extra latency; locally they are log lines; in tests, counters.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

/// The namespace the alarms and the dashboard read (`terraform/modules/monitoring`).
pub const NAMESPACE: &str = "CountryDataService";

/// Each is counted once per occurrence; each has an alarm in `terraform/modules/monitoring`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    /// A rate-limit decision could not reach the limiter; `RATE_LIMIT_ON_ERROR` was applied instead.
    LimiterUnavailable,
    /// The upstream answered 404 without its own error body: a wrong `REST_COUNTRIES_URL`.
    UpstreamMisconfigured,
    /// An upstream call once 80 % of the month's quota is spent: the rest of the month is at risk.
    UpstreamQuotaHigh,
    /// The upstream refused the key (401, 403: a bad key, a frozen account, a premium field): a person
    /// must act.
    UpstreamRejected,
    /// A sync ended failed or partial: the catalogue did not fully refresh.
    SyncFailed,
    /// A fetched document could not be written into the catalogue item: catalogue reads miss it until
    /// the next sync.
    CataloguePublishFailed,
    /// The api read stored data it cannot decode, and answered 500.
    StoredDataCorrupt,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::LimiterUnavailable,
        Metric::UpstreamMisconfigured,
        Metric::UpstreamQuotaHigh,
        Metric::UpstreamRejected,
        Metric::SyncFailed,
        Metric::CataloguePublishFailed,
        Metric::StoredDataCorrupt,
    ];

    /// The metric's name in CloudWatch.
    pub fn name(self) -> &'static str {
        match self {
            Metric::LimiterUnavailable => "RateLimiterUnavailable",
            Metric::UpstreamMisconfigured => "UpstreamMisconfigured",
            Metric::UpstreamQuotaHigh => "UpstreamQuotaHigh",
            Metric::UpstreamRejected => "UpstreamRejected",
            Metric::SyncFailed => "SyncFailed",
            Metric::CataloguePublishFailed => "CataloguePublishFailed",
            Metric::StoredDataCorrupt => "StoredDataCorrupt",
        }
    }
}

/// Where the use cases, the API and the upstream clients count what happened.
pub trait Metrics: Send + Sync {
    fn count(&self, metric: Metric);
}

/// EMF lines on stdout, with the emitting function's name as their one dimension.
pub struct Emf {
    function: String,
}

impl Emf {
    /// `function`: the Lambda function's name (`AWS_LAMBDA_FUNCTION_NAME`, read once at start), which
    /// the alarms name in their `Function` dimension; `local` in the local server.
    pub fn new(function: &str) -> Self {
        Emf {
            function: function.to_string(),
        }
    }

    /// One EMF record counting `metric` once.
    pub fn line(&self, metric: Metric, timestamp_ms: i64) -> String {
        let name = metric.name();
        serde_json::json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function"]],
                    "Metrics": [{"Name": name, "Unit": "Count"}]
                }]
            },
            "Function": self.function,
            name: 1
        })
        .to_string()
    }
}

impl Metrics for Emf {
    fn count(&self, metric: Metric) {
        let line = self.line(metric, chrono::Utc::now().timestamp_millis());
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").ok();
    }
}

/// Counts in memory: what a test asserts on.
#[derive(Debug, Default)]
pub struct Counted(Mutex<HashMap<Metric, u64>>);

impl Counted {
    pub fn get(&self, metric: Metric) -> u64 {
        self.0.lock().unwrap().get(&metric).copied().unwrap_or(0)
    }
}

impl Metrics for Counted {
    fn count(&self, metric: Metric) {
        *self.0.lock().unwrap().entry(metric).or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_record_names_its_metric_and_dimension() {
        let line = Emf::new("api").line(Metric::LimiterUnavailable, 1_700_000_000_000);
        let line: serde_json::Value = serde_json::from_str(&line).unwrap();
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "CountryDataService");
        assert_eq!(directive["Metrics"][0]["Name"], "RateLimiterUnavailable");
        assert_eq!(line["Function"], "api");
        assert_eq!(line["RateLimiterUnavailable"], 1);
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }

    #[test]
    fn every_metric_has_its_own_name() {
        let names: std::collections::BTreeSet<_> = Metric::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), Metric::ALL.len());
    }
}
