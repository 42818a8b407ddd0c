//! Test doubles for core's own unit tests and, through the `testing` feature, for the other crates'
//! tests (via `countries-testkit`). They live here, not in the test kit, because core's unit tests
//! cannot use a crate that depends on core: they would see a second copy of its types.
//!
//! - [`Scripted`]: one upstream that every test scripts to its need;
//! - [`fixture`]: the use cases on one memory store, a channel queue, a manual clock and a `Scripted`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

use crate::country::{CountryCode, Fetched};
use crate::memory::{ManualClock, MemoryQueue, MemoryStore};
use crate::metrics::Counted;
use crate::operation::{Job, Operation};
use crate::ports::{
    CallGate, CatalogueFetch, Upstream, UpstreamBudget, UpstreamError, UpstreamKind,
};
use crate::usecases::{
    CatalogueReads, CatalogueSync, CountryReads, FetchOutcome, FetchRequests, FreshnessPolicy,
    JobProcessor, RetryPolicy, SyncRequests, UseCases,
};

type Answer = dyn Fn(CountryCode) -> Result<Fetched, UpstreamError> + Send + Sync;

/// An upstream a test scripts: each fetch waits its delay, then answers with the next scripted
/// result, else the failure set for that country, else its answer (by default `{"cca2": code}`).
/// It remembers when each call (fetch or catalogue) came. Its catalogue is the bundled data set, in
/// one call, unless it is `over` another upstream.
pub struct Scripted {
    kind: UpstreamKind,
    answer: Box<Answer>,
    over: Option<Arc<dyn Upstream>>,
    delay: Duration,
    first: Mutex<VecDeque<Result<Fetched, UpstreamError>>>,
    failing: HashMap<CountryCode, UpstreamError>,
    catalogue: Mutex<(usize, Option<String>)>,
    calls: Mutex<Vec<Instant>>,
}

impl Default for Scripted {
    fn default() -> Self {
        Scripted::new()
    }
}

impl Scripted {
    /// Answers every country at once with `{"cca2": code}` (source `scripted`), as the bundled kind.
    pub fn new() -> Self {
        Scripted {
            kind: UpstreamKind::Bundled,
            answer: Box::new(|code| {
                Ok(Fetched {
                    document: serde_json::json!({"cca2": code.as_str()}),
                    raw: serde_json::json!({}),
                    source: "scripted".into(),
                })
            }),
            over: None,
            delay: Duration::ZERO,
            first: Mutex::default(),
            failing: HashMap::new(),
            catalogue: Mutex::default(),
            calls: Mutex::default(),
        }
    }

    /// Passes every call on to `inner` (and takes its kind): for timing or delaying a real client.
    pub fn over(inner: Arc<dyn Upstream>) -> Self {
        Scripted {
            kind: inner.kind(),
            over: Some(inner),
            ..Scripted::new()
        }
    }

    /// What a fetch answers once nothing else is scripted: a document from the code, say.
    pub fn answering(
        self,
        answer: impl Fn(CountryCode) -> Result<Fetched, UpstreamError> + Send + Sync + 'static,
    ) -> Self {
        Scripted {
            answer: Box::new(answer),
            ..self
        }
    }

    /// The first fetches' results, one a call, whatever the country: "fails twice, then succeeds".
    pub fn answering_first(
        self,
        results: impl IntoIterator<Item = Result<Fetched, UpstreamError>>,
    ) -> Self {
        self.first.lock().unwrap().extend(results);
        self
    }

    /// Every fetch of `country` fails with `error`.
    pub fn failing(mut self, country: &str, error: UpstreamError) -> Self {
        let code = country.parse().expect("a country code");
        self.failing.insert(code, error);
        self
    }

    /// Every fetch waits `delay` first, on tokio's clock, so that a paused test clock skips it.
    pub fn taking(self, delay: Duration) -> Self {
        Scripted { delay, ..self }
    }

    /// What the catalogue answers from now on: the bundled data set less its last `left_out`
    /// documents, with `failure` reported as what did not come.
    pub fn set_catalogue(&self, left_out: usize, failure: Option<String>) {
        *self.catalogue.lock().unwrap() = (left_out, failure);
    }

