//! The catalogue: every stored country's v3.1 document in one versioned item, written by the sync and
//! after a fetch changes a document, and the in-memory [`Snapshot`] the catalogue reads answer from.
//!
//! - [`StoredCatalogue`]: what the store keeps (one item; the adapter may compress it);
//! - [`Snapshot`]: the same, indexed for the reads, holding every document as JSON text so that an answer
//!   is copied, not serialised;
//! - [`v31_matching`]: REST Countries v3.1's own matching (`/v3.1/name/...`, `/v3.1/currency/...`, ...);
//! - [`query`]: the service's `/countries` search, filters, sorting and cursor.

pub mod query;
pub mod v31_matching;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::country::{CountryCode, V31_KEYS};
use crate::fnv::fnv1a;
use crate::normalize::normalize;
use crate::ports::StoreError;

/// The catalogue as stored: one item, replaced whole under a revision check.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCatalogue {
    /// Bumped by every write; a write names the revision it read, so two writers cannot lose each
    /// other's changes.
    pub revision: u64,
    /// When the last sync that brought the whole catalogue finished.
    pub synced_at: Option<DateTime<Utc>>,
    /// A JSON array of entries (`{"code", "version", "hash", "document"}`), in catalogue order.
    pub body: String,
}

/// One country in the stored catalogue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub code: CountryCode,
    /// The country record's version (`fetched_at` in milliseconds).
    pub version: i64,
    /// [`content_hash`] of the document and raw form it was stored with: unchanged upstream data is
    /// recognised without reading the record.
    pub hash: String,
    /// The upstream kind the document came from.
    pub source: String,
    pub document: Box<RawValue>,
}

impl Entry {
    /// A stored country's entry; `hash` is [`content_hash`] of its document and raw form.
    pub fn of(record: &crate::country::CountryRecord, hash: String) -> Entry {
        Entry {
            code: record.code,
            version: record.version,
            hash,
            source: record.source.clone(),
            document: RawValue::from_string(record.document.to_string()).expect("JSON text"),
        }
    }
}

fn unreadable(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("the stored catalogue is unreadable: {e}"))
}

impl StoredCatalogue {
    /// The entries, in catalogue order.
    pub fn entries(&self) -> Result<Vec<Entry>, StoreError> {
        serde_json::from_str(&self.body).map_err(unreadable)
    }

    /// A catalogue of `entries`, one revision on from `previous`.
    pub fn next(
        previous: Option<&StoredCatalogue>,
        entries: &[Entry],
        synced_at: Option<DateTime<Utc>>,
    ) -> StoredCatalogue {
        StoredCatalogue {
            revision: previous.map_or(1, |p| p.revision + 1),
            synced_at: synced_at.or(previous.and_then(|p| p.synced_at)),
            body: serde_json::to_string(entries).expect("entries serialise"),
        }
    }
}

/// A stable 64-bit FNV-1a hash of a document and its raw form, in hex: equal for equal data, whatever
/// process computes it.
pub fn content_hash(document: &Value, raw: &Value) -> String {
    let (document, raw) = (document.to_string(), raw.to_string());
    format!("{:016x}", fnv1a([document.as_bytes(), raw.as_bytes()]))
}

/// Merges `changed` into `entries`: a country's entry is replaced (never by an older version), new
/// countries are appended, and none is removed.
pub fn merge(entries: &mut Vec<Entry>, changed: Vec<Entry>) {
    let at: HashMap<CountryCode, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.code, i))
        .collect();
    for entry in changed {
        match at.get(&entry.code) {
            Some(&i) if entries[i].version <= entry.version => entries[i] = entry,
            Some(_) => {}
            None => entries.push(entry),
        }
    }
}

/// A top-level key of the v3.1 document, by its index in [`V31_KEYS`].
pub type Field = usize;

/// The index of a v3.1 key, if it is one.
pub fn field(name: &str) -> Option<Field> {
    V31_KEYS.iter().position(|(k, _)| *k == name)
}

