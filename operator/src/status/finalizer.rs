//! govcloud's finalizer on ResourcePools and Departments: which objects need it added,
//! and which may be let go (and what to clean up first). Pure: the estate pass carries
//! the answers out.
//!
//! Owner references cannot express these dependencies — a pool owns nothing, and a
//! department's namespace must outlive any one pass that stops rendering it — so the
//! finalizer `govcloud.io/cleanup` holds a pool or department while the plan says
//! DepartmentServices still depend on it ([`crate::plan::Deletion`]).

use kube::ResourceExt;

use crate::api::FINALIZER;
use crate::object::Kind;
use crate::plan::{Deletion, Plan, Snapshot};

/// The two kinds govcloud holds with its finalizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Held {
    ResourcePool,
    Department,
}

impl Held {
    pub fn kind(self) -> Kind {
        match self {
            Held::ResourcePool => Kind::ResourcePool,
            Held::Department => Kind::Department,
        }
    }
}

/// One change to an object's finalizers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinalizerAction {
    /// The object lacks govcloud's finalizer: add it. `current` is the list as seen,
    /// so the write can refuse to clobber a concurrent change.
    Add {
        kind: Held,
        name: String,
        current: Vec<String>,
    },
    /// Nothing holds the object: delete `namespace` (a department's, when it has
    /// one), then remove the finalizer at `index` of `current`.
    Release {
        kind: Held,
        name: String,
        namespace: Option<String>,
        current: Vec<String>,
        index: usize,
    },
}

impl FinalizerAction {
    /// The pool or department the action is for.
    pub fn object(&self) -> (Held, &str) {
        match self {
            FinalizerAction::Add { kind, name, .. } | FinalizerAction::Release { kind, name, .. } => {
                (*kind, name)
            }
        }
    }
}

/// What to do with the finalizers of every pool and department of `snapshot` under
/// `plan`. An object being deleted without govcloud's finalizer is not govcloud's to hold.
pub fn finalizer_actions(snapshot: &Snapshot, plan: &Plan) -> Vec<FinalizerAction> {
    let mut out = Vec::new();
    let pools = plan
        .pools
        .iter()
        .map(|p| (p.name.as_str(), (p.deletion.as_ref(), None)));
    let departments = plan
        .departments
        .iter()
        .map(|d| (d.name.as_str(), (d.deletion.as_ref(), Some(d.namespace.as_str()))));
    let pools: std::collections::HashMap<_, _> = pools.collect();
    let departments: std::collections::HashMap<_, _> = departments.collect();
    let objects = snapshot
        .pools
        .iter()
        .map(|o| {
            (
                Held::ResourcePool,
                o.metadata.clone(),
                pools.get(o.name_any().as_str()).copied(),
            )
        })
        .chain(snapshot.departments.iter().map(|o| {
            (
                Held::Department,
                o.metadata.clone(),
                departments.get(o.name_any().as_str()).copied(),
            )
        }));
    for (kind, meta, planned) in objects {
        let Some((deletion, namespace)) = planned else {
            continue;
        };
        let (Some(name), current) = (meta.name, meta.finalizers.unwrap_or_default()) else {
            continue;
        };
        let ours = current.iter().position(|f| f == FINALIZER);
        match (meta.deletion_timestamp.is_some(), ours) {
            (false, None) => out.push(FinalizerAction::Add { kind, name, current }),
            (true, Some(index)) if deletion.is_some_and(Deletion::may_proceed) => {
                out.push(FinalizerAction::Release {
                    kind,
                    name,
                    namespace: namespace.map(str::to_string),
                    current,
                    index,
                });
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    use super::*;
    use crate::plan::{Assignments, plan};
    use crate::synthetic::{department, pool, workload};

    fn deleting(meta: &mut kube::api::ObjectMeta) {
        meta.deletion_timestamp = Some(Time(Timestamp::from_second(1_800_000_000).unwrap()));
    }

    fn estate() -> Snapshot {
        Snapshot {
            pools: vec![pool("p", 2, "10", "40Gi")],
            departments: vec![department("fin", 2, "8", "32Gi", 10)],
            services: vec![workload("dept-fin", "ledger", 2, 1, "1", "1Gi")],
            ..Snapshot::default()
        }
    }

    fn actions(s: &Snapshot) -> Vec<FinalizerAction> {
        finalizer_actions(s, &plan(s, &Assignments::from_status(s)))
    }

    #[test]
    fn every_pool_and_department_gets_the_finalizer_once() {
        let mut s = estate();
        s.pools[0].metadata.finalizers = Some(vec!["example.com/other".into()]);
        assert_eq!(
            actions(&s),
            [
                FinalizerAction::Add {
                    kind: Held::ResourcePool,
                    name: "p".into(),
                    current: vec!["example.com/other".into()],
                },
                FinalizerAction::Add {
                    kind: Held::Department,
                    name: "fin".into(),
                    current: vec![],
                },
            ]
        );
        s.pools[0].metadata.finalizers = Some(vec!["example.com/other".into(), FINALIZER.into()]);
        s.departments[0].metadata.finalizers = Some(vec![FINALIZER.into()]);
        assert_eq!(actions(&s), [], "already held: nothing to write");
    }

    #[test]
    fn a_deletion_is_released_only_when_nothing_depends_on_the_object() {
        let mut s = estate();
        s.pools[0].metadata.finalizers = Some(vec![FINALIZER.into()]);
        s.departments[0].metadata.finalizers = Some(vec!["example.com/x".into(), FINALIZER.into()]);
        deleting(&mut s.pools[0].metadata);
        deleting(&mut s.departments[0].metadata);
        assert_eq!(
            actions(&s),
            [FinalizerAction::Release {
                kind: Held::ResourcePool,
                name: "p".into(),
                namespace: None,
                current: vec![FINALIZER.into()],
                index: 0,
            },],
            "the service was evicted from the deleted pool (it had nowhere to go and no pool before), \
             so the pool may go; the department still has it"
        );
        s.services.clear();
        let released = actions(&s);
        assert_eq!(
            released[1],
            FinalizerAction::Release {
                kind: Held::Department,
                name: "fin".into(),
                namespace: Some("dept-fin".into()),
                current: vec!["example.com/x".into(), FINALIZER.into()],
                index: 1,
            }
        );
        // Someone else's finalizer alone: not ours to hold or release.
        s.departments[0].metadata.finalizers = Some(vec!["example.com/x".into()]);
        assert_eq!(actions(&s).len(), 1);
    }
}
