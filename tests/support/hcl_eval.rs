//! Reads `terraform/` for the contract test (tests/infra_contract.rs) and evaluates the expressions it
//! needs: a partial evaluator, because Terraform itself cannot plan here without its providers.
//!
//! Evaluated: literals, lists, objects, templates, `var.*` (tfvars over defaults; module arguments over
//! defaults), `local.*`, `each.key` and `each.value` (in `Scope::resource_each`), `module.<m>.<output>`, a resource's own arguments, `tostring`, `merge`,
//! `jsonencode` (to the encoded value, so its fields can be read), `max`, `ceil`, `+ - * /`. Everything else, and
//! every attribute AWS computes at apply (ARNs, URLs, endpoints), is `V::Unknown`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use hcl::expr::{BinaryOperator, Operation, TemplateExpr, Traversal, TraversalOperator};
use hcl::template::Element;
use hcl::{Block, Body, Expression, ObjectKey, Template};

/// A value, as far as it is known before `apply`.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    List(Vec<V>),
    Map(BTreeMap<String, V>),
    /// Known only after apply (or beyond this evaluator): the expression, for messages.
    Unknown(String),
}

impl V {
    pub fn str(&self) -> String {
        match self {
            V::Str(s) => s.clone(),
            other => panic!("expected a string, got {other:?}"),
        }
    }

    pub fn num(&self) -> f64 {
        match self {
            V::Num(n) => *n,
            V::Str(s) => s
                .parse()
                .unwrap_or_else(|_| panic!("expected a number, got {s:?}")),
            other => panic!("expected a number, got {other:?}"),
        }
    }

