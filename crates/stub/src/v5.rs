//! The v5 view: each v3.1 document as the live v5 API shapes it (see `shared/upstream/rest-countries-v5.md`),
//! served behind the bearer key at `GET /countries/v5/codes.alpha_2/{code}` in v5's envelope.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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

/// `GET /countries/v5/codes.alpha_2/{code}`: the lookup the v5 client makes.
pub(crate) async fn by_alpha_2(
    State(s): State<Arc<StubState>>,
    Path(code): Path<String>,
) -> Response {
    let found: Vec<Value> =
        s.v5.iter()
            .filter(|d| eq_ci(&d["codes"]["alpha_2"], &code))
            .cloned()
            .collect();
    if found.is_empty() {
        return error(StatusCode::NOT_FOUND, "No countries found.");
    }
    let total = found.len();
    envelope(found, total, 25, 0)
}

/// Builds the v5 document for one v3.1 document. Everything v3.1 has is carried over, so that mapping
/// the result back onto v3.1 loses nothing.
pub fn to_v5(d: &Value) -> Value {
    let name = &d["name"];
    let idd = &d["idd"];
    let root = idd["root"].as_str().unwrap_or_default();
    let calling_codes: Vec<String> = idd["suffixes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|s| format!("{root}{s}"))
        .collect();
    let capital_latlng = &d["capitalInfo"]["latlng"];
    let capitals: Vec<Value> = d["capital"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| {
            let mut cap = json!({"name": c, "attributes": {"primary": i == 0}});
            if i == 0 && capital_latlng.as_array().is_some_and(|a| a.len() == 2) {
                cap["coordinates"] = json!({"lat": capital_latlng[0], "lng": capital_latlng[1]});
            }
            cap
        })
        .collect();
    let currencies: Vec<Value> = d["currencies"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(code, c)| json!({"code": code, "name": c["name"], "symbol": c["symbol"]}))
        .collect();
    let languages: Vec<Value> = d["languages"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(code, n)| json!({"iso639_3": code, "name": n}))
        .collect();
    let latlng = &d["latlng"];
    let coordinates = if latlng.as_array().is_some_and(|a| a.len() == 2) {
        json!({"lat": latlng[0], "lng": latlng[1]})
    } else {
        json!({})
    };
    let area_km = d["area"].as_f64().unwrap_or_default();
    let str_or_empty = |v: &Value| json!(v.as_str().unwrap_or_default());
    let mut flag = Map::new();
    flag.insert("emoji".into(), d["flag"].clone());
    for (to, from) in [
        ("url_png", "png"),
        ("url_svg", "svg"),
        ("description", "alt"),
    ] {
        if let Some(s) = d["flags"][from].as_str() {
            flag.insert(to.into(), json!(s));
        }
    }
    json!({
        "names": {
            "common": name["common"],
            "official": name["official"],
            "alternates": d["altSpellings"],
            "native": name["nativeName"],
            "translations": d["translations"],
        },
        "codes": {
            "alpha_2": d["cca2"],
            "alpha_3": d["cca3"],
            "ccn3": str_or_empty(&d["ccn3"]),
            "cioc": str_or_empty(&d["cioc"]),
            "fifa": str_or_empty(&d["fifa"]),
            "fips": "",
            "gec": "",
        },
        "capitals": capitals,
        "flag": flag,
        "region": d["region"],
        "subregion": str_or_empty(&d["subregion"]),
        "continents": d["continents"],
        "area": {"kilometers": d["area"], "miles": (area_km / 2.589_988).round()},
        "coordinates": coordinates,
        "landlocked": d["landlocked"],
        "borders": d["borders"],
        "calling_codes": calling_codes,
        "tlds": d["tld"],
        "timezones": d["timezones"],
        "cars": {"driving_side": d["car"]["side"], "signs": d["car"]["signs"]},
        "classification": {
            "sovereign": d["independent"],
            "un_member": d["unMember"],
            "iso_status": d["status"],
        },
        "currencies": currencies,
        "languages": languages,
        "demonyms": d["demonyms"],
        "economy": {"gini_coefficient": d["gini"]},
        "date": {"start_of_week": d["startOfWeek"]},
        "links": {
            "google_maps": d["maps"]["googleMaps"],
            "open_street_maps": d["maps"]["openStreetMaps"],
        },
        "postal_code": {"format": d["postalCode"]["format"], "regex": d["postalCode"]["regex"]},
        "population": d["population"],
        "assets": {"coat_of_arms": d["coatOfArms"]},
        "leaders": {"notice": "Upgrade to a paid plan to see leaders."},
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use countries_core::country::from_v31;
    use countries_core::dataset;
    use countries_core::v5::from_v5;

    /// v3.1 → v5 view → the service's mapping back to v3.1 keeps every field both shapes carry.
    #[test]
    fn round_trip_over_the_whole_data_set() {
        let docs = dataset::documents();
        assert_eq!(docs.len(), 250);
        let mut failures = Vec::new();
        for d in &docs {
            let expected = from_v31(d);
            let back = from_v5(&to_v5(d));
            for (key, want) in expected.as_object().unwrap() {
                let got = &back[key.as_str()];
                if !same(got, want) {
                    failures.push(format!("{} {key}: {got} != {want}", d["cca2"]));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} differences:\n{}",
            failures.len(),
            failures[..failures.len().min(30)].join("\n")
        );
    }

    /// Equal as JSON, numbers compared by value (`180` and `180.0` are the same area), and an empty value
    /// (`""`, `[]`, `{}`, `null`) the same as none: the data file writes `{"png": "", "svg": ""}` for a
    /// missing coat of arms where the mapping writes `{}`.
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys = x.keys().chain(y.keys());
                keys.into_iter().all(|k| {
                    let (v, w) = (
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                    );
                    (empty(v) && empty(w)) || same(v, w)
                })
            }
            (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            _ => a == b || (empty(a) && empty(b)),
        }
    }

    fn empty(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.values().all(empty),
            _ => false,
        }
    }
}
