//! Each running server's department, level and system (from its row, else the mapping),
//! the DepartmentService name it becomes, and its right size.
//!
//! A value in the inventory that cannot become a Kubernetes name is an input error with
//! its file, line and column, as a malformed number is; a server the inventory and the
//! mapping leave without a department or level is not an error of the file, and is
//! listed as not assessed.

use std::collections::HashMap;

use super::inventory::{InventoryError, Server, State};
use super::mapping::{Mapping, check_system};
use super::size::{Rules, SizeError, Sized, right_size};
use crate::names::{LABEL_MAX, Rule};
use crate::quantity::{format_cpu, format_memory};

/// A running server with everything its proposal needs.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// Index of the server in the inventory.
    pub index: usize,
    pub department: String,
    pub level: u8,
    pub system: Option<String>,
    pub application: Option<String>,
    /// Its DepartmentService's name.
    pub name: String,
    pub sized: Sized,
}

/// What became of a server before planning.
#[derive(Clone, Debug)]
pub enum Resolved {
    /// Its index in the candidates.
    Candidate(usize),
    LeftOut(String),
    NotAssessed {
        department: Option<String>,
        level: Option<u8>,
        system: Option<String>,
        application: Option<String>,
        why: String,
    },
}

/// Resolves every server; the input errors of all of them, or the outcome of each and
/// the candidates among them.
pub fn resolve(
    servers: &[Server],
    mapping: &Mapping,
    rules: &Rules,
    headroom: f64,
    namespace_prefix: &str,
) -> Result<(Vec<Resolved>, Vec<Candidate>), Vec<InventoryError>> {
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(servers.len());
    let mut candidates = Vec::new();
    // (department, service name) → the server that took it first.
    let mut taken: HashMap<(String, String), usize> = HashMap::new();
    let department_max = LABEL_MAX.saturating_sub(namespace_prefix.len());
    for (index, s) in servers.iter().enumerate() {
        let error = |column: &str, message: String| InventoryError {
            file: s.file.clone(),
            line: Some(s.line),
            column: Some(column.into()),
            message,
        };
        if let Some(d) = &s.department
            && let Err(e) = Rule::Dns1123Label.check_within(d, department_max)
        {
            errors.push(error(
                "department",
                format!("{e}: it names the Department and its namespace {namespace_prefix}<department>"),
            ));
        }
        if let Some(system) = &s.system
            && let Err(e) = check_system(system)
        {
            errors.push(error(
                "system",
                format!("{e}: a system may become a ServiceOffering's name"),
            ));
        }
        if s.state != State::On {
            out.push(Resolved::LeftOut(left_out(s.state)));
            continue;
        }
        let assigned = mapping.assign(s);
        let department = s.department.clone().or(assigned.department);
        let level = s.security_level.or(assigned.security_level);
        let system = s.system.clone().or(assigned.system);
        let application = s.application.clone().or(assigned.application);
        let not_assessed = |why: String| Resolved::NotAssessed {
            department: department.clone(),
            level,
            system: system.clone(),
            application: application.clone(),
            why,
        };
        let (Some(dept), Some(level)) = (department.clone(), level) else {
            let missing = match (&department, level) {
                (None, None) => "no department and no security level",
                (None, Some(_)) => "no department",
                _ => "no security level",
            };
            out.push(not_assessed(format!(
                "{missing}: the inventory gives none and no mapping rule assigns one"
            )));
            continue;
        };
        let Some(name) = service_name(&s.name) else {
            out.push(not_assessed(format!(
                "the name {} has no letter or digit to make a DepartmentService name of",
                crate::names::shown(&s.name)
            )));
            continue;
        };
        let seen = taken.entry((dept.clone(), name.clone()));
        if let std::collections::hash_map::Entry::Occupied(e) = &seen {
            let first = *e.get();
            errors.push(error(
                "server",
                format!(
                    "{} becomes DepartmentService {name} of department {dept}, as {} at {}:{} does: each server is listed once",
                    crate::names::shown(&s.name),
                    crate::names::shown(&servers[first].name),
                    servers[first].file,
                    servers[first].line
                ),
            ));
            continue;
        }
        seen.or_insert(index);
        match right_size(s, headroom, rules) {
            Ok(sized) => {
                out.push(Resolved::Candidate(candidates.len()));
                candidates.push(Candidate {
                    index,
                    department: dept,
                    level,
                    system,
                    application,
                    name,
                    sized,
                });
            }
            Err(e) => out.push(not_assessed(size_error(&e))),
        }
    }
    if errors.is_empty() {
        Ok((out, candidates))
    } else {
        Err(errors)
    }
}

fn left_out(state: State) -> String {
    match state {
        State::Off => "powered off".into(),
        State::Suspended => "suspended".into(),
        State::Template => "a VM template".into(),
        State::On => "running".into(),
    }
}

fn size_error(e: &SizeError) -> String {
    match e {
        SizeError::AboveMaximum {
            resource,
            needed,
            max,
        } => {
            let (needed, max) = if *resource == "cpu" {
                (format_cpu(*needed), format_cpu(*max))
            } else {
                (format_memory(*needed), format_memory(*max))
            };
            format!(
                "needs {resource} {needed} per replica, above the platform policy's maxReplicaResources.{resource} {max}: it stays on dedicated infrastructure or is split"
            )
        }
        SizeError::TooLarge => "its size is beyond what the platform can represent".into(),
    }
}

/// The DepartmentService name of a server: the host part of its name (before the first
/// `.`), lowercased, every run of other characters made one `-`, `vm-` before a leading
/// digit (a Service name starts with a letter), at most 63 characters.
pub fn service_name(server: &str) -> Option<String> {
    let host = server.trim().split('.').find(|p| !p.is_empty()).unwrap_or("");
    let mut name = String::with_capacity(host.len().min(LABEL_MAX));
    for c in host.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('-') {
            name.push('-');
        }
        if name.len() > 2 * LABEL_MAX {
            break;
        }
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "vm-");
    }
    name.truncate(LABEL_MAX);
    let name = name.trim_end_matches('-').to_owned();
    (!name.is_empty() && Rule::Dns1035Label.check(&name).is_ok()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_become_service_names_by_a_rule_a_reader_can_follow() {
        assert_eq!(service_name("FIN-DB-01").as_deref(), Some("fin-db-01"));
        assert_eq!(
            service_name("edu-web-02.edu.gov.local").as_deref(),
            Some("edu-web-02")
        );
        assert_eq!(service_name("HR_App  (old)").as_deref(), Some("hr-app-old"));
        assert_eq!(service_name("2019-archive").as_deref(), Some("vm-2019-archive"));
        assert_eq!(service_name("---").as_deref(), None);
        assert_eq!(service_name("数据库").as_deref(), None);
        let long = service_name(&"a".repeat(500)).unwrap();
        assert_eq!(long.len(), LABEL_MAX);
        let cut = service_name(&format!("{}-b", "a".repeat(62))).unwrap();
        assert_eq!(cut, "a".repeat(62), "no trailing '-' after the cut");
    }
}