    fn text(&self) -> Option<String> {
        match self {
            V::Str(s) => Some(s.clone()),
            V::Num(n) if n.fract() == 0.0 => Some(format!("{}", *n as i64)),
            V::Num(n) => Some(n.to_string()),
            V::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

pub fn terraform_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../terraform")
        .canonicalize()
        .expect("terraform/ beside tests/")
}

/// Every `.tf` file under terraform/, with its text.
pub fn all_tf_files() -> Vec<(PathBuf, String)> {
    all_modules()
        .into_iter()
        .flat_map(|m| m.files.clone())
        .collect()
}

/// Every Terraform module: the roots (service, pipeline, bootstrap) and terraform/modules/*.
pub fn all_modules() -> Vec<Module> {
    let dir = terraform_dir();
    let mut dirs: Vec<PathBuf> = ["service", "pipeline", "bootstrap"]
        .iter()
        .map(|d| dir.join(d))
        .collect();
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir.join("modules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    children.sort();
    dirs.extend(children);
    dirs.iter().map(|d| Module::load(d)).collect()
}

/// A `.tfvars` file of terraform/environments.
pub fn tfvars(file: &str) -> BTreeMap<String, V> {
    let path = terraform_dir().join("environments").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let empty = Scope::new(Rc::new(Module::empty()), BTreeMap::new());
    body.attributes()
        .map(|a| (a.key().to_string(), empty.eval(a.expr())))
        .collect()
}

/// One Terraform module: all blocks of the `.tf` files of one directory.
pub struct Module {
    dir: PathBuf,
    body: Body,
    files: Vec<(PathBuf, String)>,
}

impl Module {
    pub fn load(dir: &Path) -> Module {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        paths.sort();
        let mut structures = Vec::new();
        let mut files = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            let body = hcl::parse(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            structures.extend(body.into_inner());
            files.push((path, text));
        }
        Module {
            dir: dir.to_path_buf(),
            body: Body::from(structures),
            files,
        }
    }

    fn empty() -> Module {
        Module {
            dir: PathBuf::new(),
            body: Body::default(),
            files: Vec::new(),
        }
    }

    /// All blocks and attributes of the module's files.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The module's path under terraform/.
    pub fn name(&self) -> String {
        self.dir
            .strip_prefix(terraform_dir())
            .unwrap_or(&self.dir)
            .display()
            .to_string()
    }

    fn blocks<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
        self.body.blocks().filter(move |b| b.identifier() == kind)
    }

    fn find(&self, kind: &str, labels: &[&str]) -> Option<&Block> {
        self.body.blocks().find(|b| {
            b.identifier() == kind
                && b.labels().len() == labels.len()
                && b.labels()
                    .iter()
                    .zip(labels)
                    .all(|(l, want)| l.as_str() == *want)
        })
    }

    pub fn has_variable(&self, name: &str) -> bool {
        self.find("variable", &[name]).is_some()
    }

    /// A variable's default, evaluated.
    pub fn variable_default(&self, name: &str) -> V {
        let block = self
            .find("variable", &[name])
            .unwrap_or_else(|| panic!("{}: no variable {name}", self.name()));
        match attr(block.body(), "default") {
            Some(e) => Scope::new(Rc::new(Module::empty()), BTreeMap::new()).eval(e),
            None => V::Unknown(format!("var.{name} has no default")),
        }
    }

    fn locals(&self) -> impl Iterator<Item = &hcl::Attribute> {
        self.blocks("locals").flat_map(|b| b.body().attributes())
    }

    fn child_dir(&self, module: &Block) -> PathBuf {
        let source = attr(module.body(), "source")
            .and_then(|e| match e {
                Expression::String(s) => Some(s.clone()),
                _ => None,
            })
            .expect("a module block with a literal source");
        let dir = self.dir.join(&source);
        dir.canonicalize()
            .unwrap_or_else(|e| panic!("{}: module source {source}: {e}", self.name()))
    }

    /// What does not add up inside the module and between it and the modules it calls: references to
    /// undeclared variables, locals, resources, modules or outputs; module calls that miss a required
    /// variable or pass an unknown one; a reusable module without its three files or a pinned provider.
    pub fn check_references(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let me = self.name();
        let mut refs: Vec<(String, Vec<String>)> = Vec::new();
        // A `moved` block names addresses that no longer exist, on purpose.
        let current = Body::from(
            self.body
                .clone()
                .into_iter()
                .filter(|s| s.as_block().is_none_or(|b| b.identifier() != "moved"))
                .collect::<Vec<_>>(),
        );
        walk_body(&current, &mut |t: &Traversal| {
            if let Expression::Variable(root) = &t.expr {
                let attrs = t
                    .operators
                    .iter()
                    .map_while(|op| match op {
                        TraversalOperator::GetAttr(a) => Some(a.to_string()),
                        _ => None,
                    })
                    .collect();
                refs.push((root.to_string(), attrs));
            }
        });
        let locals: BTreeSet<String> = self.locals().map(|a| a.key().to_string()).collect();
        for (root, attrs) in &refs {
            let first = attrs.first().cloned().unwrap_or_default();
            match root.as_str() {
                "var" if !self.has_variable(&first) => {
                    problems.push(format!("{me}: var.{first} is not declared"))
                }
                "local" if !locals.contains(&first) => {
                    problems.push(format!("{me}: local.{first} is not defined"))
                }
                "module" => match self.find("module", &[&first]) {
                    None => problems.push(format!("{me}: module.{first} is not declared")),
                    Some(block) => {
                        let output = attrs.get(1).cloned().unwrap_or_default();
                        let child = Module::load(&self.child_dir(block));
                        if child.find("output", &[&output]).is_none() {
                            problems.push(format!(
                                "{me}: module.{first}.{output}: {} has no such output",
                                child.name()
                            ));
                        }
                    }
                },
                "data" => {
                    let name = attrs.get(1).cloned().unwrap_or_default();
                    if self.find("data", &[&first, &name]).is_none() {
                        problems.push(format!("{me}: data.{first}.{name} is not declared"));
                    }
                }
                ty if (ty.starts_with("aws_") || ty.starts_with("random_"))
                    && self.find("resource", &[ty, &first]).is_none() =>
                {
                    problems.push(format!("{me}: {ty}.{first} is not declared"));
                }
                _ => {}
            }
        }
        const META: [&str; 6] = [
            "source",
            "version",
            "count",
            "for_each",
            "providers",
            "depends_on",
        ];
        for block in self.blocks("module") {
            let label = block.labels()[0].as_str();
            let child = Module::load(&self.child_dir(block));
            let given: BTreeSet<&str> = block
                .body()
                .attributes()
                .map(|a| a.key())
                .filter(|k| !META.contains(k))
                .collect();
            for var in child.blocks("variable") {
                let name = var.labels()[0].as_str();
                if attr(var.body(), "default").is_none() && !given.contains(name) {
                    problems.push(format!(
                        "{me}: module.{label} does not pass the required {name}"
                    ));
                }
            }
            for name in given {
                if !child.has_variable(name) {
                    problems.push(format!(
                        "{me}: module.{label} passes {name}, which {} does not declare",
                        child.name()
                    ));
                }
            }
        }
        for var in self.blocks("variable").chain(self.blocks("output")) {
            if attr(var.body(), "description").is_none() {
                problems.push(format!(
                    "{me}: {} {} has no description",
                    var.identifier(),
                    var.labels()[0].as_str()
                ));
            }
        }
        if me.starts_with("modules/") {
            for file in ["variables.tf", "outputs.tf", "versions.tf"] {
                if !self.dir.join(file).is_file() {
                    problems.push(format!("{me}: no {file}"));
                }
            }
        }
        let pinned = self.blocks("terraform").any(|t| {
            t.body().blocks().any(|rp| {
                rp.identifier() == "required_providers"
                    && attr(rp.body(), "aws").is_some_and(|e| e.to_string().contains("version"))
            })
        });
        if !pinned {
            problems.push(format!("{me}: the aws provider's version is not pinned"));
        }
        problems
    }
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn template(t: &TemplateExpr) -> Option<Template> {
    Template::from_expr(t).ok()
}

pub fn walk_body(body: &Body, f: &mut dyn FnMut(&Traversal)) {
    for a in body.attributes() {
        walk(a.expr(), f);
    }
    for b in body.blocks() {
        walk_body(b.body(), f);
    }
}

fn walk(e: &Expression, f: &mut dyn FnMut(&Traversal)) {
    match e {
        Expression::Array(items) => items.iter().for_each(|i| walk(i, f)),
        Expression::Object(o) => o.iter().for_each(|(k, v)| {
            if let ObjectKey::Expression(k) = k {
                walk(k, f);
            }
            walk(v, f);
        }),
        Expression::TemplateExpr(t) => {
            for el in template(t).iter().flat_map(|t| t.elements().to_vec()) {
                if let Element::Interpolation(i) = el {
                    walk(&i.expr, f);
                }
            }
        }
        Expression::Traversal(t) => {
            f(t);
            walk(&t.expr, f);
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op {
                    walk(i, f);
                }
            }
        }
        Expression::FuncCall(c) => c.args.iter().for_each(|a| walk(a, f)),
        Expression::Parenthesis(p) => walk(p, f),
        Expression::Conditional(c) => {
            walk(&c.cond_expr, f);
            walk(&c.true_expr, f);
            walk(&c.false_expr, f);
        }
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => walk(&u.expr, f),
            Operation::Binary(b) => {
                walk(&b.lhs_expr, f);
                walk(&b.rhs_expr, f);
            }
        },
        Expression::ForExpr(fe) => {
            walk(&fe.collection_expr, f);
            walk(&fe.value_expr, f);
            if let Some(k) = &fe.key_expr {
                walk(k, f);
            }
            if let Some(c) = &fe.cond_expr {
                walk(c, f);
            }
        }
        _ => {}
    }
}

/// A module with its variables' values: where expressions are evaluated. Inside one instance of a
/// `for_each` resource, `each.key` and `each.value` too.
#[derive(Clone)]
pub struct Scope {
    module: Rc<Module>,
    vars: BTreeMap<String, V>,
    each: Option<(String, V)>,
}

impl Scope {
    fn new(module: Rc<Module>, given: BTreeMap<String, V>) -> Scope {
        let mut vars = BTreeMap::new();
        for block in module.blocks("variable") {
            let name = block.labels()[0].as_str().to_string();
            let value = match given.get(&name) {
                Some(v) => v.clone(),
                None => module.variable_default(&name),
            };
            vars.insert(name, value);
        }
        Scope {
            module,
            vars,
            each: None,
        }
    }

