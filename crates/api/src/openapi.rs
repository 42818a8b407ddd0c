//! The OpenAPI document, generated from the handlers' annotations and the API's own schema types.

use std::sync::OnceLock;

use utoipa::{Modify, OpenApi};

use crate::error::{CandidateBody, ErrorBody};
use crate::routes::table::{Limit, table};
use crate::routes::{catalogue, country, fetch, service, status, sync, v31};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Country data service",
        description = "Keeps a copy of the world's country data: `/fetch` queues a fetch from REST Countries, `/status` shows how it went, `/country` serves the stored document in the REST Countries v3.1 shape; `/countries` searches the whole catalogue, `/v3.1/...` answers as REST Countries v3.1 did, `POST /sync` brings the catalogue from the upstream. Every error (but the `/v3.1/` routes', which are v3.1's `{\"status\", \"message\"}`) is `{\"Code\": \"...\", \"Message\": \"...\"}`."
    ),
    // Held to the route table (`routes::table`), both ways, by the router tests.
    paths(fetch::get, country::get, status::get, catalogue::list, sync::post, sync::list, sync::get,
          v31::all, v31::alpha, v31::alpha_list, v31::name, v31::currency, v31::demonym, v31::lang,
          v31::capital, v31::region, v31::subregion, v31::translation, v31::independent,
          service::health, service::openapi),
    components(schemas(ErrorBody, CandidateBody, fetch::FetchAccepted, fetch::FetchFresh,
                       sync::SyncAnswer, sync::SyncList, sync::SyncBody, sync::SyncStateBody, sync::SyncTriggerBody, v31::V31Error, v31::CountryV31, catalogue::CountriesPage,
                       status::StatusBody, status::OperationBody, status::OperationStateBody, service::Health,
                       service::BudgetBody, service::DependencyBody)),
    modifiers(&FetchByPost, &RateLimited, &ParameterRules),
    tags((name = "countries", description = "Country data, one country at a time"),
         (name = "catalogue", description = "The whole catalogue: search, filters, syncs"),
         (name = "v3.1", description = "The REST Countries v3.1 read API, with v3.1's answers and errors"),
         (name = "service", description = "The service itself"))
)]
pub struct ApiDoc;

/// `POST /fetch/{country}` is `GET`'s twin (the router serves both with one handler): the same
/// operation under its own id.
struct FetchByPost;

impl Modify for FetchByPost {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let item = doc
            .paths
            .paths
            .get_mut("/fetch/{country}")
            .expect("GET /fetch/{country} is documented");
        let mut post = item
            .get
            .clone()
            .expect("GET /fetch/{country} is documented");
        post.operation_id = Some("fetchPost".into());
        post.summary = Some("Queue a fetch (the same as `GET /fetch/{country}`).".into());
        item.post = Some(post);
    }
}

/// Which routes are rate limited, said from the route table so that the prose cannot go stale, and
/// the 429 each limited operation can answer (the `/v3.1/` ones too, though v3.1 had no such answer).
struct RateLimited;

impl Modify for RateLimited {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let rate_limited = ResponseBuilder::new()
            .description(
                "`RateLimited`: past the client's limit; `Retry-After` says when to come back",
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for route in table() {
            let Some(item) = doc.paths.paths.get_mut(route.path) else {
                continue;
            };
            for served in route.methods.iter().filter(|s| s.limit != Limit::Exempt) {
                let operation = match served.method.as_str() {
                    "GET" => item.get.as_mut(),
                    "POST" => item.post.as_mut(),
                    _ => None,
                };
                if let Some(op) = operation {
                    op.responses
                        .responses
                        .entry("429".into())
                        .or_insert_with(|| rate_limited.clone().into());
                }
            }
        }
        let exempt: Vec<String> = table()
            .iter()
            .filter(|r| r.methods.iter().all(|s| s.limit == Limit::Exempt))
            .map(|r| format!("`{}`", r.path))
            .collect();
        let description = doc.info.description.get_or_insert_default();
        description.push_str(&format!(
            " Every route but {} is rate limited per client (`RateLimit-Limit`, `RateLimit-Remaining`, \
             `RateLimit-Reset` headers): `/fetch` and `POST /sync` by limits of their own, the others by \
             the reads' limit.",
            exempt.join(" and ")
        ));
    }
}

