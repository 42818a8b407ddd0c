//! What the router needs when it runs behind API Gateway in Lambda: the caller's IP and the stage, both
//! from the request context (not from headers a client could forge).

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::request::RequestContext;

use crate::ClientIp;

/// The router with [`from_api_gateway`] in front of it. In front, not inside: middleware added with
/// `Router::layer` runs after routing, too late to rewrite the path.
pub fn behind_api_gateway(router: Router) -> Router {
    let wrapped = tower::Layer::layer(&middleware::from_fn(from_api_gateway), router);
    Router::new().fallback_service(wrapped)
}

/// Puts the caller's IP (for the rate limiter) into the request, and removes a `/{stage}` prefix from
/// the path so that staged and unstaged APIs (HTTP API v2 and REST API v1) reach the same routes.
pub async fn from_api_gateway(mut req: Request, next: Next) -> Response {
    let (ip, stage) = match req.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(c)) => (c.http.source_ip.clone(), c.stage.clone()),
        Some(RequestContext::ApiGatewayV1(c)) => (c.identity.source_ip.clone(), c.stage.clone()),
        _ => (None, None),
    };
    if let Some(ip) = ip.and_then(|ip| ip.parse().ok()) {
        req.extensions_mut().insert(ClientIp(ip));
    }
    if let Some(stage) = stage.filter(|s| !s.is_empty() && s != "$default") {
        let prefix = format!("/{stage}");
        let path = req.uri().path();
        let rest = path
            .strip_prefix(&prefix)
            .filter(|r| r.is_empty() || r.starts_with('/'));
        if let Some(rest) = rest {
            let rest = if rest.is_empty() { "/" } else { rest };
            let new = match req.uri().query() {
                Some(q) => format!("{rest}?{q}"),
                None => rest.to_string(),
            };
            if let Ok(uri) = new.parse::<Uri>() {
                *req.uri_mut() = uri;
            }
        }
    }
    next.run(req).await
}

/// Everything the api Lambda reads from its environment, read once in `main` before any client is built
/// (so a bad value fails the start naming the variable). terraform/service sets exactly these, which
/// tests/infra_contract.rs checks by reading them through a recording source.
pub struct LambdaConfig {
    pub settings: countries_core::Settings,
    pub fetch_limit: countries_core::config::Limit,
    pub read_limit: countries_core::config::Limit,
    pub policy: crate::LimiterPolicy,
    /// The api never calls the upstream (the worker does); `/health` only reports which one is used.
    pub upstream: &'static str,
    pub base_path: String,
    pub aws: countries_aws::config::AwsEnv,
    pub redis: countries_aws::config::RedisEnv,
}

impl LambdaConfig {
    pub fn from_source(
        src: &dyn countries_core::config::Source,
    ) -> Result<Self, countries_core::config::ConfigError> {
        use countries_core::config::{self, Limit};
        use std::time::Duration;
        Ok(LambdaConfig {
            settings: countries_core::Settings::from_source(src)?,
            fetch_limit: config::parse_or(
                src,
                "RATE_LIMIT_FETCH",
                Limit::new(10, Duration::from_secs(60)),
            )?,
            read_limit: config::parse_or(
                src,
                "RATE_LIMIT_READ",
                Limit::new(300, Duration::from_secs(60)),
            )?,
            policy: crate::LimiterPolicy::from_source(src)?,
            upstream: config::choice_or(
                src,
                "COUNTRIES_UPSTREAM",
                &["bundled", "v3.1", "v5"],
                "bundled",
            )?,
            base_path: src
                .var("PUBLIC_BASE_PATH")
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
            aws: countries_aws::config::AwsEnv::from_source(src)?,
            redis: countries_aws::config::RedisEnv::from_source(src)?,
        })
    }
}
