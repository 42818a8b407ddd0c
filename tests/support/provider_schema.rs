//! Validates `terraform/` against the real provider schemas (hashicorp/aws, hashicorp/random), as
//! `terraform validate` would with the providers installed: unknown arguments, missing required
//! arguments or blocks, blocks written as attributes and the reverse, read-only attributes set, and
//! references to attributes a resource or data source does not have.
//!
//! The schemas come from `scripts/provider-schemas.py` (run by `make check-infra`), which takes them from
//! the pinned CDK-for-Terraform provider packages on npm into target/provider-schemas/.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl::expr::{Traversal, TraversalOperator};
use hcl::{Block, Body, Expression};
use serde::Deserialize;

use crate::hcl_eval::{Module, walk_body};

#[derive(Debug, Deserialize, Default)]
pub struct SchemaBlock {
    #[serde(default)]
    attributes: BTreeMap<String, SchemaAttribute>,
    #[serde(default)]
    block_types: BTreeMap<String, BlockType>,
}

#[derive(Debug, Deserialize, Default)]
struct SchemaAttribute {
    #[serde(default)]
    required: bool,
    #[serde(default)]
    optional: bool,
    #[serde(default)]
    computed: bool,
}

#[derive(Debug, Deserialize)]
struct BlockType {
    block: SchemaBlock,
    #[serde(default)]
    min_items: u32,
}

#[derive(Debug, Deserialize)]
struct Wrapped {
    block: SchemaBlock,
}

#[derive(Debug, Deserialize)]
struct ProviderSchema {
    provider: Option<Wrapped>,
    #[serde(default)]
    resource_schemas: BTreeMap<String, Wrapped>,
    #[serde(default)]
    data_source_schemas: BTreeMap<String, Wrapped>,
}

#[derive(Debug, Deserialize)]
struct SchemaFile {
    provider_schemas: BTreeMap<String, ProviderSchema>,
    generated_from: String,
}

/// The providers this project uses, by local name.
pub struct Schemas {
    providers: BTreeMap<String, ProviderSchema>,
    pub generated_from: Vec<String>,
}

pub fn schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/provider-schemas")
}

impl Schemas {
    pub fn load() -> Schemas {
        let mut providers = BTreeMap::new();
        let mut generated_from = Vec::new();
        for name in ["aws", "random"] {
            let path = schema_dir().join(format!("{name}.json"));
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "{}: {e}: run scripts/provider-schemas.py (`make check-infra` does)",
                    path.display()
                )
            });
            let file: SchemaFile = serde_json::from_str(&text).expect("a provider schema");
            generated_from.push(file.generated_from);
            let (_, schema) = file
                .provider_schemas
                .into_iter()
                .next()
                .expect("one provider");
            providers.insert(name.to_string(), schema);
        }
        Schemas {
            providers,
            generated_from,
        }
    }

    fn provider_of(ty: &str) -> &str {
        ty.split('_').next().unwrap_or(ty)
    }

    fn resource(&self, ty: &str) -> Option<&SchemaBlock> {
        let p = self.providers.get(Self::provider_of(ty))?;
        p.resource_schemas.get(ty).map(|w| &w.block)
    }

    fn data_source(&self, ty: &str) -> Option<&SchemaBlock> {
        let p = self.providers.get(Self::provider_of(ty))?;
        p.data_source_schemas.get(ty).map(|w| &w.block)
    }

    fn is_managed(&self, ty: &str) -> bool {
        self.providers.contains_key(Self::provider_of(ty))
    }

    /// Everything in the module the provider would refuse, one line each.
    pub fn check(&self, module: &Module) -> Vec<String> {
        self.check_body(&module.name(), module.body())
    }

    /// As `check`, for HCL text (the validator's own tests inject faults through this).
    pub fn check_text(&self, name: &str, text: &str) -> Vec<String> {
        self.check_body(name, &hcl::parse(text).expect("HCL"))
    }

    fn check_body(&self, me: &str, body: &Body) -> Vec<String> {
        let mut problems = Vec::new();
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
            match (block.identifier(), labels.as_slice()) {
                ("resource", [ty, name]) if self.is_managed(ty) => match self.resource(ty) {
                    Some(schema) => check_block(
                        &format!("{me}: {ty}.{name}"),
                        block.body(),
                        schema,
                        &RESOURCE_META,
                        &mut problems,
                    ),
                    None => problems.push(format!("{me}: resource type {ty} does not exist")),
                },
                ("data", [ty, name]) if self.is_managed(ty) => match self.data_source(ty) {
                    Some(schema) => check_block(
                        &format!("{me}: data.{ty}.{name}"),
                        block.body(),
                        schema,
                        &RESOURCE_META,
                        &mut problems,
                    ),
                    None => problems.push(format!("{me}: data source {ty} does not exist")),
                },
                ("provider", [name]) => match self.providers.get(*name) {
                    Some(ProviderSchema {
                        provider: Some(p), ..
                    }) => check_block(
                        &format!("{me}: provider {name}"),
                        block.body(),
                        &p.block,
                        &PROVIDER_META,
                        &mut problems,
                    ),
                    _ => problems.push(format!(
                        "{me}: provider {name} is not one this project pins"
                    )),
                },
                ("ephemeral", [ty, _]) => problems.push(format!(
                    "{me}: ephemeral {ty}: no schema to check it against"
                )),
                _ => {}
            }
        }
        walk_body(body, &mut |t: &Traversal| {
            if let Some(problem) = self.check_reference(t) {
                problems.push(format!("{me}: {problem}"));
            }
        });
        problems
    }

    /// `aws_x.name.attr` and `data.aws_x.name.attr`: does the type have `attr`?
    fn check_reference(&self, t: &Traversal) -> Option<String> {
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        // Names in order, past indexes and splats (`aws_x.name[0].attr`, `aws_x.name[*].attr`).
        let names: Vec<String> = t
            .operators
            .iter()
            .filter_map(|op| match op {
                TraversalOperator::GetAttr(a) => Some(a.to_string()),
                _ => None,
            })
            .collect();
        // `data.<type>.<name>.<attr>` or `<type>.<name>.<attr>`.
        let (shown, ty, rest) = match root.as_str() {
            "data" => (
                format!("data.{}", names.first()?),
                names.first()?.clone(),
                &names[1..],
            ),
            ty => (ty.to_string(), ty.to_string(), &names[..]),
        };
        let (name, attr) = (rest.first()?, rest.get(1)?);
        if !self.is_managed(&ty) {
            return None;
        }
        let schema = if root.as_str() == "data" {
            self.data_source(&ty)?
        } else {
            self.resource(&ty)?
        };
        let known = schema.attributes.contains_key(attr.as_str())
            || schema.block_types.contains_key(attr.as_str());
        (!known).then(|| format!("{shown}.{name}.{attr}: {ty} has no attribute {attr}"))
    }
}

