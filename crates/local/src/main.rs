//! `countries-local`: the API and the worker in one process. On embedded defaults (memory store,
//! in-process queue and limiter, bundled data) it needs no network and no account; with `BACKEND=aws` it
//! runs on DynamoDB, SQS and Redis (an emulator or a real account), polling SQS in-process.

use std::net::SocketAddr;
use std::sync::Arc;

use countries_api::{AppState, router};
use countries_aws::{RedisLimiter, provision};
use countries_core::config::ProcessEnv;
use countries_core::ident;
use countries_core::memory::{InMemory, MemoryBudget, MemoryLimiter, MemoryStore, Unmetered};
use countries_core::ports::{InProcess, Probe, SystemClock, UpstreamBudget};
use countries_core::ratelimit::RateLimiter;
use countries_core::usecases::UseCases;
use countries_local::config::{AwsBackend, Backend, Config};
use countries_local::{sqs_poller, worker};
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
    let (stop, stopped) = watch::channel(false);
    let wired = match &config.backend {
        Backend::Memory => memory(&config, stopped),
        Backend::Aws(backend) => aws(&config, backend, stopped).await,
    }
    .unwrap_or_else(|e| fail(&e));
    let app = router(wired.state);

    let addr = SocketAddr::new(config.bind, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {addr} (PORT, BIND): {e}")));
    let addr = listener.local_addr().expect("bound");
    let base = format!("http://{addr}");
    println!(
        "country data service (local) listening on {base} ({} countries indexed)",
        ident::index().len()
    );
    println!(
        "  upstream: {:?}; {}; rate limits: fetch {}, read {}",
        config.upstream, wired.description, config.limits.fetch, config.limits.read
    );
    println!("  try:");
    println!("    curl -i {base}/fetch/paraguay");
    println!("    curl {base}/status/paraguay");
    println!("    curl {base}/country/PY");
    println!(
        "    curl '{base}/countries?region=europe&sort=-population&limit=5&fields=name,population'"
    );
    println!("    curl {base}/v3.1/name/peru");
    println!("    curl {base}/sync");
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
    wired.worker.await.ok();
    info!("stopped");
}

/// The router's state, the task that runs jobs, and a line saying what they run on.
struct Wired {
    state: AppState,
    worker: JoinHandle<()>,
    description: String,
}

fn app_state(
    config: &Config,
    cases: &UseCases,
    limiter: Arc<dyn RateLimiter>,
    budget: Arc<dyn UpstreamBudget>,
    probes: Vec<(&'static str, Arc<dyn Probe>)>,
) -> AppState {
    AppState {
        probes,
        budget,
        upstream: config.upstream.kind(),
        operator_key: config.operator_key.clone(),
        ..AppState::of(cases, limiter, config.limits.on_error)
    }
}

fn memory(config: &Config, stopped: watch::Receiver<bool>) -> Result<Wired, String> {
    let budget: Arc<dyn UpstreamBudget> = if config.upstream.has_quota() {
        Arc::new(MemoryBudget::new(config.budget))
    } else {
        Arc::new(Unmetered)
    };
    let upstream = (config.upstream.build()?, budget.clone());
    let store = MemoryStore::with_retention(config.retention);
    let memory = InMemory::on(store, upstream, config.freshness, config.retry);
    let (cases, queue, jobs) = (memory.cases, memory.queue, memory.jobs);
    let limiter = Arc::new(MemoryLimiter::new(&config.limits));
    let concurrency = config.worker.concurrency;
    tokio::spawn(worker::sweep_every(
        cases.sweeper.clone(),
        worker::SWEEP_EVERY,
        stopped.clone(),
    ));
    let syncs = queue.take_syncs().expect("the sync jobs' receiver is ours");
    tokio::spawn(worker::run_syncs(cases.syncs.clone(), syncs));
    if config.sync_on_start {
        tokio::spawn(worker::first_sync(cases.syncs.clone()));
    }
    let worker = tokio::spawn(worker::run(
        cases.jobs.clone(),
        queue,
        jobs,
        concurrency,
        stopped,
    ));
    let in_process = || Arc::new(InProcess) as Arc<dyn Probe>;
    let probes = vec![
        ("store", in_process()),
        ("queue", in_process()),
        ("limiter", in_process()),
    ];
    Ok(Wired {
        state: app_state(config, &cases, limiter, budget, probes),
        worker,
        description: format!("store: memory; queue: in-process ({concurrency} workers)"),
    })
}

async fn aws(
    config: &Config,
    backend: &AwsBackend,
    stopped: watch::Receiver<bool>,
) -> Result<Wired, String> {
    let AwsBackend {
        create_resources,
        aws: env,
        redis,
    } = backend;
    let aws = countries_aws::wiring::connect(env).await;
    if *create_resources {
        let (tables, max_receives) = (&env.tables, config.retry.max_attempts);
        let dynamodb = aws_sdk_dynamodb::Client::new(&aws.sdk);
        provision::create_tables(&dynamodb, &tables.countries, &tables.operations).await?;
        let name = env.queue_url.rsplit('/').next().unwrap_or_default();
        let sqs = aws_sdk_sqs::Client::new(&aws.sdk);
        provision::create_queues(&sqs, name, max_receives, 60).await?;
    }
    let upstream = &config.upstream;
    let key = upstream
        .key_secret_id()
        .map(|id| aws.secret_put_later(id, "api_key"));
    let budget = aws.budget(upstream.has_quota(), &env.tables, config.budget);
    let cases = UseCases::new(
        aws.store.clone(),
        aws.queue.clone(),
        (upstream.build_with(key)?, budget.clone()),
        Arc::new(SystemClock),
        config.freshness,
        config.retry,
    );
    let (limiter, limiter_probe): (Arc<dyn RateLimiter>, Arc<dyn Probe>) = match redis {
        Some(redis) => {
            let redis = Arc::new(RedisLimiter::new(
                aws.redis_settings(redis.clone()).await?,
                config.limits,
            )?);
            (redis.clone(), redis)
        }
        None => (
            Arc::new(MemoryLimiter::new(&config.limits)),
            Arc::new(InProcess),
        ),
    };
    let probes: Vec<(&'static str, Arc<dyn Probe>)> = vec![
        ("store", aws.store.clone()),
        ("queue", aws.queue.clone()),
        ("limiter", limiter_probe),
    ];
    if config.sync_on_start {
        tokio::spawn(worker::first_sync(cases.syncs.clone()));
    }
    let worker = Worker::new(
        (cases.jobs.clone(), cases.syncs.clone()),
        aws.queue.clone(),
        Some(aws.queue.clone()),
        config.worker,
    );
    tokio::spawn(worker::sweep_every(
        cases.sweeper.clone(),
        worker::SWEEP_EVERY,
        stopped.clone(),
    ));
    let queue = aws.queue.clone();
    let poller = tokio::spawn(async move { sqs_poller::run(&queue, &worker, stopped).await });
    Ok(Wired {
        state: app_state(config, &cases, limiter, budget, probes),
        worker: poller,
        description: format!(
            "store: DynamoDB; queue: SQS {} (polled here); limiter: {}",
            env.queue_url,
            if redis.is_some() {
                "Redis"
            } else {
                "in-process"
            }
        ),
    })
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