    /// A resource of this module, to read its arguments.
    pub fn resource(&self, ty: &str, name: &str) -> BlockView<'_> {
        let block = self
            .module
            .find("resource", &[ty, name])
            .unwrap_or_else(|| panic!("{}: no resource {ty}.{name}", self.module.name()));
        BlockView {
            scope: Cow::Borrowed(self),
            body: block.body().clone(),
        }
    }

    /// The instance `key` of a `for_each` resource: its arguments see `each.key` and `each.value`.
    pub fn resource_each(&self, ty: &str, name: &str, key: &str) -> BlockView<'_> {
        let block = self
            .module
            .find("resource", &[ty, name])
            .unwrap_or_else(|| panic!("{}: no resource {ty}.{name}", self.module.name()));
        let V::Map(instances) = attr(block.body(), "for_each").map_or(V::Null, |e| self.eval(e))
        else {
            panic!("{ty}.{name}: for_each is not a map known before apply")
        };
        let value = instances
            .get(key)
            .unwrap_or_else(|| panic!("{ty}.{name} has no instance {key:?}"))
            .clone();
        let mut scope = self.clone();
        scope.each = Some((key.to_string(), value));
        BlockView {
            scope: Cow::Owned(scope),
            body: block.body().clone(),
        }
    }

    /// A local value of this module, evaluated.
    pub fn local(&self, key: &str) -> V {
        let e = self
            .module
            .locals()
            .find(|a| a.key() == key)
            .unwrap_or_else(|| panic!("{}: no local.{key}", self.module.name()))
            .expr()
            .clone();
        self.eval(&e)
    }

    pub fn resource_arg(&self, ty: &str, name: &str, arg: &str) -> V {
        self.resource(ty, name).arg(arg)
    }

    /// The scope of a module this one calls, its arguments evaluated here.
    fn child(&self, name: &str) -> Scope {
        let block = self
            .module
            .find("module", &[name])
            .unwrap_or_else(|| panic!("{}: no module {name}", self.module.name()));
        let child = Module::load(&self.module.child_dir(block));
        let args = block
            .body()
            .attributes()
            .map(|a| (a.key().to_string(), self.eval(a.expr())))
            .collect();
        Scope::new(Rc::new(child), args)
    }

    fn output(&self, name: &str) -> V {
        let block = self
            .module
            .find("output", &[name])
            .unwrap_or_else(|| panic!("{}: no output {name}", self.module.name()));
        self.eval(attr(block.body(), "value").expect("an output has a value"))
    }

    pub fn eval(&self, e: &Expression) -> V {
        match e {
            Expression::Null => V::Null,
            Expression::Bool(b) => V::Bool(*b),
            Expression::Number(n) => V::Num(n.as_f64().unwrap_or(f64::NAN)),
            Expression::String(s) => V::Str(s.clone()),
            Expression::Array(items) => V::List(items.iter().map(|i| self.eval(i)).collect()),
            Expression::Object(o) => V::Map(
                o.iter()
                    .map(|(k, v)| {
                        let key = match k {
                            ObjectKey::Identifier(i) => i.to_string(),
                            ObjectKey::Expression(e) => {
                                self.eval(e).text().unwrap_or_else(|| e.to_string())
                            }
                            other => other.to_string(),
                        };
                        (key, self.eval(v))
                    })
                    .collect(),
            ),
            Expression::TemplateExpr(t) => {
                let Some(tpl) = template(t) else {
                    return V::Unknown(e.to_string());
                };
                let mut out = String::new();
                for el in tpl.elements() {
                    match el {
                        Element::Literal(s) => out.push_str(s),
                        Element::Interpolation(i) => match self.eval(&i.expr).text() {
                            Some(s) => out.push_str(&s),
                            None => return V::Unknown(e.to_string()),
                        },
                        Element::Directive(_) => return V::Unknown(e.to_string()),
                    }
                }
                V::Str(out)
            }
            Expression::Traversal(t) => self
                .traverse(t)
                .unwrap_or_else(|| V::Unknown(e.to_string())),
            Expression::FuncCall(c) => {
                let args: Vec<V> = c.args.iter().map(|a| self.eval(a)).collect();
                let unknown = V::Unknown(e.to_string());
                if args.iter().any(|a| matches!(a, V::Unknown(_))) {
                    return unknown;
                }
                match (c.name.name.as_str(), args.as_slice()) {
                    ("tostring", [v]) => v.text().map(V::Str).unwrap_or(unknown),
                    ("jsonencode", [v]) => v.clone(),
                    ("merge", maps) => {
                        let mut out = BTreeMap::new();
                        for m in maps {
                            let V::Map(m) = m else { return unknown };
                            out.extend(m.clone());
                        }
                        V::Map(out)
                    }
                    ("ceil", [V::Num(n)]) => V::Num(n.ceil()),
                    ("max", nums) if !nums.is_empty() => {
                        V::Num(nums.iter().map(V::num).fold(f64::MIN, f64::max))
                    }
                    _ => unknown,
                }
            }
            Expression::Parenthesis(p) => self.eval(p),
            Expression::Operation(op) => match op.as_ref() {
                Operation::Binary(b) => {
                    let (l, r) = (self.eval(&b.lhs_expr), self.eval(&b.rhs_expr));
                    match (&l, &r, b.operator) {
                        (V::Num(l), V::Num(r), BinaryOperator::Mul) => V::Num(l * r),
                        (V::Num(l), V::Num(r), BinaryOperator::Plus) => V::Num(l + r),
                        (V::Num(l), V::Num(r), BinaryOperator::Minus) => V::Num(l - r),
                        (V::Num(l), V::Num(r), BinaryOperator::Div) => V::Num(l / r),
                        _ => V::Unknown(e.to_string()),
                    }
                }
                Operation::Unary(_) => V::Unknown(e.to_string()),
            },
            _ => V::Unknown(e.to_string()),
        }
    }

    fn traverse(&self, t: &Traversal) -> Option<V> {
        let Expression::Variable(root) = &t.expr else {
            return None;
        };
        let ops = &t.operators;
        let name = |i: usize| match ops.get(i) {
            Some(TraversalOperator::GetAttr(a)) => Some(a.to_string()),
            _ => None,
        };
        let (value, rest) = match root.as_str() {
            "var" => (self.vars.get(&name(0)?)?.clone(), 1),
            "local" => {
                let key = name(0)?;
                let e = self
                    .module
                    .locals()
                    .find(|a| a.key() == key)?
                    .expr()
                    .clone();
                (self.eval(&e), 1)
            }
            "module" => (self.child(&name(0)?).output(&name(1)?), 2),
            "each" => {
                let (key, value) = self.each.as_ref()?;
                match name(0)?.as_str() {
                    "key" => (V::Str(key.clone()), 1),
                    "value" => (value.clone(), 1),
                    _ => return None,
                }
            }
            ty if ty.starts_with("aws_") || ty.starts_with("random_") => {
                let block = self.module.find("resource", &[ty, &name(0)?])?;
                // An argument written in the block; anything else is computed by AWS at apply.
                let e = attr(block.body(), &name(1)?)?.clone();
                (self.eval(&e), 2)
            }
            _ => return None,
        };
        let mut value = value;
        for op in &ops[rest..] {
            value = match (value, op) {
                (V::Map(m), TraversalOperator::GetAttr(a)) => m.get(a.as_str())?.clone(),
                (V::List(l), TraversalOperator::Index(i)) => {
                    l.get(self.eval(i).num() as usize)?.clone()
                }
                _ => return None,
            };
        }
        Some(value)
    }
}

