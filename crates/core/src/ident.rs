//! Country identifiers: one path segment naming a country in any common way, resolved locally to its
//! canonical alpha-2 code from an index built once from the bundled data.

use serde::Serialize;

use crate::country::CountryCode;
pub use crate::normalize::normalize;
use tables::Span;

/// Longest identifier accepted, in characters: the longest official name in the data set is under 60.
pub const MAX_IDENTIFIER_CHARS: usize = 100;

/// The ASCII punctuation an identifier may not contain (besides control characters): no name has any,
/// and `/` and `\` would read as paths. Everything else is well-formed; one that names no country is
/// unknown (404), not malformed (400).
pub const FORBIDDEN: &str = "/\\<>{}[]|^`\"#%?&=+;:!@$*~";

/// `validate`'s rule as a regular expression, for the OpenAPI document (`{country}`'s `pattern`).
pub const IDENTIFIER_PATTERN: &str =
    "^[^\\x00-\\x1f\\x7f-\\x9f/\\\\<>{}\\[\\]|^`\"#%?&=+;:!@$*~]{1,100}$";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    #[error("`{input}` is not a valid country identifier: {reason}")]
    Invalid { input: String, reason: &'static str },
    #[error("no country is known as `{input}`")]
    Unknown { input: String },
    #[error("`{input}` could name more than one country: {}", list(candidates))]
    Ambiguous {
        input: String,
        candidates: Vec<Candidate>,
    },
}

fn list(candidates: &[Candidate]) -> String {
    candidates
        .iter()
        .map(|c| format!("{} ({})", c.name, c.code))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A country an ambiguous identifier could mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub code: CountryCode,
    pub name: String,
}

/// The tables `build.rs` generates from the data set.
mod tables {
    include!(concat!(env!("OUT_DIR"), "/index.rs"));
}

/// How a name is known, best first: an exact match on a better tier wins over one on a worse tier, so
/// `sudan` is Sudan although a translation of South Sudan reads the same. 0: English common and official
/// names, 1: alternate spellings, 2: native names, 3: translations.
type Tier = u8;

/// The identifier index: codes, and every name normalised (lowercase, no accents, words separated by one
/// space), built at compile time (`build.rs`) into static tables.
pub struct CountryIndex {
    countries: &'static [(Span, Span)],
    codes: &'static [(Span, u16)],
    names: &'static [(Span, Tier, u16)],
}

/// The string a table entry points at.
fn text(span: Span) -> &'static str {
    let at = span.0 as usize;
    &tables::TEXT[at..at + usize::from(span.1)]
}

static INDEX: CountryIndex = CountryIndex {
    countries: &tables::COUNTRIES,
    codes: &tables::CODES,
    names: &tables::NAMES,
};

/// The index of the bundled data set.
pub fn index() -> &'static CountryIndex {
    &INDEX
}

/// Whether `key`'s words stand, whole and in order, inside `name`'s.
pub(crate) fn contains_words(name: &str, key: &str) -> bool {
    name.match_indices(key).any(|(at, _)| {
        let before = at == 0 || name.as_bytes()[at - 1] == b' ';
        let end = at + key.len();
        let after = end == name.len() || name.as_bytes()[end] == b' ';
        before && after
    })
}

impl CountryIndex {
    fn code(&self, i: usize) -> CountryCode {
        text(self.countries[i].0).parse().expect("cca2 is alpha-2")
    }

    pub fn len(&self) -> usize {
        self.countries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.countries.is_empty()
    }

