//! What the watches reported since the last pass, and which pass that needs.
//!
//! Most changes a department makes are new DepartmentServices, and the planner decides
//! a service that arrives last exactly as a full re-plan would (`Planner::add`). Most
//! changes a cluster makes are to the objects govcloud manages (a Deployment's
//! readiness as its pods come up, or an edit to revert), which change no decision. Both
//! are passed over on their own: a new service is planned, rendered, applied and its
//! status written, with the objects whose plan it changed; a managed object is rendered
//! again with its namespace (or shared instance), reverted if it drifted, and its
//! owner's status written if its readiness changed; the rest of the estate is not looked
//! at. The echoes of govcloud's own writes (a status it patched, an object it applied)
//! come back through the same watches and need no pass at all. Anything else — an edit,
//! a deletion, a pool, a policy, a Node, a rollout that starts or ends — takes a full
//! pass, and so does the resync, which keeps the level-triggered guarantee.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::object::{Kind, ObjectId};
use crate::plan::ServiceKey;

/// At most this many changes are kept between passes; past it (a relist after a watch
/// restarts touches every object) only a full pass makes sense, and a full pass is
/// what the overflow asks for.
pub const TOUCHED_CAP: usize = 4096;

/// At most this many of govcloud's own writes are remembered to recognise their echoes;
/// past it the oldest are forgotten, and a forgotten echo costs a full pass, not a
/// missed change.
pub const ECHOES_CAP: usize = 65_536;

/// One object a watch reported added, modified, deleted or relisted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Touched {
    /// `None` for what the planner reads that is not one of govcloud's kinds (a Node).
    pub object: Option<ObjectId>,
    pub version: Option<String>,
}

/// The changes the watches reported, taken once per pass.
#[derive(Debug, Default)]
pub struct TouchedLog {
    inner: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    touched: Vec<Touched>,
    overflowed: bool,
}

/// What was taken from a [`TouchedLog`].
#[derive(Debug, Default, PartialEq)]
pub struct Taken {
    pub touched: Vec<Touched>,
    /// More changes came than the log keeps.
    pub overflowed: bool,
}

impl TouchedLog {
    fn log(&self) -> MutexGuard<'_, Log> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn record(&self, touched: Touched) {
        let mut log = self.log();
        if log.touched.len() >= TOUCHED_CAP {
            log.overflowed = true;
        } else {
            log.touched.push(touched);
        }
    }

    /// Everything recorded since the last take.
    pub fn take(&self) -> Taken {
        let mut log = self.log();
        Taken {
            touched: std::mem::take(&mut log.touched),
            overflowed: std::mem::take(&mut log.overflowed),
        }
    }
}

/// The resourceVersions govcloud's own writes returned, by object: a watch event
/// carrying one of them is the echo of that write.
#[derive(Debug, Default)]
pub struct Echoes {
    inner: Mutex<HashMap<ObjectId, String>>,
}

impl Echoes {
    fn map(&self) -> MutexGuard<'_, HashMap<ObjectId, String>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn record(&self, object: ObjectId, version: Option<String>) {
        let Some(version) = version else { return };
        let mut map = self.map();
        if map.len() >= ECHOES_CAP && !map.contains_key(&object) {
            map.clear();
        }
        map.insert(object, version);
    }

    /// Whether `t` is the echo of a write of govcloud's; an echo is recognised once.
    fn consume(&self, t: &Touched) -> bool {
        let (Some(object), Some(version)) = (&t.object, &t.version) else {
            return false;
        };
        let mut map = self.map();
        if map.get(object) == Some(version) {
            map.remove(object);
            true
        } else {
            false
        }
    }
}

/// Why a change takes a full pass. A fixed set: it labels a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// No pass has run yet, or the last could not keep its plan.
    First,
    /// The resync interval, a retry or a maintenance window: level-triggered.
    Timer,
    /// A new usage sample, which every status showing usage may take up.
    Usage,
    /// More changes than the log keeps (a watch relisted).
    Overflow,
    /// An object other than a new DepartmentService changed or went away.
    Changed,
    /// A new DepartmentService that a full re-plan would not place last (created before
    /// a service already planned).
    OutOfOrder,
    /// Several new DepartmentServices: a full re-plan places them together, largest
    /// first, where adding them one by one would place them in arrival order.
    Several,
}

