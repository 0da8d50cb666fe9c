//! `govcloud assess`: from departments' server inventories to a consolidation plan,
//! before anything moves.
//!
//! Pure, like the planner: the inventories' servers, a mapping and the platform go in,
//! an [`Assessment`] and the proposed objects come out. Each running server is
//! right-sized (`size`), a system several departments run becomes a shared offering
//! (`propose`), and the proposed estate is planned by the same planner `govcloud plan`
//! runs, on the platform's pools or on pools sized per security level. Reading files and
//! printing is `cli::assess`'s.

mod figures;
pub mod inventory;
pub mod mapping;
mod model;
pub mod output;
mod propose;
mod resolve;
pub mod size;
#[cfg(any(test, feature = "test-support"))]
pub mod synthetic;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use kube::ResourceExt;

pub use inventory::{InventoryError, Server};
pub use mapping::Mapping;
pub use model::*;

use crate::api::{Department, DepartmentService, ResourcePool, ServiceOffering};
use crate::plan::{Assignments, Snapshot, plan};
use crate::quantity::Res;
use figures::Placed;
use resolve::{Candidate, Resolved};
use size::{DEFAULT_STEPS, Rules};

/// The objects the assessment proposes, for `--emit-manifests`: with the platform's own,
/// `govcloud plan` plans them to the assessment's plan.
#[derive(Clone, Debug, Default)]
pub struct Proposed {
    pub pools: Vec<ResourcePool>,
    pub offerings: Vec<ServiceOffering>,
    pub departments: Vec<Department>,
    pub services: Vec<DepartmentService>,
}

/// Image prefix when neither the mapping nor a policy names a registry: `.invalid` is
/// reserved (RFC 2606), so no cluster pulls it by mistake.
pub const PLACEHOLDER_IMAGES: &str = "assessed.invalid/";

