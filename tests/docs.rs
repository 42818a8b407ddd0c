//! The docs against the code: the settings table in docs/operations.md is the one list of environment
//! variables, so it must name exactly what the compositions read, say who reads each, give the defaults
//! the code uses, and each variable must be read in one place.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::path::Path;

use countries_core::config::{ConfigError, Source};
use countries_lambdas::api::ApiConfig;
use countries_lambdas::worker::WorkerConfig;
use countries_local::config::Config as LocalConfig;
use e2e::Recording;

/// One row of the table.
struct Setting {
    name: String,
    /// `None` where the table says `—`: required, or nothing when unset.
    default: Option<String>,
    read_by: BTreeSet<String>,
}

fn settings_table() -> Vec<Setting> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/operations.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let header = "| variable | default | read by | meaning |";
    let start = doc
        .find(header)
        .expect("operations.md has the settings table");
    let cell = |c: &str| c.trim().trim_matches('`').to_string();
    doc[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').collect();
            let default = cells[2].trim();
            Setting {
                name: cell(cells[1]),
                default: (default != "—").then(|| cell(default).replace("\"\"", "")),
                read_by: cells[3].split(',').map(cell).collect(),
            }
        })
        .collect()
}

/// Environments that together take every reader down every branch: the AWS backend with Redis, a v5
/// upstream with its key in a secret and without.
const AWS: [(&str, &str); 6] = [
    ("BACKEND", "aws"),
    ("COUNTRIES_TABLE", "countries"),
    ("OPERATIONS_TABLE", "operations"),
    ("FETCH_QUEUE_URL", "http://127.0.0.1:1/000000000000/fetch"),
    ("REDIS_URL", "redis://127.0.0.1:1"),
    ("REST_COUNTRIES_API_KEY_SECRET_ID", "arn:secret"),
];

fn bases() -> [BTreeMap<String, String>; 2] {
    let with = |extra: &[(&str, &str)]| -> BTreeMap<String, String> {
        AWS.iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let mut key_inline = with(&[
        ("COUNTRIES_UPSTREAM", "v5"),
        ("REST_COUNTRIES_API_KEY", "k"),
    ]);
    key_inline.remove("REST_COUNTRIES_API_KEY_SECRET_ID");
    [with(&[("COUNTRIES_UPSTREAM", "v5")]), key_inline]
}

type Reader = fn(&dyn Source) -> Result<Box<dyn Debug>, ConfigError>;

/// Each composition's whole configuration, compared by its `Debug` form (which shows every field but the
/// v5 key's value, never a default's concern).
fn readers() -> [(&'static str, Reader); 3] {
    [
        ("local", |s| Ok(Box::new(LocalConfig::from_source(s)?))),
        ("api", |s| Ok(Box::new(ApiConfig::from_source(s)?))),
        ("worker", |s| Ok(Box::new(WorkerConfig::from_source(s)?))),
    ]
}

fn read(reader: Reader, env: &BTreeMap<String, String>) -> (String, BTreeSet<String>) {
    let src = Recording::new(env.clone());
    let config = reader(&src).unwrap_or_else(|e| panic!("{env:?}: {e}"));
    (format!("{config:?}"), src.asked())
}

#[test]
fn the_settings_table_names_what_each_composition_reads() {
    let table = settings_table();
    let mut documented: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (who, _) in readers() {
        documented.insert(who, BTreeSet::new());
    }
    for s in &table {
        for who in &s.read_by {
            if who != "library" {
                documented
                    .get_mut(who.as_str())
                    .unwrap_or_else(|| panic!("{}: unknown reader `{who}`", s.name))
                    .insert(s.name.clone());
            }
        }
    }
    for (who, reader) in readers() {
        let asked: BTreeSet<String> = bases().iter().flat_map(|env| read(reader, env).1).collect();
        let undocumented: Vec<_> = asked.difference(&documented[who]).collect();
        let unread: Vec<_> = documented[who].difference(&asked).collect();
        assert!(
            undocumented.is_empty() && unread.is_empty(),
            "{who} reads {undocumented:?}, which docs/operations.md does not say; the table says it reads {unread:?}, which it does not"
        );
    }
}

#[test]
fn every_documented_default_is_the_one_the_code_uses() {
    let mut checked = 0;
    for s in settings_table() {
        let Some(default) = &s.default else { continue };
        for (who, reader) in readers() {
            if !s.read_by.contains(who) {
                continue;
            }
            for base in bases() {
                let mut unset = base.clone();
                unset.remove(&s.name);
                let mut set = unset.clone();
                set.insert(s.name.clone(), default.clone());
                assert_eq!(
                    read(reader, &unset).0,
                    read(reader, &set).0,
                    "{who}: {}={default:?} is not the same as leaving it unset",
                    s.name
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 50, "{checked}");
}

/// Read in one place: outside tests, each variable's name is written once in the code, in the function
/// that reads it. The libraries' own variables (the SDK's, tracing's) are theirs to read.
#[test]
fn each_setting_is_named_once_in_the_code() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut code = String::new();
    let mut dirs = vec![crates];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() && name != "tests" && name != "benches" && name != "data" {
                dirs.push(path);
            } else if name.ends_with(".rs") && !path.to_string_lossy().contains("/stub/") {
                let text = std::fs::read_to_string(&path).unwrap();
                code += text.split("#[cfg(test)]").next().unwrap();
            }
        }
    }
    for s in settings_table() {
        if s.read_by.contains("library") {
            continue;
        }
        let quoted = format!("\"{}\"", s.name);
        let count = code.matches(&quoted).count();
        assert_eq!(count, 1, "{quoted} is written {count} times");
    }
}

/// docs/api.md's table of routes says what the route table declares: every method and path (the
/// `/v3.1/...` row stands for every route under `/v3.1/`) with the rate-limit group it counts against.
#[test]
fn the_routes_table_in_the_api_docs_is_the_route_table() {
    use countries_api::routes::table::{Limit, table};
    let group = |limit: Limit| match limit {
        Limit::Read => "read",
        Limit::Fetch => "fetch",
        Limit::Sync => "sync",
        Limit::Exempt => "none",
    };
    let declared: BTreeSet<(String, String, &str)> = table()
        .iter()
        .flat_map(|route| {
            route
                .methods
                .iter()
                .map(|m| (m.method.to_string(), route.path.to_string(), group(m.limit)))
        })
        .collect();

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let header = "| method and path | what | limit group |";
    let start = doc.find(header).expect("api.md has the routes table");
    let mut documented = BTreeSet::new();
    for row in doc[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
    {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (routes, limit) = (cells[1], cells[3]);
        // `GET`, `POST /fetch/{country}`: a bare method takes the path of the next quoted one.
        let quoted: Vec<&str> = routes.split('`').skip(1).step_by(2).collect();
        let mut path = None;
        for q in quoted.iter().rev() {
            let (method, p) = match q.split_once(' ') {
                Some((m, p)) => (m, p),
                None => (*q, path.expect("a method before its path")),
            };
            path = Some(p);
            let paths: Vec<String> = match p.strip_suffix("...") {
                Some(prefix) => declared
                    .iter()
                    .filter(|(_, d, _)| d.starts_with(prefix))
                    .map(|(_, d, _)| d.clone())
                    .collect(),
                None => vec![p.to_string()],
            };
            for p in paths {
                documented.insert((method.to_string(), p, limit));
            }
        }
    }
    assert_eq!(
        documented, declared,
        "docs/api.md's routes table against routes::table"
    );
}
