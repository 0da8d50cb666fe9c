//! Making the cluster hold exactly the rendered objects: server-side apply under the
//! field manager `govcloud` (forced, so manual edits of managed fields are reverted),
//! skipped when the live object already holds every desired field, and a sweep of
//! managed objects that are no longer rendered. Live objects are read from the watch
//! caches when the operator runs ([`Live::Cached`]), else fetched; an object whose write
//! failed waits out its backoff while the rest go on. Once the stop is given, no write
//! starts: the objects are still compared, so that the writes left undone are counted.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};

use super::backoff::{Action, Failure, ObjectBackoff, Write};
use super::changes::Echoes;
use super::error::ApplyError;
use super::live::{CachedObject, Live};
use super::rejection::{Generations, owner_of};
use crate::api::{FIELD_MANAGER, labels};
use crate::object::{Kind, ObjectId, Target};
use crate::render::Manifest;

/// Selects every object govcloud wrote.
pub fn managed_selector() -> String {
    format!("{}={}", labels::MANAGED_BY, labels::MANAGED_BY_VALUE)
}

/// A kind the renderer writes, with what dynamic calls and watches need of it.
#[derive(Clone, Debug)]
pub struct ManagedKind {
    pub kind: Kind,
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// Every kind the renderer writes ([`Kind::MANAGED`]), namespaced kinds first so that a
/// sweep empties a namespace before it would touch the namespace itself.
pub fn managed_kinds() -> Vec<ManagedKind> {
    Kind::MANAGED
        .into_iter()
        .map(|kind| ManagedKind {
            kind,
            resource: kind.api_resource(),
            namespaced: kind.namespaced(),
        })
        .collect()
}

/// What `ensure` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The live object already held every desired field: no write.
    Unchanged,
    /// Created, or drift reverted, by a forced server-side apply.
    Applied,
    /// Still in backoff after a failed write: left for a later pass.
    Deferred,
    /// Needed a write, but the stop came first: left for the next run (only in an
    /// estate pass given a stop).
    Skipped,
}

/// Counts of one pass over the rendered objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub applied: usize,
    pub unchanged: usize,
    pub deleted: usize,
    /// Writes left for a later pass because their object is in backoff.
    pub deferred: usize,
}

/// A [`Summary`] with the failures, and the writes the stop kept from starting (which
/// only an [`EstateReconciler`](super::EstateReconciler) given a stop can have, and reports).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub summary: Summary,
    /// Writes not started because the stop came first (not failures: nothing was tried).
    pub skipped: usize,
    pub errors: Vec<ApplyError>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.summary.applied += other.summary.applied;
        self.summary.unchanged += other.summary.unchanged;
        self.summary.deleted += other.summary.deleted;
        self.summary.deferred += other.summary.deferred;
        self.skipped += other.skipped;
        self.errors.extend(other.errors);
    }
}

/// What became of a write [`Applier::guarded`] was handed.
#[derive(Debug)]
pub(crate) enum Attempt<T> {
    /// Made, and how it went.
    Made(Result<T, ApplyError>),
    /// Not started: the object is in backoff after a failed write.
    Deferred,
    /// Not started: the stop came first.
    Skipped,
}

/// Counts a write as in flight for as long as it lives, so that a write dropped
/// unfinished (abandoned at the shutdown timeout) is no longer counted either.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn start(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Applies and sweeps rendered objects through a Kubernetes client.
#[derive(Clone)]
pub struct Applier {
    client: Client,
    /// Requests in flight at once while ensuring (controller.concurrency).
    concurrency: usize,
    live: Live,
    backoff: Arc<ObjectBackoff>,
    /// Objects found to hold their rendered content: the object → the resourceVersion
    /// seen and the rendered content's fingerprint. While both still
    /// match, the comparison is skipped; any change to the object (a new
    /// resourceVersion) or to what is rendered compares afresh.
    verified: Arc<Mutex<HashMap<ObjectId, (String, u64)>>>,
    /// Once cancelled, no write starts; those in flight go on.
    stop: CancellationToken,
    /// Writes started and not yet finished.
    in_flight: Arc<AtomicUsize>,
    /// Where each applied object's new resourceVersion goes, to know its echo.
    echoes: Arc<Echoes>,
}