    pub fn calls(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    /// When each call came, in order.
    pub fn call_times(&self) -> Vec<Instant> {
        self.calls.lock().unwrap().clone()
    }

    fn called(&self) {
        self.calls.lock().unwrap().push(Instant::now());
    }
}

#[async_trait]
impl Upstream for Scripted {
    fn kind(&self) -> UpstreamKind {
        self.kind
    }

    async fn fetch(&self, code: CountryCode) -> Result<Fetched, UpstreamError> {
        self.called();
        tokio::time::sleep(self.delay).await;
        if let Some(result) = self.first.lock().unwrap().pop_front() {
            return result;
        }
        if let Some(error) = self.failing.get(&code) {
            return Err(error.clone());
        }
        match &self.over {
            Some(inner) => inner.fetch(code).await,
            None => (self.answer)(code),
        }
    }

    async fn catalogue(&self, gate: &dyn CallGate) -> Result<CatalogueFetch, UpstreamError> {
        if let Some(inner) = &self.over {
            self.called();
            return inner.catalogue(gate).await;
        }
        gate.admit().await?;
        self.called();
        let (left_out, failure) = self.catalogue.lock().unwrap().clone();
        let docs = crate::dataset::documents();
        let countries = docs[..docs.len() - left_out]
            .iter()
            .map(|d| {
                let code = d["cca2"].as_str().unwrap().parse().unwrap();
                let fetched = Fetched {
                    document: crate::country::from_v31(d),
                    raw: d.clone(),
                    source: "scripted".into(),
                };
                (code, fetched)
            })
            .collect();
        Ok(CatalogueFetch {
            countries,
            failed: failure.into_iter().collect(),
            calls: 1,
        })
    }
}

pub fn retryable(m: &str) -> Result<Fetched, UpstreamError> {
    Err(UpstreamError::Retryable {
        message: m.into(),
        retry_after: None,
    })
}

pub struct Fixture {
    pub sync_requests: Arc<SyncRequests>,
    pub syncs: Arc<CatalogueSync>,
    pub catalogue: Arc<CatalogueReads>,
    pub fetches: Arc<FetchRequests>,
    pub reads: Arc<CountryReads>,
    pub jobs: Arc<JobProcessor>,
    pub queued: UnboundedReceiver<Job>,
    pub clock: Arc<ManualClock>,
    pub upstream: Arc<Scripted>,
    pub store: Arc<MemoryStore>,
    pub queue: Arc<MemoryQueue>,
    /// What the use cases counted.
    pub metrics: Arc<Counted>,
}

/// The use cases on an unmetered budget and an upstream that answers `script` first.
pub fn fixture(script: Vec<Result<Fetched, UpstreamError>>) -> Fixture {
    with_budget(script, Arc::new(crate::memory::Unmetered))
}

pub fn with_budget(
    script: Vec<Result<Fetched, UpstreamError>>,
    budget: Arc<dyn UpstreamBudget>,
) -> Fixture {
    let store = Arc::new(MemoryStore::new());
    let (queue, queued) = MemoryQueue::new();
    let queue = Arc::new(queue);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let upstream = Arc::new(Scripted::new().answering_first(script));
    let metrics = Arc::new(Counted::default());
    let cases = UseCases::new(
        store.clone(),
        queue.clone(),
        (upstream.clone(), budget),
        clock.clone(),
        metrics.clone(),
        FreshnessPolicy::default(),
        RetryPolicy::default(),
    );
    let (api, worker) = (cases.api, cases.worker);
    Fixture {
        sync_requests: api.sync_requests,
        syncs: worker.syncs,
        catalogue: api.catalogue,
        fetches: api.fetches,
        reads: api.reads,
        jobs: worker.jobs,
        queued,
        clock,
        upstream,
        store,
        queue,
        metrics,
    }
}

pub async fn accepted(f: &Fixture, input: &str, force: bool) -> (Operation, bool) {
    match f.fetches.request(input, force).await.unwrap() {
        FetchOutcome::Accepted { op, deduplicated } => (op, deduplicated),
        other => panic!("expected accepted, got {other:?}"),
    }
}
