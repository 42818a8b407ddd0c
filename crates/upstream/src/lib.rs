//! REST Countries clients behind the core's [`Upstream`] port, and the configuration that picks one.
//!
//! - [`V5`]: the live keyed API (`https://api.restcountries.com/countries/v5`), mapped onto the v3.1 shape.
//! - [`V31`]: a self-hosted REST Countries v3.1 server.
//! - [`Bundled`]: the data set in the repository; no network.

mod bundled;
mod http;
mod key_in_secret;
mod v31;
pub mod v5;

use std::sync::Arc;
use std::time::Duration;

use countries_core::config::{self, ConfigError, Source};
use countries_core::metrics::Metrics;
use countries_core::ports::{Secret, Upstream, UpstreamKind};

pub use bundled::Bundled;
pub use http::HttpSettings;
pub use key_in_secret::KeyInSecret;
pub use v5::V5;
pub use v31::V31;

pub const V5_DEFAULT_URL: &str = "https://api.restcountries.com/countries/v5";

const KIND: &str = "COUNTRIES_UPSTREAM";
const URL: &str = "REST_COUNTRIES_URL";
const KEY_SECRET_ID: &str = "REST_COUNTRIES_API_KEY_SECRET_ID";
const KEY: &str = "REST_COUNTRIES_API_KEY";

/// `COUNTRIES_UPSTREAM`: which upstream the worker calls. The api reads it too, only to report it.
pub fn kind_from_source(src: &dyn Source) -> Result<UpstreamKind, ConfigError> {
    config::parse_or(src, KIND, UpstreamKind::Bundled)
}

/// Where the v5 key comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum ApiKey {
    /// `REST_COUNTRIES_API_KEY`, or the value read from the secret.
    Value(String),
    /// `REST_COUNTRIES_API_KEY_SECRET_ID`: the composition gives [`UpstreamConfig::build_with`] the
    /// secret, which is read when first needed (and again while it has no value).
    Secret(String),
}

#[derive(Clone, PartialEq, Eq)]
pub enum UpstreamConfig {
    Bundled,
    V31 {
        base_url: String,
        http: HttpSettings,
    },
    V5 {
        base_url: String,
        api_key: ApiKey,
        http: HttpSettings,
    },
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the key nor a password in the URL reaches a log line or the start-up banner.
        let at = |url: &str| config::without_userinfo(url);
        match self {
            UpstreamConfig::Bundled => write!(f, "bundled"),
            UpstreamConfig::V31 { base_url, .. } => write!(f, "v3.1 at {}", at(base_url)),
            UpstreamConfig::V5 {
                base_url,
                api_key: ApiKey::Value(_),
                ..
            } => write!(f, "v5 at {} (key set)", at(base_url)),
            UpstreamConfig::V5 {
                base_url,
                api_key: ApiKey::Secret(id),
                ..
            } => write!(f, "v5 at {} (key in secret {id})", at(base_url)),
        }
    }
}

impl UpstreamConfig {
    /// The longest one upstream call may take (`UPSTREAM_TIMEOUT`); none for the bundled data.
    pub fn call_timeout(&self) -> Duration {
        match self {
            UpstreamConfig::V31 { http, .. } | UpstreamConfig::V5 { http, .. } => http.timeout,
            UpstreamConfig::Bundled => Duration::ZERO,
        }
    }

