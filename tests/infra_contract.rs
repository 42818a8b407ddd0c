//! The contract between `terraform/` and the code. Terraform cannot run here (its providers cannot be
//! downloaded), so the HCL is read with hcl-rs and the expressions the contract needs are evaluated by a
//! small evaluator (`support::hcl_eval`: variables, tfvars, locals, module outputs, resource arguments,
//! templates, a few functions); what only exists after `apply` (ARNs, URLs, endpoints) is "unknown".
//!
//! It fails when the infrastructure and the code disagree: table keys and the TTL attribute; the
//! environment variables each binary reads against the ones set on its function; the queue's
//! `maxReceiveCount` against the worker's `MAX_ATTEMPTS`; the event source mapping's batch item failures;
//! the HTTP API's routes against the router's; IAM wildcards; and the buildspecs against the Makefile.

use std::collections::{BTreeMap, BTreeSet};

use countries_aws::dynamo::keys;
use e2e::Recording;
use e2e::hcl_eval::{Module, Terraform, V, statements, terraform_dir};
use e2e::provider_schema::Schemas;

const ENVIRONMENTS: [&str; 2] = ["dev", "prod"];

/// Values the evaluator cannot know before `apply`, by environment variable: plausible stand-ins so the
/// binaries' configuration readers can check every other value. Only these may be unknown.
fn after_apply(var: &str, env: &str) -> Option<String> {
    let arn = |svc: &str, what: &str| format!("arn:aws:{svc}:us-east-1:123456789012:{what}");
    Some(match var {
        "FETCH_QUEUE_URL" => {
            format!("https://sqs.us-east-1.amazonaws.com/123456789012/countries-{env}-fetch")
        }
        "REDIS_URL" => "rediss://limiter@cache.serverless.use1.cache.amazonaws.com:6379".into(),
        "REDIS_AUTH_SECRET_ID" => arn("secretsmanager", "secret:redis-auth-AbCdEf"),
        "REST_COUNTRIES_API_KEY_SECRET_ID" => arn("secretsmanager", "secret:api-key-AbCdEf"),
        "OPERATOR_KEY_SECRET_ID" => arn("secretsmanager", "secret:operator-key-AbCdEf"),
        _ => return None,
    })
}

/// The service stack of one environment, with its tfvars.
fn service(env: &str) -> Terraform {
    Terraform::root(
        "service",
        &format!("{env}.tfvars"),
        &[("lambda_dir", "target/lambda")],
    )
}

/// The environment variables Terraform sets on a function (`module.<name>` in terraform/service).
fn function_env(tf: &Terraform, function: &str, env: &str) -> BTreeMap<String, String> {
    let V::Map(vars) = tf.module_arg(function, "environment") else {
        panic!("module.{function}.environment is not a map")
    };
    vars.into_iter()
        .map(|(name, value)| {
            let value = match value {
                V::Str(s) => s,
                V::Unknown(what) => after_apply(&name, env).unwrap_or_else(|| {
                    panic!("{function}: {name} is known only after apply ({what}); add a stand-in in after_apply")
                }),
                other => panic!("{function}: {name} must be a string, is {other:?}"),
            };
            (name, value)
        })
        .collect()
}

/// Read by the code, deliberately not set by Terraform, and why.
const NOT_SET_IN_AWS: [(&str, &str); 2] = [
    (
        "REDIS_AUTH_TOKEN",
        "the local alternative to REDIS_AUTH_SECRET_ID, which AWS uses",
    ),
    (
        "AWS_TRUST_SYSTEM_ROOTS",
        "off by default: in Lambda the SDK trusts the Amazon roots compiled in",
    ),
];
/// Set by Terraform, read outside the `Source` readers, and by what.
const READ_ELSEWHERE: [(&str, &str); 1] = [(
    "RUST_LOG",
    "tracing's EnvFilter in countries_lambdas::init_logs",
)];

