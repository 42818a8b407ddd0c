//! The REST Countries v3.1 read API under `/v3.1/`, answered from the catalogue snapshot with v3.1's own
//! matching (`countries_core::catalogue::v31_matching`), answers and errors: a migrating app changes only its base
//! URL. Every route also takes a trailing slash, as v3.1's server did.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use countries_core::catalogue::{Snapshot, v31_matching as matching};
use serde::Serialize;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;

/// v3.1's error body: `{"status": 404, "message": "Not Found"}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct V31Error {
    #[schema(example = 404)]
    pub status: u16,
    #[schema(example = "Not Found")]
    pub message: String,
}

/// Why a v3.1 request is not answered with countries.
pub enum V31Fail {
    /// v3.1's `400 {"status": 400, "message": "Bad Request"}`.
    BadRequest,
    /// v3.1's `404 {"status": 404, "message": "Not Found"}`.
    NotFound,
    /// The catalogue could not be read: the service's own error (503, or 500 when it is corrupt).
    Store(countries_core::ports::StoreError),
}

impl IntoResponse for V31Fail {
    fn into_response(self) -> Response {
        let status = match self {
            V31Fail::BadRequest => StatusCode::BAD_REQUEST,
            V31Fail::NotFound => StatusCode::NOT_FOUND,
            V31Fail::Store(e) => return ApiError::from(e).into_response(),
        };
        let body = json!({"status": status.as_u16(), "message": status.canonical_reason().unwrap_or_default()});
        (status, Json(body)).into_response()
    }
}

/// A REST Countries v3.1 document: its 35 top-level keys with their JSON types (`V31_KEYS`), none
/// required, because `fields` leaves some out.
pub struct CountryV31;

impl utoipa::PartialSchema for CountryV31 {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use countries_core::country::{EmptyKind, V31_KEYS};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        V31_KEYS
            .iter()
            .fold(
                ObjectBuilder::new()
                    .description(Some(
                        "A REST Countries v3.1 document (or the `fields` asked for).",
                    ))
                    .additional_properties(Some(
                        utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
                    )),
                |object, (key, kind)| {
                    let kind = match kind {
                        EmptyKind::String => Type::String,
                        EmptyKind::Array => Type::Array,
                        EmptyKind::Object => Type::Object,
                        EmptyKind::Bool => Type::Boolean,
                        EmptyKind::Number => Type::Number,
                    };
                    object.property(*key, ObjectBuilder::new().schema_type(kind))
                },
            )
            .into()
    }
}

impl utoipa::ToSchema for CountryV31 {}

/// `alpha/{code}`'s answer: a list of one country, or (with `fields`) the one object alone.
pub struct AlphaAnswer;

impl utoipa::PartialSchema for AlphaAnswer {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder};
        OneOfBuilder::new()
            .item(
                ArrayBuilder::new()
                    .items(ObjectBuilder::new())
                    .min_items(Some(1))
                    .max_items(Some(1)),
            )
            .item(ObjectBuilder::new())
            .into()
    }
}

impl utoipa::ToSchema for AlphaAnswer {}

type V31Query = Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>;
type V31Path = Result<Path<String>, axum::extract::rejection::PathRejection>;

/// The query's parameters (a malformed query string is v3.1's 400).
fn query(q: V31Query) -> Result<HashMap<String, String>, V31Fail> {
    q.map(|Query(q)| q).map_err(|_| V31Fail::BadRequest)
}

fn segment(p: V31Path) -> Result<String, V31Fail> {
    p.map(|Path(p)| p).map_err(|_| V31Fail::BadRequest)
}

async fn snapshot(app: &AppState) -> Result<std::sync::Arc<Snapshot>, V31Fail> {
    app.catalogue.snapshot().await.map_err(V31Fail::Store)
}

