//! v5's country document, as far as the service reads it, and its mapping onto the v3.1 shape served
//! (the rules, with what is served where v5 has nothing, are the table in docs/api.md).
//!
//! This is the one description of v5's document in production code: a document is read into these
//! types, or refused with the path of what does not fit. Every field the mapping reads must be there.
//! Where v5 is known to vary, or its published examples disagree, the types take each shape:
//!
//! - `names.native`, `names.translations`, `demonyms` and `economy.gini_coefficient` may come as `[]`
//!   when empty ([`Keyed`]);
//! - `currencies` and `languages` as a list of entries carrying their code, or as a map keyed by code
//!   ([`ByCode`]); `capitals` as a list, a map, or one name ([`Listed`]);
//! - numbers as numeric strings ([`Num`]); a position as `{lat, lng}`, `{latitude, longitude}` or
//!   `[lat, lng]`; `area` as a bare number, `flag` as the emoji alone, a capital or a language as its
//!   name alone ([`Or`]); a list of strings as one string ([`Strings`]).
//!
//! Keys the mapping does not read are ignored; they stay in the raw document, which is stored too.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Mutex;

use countries_core::country::from_v31;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use tracing::warn;

use super::shapes::{ByCode, Coded, Keyed, Listed, Num, Or, Strings};

/// A v5 country document.
#[derive(Deserialize)]
pub struct Document {
    names: Names,
    codes: Codes,
    capitals: Listed<Capital>,
    flag: Or<Flag, String>,
    region: String,
    subregion: String,
    area: Or<Area, Num>,
    assets: Strings,
    borders: Strings,
    calling_codes: Strings,
    cars: Cars,
    classification: Classification,
    continents: Strings,
    coordinates: LatLng,
    currencies: ByCode<Currency>,
    date: Date,
    demonyms: Keyed<Demonym>,
    economy: Economy,
    landlocked: bool,
    languages: ByCode<Language>,
    links: Links,
    population: Num,
    postal_code: PostalCode,
    timezones: Strings,
    tlds: Strings,
}

/// Why a document was refused, at the path of the first value that does not fit (`.` for the
/// document itself, as in "missing field `assets`").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unfit {
    path: String,
    reason: String,
}

impl fmt::Display for Unfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.reason)
    }
}

#[derive(Deserialize)]
struct Names {
    common: String,
    official: String,
    alternates: Strings,
    native: Keyed<Localized>,
    translations: Keyed<Localized>,
}

#[derive(Deserialize)]
struct Localized {
    common: String,
    official: String,
}

#[derive(Deserialize)]
struct Codes {
    alpha_2: String,
    alpha_3: String,
    ccn3: String,
    cioc: String,
    fifa: String,
}

type Capital = Or<CapitalDetails, String>;

#[derive(Deserialize)]
struct CapitalDetails {
    name: String,
    coordinates: LatLng,
    attributes: CapitalAttributes,
}

#[derive(Deserialize)]
struct CapitalAttributes {
    primary: bool,
}

type LatLng = Or<Position, [Num; 2]>;

#[derive(Deserialize)]
struct Position {
    #[serde(alias = "latitude")]
    lat: Num,
    #[serde(alias = "longitude")]
    lng: Num,
}

#[derive(Deserialize)]
struct Flag {
    description: String,
    emoji: String,
    url_png: String,
    url_svg: String,
}

#[derive(Deserialize)]
struct Area {
    kilometers: Num,
}

#[derive(Deserialize)]
struct Cars {
    driving_side: String,
    signs: Strings,
}

#[derive(Deserialize)]
struct Classification {
    iso_status: String,
    sovereign: bool,
    un_member: bool,
}

#[derive(Deserialize)]
struct Currency {
    /// In a list; in a map keyed by code, the key.
    #[serde(default)]
    code: Option<String>,
    name: String,
    symbol: String,
}

type Language = Or<LanguageDetails, String>;

#[derive(Deserialize)]
struct LanguageDetails {
    /// In a list; in a map keyed by code, the key.
    #[serde(default)]
    iso639_3: Option<String>,
    name: String,
}

#[derive(Deserialize)]
struct Date {
    start_of_week: String,
}

