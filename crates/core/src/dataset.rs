//! The bundled REST Countries v3.1 data set (see `data/README.md` for its source and licences).

/// The data file, byte for byte as REST Countries ships it: a JSON array of 250 v3.1 documents.
pub const COUNTRIES_V31_JSON: &str = include_str!("../data/countriesV3.1.json");

/// Parses the whole data set. Callers cache the result: it is 1.4 MB of JSON.
pub fn documents() -> Vec<serde_json::Value> {
    serde_json::from_str(COUNTRIES_V31_JSON).expect("the bundled data set is valid JSON")
}
