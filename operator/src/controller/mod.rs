//! The I/O side of the operator: applying what the planner and renderer decided.
//!
//! Nothing here decides: which objects should exist comes from `render`, and whether a
//! live object needs a write is a comparison, not a judgement.

mod apply;
mod drift;
mod error;
mod estate;

pub use apply::{Applier, ManagedKind, Outcome, Summary, managed_kinds, managed_selector};
pub use drift::covers;
pub use error::{ApplyError, Category};
pub use estate::{EstateReconciler, PassReport};