fn assert_same_names(function: &str, set: &BTreeMap<String, String>, read: &BTreeSet<String>) {
    let set: BTreeSet<String> = set.keys().cloned().collect();
    let not_set: BTreeSet<String> = NOT_SET_IN_AWS.iter().map(|(n, _)| n.to_string()).collect();
    let elsewhere: BTreeSet<String> = READ_ELSEWHERE.iter().map(|(n, _)| n.to_string()).collect();
    let missing: Vec<_> = read
        .difference(&set)
        .filter(|n| !not_set.contains(*n))
        .collect();
    let unread: Vec<_> = set
        .difference(read)
        .filter(|n| !elsewhere.contains(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "{function}: the binary reads {missing:?}, which Terraform does not set"
    );
    assert!(
        unread.is_empty(),
        "{function}: Terraform sets {unread:?}, which the binary never reads (a typo?)"
    );
}

#[test]
fn the_api_function_gets_every_variable_its_binary_reads_and_no_other() {
    for env in ENVIRONMENTS {
        let tf = service(env);
        let vars = function_env(&tf, "api", env);
        let src = Recording::new(vars.clone());
        let config = countries_lambdas::api::ApiConfig::from_source(&src)
            .unwrap_or_else(|e| panic!("{env}: the api rejects Terraform's value: {e}"));
        assert_same_names("api", &vars, &src.asked());
        assert!(
            config.redis.url.starts_with("rediss://"),
            "{env}: ElastiCache encrypts in transit, so REDIS_URL must be rediss://"
        );
        assert!(config.redis.auth_secret_id.is_some());
        assert_eq!(
            config.aws.tables.countries,
            tf.module_output("data", "countries_table_name").str(),
            "{env}"
        );
        assert_eq!(
            config.aws.tables.operations,
            tf.module_output("data", "operations_table_name").str(),
            "{env}"
        );
        assert_eq!(
            config.redis.key_prefix,
            tf.module_arg("cache", "key_prefix").str(),
            "{env}: the limiter's keys must be the ones its Redis user may touch"
        );
    }
}

#[test]
fn the_worker_function_gets_every_variable_its_binary_reads_and_no_other() {
    for env in ENVIRONMENTS {
        let tf = service(env);
        let vars = function_env(&tf, "worker", env);
        let src = Recording::new(vars.clone());
        let config = countries_lambdas::worker::WorkerConfig::from_source(&src)
            .unwrap_or_else(|e| panic!("{env}: the worker rejects Terraform's value: {e}"));
        assert_same_names("worker", &vars, &src.asked());
        let upstream = &config.upstream;
        assert!(
            upstream.key_secret_id().is_some(),
            "{env}: the v5 key comes from its secret"
        );
        assert!(
            format!("{upstream:?}").starts_with("v5 at https://"),
            "{env}: {upstream:?}"
        );
        assert_eq!(
            config.aws.tables.countries,
            tf.module_output("data", "countries_table_name").str()
        );
        assert_eq!(
            config.aws.tables.operations,
            tf.module_output("data", "operations_table_name").str()
        );
    }
}

#[test]
fn the_queue_moves_a_job_to_the_dlq_exactly_when_the_worker_gives_up() {
    for env in ENVIRONMENTS {
        let tf = service(env);
        let vars = function_env(&tf, "worker", env);
        let settings = countries_lambdas::worker::WorkerConfig::from_source(&Recording::new(vars))
            .unwrap()
            .retry;
        let queue = tf.module("queue");
        let V::Map(redrive) = queue.resource_arg("aws_sqs_queue", "fetch", "redrive_policy") else {
            panic!("the fetch queue has no redrive policy")
        };
        assert_eq!(
            redrive.get("maxReceiveCount"),
            Some(&V::Num(f64::from(settings.max_attempts))),
            "{env}: the redrive maxReceiveCount must equal the worker's MAX_ATTEMPTS"
        );
        let visibility = queue
            .resource_arg("aws_sqs_queue", "fetch", "visibility_timeout_seconds")
            .num();
        let timeout = tf.module_arg("worker", "timeout_seconds").num();
        assert!(
            visibility >= 6.0 * timeout,
            "{env}: visibility timeout {visibility}s is under six times the worker's timeout {timeout}s"
        );
        let dlq_retention = queue
            .resource_arg("aws_sqs_queue", "dlq", "message_retention_seconds")
            .num();
        assert!(
            dlq_retention >= 7.0 * 86400.0,
            "{env}: keep dead jobs a week or more"
        );
    }
}

/// A whole batch fits in the worker's timeout when every job takes the longest it may (the upstream's
/// timeout plus the store's share): ceil(batch / concurrency) waves. The api answers within API
/// Gateway's 30 s integration limit.
#[test]
fn the_worker_timeout_fits_a_whole_batch_on_a_slow_upstream() {
    for env in ENVIRONMENTS {
        let tf = service(env);
        let vars = function_env(&tf, "worker", env);
        let config =
            countries_lambdas::worker::WorkerConfig::from_source(&Recording::new(vars)).unwrap();
        let (worker, lease) = (config.worker, config.retry.attempt_lease);
        assert_eq!(
            tf.root_module().local("job_store_seconds").num(),
            countries_core::usecases::JOB_STORE_ALLOWANCE.as_secs_f64(),
            "{env}: local.job_store_seconds is the core's JOB_STORE_ALLOWANCE"
        );
        let batch = tf
            .root_module()
            .resource("aws_lambda_event_source_mapping", "worker")
            .arg("batch_size")
            .num();
        let waves = (batch / worker.concurrency as f64).ceil();
        let timeout = tf.module_arg("worker", "timeout_seconds").num();
        let needed = waves * lease.as_secs_f64();
        assert!(
            timeout >= needed,
            "{env}: {batch} jobs at {} at once, {lease:?} each at most, need {needed}s; the worker has {timeout}s",
            worker.concurrency,
        );
        // A sync: at most four upstream calls (v3.1's field calls; v5 makes three), then its writes.
        assert_eq!(
            tf.root_module().local("sync_allowance_seconds").num(),
            countries_core::usecases::SYNC_ALLOWANCE.as_secs_f64(),
            "{env}: local.sync_allowance_seconds is the core's SYNC_ALLOWANCE"
        );
        let sync = 4.0 * config.upstream.call_timeout().as_secs_f64()
            + countries_core::usecases::SYNC_ALLOWANCE.as_secs_f64();
        assert!(
            timeout >= sync,
            "{env}: a sync needs {sync}s; the worker has {timeout}s"
        );
        assert!(timeout <= 900.0, "{env}: Lambda's limit is 900 s");
        let api = tf.module_arg("api", "timeout_seconds").num();
        assert!(
            api < 30.0,
            "{env}: API Gateway stops waiting at 30 s; the api has {api}s"
        );
    }
}

#[test]
fn the_tables_have_the_keys_and_ttl_attribute_the_store_uses() {
    let tf = service("dev");
    let data = tf.module("data");
    let table = |name: &str| data.resource("aws_dynamodb_table", name);
    let countries = table("countries");
    assert_eq!(countries.arg("hash_key").str(), keys::CODE);
    assert_eq!(
        countries.arg("range_key"),
        V::Null,
        "countries has no sort key"
    );
    assert_eq!(
        countries.blocks("attribute"),
        vec![(keys::CODE.to_string(), "S".to_string())]
    );

    let operations = table("operations");
    assert_eq!(operations.arg("hash_key").str(), keys::COUNTRY);
    assert_eq!(operations.arg("range_key").str(), keys::SORT);
    assert_eq!(
        operations.blocks("attribute"),
        vec![
            (keys::COUNTRY.to_string(), "S".to_string()),
            (keys::SORT.to_string(), "S".to_string())
        ]
    );
    let ttl = operations.block("ttl");
    assert_eq!(ttl.arg("attribute_name").str(), keys::EXPIRES_AT);
    assert_eq!(ttl.arg("enabled"), V::Bool(true));
    for t in [countries, operations] {
        assert_eq!(t.arg("billing_mode").str(), "PAY_PER_REQUEST");
        assert_eq!(
            t.block("point_in_time_recovery").arg("enabled"),
            V::Bool(true)
        );
        assert_eq!(
            t.block("server_side_encryption").arg("enabled"),
            V::Bool(true)
        );
    }
    assert_eq!(
        service("prod").module_arg("data", "deletion_protection"),
        V::Bool(true)
    );
}

#[test]
fn the_worker_mapping_reports_batch_item_failures_within_its_concurrency() {
    for env in ENVIRONMENTS {
        let tf = service(env);
        let mapping = tf
            .root_module()
            .resource("aws_lambda_event_source_mapping", "worker");
        assert_eq!(
            mapping.arg("function_response_types"),
            V::List(vec![V::Str("ReportBatchItemFailures".into())]),
            "{env}: without it a single failed record retries its whole batch"
        );
        assert_eq!(
            mapping.expr_text("event_source_arn"),
            "module.queue.queue_arn"
        );
        assert_eq!(
            mapping.expr_text("function_name"),
            "module.worker.function_arn"
        );
        let batches = mapping
            .block("scaling_config")
            .arg("maximum_concurrency")
            .num();
        let reserved = tf.module_arg("worker", "reserved_concurrency").num();
        assert!(
            batches >= 2.0,
            "{env}: SQS mappings allow 2 concurrent batches at least"
        );
        // Reserved concurrency caps the schedules' invocations too, and the mapping does not count
        // them: one instance beyond the batches keeps a sweep or sync from being throttled (and from
        // taking the instance a batch needs).
        assert!(
            batches < reserved,
            "{env}: {batches} concurrent batches on {reserved} reserved instances leave none for a scheduled sweep or sync"
        );
    }
}

#[test]
fn the_metric_alarms_watch_the_metrics_the_functions_emit() {
    use countries_core::metrics::{self, Metric};
    for env in ENVIRONMENTS {
        let tf = service(env);
        let monitoring = tf.module("monitoring");
        for m in Metric::ALL {
            // Exhaustive: a new metric does not compile here until it has its alarm.
            let (alarm, function) = match m {
                Metric::LimiterUnavailable => ("limiter_unavailable", "api"),
                Metric::StoredDataCorrupt => ("stored_data_corrupt", "api"),
                Metric::UpstreamMisconfigured => ("upstream_misconfigured", "worker"),
                Metric::UpstreamRejected => ("upstream_rejected", "worker"),
                Metric::UpstreamQuotaHigh => ("upstream_quota_high", "worker"),
                Metric::SyncFailed => ("sync_failed", "worker"),
                Metric::CataloguePublishFailed => ("catalogue_publish_failed", "worker"),
            };
            let metric = m.name();
            let alarm =
                monitoring.resource_each("aws_cloudwatch_metric_alarm", "service_metric", alarm);
            assert_eq!(alarm.arg("namespace").str(), metrics::NAMESPACE);
            assert_eq!(alarm.arg("metric_name").str(), metric);
            // The EMF dimension is the emitting function's name (AWS_LAMBDA_FUNCTION_NAME).
            let V::Map(dims) = alarm.arg("dimensions") else {
                panic!("the {metric} alarm has no dimensions")
            };
            assert_eq!(dims.keys().collect::<Vec<_>>(), ["Function"]);
            assert_eq!(
                dims["Function"],
                tf.module_output(function, "function_name")
            );
            assert_eq!(alarm.arg("threshold"), V::Num(0.0));
        }
    }
}

/// Every route of the router's table reaches the function through API Gateway (exactly, or under a
/// greedy `{proxy+}` route), and every API Gateway route serves one of the table's.
#[test]
fn the_http_api_routes_are_the_routers() {
    let mut from_code = BTreeSet::new();
    for route in countries_api::routes::table::table() {
        // axum's catch-all is API Gateway's greedy parameter.
        let path = match route.path.split_once("{*") {
            Some((prefix, _)) => format!("{prefix}{{proxy+}}"),
            None => route.path.to_string(),
        };
        for served in &route.methods {
            from_code.insert(format!("{} {path}", served.method));
        }
    }
    let api = Module::load(&terraform_dir().join("modules/api"));
    let V::List(routes) = api.variable_default("routes") else {
        panic!("modules/api has no routes list")
    };
    let in_terraform: BTreeSet<String> = routes.into_iter().map(|r| r.str()).collect();
    let serves = |route: &str, documented: &str| match route.strip_suffix("{proxy+}") {
        Some(prefix) => documented.starts_with(prefix) && documented.len() > prefix.len(),
        None => route == documented,
    };
    for documented in &from_code {
        assert!(
            in_terraform.iter().any(|r| serves(r, documented)),
            "{documented} is routed but no API Gateway route reaches it"
        );
    }
    for route in &in_terraform {
        assert!(
            from_code.iter().any(|d| serves(route, d)),
            "the API Gateway route {route} serves nothing the router routes"
        );
    }
    assert!(
        in_terraform.contains("GET /v3.1/{proxy+}"),
        "v3.1's trailing slashes"
    );
}

#[test]
fn every_module_declares_what_it_uses_and_callers_pass_what_it_needs() {
    let mut problems = Vec::new();
    for module in e2e::hcl_eval::all_modules() {
        problems.extend(module.check_references());
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_tfvars_value_sets_a_declared_variable() {
    for env in ENVIRONMENTS {
        for (root, file) in [
            ("service", format!("{env}.tfvars")),
            ("pipeline", format!("{env}.pipeline.tfvars")),
        ] {
            let module = Module::load(&terraform_dir().join(root));
            let tfvars = e2e::hcl_eval::tfvars(&file);
            for name in tfvars.keys() {
                assert!(
                    module.has_variable(name),
                    "{file} sets {name}, which terraform/{root} does not declare"
                );
            }
            assert_eq!(tfvars.get("environment"), Some(&V::Str(env.to_string())));
        }
        let backend = terraform_dir().join(format!("environments/{env}.backend.hcl"));
        let text = std::fs::read_to_string(&backend).expect("a backend config per environment");
        let body = hcl::parse(&text).unwrap();
        let lockfile = body
            .attributes()
            .any(|a| a.key() == "use_lockfile" && a.expr().to_string() == "true");
        let encrypt = body
            .attributes()
            .any(|a| a.key() == "encrypt" && a.expr().to_string() == "true");
        assert!(
            lockfile && encrypt,
            "{env}: the state must be locked and encrypted"
        );
    }
}

#[test]
fn no_iam_statement_grants_wildcard_actions_and_every_star_resource_says_why() {
    let mut problems = Vec::new();
    let mut star_statements = 0;
    for module in e2e::hcl_eval::all_modules() {
        for st in statements(&module) {
            // A Deny may be broad (TLS only on every S3 action); an Allow may not.
            for action in st.actions.iter().filter(|_| st.allow) {
                if action == "*" || action.ends_with(":*") {
                    problems.push(format!("{}: {} grants `{action}`", module.name(), st.at));
                }
            }
            if st.resources.iter().any(|r| r == "*") {
                star_statements += 1;
            }
        }
    }
    // Each `resources = ["*"]` line carries a comment on it or right above it, saying why.
    let mut explained = 0;
    for (path, text) in e2e::hcl_eval::all_tf_files() {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split('#').next().unwrap_or_default();
            if code.trim_start().starts_with("resources") && code.contains("\"*\"") {
                let same_line = line.contains('#');
                let above = i > 0 && lines[i - 1].trim_start().starts_with('#');
                if same_line || above {
                    explained += 1;
                } else {
                    problems.push(format!(
                        "{}:{}: a \"*\" resource without a comment saying why",
                        path.display(),
                        i + 1
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        explained, star_statements,
        "every statement with a \"*\" resource must write it as one commented `resources = [\"*\"]` line"
    );
    assert!(
        star_statements > 0,
        "the scan found the key policies' \"*\": it reads the statements"
    );
}

#[test]
fn the_buildspecs_call_only_make_targets_and_scripts_that_exist() {
    let root = terraform_dir().parent().unwrap().to_path_buf();
    let makefile = std::fs::read_to_string(root.join("Makefile")).unwrap();
    let targets: BTreeSet<&str> = makefile
        .lines()
        .filter(|l| !l.starts_with('\t') && !l.starts_with('.') && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':').map(|(t, _)| t.trim()))
        .filter(|t| !t.is_empty() && !t.contains(' ') && !t.contains('$') && !t.contains('='))
        .collect();
    let mut called = 0;
    // Every buildspec at the root: the pipeline's Test, Plan and Apply builds and any added later.
    let mut files: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.starts_with("buildspec") && f.ends_with(".yml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 3,
        "buildspec.yml, buildspec-test.yml, buildspec-apply.yml: {files:?}"
    );
    for file in &files {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_else(|_| panic!("{file}"));
        for line in text
            .lines()
            .map(|l| l.split(" #").next().unwrap_or_default())
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            for (i, w) in words.iter().enumerate() {
                if *w == "make" {
                    for raw in &words[i + 1..] {
                        if raw.contains('=') || raw.starts_with(['-', '&', '|', ';']) {
                            break;
                        }
                        let target = raw.trim_matches(['"', '\'', ';']);
                        assert!(
                            targets.contains(target),
                            "{file} calls `make {target}`, which the Makefile lacks"
                        );
                        called += 1;
                        if raw.ends_with(';') {
                            break;
                        }
                    }
                }
                let w = w.trim_matches(|c| c == '"' || c == '\'');
                if let Some(script) = w
                    .strip_prefix("./")
                    .filter(|p| p.starts_with("scripts/"))
                    .or(w.starts_with("scripts/").then_some(w))
                {
                    assert!(
                        root.join(script).is_file(),
                        "{file} runs {script}, which does not exist"
                    );
                    called += 1;
                }
            }
        }
        // The JUnit report the buildspec publishes is the one nextest writes.
        if text.contains("reports:") {
            let nextest = std::fs::read_to_string(root.join(".config/nextest.toml")).unwrap();
            assert!(
                text.contains("target/nextest/ci"),
                "{file}: reports must read target/nextest/ci"
            );
            assert!(
                nextest.contains("path = \"junit.xml\""),
                "nextest's ci profile writes junit.xml"
            );
            assert!(text.contains("junit.xml"));
        }
    }
    assert!(
        called >= 4,
        "the buildspecs call make and scripts: the scan found {called}"
    );
}

#[test]
fn every_directory_validates_against_the_real_provider_schemas() {
    let schemas = Schemas::load();
    let mut problems = Vec::new();
    for module in e2e::hcl_eval::all_modules() {
        problems.extend(schemas.check(&module));
    }
    assert!(
        problems.is_empty(),
        "against {:?}:\n{}",
        schemas.generated_from,
        problems.join("\n")
    );
}

/// The validator itself: each kind of fault it exists for, injected into a valid resource.
#[test]
fn the_schema_validation_catches_each_kind_of_fault() {
    let schemas = Schemas::load();
    let valid = r#"
resource "aws_sqs_queue" "q" {
  name = "q"
}
resource "aws_lambda_event_source_mapping" "m" {
  function_name    = "f"
  event_source_arn = aws_sqs_queue.q.arn
  scaling_config {
    maximum_concurrency = 2
  }
}
data "aws_iam_policy_document" "p" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.q.arn]
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = ["1"]
    }
  }
}
resource "random_password" "p" {
  length = 32
}
"#;
    assert_eq!(schemas.check_text("valid", valid), Vec::<String>::new());
    let faults = [
        (
            "name = \"q\"",
            "name = \"q\"\n  visibility_timeout = 30",
            "unknown argument visibility_timeout",
        ),
        (
            "function_name    = \"f\"",
            "",
            "missing required argument function_name",
        ),
        (
            "variable = \"aws:SourceAccount\"\n",
            "",
            "missing required argument variable",
        ),
        (
            "scaling_config {\n    maximum_concurrency = 2\n  }",
            "scaling_config = { maximum_concurrency = 2 }",
            "scaling_config is a block, written as an attribute",
        ),
        (
            "name = \"q\"",
            "name = \"q\"\n  tags {\n    a = \"b\"\n  }",
            "tags is an attribute, written as a block",
        ),
        (
            "aws_sqs_queue.q.arn\n",
            "aws_sqs_queue.q.queue_arn\n",
            "aws_sqs_queue has no attribute queue_arn",
        ),
        (
            "name = \"q\"",
            "name = \"q\"\n  url = \"u\"",
            "url is read-only",
        ),
        (
            "length = 32",
            "lenght = 32",
            "missing required argument length",
        ),
        (
            "\"aws_sqs_queue\" \"q\"",
            "\"aws_sqs_queues\" \"q\"",
            "resource type aws_sqs_queues does not exist",
        ),
    ];
    for (from, to, expected) in faults {
        assert!(valid.contains(from), "the fault's anchor {from:?}");
        let broken = valid.replacen(from, to, 1);
        let problems = schemas.check_text("broken", &broken);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected:?} not among {problems:#?}"
        );
    }
}

