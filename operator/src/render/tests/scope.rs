//! A scoped render is the full render's objects in that scope, byte for byte: a change
//! re-renders its part of the estate and nothing it renders differs from a full pass.

use super::super::{Manifest, Scope, render, render_scope};
use crate::api::labels;
use crate::plan::{Assignments, plan};
use crate::synthetic::{EstateShape, estate};

/// Whether the full render's `m` falls in `scope`: a shared instance's objects and
/// bindings go with the instance, everything else with its department namespace.
fn in_scope(m: &Manifest, scope: &Scope) -> bool {
    let instance = m.metadata().labels.as_ref().and_then(|l| l.get(labels::INSTANCE));
    match (instance, m) {
        (Some(i), _) => scope.instances.contains(i),
        (None, Manifest::Namespace(_)) => scope.namespaces.contains(m.name()),
        (None, _) => m.namespace().is_some_and(|ns| scope.namespaces.contains(ns)),
    }
}

#[test]
fn a_scoped_render_is_the_full_renders_objects_in_that_scope() {
    let snapshot = estate(
        7,
        EstateShape {
            services: 400,
            departments: 20,
            pools: 6,
            offerings: 8,
            ..EstateShape::BENCHMARK
        },
    );
    let p = plan(&snapshot, &Assignments::default());
    let full = render(&snapshot, &p).expect("renders");
    let instances: Vec<&str> = p
        .offerings
        .iter()
        .flat_map(|o| &o.instances)
        .filter(|i| i.pool.is_some())
        .map(|i| i.name.as_str())
        .collect();
    assert!(instances.len() >= 3, "the estate has shared instances to scope");
    let scope = Scope {
        namespaces: p
            .departments
            .iter()
            .take(3)
            .map(|d| d.namespace.clone())
            .collect(),
        instances: instances.iter().step_by(3).map(|s| s.to_string()).collect(),
    };
    let scoped = render_scope(&snapshot, &p, &scope).expect("renders");
    let expected: Vec<&Manifest> = full.iter().filter(|m| in_scope(m, &scope)).collect();
    assert!(expected.len() > 20, "the scope holds objects of both kinds");
    assert_eq!(scoped.iter().collect::<Vec<_>>(), expected);
    // A change to three departments does not re-render the estate.
    assert!(scoped.len() < full.len() / 2);
}

#[test]
fn an_empty_scope_renders_nothing() {
    let snapshot = estate(
        7,
        EstateShape {
            services: 50,
            departments: 5,
            pools: 3,
            offerings: 2,
            ..EstateShape::BENCHMARK
        },
    );
    let p = plan(&snapshot, &Assignments::default());
    assert_eq!(
        render_scope(&snapshot, &p, &Scope::default()).expect("renders"),
        vec![]
    );
}