    /// `COUNTRIES_UPSTREAM`, `REST_COUNTRIES_URL`, `REST_COUNTRIES_API_KEY_SECRET_ID` (else
    /// `REST_COUNTRIES_API_KEY`), `UPSTREAM_CONNECT_TIMEOUT`, `UPSTREAM_TIMEOUT`, `UPSTREAM_MAX_BYTES`.
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let kind = kind_from_source(src)?;
        let http = HttpSettings::from_source(src)?;
        let url = src.var(URL).map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &url {
            config::check(
                URL,
                config::without_userinfo(u),
                u.starts_with("http://") || u.starts_with("https://"),
                "must start with http:// or https://",
            )?;
        }
        let api_key = match src.var(KEY_SECRET_ID) {
            Some(id) => Some(ApiKey::Secret(id)),
            None => src.var(KEY).map(ApiKey::Value),
        };
        Ok(match kind {
            UpstreamKind::V31 => UpstreamConfig::V31 {
                base_url: match url {
                    Some(url) => url,
                    None => config::required(
                        src,
                        URL,
                        "the v3.1 upstream needs the base URL of a self-hosted server, such as http://host:8080/v3.1",
                    )?,
                },
                http,
            },
            UpstreamKind::V5 => UpstreamConfig::V5 {
                base_url: url.unwrap_or_else(|| V5_DEFAULT_URL.to_string()),
                api_key: match api_key {
                    Some(key) => key,
                    None => ApiKey::Value(config::required(
                        src,
                        KEY,
                        "the v5 upstream needs an API key (or REST_COUNTRIES_API_KEY_SECRET_ID)",
                    )?),
                },
                http,
            },
            UpstreamKind::Bundled => UpstreamConfig::Bundled,
        })
    }

    pub fn kind(&self) -> UpstreamKind {
        match self {
            UpstreamConfig::Bundled => UpstreamKind::Bundled,
            UpstreamConfig::V31 { .. } => UpstreamKind::V31,
            UpstreamConfig::V5 { .. } => UpstreamKind::V5,
        }
    }

    /// Whether calls are counted against a quota (v5's plans); the others are free.
    pub fn has_quota(&self) -> bool {
        self.kind().has_quota()
    }

    /// The secret that holds the v5 key, which [`UpstreamConfig::build_with`] needs.
    pub fn key_secret_id(&self) -> Option<&str> {
        match self {
            UpstreamConfig::V5 {
                api_key: ApiKey::Secret(id),
                ..
            } => Some(id),
            _ => None,
        }
    }

    pub fn build(&self, metrics: Arc<dyn Metrics>) -> Result<Arc<dyn Upstream>, BuildError> {
        self.build_with(None, metrics)
    }

    /// The client, with the secret [`UpstreamConfig::key_secret_id`] names when there is one.
    /// Its answers that need a person (a refused key, a wrong base URL) are counted into `metrics`.
    pub fn build_with(
        &self,
        key: Option<Arc<dyn Secret>>,
        metrics: Arc<dyn Metrics>,
    ) -> Result<Arc<dyn Upstream>, BuildError> {
        Ok(match self {
            UpstreamConfig::Bundled => Arc::new(Bundled::new()),
            UpstreamConfig::V31 { base_url, http } => {
                Arc::new(V31::new(base_url, http)?.counting(metrics))
            }
            UpstreamConfig::V5 {
                base_url,
                api_key: ApiKey::Value(key),
                http,
            } => Arc::new(V5::new(base_url, key, http)?.counting(metrics)),
            UpstreamConfig::V5 {
                base_url,
                api_key: ApiKey::Secret(id),
                http,
            } => match key {
                Some(secret) => Arc::new(KeyInSecret::new(base_url, id, secret, (http, metrics))),
                None => return Err(BuildError::NoKeySecret(id.clone())),
            },
        })
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// The configuration names the v5 key's secret, and the composition gave none.
    #[error("the v5 key's secret {0} was not given")]
    NoKeySecret(String),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_needs_nothing() {
        let c = UpstreamConfig::from_source(&std::collections::HashMap::new()).unwrap();
        assert_eq!((c.kind(), c.key_secret_id()), (UpstreamKind::Bundled, None));
        assert!(
            c.build(Arc::new(countries_core::metrics::Counted::default()))
                .is_ok()
        );
    }

    #[test]
    fn bad_or_missing_values_name_their_variable() {
        for (pairs, var) in [
            (vec![("COUNTRIES_UPSTREAM", "v4")], "COUNTRIES_UPSTREAM"),
            (vec![("COUNTRIES_UPSTREAM", "v5")], "REST_COUNTRIES_API_KEY"),
            (vec![("COUNTRIES_UPSTREAM", "v3.1")], "REST_COUNTRIES_URL"),
            (
                vec![("REST_COUNTRIES_URL", "ftp://x")],
                "REST_COUNTRIES_URL",
            ),
            (vec![("UPSTREAM_TIMEOUT", "-1s")], "UPSTREAM_TIMEOUT"),
            (vec![("UPSTREAM_MAX_BYTES", "lots")], "UPSTREAM_MAX_BYTES"),
        ] {
            let e = UpstreamConfig::from_source(&pairs).unwrap_err();
            assert_eq!(e.var, var, "{pairs:?}: {e}");
        }
    }

    /// The names are the HTTP contract's (`/health`, a record's source) and the variable's values.
    #[test]
    fn kinds_are_read_and_named_as_before() {
        for (value, kind) in [
            ("bundled", UpstreamKind::Bundled),
            ("V3.1", UpstreamKind::V31),
            (" v5 ", UpstreamKind::V5),
        ] {
            let read = kind_from_source(&[("COUNTRIES_UPSTREAM", value)]);
            assert_eq!(read, Ok(kind));
        }
        assert_eq!(
            UpstreamKind::ALL.map(|k| k.to_string()),
            ["bundled", "v3.1", "v5"]
        );
        assert_eq!(kind_from_source(&[]), Ok(UpstreamKind::Bundled));
        assert_eq!(
            kind_from_source(&[("COUNTRIES_UPSTREAM", "v4")])
                .unwrap_err()
                .to_string(),
            "invalid COUNTRIES_UPSTREAM=`v4`: expected one of bundled, v3.1, v5"
        );
    }

    #[test]
    fn v5_defaults_to_the_live_url_and_takes_its_key_from_a_secret() {
        let c = UpstreamConfig::from_source(&[
            ("COUNTRIES_UPSTREAM", "V5"),
            ("REST_COUNTRIES_API_KEY_SECRET_ID", "arn:secret"),
        ])
        .unwrap();
        assert_eq!(c.key_secret_id(), Some("arn:secret"));
        assert!(
            c.build(Arc::new(countries_core::metrics::Counted::default()))
                .is_err(),
            "the secret is needed"
        );
        assert_eq!(
            format!("{c:?}"),
            format!("v5 at {V5_DEFAULT_URL} (key in secret arn:secret)")
        );
        assert!(c.has_quota());
    }

    /// The start-up banner and the logs show the upstream by this `Debug`: a password in its URL stays
    /// out of both (the security review's L6).
    #[test]
    fn a_password_in_the_upstream_url_is_not_shown() {
        let c = UpstreamConfig::from_source(&[
            ("COUNTRIES_UPSTREAM", "v3.1"),
            (
                "REST_COUNTRIES_URL",
                "https://me:s3cret@countries.internal/v3.1",
            ),
        ])
        .unwrap();
        assert_eq!(
            format!("{c:?}"),
            "v3.1 at https://(hidden)@countries.internal/v3.1"
        );
    }
}
