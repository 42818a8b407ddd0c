//! The composition of the two Lambda functions: each reads its whole environment once (a bad value fails
//! the start, naming the variable), builds its AWS clients once per sandbox, and hands the use cases to
//! the router (`api`) or the batch handler (`worker`). terraform/service sets exactly the variables each
//! reads, which tests/infra_contract.rs checks through a recording source.

pub mod api;
pub mod gateway;
pub mod worker;

/// JSON logs, one object per line, with the fields of the current span: in Lambda that span carries the
/// AWS request id of the invocation. `RUST_LOG` sets the level (default `info`).
pub fn init_logs() {
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
}

/// The service's metrics as EMF lines, with this function's name as their dimension. The name is the
/// Lambda runtime's `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda, not by the operator, so not a setting):
/// read here, once per sandbox.
pub fn metrics() -> std::sync::Arc<dyn countries_core::metrics::Metrics> {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    std::sync::Arc::new(countries_core::metrics::Emf::new(&function))
}