impl Why {
    /// Every reason, so that each series can be declared before its first pass.
    pub const ALL: [Why; 7] = [
        Why::First,
        Why::Timer,
        Why::Usage,
        Why::Overflow,
        Why::Changed,
        Why::OutOfOrder,
        Why::Several,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Why::First => "first",
            Why::Timer => "timer",
            Why::Usage => "usage",
            Why::Overflow => "overflow",
            Why::Changed => "changed",
            Why::OutOfOrder => "out_of_order",
            Why::Several => "several",
        }
    }
}

/// The pass the changes need.
#[derive(Clone, Debug, PartialEq)]
pub enum Needed {
    /// Only echoes: nothing to do.
    Nothing,
    /// At most one new DepartmentService, and managed objects.
    Changes {
        added: Vec<ServiceKey>,
        observed: Vec<ObjectId>,
    },
    /// A full pass, and the object that made it one when there is one.
    Full(Why, Option<ObjectId>),
}

/// A DepartmentService as the watch cache holds it now.
#[derive(Clone, Debug)]
pub struct Present {
    pub created: Option<Time>,
    pub deleting: bool,
}

/// What the last pass planned, as far as sorting changes needs it.
pub trait Planned {
    /// Whether the service is in the plan.
    fn knows(&self, key: &ServiceKey) -> bool;
    /// The arrival (creation time, then key) of the last service planned.
    fn last_arrival(&self) -> Option<(Option<&Time>, &ServiceKey)>;
}

/// Sorts the changes: echoes drop out, a new service and managed objects may be passed
/// over on their own, anything else takes a full pass. `present` reads a service from
/// the watch cache.
pub fn needed(
    taken: &Taken,
    echoes: &Echoes,
    planned: &dyn Planned,
    present: &dyn Fn(&ServiceKey) -> Option<Present>,
) -> Needed {
    if taken.overflowed {
        return Needed::Full(Why::Overflow, None);
    }
    let mut added: Vec<(Option<Time>, ServiceKey)> = Vec::new();
    let mut observed: Vec<ObjectId> = Vec::new();
    for t in &taken.touched {
        if echoes.consume(t) {
            continue;
        }
        let Some(object) = &t.object else {
            return Needed::Full(Why::Changed, None);
        };
        if Kind::MANAGED.contains(&object.kind) {
            if !observed.contains(object) {
                observed.push(object.clone());
            }
            continue;
        }
        let (Kind::DepartmentService, Some(namespace)) = (object.kind, &object.namespace) else {
            return Needed::Full(Why::Changed, Some(object.clone()));
        };
        let key = ServiceKey {
            namespace: namespace.clone(),
            name: object.name.clone(),
        };
        match present(&key) {
            Some(p) if !p.deleting && !planned.knows(&key) => {
                if !added.iter().any(|(_, k)| *k == key) {
                    added.push((p.created, key));
                }
            }
            _ => return Needed::Full(Why::Changed, Some(object.clone())),
        }
    }
    // First come, first served: a full re-plan orders by creation time, then key, and
    // objects without one last.
    added.sort_by(|(ca, ka), (cb, kb)| (ca.is_none(), ca, ka).cmp(&(cb.is_none(), cb, kb)));
    if let (Some((created, key)), Some((last_created, last_key))) = (added.first(), planned.last_arrival())
        && (created.is_none(), created.as_ref(), key) <= (last_created.is_none(), last_created, last_key)
    {
        let id = ObjectId::new(Kind::DepartmentService, Some(&key.namespace), &key.name);
        return Needed::Full(Why::OutOfOrder, Some(id));
    }
    if let [_, second, ..] = added.as_slice() {
        let key = &second.1;
        let id = ObjectId::new(Kind::DepartmentService, Some(&key.namespace), &key.name);
        return Needed::Full(Why::Several, Some(id));
    }
    if added.is_empty() && observed.is_empty() {
        Needed::Nothing
    } else {
        Needed::Changes {
            added: added.into_iter().map(|(_, k)| k).collect(),
            observed,
        }
    }
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
