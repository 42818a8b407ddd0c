//! `countries-local`: the API and the worker in one process. On embedded defaults (memory store,
//! in-process queue and limiter, bundled data) it needs no network and no account; with `BACKEND=aws` it
//! runs on DynamoDB, SQS and Redis (an emulator or a real account), polling SQS in-process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use countries_api::{AppState, router};
use countries_aws::config::{AwsEnv, RedisEnv};
use countries_aws::wiring::Aws;
use countries_aws::{RedisLimiter, provision};
use countries_core::config::ProcessEnv;
use countries_core::ident;
use countries_core::memory::{MemoryBudget, MemoryLimiter, MemoryQueue, MemoryStore, Unmetered};
use countries_core::metrics::{Emf, Metrics};
use countries_core::ports::{
    InProcess, JobQueue, Probe, Store, SystemClock, Upstream, UpstreamBudget,
};
use countries_core::ratelimit::RateLimiter;
use countries_core::usecases::{UseCases, WorkerCases};
use countries_local::config::{AwsBackend, Backend, Config};
use countries_local::{job_loop, serve, sqs_poller};
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
        Backend::Memory { retention } => memory(&config, *retention, stopped),
        Backend::Aws(backend) => aws(&config, backend, stopped).await,
    }
    .unwrap_or_else(|e| fail(&e.to_string()));
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

    serve::serve(listener, app, config.listener, signal()).await;
    info!("no longer accepting requests");
    stop.send(true).ok();
    wired.worker.await.ok();
    info!("stopped");
}

/// Why the server could not start, in the words of what failed.
type StartError = Box<dyn std::error::Error + Send + Sync>;

/// The router's state, the task that runs jobs, and a line saying what they run on.
struct Wired {
    state: AppState,
    worker: JoinHandle<()>,
    description: String,
}