/// The countries at `found` as v3.1 answered them: a JSON array (404 when empty), `fields` applied.
fn answer(
    s: &Snapshot,
    found: &[usize],
    params: &HashMap<String, String>,
) -> Result<Response, V31Fail> {
    if found.is_empty() {
        return Err(V31Fail::NotFound);
    }
    let fields = matching::fields(params.get("fields").map(String::as_str));
    Ok(json_text(s.array(found, fields.as_deref())))
}

fn json_text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// One handler per route: the path segment and query in, v3.1's answer out.
macro_rules! by_segment {
    ($name:ident, $path:literal, $matcher:path, $example:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(get, path = $path, tag = "v3.1",
            params(("value" = String, Path, description = "What to match", min_length = 1, example = $example),
                   ("fields" = Option<String>, Query, description = "Comma-separated top-level fields; unknown names are ignored")),
            responses(
                (status = 200, description = "The matching countries", body = Vec<CountryV31>),
                (status = 400, description = "A malformed request", body = V31Error),
                (status = 404, description = "Nothing matched", body = V31Error),
            ))]
        pub async fn $name(
            State(app): State<AppState>,
            p: V31Path,
            q: V31Query,
        ) -> Result<Response, V31Fail> {
            let (value, params) = (segment(p)?, query(q)?);
            let s = snapshot(&app).await?;
            answer(&s, &$matcher(&s, &value), &params)
        }
    };
}

by_segment!(
    currency,
    "/v3.1/currency/{value}",
    matching::currency,
    "eur",
    "Countries with a currency of that code, or whose name contains the text."
);
by_segment!(
    demonym,
    "/v3.1/demonym/{value}",
    matching::demonym,
    "peruvian",
    "Countries with a demonym containing the text."
);
by_segment!(
    lang,
    "/v3.1/lang/{value}",
    matching::lang,
    "spanish",
    "Countries with a language of that name or ISO 639-3 code."
);
by_segment!(
    capital,
    "/v3.1/capital/{value}",
    matching::capital,
    "tallinn",
    "Countries with a capital containing the text (accents optional)."
);
by_segment!(
    region,
    "/v3.1/region/{value}",
    matching::region,
    "europe",
    "Countries whose region contains the text, or whose subregion is it."
);
by_segment!(
    subregion,
    "/v3.1/subregion/{value}",
    matching::subregion,
    "northern europe",
    "Countries whose subregion contains the text."
);
by_segment!(
    translation,
    "/v3.1/translation/{value}",
    matching::translation,
    "saksamaa",
    "Countries with a translated name containing the text."
);

/// Countries whose common or official name, or an alternate spelling, contains the text
/// (`fullText=true`: the first whose common or official name is it).
#[utoipa::path(get, path = "/v3.1/name/{value}", tag = "v3.1",
    params(("value" = String, Path, description = "The name, or part of it", min_length = 1, example = "united"),
           ("fullText" = Option<bool>, Query, description = "Match the whole common or official name"),
           ("fields" = Option<String>, Query, description = "Comma-separated top-level fields; unknown names are ignored")),
    responses(
        (status = 200, description = "The matching countries", body = Vec<CountryV31>),
        (status = 400, description = "`fullText` is not a boolean", body = V31Error),
        (status = 404, description = "Nothing matched", body = V31Error),
    ))]
pub async fn name(
    State(app): State<AppState>,
    p: V31Path,
    q: V31Query,
) -> Result<Response, V31Fail> {
    let (value, params) = (segment(p)?, query(q)?);
    let full_text = match params.get("fullText").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(V31Fail::BadRequest),
    };
    let s = snapshot(&app).await?;
    answer(&s, &matching::name(&s, &value, full_text), &params)
}