/// Assesses `servers` against `platform` (its policies, pools, offerings, departments;
/// any of them may be absent) at `headroom`. Fails only on inventory values that cannot
/// become Kubernetes names, each with its file, line and column.
pub fn assess(
    servers: &[Server],
    mapping: &Mapping,
    platform: &Snapshot,
    headroom: f64,
) -> Result<(Assessment, Proposed), Vec<InventoryError>> {
    let effective = crate::plan::effective_policy(&platform.policies);
    let rules = Rules {
        steps: Res::new(
            effective.step_cpu.unwrap_or(DEFAULT_STEPS.cpu_millis),
            effective.step_memory.unwrap_or(DEFAULT_STEPS.memory_bytes),
        ),
        max_cpu: effective.max_cpu,
        max_memory: effective.max_memory,
    };
    let prefix = platform.settings.namespace_prefix.as_str();
    let (resolved, candidates) = resolve::resolve(servers, mapping, &rules, headroom, prefix)?;
    let images = images(mapping, platform);
    let naming = propose::Naming {
        namespace_prefix: prefix,
        images: &images,
    };
    let proposal = propose::propose(&candidates, platform, mapping, &naming);

    let propose::Proposal {
        departments,
        services,
        offerings,
        pools,
        sizing,
        systems,
        offering_of,
    } = proposal;
    // The proposed objects join the platform's by move, not by copy: at 100,000 servers
    // a copy of each was a tenth of the assessment. They are split off again below.
    let mut snapshot = platform.clone();
    let kept = (
        snapshot.pools.len(),
        snapshot.offerings.len(),
        snapshot.departments.len(),
        snapshot.services.len(),
    );
    snapshot.pools.extend(pools);
    snapshot.offerings.extend(offerings);
    snapshot.departments.extend(departments);
    snapshot.services.extend(services);
    let plan = plan(&snapshot, &Assignments::from_status(&snapshot));

    let by_key: HashMap<(&str, &str), usize> = plan
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.namespace.as_str(), s.name.as_str()), i))
        .collect();
    let mut namespace_of: HashMap<&str, String> = HashMap::new();
    for c in &candidates {
        namespace_of
            .entry(c.department.as_str())
            .or_insert_with(|| format!("{prefix}{}", c.department));
    }
    let planned_of: Vec<Option<&crate::plan::ServicePlan>> = candidates
        .iter()
        .map(|c| {
            let namespace = namespace_of.get(c.department.as_str()).map_or("", String::as_str);
            by_key
                .get(&(namespace, c.name.as_str()))
                .map(|&i| &plan.services[i])
        })
        .collect();
    let placed_of: Vec<bool> = planned_of
        .iter()
        .map(|p| p.is_some_and(|s| s.pool.is_some()))
        .collect();

    let mut rows = Vec::with_capacity(servers.len());
    let mut not_assessed = Vec::new();
    for (s, r) in servers.iter().zip(&resolved) {
        let mut row = ServerAssessment {
            file: s.file.clone(),
            line: s.line,
            format: s.format,
            server: s.name.clone(),
            state: s.state,
            department: s.department.clone(),
            security_level: s.security_level,
            system: s.system.clone(),
            application: s.application.clone(),
            provisioned: Res::new(s.cpu_millis, s.memory_bytes).into(),
            outcome: Outcome::NotAssessed,
            service: None,
            offering: None,
            proposed: None,
            cpu_basis: None,
            memory_basis: None,
            pool: None,
            why: None,
            reasons: Vec::new(),
        };
        match r {
            Resolved::LeftOut(why) => {
                row.outcome = Outcome::LeftOut;
                row.why = Some(why.clone());
            }
            Resolved::NotAssessed {
                department,
                level,
                system,
                application,
                why,
            } => {
                row.department.clone_from(department);
                row.security_level = *level;
                row.system.clone_from(system);
                row.application.clone_from(application);
                row.why = Some(why.clone());
            }
            &Resolved::Candidate(i) => {
                let c = &candidates[i];
                let offering = offering_of[i].clone();
                row.department = Some(c.department.clone());
                row.security_level = Some(c.level);
                row.system.clone_from(&c.system);
                row.application.clone_from(&c.application);
                row.service = Some(format!("{prefix}{}/{}", c.department, c.name));
                row.proposed = Some(match &offering {
                    None => c.sized.requests.into(),
                    // A tenant requests nothing of its own: it is seated on an instance.
                    Some(_) => Amount::default(),
                });
                row.cpu_basis = Some(c.sized.cpu);
                row.memory_basis = Some(c.sized.memory);
                row.outcome = if offering.is_some() {
                    Outcome::Tenant
                } else {
                    Outcome::Workload
                };
                row.offering = offering;
                let p = planned_of[i];
                row.pool = p.and_then(|p| p.pool.clone());
                if !placed_of[i] {
                    row.outcome = Outcome::Refused;
                    row.reasons = p.map(|p| p.reasons.clone()).unwrap_or_default();
                    row.why = Some(
                        row.reasons
                            .iter()
                            .map(|r| format!("{}: {}", r.code, r.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    );
                } else if c.sized.unmeasured() {
                    row.why = Some(format!(
                        "not measured: sized at what it was given (CPU {}, memory {})",
                        c.sized.cpu.as_str(),
                        c.sized.memory.as_str()
                    ));
                }
            }
        }
        if matches!(
            row.outcome,
            Outcome::LeftOut | Outcome::NotAssessed | Outcome::Refused
        ) {
            not_assessed.push(NotAssessed {
                file: row.file.clone(),
                line: row.line,
                server: row.server.clone(),
                outcome: row.outcome,
                why: row.why.clone().unwrap_or_default(),
            });
        }
        rows.push(row);
    }

    let placed: Vec<Placed<'_>> = candidates
        .iter()
        .zip(&placed_of)
        .filter(|(_, placed)| **placed)
        .map(|(c, _)| &servers[c.index])
        .collect();
    let mut members: BTreeMap<&str, Vec<(&Candidate, bool)>> = BTreeMap::new();
    for (c, placed) in candidates.iter().zip(&placed_of) {
        if let Some(s) = &c.system {
            members.entry(s).or_default().push((c, *placed));
        }
    }
    let mut systems = systems;
    for s in &mut systems {
        let m = members.get(s.name.as_str()).map_or(&[][..], Vec::as_slice);
        s.levels = figures::levels(s, m, &plan, prefix);
    }
    let sized = platform.pools.is_empty();
    let assessment = Assessment {
        headroom,
        steps: rules.steps.into(),
        pools_from: if sized {
            PoolsFrom::Sized
        } else {
            PoolsFrom::Platform
        },
        servers: rows,
        systems,
        sized_pools: sizing,
        before: figures::before(&placed),
        after: figures::after(&placed, &plan, &snapshot, mapping, sized),
        not_assessed,
        plan,
    };
    let proposed = Proposed {
        pools: snapshot.pools.split_off(kept.0),
        offerings: snapshot.offerings.split_off(kept.1),
        departments: snapshot.departments.split_off(kept.2),
        services: snapshot.services.split_off(kept.3),
    };
    Ok((assessment, proposed))
}

/// The proposed images' prefix: the mapping's, else under the first registry a policy
/// allows (so that the plan's compliance check passes), else a placeholder.
fn images(mapping: &Mapping, platform: &Snapshot) -> String {
    if let Some(images) = &mapping.images {
        return images.clone();
    }
    let mut policies: Vec<_> = platform.policies.iter().collect();
    policies.sort_by_key(|p| p.name_any());
    policies
        .iter()
        .flat_map(|p| p.spec.allowed_registries.first())
        .next()
        .map_or_else(
            || PLACEHOLDER_IMAGES.to_owned(),
            |r| {
                let sep = if r.ends_with('/') { "" } else { "/" };
                format!("{r}{sep}assessed/")
            },
        )
}
