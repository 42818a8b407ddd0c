//! The mapping of a REST Countries v5 document onto the v3.1 shape the service serves, field by field
//! (the rules, with what is served where v5 has nothing, are the table in docs/api.md). Lenient: a
//! missing field becomes v3.1's empty value, and shapes published examples disagree on (lists or maps
//! keyed by code) are both read.

use std::collections::BTreeSet;
use std::sync::Mutex;

use serde_json::{Map, Value, json};
use tracing::warn;

use crate::country::from_v31;

/// v5's `classification.iso_status` in v3.1's `status` vocabulary.
const ISO_STATUS: [(&str, &str); 2] = [
    ("official", "officially-assigned"),
    ("user_assigned", "user-assigned"),
];

/// v3.1's translation keys; v5 keys Persian `fas` where v3.1 said `per`.
const V31_TRANSLATIONS: [&str; 26] = [
    "ara", "bre", "ces", "cym", "deu", "est", "fin", "fra", "hrv", "hun", "ind", "ita", "jpn",
    "kor", "nld", "per", "pol", "por", "rus", "slk", "spa", "srp", "swe", "tur", "urd", "zho",
];
const TRANSLATION_RENAMES: [(&str, &str); 1] = [("fas", "per")];

/// An `iso_status` this mapping does not know is served as v5 sent it, and logged once per value.
fn status(iso_status: &Value) -> Value {
    let Some(s) = iso_status.as_str() else {
        return Value::Null;
    };
    if let Some((_, v31)) = ISO_STATUS.iter().find(|(v5, _)| *v5 == s) {
        return json!(v31);
    }
    static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    if SEEN.lock().unwrap().insert(s.to_string()) {
        warn!(iso_status = s, "unknown v5 iso_status: served as is");
    }
    json!(s)
}

/// Maps a REST Countries v5 document onto the v3.1 shape.
pub fn from_v5(v5: &Value) -> Value {
    let names = &v5["names"];
    let codes = &v5["codes"];
    let class = &v5["classification"];
    let flag = &v5["flag"];
    let links = &v5["links"];

    let capitals = primary_first(list_or_map_values(&v5["capitals"]));
    let capital: Vec<Value> = capitals
        .iter()
        .filter_map(|c| match c {
            Value::String(s) => Some(json!(s)),
            other => other.get("name").filter(|n| n.is_string()).cloned(),
        })
        .collect();
    let capital_info = capitals
        .first()
        .and_then(|c| latlng(&c["coordinates"]))
        .map(|ll| json!({"latlng": ll}))
        .unwrap_or_else(|| json!({}));

    let currencies: Map<String, Value> = keyed_entries(&v5["currencies"], "code")
        .into_iter()
        .map(|(code, c)| {
            let mut m = Map::new();
            copy_str(&c, "name", &mut m, "name");
            copy_str(&c, "symbol", &mut m, "symbol");
            (code, Value::Object(m))
        })
        .collect();
    let languages: Map<String, Value> = keyed_entries(&v5["languages"], "iso639_3")
        .into_iter()
        .filter_map(|(code, l)| match l {
            Value::String(name) => Some((code, json!(name))),
            other => other.get("name").cloned().map(|n| (code, n)),
        })
        .collect();
    let cars = &v5["cars"];
    let mut car = Map::new();
    car.insert("signs".into(), json!(strings(&cars["signs"])));
    if let Some(side) = cars["driving_side"].as_str() {
        car.insert("side".into(), json!(side));
    }
    let postal = &v5["postal_code"];
    let mut name = Map::new();
    copy_str(names, "common", &mut name, "common");
    copy_str(names, "official", &mut name, "official");
    name.insert("nativeName".into(), name_pairs(&names["native"]));

    let raw31 = json!({
        "name": name,
        "tld": strings(&v5["tlds"]),
        "cca2": codes["alpha_2"],
        "ccn3": codes["ccn3"],
        "cca3": codes["alpha_3"],
        "cioc": codes["cioc"],
        "fifa": codes["fifa"],
        "independent": class["sovereign"],
        "status": status(&class["iso_status"]),
        "unMember": class["un_member"],
        "currencies": currencies,
        "idd": idd(&strings(&v5["calling_codes"])),
        "capital": capital,
        "capitalInfo": capital_info,
        "altSpellings": strings(&names["alternates"]),
        "region": v5["region"],
        "subregion": v5["subregion"],
        "continents": strings(&v5["continents"]),
        "languages": languages,
        "translations": translations(&names["translations"]),
        "latlng": latlng(&v5["coordinates"]).unwrap_or_else(|| json!([])),
        "landlocked": v5["landlocked"],
        "borders": strings(&v5["borders"]),
        "area": number(&v5["area"]["kilometers"]).or_else(|| number(&v5["area"])),
        "flag": flag["emoji"].as_str().or(flag.as_str()),
        "demonyms": demonyms(&v5["demonyms"]),
        "flags": object_from(&[
            ("svg", &flag["url_svg"]),
            ("png", &flag["url_png"]),
            ("alt", &flag["description"]),
        ]),
        "coatOfArms": coat_of_arms(&v5["assets"]),
        "population": number(&v5["population"]),
        "maps": object_from(&[
            ("googleMaps", &links["google_maps"]),
            ("openStreetMaps", &links["open_street_maps"]),
        ]),
        "gini": number_map(&v5["economy"]["gini_coefficient"]),
        "car": car,
        "postalCode": {
            "format": non_empty_str(&postal["format"]),
            "regex": non_empty_str(&postal["regex"]),
        },
        "startOfWeek": v5["date"]["start_of_week"],
        "timezones": strings(&v5["timezones"]),
    });
    from_v31(&raw31)
}