/// One country by cca2, ccn3, cca3 or cioc: a list of one, or the object alone with `fields`.
#[utoipa::path(get, path = "/v3.1/alpha/{value}", tag = "v3.1",
    params(("value" = String, Path, description = "A code of 2 or 3 characters (v3.1 also took `codes=` before it)",
            pattern = "^(codes=)?[\\s\\S]{2,3}$", example = "PY"),
           ("fields" = Option<String>, Query, description = "Comma-separated top-level fields; unknown names are ignored")),
    responses(
        (status = 200, description = "The country: a list of one, or one object with `fields`", body = AlphaAnswer),
        (status = 400, description = "Not 2 or 3 characters", body = V31Error),
        (status = 404, description = "No such country", body = V31Error),
    ))]
pub async fn alpha(
    State(app): State<AppState>,
    p: V31Path,
    q: V31Query,
) -> Result<Response, V31Fail> {
    let (code, params) = (segment(p)?, query(q)?);
    let s = snapshot(&app).await?;
    let found = matching::alpha(&s, &code).map_err(|_| V31Fail::BadRequest)?;
    match matching::fields(params.get("fields").map(String::as_str)) {
        Some(fields) if !found.is_empty() => {
            let mut out = String::new();
            s.write(&mut out, found[0], Some(&fields));
            Ok(json_text(out))
        }
        _ => answer(&s, &found, &params),
    }
}

/// Countries by a comma-separated list of codes.
#[utoipa::path(get, path = "/v3.1/alpha", tag = "v3.1",
    params(("codes" = String, Query, description = "Comma-separated codes (cca2, ccn3, cca3 or cioc): 2 or 3 characters, or a list with a comma",
            pattern = "^([\\s\\S]{2,3}|[\\s\\S]+,[\\s\\S]*|,[\\s\\S]+)$", example = "py,bra,arg"),
           ("fields" = Option<String>, Query, description = "Comma-separated top-level fields; unknown names are ignored")),
    responses(
        (status = 200, description = "The countries", body = Vec<CountryV31>),
        (status = 400, description = "No codes, or one long code", body = V31Error),
        (status = 404, description = "No code matched", body = V31Error),
    ))]
pub async fn alpha_list(State(app): State<AppState>, q: V31Query) -> Result<Response, V31Fail> {
    let params = query(q)?;
    let s = snapshot(&app).await?;
    let codes = params.get("codes").map(String::as_str).unwrap_or_default();
    let found = matching::codes(&s, codes).map_err(|_| V31Fail::BadRequest)?;
    answer(&s, &found, &params)
}

/// Every country. (v3.1's last server required `fields`; this answers whole documents without it.)
#[utoipa::path(get, path = "/v3.1/all", tag = "v3.1",
    params(("fields" = Option<String>, Query, description = "Comma-separated top-level fields; unknown names are ignored")),
    responses(
        (status = 200, description = "Every country", body = Vec<CountryV31>),
        (status = 400, description = "A malformed request", body = V31Error),
        (status = 404, description = "The catalogue is empty (no sync yet)", body = V31Error),
    ))]
pub async fn all(State(app): State<AppState>, q: V31Query) -> Result<Response, V31Fail> {
    let params = query(q)?;
    let s = snapshot(&app).await?;
    answer(&s, &matching::all(&s), &params)
}

/// Independent countries (`status=false`: the others).
#[utoipa::path(get, path = "/v3.1/independent", tag = "v3.1",
    params(("status" = Option<bool>, Query, description = "`true` (default) or `false`"),
           ("fields" = Option<String>, Query, description = "Comma-separated top-level fields; unknown names are ignored")),
    responses(
        (status = 200, description = "The countries", body = Vec<CountryV31>),
        (status = 400, description = "`status` is not a boolean", body = V31Error),
        (status = 404, description = "None matched", body = V31Error),
    ))]
pub async fn independent(State(app): State<AppState>, q: V31Query) -> Result<Response, V31Fail> {
    let params = query(q)?;
    let status = match params
        .get("status")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(V31Fail::BadRequest),
    };
    let s = snapshot(&app).await?;
    answer(&s, &matching::independent(&s, status), &params)
}

/// Anything else under `/v3.1/`: v3.1's 404.
pub async fn no_route() -> V31Fail {
    V31Fail::NotFound
}
