//! The stored country document and the mapping from each upstream shape onto the REST Countries v3.1 shape.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

/// A canonical ISO 3166-1 alpha-2 code (`PY`): the key of everything stored.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    pub fn as_str(&self) -> &str {
        // Only ASCII uppercase letters are ever stored.
        std::str::from_utf8(&self.0).expect("ASCII")
    }
}

/// Text that is not two ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an alpha-2 country code")]
pub struct NotAlpha2(pub String);

impl FromStr for CountryCode {
    type Err = NotAlpha2;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Ok(CountryCode([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
            ])),
            _ => Err(NotAlpha2(s.to_string())),
        }
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountryCode({})", self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A country document as stored: the v3.1-shape document served to clients, the raw upstream document
/// beside it, and where and when it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CountryRecord {
    pub code: CountryCode,
    pub document: Value,
    pub raw: Value,
    /// The upstream kind that produced it: `bundled`, `v3.1` or `v5`.
    pub source: String,
    /// When the upstream call that produced it started: the data is at least this new.
    pub fetched_at: DateTime<Utc>,
    /// `fetched_at` in milliseconds; a record only ever replaces one with a smaller version.
    pub version: i64,
}

impl CountryRecord {
    pub fn new(code: CountryCode, fetched: Fetched, fetched_at: DateTime<Utc>) -> Self {
        CountryRecord {
            code,
            document: fetched.document,
            raw: fetched.raw,
            source: fetched.source,
            fetched_at,
            version: fetched_at.timestamp_millis(),
        }
    }
}

/// What an upstream returns for one country.
#[derive(Clone, Debug, PartialEq)]
pub struct Fetched {
    pub document: Value,
    pub raw: Value,
    pub source: String,
}

/// The 35 top-level keys of a REST Countries v3.1 document, with the empty value the data file uses when a
/// country has none. Every served document carries all of them.
pub const V31_KEYS: [(&str, EmptyKind); 35] = [
    ("name", EmptyKind::Object),
    ("tld", EmptyKind::Array),
    ("cca2", EmptyKind::String),
    ("ccn3", EmptyKind::String),
    ("cca3", EmptyKind::String),
    ("cioc", EmptyKind::String),
    ("fifa", EmptyKind::String),
    ("independent", EmptyKind::Bool),
    ("status", EmptyKind::String),
    ("unMember", EmptyKind::Bool),
    ("currencies", EmptyKind::Object),
    ("idd", EmptyKind::Object),
    ("capital", EmptyKind::Array),
    ("capitalInfo", EmptyKind::Object),
    ("altSpellings", EmptyKind::Array),
    ("region", EmptyKind::String),
    ("subregion", EmptyKind::String),
    ("continents", EmptyKind::Array),
    ("languages", EmptyKind::Object),
    ("translations", EmptyKind::Object),
    ("latlng", EmptyKind::Array),
    ("landlocked", EmptyKind::Bool),
    ("borders", EmptyKind::Array),
    ("area", EmptyKind::Number),
    ("flag", EmptyKind::String),
    ("demonyms", EmptyKind::Object),
    ("flags", EmptyKind::Object),
    ("coatOfArms", EmptyKind::Object),
    ("population", EmptyKind::Number),
    ("maps", EmptyKind::Object),
    ("gini", EmptyKind::Object),
    ("car", EmptyKind::Object),
    ("postalCode", EmptyKind::Object),
    ("startOfWeek", EmptyKind::String),
    ("timezones", EmptyKind::Array),
];

#[derive(Clone, Copy, Debug)]
pub enum EmptyKind {
    String,
    Array,
    Object,
    Bool,
    Number,
}

impl EmptyKind {
    fn empty(self) -> Value {
        match self {
            EmptyKind::String => json!(""),
            EmptyKind::Array => json!([]),
            EmptyKind::Object => json!({}),
            EmptyKind::Bool => json!(false),
            EmptyKind::Number => json!(0),
        }
    }
}

/// A v3.1 document as a self-hosted server or the bundled data gives it, completed so that every key is
/// present (servers leave empty values out), in the data file's key order. Unknown keys are dropped.
pub fn from_v31(raw: &Value) -> Value {
    let mut out = Map::new();
    for (key, kind) in V31_KEYS {
        let value = raw.get(key).filter(|v| !v.is_null()).cloned();
        out.insert(key.to_string(), value.unwrap_or_else(|| kind.empty()));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_case_insensitively_and_reject_the_rest() {
        assert_eq!("py".parse::<CountryCode>().unwrap().as_str(), "PY");
        for bad in ["", "P", "PRY", "P1", "é1"] {
            assert!(bad.parse::<CountryCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn v31_documents_are_completed_with_empty_values() {
        let doc = from_v31(&json!({"cca2": "PY", "name": {"common": "Paraguay"}, "extra": 1}));
        let obj = doc.as_object().unwrap();
        assert_eq!(obj.len(), 35);
        assert_eq!(doc["cca2"], "PY");
        assert_eq!(doc["capital"], json!([]));
        assert!(obj.get("extra").is_none());
    }
}