impl std::fmt::Debug for Applier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Applier").finish_non_exhaustive()
    }
}

impl Applier {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            concurrency: 1,
            live: Live::Fetch,
            backoff: Arc::default(),
            verified: Arc::default(),
            stop: CancellationToken::new(),
            in_flight: Arc::default(),
            echoes: Arc::default(),
        }
    }

    /// Records the resourceVersion of every object applied in `echoes`.
    pub(crate) fn with_echoes(mut self, echoes: Arc<Echoes>) -> Self {
        self.echoes = echoes;
        self
    }

    /// The watch cache's copy of `m`'s object (`None` without caches).
    pub(crate) fn cached(&self, m: &Manifest) -> Option<Arc<CachedObject>> {
        match &self.live {
            Live::Cached(caches) => caches.get(m.kind().as_str(), m.namespace(), m.name()),
            Live::Fetch => None,
        }
    }

    /// The watch cache's copy of a managed object (`None` without caches).
    pub(crate) fn cached_id(&self, o: &ObjectId) -> Option<Arc<CachedObject>> {
        match &self.live {
            Live::Cached(caches) => caches.get(o.kind.as_str(), o.namespace.as_deref(), &o.name),
            Live::Fetch => None,
        }
    }

    /// The watch cache's copy of a managed Deployment (`None` without caches).
    pub(crate) fn cached_deployment(&self, namespace: &str, name: &str) -> Option<Arc<CachedObject>> {
        match &self.live {
            Live::Cached(caches) => caches.get(Kind::Deployment.as_str(), Some(namespace), name),
            Live::Fetch => None,
        }
    }

    /// Starts no write once `stop` is cancelled (default: never). Crate-private: what
    /// is skipped is counted in a [`Tally`], which only the estate pass reports.
    pub(crate) fn with_stop(mut self, stop: CancellationToken) -> Self {
        self.stop = stop;
        self
    }

    /// Writes started and not yet finished: those a stopped pass is waiting for.
    pub fn writes_in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Reads live objects from `live` instead of fetching each.
    pub fn with_live(mut self, live: Live) -> Self {
        self.live = live;
        self
    }

    /// Shares `backoff` for failed writes (default: none, retry on the next pass).
    pub fn with_backoff(mut self, backoff: Arc<ObjectBackoff>) -> Self {
        self.backoff = backoff;
        self
    }

    /// Runs `call` for `key` unless it is in backoff or the stop was given, and
    /// records how it went. Every write of a pass comes through here, so this one check
    /// is what keeps a stopped pass from starting any. `attempt` digests what the write
    /// writes (a rejected write is tried again once it changes); `owner` is told of a
    /// rejection.
    pub(crate) async fn guarded<T>(
        &self,
        key: Write,
        attempt: u64,
        owner: Option<ObjectId>,
        call: impl Future<Output = Result<T, ApplyError>>,
    ) -> Attempt<T> {
        if !self.backoff.due(&key, attempt, Instant::now()) {
            return Attempt::Deferred;
        }
        // Checked right before the write starts, with no await in between: a stop given
        // after this point finds the write in flight, and waits for it.
        if self.stop.is_cancelled() {
            return Attempt::Skipped;
        }
        let result = {
            let _counted = InFlight::start(&self.in_flight);
            call.await
        };
        match &result {
            Ok(_) => self.backoff.succeeded(&key),
            Err(e) => {
                self.backoff
                    .failed(&key, Failure::of(e, attempt, owner), Instant::now());
            }
        }
        Attempt::Made(result)
    }

    /// The object as the cluster holds it, from the caches or fetched.
    async fn live(&self, m: &Manifest) -> Result<Option<Arc<CachedObject>>, ApplyError> {
        Ok(match &self.live {
            Live::Cached(caches) => caches.get(m.kind().as_str(), m.namespace(), m.name()),
            Live::Fetch => self
                .api(&m.kind().api_resource(), m.namespace())
                .get_opt(m.name())
                .await
                .map_err(|e| ApplyError::new("get", m.id(), e))?
                .map(|o| Arc::new(CachedObject::from_dynamic(o))),
        })
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<ObjectId, (String, u64)>> {
        self.verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `live` holds `m`: remembered from an earlier pass when neither changed.
    fn holds(&self, object: &ObjectId, live: &CachedObject, m: &Manifest) -> bool {
        let (Some(version), fingerprint) = (live.metadata.resource_version.as_ref(), m.fingerprint()) else {
            return live.covers(&m.to_json());
        };
        if self
            .verified()
            .get(object)
            .is_some_and(|(v, f)| v == version && *f == fingerprint)
        {
            return true;
        }
        let holds = live.covers(&m.to_json());
        if holds {
            self.verified()
                .insert(object.clone(), (version.clone(), fingerprint));
        }
        holds
    }

    /// Every managed object of `kind`, from the caches or listed.
    async fn managed(&self, kind: &ManagedKind) -> Result<Vec<Arc<CachedObject>>, ApplyError> {
        match &self.live {
            Live::Cached(caches) => Ok(caches.list(&kind.resource.kind)),
            Live::Fetch => {
                let all: Api<DynamicObject> = Api::all_with(self.client.clone(), &kind.resource);
                let selector = ListParams::default().labels(&managed_selector());
                match all.list(&selector).await {
                    Ok(list) => Ok(list
                        .items
                        .into_iter()
                        .map(|o| Arc::new(CachedObject::from_dynamic(o)))
                        .collect()),
                    Err(e) => Err(ApplyError::new("list", Target::All(kind.kind), e)),
                }
            }
        }
    }

    /// Every managed Deployment, for readiness.
    pub async fn deployments(&self) -> Result<Vec<Arc<CachedObject>>, ApplyError> {
        let kind = managed_kinds()
            .into_iter()
            .find(|k| k.kind == Kind::Deployment)
            .expect("Deployments are managed");
        self.managed(&kind).await
    }

    /// Ensures up to `n` objects at once (at least one).
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    fn api(&self, resource: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, resource),
            None => Api::all_with(self.client.clone(), resource),
        }
    }

    /// Makes the live object hold `m`, writing only when it does not already.
    pub async fn ensure(&self, m: &Manifest) -> Result<Outcome, ApplyError> {
        self.ensure_in(m, &Generations::default()).await
    }

    async fn ensure_in(&self, m: &Manifest, generations: &Generations) -> Result<Outcome, ApplyError> {
        let object = m.id();
        let key = Write::new(Action::Apply, object.clone());
        if let Some(live) = self.live(m).await?
            && self.holds(&object, &live, m)
        {
            // Someone else made it hold, a rejected write included: nothing to retry.
            self.backoff.succeeded(&key);
            return Ok(Outcome::Unchanged);
        }
        let owner = owner_of(m.kind(), m.namespace(), m.metadata().labels.as_ref());
        let attempt = generations.attempt(m.fingerprint(), owner.as_ref());
        let api = self.api(&m.kind().api_resource(), m.namespace());
        let desired = m.to_json();
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let write = async {
            let applied = api
                .patch(m.name(), &params, &Patch::Apply(&desired))
                .await
                .map_err(|e| ApplyError::new("apply", object.clone(), e))?;
            self.echoes
                .record(object.clone(), applied.metadata.resource_version);
            Ok(())
        };
        match self.guarded(key, attempt, owner, write).await {
            Attempt::Deferred => Ok(Outcome::Deferred),
            Attempt::Skipped => Ok(Outcome::Skipped),
            Attempt::Made(result) => result.map(|_| Outcome::Applied),
        }
    }

    /// Ensures every manifest, carrying on past failures so that one bad object does
    /// not hold back the rest; the failures come back together.
    pub async fn ensure_all(&self, manifests: &[Manifest]) -> (Summary, Vec<ApplyError>) {
        let tally = self.ensure_all_tally(manifests, &Generations::default()).await;
        (tally.summary, tally.errors)
    }

    pub(crate) async fn ensure_all_tally(&self, manifests: &[Manifest], generations: &Generations) -> Tally {
        let mut tally = Tally::default();
        let mut results = futures::stream::iter(manifests.iter().map(|m| self.ensure_in(m, generations)))
            .buffer_unordered(self.concurrency);
        while let Some(result) = results.next().await {
            match result {
                Ok(Outcome::Applied) => tally.summary.applied += 1,
                Ok(Outcome::Unchanged) => tally.summary.unchanged += 1,
                Ok(Outcome::Deferred) => tally.summary.deferred += 1,
                Ok(Outcome::Skipped) => tally.skipped += 1,
                Err(e) => tally.errors.push(e),
            }
        }
        // Completion order varies with concurrency; reports should not.
        tally.errors.sort_by_cached_key(|e| e.object.to_string());
        tally
    }

    /// Deletes managed objects of namespaced kinds that are no longer rendered (a
    /// deleted or refused service's workload, a retired shared instance, a binding
    /// whose tenant left). Namespaces are never swept: deleting one deletes everything
    /// in it, so that is left to a Department's deletion, not to a plan that merely
    /// stopped rendering it (for instance while its spec is invalid).
    pub async fn prune(&self, desired: &[Manifest]) -> (Summary, Vec<ApplyError>) {
        let tally = self.prune_tally(desired, &Generations::default()).await;
        (tally.summary, tally.errors)
    }

    async fn prune_tally(&self, desired: &[Manifest], generations: &Generations) -> Tally {
        let keep: BTreeSet<(Kind, Option<&str>, &str)> = desired
            .iter()
            .map(|m| (m.kind(), m.namespace(), m.name()))
            .collect();
        // An object no longer rendered has no write left to retry, nor a rejection to show.
        self.backoff.retain(|w| {
            let o = &w.object;
            w.action != Action::Apply || keep.contains(&(o.kind, o.namespace.as_deref(), o.name.as_str()))
        });
        let mut tally = Tally::default();
        for kind in managed_kinds().into_iter().filter(|k| k.namespaced) {
            let listed = match self.managed(&kind).await {
                Ok(listed) => listed,
                Err(e) => {
                    tally.errors.push(e);
                    continue;
                }
            };
            for obj in listed {
                let (ns, name) = (obj.namespace(), obj.name_any());
                if keep.contains(&(kind.kind, ns.as_deref(), name.as_str())) {
                    continue;
                }
                let object = ObjectId::new(kind.kind, ns.as_deref(), &name);
                let owner = owner_of(kind.kind, ns.as_deref(), obj.metadata.labels.as_ref());
                let attempt = generations.attempt("delete", owner.as_ref());
                let delete = async {
                    match self
                        .api(&kind.resource, ns.as_deref())
                        .delete(&name, &DeleteParams::background())
                        .await
                    {
                        Ok(_) => Ok(true),
                        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
                        Err(e) => Err(ApplyError::new("delete", object.clone(), e)),
                    }
                };
                match self
                    .guarded(Write::new(Action::Delete, object.clone()), attempt, owner, delete)
                    .await
                {
                    Attempt::Deferred => tally.summary.deferred += 1,
                    Attempt::Skipped => tally.skipped += 1,
                    Attempt::Made(Ok(true)) => tally.summary.deleted += 1,
                    Attempt::Made(Ok(false)) => {}
                    Attempt::Made(Err(e)) => tally.errors.push(e),
                }
            }
        }
        tally
    }

    /// One pass: ensure every rendered object, then sweep what is no longer rendered.
    pub async fn converge(&self, manifests: &[Manifest]) -> (Summary, Vec<ApplyError>) {
        let tally = self.converge_tally(manifests, &Generations::default()).await;
        (tally.summary, tally.errors)
    }

    /// `generations`: of the objects' owners, so that a rejected write is tried again
    /// once its owner changes.
    pub(crate) async fn converge_tally(&self, manifests: &[Manifest], generations: &Generations) -> Tally {
        let mut tally = self.ensure_all_tally(manifests, generations).await;
        tally.add(self.prune_tally(manifests, generations).await);
        tally
    }
}
