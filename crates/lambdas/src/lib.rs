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
        .with_env_filter(log_filter(std::env::var("RUST_LOG").ok().as_deref()))
        .init();
}

/// `RUST_LOG`, but the Lambda runtime's own crates never below `info`: at `trace` they log each raw
/// event, headers included, and so the operator key of a `POST /sync` (the security review's L1).
fn log_filter(rust_log: Option<&str>) -> tracing_subscriber::EnvFilter {
    let filter = tracing_subscriber::EnvFilter::try_new(rust_log.unwrap_or("info"))
        .unwrap_or_else(|_| "info".into());
    [
        "lambda_runtime=info",
        "lambda_runtime_api_client=info",
        "lambda_http=info",
    ]
    .into_iter()
    .fold(filter, |f, d| {
        f.add_directive(d.parse().expect("a valid directive"))
    })
}

/// The service's metrics as EMF lines, with this function's name as their dimension. The name is the
/// Lambda runtime's `AWS_LAMBDA_FUNCTION_NAME` (set by Lambda, not by the operator, so not a setting):
/// read here, once per sandbox.
pub fn metrics() -> std::sync::Arc<dyn countries_core::metrics::Metrics> {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into());
    std::sync::Arc::new(countries_core::metrics::Emf::new(&function))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    /// What a subscriber with `log_filter(rust_log)` writes for one event of each target.
    fn logged(rust_log: &str) -> String {
        #[derive(Clone, Default)]
        struct Buffer(Arc<Mutex<Vec<u8>>>);
        impl Write for Buffer {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().write(b)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let out = buffer.clone();
        let subscriber = tracing_subscriber::registry()
            .with(super::log_filter(Some(rust_log)))
            .with(tracing_subscriber::fmt::layer().with_writer(move || out.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime::layers", "raw event with its headers");
            tracing::trace!(target: "countries_api", "our own trace");
        });
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn trace_never_reaches_the_runtimes_raw_events() {
        for rust_log in [
            "trace",
            "lambda_runtime=trace",
            "trace,lambda_runtime=trace",
        ] {
            let out = logged(rust_log);
            assert!(!out.contains("raw event"), "{rust_log}: {out}");
        }
        assert!(logged("trace").contains("our own trace"));
    }
}
