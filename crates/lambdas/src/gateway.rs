//! What the router needs when it runs behind API Gateway in Lambda: the caller's IP and the stage, both
//! from the request context (not from headers a client could forge).

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::request::RequestContext;

use countries_api::ClientIp;

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