/// H09: Terraform installs the providers the schema validation above read, not whatever is newest.
/// Every `required_providers` entry admits exactly the version scripts/provider-schemas.py takes the
/// schema of (probed one patch, minor and major either side), names no provider without a schema, and
/// a committed `.terraform.lock.hcl` (`make lock-infra`) records that same version.
#[test]
fn every_provider_constraint_admits_exactly_the_validated_version() {
    let root = terraform_dir().parent().unwrap().to_path_buf();
    let script = std::fs::read_to_string(root.join("scripts/provider-schemas.py")).unwrap();
    // PACKAGES' lines: "aws": ("@cdktf/provider-aws", "21.22.1", "registry.terraform.io/hashicorp/aws", "6.25.0"),
    let validated: BTreeMap<String, [u64; 3]> = script
        .lines()
        .filter_map(|l| {
            let quoted: Vec<&str> = l.split('"').skip(1).step_by(2).collect();
            let source = quoted
                .iter()
                .find_map(|q| q.strip_prefix("registry.terraform.io/"))?;
            let v: Vec<u64> = quoted
                .last()?
                .split('.')
                .map(|p| p.parse().unwrap())
                .collect();
            Some((source.to_string(), [v[0], v[1], v[2]]))
        })
        .collect();
    assert_eq!(
        validated.keys().map(String::as_str).collect::<Vec<_>>(),
        ["hashicorp/aws", "hashicorp/random"],
        "the providers scripts/provider-schemas.py validates"
    );
    // Terraform's constraint syntax: comma-separated terms, all of which must hold.
    let admits = |constraint: &str, v: [u64; 3]| {
        constraint.split(',').all(|term| {
            let term = term.trim();
            let at = term.find(|c: char| c.is_ascii_digit()).unwrap_or_else(|| {
                panic!("no version in {constraint:?}");
            });
            let parts: Vec<u64> = term[at..].split('.').map(|p| p.parse().unwrap()).collect();
            let mut want = [0; 3];
            want[..parts.len()].copy_from_slice(&parts);
            // `~> 6.25.0` keeps 6.25, `~> 6.0` keeps 6: all but the last part written.
            let kept = parts.len().saturating_sub(1).max(1);
            match term[..at].trim() {
                "" | "=" => v == want,
                "!=" => v != want,
                ">" => v > want,
                ">=" => v >= want,
                "<" => v < want,
                "<=" => v <= want,
                "~>" => v >= want && v[..kept] == want[..kept],
                op => panic!("operator {op:?} in {constraint:?}"),
            }
        })
    };
    let neighbours = |[major, minor, patch]: [u64; 3]| {
        let mut n = vec![
            [major, minor, patch + 1],
            [major, minor + 1, 0],
            [major + 1, 0, 0],
        ];
        n.extend(patch.checked_sub(1).map(|p| [major, minor, p]));
        n.extend(minor.checked_sub(1).map(|m| [major, m, 99]));
        n.extend(major.checked_sub(1).map(|m| [m, 99, 99]));
        n
    };
    let mut checked = 0;
    for (path, text) in e2e::hcl_eval::all_tf_files() {
        let doc: serde_json::Value = hcl::from_str(&text).unwrap();
        let blocks = match &doc["terraform"] {
            serde_json::Value::Array(all) => all.clone(),
            serde_json::Value::Null => continue,
            one => vec![one.clone()],
        };
        for block in blocks {
            let Some(providers) = block["required_providers"].as_object() else {
                continue;
            };
            for (name, req) in providers {
                let source = req["source"].as_str().unwrap_or_default();
                let constraint = req["version"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{}: {name} has no version", path.display()));
                let Some(&v) = validated.get(source) else {
                    panic!(
                        "{}: {source} has no schema in scripts/provider-schemas.py",
                        path.display()
                    );
                };
                assert!(
                    admits(constraint, v)
                        && !neighbours(v).into_iter().any(|n| admits(constraint, n)),
                    "{}: {name} = {constraint:?} must admit exactly {v:?}, the version the schema check validates",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 13,
        "every module pins its providers: {checked} constraints found"
    );
    for stack in ["service", "pipeline", "bootstrap"] {
        let lock = terraform_dir().join(stack).join(".terraform.lock.hcl");
        let Ok(text) = std::fs::read_to_string(&lock) else {
            continue;
        };
        let doc: serde_json::Value = hcl::from_str(&text).unwrap();
        for (address, entry) in doc["provider"].as_object().into_iter().flatten() {
            let source = address.trim_start_matches("registry.terraform.io/");
            let v = validated[source].map(|p| p.to_string()).join(".");
            assert_eq!(
                entry["version"],
                v.as_str(),
                "{}: {address}",
                lock.display()
            );
        }
    }
}

/// A redis-server on a free loopback port, stopped on drop.
struct RedisServer {
    child: std::process::Child,
    port: u16,
}

impl RedisServer {
    fn start() -> RedisServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (scripts/with-emulators.sh installs it)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        RedisServer { child, port }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// ElastiCache enforces the users' access strings as redis-server does, inside scripts too: the limiter,
/// signed in as the Terraform's user with the Terraform's access string and key prefix, with the default
/// user as the Terraform leaves it (off), makes its decisions; nobody else gets in.
#[tokio::test]
async fn the_limiter_works_as_the_terraforms_redis_user_with_the_default_user_off() {
    use countries_core::ratelimit::{RateLimiter, RateLimits, RouteGroup};
    let tf = service("dev");
    let cache = tf.module("cache");
    let user = |name: &str, arg: &str| cache.resource_arg("aws_elasticache_user", name, arg).str();
    let (limiter_name, limiter_acl) = (
        user("limiter", "user_name"),
        user("limiter", "access_string"),
    );
    let (default_name, default_acl) = (
        user("default", "user_name"),
        user("default", "access_string"),
    );
    assert_eq!(default_name, "default");
    let url_output = format!("{:?}", tf.module_output("cache", "redis_url"));
    assert!(
        url_output.contains(&format!("rediss://{limiter_name}@")),
        "REDIS_URL signs in as {limiter_name}: {url_output}"
    );
    let env = function_env(&tf, "api", "dev");
    let prefix = env["RATE_LIMIT_KEY_PREFIX"].clone();

    let server = RedisServer::start();
    let admin = redis::Client::open(format!("redis://127.0.0.1:{}", server.port)).unwrap();
    let mut admin = admin.get_multiplexed_async_connection().await.unwrap();
    let password = "a-password-for-this-test-only-0123456789";
    let set_user = |name: &str, acl: &str, auth: &str| {
        let mut cmd = redis::cmd("ACL");
        cmd.arg("SETUSER").arg(name).arg("reset");
        acl.split_whitespace().for_each(|w| {
            cmd.arg(w);
        });
        cmd.arg(auth);
        cmd
    };
    let () = set_user(&limiter_name, &limiter_acl, &format!(">{password}"))
        .query_async(&mut admin)
        .await
        .unwrap();
    // The ElastiCache default user has no password and the access string above; switching it off ends
    // this admin connection's rights, so it goes last.
    let () = set_user("default", &default_acl, "nopass")
        .query_async(&mut admin)
        .await
        .unwrap();

    let limits = RateLimits::from_source(
        &env.clone()
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>(),
    )
    .unwrap();
    let settings = countries_aws::RedisSettings {
        url: format!("redis://{limiter_name}@127.0.0.1:{}", server.port),
        auth_token: Some(password.into()),
        connect_timeout: std::time::Duration::from_secs(2),
        command_timeout: std::time::Duration::from_secs(2),
        key_prefix: prefix.clone(),
    };
    let fetch_limit = limits.limit(RouteGroup::Fetch).requests;
    let limiter = countries_aws::RedisLimiter::new(settings, limits).unwrap();
    let client = std::net::IpAddr::from([203, 0, 113, 7]);
    for n in 1..=fetch_limit + 1 {
        let decision = limiter
            .check(client, RouteGroup::Fetch)
            .await
            .unwrap_or_else(|e| panic!("decision {n} as {limiter_name} ({limiter_acl}): {e}"));
        assert_eq!(
            decision.allowed,
            n <= fetch_limit,
            "decision {n}: {decision:?}"
        );
    }

    // The user reaches only the limiter's keys; the default user is off.
    let as_limiter = redis::Client::open(format!(
        "redis://{limiter_name}:{password}@127.0.0.1:{}",
        server.port
    ))
    .unwrap();
    let mut conn = as_limiter.get_multiplexed_async_connection().await.unwrap();
    let other: redis::RedisResult<Option<String>> = redis::cmd("GET")
        .arg("someone-else:key")
        .query_async(&mut conn)
        .await;
    assert!(other.is_err(), "a key outside {prefix}rl:* was readable");
    let flush: redis::RedisResult<()> = redis::cmd("FLUSHALL").query_async(&mut conn).await;
    assert!(flush.is_err(), "the limiter user may FLUSHALL");
    let anonymous = redis::Client::open(format!("redis://127.0.0.1:{}", server.port)).unwrap();
    let refused = match anonymous.get_multiplexed_async_connection().await {
        Err(_) => true,
        Ok(mut c) => redis::cmd("PING")
            .query_async::<String>(&mut c)
            .await
            .is_err(),
    };
    assert!(refused, "the default user still answers");
}

/// The deploy role's policies: every statement of the pipeline module's `deploy_*` documents.
fn deploy_statements() -> Vec<e2e::hcl_eval::Statement> {
    let pipeline = Module::load(&terraform_dir().join("modules/pipeline"));
    statements(&pipeline)
        .into_iter()
        .filter(|s| s.doc.starts_with("deploy_"))
        .collect()
}

/// terraform/modules/pipeline/deploy-actions.md: type -> actions.
fn deploy_action_table() -> BTreeMap<String, Vec<String>> {
    let path = terraform_dir().join("modules/pipeline/deploy-actions.md");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| l.starts_with("| aws_") || l.starts_with("| data."))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let actions = cells[1].split_whitespace().map(String::from).collect();
            (cells[0].to_string(), actions)
        })
        .collect()
}

/// The `resource` and `data` blocks of the stack the deploy role applies (terraform/service and the
/// modules it calls; not the pipeline's or the bootstrap's): (module, kind, type, name).
fn service_stack_blocks() -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for module in e2e::hcl_eval::all_modules() {
        let name = module.name();
        if ["pipeline", "bootstrap", "modules/pipeline"].contains(&name.as_str()) {
            continue;
        }
        for b in module.body().blocks() {
            if let ("resource" | "data", [ty, label]) = (b.identifier(), b.labels()) {
                out.push((
                    name.clone(),
                    b.identifier().to_string(),
                    ty.as_str().to_string(),
                    label.as_str().to_string(),
                ));
            }
        }
    }
    out
}

#[test]
fn the_deploy_role_allows_every_action_the_provider_needs_for_the_service_stack() {
    let table = deploy_action_table();
    let used: BTreeSet<String> = service_stack_blocks()
        .into_iter()
        .filter(|(_, _, ty, _)| ty.starts_with("aws_"))
        .map(|(_, kind, ty, _)| {
            if kind == "data" {
                format!("data.{ty}")
            } else {
                ty
            }
        })
        .collect();
    let listed: BTreeSet<String> = table.keys().cloned().collect();
    assert_eq!(
        used.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "types the service stack uses without a row in deploy-actions.md"
    );
    assert_eq!(
        listed.difference(&used).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "rows in deploy-actions.md for types the service stack no longer uses"
    );
    let statements = deploy_statements();
    let allowed: BTreeSet<&str> = statements
        .iter()
        .filter(|s| s.allow)
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .collect();
    let mut missing = Vec::new();
    for (ty, actions) in &table {
        for action in actions {
            if !allowed.contains(action.as_str()) {
                missing.push(format!("{ty}: {action}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the deploy role does not allow:\n{}",
        missing.join("\n")
    );

    // Data-plane actions (reading or writing the service's data, state or keys) are never granted on a
    // wildcard that reaches past the environment: "*" never, and a pattern only with the environment's
    // prefix in it or a condition narrowing it.
    const DATA_PLANE: [&str; 12] = [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "kms:Decrypt",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
    ];
    for st in statements.iter().filter(|s| s.allow) {
        if !st.actions.iter().any(|a| DATA_PLANE.contains(&a.as_str())) {
            continue;
        }
        for r in &st.resources {
            let scoped =
                r.contains("local.prefix") || !r.contains('*') || !st.conditions.is_empty();
            assert!(r != "*" && scoped, "{}: data-plane actions on {r}", st.at);
        }
    }
}

/// The service key is made in the pipeline stack, which a person applies: the service stack makes no key
/// or alias, and the deploy role (and the boundary) may only use this environment's key, named by its
/// ARN, never create, re-tag, re-policy or delete one. A tag-based grant on a key made in the same apply
/// would race KMS's tag propagation, and "tag at creation" would let the role claim any key.
#[test]
fn the_deploy_role_uses_the_service_key_by_its_arn_and_manages_no_key() {
    for (name, kind, ty, _) in service_stack_blocks() {
        assert!(
            kind != "resource" || !ty.starts_with("aws_kms_"),
            "{name} makes an {ty}: the service key belongs to the pipeline stack"
        );
    }
    const KEYS: [&str; 2] = [
        "aws_kms_key.service.arn",
        "data.aws_kms_alias.state.target_key_arn",
    ];
    const USE: [&str; 6] = [
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:CreateGrant",
        "kms:ListAliases",
    ];
    let mut grants = 0;
    for st in deploy_statements().iter().filter(|s| s.allow) {
        for action in st.actions.iter().filter(|a| a.starts_with("kms:")) {
            assert!(
                USE.contains(&action.as_str()),
                "{}: the deploy role may not {action}",
                st.at
            );
            if action == "kms:ListAliases" {
                continue; // no resource type: it lists alias names only
            }
            assert!(
                st.resources.iter().all(|r| KEYS.contains(&r.as_str())),
                "{}: {action} on {:?}, not a key named by its ARN",
                st.at,
                st.resources
            );
            if action == "kms:CreateGrant" {
                grants += 1;
                assert!(
                    st.conditions
                        .iter()
                        .any(|(test, variable, values)| unquoted(test) == "Bool"
                            && unquoted(variable) == "kms:GrantIsForAWSResource"
                            && values.iter().map(|v| unquoted(v)).eq(["true"])),
                    "{}: grants only for AWS services' resources",
                    st.at
                );
            }
        }
    }
    assert!(
        grants > 0,
        "DynamoDB, Lambda and ElastiCache grant themselves the key"
    );
    let pipeline = Module::load(&terraform_dir().join("modules/pipeline"));
    for st in statements(&pipeline)
        .into_iter()
        .filter(|s| s.doc == "function_boundary" && s.actions.iter().any(|a| a.starts_with("kms:")))
    {
        assert_eq!(
            st.resources,
            ["aws_kms_key.service.arn"],
            "{}: the functions may use their environment's key only",
            st.at
        );
    }
}

/// A statement's string as `statements` gives it: a template keeps its quotes.
fn unquoted(s: &str) -> &str {
    s.trim_matches('"')
}

/// A `*`-only glob, as IAM's ArnLike matches.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            text.starts_with(head)
                && (0..=text.len() - head.len()).any(|i| {
                    text.is_char_boundary(head.len() + i) && glob(rest, &text[head.len() + i..])
                })
        }
    }
}

/// CloudWatch Logs may use the service key for the environment's own log groups only (the key policy's
/// encryption-context condition), and every log group the service stack makes is among them: a group
/// outside would fail to be created with the key.
#[test]
fn the_service_key_serves_cloudwatch_logs_for_exactly_the_environments_log_groups() {
    let pipeline = Module::load(&terraform_dir().join("modules/pipeline"));
    let logs = statements(&pipeline)
        .into_iter()
        .find(|s| {
            s.doc == "service_key"
                && s.sid.as_deref() == Some("CloudWatchLogsEncryptsTheServiceLogGroups")
        })
        .expect("the service key's statement for CloudWatch Logs");
    let patterns: Vec<String> = logs
        .conditions
        .iter()
        .filter(|(_, variable, _)| unquoted(variable) == "kms:EncryptionContext:aws:logs:arn")
        .flat_map(|(test, _, values)| {
            assert_eq!(unquoted(test), "ArnLike");
            values.clone()
        })
        .map(|arn| {
            let (_, group) = unquoted(&arn)
                .split_once(":log-group:")
                .expect("a log-group ARN");
            assert!(
                !group.starts_with('*'),
                "{arn}: every log group of the account"
            );
            group.to_string()
        })
        .collect();
    assert!(!patterns.is_empty(), "the statement is scoped by log group");

    // Every log group of the service stack, so a new one cannot be missed here.
    let declared: BTreeSet<String> = service_stack_blocks()
        .into_iter()
        .filter(|(_, kind, ty, _)| kind == "resource" && ty == "aws_cloudwatch_log_group")
        .map(|(module, _, _, label)| format!("{module}.{label}"))
        .collect();
    let groups = [
        ("modules/function.this", ["api", "worker"].as_slice()),
        ("modules/api.access", ["http_api"].as_slice()),
        ("modules/network.flow", ["network"].as_slice()),
    ];
    assert_eq!(
        declared,
        groups.iter().map(|(g, _)| g.to_string()).collect(),
        "log groups of the service stack"
    );
    for env in ENVIRONMENTS {
        let tf = service(env);
        for (group, callers) in groups {
            let resource = group.rsplit_once('.').unwrap().1;
            for caller in callers {
                let name = tf
                    .module(caller)
                    .resource_arg("aws_cloudwatch_log_group", resource, "name")
                    .str();
                let prefix = format!("countries-{env}");
                assert!(
                    patterns
                        .iter()
                        .any(|p| glob(&p.replace("${local.prefix}", &prefix), &name)),
                    "{env}: the service key does not let CloudWatch Logs encrypt {name} ({patterns:?})"
                );
            }
        }
    }
}

/// The deploy role reads and writes the value of the one secret Terraform fills, the Redis password:
/// the upstream key's and the operator key's values are a person's to put, and nobody's to read but
/// the functions'.
#[test]
fn the_deploy_role_touches_no_secret_value_but_the_redis_password() {
    let tf = service("dev");
    let name = tf
        .module("cache")
        .resource_arg("aws_secretsmanager_secret", "auth", "name")
        .str();
    assert_eq!(name, "countries-dev/redis-auth");
    let mut seen = 0;
    for st in deploy_statements().iter().filter(|s| s.allow) {
        for action in st.actions.iter().filter(|a| {
            [
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:UpdateSecretVersionStage",
            ]
            .contains(&a.as_str())
        }) {
            seen += 1;
            assert_eq!(
                st.resources.iter().map(|r| unquoted(r)).collect::<Vec<_>>(),
                ["${local.arn.secretsmanager}:secret:${local.prefix}/redis-auth-??????"],
                "{}: {action} on another secret than the Redis password",
                st.at
            );
        }
    }
    assert_eq!(seen, 3, "the Redis password's version is written and read");
}

/// A function's resource policy is changed only to admit API Gateway, the one principal the api module
/// gives one: no commit can let another account (or "*") invoke the worker or the api.
#[test]
fn the_deploy_role_adds_function_permissions_for_api_gateway_only() {
    let permissions: Vec<String> = service_stack_blocks()
        .into_iter()
        .filter(|(_, kind, ty, _)| kind == "resource" && ty == "aws_lambda_permission")
        .map(|(module, _, _, label)| format!("{module}: {label}"))
        .collect();
    assert_eq!(
        permissions,
        ["modules/api: api"],
        "function permissions of the service stack"
    );
    let tf = service("dev");
    assert_eq!(
        tf.module("http_api")
            .resource_arg("aws_lambda_permission", "api", "principal")
            .str(),
        "apigateway.amazonaws.com"
    );
    let mut seen = 0;
    for st in deploy_statements().iter().filter(|s| s.allow) {
        for action in st
            .actions
            .iter()
            .filter(|a| ["lambda:AddPermission", "lambda:RemovePermission"].contains(&a.as_str()))
        {
            seen += 1;
            assert!(
                st.conditions
                    .iter()
                    .any(|(test, variable, values)| unquoted(test) == "StringEquals"
                        && unquoted(variable) == "lambda:Principal"
                        && values
                            .iter()
                            .map(|v| unquoted(v))
                            .eq(["apigateway.amazonaws.com"])),
                "{}: {action} without lambda:Principal = apigateway.amazonaws.com",
                st.at
            );
        }
    }
    assert_eq!(seen, 2, "AddPermission and RemovePermission are granted");
}

/// The pipeline's own roles (countries-<env>-pipeline*) carry the prefix the deploy role's role
/// statements match: each change those statements allow is denied on them, so a commit can neither
/// widen the roles that run it nor lock them out.
#[test]
fn the_deploy_role_may_change_no_pipeline_role() {
    let statements = deploy_statements();
    let on_roles = |s: &&e2e::hcl_eval::Statement| {
        s.resources
            .iter()
            .any(|r| unquoted(r).ends_with(":role/${local.prefix}-*"))
    };
    let allowed: BTreeSet<&str> = statements
        .iter()
        .filter(|s| s.allow)
        .filter(on_roles)
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .filter(|a| !a.starts_with("iam:Get") && !a.starts_with("iam:List"))
        .collect();
    assert!(allowed.contains("iam:CreateRole"), "{allowed:?}");
    let denied: BTreeSet<&str> = statements
        .iter()
        .filter(|s| {
            !s.allow
                && s.resources
                    .iter()
                    .any(|r| unquoted(r).ends_with(":role/${local.prefix}-pipeline*"))
        })
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .collect();
    // CreateRole cannot touch an existing role.
    let open: Vec<&&str> = allowed
        .iter()
        .filter(|a| **a != "iam:CreateRole" && !denied.contains(**a))
        .collect();
    assert!(
        open.is_empty(),
        "allowed on role/countries-<env>-* and not denied on the pipeline's roles: {open:?}"
    );
}

/// IAM refuses a managed policy over 6,144 characters (whitespace aside). The documents are measured as
/// rendered, with this account's longest plausible values in place of what is known only at apply, and
/// must keep a tenth of the quota free.
#[test]
fn the_deploy_and_boundary_policies_fit_iam_size_quotas() {
    let pipeline = Module::load(&terraform_dir().join("modules/pipeline"));
    let stand_in = |text: &str| -> String {
        let mut out = text
            .replace(
                "${local.arn.",
                "arn:aws:SERVICE:ap-southeast-2:123456789012${",
            )
            .replace("${local.partition}", "aws")
            .replace("${local.account}", "123456789012")
            .replace("${local.region}", "ap-southeast-2")
            .replace("${local.prefix}", "countries-prod")
            .replace("${var.environment}", "prod")
            .replace("${var.state_bucket}", "countries-tfstate-123456789012-prod");
        // What is left (a key ARN, a service name in the map above) at its longest.
        while let (Some(a), Some(b)) = (out.find("${"), out.find('}')) {
            if b < a {
                break;
            }
            out.replace_range(a..=b, &"x".repeat(80));
        }
        out
    };
    let mut docs: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for st in statements(&pipeline) {
        if !(st.doc.starts_with("deploy_") || st.doc == "function_boundary") {
            continue;
        }
        let mut condition = serde_json::Map::new();
        for (test, variable, values) in &st.conditions {
            let values: Vec<String> = values.iter().map(|v| stand_in(v)).collect();
            condition.insert(
                test.clone(),
                serde_json::json!({ stand_in(variable): values }),
            );
        }
        docs.entry(st.doc.clone())
            .or_default()
            .push(serde_json::json!({
                "Sid": st.sid,
                "Effect": if st.allow { "Allow" } else { "Deny" },
                "Action": st.actions,
                "Resource": st.resources.iter().map(|r| stand_in(r)).collect::<Vec<_>>(),
                "Condition": condition,
            }));
    }
    assert!(
        docs.len() >= 5,
        "the deploy documents and the boundary: {:?}",
        docs.keys()
    );
    for (doc, statements) in docs {
        let json =
            serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string();
        assert!(
            json.len() <= 6144 * 9 / 10,
            "{doc}: about {} characters, over 90 % of IAM's 6,144 for a managed policy",
            json.len()
        );
    }
}

/// The schedule invokes the worker with an event the worker reads as a sweep, and the worker may send
/// the jobs it re-queues (deferred jobs too).
#[test]
fn the_schedules_invoke_the_worker_with_a_sweep_and_a_sync_and_it_may_send_jobs() {
    use countries_lambdas::worker::WorkerEvent;
    for env in ENVIRONMENTS {
        let tf = service(env);
        for (name, is_it) in [
            (
                "sweep",
                (|e: &WorkerEvent| matches!(e, WorkerEvent::Sweep { .. }))
                    as fn(&WorkerEvent) -> bool,
            ),
            ("sync", |e: &WorkerEvent| {
                matches!(e, WorkerEvent::Sync { .. })
            }),
        ] {
            let schedule = tf.root_module().resource("aws_scheduler_schedule", name);
            let target = schedule.block("target");
            assert_eq!(target.expr_text("arn"), "module.worker.function_arn");
            let input = serde_json::to_string(&hcl_json(&target.arg("input"))).unwrap();
            let event: WorkerEvent = serde_json::from_str(&input)
                .unwrap_or_else(|e| panic!("{env}: the {name} schedule's input {input}: {e}"));
            assert!(is_it(&event), "{env}: {input} is read as {event:?}");
        }
        let sync = tf.root_module().resource("aws_scheduler_schedule", "sync");
        assert_eq!(
            sync.block("target")
                .block("retry_policy")
                .arg("maximum_retry_attempts")
                .num(),
            0.0,
            "{env}: a failed sync waits for the next trigger; a retry would spend quota at once"
        );
    }
    // The api may read the operator key (forced syncs) and the worker's code may write a sync's records.
    let service_module = Module::load(&terraform_dir().join("service"));
    let api_secrets: Vec<String> = statements(&service_module)
        .into_iter()
        .filter(|s| {
            s.doc == "api"
                && s.actions
                    .iter()
                    .any(|a| a == "secretsmanager:GetSecretValue")
        })
        .flat_map(|s| s.resources)
        .collect();
    assert!(
        api_secrets
            .iter()
            .any(|r| r.contains("operator_key_secret_arn")),
        "the api reads the operator key's secret: {api_secrets:?}"
    );
    let service = Module::load(&terraform_dir().join("service"));
    let worker_actions: Vec<String> = statements(&service)
        .into_iter()
        .filter(|s| s.doc == "worker")
        .flat_map(|s| s.actions)
        .collect();
    for action in [
        "sqs:SendMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
    ] {
        assert!(
            worker_actions.iter().any(|a| a == action),
            "the worker's code calls {action}"
        );
    }
}

/// The sweep (`in_flight` in crates/aws/src/dynamo) scans the operations table's in-flight markers:
/// the worker's role and the boundary allow `dynamodb:Scan` there, and on no other table.
#[test]
fn the_worker_may_scan_the_operations_table_for_the_sweep_and_no_other_table() {
    let service = Module::load(&terraform_dir().join("service"));
    let scans = |doc: &str| -> Vec<String> {
        statements(&service)
            .into_iter()
            .filter(|s| s.doc == doc && s.allow && s.actions.iter().any(|a| a == "dynamodb:Scan"))
            .flat_map(|s| s.resources)
            .collect()
    };
    assert_eq!(
        scans("worker"),
        ["module.data.operations_table_arn"],
        "the worker's sweep scans the operations table"
    );
    assert!(scans("api").is_empty(), "the api never scans");
    let pipeline = Module::load(&terraform_dir().join("modules/pipeline"));
    let bounded: Vec<String> = statements(&pipeline)
        .into_iter()
        .filter(|s| s.doc == "function_boundary" && s.actions.iter().any(|a| a == "dynamodb:Scan"))
        .flat_map(|s| s.resources)
        .map(|r| unquoted(&r).to_string())
        .collect();
    assert_eq!(
        bounded,
        ["${local.arn.dynamodb}:table/${local.prefix}-operations"],
        "the boundary lets the sweep scan the operations table only"
    );
}

/// The schedules invoke the worker asynchronously: Lambda would retry a failed sync twice more on its
/// own, each try spending upstream quota, unless the worker's asynchronous invocations allow no retry.
#[test]
fn lambda_does_not_retry_the_schedules_asynchronous_invocations_of_the_worker() {
    for env in ENVIRONMENTS {
        let tf = service(env);
        let config = tf
            .root_module()
            .resource("aws_lambda_function_event_invoke_config", "worker");
        assert_eq!(
            config.expr_text("function_name"),
            "module.worker.function_name"
        );
        assert_eq!(
            config.arg("qualifier"),
            V::Null,
            "{env}: the schedules invoke the unqualified function ($LATEST)"
        );
        assert_eq!(
            config.arg("maximum_retry_attempts").num(),
            0.0,
            "{env}: a failed sync or sweep waits for its next trigger"
        );
        let age = config.arg("maximum_event_age_in_seconds").num();
        assert!(
            (60.0..=21600.0).contains(&age),
            "{env}: Lambda accepts a maximum event age of 60 s to 6 h, not {age}"
        );
    }
}

/// The schedules' role trusts Scheduler for this account's default schedule group only, the group
/// both schedules are in (Scheduler sends the group's ARN as `aws:SourceArn`).
#[test]
fn the_schedules_role_trusts_scheduler_for_their_group_only() {
    for env in ENVIRONMENTS {
        let tf = service(env);
        for name in ["sweep", "sync"] {
            let schedule = tf.root_module().resource("aws_scheduler_schedule", name);
            assert!(
                matches!(schedule.arg("group_name"), V::Null)
                    || schedule.arg("group_name") == V::Str("default".into()),
                "{env}: the {name} schedule is in the default group"
            );
            assert_eq!(
                schedule.block("target").expr_text("role_arn"),
                "aws_iam_role.sweep.arn"
            );
        }
    }
    let service = Module::load(&terraform_dir().join("service"));
    let trust: Vec<_> = statements(&service)
        .into_iter()
        .filter(|s| s.doc == "scheduler_assume")
        .collect();
    assert_eq!(trust.len(), 1);
    let arns: Vec<&str> = trust[0]
        .conditions
        .iter()
        .filter(|(_, variable, _)| unquoted(variable) == "aws:SourceArn")
        .flat_map(|(_, _, values)| values.iter().map(|v| unquoted(v)))
        .collect();
    assert_eq!(arns.len(), 1, "one aws:SourceArn condition: {arns:?}");
    assert!(
        arns[0].ends_with(":schedule-group/default"),
        "the schedule group's ARN: {arns:?}"
    );
}

/// An evaluated HCL value as JSON.
fn hcl_json(v: &V) -> serde_json::Value {
    match v {
        V::Null => serde_json::Value::Null,
        V::Bool(b) => (*b).into(),
        V::Num(n) => (*n).into(),
        V::Str(s) => s.clone().into(),
        V::List(items) => items.iter().map(hcl_json).collect(),
        V::Map(m) => m.iter().map(|(k, v)| (k.clone(), hcl_json(v))).collect(),
        V::Unknown(what) => panic!("known only after apply: {what}"),
    }
}

/// The deadlines Terraform sets fit inside the api function's timeout: the worst request (a `/fetch` that
/// reads the newest operation, the stored country, creates the operation and queues the job, each call
/// at most `AWS_CALL_TIMEOUT`) after the limiter's connect and command timeouts, and readiness's 2 s.
#[test]
fn the_api_deadlines_fit_inside_its_function_timeout() {
    const CALLS_PER_FETCH: u32 = 4;
    for env in ENVIRONMENTS {
        let tf = service(env);
        let vars = function_env(&tf, "api", env);
        let config = countries_lambdas::api::ApiConfig::from_source(&Recording::new(vars)).unwrap();
        let worst = config.aws.timeouts.call * CALLS_PER_FETCH
            + config.redis.connect_timeout
            + config.redis.command_timeout;
        let timeout = tf.module_arg("api", "timeout_seconds").num();
        assert!(
            worst.as_secs_f64() < timeout,
            "{env}: a /fetch may take {worst:?} before it answers; the api has {timeout}s"
        );
        assert!(
            countries_api::routes::service::PROBE_TIMEOUT.as_secs_f64() < timeout,
            "{env}: readiness"
        );
    }
}

/// N01: CreateServerlessCache makes an AWS-managed VPC endpoint with the deploy role's credentials,
/// carrying ElastiCache's tag (`AmazonElastiCacheManaged`), not the environment's. So the deploy role
/// must allow CreateVpcEndpoint on a new endpoint of that service without a request-tag condition, and
/// tagging it at creation with that tag, as AWS's AmazonElastiCacheFullAccess does.
#[test]
fn the_deploy_role_may_create_the_caches_managed_endpoint() {
    let condition = |st: &e2e::hcl_eval::Statement, test: &str, variable: &str, value: &str| {
        st.conditions.iter().any(|(t, v, values)| {
            unquoted(t) == test
                && unquoted(v) == variable
                && values.iter().map(|x| unquoted(x)).eq([value])
        })
    };
    let on_endpoints = |st: &e2e::hcl_eval::Statement, action: &str| {
        st.allow
            && st.actions.iter().any(|a| a == action)
            && st
                .resources
                .iter()
                .any(|r| unquoted(r).ends_with(":vpc-endpoint/*"))
    };
    let statements = deploy_statements();
    let creates = statements.iter().any(|st| {
        on_endpoints(st, "ec2:CreateVpcEndpoint")
            && st.conditions.len() == 1
            && condition(
                st,
                "StringLike",
                "ec2:VpceServiceName",
                "com.amazonaws.elasticache.serverless.*",
            )
    });
    assert!(
        creates,
        "no statement lets the deploy role create ElastiCache's managed endpoint by its service name alone"
    );
    let tags = statements.iter().any(|st| {
        on_endpoints(st, "ec2:CreateTags")
            && condition(st, "StringEquals", "ec2:CreateAction", "CreateVpcEndpoint")
            && condition(
                st,
                "StringEquals",
                "aws:RequestTag/AmazonElastiCacheManaged",
                "true",
            )
    });
    assert!(
        tags,
        "the managed endpoint's tag at creation is not allowed"
    );
}
