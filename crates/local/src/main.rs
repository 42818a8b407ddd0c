//! `countries-local`: the API and the worker in one process. On embedded defaults (memory store,
//! in-process queue and limiter, bundled data) it needs no network and no account; with `BACKEND=aws` it
//! runs on DynamoDB, SQS and Redis (an emulator or a real account), polling SQS in-process.

use std::net::SocketAddr;
use std::sync::Arc;

use countries_api::{AppState, router};
use countries_aws::config::{AwsEnv, REST_COUNTRIES_API_KEY_SECRET_ID, RedisEnv};
use countries_aws::{RedisLimiter, provision};
use countries_core::config::{ProcessEnv, Source};
use countries_core::memory::{MemoryLimiter, MemoryQueue, MemoryStore};
use countries_core::ports::{RateLimiter, SystemClock};
use countries_core::{Service, ident};
use countries_local::config::{Backend, Config};
use countries_local::worker;
use countries_upstream::UpstreamConfig;
use countries_worker::Worker;
use tokio::sync::watch;
use tokio::task::JoinHandle;
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
    let (stop, stopped) = watch::channel(false);
    let (service, limiter, worker, wiring) = match config.backend {
        Backend::Memory => memory(&config, stopped).await,
        Backend::Aws {
            create_resources,
            redis,
        } => aws(&config, create_resources, redis, stopped).await,
    }
    .unwrap_or_else(|e| fail(&e));
    let app = router(AppState {
        service,
        limiter,
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
        "  upstream: {:?}; {wiring}; rate limits: fetch {}, read {}",
        config.upstream, config.fetch_limit, config.read_limit
    );
    println!("  try:");
    println!("    curl -i {base}/fetch/paraguay");
    println!("    curl {base}/status/paraguay");
    println!("    curl {base}/country/PY");
    println!("  Ctrl-C stops it.");

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

type Wired = (Arc<Service>, Arc<dyn RateLimiter>, JoinHandle<()>, String);

async fn memory(config: &Config, stopped: watch::Receiver<bool>) -> Result<Wired, String> {
    let upstream = config.upstream.build()?;
    let store = Arc::new(MemoryStore::new());
    let (queue, jobs) = MemoryQueue::new();
    let queue = Arc::new(queue);
    let service = Arc::new(Service {
        index: ident::index(),
        countries: store.clone(),
        operations: store,
        queue: queue.clone(),
        upstream,
        clock: Arc::new(SystemClock),
        settings: config.settings.clone(),
    });
    let limiter = Arc::new(MemoryLimiter::new(config.fetch_limit, config.read_limit));
    let worker = tokio::spawn(worker::run(
        service.clone(),
        queue,
        jobs,
        config.worker_concurrency,
        stopped,
    ));
    let wiring = format!(
        "store: memory; queue: in-process ({} workers)",
        config.worker_concurrency
    );
    Ok((service, limiter, worker, wiring))
}

async fn aws(
    config: &Config,
    create: bool,
    redis: bool,
    stopped: watch::Receiver<bool>,
) -> Result<Wired, String> {
    let src = &ProcessEnv;
    let env = AwsEnv::from_source(src).map_err(|e| e.to_string())?;
    if create {
        let sdk = countries_aws::sdk_config().await;
        provision::create_tables(
            &aws_sdk_dynamodb::Client::new(&sdk),
            &env.tables.countries,
            &env.tables.operations,
        )
        .await?;
        let name = env.queue_url.rsplit('/').next().unwrap_or_default();
        let max_receives = config.settings.max_attempts;
        provision::create_queues(&aws_sdk_sqs::Client::new(&sdk), name, max_receives, 60).await?;
    }
    let aws = countries_aws::wiring::connect(&env).await;
    let key_secret = src.var(REST_COUNTRIES_API_KEY_SECRET_ID);
    let key = aws.secret(key_secret.as_deref(), "api_key").await?;
    let upstream = match key {
        Some(key) => UpstreamConfig::from_source(src, Some(key))
            .map_err(|e| e.to_string())?
            .build()?,
        None => config.upstream.build()?,
    };
    let service = Arc::new(aws.service(upstream, config.settings.clone()));
    let limiter: Arc<dyn RateLimiter> = if redis {
        Arc::new(RedisLimiter::new(
            aws.redis_settings(RedisEnv::from_source(src).map_err(|e| e.to_string())?)
                .await?,
            config.fetch_limit,
            config.read_limit,
        )?)
    } else {
        Arc::new(MemoryLimiter::new(config.fetch_limit, config.read_limit))
    };
    let worker = Worker {
        service: service.clone(),
        queue: Some(aws.queue.clone()),
        max_receives: config.settings.max_attempts,
        concurrency: config.worker_concurrency,
    };
    let queue_url = aws.queue.queue_url.clone();
    let poller = tokio::spawn(async move { countries_worker::poll::run(&worker, stopped).await });
    let wiring = format!(
        "store: DynamoDB; queue: SQS {queue_url} (polled here); limiter: {}",
        if redis { "Redis" } else { "in-process" }
    );
    Ok((service, limiter, poller, wiring))
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
