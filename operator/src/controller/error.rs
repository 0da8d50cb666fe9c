//! Errors of the applying layer: each names the object, and maps to a fixed category
//! for metrics and backoff (never the error text).

use std::fmt;

use crate::object::Target;

/// What kind of failure, from a fixed set: safe as a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// 409: someone else wrote first; retry with fresh state.
    Conflict,
    /// 429: the API server asked us to slow down.
    Throttled,
    /// 5xx or transport failure: transient, retry with backoff.
    Server,
    /// 4xx other than the above: the request itself is wrong; retrying will not help.
    Rejected,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Conflict => "conflict",
            Category::Throttled => "throttled",
            Category::Server => "server",
            Category::Rejected => "rejected",
        }
    }

    pub fn of(err: &kube::Error) -> Self {
        match err {
            kube::Error::Api(status) if status.code == 409 => Category::Conflict,
            kube::Error::Api(status) if status.code == 429 => Category::Throttled,
            kube::Error::Api(status) if status.code >= 500 => Category::Server,
            kube::Error::Api(_) => Category::Rejected,
            _ => Category::Server,
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed call for one object.
#[derive(Debug, thiserror::Error)]
#[error("{verb} {object}: {source}")]
pub struct ApplyError {
    /// The object, or the kind listed.
    pub object: Target,
    pub verb: &'static str,
    pub category: Category,
    #[source]
    pub source: kube::Error,
}

impl ApplyError {
    pub fn new(verb: &'static str, object: impl Into<Target>, source: kube::Error) -> Self {
        Self {
            category: Category::of(&source),
            object: object.into(),
            verb,
            source,
        }
    }
}