    /// Every canonical code, in data set order.
    pub fn codes(&self) -> impl Iterator<Item = CountryCode> + '_ {
        (0..self.countries.len()).map(|i| self.code(i))
    }

    /// The English common name of a country in the index.
    pub fn common_name(&self, code: CountryCode) -> Option<&str> {
        self.countries
            .iter()
            .find(|(c, _)| text(*c) == code.as_str())
            .map(|(_, n)| text(*n))
    }

    /// Resolves an identifier (already percent-decoded) to its canonical alpha-2 code.
    pub fn resolve(&self, input: &str) -> Result<CountryCode, IdentError> {
        validate(input)?;
        let key = normalize(input);
        if key.is_empty() {
            return Err(IdentError::Unknown {
                input: shown(input),
            });
        }
        if let Some(i) = self.by_code(&key) {
            return Ok(self.code(i));
        }
        if key.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IdentError::Unknown {
                input: input.to_string(),
            });
        }
        let from = self
            .names
            .partition_point(|(n, _, _)| text(*n) < key.as_str());
        let exact = self.names[from..]
            .iter()
            .take_while(|(n, _, _)| text(*n) == key);
        if exact.clone().next().is_some() {
            return self.decide(input, exact.map(|(_, t, i)| (*t, usize::from(*i))));
        }
        let partial = self
            .names
            .iter()
            .filter(|(name, _, _)| contains_words(text(*name), &key))
            .map(|(_, t, i)| (*t, usize::from(*i)));
        self.decide(input, partial)
    }

    fn lookup(&self, key: &str) -> Option<usize> {
        self.codes
            .binary_search_by(|(k, _)| text(*k).cmp(key))
            .ok()
            .map(|at| usize::from(self.codes[at].1))
    }

    fn by_code(&self, key: &str) -> Option<usize> {
        let b = key.as_bytes();
        if b.iter().all(u8::is_ascii_digit) && (1..=3).contains(&b.len()) {
            return self.lookup(&format!("num:{key:0>3}"));
        }
        if !b.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        match b.len() {
            2 => self.lookup(&format!("a2:{key}")),
            3 => self
                .lookup(&format!("a3:{key}"))
                .or_else(|| self.lookup(&format!("ioc:{key}"))),
            _ => None,
        }
    }

    /// The countries named on the best tier that has any: one is the answer, several are ambiguous.
    fn decide(
        &self,
        input: &str,
        hits: impl Iterator<Item = (Tier, usize)>,
    ) -> Result<CountryCode, IdentError> {
        let hits: Vec<(Tier, usize)> = hits.collect();
        let Some(best) = hits.iter().map(|(t, _)| *t).min() else {
            return Err(IdentError::Unknown {
                input: input.to_string(),
            });
        };
        let mut found: Vec<usize> = hits
            .iter()
            .filter(|(t, _)| *t == best)
            .map(|(_, i)| *i)
            .collect();
        found.sort_unstable();
        found.dedup();
        if let [one] = found[..] {
            return Ok(self.code(one));
        }
        let candidates = found
            .into_iter()
            .map(|i| Candidate {
                code: self.code(i),
                name: text(self.countries[i].1).to_string(),
            })
            .collect();
        Err(IdentError::Ambiguous {
            input: input.to_string(),
            candidates,
        })
    }
}