/// A resource's (or nested block's) arguments, evaluated in its module's scope.
pub struct BlockView<'a> {
    scope: Cow<'a, Scope>,
    body: Body,
}

impl BlockView<'_> {
    /// An argument's value; `V::Null` when it is not written.
    pub fn arg(&self, name: &str) -> V {
        attr(&self.body, name).map_or(V::Null, |e| self.scope.eval(e))
    }

    /// An argument as written (for references that only exist at apply).
    pub fn expr_text(&self, name: &str) -> String {
        attr(&self.body, name)
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    /// The one nested block of a kind.
    pub fn block(&self, kind: &str) -> BlockView<'_> {
        let mut found = self.body.blocks().filter(|b| b.identifier() == kind);
        let block = found.next().unwrap_or_else(|| panic!("no {kind} block"));
        assert!(found.next().is_none(), "more than one {kind} block");
        BlockView {
            scope: Cow::Borrowed(&*self.scope),
            body: block.body().clone(),
        }
    }

    /// (name, type) of every nested block of a kind (DynamoDB `attribute` blocks).
    pub fn blocks(&self, kind: &str) -> Vec<(String, String)> {
        self.body
            .blocks()
            .filter(|b| b.identifier() == kind)
            .map(|b| {
                let v = BlockView {
                    scope: Cow::Borrowed(&*self.scope),
                    body: b.body().clone(),
                };
                (v.arg("name").str(), v.arg("type").str())
            })
            .collect()
    }
}

