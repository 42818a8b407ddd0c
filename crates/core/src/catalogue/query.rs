//! `GET /countries`: filters, name search, sorting and a cursor over a [`Snapshot`]. Parsing is here too,
//! so that every malformed parameter is refused with its name before anything is read.

use std::cmp::Ordering;

use memchr::memmem;

use super::{Facets, Field, Snapshot, field};
use crate::ident::contains_words;
use crate::normalize::normalize;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 250;
/// Longest value any parameter takes, in characters.
pub const MAX_VALUE_CHARS: usize = 100;

/// The parameters `/countries` takes.
pub const PARAMETERS: [&str; 15] = [
    "region",
    "subregion",
    "continent",
    "currency",
    "language",
    "independent",
    "unMember",
    "landlocked",
    "callingCode",
    "q",
    "fields",
    "sort",
    "limit",
    "cursor",
    "_",
];

/// A parameter the query refuses, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid parameter `{name}`: {reason}")]
pub struct QueryError {
    pub name: String,
    pub reason: String,
    /// A well-formed cursor given out for a query with other parameters (409, not 400: the request is
    /// well-formed, the cursor no longer fits it).
    pub foreign_cursor: bool,
}

fn bad(name: &str, reason: impl Into<String>) -> QueryError {
    QueryError {
        name: name.chars().take(40).collect(),
        reason: reason.into(),
        foreign_cursor: false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Population,
    Area,
    /// Best name match first (the default with `q`).
    Relevance,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    region: Option<String>,
    subregion: Option<String>,
    continent: Option<String>,
    currency: Option<String>,
    language: Option<String>,
    independent: Option<bool>,
    un_member: Option<bool>,
    landlocked: Option<bool>,
    calling_code: Option<String>,
    q: Option<String>,
    pub fields: Option<Vec<Field>>,
    sort: Option<(SortKey, bool)>,
    pub limit: usize,
    offset: usize,
    /// Identifies the query without its page: a cursor is valid only for the query it came from.
    fingerprint: u64,
}

/// One page of answers.
#[derive(Debug)]
pub struct Page {
    pub indices: Vec<usize>,
    pub total: usize,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
}

fn boolean(name: &str, v: &str) -> Result<bool, QueryError> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(name, "must be `true` or `false`")),
    }
}

/// What every parameter must be, whatever it means: known, given once, short, not empty (but `_`), and
/// without control characters.
fn well_formed(name: &str, value: &str, seen: &[&str]) -> Result<(), QueryError> {
    if !PARAMETERS.contains(&name) {
        let known: Vec<&str> = PARAMETERS.into_iter().filter(|p| *p != "_").collect();
        return Err(bad(
            name,
            format!("unknown; the parameters are {}", known.join(", ")),
        ));
    }
    if seen.contains(&name) {
        return Err(bad(name, "given more than once"));
    }
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(bad(
            name,
            format!("longer than {MAX_VALUE_CHARS} characters"),
        ));
    }
    if value.is_empty() && name != "_" {
        return Err(bad(name, "must not be empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(name, "contains control characters"));
    }
    Ok(())
}

fn calling_code(name: &str, value: &str) -> Result<String, QueryError> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if !(1..=6).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(
            name,
            "must be 1 to 6 digits, with or without a leading +",
        ));
    }
    Ok(digits.to_string())
}

fn fields(name: &str, value: &str) -> Result<Vec<Field>, QueryError> {
    value
        .split(',')
        .map(|f| {
            field(f).ok_or_else(|| {
                let shown: String = f.chars().take(40).collect();
                bad(name, format!("`{shown}` is not a field of a v3.1 document"))
            })
        })
        .collect()
}

fn sort(name: &str, value: &str) -> Result<(SortKey, bool), QueryError> {
    let (key, descending) = match value.strip_prefix('-') {
        Some(k) => (k, true),
        None => (value, false),
    };
    let key = match key {
        "name" => SortKey::Name,
        "population" => SortKey::Population,
        "area" => SortKey::Area,
        _ => {
            return Err(bad(
                name,
                "must be name, population or area, with a leading - for descending",
            ));
        }
    };
    Ok((key, descending))
}

