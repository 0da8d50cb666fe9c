//! Every refusal a plan makes, whatever the object: what `--fail-on-refusal` counts, the
//! plan table's REFUSALS section and the report's refusals list.

use super::output::{Plan, Reason};

/// One reason an object was refused.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal<'a> {
    /// `DepartmentService`, `ResourcePool`, `Department`, `ServiceOffering` or
    /// `PlatformPolicy`.
    pub kind: &'static str,
    /// `namespace/name` for a service, the name otherwise.
    pub name: String,
    /// The department concerned: a service's owner, or the department itself.
    pub department: Option<&'a str>,
    pub reason: &'a Reason,
}

impl Plan {
    /// Services first, then pools, departments, offerings and policies, each in plan order.
    pub fn refusals(&self) -> impl Iterator<Item = Refusal<'_>> {
        let services = self.services.iter().flat_map(|s| {
            s.reasons.iter().map(move |reason| Refusal {
                kind: "DepartmentService",
                name: format!("{}/{}", s.namespace, s.name),
                department: s.department.as_deref(),
                reason,
            })
        });
        let others = self
            .pools
            .iter()
            .map(|p| ("ResourcePool", &p.name, None, &p.reasons))
            .chain(
                self.departments
                    .iter()
                    .map(|d| ("Department", &d.name, Some(d.name.as_str()), &d.reasons)),
            )
            .chain(
                self.offerings
                    .iter()
                    .map(|o| ("ServiceOffering", &o.name, None, &o.reasons)),
            )
            .chain(
                self.policies
                    .iter()
                    .map(|p| ("PlatformPolicy", &p.name, None, &p.reasons)),
            )
            .flat_map(|(kind, name, department, reasons)| {
                reasons.iter().map(move |reason| Refusal {
                    kind,
                    name: name.clone(),
                    department,
                    reason,
                })
            });
        services.chain(others)
    }
}
