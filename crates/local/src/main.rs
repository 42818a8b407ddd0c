//! `countries-local`: the API and the worker in one process. On embedded defaults (memory store,
//! in-process queue and limiter, bundled data) it needs no network and no account.

use std::net::SocketAddr;
use std::sync::Arc;

use countries_api::{AppState, router};
use countries_core::config::ProcessEnv;
use countries_core::memory::{MemoryLimiter, MemoryQueue, MemoryStore};
use countries_core::ports::SystemClock;
use countries_core::{Service, ident};
use countries_local::config::Config;
use countries_local::worker;
use tokio::sync::watch;
use tracing::info;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    let config = Config::from_source(&ProcessEnv).unwrap_or_else(|e| fail(&e.to_string()));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if config.json_logs {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }

    // Built before listening, so the first request does not pay for it.
    let index = ident::index();
    let upstream = config.upstream.build().unwrap_or_else(|e| fail(&e));
    let store = Arc::new(MemoryStore::new());
    let (queue, jobs) = MemoryQueue::new();
    let queue = Arc::new(queue);
    let service = Arc::new(Service {
        index,
        countries: store.clone(),
        operations: store,
        queue: queue.clone(),
        upstream,
        clock: Arc::new(SystemClock),
        settings: config.settings.clone(),
    });
    let app = router(AppState {
        service: service.clone(),
        limiter: Arc::new(MemoryLimiter::new(config.fetch_limit, config.read_limit)),
        limiter_policy: config.limiter_policy,
        base_path: String::new(),
    });

    let addr = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr} (PORT, BIND): {e}")));
    let addr = listener.local_addr().expect("bound");
    let base = format!("http://{addr}");
    println!(
        "country data service (local) listening on {base} ({} countries indexed)",
        index.len()
    );
    println!(
        "  upstream: {:?}; store: memory; queue: in-process ({} workers); rate limits: fetch {}, read {}",
        config.upstream, config.worker_concurrency, config.fetch_limit, config.read_limit
    );
    println!("  try:");
    println!("    curl -i {base}/fetch/paraguay");
    println!("    curl {base}/status/paraguay");
    println!("    curl {base}/country/PY");
    println!("  Ctrl-C stops it.");

    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(worker::run(
        service,
        queue,
        jobs,
        config.worker_concurrency,
        stopped,
    ));
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal())
    .await
    .unwrap_or_else(|e| fail(&format!("server error: {e}")));
    info!("no longer accepting requests");
    stop.send(true).ok();
    worker.await.ok();
    info!("stopped");
}

async fn signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.ok();
}

fn fail(message: &str) -> ! {
    eprintln!("countries-local: {message}");
    std::process::exit(2)
}
