//! The v5 view: each v3.1 document as the live v5 API shapes it (see `shared/upstream/rest-countries-v5.md`),
//! served behind the bearer key at `GET /countries/v5/codes.alpha_2/{code}` in v5's envelope.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{StubState, eq_ci};

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"errors": [{"message": message}]}))).into_response()
}

pub(crate) async fn require_key(
    State(s): State<Arc<StubState>>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    let Some(key) = &s.api_key else {
        return next.run(req).await;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(g) if g == key => next.run(req).await,
        Some(_) => error(StatusCode::UNAUTHORIZED, "Invalid API key."),
        None => error(StatusCode::UNAUTHORIZED, "Authorization key required."),
    }
}

fn envelope(objects: Vec<Value>, total: usize, limit: usize, offset: usize) -> Response {
    let count = objects.len();
    Json(json!({
        "data": {
            "objects": objects,
            "meta": {
                "total": total, "count": count, "limit": limit, "offset": offset,
                "more": offset + count < total, "request_id": "stub", "duration": 0.1
            }
        }
    }))
    .into_response()
}

/// `GET /countries/v5/{property}/{value}`: a lookup by code or exact common name, case-insensitive; an
/// unknown property is v5's 404 in its envelope, a value that matches nothing too ("No countries found.").
pub(crate) async fn lookup(
    State(s): State<Arc<StubState>>,
    Path((property, value)): Path<(String, String)>,
) -> Response {
    let field: fn(&Value) -> &Value = match property.as_str() {
        "codes.alpha_2" => |d| &d["codes"]["alpha_2"],
        "codes.alpha_3" => |d| &d["codes"]["alpha_3"],
        "codes.ccn3" => |d| &d["codes"]["ccn3"],
        "codes.cioc" => |d| &d["codes"]["cioc"],
        "names.common" => |d| &d["names"]["common"],
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                &format!("Unknown property `{property}`."),
            );
        }
    };
    let found: Vec<Value> =
        s.v5.iter()
            .filter(|d| eq_ci(field(d), &value))
            .cloned()
            .collect();
    if found.is_empty() {
        return error(StatusCode::NOT_FOUND, "No countries found.");
    }
    let total = found.len();
    envelope(found, total, 25, 0)
}

#[derive(Deserialize)]
pub(crate) struct Page {
    limit: Option<String>,
    offset: Option<String>,
}

/// `GET /countries/v5?limit=&offset=`: the whole catalogue, a page at a time (`limit` 1 to 100 on the
/// free plan, default 25).
pub(crate) async fn list(State(s): State<Arc<StubState>>, Query(page): Query<Page>) -> Response {
    let number = |v: &Option<String>, default: usize| match v {
        None => Some(default),
        Some(v) => v.parse::<usize>().ok(),
    };
    let (Some(limit), Some(offset)) = (number(&page.limit, 25), number(&page.offset, 0)) else {
        return error(
            StatusCode::BAD_REQUEST,
            "`limit` and `offset` must be whole numbers.",
        );
    };
    if !(1..=100).contains(&limit) {
        return error(
            StatusCode::BAD_REQUEST,
            "`limit` must be from 1 to 100 on this plan.",
        );
    }
    let objects = s.v5.iter().skip(offset).take(limit).cloned().collect();
    envelope(objects, s.v5.len(), limit, offset)
}

/// v5 answers every method but GET with 405 in its envelope.
pub(crate) async fn method_not_allowed() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed.")
}

/// v3.1's translation keys where v5 uses another: v5 keys Persian by ISO 639-3 `fas`.
const TRANSLATION_KEYS: [(&str, &str); 1] = [("per", "fas")];

/// v3.1's status vocabulary against v5's `classification.iso_status`.
const ISO_STATUS: [(&str, &str); 2] = [
    ("officially-assigned", "official"),
    ("user-assigned", "user_assigned"),
];

/// The sovereign state of a few dependencies, as v5's `parent` names it (v3.1 has no such field).
const PARENTS: [(&str, &str, &str); 6] = [
    ("PR", "US", "USA"),
    ("GU", "US", "USA"),
    ("GL", "DK", "DNK"),
    ("FO", "DK", "DNK"),
    ("SH", "GB", "GBR"),
    ("BM", "GB", "GBR"),
];

fn text(v: &Value) -> Value {
    json!(v.as_str().unwrap_or_default())
}

fn lat_lng(v: &Value) -> Value {
    match v.as_array().map(Vec::as_slice) {
        Some([lat, lng]) => json!({"lat": lat, "lng": lng}),
        _ => json!({"lat": 0, "lng": 0}),
    }
}

fn renamed_keys(v: &Value, renames: &[(&str, &str)]) -> Value {
    let map: Map<String, Value> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let key = renames
                .iter()
                .find(|(from, _)| from == k)
                .map_or(k.as_str(), |(_, to)| to);
            (key.to_string(), v.clone())
        })
        .collect();
    Value::Object(map)
}

