//! The I/O side of the operator: applying what the planner and renderer decided.
//!
//! Nothing here decides: which objects should exist comes from `render`, and whether a
//! live object needs a write is a comparison, not a judgement.

mod apply;
mod backoff;
mod changes;
mod difference;
mod drift;
mod error;
mod estate;
mod finalizers;
mod hold;
mod incremental;
mod kept;
mod live;
mod rejection;
mod retry;

pub use apply::{Applier, ManagedKind, Outcome, Summary, managed_kinds, managed_selector};
pub use backoff::{Action, Failure, ObjectBackoff, Write};
pub use changes::{Echoes, Needed, Present, Taken, Touched, TouchedLog, Why};
pub use difference::{Altered, altered_between, scope_of};
pub use drift::covers;
pub use error::{ApplyError, Category};
pub use estate::{EstateReconciler, PassReport};
pub use finalizers::carry_out as carry_out_finalizer;
pub use hold::{Held, LiveTemplate, hold_templates, merge_into};
pub use incremental::Cached;
pub use live::{CachedObject, Live, ManagedCaches};
pub use rejection::{Rejection, owner_of};
pub use retry::{Backoff, Decision, decide, retry_after};
