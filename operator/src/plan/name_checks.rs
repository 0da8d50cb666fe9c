//! Rule 1, validate, for names: every name, label value, selector, toleration value and
//! env name that an object hands to a Kubernetes object, checked by the API server's rules
//! so that a plan never renders what a cluster would refuse. Each check returns messages
//! `field: problem`, for `validate` to refuse the object with.

use std::collections::BTreeMap;

use kube::ResourceExt;

use super::{Settings, instance_name};
use crate::api::{Department, DepartmentService, EnvVar, OwnerKind, Port, ResourcePool, ServiceOffering};
use crate::names::{LABEL_MAX, Rule, reserved_namespace, shown, system_owner};

/// The longest offering name: its shared instances are `<offering>-l<level>-<n>` with a
/// one-digit level and `n` up to `u32::MAX` (ten digits), and that name is a Service's
/// (a DNS-1035 label of at most 63 characters).
pub const OFFERING_NAME_MAX: usize = LABEL_MAX - "-l4-".len() - 10;

pub fn pool(pool: &ResourcePool) -> Vec<String> {
    let mut out = Vec::new();
    // A custom resource's name is a DNS-1123 subdomain; a pool's is also the value of the
    // `govcloud.io/pool` label and of the toleration of the pool's taint: at most 63.
    if let Err(e) = Rule::Dns1123Subdomain.check_within(&pool.name_any(), LABEL_MAX) {
        out.push(format!(
            "metadata.name: {e}; it is the value of the label govcloud.io/pool and of the pool's toleration"
        ));
    }
    selector("spec.nodeSelector", &pool.spec.node_selector, &mut out);
    out
}

/// A node selector as a pod spec carries it: label keys and label values.
fn selector(path: &str, selector: &BTreeMap<String, String>, out: &mut Vec<String>) {
    for (key, value) in selector {
        if let Err(e) = Rule::LabelKey.check(key) {
            out.push(format!("{path}: key {e}"));
        }
        if let Err(e) = Rule::LabelValue.check(value) {
            out.push(format!("{path}[{}]: {e}", shown(key)));
        }
    }
}

pub fn department(dept: &Department, namespace: &str, settings: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    // The namespace check covers the name too: it is part of the namespace, and a DNS-1123
    // label is also a valid `govcloud.io/department` label value.
    if let Err(e) = Rule::Dns1123Label.check(namespace) {
        out.push(format!(
            "metadata.name: the department's namespace (namespacePrefix {:?} + name) {e}",
            settings.namespace_prefix
        ));
    } else if let Some(why) = reserved_namespace(namespace, settings) {
        out.push(format!(
            "metadata.name: the department's namespace {namespace:?} is {why}, which no department may own"
        ));
    }
    for (i, o) in dept.spec.owners.iter().enumerate() {
        if let Some(who) = system_owner(o.kind, &o.name) {
            out.push(format!(
                "spec.owners[{i}].name: {} {:?} is {who}: it must not administer a department",
                o.kind.as_str(),
                o.name
            ));
        }
        if o.kind == OwnerKind::ServiceAccount {
            // An empty name has its own message already ("must not be empty").
            if !o.name.is_empty()
                && let Err(e) = Rule::Dns1123Subdomain.check(&o.name)
            {
                out.push(format!("spec.owners[{i}].name: {e}"));
            }
            if let Some(ns) = o.namespace.as_deref().filter(|ns| !ns.is_empty())
                && let Err(e) = Rule::Dns1123Label.check(ns)
            {
                out.push(format!("spec.owners[{i}].namespace: {e}"));
            }
        }
    }
    out
}

pub fn offering(offering: &ServiceOffering) -> Vec<String> {
    let mut out = Vec::new();
    let name = offering.name_any();
    if let Err(e) = Rule::Dns1035Label.check_within(&name, OFFERING_NAME_MAX) {
        out.push(format!(
            "metadata.name: {e}; it starts the names of its shared instances, {:?} at the longest",
            instance_name("<name>", 4, u32::MAX)
        ));
    }
    out
}

pub fn service(svc: &DepartmentService) -> Vec<String> {
    let mut out = Vec::new();
    // A Service is named after it: its own workload's (when it has ports) or, for a
    // tenant, the ExternalName Service that points at its shared instance.
    if let Err(e) = Rule::Dns1035Label.check(&svc.name_any()) {
        out.push(format!("metadata.name: {e}; a Service is named after it"));
    }
    if let Some(w) = &svc.spec.workload {
        env("spec.workload.env", &w.env, &mut out);
    }
    out
}

/// Container port names, which the Service's ports repeat.
pub fn ports(path: &str, ports: &[Port]) -> Vec<String> {
    ports
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            Rule::PortName
                .check(&p.name)
                .err()
                .map(|e| format!("{path}[{i}].name: {e}"))
        })
        .collect()
}

fn env(path: &str, env: &[EnvVar], out: &mut Vec<String>) {
    for (i, e) in env.iter().enumerate() {
        if let Err(problem) = Rule::EnvVarName.check(&e.name) {
            out.push(format!("{path}[{i}].name: {problem}"));
        }
    }
}