/// v3.1 split a calling code after its first digit: `+1` with the area codes as suffixes (`201`, ...),
/// `+7` with `3`, `4`, ...; `+44` is root `+4`, suffix `4`. A code that is only the root (`+1` for
/// Canada) has the suffix `""`. No calling code: `{"root": "", "suffixes": []}`, as v3.1 served it.
fn idd(calling_codes: &[String]) -> Value {
    let Some(first) = calling_codes.first().filter(|c| c.len() >= 2) else {
        return json!({"root": "", "suffixes": []});
    };
    let root: String = first.chars().take(2).collect();
    let suffixes: Vec<&str> = calling_codes
        .iter()
        .filter_map(|c| c.strip_prefix(root.as_str()))
        .collect();
    json!({"root": root, "suffixes": suffixes})
}

/// v3.1 listed the primary capital first, and `capitalInfo` is its position.
fn primary_first(mut capitals: Vec<Value>) -> Vec<Value> {
    if let Some(i) = capitals
        .iter()
        .position(|c| c["attributes"]["primary"] == json!(true))
    {
        let primary = capitals.remove(i);
        capitals.insert(0, primary);
    }
    capitals
}

/// Under v3.1's keys (`per` for v5's `fas`); languages v3.1 never had are left to the v5 form.
fn translations(v: &Value) -> Value {
    let map: Map<String, Value> = name_pairs(v)
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, pair)| {
            let key = TRANSLATION_RENAMES
                .iter()
                .find(|(v5, _)| v5 == k)
                .map_or(k.as_str(), |(_, v31)| v31);
            (key.to_string(), pair.clone())
        })
        .filter(|(k, _)| V31_TRANSLATIONS.contains(&k.as_str()))
        .collect();
    Value::Object(map)
}

/// The coat of arms among v5's asset URLs (`.svg` and `.png`); `{}` when it carries none.
fn coat_of_arms(assets: &Value) -> Value {
    let urls = strings(assets);
    let find = |ext: &str| {
        urls.iter()
            .find(|u| u.to_ascii_lowercase().contains("coat") && u.ends_with(ext))
            .map(|u| json!(u))
    };
    let mut m = Map::new();
    for (key, ext) in [("svg", ".svg"), ("png", ".png")] {
        if let Some(url) = find(ext) {
            m.insert(key.into(), url);
        }
    }
    Value::Object(m)
}

/// Strings of a list; anything else (or a non-string element) is left out.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Value::String(s) if !s.is_empty() => vec![s.clone()],
        _ => vec![],
    }
}

fn non_empty_str(v: &Value) -> Value {
    match v.as_str() {
        Some(s) if !s.is_empty() => json!(s),
        _ => Value::Null,
    }
}

/// A number as given (integer or float), or a numeric string.
fn number(v: &Value) -> Option<Value> {
    match v {
        Value::Number(_) => Some(v.clone()),
        Value::String(s) => s
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| s.parse::<f64>().map(Value::from))
            .ok(),
        _ => None,
    }
}

fn number_map(v: &Value) -> Value {
    let map: Map<String, Value> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, n)| number(n).map(|n| (k.clone(), n)))
        .collect();
    Value::Object(map)
}

/// `{lat, lng}` (or `[lat, lng]`) as v3.1's `[lat, lng]`.
fn latlng(v: &Value) -> Option<Value> {
    match v {
        Value::Array(a) if a.len() == 2 => Some(v.clone()),
        Value::Object(o) => {
            let lat = number(o.get("lat").or(o.get("latitude"))?)?;
            let lng = number(o.get("lng").or(o.get("longitude"))?)?;
            Some(json!([lat, lng]))
        }
        _ => None,
    }
}

fn list_or_map_values(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => o.values().cloned().collect(),
        Value::String(_) => vec![v.clone()],
        _ => vec![],
    }
}

/// Entries keyed by code: from a list of objects carrying `key_field`, or from a map keyed by code.
fn keyed_entries(v: &Value, key_field: &str) -> Vec<(String, Value)> {
    match v {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| Some((i.get(key_field)?.as_str()?.to_string(), i.clone())))
            .collect(),
        Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        _ => vec![],
    }
}

fn copy_str(from: &Value, key: &str, to: &mut Map<String, Value>, as_key: &str) {
    if let Some(s) = from.get(key).and_then(Value::as_str) {
        to.insert(as_key.to_string(), json!(s));
    }
}