/// What the filters and searches read of a document, extracted once when the snapshot is built. Lists
/// of short texts are kept joined by newlines in one string each (none of them holds a newline): a
/// string per name would cost more than the names themselves.
#[derive(Debug, Default)]
pub(crate) struct Facets {
    pub cca2: String,
    pub cca3: String,
    pub ccn3: String,
    pub cioc: String,
    pub common: String,
    pub official: String,
    /// Alternate spellings, lowercase.
    pub alt_lower: String,
    pub region: String,
    pub subregion: String,
    pub continents: Vec<String>,
    /// (code, name)
    pub currencies: Vec<(String, String)>,
    /// (ISO 639-3 code, name)
    pub languages: Vec<(String, String)>,
    /// Capitals, lowercase without accents.
    pub capitals_folded: String,
    /// Every demonym, lowercase.
    pub demonyms_lower: String,
    /// Every translated name (common and official), lowercase.
    pub translations_lower: String,
    pub independent: Option<bool>,
    pub un_member: bool,
    pub landlocked: bool,
    /// International dialling codes, digits only (`595`, `1201`), and the roots alone (`1`).
    pub calling_codes: Vec<String>,
    pub population: f64,
    pub area: f64,
    /// Every name normalised, one per line, each with its tier in `tiers`, best first: 0 the English
    /// common name, 1 the official one, 2 alternate spellings, 3 native, 4 translations (the identifier
    /// index's tiers, with its first split so that `united` finds the United States before the United
    /// Mexican States).
    pub names: String,
    pub tiers: Vec<u8>,
    /// The English common name, normalised: the name sort's key.
    pub sort_name: String,
}

/// The lines of a joined facet.
pub(crate) fn lines(joined: &str) -> impl Iterator<Item = &str> {
    joined.split('\n')
}