/// The emoji's code points, as v5's `unicode` (`U+1F1F5 U+1F1FE`) and `html_entity` (`&#127477;&#127486;`).
fn code_points(emoji: &str) -> (String, String) {
    let points: Vec<u32> = emoji.chars().map(u32::from).collect();
    let unicode = points
        .iter()
        .map(|p| format!("U+{p:X}"))
        .collect::<Vec<_>>();
    let html: String = points.iter().map(|p| format!("&#{p};")).collect();
    (unicode.join(" "), html)
}

/// Builds the v5 document for one v3.1 document, in the live API's shape: every key of the strict schema
/// (`schema/v5-country.json`), v5's vocabulary (`iso_status`, translation keys, calling codes as whole
/// numbers, capitals with attributes), and values v3.1 does not have filled as the free plan shows them
/// (`leaders` an upgrade notice) or left empty. Everything v3.1 has is carried over, so the service's
/// mapping back loses nothing.
pub fn to_v5(d: &Value) -> Value {
    let name = &d["name"];
    let code = d["cca2"].as_str().unwrap_or_default();
    let idd = &d["idd"];
    let root = idd["root"].as_str().unwrap_or_default();
    let calling_codes: Vec<String> = idd["suffixes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| format!("{root}{s}"))
        .collect();
    // v3.1 gives one position, its first capital's: that one is v5's primary capital. The others are
    // listed first, so that a mapping that takes the first capital's position is caught.
    let capital_names: Vec<&Value> = d["capital"].as_array().into_iter().flatten().collect();
    let capital = |c: &Value, primary: bool| {
        json!({
            "name": c,
            "coordinates": lat_lng(match &d["capitalInfo"]["latlng"] {
                Value::Array(ll) if primary && ll.len() == 2 => &d["capitalInfo"]["latlng"],
                _ => &d["latlng"],
            }),
            "attributes": {
                "administrative": primary, "constitutional": primary, "executive": primary,
                "judicial": false, "legislative": primary, "primary": primary,
            },
        })
    };
    let mut capitals: Vec<Value> = capital_names
        .iter()
        .skip(1)
        .map(|c| capital(c, false))
        .collect();
    capitals.extend(capital_names.first().map(|c| capital(c, true)));
    let currencies: Vec<Value> = d["currencies"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(code, c)| json!({"code": code, "name": text(&c["name"]), "symbol": text(&c["symbol"])}))
        .collect();
    let languages: Vec<Value> = d["languages"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(code, n)| {
            json!({"bcp47": "", "iso639_1": "", "iso639_2b": code, "iso639_2t": code, "iso639_3": code,
                   "name": n, "native_name": n})
        })
        .collect();
    let status = d["status"].as_str().unwrap_or_default();
    let iso_status = ISO_STATUS
        .iter()
        .find(|(v31, _)| *v31 == status)
        .map_or(status, |(_, v5)| v5);
    let sovereign = d["independent"].as_bool().unwrap_or_default();
    let parent = PARENTS.iter().find(|(c, _, _)| *c == code);
    let coat = &d["coatOfArms"];
    let assets: Vec<&Value> = [&coat["svg"], &coat["png"]]
        .into_iter()
        .filter(|u| u.as_str().is_some_and(|u| !u.is_empty()))
        .collect();
    let emoji = d["flag"].as_str().unwrap_or_default();
    let (unicode, html_entity) = code_points(emoji);
    let area_km = d["area"].as_f64().unwrap_or_default();
    let imperial = ["US", "LR", "MM"].contains(&code);
    let un_observer = ["VA", "PS"].contains(&code);
    let day_month = json!({"day": 1, "month": 1});
    json!({
        "names": {
            "common": name["common"],
            "official": name["official"],
            "alternates": d["altSpellings"],
            "native": name["nativeName"],
            "translations": renamed_keys(&d["translations"], &TRANSLATION_KEYS),
        },
        "codes": {
            "alpha_2": d["cca2"],
            "alpha_3": d["cca3"],
            "ccn3": text(&d["ccn3"]),
            "cioc": text(&d["cioc"]),
            "fifa": text(&d["fifa"]),
            "fips": "",
            "gec": "",
        },
        "capitals": capitals,
        "flag": {
            "colors": {
                "dominant": "", "prominent": "", "palette": [],
                "swatches": {"vibrant": null, "muted": null, "dark_vibrant": null, "dark_muted": null,
                             "light_vibrant": null, "light_muted": null},
            },
            "description": text(&d["flags"]["alt"]),
            "emoji": emoji,
            "html_entity": html_entity,
            "unicode": unicode,
            "url_png": text(&d["flags"]["png"]),
            "url_svg": text(&d["flags"]["svg"]),
        },
        "region": d["region"],
        "subregion": text(&d["subregion"]),
        "area": {"kilometers": d["area"], "miles": (area_km / 2.589_988).round()},
        "assets": assets,
        "borders": d["borders"],
        "calling_codes": calling_codes,
        "cars": {"driving_side": d["car"]["side"], "signs": d["car"]["signs"]},
        "classification": {
            "dependency": !sovereign && code != "AQ",
            "dependency_type": if !sovereign && code != "AQ" { "territory" } else { "" },
            "disputed": iso_status == "user_assigned",
            "iso_status": iso_status,
            "sovereign": sovereign,
            "un_member": d["unMember"],
            "un_observer": un_observer,
        },
        "continents": d["continents"],
        "coordinates": lat_lng(&d["latlng"]),
        "currencies": currencies,
        "date": {
            "academic_year_start": {"day": 1, "month": 9},
            "fiscal_year_start": {
                "corporate": {"basis": "calendar", "day": 1, "month": 1},
                "government": day_month,
                "personal": day_month,
            },
            "start_of_week": d["startOfWeek"],
        },
        "demonyms": d["demonyms"],
        "economy": {"gini_coefficient": d["gini"]},
        "government_type": "",
        "landlocked": d["landlocked"],
        "languages": languages,
        "leaders": [{"message": "Leaders are available on paid plans.", "sample": "https://restcountries.com/pricing"}],
        "links": {
            "google_maps": text(&d["maps"]["googleMaps"]),
            "official": "",
            "open_street_maps": text(&d["maps"]["openStreetMaps"]),
            "wikipedia": "",
        },
        "memberships": {
            "african_union": false, "arab_league": false, "asean": false, "brics": false,
            "commonwealth": false, "eu": false, "eurozone": false, "g20": false, "g7": false,
            "nato": false, "oecd": false, "opec": false, "schengen": false, "un": d["unMember"],
        },
        "units": {
            "measurement_system": if imperial { "imperial" } else { "metric" },
            "temperature_scale": if code == "US" { "Fahrenheit" } else { "Celsius" },
        },
        "number_format": {"decimal_separator": ".", "thousands_separator": ","},
        "parent": {
            "alpha_2": parent.map_or("", |p| p.1),
            "alpha_3": parent.map_or("", |p| p.2),
        },
        "population": d["population"],
        "postal_code": {"format": text(&d["postalCode"]["format"]), "regex": text(&d["postalCode"]["regex"])},
        "timezones": d["timezones"],
        "tlds": d["tld"],
        "uuid": format!("00000000-0000-4000-8000-0000000000{}", hex(code)),
    })
}

/// Two letters as four hex digits: a stable, unique tail for the stand-in's uuids.
fn hex(code: &str) -> String {
    code.bytes().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use countries_core::dataset;

    /// The stand-in's documents are complete v5 documents: the strict schema (every key, no other)
    /// accepts each of the 250.
    #[test]
    fn every_document_passes_the_strict_v5_schema() {
        let schema: Value =
            serde_json::from_str(include_str!("../schema/v5-country.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
        let mut failures = Vec::new();
        for d in dataset::documents() {
            let v5 = to_v5(&d);
            for e in validator.iter_errors(&v5) {
                failures.push(format!("{} {}: {e}", d["cca2"], e.instance_path()));
            }
        }
        assert!(
            failures.is_empty(),
            "{}",
            failures[..failures.len().min(20)].join("\n")
        );
        // And the schema is strict: an unknown key or a missing one is refused.
        let mut py = to_v5(&dataset::documents()[0]);
        py["leaders_count"] = json!(1);
        assert!(!validator.is_valid(&py));
        py.as_object_mut().unwrap().remove("leaders_count");
        py.as_object_mut().unwrap().remove("parent");
        assert!(!validator.is_valid(&py));
    }

    fn v5_of(code: &str) -> Value {
        let d = dataset::documents()
            .into_iter()
            .find(|d| d["cca2"] == code)
            .unwrap();
        to_v5(&d)
    }

    /// The documents the mapping is tested on (`countries_upstream::v5::document`) carry v5's
    /// conventions where they differ from v3.1's, for a plain sovereign state, a dependency with a
    /// parent, a user-assigned code, a place with no capital, currency or language, and a country with
    /// several capitals.
    #[test]
    fn the_five_kinds_of_country_carry_v5_s_conventions() {
        let py = v5_of("PY");
        assert_eq!(py["classification"]["iso_status"], "official");
        assert!(py["names"]["translations"]["fas"].is_object());
        assert!(py["names"]["translations"].get("per").is_none());
        assert_eq!(py["calling_codes"], json!(["+595"]));
        let pr = v5_of("PR");
        assert_eq!(pr["parent"], json!({"alpha_2": "US", "alpha_3": "USA"}));
        assert_eq!(pr["classification"]["dependency"], true);
        assert_eq!(pr["calling_codes"], json!(["+1787", "+1939"]));
        let xk = v5_of("XK");
        assert_eq!(xk["classification"]["iso_status"], "user_assigned");
        assert_eq!(xk["codes"]["ccn3"], "");
        let aq = v5_of("AQ");
        assert_eq!(
            (aq["capitals"].clone(), aq["currencies"].clone()),
            (json!([]), json!([]))
        );
        assert_eq!(aq["languages"], json!([]));
        let za = v5_of("ZA");
        assert_eq!(
            za["capitals"][0]["attributes"]["primary"], false,
            "the primary is not first"
        );
        assert_eq!(za["capitals"][2]["name"], "Pretoria");
    }
}
