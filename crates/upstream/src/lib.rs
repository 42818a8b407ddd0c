//! REST Countries clients behind the core's [`Upstream`] port, and the configuration that picks one.
//!
//! - [`V5`]: the live keyed API (`https://api.restcountries.com/countries/v5`), mapped onto the v3.1 shape.
//! - [`V31`]: a self-hosted REST Countries v3.1 server.
//! - [`Bundled`]: the data set in the repository; no network.

mod bundled;
mod elsewhere;
mod http;
mod v31;
mod v5;

use std::sync::Arc;
use std::time::Duration;

use countries_core::config::{self, ConfigError, Source};
use countries_core::ports::Upstream;

pub use bundled::Bundled;
pub use elsewhere::Elsewhere;
pub use http::HttpSettings;
pub use v5::V5;
pub use v31::V31;

pub const V5_DEFAULT_URL: &str = "https://api.restcountries.com/countries/v5";

#[derive(Clone, PartialEq, Eq)]
pub enum UpstreamConfig {
    Bundled,
    V31 {
        base_url: String,
        http: HttpSettings,
    },
    V5 {
        base_url: String,
        api_key: String,
        http: HttpSettings,
    },
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key never reaches a log line.
        match self {
            UpstreamConfig::Bundled => write!(f, "bundled"),
            UpstreamConfig::V31 { base_url, .. } => write!(f, "v3.1 at {base_url}"),
            UpstreamConfig::V5 { base_url, .. } => write!(f, "v5 at {base_url} (key set)"),
        }
    }
}

impl UpstreamConfig {
    /// `COUNTRIES_UPSTREAM` (`bundled`, `v3.1`, `v5`), `REST_COUNTRIES_URL`, `REST_COUNTRIES_API_KEY`,
    /// `UPSTREAM_CONNECT_TIMEOUT`, `UPSTREAM_TIMEOUT`, `UPSTREAM_MAX_BYTES`.
    /// `api_key` overrides `REST_COUNTRIES_API_KEY` (the Lambdas read it from Secrets Manager).
    pub fn from_source(src: &dyn Source, api_key: Option<String>) -> Result<Self, ConfigError> {
        let kind = config::choice_or(
            src,
            "COUNTRIES_UPSTREAM",
            &["bundled", "v3.1", "v5"],
            "bundled",
        )?;
        let http = HttpSettings::from_source(src)?;
        let url = src
            .var("REST_COUNTRIES_URL")
            .map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(ConfigError {
                var: "REST_COUNTRIES_URL".into(),
                value: u.clone(),
                reason: "must start with http:// or https://".into(),
            });
        }
        let missing = |var: &str, reason: &str| ConfigError {
            var: var.into(),
            value: String::new(),
            reason: reason.into(),
        };
        Ok(match kind {
            "v3.1" => UpstreamConfig::V31 {
                base_url: url.ok_or_else(|| {
                    missing("REST_COUNTRIES_URL", "the v3.1 upstream needs the base URL of a self-hosted server, such as http://host:8080/v3.1")
                })?,
                http,
            },
            "v5" => UpstreamConfig::V5 {
                base_url: url.unwrap_or_else(|| V5_DEFAULT_URL.to_string()),
                api_key: api_key.or_else(|| src.var("REST_COUNTRIES_API_KEY")).ok_or_else(|| {
                    missing("REST_COUNTRIES_API_KEY", "the v5 upstream needs an API key")
                })?,
                http,
            },
            _ => UpstreamConfig::Bundled,
        })
    }

    pub fn build(&self) -> Result<Arc<dyn Upstream>, String> {
        Ok(match self {
            UpstreamConfig::Bundled => Arc::new(Bundled::new()),
            UpstreamConfig::V31 { base_url, http } => Arc::new(V31::new(base_url, http)?),
            UpstreamConfig::V5 {
                base_url,
                api_key,
                http,
            } => Arc::new(V5::new(base_url, api_key, http)?),
        })
    }
}

impl HttpSettings {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = HttpSettings::default();
        Ok(HttpSettings {
            connect_timeout: config::duration_or(
                src,
                "UPSTREAM_CONNECT_TIMEOUT",
                d.connect_timeout,
            )?,
            timeout: config::duration_or(src, "UPSTREAM_TIMEOUT", d.timeout)?,
            max_bytes: config::parse_or(src, "UPSTREAM_MAX_BYTES", d.max_bytes)?,
        })
    }
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(10),
            // One v3.1 country is about 6 KB; a catalogue page of 100 about 1 MB.
            max_bytes: 2 * 1024 * 1024,
        }
    }
}
