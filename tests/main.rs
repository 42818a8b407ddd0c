//! End-to-end and contract tests across processes and files: the built binaries over loopback, the
//! Terraform against the code, the docs against the code. One test binary: one link step.

mod docs;
mod iam_rules;
mod infra_contract;
mod lambdas;
mod local_server;