/// What Terraform itself takes beside the provider's schema: on resources and data sources, on
/// providers, and inside blocks (nothing).
struct Meta {
    attributes: &'static [&'static str],
    blocks: &'static [&'static str],
}
const RESOURCE_META: Meta = Meta {
    attributes: &["count", "for_each", "depends_on", "provider"],
    blocks: &["lifecycle", "provisioner", "connection"],
};
const PROVIDER_META: Meta = Meta {
    attributes: &["alias"],
    blocks: &[],
};
const NO_META: Meta = Meta {
    attributes: &[],
    blocks: &[],
};

fn check_block(
    at: &str,
    body: &Body,
    schema: &SchemaBlock,
    meta: &Meta,
    problems: &mut Vec<String>,
) {
    for a in body.attributes() {
        let key = a.key();
        if meta.attributes.contains(&key) {
            continue;
        }
        match schema.attributes.get(key) {
            Some(s) if s.computed && !s.optional && !s.required => problems.push(format!(
                "{at}: {key} is read-only (computed by the provider)"
            )),
            Some(_) => {}
            None if schema.block_types.contains_key(key) => problems.push(format!(
                "{at}: {key} is a block, written as an attribute (`{key} = ...`)"
            )),
            None => problems.push(format!("{at}: unknown argument {key}")),
        }
    }
    let mut blocks: BTreeMap<String, Vec<&Body>> = BTreeMap::new();
    for b in body.blocks() {
        let (name, inner) = block_name(b);
        if !meta.blocks.contains(&name.as_str()) {
            blocks.entry(name).or_default().push(inner);
        }
    }
    for (name, bodies) in &blocks {
        match schema.block_types.get(name) {
            Some(bt) => bodies.iter().for_each(|b| {
                check_block(&format!("{at}.{name}"), b, &bt.block, &NO_META, problems)
            }),
            None if schema.attributes.contains_key(name) => problems.push(format!(
                "{at}: {name} is an attribute, written as a block (`{name} {{ ... }}`)"
            )),
            None => problems.push(format!("{at}: unknown block {name}")),
        }
    }
    for (key, s) in &schema.attributes {
        if s.required && body.attributes().all(|a| a.key() != key) {
            problems.push(format!("{at}: missing required argument {key}"));
        }
    }
    for (name, bt) in &schema.block_types {
        if bt.min_items > 0 && !blocks.contains_key(name) {
            problems.push(format!("{at}: missing required block {name}"));
        }
    }
}

/// A block's name and body; `dynamic "x" { content { ... } }` is block `x` with the content's body.
fn block_name(b: &Block) -> (String, &Body) {
    if b.identifier() == "dynamic" {
        let name = b
            .labels()
            .first()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default();
        let content = b
            .body()
            .blocks()
            .find(|c| c.identifier() == "content")
            .map(|c| c.body())
            .unwrap_or(b.body());
        (name, content)
    } else {
        (b.identifier().to_string(), b.body())
    }
}
