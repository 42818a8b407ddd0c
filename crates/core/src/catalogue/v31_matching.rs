//! REST Countries v3.1's matching, as its server did it (`CountryServiceBaseV3` and
//! `CountryControllerV31` in restcountries/restcountries), over a [`Snapshot`]. Each function returns the
//! matching countries in catalogue order; an empty answer is v3.1's 404.
//!
//! Where this knowingly differs from v3.1 (docs/api.md, "Differences from v3.1"): `currency` lowers the
//! query too (v3.1 compared names with the query as typed), and `alpha?codes=` and `fields` trim spaces
//! around each item.

use super::{Field, Snapshot, field, lines};

/// v3.1's 400 `Bad Request`: an alpha code that is not 2 or 3 characters, or a code list of one long code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRequest;

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn matching(s: &Snapshot, pred: impl Fn(&super::Facets) -> bool) -> Vec<usize> {
    s.facets()
        .filter(|(_, f)| pred(f))
        .map(|(i, _)| i)
        .collect()
}

pub fn all(s: &Snapshot) -> Vec<usize> {
    (0..s.len()).collect()
}

/// `name/{name}`: the common or official name contains it, or an alternate spelling does, ignoring
/// case; with `fullText`, the first country whose common or official name is it.
pub fn name(s: &Snapshot, name: &str, full_text: bool) -> Vec<usize> {
    let q = lower(name);
    if full_text {
        let exact = |n: &str| lower(n) == q;
        return matching(s, |f| exact(&f.common) || exact(&f.official))
            .into_iter()
            .take(1)
            .collect();
    }
    matching(s, |f| {
        lower(&f.common).contains(&q)
            || lower(&f.official).contains(&q)
            || lines(&f.alt_lower).any(|a| a.contains(&q))
    })
}

fn by_alpha(s: &Snapshot, code: &str) -> Vec<usize> {
    matching(s, |f| {
        [&f.cca2, &f.ccn3, &f.cca3, &f.cioc]
            .iter()
            .any(|c| !c.is_empty() && c.eq_ignore_ascii_case(code))
    })
}

/// The most codes `alpha?codes=` takes, after duplicates are dropped: each is a scan of the catalogue,
/// so an unbounded list was seconds of CPU on one request. 250 names every country once.
pub const MAX_CODES: usize = 250;
/// The longest `codes` list, in characters: 250 codes of 3 characters and their commas.
pub const MAX_CODES_CHARS: usize = 1_000;

/// `alpha/{code}`: cca2, ccn3, cca3 or cioc, ignoring case; 2 or 3 characters.
pub fn alpha(s: &Snapshot, code: &str) -> Result<Vec<usize>, BadRequest> {
    let code = code.strip_prefix("codes=").unwrap_or(code);
    if !(2..=3).contains(&code.chars().count()) {
        return Err(BadRequest);
    }
    Ok(by_alpha(s, code))
}

/// `alpha?codes=a,b,c`: each code as `alpha/{code}`, each country once; at most [`MAX_CODES`] distinct
/// codes and [`MAX_CODES_CHARS`] characters, and a longer list is v3.1's 400.
pub fn codes(s: &Snapshot, codes: &str) -> Result<Vec<usize>, BadRequest> {
    let length = codes.chars().count();
    if length < 2 || (length > 3 && !codes.contains(',')) || length > MAX_CODES_CHARS {
        return Err(BadRequest);
    }
    let mut asked: Vec<String> = codes
        .split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .collect();
    asked.sort_unstable();
    asked.dedup();
    if asked.len() > MAX_CODES {
        return Err(BadRequest);
    }
    let mut found: Vec<usize> = asked.iter().flat_map(|c| by_alpha(s, c)).collect();
    found.sort_unstable();
    found.dedup();
    Ok(found)
}

/// `currency/{c}`: the currency code, ignoring case, or a currency name containing it.
pub fn currency(s: &Snapshot, c: &str) -> Vec<usize> {
    let q = lower(c);
    matching(s, |f| {
        f.currencies
            .iter()
            .any(|(code, name)| code.eq_ignore_ascii_case(c) || lower(name).contains(&q))
    })
}

/// `capital/{c}`: a capital containing it, ignoring case and accents.
pub fn capital(s: &Snapshot, c: &str) -> Vec<usize> {
    let q = fold(c);
    matching(s, |f| lines(&f.capitals_folded).any(|cap| cap.contains(&q)))
}

/// Lowercase without combining marks: Java's `Normalizer` NFD with the marks removed.
pub(crate) fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    lower(s).nfd().filter(|c| !is_combining_mark(*c)).collect()
}

/// `region/{r}`: the region contains it, or the subregion is it, ignoring case.
pub fn region(s: &Snapshot, r: &str) -> Vec<usize> {
    let q = lower(r);
    matching(s, |f| {
        lower(&f.region).contains(&q) || f.subregion.eq_ignore_ascii_case(r)
    })
}

/// `subregion/{s}`: the subregion contains it, ignoring case.
pub fn subregion(s: &Snapshot, sub: &str) -> Vec<usize> {
    let q = lower(sub);
    matching(s, |f| lower(&f.subregion).contains(&q))
}

/// `lang/{l}`: a language's name or ISO 639-3 code is it, ignoring case.
pub fn lang(s: &Snapshot, l: &str) -> Vec<usize> {
    let q = lower(l);
    matching(s, |f| {
        f.languages
            .iter()
            .any(|(code, name)| lower(code) == q || lower(name) == q)
    })
}

