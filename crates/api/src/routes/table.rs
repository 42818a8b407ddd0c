//! The route table: every route the API serves, declared once with its methods, the rate-limit group
//! each method counts against (or its exemption), its handler and its OpenAPI operation. The router
//! and the rate-limit middleware are built from it; tests hold the OpenAPI document and Terraform's
//! API Gateway routes to it (`crates/api/tests/router.rs`, `tests/infra_contract.rs`).

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter};
use countries_core::ratelimit::RouteGroup;

use super::{catalogue, country, fetch, service, status, sync, v31};
use crate::AppState;

/// What a request to a route counts against. A method cannot be declared without one, so a new route
/// cannot go unlimited by omission: `Exempt` is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Read,
    Fetch,
    Sync,
    Exempt,
}

impl Limit {
    pub fn group(self) -> Option<RouteGroup> {
        match self {
            Limit::Read => Some(RouteGroup::Read),
            Limit::Fetch => Some(RouteGroup::Fetch),
            Limit::Sync => Some(RouteGroup::Sync),
            Limit::Exempt => None,
        }
    }
}

/// One method of a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub method: Method,
    pub limit: Limit,
    /// The `operationId` the OpenAPI document gives it; `None` for an answer the document leaves out.
    pub operation: Option<&'static str>,
}

/// A path (axum's syntax: `{param}`, `{*rest}`) and its methods. Built with [`Route::get`] only, so
/// every route serves `GET`.
pub struct Route {
    pub path: &'static str,
    pub methods: Vec<Served>,
    pub(crate) handler: MethodRouter<AppState>,
}

impl Route {
    pub fn get<H, T>(
        path: &'static str,
        limit: Limit,
        operation: Option<&'static str>,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        Route {
            path,
            methods: Vec::new(),
            handler: MethodRouter::new(),
        }
        .on(Method::GET, limit, operation, handler)
    }

    pub fn post<H, T>(self, limit: Limit, operation: Option<&'static str>, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.on(Method::POST, limit, operation, handler)
    }

    fn on<H, T>(
        mut self,
        method: Method,
        limit: Limit,
        operation: Option<&'static str>,
        handler: H,
    ) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
        self.handler = self.handler.on(filter, handler);
        self.methods.push(Served {
            method,
            limit,
            operation,
        });
        self
    }
}

/// Every route. Paths under `/v3.1/` have their trailing slash trimmed before routing (`router`).
// One row per route reads as the table it is; rustfmt would break the long rows over five lines.
#[rustfmt::skip]
pub fn table() -> Vec<Route> {
    use Limit::*;
    vec![
        Route::get("/fetch/{country}",          Fetch, Some("fetch"),       fetch::get)
            .post(                              Fetch, Some("fetchPost"),   fetch::get),
        Route::get("/country/{country}",        Read,  Some("country"),     country::get),
        Route::get("/status/{country}",         Read,  Some("status"),      status::get),
        Route::get("/countries",                Read,  Some("countries"),   catalogue::list),
        Route::get("/sync",                     Read,  Some("syncs"),       sync::list)
            .post(                              Sync,  Some("sync"),        sync::post),
        Route::get("/sync/{id}",                Read,  Some("syncStatus"),  sync::get),
        Route::get("/v3.1/all",                 Read,  Some("all"),         v31::all),
        Route::get("/v3.1/alpha",               Read,  Some("alpha_list"),  v31::alpha_list),
        Route::get("/v3.1/independent",         Read,  Some("independent"), v31::independent),
        Route::get("/v3.1/alpha/{value}",       Read,  Some("alpha"),       v31::alpha),
        Route::get("/v3.1/name/{value}",        Read,  Some("name"),        v31::name),
        Route::get("/v3.1/currency/{value}",    Read,  Some("currency"),    v31::currency),
        Route::get("/v3.1/demonym/{value}",     Read,  Some("demonym"),     v31::demonym),
        Route::get("/v3.1/lang/{value}",        Read,  Some("lang"),        v31::lang),
        Route::get("/v3.1/capital/{value}",     Read,  Some("capital"),     v31::capital),
        Route::get("/v3.1/region/{value}",      Read,  Some("region"),      v31::region),
        Route::get("/v3.1/subregion/{value}",   Read,  Some("subregion"),   v31::subregion),
        Route::get("/v3.1/translation/{value}", Read,  Some("translation"), v31::translation),
        // v3.1's own 404 for the rest of `/v3.1/`: an answer, not an operation to document.
        Route::get("/v3.1/{*rest}",             Read,  None,                v31::no_route),
        // The load balancer's and the operator's probes, and the document: never refused for a
        // client's traffic, and they reach no dependency a client could exhaust (`deep=true`'s
        // probes are bounded by `PROBE_TIMEOUT`).
        Route::get("/health",                   Exempt, Some("health"),     service::health),
        Route::get("/openapi.json",             Exempt, Some("openapi"),    service::openapi),
    ]
}

/// The table's paths, as the rate-limit middleware finds a request's route: with the matcher axum
/// routes with, so that the two cannot disagree on which route a path is.
pub struct Limits(matchit::Router<Vec<Served>>);

impl Limits {
    pub fn of(table: &[Route]) -> Self {
        let mut paths = matchit::Router::new();
        for route in table {
            paths
                .insert(route.path, route.methods.clone())
                .expect("the table's paths do not overlap");
        }
        Limits(paths)
    }

    /// The group a request counts against; `None` when its route is exempt, or when no route has the
    /// path (the router's 404, which calls nothing). HEAD is answered by GET's handler, and a method
    /// the route does not serve is answered 405: both count like GET (every route serves it), so that
    /// no request that reaches a limited route goes unlimited.
    pub fn group(&self, method: &Method, path: &str) -> Option<RouteGroup> {
        let methods = self.0.at(path).ok()?.value;
        let of = |m: &Method| methods.iter().find(|s| s.method == *m);
        of(method)
            .or_else(|| of(&Method::GET))
            .and_then(|s| s.limit.group())
    }
}