fn limit(name: &str, value: &str) -> Result<usize, QueryError> {
    Some(value)
        .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .filter(|l| (1..=MAX_LIMIT).contains(l))
        .ok_or_else(|| {
            bad(
                name,
                format!("must be a whole number from 1 to {MAX_LIMIT}"),
            )
        })
}

impl Query {
    /// Parses the query string's pairs, in order: each parameter at most once, none unknown.
    pub fn parse(pairs: &[(String, String)]) -> Result<Query, QueryError> {
        let mut q = Query {
            limit: DEFAULT_LIMIT,
            ..Query::default()
        };
        let mut seen: Vec<&str> = Vec::new();
        let mut cursor = None;
        let mut identity: Vec<(&str, &str)> = Vec::new();
        for (name, value) in pairs {
            well_formed(name, value, &seen)?;
            seen.push(name);
            match name.as_str() {
                "cursor" => cursor = Some(value.as_str()),
                "_" => {} // a cache buster some clients add
                _ => q.apply(name, value)?,
            }
            if !matches!(name.as_str(), "limit" | "cursor" | "_") {
                identity.push((name, value));
            }
        }
        identity.sort_unstable();
        q.fingerprint = crate::fnv::fnv1a(
            identity
                .iter()
                .flat_map(|(k, v)| [k.as_bytes(), v.as_bytes()]),
        );
        if let Some(c) = cursor {
            q.offset = decode_cursor(c, q.fingerprint)?;
        }
        Ok(q)
    }

    /// Sets one filter, the search, the fields, the order or the page size from its value.
    fn apply(&mut self, name: &str, value: &str) -> Result<(), QueryError> {
        let text = || Some(value.trim().to_string());
        match name {
            "region" => self.region = text(),
            "subregion" => self.subregion = text(),
            "continent" => self.continent = text(),
            "currency" => self.currency = text(),
            "language" => self.language = text(),
            "independent" => self.independent = Some(boolean(name, value)?),
            "unMember" => self.un_member = Some(boolean(name, value)?),
            "landlocked" => self.landlocked = Some(boolean(name, value)?),
            "callingCode" => self.calling_code = Some(calling_code(name, value)?),
            // Without letters or digits it names nothing: an empty page, not an error.
            "q" => self.q = Some(normalize(value)),
            "fields" => self.fields = Some(fields(name, value)?),
            "sort" => self.sort = Some(sort(name, value)?),
            "limit" => self.limit = limit(name, value)?,
            other => unreachable!("`{other}` is in PARAMETERS but has no parser"),
        }
        Ok(())
    }

    fn matches(&self, f: &Facets) -> bool {
        let same = |a: &str, b: &str| normalize(a) == normalize(b);
        self.region.as_ref().is_none_or(|r| same(&f.region, r))
            && self
                .subregion
                .as_ref()
                .is_none_or(|r| same(&f.subregion, r))
            && self
                .continent
                .as_ref()
                .is_none_or(|c| f.continents.iter().any(|x| same(x, c)))
            && self.currency.as_ref().is_none_or(|c| {
                let n = normalize(c);
                f.currencies.iter().any(|(code, name)| {
                    code.eq_ignore_ascii_case(c) || contains_words(&normalize(name), &n)
                })
            })
            && self.language.as_ref().is_none_or(|l| {
                f.languages
                    .iter()
                    .any(|(code, name)| code.eq_ignore_ascii_case(l) || same(name, l))
            })
            && self
                .independent
                .is_none_or(|b| f.independent.unwrap_or(false) == b)
            && self.un_member.is_none_or(|b| f.un_member == b)
            && self.landlocked.is_none_or(|b| f.landlocked == b)
            && self
                .calling_code
                .as_ref()
                .is_none_or(|c| f.calling_codes.iter().any(|x| x == c))
    }

