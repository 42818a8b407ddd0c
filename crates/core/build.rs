//! Builds the identifier index at compile time from the bundled data set, so that a process pays nothing
//! for it at start-up (the api Lambda's cold start) and holds it in read-only memory.
//!
//! Writes `$OUT_DIR/index.rs` with the names' text and three sorted static tables of spans into it:
//! - `COUNTRIES`: (alpha-2, English common name), in data set order;
//! - `CODES`: ("a2:py" | "a3:pry" | "ioc:par" | "num:600", country), sorted by key;
//! - `NAMES`: (normalised name, tier, country), sorted, without duplicates.

#[path = "src/normalize.rs"]
mod normalize;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

fn main() {
    let data = "data/countriesV3.1.json";
    println!("cargo::rerun-if-changed={data}");
    println!("cargo::rerun-if-changed=src/normalize.rs");
    let json = std::fs::read_to_string(data).expect("the bundled data set");
    let countries: Vec<serde_json::Value> = serde_json::from_str(&json).expect("valid JSON");

    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut table = Vec::new();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    let mut names: BTreeSet<(String, u8, usize)> = BTreeSet::new();
    for (i, c) in countries.iter().enumerate() {
        table.push((text(&c["cca2"]), text(&c["name"]["common"])));
        for (kind, key) in [("a2", "cca2"), ("a3", "cca3"), ("ioc", "cioc")] {
            let value = text(&c[key]).to_ascii_lowercase();
            if !value.is_empty() {
                codes.entry(format!("{kind}:{value}")).or_insert(i);
            }
        }
        let ccn3 = text(&c["ccn3"]);
        if !ccn3.is_empty() {
            codes.insert(format!("num:{ccn3:0>3}"), i);
        }
        // Tiers, best first: 0 English common and official, 1 alternate spellings, 2 native, 3 translations.
        let mut add = |name: &serde_json::Value, tier: u8| {
            let key = normalize::normalize(name.as_str().unwrap_or_default());
            if !key.is_empty() {
                names.insert((key, tier, i));
            }
        };
        add(&c["name"]["common"], 0);
        add(&c["name"]["official"], 0);
        for alt in c["altSpellings"].as_array().into_iter().flatten() {
            add(alt, 1);
        }
        for (group, tier) in [(&c["name"]["nativeName"], 2), (&c["translations"], 3)] {
            for pair in group.as_object().into_iter().flatten().map(|(_, p)| p) {
                add(&pair["common"], tier);
                add(&pair["official"], tier);
            }
        }
    }

    // Strings are spans (offset, length) into one TEXT literal rather than `&str`s: a `&str` in a static
    // table is a pointer the loader must relocate in every process (10,000+ of them here, and the pages
    // holding them copied), while spans are plain read-only data paged in only when used.
    let mut text = String::new();
    let mut span = |s: &str| {
        let at = text.len();
        text.push_str(s);
        format!("({at}, {})", s.len())
    };
    let mut rows = String::new();
    writeln!(
        rows,
        "pub static COUNTRIES: [(Span, Span); {}] = [",
        table.len()
    )
    .unwrap();
    for (code, name) in &table {
        writeln!(rows, "    ({}, {}),", span(code), span(name)).unwrap();
    }
    writeln!(
        rows,
        "];\npub static CODES: [(Span, u16); {}] = [",
        codes.len()
    )
    .unwrap();
    for (key, i) in &codes {
        writeln!(rows, "    ({}, {i}),", span(key)).unwrap();
    }
    writeln!(
        rows,
        "];\npub static NAMES: [(Span, u8, u16); {}] = [",
        names.len()
    )
    .unwrap();
    for (name, tier, i) in &names {
        writeln!(rows, "    ({}, {tier}, {i}),", span(name)).unwrap();
    }
    writeln!(rows, "];").unwrap();
    assert!(u32::try_from(text.len()).is_ok());
    let out = format!(
        "/// (offset, length) of a string in TEXT.\npub type Span = (u32, u16);\npub static TEXT: &str = {text:?};\n{rows}"
    );
    let path = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("index.rs");
    std::fs::write(path, out).unwrap();
}
