//! The items of a `kind: List`, taken in as the parser finishes each.
//!
//! kubectl prints a List's `kind` after its `items`, so the items are held apart until the
//! document turns out to be a List. Each object goes straight into a vector of its kind:
//! kept boxed until the end, a large export's objects were all copied out of their boxes
//! at once, and the freed boxes were never used again (the peak was a third higher).

use super::Decodes;
use super::decode::{Decoded, Object};
use super::error::ObjectRef;
use crate::plan::Snapshot;

/// A List's items so far, in the parser's order.
#[derive(Default)]
pub(super) struct Staged {
    /// The objects, each vector in item order.
    objects: Snapshot,
    items: Vec<Item>,
}

/// One item: an object (the next of its kind in the staged objects), or what else it
/// decoded to.
pub(super) enum Item {
    Object { reference: ObjectRef, kind: Kind },
    Other(Option<ObjectRef>, Decodes),
}

/// Which of the estate's vectors an object belongs in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Pool,
    Department,
    Service,
    Offering,
    Policy,
    Node,
}

/// Puts an object at the end of its kind's vector, and says which that was.
pub(super) fn push(estate: &mut Snapshot, object: Object) -> Kind {
    match object {
        Object::Pool(o) => {
            estate.pools.push(*o);
            Kind::Pool
        }
        Object::Department(o) => {
            estate.departments.push(*o);
            Kind::Department
        }
        Object::Service(o) => {
            estate.services.push(*o);
            Kind::Service
        }
        Object::Offering(o) => {
            estate.offerings.push(*o);
            Kind::Offering
        }
        Object::Policy(o) => {
            estate.policies.push(*o);
            Kind::Policy
        }
        Object::Node(o) => {
            estate.nodes.push(*o);
            Kind::Node
        }
    }
}

impl Staged {
    pub(super) fn take(&mut self, reference: Option<ObjectRef>, decoded: Decodes) {
        let item = match (reference, decoded) {
            (_, Ok(Decoded::Object(reference, object))) => Item::Object {
                kind: push(&mut self.objects, object),
                reference,
            },
            (reference, other) => Item::Other(reference, other),
        };
        self.items.push(item);
    }

    pub(super) fn into_parts(self) -> (Vec<Item>, Snapshot) {
        (self.items, self.objects)
    }
}

/// Which staged objects were admitted, per kind in item order.
#[derive(Default)]
pub(super) struct Keep([Vec<bool>; 6]);

impl Keep {
    pub(super) fn record(&mut self, kind: Kind, kept: bool) {
        self.0[kind as usize].push(kept);
    }

    fn of(&self, kind: Kind) -> &[bool] {
        &self.0[kind as usize]
    }
}

/// Moves the admitted staged objects to the end of the estate's vectors. A vector the
/// estate has nothing in yet is taken over as it is, without a copy.
pub(super) fn merge(estate: &mut Snapshot, staged: Snapshot, keep: &Keep) {
    let Snapshot {
        pools,
        departments,
        services,
        offerings,
        policies,
        nodes,
        settings: _,
        now: _,
        rolling: _,
    } = staged;
    append(&mut estate.pools, pools, keep.of(Kind::Pool));
    append(&mut estate.departments, departments, keep.of(Kind::Department));
    append(&mut estate.services, services, keep.of(Kind::Service));
    append(&mut estate.offerings, offerings, keep.of(Kind::Offering));
    append(&mut estate.policies, policies, keep.of(Kind::Policy));
    append(&mut estate.nodes, nodes, keep.of(Kind::Node));
}

fn append<T>(into: &mut Vec<T>, mut staged: Vec<T>, keep: &[bool]) {
    let mut keep = keep.iter();
    staged.retain(|_| keep.next().copied().unwrap_or(false));
    if into.is_empty() {
        *into = staged;
    } else {
        into.append(&mut staged);
    }
}

#[cfg(test)]
mod tests {
    use super::append;

    #[test]
    fn append_keeps_what_was_admitted_in_order() {
        let mut into = vec![1];
        append(&mut into, vec![2, 3, 4], &[true, false, true]);
        assert_eq!(into, [1, 2, 4]);
        let mut empty: Vec<i32> = Vec::new();
        append(&mut empty, vec![5, 6], &[false, true]);
        assert_eq!(empty, [6]);
    }
}
