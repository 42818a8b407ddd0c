//! Four worker instances share one upstream budget (20 calls per 10 s, in DynamoDB on moto) and drain a
//! backlog of 200 fetch jobs from the REST Countries stand-in's v5 API. Prints the most upstream calls
//! seen in any 10 s window (the budget says 20) and the time to drain.
//!
//! `make bench-budget` (runs it under `scripts/with-emulators.sh`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use countries_aws::{DynamoBudget, DynamoStore, provision};
use countries_core::budget::BudgetPolicy;
use countries_core::memory::MemoryQueue;
use countries_core::ports::{JobQueue, SystemClock, UpstreamBudget};
use countries_core::usecases::{FreshnessPolicy, JobOutcome, RetryPolicy, UseCases};
use countries_stub::{Stub, StubOptions};
use countries_testkit::{Scripted, sdk, unique};
use countries_upstream::{HttpSettings, V5};

const INSTANCES: usize = 4;
const JOBS: usize = 200;

#[tokio::main]
async fn main() {
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk().await);
    let (countries, operations) = (unique("bench-c"), unique("bench-o"));
    provision::create_tables(&dynamodb, &countries, &operations)
        .await
        .unwrap();
    let stub = Stub::start(StubOptions::default()).await.unwrap();
    // The v5 client, with the time of every call it makes.
    let v5 = V5::new(&stub.v5_base(), "key", &HttpSettings::default()).unwrap();
    let upstream = Arc::new(Scripted::over(Arc::new(v5)));
    let policy = BudgetPolicy::default();
    let (queue, jobs) = MemoryQueue::new();
    let queue = Arc::new(queue);
    let jobs = Arc::new(tokio::sync::Mutex::new(jobs));
    // Each instance has its own clients, as separate Lambda sandboxes do; they share only DynamoDB.
    let instances: Vec<UseCases> = (0..INSTANCES)
        .map(|_| {
            let store = Arc::new(DynamoStore::new(
                dynamodb.clone(),
                &countries,
                &operations,
                Duration::from_secs(3600),
            ));
            let budget: Arc<dyn UpstreamBudget> =
                Arc::new(DynamoBudget::new(dynamodb.clone(), &operations, policy));
            UseCases::new(
                store,
                queue.clone(),
                (upstream.clone(), budget),
                Arc::new(SystemClock),
                Arc::new(countries_core::metrics::Counted::default()),
                FreshnessPolicy::default(),
                RetryPolicy::default(),
            )
        })
        .collect();
    let codes: Vec<String> = countries_core::dataset::documents()
        .iter()
        .take(JOBS)
        .map(|d| d["cca2"].as_str().unwrap().to_string())
        .collect();
    for code in &codes {
        instances[0].api.fetches.request(code, false).await.unwrap();
    }
    println!(
        "budget_drain: {JOBS} jobs, {INSTANCES} instances x 4 jobs at once, budget {} per window, DynamoDB on moto",
        policy.burst
    );
    let started = Instant::now();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for cases in &instances {
        for _ in 0..4 {
            let (processor, jobs, queue, done) = (
                cases.worker.jobs.clone(),
                jobs.clone(),
                queue.clone(),
                done.clone(),
            );
            tasks.push(tokio::spawn(async move {
                while done.load(std::sync::atomic::Ordering::SeqCst) < JOBS {
                    let job = tokio::time::timeout(Duration::from_millis(200), async {
                        jobs.lock().await.recv().await
                    })
                    .await;
                    let Ok(Some(job)) = job else { continue };
                    match processor.process(&job).await.unwrap() {
                        JobOutcome::Deferred { after } => {
                            queue.enqueue_after(&job, after).await.unwrap()
                        }
                        JobOutcome::Finished(_) => {
                            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        other => panic!("{other:?}"),
                    }
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let drained = started.elapsed();
    let calls = upstream.call_times();
    let window = policy.burst.window;
    let most = calls
        .iter()
        .map(|t| {
            calls
                .iter()
                .filter(|u| *u >= t && u.duration_since(*t) < window)
                .count()
        })
        .max()
        .unwrap_or(0);
    println!("budget_drain: upstream calls {}", calls.len());
    println!(
        "budget_drain: most upstream calls in any {:?} window: {most} (budget {})",
        window, policy.burst.requests
    );
    println!("budget_drain: drained in {:.1} s", drained.as_secs_f64());
    assert_eq!(calls.len(), JOBS, "one upstream call per job");
    assert!(most <= policy.burst.requests as usize);
}
