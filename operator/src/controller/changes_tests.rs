use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::*;

struct Plan {
    known: BTreeSet<ServiceKey>,
    last: Option<(Option<Time>, ServiceKey)>,
}

impl Planned for Plan {
    fn knows(&self, key: &ServiceKey) -> bool {
        self.known.contains(key)
    }
    fn last_arrival(&self) -> Option<(Option<&Time>, &ServiceKey)> {
        self.last.as_ref().map(|(t, k)| (t.as_ref(), k))
    }
}

fn key(ns: &str, name: &str) -> ServiceKey {
    ServiceKey {
        namespace: ns.into(),
        name: name.into(),
    }
}

fn at(second: i64) -> Option<Time> {
    Some(Time(Timestamp::from_second(second).expect("in range")))
}

fn service(ns: &str, name: &str, version: &str) -> Touched {
    Touched {
        object: Some(ObjectId::new(Kind::DepartmentService, Some(ns), name)),
        version: Some(version.into()),
    }
}

/// An estate that planned `a/old`, created at second 100.
fn planned() -> Plan {
    Plan {
        known: BTreeSet::from([key("a", "old")]),
        last: Some((at(100), key("a", "old"))),
    }
}

fn sorted(touched: Vec<Touched>, echoes: &Echoes, cache: &BTreeMap<ServiceKey, Present>) -> Needed {
    let taken = Taken {
        touched,
        overflowed: false,
    };
    needed(&taken, echoes, &planned(), &|k| cache.get(k).cloned())
}

fn present(created: Option<Time>) -> Present {
    Present {
        created,
        deleting: false,
    }
}

#[test]
fn a_new_service_is_passed_over_on_its_own() {
    let cache = BTreeMap::from([
        (key("b", "second"), present(at(300))),
        (key("a", "old"), present(at(100))),
    ]);
    let touched = vec![service("b", "second", "7"), service("b", "second", "9")];
    assert_eq!(
        sorted(touched, &Echoes::default(), &cache),
        Needed::Changes {
            added: vec![key("b", "second")],
            observed: vec![],
        }
    );
}

#[test]
fn several_new_services_are_planned_together_by_a_full_pass() {
    let cache = BTreeMap::from([
        (key("b", "second"), present(at(300))),
        (key("a", "first"), present(at(200))),
        (key("a", "old"), present(at(100))),
    ]);
    let touched = vec![service("b", "second", "7"), service("a", "first", "8")];
    assert_eq!(
        sorted(touched, &Echoes::default(), &cache),
        Needed::Full(
            Why::Several,
            Some(ObjectId::new(Kind::DepartmentService, Some("b"), "second"))
        )
    );
}

#[test]
fn the_echo_of_a_write_of_govclouds_needs_no_pass_and_is_recognised_once() {
    let echoes = Echoes::default();
    let id = ObjectId::new(Kind::DepartmentService, Some("a"), "old");
    echoes.record(id.clone(), Some("42".into()));
    let cache = BTreeMap::from([(key("a", "old"), present(at(100)))]);
    assert_eq!(
        sorted(vec![service("a", "old", "42")], &echoes, &cache),
        Needed::Nothing
    );
    // The same version again (a relist) is no longer taken for an echo.
    assert_eq!(
        sorted(vec![service("a", "old", "42")], &echoes, &cache),
        Needed::Full(Why::Changed, Some(id))
    );
}

#[test]
fn an_edit_by_someone_else_after_govclouds_write_takes_a_full_pass() {
    let echoes = Echoes::default();
    let id = ObjectId::new(Kind::DepartmentService, Some("a"), "old");
    echoes.record(id.clone(), Some("42".into()));
    let cache = BTreeMap::from([(key("a", "old"), present(at(100)))]);
    assert_eq!(
        sorted(vec![service("a", "old", "43")], &echoes, &cache),
        Needed::Full(Why::Changed, Some(id))
    );
}

#[test]
fn anything_but_a_new_service_takes_a_full_pass() {
    let cache = BTreeMap::from([(key("a", "old"), present(at(100)))]);
    let pool = Touched {
        object: Some(ObjectId::new(Kind::ResourcePool, None, "gold")),
        version: Some("1".into()),
    };
    let node = Touched {
        object: None,
        version: Some("1".into()),
    };
    let edit = service("a", "old", "5");
    for (t, object) in [
        (pool.clone(), pool.object.clone()),
        (node, None),
        (edit.clone(), edit.object.clone()),
    ] {
        assert_eq!(
            sorted(vec![t], &Echoes::default(), &cache),
            Needed::Full(Why::Changed, object)
        );
    }
    // A service gone from the cache (deleted), or being deleted.
    let gone = service("a", "gone", "3");
    assert_eq!(
        sorted(vec![gone.clone()], &Echoes::default(), &cache),
        Needed::Full(Why::Changed, gone.object)
    );
    let mut deleting = cache.clone();
    deleting.insert(
        key("a", "new"),
        Present {
            created: at(200),
            deleting: true,
        },
    );
    assert!(matches!(
        sorted(vec![service("a", "new", "4")], &Echoes::default(), &deleting),
        Needed::Full(Why::Changed, _)
    ));
}

#[test]
fn a_new_service_that_would_not_arrive_last_takes_a_full_pass() {
    // Created in the same second as the last planned service, with a smaller key: a
    // full re-plan would decide it first.
    let cache = BTreeMap::from([(key("a", "aaa"), present(at(100)))]);
    assert_eq!(
        sorted(vec![service("a", "aaa", "5")], &Echoes::default(), &cache),
        Needed::Full(
            Why::OutOfOrder,
            Some(ObjectId::new(Kind::DepartmentService, Some("a"), "aaa"))
        )
    );
    let later = BTreeMap::from([(key("a", "aaa"), present(at(101)))]);
    assert_eq!(
        sorted(vec![service("a", "aaa", "5")], &Echoes::default(), &later),
        Needed::Changes {
            added: vec![key("a", "aaa")],
            observed: vec![],
        }
    );
}

#[test]
fn the_log_keeps_a_bounded_number_of_changes_and_asks_for_a_full_pass_past_it() {
    let log = TouchedLog::default();
    for i in 0..TOUCHED_CAP + 10 {
        log.record(service("a", &format!("s{i}"), "1"));
    }
    let taken = log.take();
    assert_eq!(taken.touched.len(), TOUCHED_CAP);
    assert!(taken.overflowed);
    assert_eq!(
        needed(&taken, &Echoes::default(), &planned(), &|_| None),
        Needed::Full(Why::Overflow, None)
    );
    // Taking empties the log.
    assert_eq!(log.take(), Taken::default());
}

#[test]
fn a_managed_object_changed_by_the_cluster_is_observed_not_a_reason_for_a_full_pass() {
    let cache = BTreeMap::from([(key("a", "new"), present(at(200)))]);
    let rollout = Touched {
        object: Some(ObjectId::new(Kind::Deployment, Some("a"), "old")),
        version: Some("9".into()),
    };
    let applied = Touched {
        object: Some(ObjectId::new(Kind::Service, Some("a"), "old")),
        version: Some("3".into()),
    };
    let echoes = Echoes::default();
    echoes.record(applied.object.clone().expect("an object"), Some("3".into()));
    assert_eq!(
        sorted(
            vec![
                rollout.clone(),
                applied,
                service("a", "new", "1"),
                rollout.clone()
            ],
            &echoes,
            &cache
        ),
        Needed::Changes {
            added: vec![key("a", "new")],
            observed: vec![rollout.object.expect("an object")],
        }
    );
}
