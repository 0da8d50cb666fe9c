//! Usage as the running operator wrote it into statuses, for `govcloud report --cluster`
//! without `--usage`: pure, from the listed objects.
//!
//! The operator attributes each sample by its own plan and writes `status.used` and
//! `status.usedAt` of every DepartmentService, Department and ResourcePool it measured
//! (`status::used`). Those figures are taken as they stand: rounded to two significant
//! digits, each object measured at its own `usedAt` (rewritten only when its usage
//! moved). An object without `used` stays absent, as the operator means it: no pod of it
//! was measured. A `used` that does not parse is left out with a warning naming the
//! object and field, rather than read as nothing.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use super::build::MeasuredUsage;
use super::model::UsageOrigin;
use crate::api::ResourceAmounts;
use crate::plan::{ServiceKey, Snapshot};
use crate::quantity::Res;
use crate::usage::Usage;

/// The usage the statuses of `snapshot` show, with a warning for each `used` field that
/// does not parse. `None` when no status shows a usable `used` (no usage source
/// configured, or none measured yet): then usage is not measured, not zero.
pub fn usage_from_statuses(snapshot: &Snapshot) -> (Option<MeasuredUsage>, Vec<String>) {
    let mut reading = Reading::default();
    for s in &snapshot.services {
        let shown = s.status.as_ref().map(|st| (&st.used, &st.used_at));
        let name = ServiceKey::of(s).to_string();
        reading.take("DepartmentService", name, shown, |u| &mut u.services);
    }
    for d in &snapshot.departments {
        let shown = d.status.as_ref().map(|st| (&st.used, &st.used_at));
        reading.take("Department", d.name_any(), shown, |u| &mut u.departments);
    }
    for p in &snapshot.pools {
        let shown = p.status.as_ref().map(|st| (&st.used, &st.used_at));
        reading.take("ResourcePool", p.name_any(), shown, |u| &mut u.pools);
    }

    let Reading {
        mut usage,
        oldest,
        newest,
        warnings,
    } = reading;
    if usage.services.is_empty() && usage.departments.is_empty() && usage.pools.is_empty() {
        return (None, warnings);
    }
    usage.at = oldest;
    let measured = MeasuredUsage {
        usage,
        origin: UsageOrigin::Statuses,
        until: newest,
    };
    (Some(measured), warnings)
}

#[derive(Default)]
struct Reading {
    usage: Usage,
    oldest: Option<Timestamp>,
    newest: Option<Timestamp>,
    warnings: Vec<String>,
}