    /// How well `q` names the country, best lowest: (kind of match, name tier). Kinds: 0 the whole name,
    /// 1 its beginning, 2 whole words in it, 3 part of a word. One substring search over the country's
    /// names joined (most contain nothing), then only the names hit are looked at.
    fn rank(q: &memmem::Finder, f: &Facets) -> Option<(u8, u8)> {
        let q_text = std::str::from_utf8(q.needle()).expect("a normalised query is text");
        if q_text.is_empty() {
            return None;
        }
        let names = f.names.as_bytes();
        let mut best: Option<(u8, u8)> = None;
        let mut last_line = usize::MAX;
        for at in q.find_iter(names) {
            let start = memchr::memrchr(b'\n', &names[..at]).map_or(0, |p| p + 1);
            let line = memchr::memchr_iter(b'\n', &names[..start]).count();
            if line == last_line {
                continue;
            }
            last_line = line;
            let end = memchr::memchr(b'\n', &names[at..]).map_or(names.len(), |p| at + p);
            let name = &f.names[start..end];
            let kind = if name == q_text {
                0
            } else if at == start {
                1
            } else if contains_words(name, q_text) {
                2
            } else {
                3
            };
            let rank = (kind, f.tiers[line]);
            best = Some(best.map_or(rank, |b| b.min(rank)));
        }
        best
    }

    /// The page this query asks for.
    pub fn run(&self, s: &Snapshot) -> Page {
        let finder = self.q.as_deref().map(memmem::Finder::new);
        let mut hits: Vec<(usize, (u8, u8))> = s
            .facets()
            .filter(|(_, f)| self.matches(f))
            .filter_map(|(i, f)| match &finder {
                Some(q) => Query::rank(q, f).map(|r| (i, r)),
                None => Some((i, (0, 0))),
            })
            .collect();
        let (key, descending) = self.sort.unwrap_or(if self.q.is_some() {
            (SortKey::Relevance, false)
        } else {
            (SortKey::Name, false)
        });
        let by_name = |a: usize, b: usize| s.facet(a).sort_name.cmp(&s.facet(b).sort_name);
        let number = |i: usize| match key {
            SortKey::Population => s.facet(i).population,
            _ => s.facet(i).area,
        };
        hits.sort_by(|&(a, ra), &(b, rb)| {
            let order = match key {
                SortKey::Name => by_name(a, b),
                SortKey::Relevance => ra.cmp(&rb),
                SortKey::Population | SortKey::Area => {
                    number(a).partial_cmp(&number(b)).unwrap_or(Ordering::Equal)
                }
            };
            let order = if descending { order.reverse() } else { order };
            order.then_with(|| by_name(a, b))
        });
        let total = hits.len();
        let end = (self.offset + self.limit).min(total);
        let indices = hits
            .get(self.offset..end)
            .unwrap_or_default()
            .iter()
            .map(|(i, _)| *i)
            .collect();
        Page {
            indices,
            total,
            next: (end < total).then(|| encode_cursor(end, self.fingerprint)),
        }
    }

    /// Identifies this page of this query (the ETag, with the snapshot's revision).
    pub fn page_fingerprint(&self) -> String {
        format!("{:016x}-{}-{}", self.fingerprint, self.offset, self.limit)
    }
}

fn encode_cursor(offset: usize, fingerprint: u64) -> String {
    format!("{offset:08x}{:016x}", fingerprint ^ 0x5bd1_e995_5bd1_e995)
}