/// A root module evaluated with an environment's tfvars.
pub struct Terraform {
    root: Scope,
}

impl Terraform {
    /// `terraform/<dir>` with `terraform/environments/<tfvars>` and extra `-var`s.
    pub fn root(dir: &str, tfvars_file: &str, extra: &[(&str, &str)]) -> Terraform {
        let module = Module::load(&terraform_dir().join(dir));
        let mut given = tfvars(tfvars_file);
        for (k, v) in extra {
            given.insert(k.to_string(), V::Str(v.to_string()));
        }
        Terraform {
            root: Scope::new(Rc::new(module), given),
        }
    }

    pub fn root_module(&self) -> &Scope {
        &self.root
    }

    /// A module the root calls, with the arguments the root passes.
    pub fn module(&self, name: &str) -> Scope {
        self.root.child(name)
    }

    /// An argument the root passes to a module, evaluated.
    pub fn module_arg(&self, module: &str, arg: &str) -> V {
        let block = self.root.module.find("module", &[module]).expect("module");
        attr(block.body(), arg).map_or(V::Null, |e| self.root.eval(e))
    }

    pub fn module_output(&self, module: &str, output: &str) -> V {
        self.module(module).output(output)
    }
}

/// One IAM policy statement (`statement` blocks of `aws_iam_policy_document`, also in `dynamic`).
/// One statement of a `data "aws_iam_policy_document"`, as written (strings unevaluated).
#[derive(Debug, Clone)]
pub struct Statement {
    /// The policy document's name.
    pub doc: String,
    pub at: String,
    pub sid: Option<String>,
    pub allow: bool,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// (test, variable, values) of each condition block.
    pub conditions: Vec<(String, String, Vec<String>)>,
    /// (type, identifiers) of each `principals` block: a resource or trust policy has them, an
    /// identity policy has none.
    pub principals: Vec<(String, Vec<String>)>,
}

