//! Errors of the applying layer: each names the object, and maps to a fixed category
//! for metrics and for when the write is tried again (never the error text; the rule
//! is the `retry` module's `decide`).

use std::fmt;

use crate::object::Target;

/// What kind of failure, from a fixed set: safe as a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// 409: someone else wrote first; retried on the next pass, with fresh state.
    Conflict,
    /// 429: the API server asked us to slow down; retried after its `Retry-After`.
    Throttled,
    /// 5xx or transport failure: transient, retried with exponential backoff.
    Server,
    /// 4xx other than the above (400, 403, 404, 422, an admission denial): the request
    /// itself is refused; not retried until what it writes or its owner changes, and
    /// shown on the owner's `Applied` condition.
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
            // The object's namespace is missing: made by the same pass (objects are
            // applied concurrently) or the next, so this goes away without any change
            // to the object.
            kube::Error::Api(status)
                if status.code == 404 && status.details.as_ref().is_some_and(|d| d.kind == "namespaces") =>
            {
                Category::Server
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16, details_kind: &str) -> kube::Error {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "code": code, "reason": "x", "message": "m", "details": {"kind": details_kind},
        }))
        .unwrap();
        kube::Error::Api(status.boxed())
    }

    #[test]
    fn categories_follow_the_status_code() {
        let of = |code| Category::of(&api(code, "deployments"));
        assert_eq!(
            [409, 429, 500, 503, 400, 403, 404, 422].map(of),
            [
                Category::Conflict,
                Category::Throttled,
                Category::Server,
                Category::Server,
                Category::Rejected,
                Category::Rejected,
                Category::Rejected,
                Category::Rejected,
            ]
        );
        assert_eq!(
            Category::of(&api(404, "namespaces")),
            Category::Server,
            "a namespace not made yet is transient"
        );
    }
}