fn decode_cursor(c: &str, fingerprint: u64) -> Result<usize, QueryError> {
    let malformed = || bad("cursor", "not a cursor this service gave out");
    if c.len() != 24 || !c.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(malformed());
    }
    let offset = usize::from_str_radix(&c[..8], 16).map_err(|_| malformed())?;
    let fp = u64::from_str_radix(&c[8..], 16).map_err(|_| malformed())? ^ 0x5bd1_e995_5bd1_e995;
    if fp != fingerprint {
        return Err(QueryError {
            foreign_cursor: true,
            ..bad("cursor", "it belongs to a query with other parameters")
        });
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::super::testing::snapshot;
    use super::*;

    fn run(pairs: &[(&str, &str)]) -> Result<(Vec<String>, Page), QueryError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let page = Query::parse(&pairs)?.run(snapshot());
        let codes = page
            .indices
            .iter()
            .map(|&i| snapshot().facet(i).cca2.clone())
            .collect();
        Ok((codes, page))
    }

    #[test]
    fn filters_combine() {
        let (codes, page) = run(&[
            ("region", "americas"),
            ("landlocked", "true"),
            ("limit", "250"),
        ])
        .unwrap();
        assert_eq!(codes, ["BO", "PY"]);
        assert_eq!(page.total, 2);
        let (eur, _) = run(&[("currency", "EUR"), ("limit", "250")]).unwrap();
        let (euro, _) = run(&[("currency", "euro"), ("limit", "250")]).unwrap();
        assert_eq!(eur, euro);
        assert!(eur.len() > 30);
        let (gn, _) = run(&[("language", "guaraní")]).unwrap();
        let (grn, _) = run(&[("language", "GRN")]).unwrap();
        assert_eq!(
            (gn.clone(), grn),
            (vec!["AR".to_string(), "BO".into(), "PY".into()], gn)
        );
        assert_eq!(run(&[("callingCode", "+595")]).unwrap().0, ["PY"]);
        let (ones, _) = run(&[("callingCode", "1"), ("limit", "250")]).unwrap();
        assert!(ones.contains(&"US".to_string()) && ones.contains(&"CA".to_string()));
        let (sa, _) = run(&[
            ("continent", "South America"),
            ("unMember", "true"),
            ("independent", "true"),
            ("limit", "250"),
        ])
        .unwrap();
        assert_eq!(sa.len(), 12, "{sa:?}");
        assert_eq!(
            run(&[("subregion", "Northern Europe"), ("limit", "1")])
                .unwrap()
                .1
                .total,
            16
        );
    }

    #[test]
    fn name_search_is_partial_accent_insensitive_and_ranked() {
        let (codes, _) = run(&[("q", "united")]).unwrap();
        assert!(codes.len() >= 5, "{codes:?}");
        // A common name that begins with it before an official one that does.
        assert_eq!(codes[..3], ["AE", "GB", "US"], "{codes:?}");
        assert!(
            ["US", "GB", "AE", "UM"]
                .iter()
                .all(|c| codes.contains(&c.to_string()))
        );
        assert_eq!(run(&[("q", "cote d'ivo")]).unwrap().0[0], "CI");
        assert_eq!(run(&[("q", "CÔTE")]).unwrap().0[0], "CI");
        // An exact English name beats a translation that reads the same.
        assert_eq!(run(&[("q", "sudan")]).unwrap().0[0], "SD");
        assert_eq!(run(&[("q", "niger")]).unwrap().0[0], "NE");
        assert_eq!(run(&[("q", "deutschland")]).unwrap().0[0], "DE");
    }

    #[test]
    fn sorting_and_the_cursor_walk_every_country_once() {
        let (top, _) = run(&[("sort", "-population"), ("limit", "3")]).unwrap();
        assert_eq!(top, ["IN", "CN", "US"]);
        let (small, _) = run(&[("sort", "area"), ("limit", "1")]).unwrap();
        assert_eq!(small, ["VA"]);
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut pairs = vec![("limit", "100"), ("sort", "-name")];
            if let Some(c) = &cursor {
                pairs.push(("cursor", c));
            }
            let (codes, page) = run(&pairs).unwrap();
            seen.extend(codes);
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen.len(), 250);
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 250);
    }

    #[test]
    fn bad_parameters_are_named() {
        for (pairs, name) in [
            (vec![("regio", "europe")], "regio"),
            (vec![("region", "")], "region"),
            (vec![("fields", "name, capital")], "fields"),
            (vec![("limit", "+5")], "limit"),
            (vec![("landlocked", "yes")], "landlocked"),
            (vec![("limit", "0")], "limit"),
            (vec![("limit", "251")], "limit"),
            (vec![("sort", "gdp")], "sort"),
            (vec![("fields", "name,gdp")], "fields"),
            (vec![("callingCode", "12a")], "callingCode"),
            (vec![("cursor", "abc")], "cursor"),
            (vec![("region", "europe"), ("region", "asia")], "region"),
        ] {
            match run(&pairs) {
                Err(e) => assert_eq!(e.name, name, "{pairs:?}"),
                Ok(_) => panic!("{pairs:?} was accepted"),
            }
        }
        let (_, page) = run(&[("region", "europe"), ("limit", "5")]).unwrap();
        let other = run(&[
            ("region", "asia"),
            ("cursor", page.next.as_deref().unwrap()),
        ]);
        assert!(other.unwrap_err().foreign_cursor);
        // Well-formed but naming nothing: an empty page.
        assert_eq!(run(&[("q", "--")]).unwrap().1.total, 0);
        assert_eq!(run(&[("region", "  ")]).unwrap().1.total, 0);
    }
}