/// An object of the given keys whose values are non-empty strings.
fn object_from(pairs: &[(&str, &Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        if let Some(s) = v.as_str().filter(|s| !s.is_empty()) {
            m.insert(k.to_string(), json!(s));
        }
    }
    Value::Object(m)
}

/// `{lang: {common, official}}`, keeping only the two name strings.
fn name_pairs(v: &Value) -> Value {
    let map: Map<String, Value> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(lang, pair)| {
            let mut m = Map::new();
            copy_str(pair, "official", &mut m, "official");
            copy_str(pair, "common", &mut m, "common");
            (lang.clone(), Value::Object(m))
        })
        .collect();
    Value::Object(map)
}

fn demonyms(v: &Value) -> Value {
    let map: Map<String, Value> = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(lang, fm)| {
            let mut m = Map::new();
            copy_str(fm, "f", &mut m, "f");
            copy_str(fm, "m", &mut m, "m");
            (lang.clone(), Value::Object(m))
        })
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v5_mapping_is_lenient_about_shapes() {
        let v5 = json!({
            "names": {"common": "Paraguay", "official": "Republic of Paraguay", "alternates": ["PY"]},
            "codes": {"alpha_2": "PY", "alpha_3": "PRY", "ccn3": "600", "cioc": "PAR"},
            "currencies": {"PYG": {"name": "Paraguayan guaraní", "symbol": "₲"}},
            "languages": [{"iso639_3": "grn", "name": "Guaraní"}],
            "capitals": [{"name": "Asunción", "coordinates": {"lat": -25.28, "lng": "-57.57"}}],
            "calling_codes": ["+595"],
            "area": {"kilometers": 406752.0},
            "population": "7132530",
            "flag": "🇵🇾",
            "_match": {"score": 1}
        });
        let doc = from_v5(&v5);
        assert_eq!(doc["currencies"]["PYG"]["symbol"], "₲");
        assert_eq!(doc["languages"]["grn"], "Guaraní");
        assert_eq!(doc["capital"], json!(["Asunción"]));
        assert_eq!(doc["capitalInfo"]["latlng"], json!([-25.28, -57.57]));
        assert_eq!(doc["idd"], json!({"root": "+5", "suffixes": ["95"]}));
        assert_eq!(doc["area"], json!(406752.0));
        assert_eq!(doc["population"], json!(7132530));
        assert_eq!(doc["flag"], "🇵🇾");
        assert_eq!(doc.as_object().unwrap().len(), 35);
    }

    #[test]
    fn v5_mapping_of_nothing_is_an_empty_v31_document() {
        let doc = from_v5(&json!({}));
        assert_eq!(doc.as_object().unwrap().len(), 35);
        assert_eq!(doc["postalCode"], json!({"format": null, "regex": null}));
    }

    #[test]
    fn calling_codes_split_after_the_first_digit_as_v31_did() {
        let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            idd(&codes(&["+1201", "+1202"])),
            json!({"root": "+1", "suffixes": ["201", "202"]})
        );
        assert_eq!(
            idd(&codes(&["+44"])),
            json!({"root": "+4", "suffixes": ["4"]})
        );
        assert_eq!(
            idd(&codes(&["+1"])),
            json!({"root": "+1", "suffixes": [""]})
        );
        assert_eq!(idd(&[]), json!({"root": "", "suffixes": []}));
    }

    #[test]
    fn status_translations_capitals_and_coat_of_arms_in_v31_terms() {
        let doc = from_v5(&json!({
            "classification": {"iso_status": "user_assigned"},
            "names": {"translations": {
                "fas": {"official": "کوزوو", "common": "کوزوو"},
                "xyz": {"official": "x", "common": "x"},
            }},
            "capitals": [
                {"name": "Cape Town", "coordinates": {"lat": -33.9, "lng": 18.4}, "attributes": {"primary": false}},
                {"name": "Pretoria", "coordinates": {"lat": -25.7, "lng": 28.22}, "attributes": {"primary": true}},
            ],
            "assets": ["https://example.org/flags/za.svg", "https://example.org/coat_of_arms/za.svg"],
        }));
        assert_eq!(doc["status"], "user-assigned");
        assert_eq!(
            doc["translations"],
            json!({"per": {"official": "کوزوو", "common": "کوزوو"}})
        );
        assert_eq!(doc["capital"], json!(["Pretoria", "Cape Town"]));
        assert_eq!(doc["capitalInfo"], json!({"latlng": [-25.7, 28.22]}));
        assert_eq!(
            doc["coatOfArms"],
            json!({"svg": "https://example.org/coat_of_arms/za.svg"})
        );
        let unknown = from_v5(&json!({"classification": {"iso_status": "exceptionally_reserved"}}));
        assert_eq!(unknown["status"], "exceptionally_reserved");
        assert_eq!(from_v5(&json!({}))["coatOfArms"], json!({}));
    }
}