fn joined<'a>(items: impl IntoIterator<Item = &'a String>, f: impl Fn(&str) -> String) -> String {
    items
        .into_iter()
        .map(|i| f(i))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Doc {
    name: DocName,
    cca2: String,
    cca3: String,
    ccn3: String,
    cioc: String,
    #[serde(rename = "altSpellings")]
    alt_spellings: Vec<String>,
    region: String,
    subregion: String,
    continents: Vec<String>,
    currencies: BTreeMap<String, DocCurrency>,
    languages: BTreeMap<String, String>,
    capital: Vec<String>,
    demonyms: BTreeMap<String, BTreeMap<String, String>>,
    translations: BTreeMap<String, BTreeMap<String, String>>,
    independent: Option<bool>,
    #[serde(rename = "unMember")]
    un_member: bool,
    landlocked: bool,
    idd: DocIdd,
    population: f64,
    area: f64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DocName {
    common: String,
    official: String,
    #[serde(rename = "nativeName")]
    native: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DocCurrency {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DocIdd {
    root: String,
    suffixes: Vec<String>,
}

impl Facets {
    fn of(document: &str) -> Result<Facets, serde_json::Error> {
        let d: Doc = serde_json::from_str(document)?;
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let root = digits(&d.idd.root);
        let mut calling_codes: Vec<String> = d
            .idd
            .suffixes
            .iter()
            .map(|s| format!("{root}{}", digits(s)))
            .collect();
        if !root.is_empty() {
            calling_codes.push(root);
        }
        let mut names = vec![
            (normalize(&d.name.common), 0),
            (normalize(&d.name.official), 1),
        ];
        names.extend(d.alt_spellings.iter().map(|a| (normalize(a), 2)));
        for (tier, group) in [(3, &d.name.native), (4, &d.translations)] {
            for pair in group.values() {
                names.extend(pair.values().map(|n| (normalize(n), tier)));
            }
        }
        names.retain(|(n, _)| !n.is_empty());
        names.sort();
        names.dedup_by(|a, b| a.0 == b.0);
        let lower = |s: &str| s.to_lowercase();
        Ok(Facets {
            sort_name: normalize(&d.name.common),
            cca2: d.cca2,
            cca3: d.cca3,
            ccn3: d.ccn3,
            cioc: d.cioc,
            common: d.name.common,
            official: d.name.official,
            alt_lower: joined(&d.alt_spellings, lower),
            region: d.region,
            subregion: d.subregion,
            continents: d.continents,
            currencies: d.currencies.into_iter().map(|(k, v)| (k, v.name)).collect(),
            languages: d.languages.into_iter().collect(),
            capitals_folded: joined(&d.capital, v31_matching::fold),
            demonyms_lower: joined(d.demonyms.values().flat_map(BTreeMap::values), lower),
            translations_lower: joined(d.translations.values().flat_map(BTreeMap::values), lower),
            independent: d.independent,
            un_member: d.un_member,
            landlocked: d.landlocked,
            calling_codes,
            population: d.population,
            area: d.area,
            tiers: names.iter().map(|(_, t)| *t).collect(),
            names: names
                .into_iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
                .join("\n"),
        })
    }
}

/// One country of a snapshot: where its document and each top-level value sit in the snapshot's text.
struct Country {
    code: CountryCode,
    version: i64,
    source: String,
    document: (u32, u32),
    /// Per [`V31_KEYS`] index, the value's span; `(0, 0)` where the document lacks the key.
    fields: [(u32, u32); V31_KEYS.len()],
    facets: Facets,
}

/// The catalogue, indexed for reads: immutable, shared by every request of a process.
pub struct Snapshot {
    pub revision: u64,
    pub synced_at: Option<DateTime<Utc>>,
    text: String,
    countries: Vec<Country>,
    by_code: HashMap<CountryCode, usize>,
}

impl Snapshot {
    pub fn empty() -> Snapshot {
        Snapshot {
            revision: 0,
            synced_at: None,
            text: String::new(),
            countries: Vec::new(),
            by_code: HashMap::new(),
        }
    }

    /// The snapshot of `stored`, keeping its body as the text the documents are served from.
    pub fn build(stored: StoredCatalogue) -> Result<Snapshot, StoreError> {
        #[derive(Deserialize)]
        struct Borrowed<'a> {
            code: CountryCode,
            version: i64,
            source: String,
            #[serde(borrow)]
            document: &'a RawValue,
        }
        let entries: Vec<Borrowed> = serde_json::from_str(&stored.body).map_err(unreadable)?;
        let mut text = String::with_capacity(stored.body.len());
        let mut countries = Vec::with_capacity(entries.len());
        for e in entries {
            let doc = e.document.get();
            let fields: HashMap<&str, &RawValue> = serde_json::from_str(doc).map_err(|err| {
                StoreError::Corrupt(format!(
                    "the catalogue's document of {} is not an object: {err}",
                    e.code
                ))
            })?;
            let start = text.len();
            text.push_str(doc);
            let base = doc.as_ptr() as usize;
            let mut spans = [(0u32, 0u32); V31_KEYS.len()];
            for (i, (key, _)) in V31_KEYS.iter().enumerate() {
                if let Some(v) = fields.get(key) {
                    let at = start + (v.get().as_ptr() as usize - base);
                    spans[i] = (at as u32, (at + v.get().len()) as u32);
                }
            }
            let facets = Facets::of(doc).map_err(|err| {
                StoreError::Corrupt(format!(
                    "the catalogue's document of {} is unreadable: {err}",
                    e.code
                ))
            })?;
            countries.push(Country {
                code: e.code,
                version: e.version,
                source: e.source,
                document: (start as u32, (start + doc.len()) as u32),
                fields: spans,
                facets,
            });
        }
        let by_code = countries
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code, i))
            .collect();
        Ok(Snapshot {
            revision: stored.revision,
            synced_at: stored.synced_at,
            text,
            countries,
            by_code,
        })
    }

    pub fn len(&self) -> usize {
        self.countries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.countries.is_empty()
    }

    /// A country's position in the catalogue (for [`Snapshot::write`]), with its document's version and
    /// source.
    pub fn find(&self, code: CountryCode) -> Option<(usize, i64, &str)> {
        let at = *self.by_code.get(&code)?;
        let c = &self.countries[at];
        Some((at, c.version, &c.source))
    }

    fn span(&self, (from, to): (u32, u32)) -> &str {
        &self.text[from as usize..to as usize]
    }

    pub(crate) fn facets(&self) -> impl Iterator<Item = (usize, &Facets)> {
        self.countries.iter().map(|c| &c.facets).enumerate()
    }

    pub(crate) fn facet(&self, i: usize) -> &Facets {
        &self.countries[i].facets
    }

    /// Appends country `i`'s document to `out`: whole, or only `fields` (in document order; keys the
    /// document lacks are left out).
    pub fn write(&self, out: &mut String, i: usize, fields: Option<&[Field]>) {
        let c = &self.countries[i];
        let Some(fields) = fields else {
            out.push_str(self.span(c.document));
            return;
        };
        let mut present: Vec<(u32, u32, Field)> = fields
            .iter()
            .map(|&f| (c.fields[f].0, c.fields[f].1, f))
            .filter(|(from, to, _)| to > from)
            .collect();
        present.sort_unstable();
        present.dedup();
        out.push('{');
        for (n, (from, to, f)) in present.into_iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(V31_KEYS[f].0);
            out.push_str("\":");
            out.push_str(self.span((from, to)));
        }
        out.push('}');
    }

    /// A JSON array of the countries at `indices`.
    pub fn array(&self, indices: &[usize], fields: Option<&[Field]>) -> String {
        let mut out =
            String::with_capacity(if fields.is_some() { 64 } else { 6000 } * indices.len() + 2);
        out.push('[');
        for (n, &i) in indices.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            self.write(&mut out, i, fields);
        }
        out.push(']');
        out
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use std::sync::OnceLock;

    use super::*;
    use crate::country::from_v31;
    use crate::dataset;

    /// The bundled data set as a stored catalogue (version 1 each).
    pub fn bundled() -> &'static StoredCatalogue {
        static CATALOGUE: OnceLock<StoredCatalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            let entries: Vec<Entry> = dataset::documents()
                .iter()
                .map(|d| {
                    let doc = from_v31(d);
                    Entry {
                        code: d["cca2"].as_str().unwrap().parse().unwrap(),
                        version: 1,
                        hash: content_hash(&doc, d),
                        source: "bundled".into(),
                        document: RawValue::from_string(doc.to_string()).unwrap(),
                    }
                })
                .collect();
            StoredCatalogue::next(None, &entries, None)
        })
    }

    pub fn snapshot() -> &'static Snapshot {
        static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
        SNAPSHOT.get_or_init(|| Snapshot::build(bundled().clone()).unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn documents_and_fields_come_back_as_stored() {
        let s = snapshot();
        assert_eq!(s.len(), 250);
        let (i, _, source) = s.find("PY".parse().unwrap()).unwrap();
        assert_eq!(source, "bundled");
        let mut whole = String::new();
        s.write(&mut whole, i, None);
        let py: Value = serde_json::from_str(&whole).unwrap();
        assert_eq!(py["name"]["common"], "Paraguay");
        let fields = [
            field("capital").unwrap(),
            field("name").unwrap(),
            field("cca2").unwrap(),
        ];
        let mut out = String::new();
        s.write(&mut out, i, Some(&fields));
        let v: Value = serde_json::from_str(&out).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["name", "cca2", "capital"], "document order");
        assert_eq!(v["capital"], serde_json::json!(["Asunción"]));
        let all: Value = serde_json::from_str(&s.array(&[0, 1], None)).unwrap();
        assert_eq!(all.as_array().unwrap().len(), 2);
    }

    #[test]
    fn merging_replaces_older_keeps_newer_appends_new_and_removes_nothing() {
        let e = |code: &str, version| Entry {
            code: code.parse().unwrap(),
            version,
            hash: String::new(),
            source: String::new(),
            document: RawValue::from_string(format!("{{\"v\":{version}}}")).unwrap(),
        };
        let mut entries = vec![e("PY", 5), e("BR", 5)];
        merge(&mut entries, vec![e("PY", 6), e("BR", 4), e("AR", 1)]);
        let got: Vec<(String, i64)> = entries
            .iter()
            .map(|e| (e.code.to_string(), e.version))
            .collect();
        assert_eq!(got, [("PY".into(), 6), ("BR".into(), 5), ("AR".into(), 1)]);
    }

    #[test]
    fn the_hash_changes_with_the_content_only() {
        let a = content_hash(&serde_json::json!({"a": 1}), &serde_json::json!({}));
        assert_eq!(
            a,
            content_hash(&serde_json::json!({"a": 1}), &serde_json::json!({}))
        );
        assert_ne!(
            a,
            content_hash(&serde_json::json!({"a": 2}), &serde_json::json!({}))
        );
        assert_ne!(
            a,
            content_hash(&serde_json::json!({"a": 1}), &serde_json::json!({"b": 0}))
        );
    }
}