impl Reading {
    /// One object's `used` (of its status's `used` and `usedAt`) into the usage (`into`
    /// picks its map), its `usedAt` counted into the time range; nothing when absent, or
    /// when a field does not parse (each such field warned of).
    fn take(
        &mut self,
        kind: &str,
        name: String,
        shown: Option<(&Option<ResourceAmounts>, &Option<Time>)>,
        into: fn(&mut Usage) -> &mut BTreeMap<String, Res>,
    ) {
        let Some((Some(used), at)) = shown else {
            return;
        };
        let res = match used.parse() {
            Ok(res) => res,
            Err(fields) => {
                for (field, e) in fields {
                    self.warnings.push(format!(
                        "{kind} {name}: status.used.{field}: {e}; its usage is left out of the report"
                    ));
                }
                return;
            }
        };
        if let Some(Time(at)) = at {
            self.oldest = Some(self.oldest.map_or(*at, |t| t.min(*at)));
            self.newest = Some(self.newest.map_or(*at, |t| t.max(*at)));
        }
        into(&mut self.usage).insert(name, res);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{DepartmentServiceStatus, DepartmentStatus, ResourcePoolStatus};
    use crate::synthetic::{department, pool, workload};

    fn amounts(cpu: &str, memory: &str) -> Option<ResourceAmounts> {
        Some(ResourceAmounts {
            cpu: cpu.into(),
            memory: memory.into(),
        })
    }

    fn time(s: &str) -> Option<Time> {
        Some(Time(s.parse().unwrap()))
    }

    /// Two services, one measured and one not; a department measured, another not; a
    /// pool measured.
    fn estate() -> Snapshot {
        let mut ledger = workload("dept-fin", "ledger", 2, 2, "1", "1Gi");
        ledger.status = Some(DepartmentServiceStatus {
            used: amounts("1200m", "3500Mi"),
            used_at: time("2025-06-30T10:00:00Z"),
            ..Default::default()
        });
        let idle = workload("dept-fin", "archive", 2, 1, "1", "1Gi");
        let mut fin = department("fin", 3, "50", "200Gi", 10);
        fin.status = Some(DepartmentStatus {
            used: amounts("1200m", "3500Mi"),
            used_at: time("2025-06-30T10:00:00Z"),
            ..Default::default()
        });
        let edu = department("edu", 3, "50", "200Gi", 10);
        let mut p = pool("p", 3, "100", "400Gi");
        p.status = Some(ResourcePoolStatus {
            used: amounts("2", "12Gi"),
            used_at: time("2025-06-30T09:10:00Z"),
            ..Default::default()
        });
        Snapshot {
            pools: vec![p],
            departments: vec![fin, edu],
            services: vec![ledger, idle],
            ..Default::default()
        }
    }

    #[test]
    fn used_is_taken_where_shown_and_absent_elsewhere() {
        let (measured, warnings) = usage_from_statuses(&estate());
        assert!(warnings.is_empty(), "{warnings:?}");
        let m = measured.expect("statuses show usage");
        assert_eq!(m.origin, UsageOrigin::Statuses);
        let u = &m.usage;
        assert_eq!(
            u.services.get("dept-fin/ledger"),
            Some(&Res::new(1200, 3500 << 20))
        );
        assert_eq!(
            u.services.get("dept-fin/archive"),
            None,
            "no used: absent, not zero"
        );
        assert_eq!(u.departments.get("fin"), Some(&Res::new(1200, 3500 << 20)));
        assert_eq!(u.departments.get("edu"), None);
        assert_eq!(u.pools.get("p"), Some(&Res::new(2000, 12 << 30)));
        assert_eq!(
            u.at.map(|t| t.to_string()).as_deref(),
            Some("2025-06-30T09:10:00Z"),
            "the oldest usedAt"
        );
        assert_eq!(
            m.until.map(|t| t.to_string()).as_deref(),
            Some("2025-06-30T10:00:00Z"),
            "the newest usedAt"
        );
    }

    #[test]
    fn no_status_shows_used_so_usage_is_not_measured() {
        let mut s = estate();
        for svc in &mut s.services {
            svc.status = None;
        }
        for d in &mut s.departments {
            d.status = Some(DepartmentStatus::default());
        }
        s.pools[0].status = None;
        let (measured, warnings) = usage_from_statuses(&s);
        assert_eq!(measured, None);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn an_unparsable_used_is_left_out_with_a_warning_naming_object_and_field() {
        let mut s = estate();
        s.services[0].status.as_mut().unwrap().used = amounts("abc", "3500Mi");
        s.departments[0].status.as_mut().unwrap().used = amounts("lots", "9Ei");
        let (measured, warnings) = usage_from_statuses(&s);
        assert_eq!(
            warnings,
            [
                "DepartmentService dept-fin/ledger: status.used.cpu: \"abc\" is not a Kubernetes \
                 quantity (e.g. 500m, 2, 1.5Gi); its usage is left out of the report",
                "Department fin: status.used.cpu: \"lots\" is not a Kubernetes quantity \
                 (e.g. 500m, 2, 1.5Gi); its usage is left out of the report",
                "Department fin: status.used.memory: \"9Ei\" is too large; its usage is left \
                 out of the report",
            ]
        );
        let u = measured.expect("the pool's usage still stands").usage;
        assert_eq!(u.services.get("dept-fin/ledger"), None, "left out, not half read");
        assert_eq!(u.departments.get("fin"), None);
        assert_eq!(u.pools.get("p"), Some(&Res::new(2000, 12 << 30)));
        assert_eq!(
            u.at.map(|t| t.to_string()).as_deref(),
            Some("2025-06-30T09:10:00Z"),
            "a left-out object's usedAt does not count"
        );
    }
}
