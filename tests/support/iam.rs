//! IAM as AWS applies it, for the Lambda tests: each function's role rendered from the Terraform (its
//! policy in terraform/service within the permissions boundary of terraform/modules/pipeline), created
//! in the moto that `scripts/with-emulators.sh` starts with IAM enforced, and the credentials of one
//! session of it. moto matches actions, not most resource ARNs, so the rendered roles grant their
//! actions on `*`; the resource scoping is checked statically (tests/iam_rules.rs).

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use crate::hcl_eval::{Module, Statement, statements, terraform_dir};

#[derive(Clone, Debug)]
pub struct Credentials {
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
}

/// Its administrator, who sets up tables, queues and secrets as Terraform would.
pub fn admin() -> Credentials {
    let pair = countries_testkit::aws_iam_admin();
    let (key, secret) = pair
        .split_once(':')
        .expect("TEST_AWS_IAM_ADMIN is key:secret");
    Credentials {
        key: key.into(),
        secret: secret.into(),
        token: None,
    }
}

/// An IAM action pattern (`*` and `?`, case-insensitive as IAM compares actions) against an action.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    fn go(p: &[u8], a: &[u8]) -> bool {
        match (p.first(), a.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], a) || (!a.is_empty() && go(p, &a[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &a[1..]),
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => go(&p[1..], &a[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), action.as_bytes())
}

fn allows(statements: &[Statement], action: &str) -> bool {
    let matching = |allow: bool| {
        statements
            .iter()
            .filter(|s| s.allow == allow)
            .any(|s| s.actions.iter().any(|p| action_matches(p, action)))
    };
    matching(true) && !matching(false)
}

/// The actions the role of `function` (`api` or `worker`) may use: those of its policy document that
/// the boundary allows too. Conditions and resources are left to the static checks.
pub fn function_actions(function: &str) -> BTreeSet<String> {
    let service = Module::load(&terraform_dir().join("service"));
    let pipeline = Module::load(&terraform_dir().join("modules/pipeline"));
    let boundary: Vec<Statement> = statements(&pipeline)
        .into_iter()
        .filter(|s| s.doc == "function_boundary")
        .collect();
    assert!(!boundary.is_empty(), "no function_boundary document");
    let own: Vec<Statement> = statements(&service)
        .into_iter()
        .filter(|s| s.doc == function)
        .collect();
    assert!(
        !own.is_empty(),
        "no policy document `{function}` in terraform/service"
    );
    own.iter()
        .filter(|s| s.allow)
        .flat_map(|s| s.actions.iter().cloned())
        .filter(|a| allows(&own, a) && allows(&boundary, a))
        .collect()
}

/// The policy document moto is given for `actions`. DynamoDB authorizes each item of a
/// TransactWriteItems by its own kind (a Put as `dynamodb:PutItem`) and has no action of that name,
/// which moto checks instead: granted exactly when `PutItem` is, as the store's transactions hold only
/// Puts (tests/iam_rules.rs holds the code to that).
pub fn moto_policy(actions: &BTreeSet<String>) -> serde_json::Value {
    let mut granted: Vec<String> = actions.iter().cloned().collect();
    if actions.contains("dynamodb:PutItem") {
        granted.push("dynamodb:TransactWriteItems".into());
    }
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": granted, "Resource": "*"}],
    })
}

/// A role named `name` that may use `actions`, and the credentials of a session of it.
pub fn assume(name: &str, actions: &BTreeSet<String>) -> Credentials {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("support/moto_role.py");
    let mut child = Command::new(countries_testkit::moto_python())
        .arg(script)
        .arg(name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tests/support/moto_role.py");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(moto_policy(actions).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "moto_role.py {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Credentials {
        key: v["AccessKeyId"].as_str().unwrap().into(),
        secret: v["SecretAccessKey"].as_str().unwrap().into(),
        token: v["SessionToken"].as_str().map(String::from),
    }
}

/// An SDK configuration for the IAM-enforcing moto with `creds`.
pub async fn sdk_config(creds: &Credentials) -> aws_config::SdkConfig {
    countries_testkit::sdk_at(&countries_testkit::aws_iam_endpoint())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            &creds.key,
            &creds.secret,
            creds.token.clone(),
            None,
            "iam-test",
        ))
        .load()
        .await
}

/// The environment a function's SDK clients need to call the IAM-enforcing moto as `creds`.
pub fn env(creds: &Credentials) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", countries_testkit::aws_iam_endpoint()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", creds.key.clone()),
        ("AWS_SECRET_ACCESS_KEY", creds.secret.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    if let Some(t) = &creds.token {
        env.push(("AWS_SESSION_TOKEN".into(), t.clone()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::action_matches;

    #[test]
    fn action_patterns_match_as_iam_does() {
        assert!(action_matches("dynamodb:*", "dynamodb:Scan"));
        assert!(action_matches("DynamoDB:get*", "dynamodb:GetItem"));
        assert!(action_matches("s?s:SendMessage", "sqs:SendMessage"));
        assert!(!action_matches("dynamodb:Get*", "dynamodb:Scan"));
        assert!(!action_matches("sqs:Send", "sqs:SendMessage"));
    }
}