/// `demonym/{d}`: a demonym contains it, ignoring case.
pub fn demonym(s: &Snapshot, d: &str) -> Vec<usize> {
    let q = lower(d);
    matching(s, |f| lines(&f.demonyms_lower).any(|v| v.contains(&q)))
}

/// `translation/{t}`: a translated name (common or official) contains it, ignoring case.
pub fn translation(s: &Snapshot, t: &str) -> Vec<usize> {
    let q = lower(t);
    matching(s, |f| lines(&f.translations_lower).any(|v| v.contains(&q)))
}

/// `independent?status=`: the countries whose `independent` is `status` (absent counts as false).
pub fn independent(s: &Snapshot, status: bool) -> Vec<usize> {
    matching(s, |f| f.independent.unwrap_or(false) == status)
}

/// `?fields=a,b`: the known top-level fields named, unknown names ignored; `None` (whole documents)
/// when the parameter is absent or empty.
pub fn fields(param: Option<&str>) -> Option<Vec<Field>> {
    let param = param.filter(|p| !p.is_empty())?;
    Some(param.split(',').filter_map(|f| field(f.trim())).collect())
}

#[cfg(test)]
mod tests {
    use super::super::testing::snapshot;
    use super::*;

    fn codes_of(found: Vec<usize>) -> Vec<String> {
        let mut c: Vec<String> = found
            .into_iter()
            .map(|i| snapshot().facet(i).cca2.clone())
            .collect();
        c.sort();
        c
    }

    #[test]
    fn names_substring_and_full_text() {
        let s = snapshot();
        let united = codes_of(name(s, "united", false));
        for c in ["US", "GB", "AE", "TZ", "UM"] {
            assert!(united.contains(&c.to_string()), "{c} in {united:?}");
        }
        assert_eq!(codes_of(name(s, "ARUBA", true)), ["AW"]);
        assert_eq!(codes_of(name(s, "Republic of Paraguay", true)), ["PY"]);
        assert!(name(s, "paragu", true).is_empty());
        // Alternate spellings count for the substring search.
        assert!(codes_of(name(s, "deutschland", false)).contains(&"DE".to_string()));
    }

    #[test]
    fn alpha_codes_and_their_bad_requests() {
        let s = snapshot();
        for c in ["py", "PRY", "600", "par", "codes=py"] {
            assert_eq!(codes_of(alpha(s, c).unwrap()), ["PY"], "{c}");
        }
        assert_eq!(alpha(s, "p"), Err(BadRequest));
        assert_eq!(alpha(s, "pary"), Err(BadRequest));
        assert!(alpha(s, "zz").unwrap().is_empty());
        assert_eq!(
            codes_of(codes(s, "py,bra, ARG,py").unwrap()),
            ["AR", "BR", "PY"]
        );
        assert_eq!(codes(s, "pary"), Err(BadRequest));
        assert_eq!(codes(s, "p"), Err(BadRequest));
    }

    #[test]
    fn the_other_routes_match_as_v31_did() {
        let s = snapshot();
        let eur = codes_of(currency(s, "eur"));
        assert!(eur.len() > 30 && eur.contains(&"DE".to_string()), "{eur:?}");
        assert!(codes_of(currency(s, "guaraní")).contains(&"PY".to_string()));
        assert_eq!(codes_of(capital(s, "asuncion")), ["PY"]);
        assert_eq!(codes_of(capital(s, "Asunción")), ["PY"]);
        let europe = region(s, "europe");
        assert_eq!(europe.len(), 53);
        // The region route also takes a subregion's exact name.
        assert_eq!(region(s, "south america"), subregion(s, "South America"));
        assert!(codes_of(lang(s, "spanish")).contains(&"PY".to_string()));
        assert!(codes_of(lang(s, "GRN")).contains(&"PY".to_string()));
        assert!(lang(s, "span").is_empty(), "a language is matched whole");
        assert_eq!(codes_of(demonym(s, "paraguayan")), ["PY"]);
        assert!(codes_of(translation(s, "paraguai")).contains(&"PY".to_string()));
        let (yes, no) = (independent(s, true).len(), independent(s, false).len());
        assert_eq!(yes + no, 250);
        assert!(yes > 190, "{yes}");
    }

    #[test]
    fn fields_keep_known_names_only() {
        assert_eq!(fields(None), None);
        assert_eq!(fields(Some("")), None);
        assert_eq!(fields(Some("name, capital,nope")), Some(vec![0, 12]));
        assert_eq!(fields(Some("nope")), Some(vec![]));
    }

    /// The list's cost is bounded before any scan (the security review's M4): a copy of a code costs
    /// nothing, and past 250 distinct codes or 1,000 characters the answer is v3.1's 400.
    #[test]
    fn a_codes_list_is_bounded_before_it_is_read() {
        let s = snapshot();
        let every: Vec<String> = (0..s.len()).map(|i| s.facet(i).cca3.clone()).collect();
        assert_eq!(every.len(), 250);
        assert_eq!(codes(s, &every.join(",")).unwrap().len(), 250);
        let copies = vec!["py"; 300].join(",");
        assert_eq!(codes_of(codes(s, &copies).unwrap()), ["PY"]);
        let mut too_many: Vec<String> = (0..251).map(|n| format!("{n:03}")).collect();
        too_many.sort();
        assert!(codes(s, &too_many.join(",")).is_err(), "251 distinct codes");
        assert!(
            codes(s, &format!("py,{}", " ".repeat(1_000))).is_err(),
            "over 1,000 characters"
        );
    }
}