/// Hostile input is echoed back in error bodies and logs: keep it short and printable.
fn shown(input: &str) -> String {
    input
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

fn invalid(input: &str, reason: &'static str) -> IdentError {
    IdentError::Invalid {
        input: shown(input),
        reason,
    }
}

/// Well-formed: 1 to 100 characters, no control characters, none of [`FORBIDDEN`]
/// ([`IDENTIFIER_PATTERN`] says the same).
fn validate(input: &str) -> Result<(), IdentError> {
    if input.is_empty() {
        return Err(invalid(input, "it is empty"));
    }
    if input.chars().count() > MAX_IDENTIFIER_CHARS {
        return Err(invalid(input, "it is longer than 100 characters"));
    }
    if input.chars().any(char::is_control) {
        return Err(invalid(input, "it contains control characters"));
    }
    if input.chars().any(|c| FORBIDDEN.contains(c)) {
        return Err(invalid(
            input,
            "it contains one of / \\ < > { } [ ] | ^ ` \" # % ? & = + ; : ! @ $ * ~",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset;
    use serde_json::Value;

    fn resolve(s: &str) -> Result<String, IdentError> {
        index().resolve(s).map(|c| c.to_string())
    }

    #[test]
    fn whole_words_only() {
        assert!(contains_words("republic of the congo", "congo"));
        assert!(contains_words("congo", "congo"));
        assert!(contains_words("the congo republic", "congo"));
        assert!(!contains_words("congolese", "congo"));
        assert!(!contains_words("brazzaville congo x", "ongo"));
    }

    #[test]
    fn normalizes_case_accents_and_separators() {
        assert_eq!(normalize("Côte d'Ivoire"), "cote d ivoire");
        assert_eq!(normalize("cote-d-ivoire"), "cote d ivoire");
        assert_eq!(
            normalize("  São_Tomé  and Príncipe "),
            "sao tome and principe"
        );
    }

    #[test]
    fn examples_from_the_design() {
        for (input, code) in [
            ("PY", "PY"),
            ("pry", "PY"),
            ("600", "PY"),
            ("PAR", "PY"),
            ("paraguay", "PY"),
            ("united-states", "US"),
            ("costa-rica", "CR"),
            ("cote-d-ivoire", "CI"),
            ("sao-tome-and-principe", "ST"),
            ("deutschland", "DE"),
            ("niger", "NE"),
            ("sudan", "SD"),
            ("Republic of Paraguay", "PY"),
            ("36", "AU"),
            ("036", "AU"),
            ("uk", "GB"),
        ] {
            assert_eq!(resolve(input).as_deref(), Ok(code), "{input}");
        }
    }

    /// Every country of the data set, by every code it has and every name, in several spellings.
    #[test]
    fn every_country_resolves_from_its_codes_and_names() {
        let docs = dataset::documents();
        assert_eq!(docs.len(), 250);
        let mut failures = Vec::new();
        for d in &docs {
            let code = d["cca2"].as_str().unwrap();
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            let mut inputs = vec![s(&d["cca2"]), s(&d["cca3"]), s(&d["ccn3"]), s(&d["cioc"])];
            for name in [&d["name"]["common"], &d["name"]["official"]] {
                let name = s(name);
                inputs.push(name.to_uppercase());
                inputs.push(name.to_lowercase());
                inputs.push(normalize(&name).replace(' ', "-"));
                inputs.push(name.clone());
            }
            for input in inputs.into_iter().filter(|i| !i.is_empty()) {
                match index().resolve(&input) {
                    Ok(c) if c.as_str() == code => {}
                    other => failures.push(format!("{input} -> {other:?}, want {code}")),
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Alternate spellings, native and translated names resolve to their country unless the same words
    /// name another country on the same or a better tier: then the answer is that country or ambiguous.
    #[test]
    fn other_names_resolve_or_are_ambiguous() {
        let docs = dataset::documents();
        let mut failures = Vec::new();
        let mut resolved = 0;
        for d in &docs {
            let code = d["cca2"].as_str().unwrap();
            let mut names: Vec<String> = d["altSpellings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            for group in [&d["name"]["nativeName"], &d["translations"]] {
                for pair in group.as_object().unwrap().values() {
                    names.push(pair["common"].as_str().unwrap().to_string());
                    names.push(pair["official"].as_str().unwrap().to_string());
                }
            }
            for name in names.iter().filter(|n| !normalize(n).is_empty()) {
                match index().resolve(name) {
                    Ok(c) if c.as_str() == code => resolved += 1,
                    Ok(_) => {} // a better tier names another country (`sudan`)
                    Err(IdentError::Ambiguous { candidates, .. })
                        if candidates.iter().any(|c| c.code.as_str() == code) => {}
                    Err(IdentError::Invalid { .. }) => {} // a name with characters we refuse
                    other => failures.push(format!("{name} -> {other:?}, want {code}")),
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert!(resolved > 10_000, "only {resolved} names resolved");
    }

    #[test]
    fn exact_beats_partial_and_partial_can_be_ambiguous() {
        assert_eq!(resolve("niger").as_deref(), Ok("NE"));
        assert_eq!(resolve("nigeria").as_deref(), Ok("NG"));
        match resolve("guinea") {
            Ok(code) => assert_eq!(code, "GN"),
            Err(e) => panic!("guinea: {e}"),
        }
        match resolve("korea") {
            Err(IdentError::Ambiguous { candidates, .. }) => {
                let codes: Vec<_> = candidates.iter().map(|c| c.code.to_string()).collect();
                assert!(
                    codes.contains(&"KR".into()) && codes.contains(&"KP".into()),
                    "{codes:?}"
                );
            }
            other => panic!("korea: {other:?}"),
        }
    }

    /// The OpenAPI document's pattern accepts exactly what `validate` accepts.
    #[test]
    fn the_documented_pattern_is_the_validation() {
        let pattern = regex::Regex::new(IDENTIFIER_PATTERN).unwrap();
        let mut inputs: Vec<String> = (0u32..0x300)
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b"))
            .collect();
        inputs.extend(
            ["", "a", "🇵🇾", "Côte d'Ivoire", "日本", "a b", "a\u{2028}b"].map(String::from),
        );
        inputs.extend([99, 100, 101].map(|n| "é".repeat(n)));
        for input in inputs {
            assert_eq!(
                pattern.is_match(&input),
                validate(&input).is_ok(),
                "{input:?}"
            );
        }
    }

    #[test]
    fn unknown_and_invalid() {
        assert!(matches!(
            resolve("atlantis"),
            Err(IdentError::Unknown { .. })
        ));
        assert!(matches!(resolve("999"), Err(IdentError::Unknown { .. })));
        assert!(matches!(resolve("zz"), Err(IdentError::Unknown { .. })));
        // Well-formed, naming nothing: unknown, not malformed.
        for nothing in [" ", "..", "---", "🇵🇾", "😀😀", &"é".repeat(100)] {
            assert!(
                matches!(resolve(nothing), Err(IdentError::Unknown { .. })),
                "{nothing:?} -> {:?}",
                resolve(nothing)
            );
        }
        for bad in [
            "",
            "a/b",
            "a\\b",
            "a\0b",
            "a\u{85}b",
            "<script>",
            "a:b",
            &"a".repeat(101),
        ] {
            assert!(
                matches!(resolve(bad), Err(IdentError::Invalid { .. })),
                "{bad:?} -> {:?}",
                resolve(bad)
            );
        }
    }
}
