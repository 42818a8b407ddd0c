//! The OpenAPI document, generated from the handlers' annotations and the API's own schema types.

use std::sync::OnceLock;

use utoipa::OpenApi;

use crate::error::{CandidateBody, ErrorBody};
use crate::routes::{country, fetch, service, status};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Country data service",
        description = "Keeps a copy of the world's country data: `/fetch` queues a fetch from REST Countries, `/status` shows how it went, `/country` serves the stored document in the REST Countries v3.1 shape. Every error is `{\"Code\": \"...\", \"Message\": \"...\"}`. `/fetch`, `/country` and `/status` are rate limited per client (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` headers)."
    ),
    paths(fetch::get, fetch::post, country::get, status::get, service::health, service::openapi),
    components(schemas(ErrorBody, CandidateBody, fetch::FetchAccepted, fetch::FetchFresh,
                       status::StatusBody, status::OperationBody, status::State, service::Health)),
    tags((name = "countries", description = "Country data"), (name = "service", description = "The service itself"))
)]
pub struct ApiDoc;

/// The OpenAPI document, generated once per process.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    })
}