#[derive(Deserialize)]
struct Demonym {
    f: String,
    m: String,
}

#[derive(Deserialize)]
struct Economy {
    gini_coefficient: Keyed<Num>,
}

#[derive(Deserialize)]
struct Links {
    google_maps: String,
    open_street_maps: String,
}

#[derive(Deserialize)]
struct PostalCode {
    format: String,
    regex: String,
}

impl Coded for Currency {
    const KEY: &'static str = "code";
    fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
}

impl Coded for Language {
    const KEY: &'static str = "iso639_3";
    fn code(&self) -> Option<&str> {
        match self {
            Or::Full(l) => l.iso639_3.as_deref(),
            Or::Short(_) => None,
        }
    }
}

impl Document {
    /// Reads a raw v5 document (search annotations such as `_match` are ignored like any other key).
    pub fn read(raw: &Value) -> Result<Document, Unfit> {
        serde_path_to_error::deserialize(raw).map_err(|e| Unfit {
            path: e.path().to_string(),
            reason: e.inner().to_string(),
        })
    }

    /// The v3.1 document served for it, completed as [`from_v31`] completes any v3.1 document.
    pub fn to_v31(&self) -> Value {
        let names = &self.names;
        let codes = &self.codes;
        let class = &self.classification;
        let capitals = self.capitals.primary_first();
        let capital_info = match capitals.first() {
            Some(Or::Full(c)) => json!({"latlng": lat_lng(&c.coordinates)}),
            _ => json!({}),
        };
        let (emoji, flags) = match &self.flag {
            Or::Full(f) => (
                &f.emoji,
                non_empty_strings(&[
                    ("svg", &f.url_svg),
                    ("png", &f.url_png),
                    ("alt", &f.description),
                ]),
            ),
            Or::Short(emoji) => (emoji, json!({})),
        };
        let area = match &self.area {
            Or::Full(a) => &a.kilometers,
            Or::Short(km) => km,
        };
        let links = &self.links;
        let raw31 = json!({
            "name": {
                "common": names.common,
                "official": names.official,
                "nativeName": object_of(&names.native.0, name_pair),
            },
            "tld": self.tlds.0,
            "cca2": codes.alpha_2,
            "ccn3": codes.ccn3,
            "cca3": codes.alpha_3,
            "cioc": codes.cioc,
            "fifa": codes.fifa,
            "independent": class.sovereign,
            "status": status(&class.iso_status),
            "unMember": class.un_member,
            "currencies": object_of(&self.currencies.0, |c| {
                json!({"name": c.name, "symbol": c.symbol})
            }),
            "idd": idd(&self.calling_codes.0),
            "capital": capitals.iter().map(|c| c.name()).collect::<Vec<_>>(),
            "capitalInfo": capital_info,
            "altSpellings": names.alternates.0,
            "region": self.region,
            "subregion": self.subregion,
            "continents": self.continents.0,
            "languages": object_of(&self.languages.0, |l| json!(l.name())),
            "translations": translations(&names.translations),
            "latlng": lat_lng(&self.coordinates),
            "landlocked": self.landlocked,
            "borders": self.borders.0,
            "area": area.value(),
            "flag": emoji,
            "demonyms": object_of(&self.demonyms.0, |d| json!({"f": d.f, "m": d.m})),
            "flags": flags,
            "coatOfArms": coat_of_arms(&self.assets.0),
            "population": self.population.value(),
            "maps": non_empty_strings(&[
                ("googleMaps", &links.google_maps),
                ("openStreetMaps", &links.open_street_maps),
            ]),
            "gini": object_of(&self.economy.gini_coefficient.0, Num::value),
            "car": {"signs": self.cars.signs.0, "side": self.cars.driving_side},
            "postalCode": {
                "format": non_empty(&self.postal_code.format),
                "regex": non_empty(&self.postal_code.regex),
            },
            "startOfWeek": self.date.start_of_week,
            "timezones": self.timezones.0,
        });
        from_v31(&raw31)
    }
}

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
fn status(iso_status: &str) -> &str {
    if let Some((_, v31)) = ISO_STATUS.iter().find(|(v5, _)| *v5 == iso_status) {
        return v31;
    }
    static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    if SEEN.lock().unwrap().insert(iso_status.to_string()) {
        warn!(iso_status, "unknown v5 iso_status: served as is");
    }
    iso_status
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

impl Listed<Capital> {
    /// v3.1 listed the primary capital first, and `capitalInfo` is its position.
    fn primary_first(&self) -> Vec<&Capital> {
        let mut capitals: Vec<&Capital> = self.0.iter().collect();
        let primary = |c: &&Capital| matches!(c, Or::Full(c) if c.attributes.primary);
        if let Some(i) = capitals.iter().position(primary) {
            let primary = capitals.remove(i);
            capitals.insert(0, primary);
        }
        capitals
    }
}

impl Capital {
    fn name(&self) -> &str {
        match self {
            Or::Full(c) => &c.name,
            Or::Short(name) => name,
        }
    }
}

impl Language {
    fn name(&self) -> &str {
        match self {
            Or::Full(l) => &l.name,
            Or::Short(name) => name,
        }
    }
}

/// v3.1's `[lat, lng]`.
fn lat_lng(position: &LatLng) -> Value {
    let (lat, lng) = match position {
        Or::Full(p) => (&p.lat, &p.lng),
        Or::Short([lat, lng]) => (lat, lng),
    };
    json!([lat.value(), lng.value()])
}

/// Under v3.1's keys (`per` for v5's `fas`); languages v3.1 never had are left to the v5 form.
fn translations(names: &Keyed<Localized>) -> Value {
    let map: Map<String, Value> = names
        .0
        .iter()
        .map(|(lang, pair)| {
            let key = TRANSLATION_RENAMES
                .iter()
                .find(|(v5, _)| v5 == lang)
                .map_or(lang.as_str(), |(_, v31)| v31);
            (key.to_string(), name_pair(pair))
        })
        .filter(|(k, _)| V31_TRANSLATIONS.contains(&k.as_str()))
        .collect();
    Value::Object(map)
}

/// Entries by key, each in v3.1's form, in the document's order.
fn object_of<T>(entries: &[(String, T)], v31: impl Fn(&T) -> Value) -> Value {
    let map: Map<String, Value> = entries
        .iter()
        .map(|(key, entry)| (key.clone(), v31(entry)))
        .collect();
    Value::Object(map)
}

/// In v3.1's order, official first.
fn name_pair(pair: &Localized) -> Value {
    json!({"official": pair.official, "common": pair.common})
}

/// The coat of arms among v5's asset URLs (`.svg` and `.png`); `{}` when it carries none.
fn coat_of_arms(assets: &[String]) -> Value {
    let find = |ext: &str| {
        assets
            .iter()
            .find(|u| u.to_ascii_lowercase().contains("coat") && u.ends_with(ext))
    };
    let mut m = Map::new();
    for (key, ext) in [("svg", ".svg"), ("png", ".png")] {
        if let Some(url) = find(ext) {
            m.insert(key.into(), json!(url));
        }
    }
    Value::Object(m)
}

/// v3.1 has no `""` here: an empty value is `null`.
fn non_empty(s: &str) -> Value {
    match s {
        "" => Value::Null,
        s => json!(s),
    }
}

/// An object of the given keys whose values are not empty.
fn non_empty_strings(pairs: &[(&str, &String)]) -> Value {
    let map: Map<String, Value> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use countries_core::dataset;
    use countries_stub::v5::to_v5;

    fn mapped(v5: &Value) -> Value {
        Document::read(v5).unwrap().to_v31()
    }

    /// What is served, key order included: `Value`'s `==` ignores the order of keys.
    fn bytes(v: &Value) -> String {
        v.to_string()
    }

    fn v5_of(code: &str) -> Value {
        let d = dataset::documents()
            .into_iter()
            .find(|d| d["cca2"] == code)
            .unwrap();
        to_v5(&d)
    }

    fn refused(v5: &Value) -> String {
        match Document::read(v5) {
            Ok(_) => panic!("read"),
            Err(unfit) => unfit.to_string(),
        }
    }

    fn each(v: &mut Value, key: &str, f: impl Fn(&mut Value)) {
        for item in v[key].as_array_mut().into_iter().flatten() {
            f(item)
        }
    }

    fn as_string(n: &mut Value) {
        *n = json!(n.to_string());
    }

    fn keyed_by(v: &mut Value, key: &str, value: impl Fn(Value) -> Value) {
        let list = v.as_array().cloned().unwrap_or_default();
        *v = Value::Object(
            list.into_iter()
                .map(|e| (e[key].as_str().unwrap().to_string(), value(e)))
                .collect(),
        );
    }

    type Vary = fn(&mut Value);

    /// The other shapes v5 has been seen to send (or published examples show) for what the stand-in
    /// sends in the usual one, each carrying the same information.
    const VARIATIONS: [(&str, Vary); 9] = [
        ("currencies keyed by code", |v| {
            keyed_by(
                &mut v["currencies"],
                "code",
                |c| json!({"name": c["name"], "symbol": c["symbol"]}),
            )
        }),
        ("languages keyed by code, as names", |v| {
            keyed_by(&mut v["languages"], "iso639_3", |l| l["name"].clone())
        }),
        ("languages keyed by code, as objects", |v| {
            keyed_by(
                &mut v["languages"],
                "iso639_3",
                |l| json!({"name": l["name"]}),
            )
        }),
        ("capitals keyed by name", |v| {
            keyed_by(&mut v["capitals"], "name", |c| c)
        }),
        ("numbers as strings", |v| {
            as_string(&mut v["population"]);
            as_string(&mut v["area"]["kilometers"]);
            as_string(&mut v["coordinates"]["lat"]);
            as_string(&mut v["coordinates"]["lng"]);
            each(v, "capitals", |c| as_string(&mut c["coordinates"]["lat"]));
            for (_, n) in v["economy"]["gini_coefficient"].as_object_mut().unwrap() {
                as_string(n);
            }
        }),
        ("positions as [lat, lng]", |v| {
            let pair = |p: &mut Value| *p = json!([p["lat"], p["lng"]]);
            pair(&mut v["coordinates"]);
            each(v, "capitals", |c| pair(&mut c["coordinates"]));
        }),
        ("positions as latitude and longitude", |v| {
            let long = |p: &mut Value| *p = json!({"latitude": p["lat"], "longitude": p["lng"]});
            long(&mut v["coordinates"]);
            each(v, "capitals", |c| long(&mut c["coordinates"]));
        }),
        ("area as a bare number", |v| {
            v["area"] = v["area"]["kilometers"].clone()
        }),
        ("a list of one string as the string", |v| {
            for key in [
                "tlds",
                "borders",
                "timezones",
                "continents",
                "calling_codes",
            ] {
                if let Some([one]) = v[key].as_array().map(Vec::as_slice)
                    && one != ""
                {
                    v[key] = one.clone();
                }
            }
        }),
    ];

    /// Every country of the stand-in maps back to the bytes v3.1 served, but where v3.1 served an empty
    /// coat of arms (`{"png": "", "svg": ""}`) or capital position (`{"latlng": []}`): `{}` here, or
    /// the position v5 gives every capital (UM).
    #[test]
    fn the_stand_in_s_documents_map_back_to_what_v31_served() {
        let docs = dataset::documents();
        assert_eq!(docs.len(), 250);
        let mut differences = Vec::new();
        for d in &docs {
            let back = mapped(&to_v5(d));
            for (key, want) in from_v31(d).as_object().unwrap() {
                let got = &back[key.as_str()];
                let empty_in_v31 = matches!(key.as_str(), "coatOfArms" | "capitalInfo")
                    && want
                        .as_object()
                        .unwrap()
                        .values()
                        .all(|v| v == "" || v == &json!([]));
                if bytes(got) != bytes(want) && !empty_in_v31 {
                    differences.push(format!("{} {key}: {got} != {want}", d["cca2"]));
                }
            }
        }
        assert!(
            differences.is_empty(),
            "{} differences:\n{}",
            differences.len(),
            differences[..differences.len().min(20)].join("\n")
        );
    }

    /// Each variation, over every country of the stand-in, serves the same bytes as the usual shape;
    /// and each one changes some document, or it would prove nothing.
    #[test]
    fn the_shapes_v5_varies_in_map_as_the_usual_one() {
        let docs: Vec<(Value, String)> = dataset::documents()
            .iter()
            .map(|d| {
                let usual = to_v5(d);
                let served = bytes(&mapped(&usual));
                (usual, served)
            })
            .collect();
        for (name, vary) in VARIATIONS {
            let mut changed = 0;
            for (usual, served) in &docs {
                let mut varied = usual.clone();
                vary(&mut varied);
                changed += usize::from(varied != *usual);
                let got = Document::read(&varied).map(|d| bytes(&d.to_v31()));
                let code = &usual["codes"]["alpha_2"];
                assert_eq!(got.as_ref(), Ok(served), "{name}: {code}");
            }
            assert!(changed > 0, "{name} changed no document");
        }
    }

    /// Empty maps have come as `[]`; a list with something in it is not a map.
    #[test]
    fn an_empty_map_may_come_as_an_empty_list() {
        let usual = v5_of("PY");
        for path in [
            "/names/native",
            "/names/translations",
            "/demonyms",
            "/economy/gini_coefficient",
        ] {
            let (mut empty, mut listed) = (usual.clone(), usual.clone());
            *empty.pointer_mut(path).unwrap() = json!({});
            *listed.pointer_mut(path).unwrap() = json!([]);
            assert_eq!(bytes(&mapped(&listed)), bytes(&mapped(&empty)));
            *listed.pointer_mut(path).unwrap() = json!([{"x": 1}]);
            let at = path[1..].replace('/', ".");
            assert_eq!(
                refused(&listed),
                format!("at `{at}`: invalid length 1, expected a map, or [] for an empty one")
            );
        }
    }

    #[test]
    fn short_forms_serve_what_they_carry() {
        let mut za = v5_of("ZA");
        za["flag"] = json!("🇿🇦");
        za["capitals"] = json!("Pretoria");
        let doc = mapped(&za);
        assert_eq!((&doc["flag"], &doc["flags"]), (&json!("🇿🇦"), &json!({})));
        assert_eq!(
            (&doc["capital"], &doc["capitalInfo"]),
            (&json!(["Pretoria"]), &json!({}))
        );
        za["capitals"] = json!(["Pretoria", "Cape Town"]);
        assert_eq!(mapped(&za)["capital"], json!(["Pretoria", "Cape Town"]));
    }

    #[test]
    fn what_cannot_be_read_is_refused_with_its_path() {
        assert_eq!(refused(&json!({})), "at `.`: missing field `names`");
        let mut py = v5_of("PY");
        py["currencies"][0].as_object_mut().unwrap().remove("code");
        assert_eq!(refused(&py), "at `currencies`: entry 0 has no `code`");
        let mut py = v5_of("PY");
        py["population"] = json!("many");
        assert_eq!(
            refused(&py),
            "at `population`: invalid value: string \"many\", expected a number, or a string holding one"
        );
        let mut py = v5_of("PY");
        py["coordinates"] = json!([-23.0]);
        assert!(refused(&py).starts_with("at `coordinates`: invalid length 1"));
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
        let mut xk = v5_of("XK");
        xk["names"]["translations"] = json!({
            "fas": {"official": "کوزوو", "common": "کوزوو"},
            "xyz": {"official": "x", "common": "x"},
        });
        xk["assets"] = json!([
            "https://example.org/flags/xk.svg",
            "https://example.org/coat_of_arms/xk.svg"
        ]);
        let doc = mapped(&xk);
        assert_eq!(doc["status"], "user-assigned");
        assert_eq!(
            doc["translations"],
            json!({"per": {"official": "کوزوو", "common": "کوزوو"}})
        );
        assert_eq!(
            doc["coatOfArms"],
            json!({"svg": "https://example.org/coat_of_arms/xk.svg"})
        );
        xk["classification"]["iso_status"] = json!("exceptionally_reserved");
        assert_eq!(mapped(&xk)["status"], "exceptionally_reserved");
        xk["assets"] = json!([]);
        assert_eq!(mapped(&xk)["coatOfArms"], json!({}));
        // The stand-in lists the primary capital last.
        let za = mapped(&v5_of("ZA"));
        assert_eq!(za["capital"][0], "Pretoria");
        assert_eq!(za["capitalInfo"], json!({"latlng": [-25.7, 28.22]}));
    }
}
