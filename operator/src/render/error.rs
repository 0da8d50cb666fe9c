//! Why a plan could not be rendered: it does not belong to the snapshot it is rendered with.

/// Each variant names the object (`Kind namespace/name`) and the field at fault, so the
/// operator can put the problem on a condition as it stands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The plan refers to an object the snapshot does not contain.
    #[error("{object} is not in the snapshot (referenced by {field})")]
    Missing { object: String, field: String },
    /// Plan and snapshot disagree about an object (e.g. a workload plan for an offering tenant).
    #[error("{object}: {field}: {message}")]
    Inconsistent {
        object: String,
        field: String,
        message: String,
    },
}

impl RenderError {
    pub(super) fn missing(object: impl Into<String>, field: impl Into<String>) -> Self {
        Self::Missing {
            object: object.into(),
            field: field.into(),
        }
    }

    pub(super) fn inconsistent(
        object: impl Into<String>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Inconsistent {
            object: object.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}