/// What a backend gives the rest of the wiring, which is the same on both.
struct Adapters<S> {
    store: Arc<S>,
    queue: Arc<dyn JobQueue>,
    upstream: (Arc<dyn Upstream>, Arc<dyn UpstreamBudget>),
    limiter: Arc<dyn RateLimiter>,
    probes: Vec<(&'static str, Arc<dyn Probe>)>,
    metrics: Arc<dyn Metrics>,
}

/// EMF lines on stdout, as on Lambda, with `local` for the function.
fn metrics() -> Arc<dyn Metrics> {
    Arc::new(Emf::new("local"))
}

/// Both sides' use cases on `adapters`, the sweep and the first sync started, and the router's state.
fn compose<S>(
    config: &Config,
    adapters: Adapters<S>,
    stopped: watch::Receiver<bool>,
) -> (AppState, WorkerCases)
where
    S: Store + 'static,
{
    let budget = adapters.upstream.1.clone();
    let cases = UseCases::new(
        adapters.store,
        adapters.queue,
        adapters.upstream,
        Arc::new(SystemClock),
        adapters.metrics.clone(),
        config.freshness,
        config.retry,
    );
    tokio::spawn(job_loop::sweep_every(
        cases.worker.sweeper.clone(),
        job_loop::SWEEP_EVERY,
        stopped,
    ));
    if config.sync_on_start {
        tokio::spawn(job_loop::first_sync(cases.worker.syncs.clone()));
    }
    let limiter = (adapters.limiter, config.limits.on_error);
    let state = AppState::new(&cases.api, limiter, adapters.metrics)
        .with_operator_key(config.operator_key.clone())
        .with_upstream(config.upstream.kind(), budget)
        .with_probes(adapters.probes);
    (state, cases.worker)
}

fn memory(
    config: &Config,
    retention: Duration,
    stopped: watch::Receiver<bool>,
) -> Result<Wired, StartError> {
    let budget: Arc<dyn UpstreamBudget> = if config.upstream.has_quota() {
        Arc::new(MemoryBudget::new(config.budget))
    } else {
        Arc::new(Unmetered)
    };
    let (queue, jobs) = MemoryQueue::new();
    let queue = Arc::new(queue);
    let syncs = queue.take_syncs().expect("the sync jobs' receiver is ours");
    let in_process = || Arc::new(InProcess) as Arc<dyn Probe>;
    let metrics = metrics();
    let adapters = Adapters {
        store: Arc::new(MemoryStore::with_retention(retention)),
        queue: queue.clone(),
        upstream: (config.upstream.build(metrics.clone())?, budget),
        metrics,
        limiter: Arc::new(MemoryLimiter::new(&config.limits)),
        probes: vec![
            ("store", in_process()),
            ("queue", in_process()),
            ("limiter", in_process()),
        ],
    };
    let (state, cases) = compose(config, adapters, stopped.clone());
    tokio::spawn(job_loop::run_syncs(cases.syncs, syncs));
    let concurrency = config.worker.concurrency;
    let worker = tokio::spawn(job_loop::run(cases.jobs, queue, jobs, concurrency, stopped));
    Ok(Wired {
        state,
        worker,
        description: format!("store: memory; queue: in-process ({concurrency} workers)"),
    })
}

async fn aws(
    config: &Config,
    backend: &AwsBackend,
    stopped: watch::Receiver<bool>,
) -> Result<Wired, StartError> {
    let AwsBackend {
        create_resources,
        aws: env,
        redis,
    } = backend;
    let aws = countries_aws::wiring::connect(env).await;
    if *create_resources {
        provision(&aws, env, config.retry.max_attempts).await?;
    }
    let (limiter, limiter_probe) = limiter(&aws, redis.as_ref(), config).await?;
    let metrics = metrics();
    let adapters = Adapters {
        store: aws.store.clone(),
        queue: aws.queue.clone(),
        upstream: aws.upstream(
            &config.upstream,
            &env.tables,
            config.budget,
            metrics.clone(),
        )?,
        metrics,
        limiter,
        probes: vec![
            ("store", aws.store.clone()),
            ("queue", aws.queue.clone()),
            ("limiter", limiter_probe),
        ],
    };
    let (state, cases) = compose(config, adapters, stopped.clone());
    let worker = Worker::new(
        (cases.jobs, cases.syncs),
        aws.queue.clone(),
        Some(aws.queue.clone()),
        config.worker,
    );
    let queue = aws.queue.clone();
    let poller = tokio::spawn(async move { sqs_poller::run(&queue, &worker, stopped).await });
    let limiter = if redis.is_some() {
        "Redis"
    } else {
        "in-process"
    };
    Ok(Wired {
        state,
        worker: poller,
        description: format!(
            "store: DynamoDB; queue: SQS {} (polled here); limiter: {limiter}",
            env.queue_url
        ),
    })
}

/// Rate limits in Redis with `REDIS_URL`, else in this process; and the limiter's probe.
async fn limiter(
    aws: &Aws,
    redis: Option<&RedisEnv>,
    config: &Config,
) -> Result<(Arc<dyn RateLimiter>, Arc<dyn Probe>), StartError> {
    Ok(match redis {
        Some(redis) => {
            let settings = aws.redis_settings(redis.clone()).await?;
            let redis = Arc::new(RedisLimiter::new(settings, config.limits)?);
            (redis.clone(), redis)
        }
        None => (
            Arc::new(MemoryLimiter::new(&config.limits)),
            Arc::new(InProcess),
        ),
    })
}

/// The tables and queues, for emulators (in AWS, Terraform owns them).
async fn provision(aws: &Aws, env: &AwsEnv, max_receives: u32) -> Result<(), StartError> {
    let tables = &env.tables;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws.sdk);
    provision::create_tables(&dynamodb, &tables.countries, &tables.operations).await?;
    let name = env.queue_url.rsplit('/').next().unwrap_or_default();
    let sqs = aws_sdk_sqs::Client::new(&aws.sdk);
    provision::create_queues(&sqs, name, max_receives, 60).await?;
    Ok(())
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