/// The parameters' rules, from the constants the parsers check them with, so that the document cannot
/// drift from them: `{country}` (`IDENTIFIER_PATTERN`), and `/countries`' text lengths
/// (`MAX_VALUE_CHARS`), `fields` (`V31_KEYS`) and `limit` (`MAX_LIMIT`).
struct ParameterRules;

impl Modify for ParameterRules {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use countries_core::catalogue::query::{MAX_LIMIT, MAX_VALUE_CHARS};
        use countries_core::country::V31_KEYS;
        use countries_core::ident::{IDENTIFIER_PATTERN, MAX_IDENTIFIER_CHARS};
        use utoipa::openapi::RefOr;
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::schema::Schema;

        let text = format!("^[^\\x00-\\x1f\\x7f-\\x9f]{{1,{MAX_VALUE_CHARS}}}$");
        let keys = V31_KEYS.map(|(key, _)| key).join("|");
        let fields = format!("^({keys})(,({keys}))*$");
        for (path, item) in doc.paths.paths.iter_mut() {
            for op in [item.get.as_mut(), item.post.as_mut()]
                .into_iter()
                .flatten()
            {
                for p in op.parameters.iter_mut().flatten() {
                    let Some(RefOr::T(Schema::Object(o))) = p.schema.as_mut() else {
                        continue;
                    };
                    // Query parameters of the same names mean other things on the `/v3.1/` routes.
                    let countries = path == "/countries" && p.parameter_in == ParameterIn::Query;
                    let (min, max, pattern) = match p.name.as_str() {
                        "country" if p.parameter_in == ParameterIn::Path => {
                            (1, MAX_IDENTIFIER_CHARS, IDENTIFIER_PATTERN)
                        }
                        "region" | "subregion" | "continent" | "currency" | "language" | "q"
                            if countries =>
                        {
                            (1, MAX_VALUE_CHARS, text.as_str())
                        }
                        "fields" if countries => (1, MAX_VALUE_CHARS, fields.as_str()),
                        "limit" if countries => {
                            o.minimum = Some(1.into());
                            o.maximum = Some(MAX_LIMIT.into());
                            continue;
                        }
                        _ => continue,
                    };
                    o.min_length = Some(min);
                    o.max_length = Some(max);
                    o.pattern = Some(pattern.to_string());
                }
            }
        }
    }
}

/// The OpenAPI document, generated once per process.
pub fn json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limited_operation_documents_its_429() {
        let doc: serde_json::Value = serde_json::from_str(json()).unwrap();
        for route in table() {
            for served in route.methods.iter().filter(|s| s.operation.is_some()) {
                let method = served.method.as_str().to_lowercase();
                let responses = &doc["paths"][route.path][&method]["responses"];
                assert_eq!(
                    responses.get("429").is_some(),
                    served.limit != Limit::Exempt,
                    "{method} {}",
                    route.path
                );
            }
        }
    }

    /// The rules the document states are the parsers' own: changing a constant changes the document.
    #[test]
    fn the_parameters_carry_the_parsers_rules() {
        use countries_core::catalogue::query::{MAX_LIMIT, MAX_VALUE_CHARS};
        let doc: serde_json::Value = serde_json::from_str(json()).unwrap();
        let param = |path: &str, name: &str| {
            doc["paths"][path]["get"]["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == name)
                .unwrap_or_else(|| panic!("{path} has no parameter {name}"))["schema"]
                .clone()
        };
        for path in [
            "/fetch/{country}",
            "/country/{country}",
            "/status/{country}",
        ] {
            let country = param(path, "country");
            assert_eq!(
                country["pattern"],
                countries_core::ident::IDENTIFIER_PATTERN
            );
            assert_eq!(
                country["maxLength"],
                countries_core::ident::MAX_IDENTIFIER_CHARS
            );
        }
        assert_eq!(param("/countries", "region")["maxLength"], MAX_VALUE_CHARS);
        assert_eq!(param("/countries", "limit")["maximum"], MAX_LIMIT);
        let fields = param("/countries", "fields")["pattern"]
            .as_str()
            .unwrap()
            .to_string();
        for (key, _) in countries_core::country::V31_KEYS {
            assert!(
                fields.contains(&format!("|{key}|"))
                    || fields.contains(&format!("({key}|"))
                    || fields.contains(&format!("|{key})")),
                "{key}"
            );
        }
        assert!(
            param("/v3.1/name/{value}", "fields")["pattern"].is_null(),
            "v3.1's fields are its own"
        );
    }
}