pub fn statements(module: &Module) -> Vec<Statement> {
    fn strings(body: &Body, key: &str) -> Vec<String> {
        match attr(body, key) {
            Some(Expression::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Expression::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            Some(other) => vec![other.to_string()],
            None => Vec::new(),
        }
    }
    let mut out = Vec::new();
    for doc in module
        .blocks("data")
        .filter(|b| b.labels()[0].as_str() == "aws_iam_policy_document")
    {
        let doc_name = doc.labels()[1].as_str();
        let mut bodies: Vec<&Body> = Vec::new();
        for b in doc.body().blocks() {
            match b.identifier() {
                "statement" => bodies.push(b.body()),
                "dynamic" => bodies.extend(
                    b.body()
                        .blocks()
                        .filter(|c| c.identifier() == "content")
                        .map(|c| c.body()),
                ),
                _ => {}
            }
        }
        for (i, body) in bodies.into_iter().enumerate() {
            let text = |key: &str| {
                attr(body, key).map(|e| match e {
                    Expression::String(s) => s.clone(),
                    other => other.to_string(),
                })
            };
            let sid = text("sid");
            let conditions = body
                .blocks()
                .filter(|c| c.identifier() == "condition")
                .map(|c| {
                    let one = |k: &str| strings(c.body(), k).concat();
                    (one("test"), one("variable"), strings(c.body(), "values"))
                })
                .collect();
            let principals = body
                .blocks()
                .filter(|c| c.identifier() == "principals")
                .map(|c| {
                    (
                        strings(c.body(), "type").concat(),
                        strings(c.body(), "identifiers"),
                    )
                })
                .collect();
            out.push(Statement {
                doc: doc_name.to_string(),
                at: format!(
                    "data.aws_iam_policy_document.{doc_name} statement {}",
                    sid.clone().unwrap_or(i.to_string())
                ),
                sid,
                allow: text("effect").is_none_or(|e| e == "Allow"),
                actions: strings(body, "actions"),
                resources: strings(body, "resources"),
                conditions,
                principals,
            });
        }
    }
    out
}
