//! The mapping file of `govcloud assess --mapping FILE`: what an export lacks
//! (department, security level, system), assigned by VM folder, annotation or name
//! pattern, and the settings of what the assessment proposes.
//!
//! Rules are read in order and each field is set by the first rule that matches and sets
//! it; a value in the inventory itself always wins, because the department that filled
//! in its own row knows better than a pattern.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::inventory::Server;
use crate::api::ResourceAmounts;
use crate::names::Rule;
use crate::plan::OFFERING_NAME_MAX;
use crate::quantity::Res;

/// Longest pattern: globs are matched in time proportional to pattern × text, so both
/// are bounded (texts by the inventory's cells, patterns here).
const PATTERN_MAX: usize = 256;
/// Most rules in one mapping file.
const RULES_MAX: usize = 10_000;

/// A mapping file may say what it is, as Kubernetes-style config files do; it must when
/// it sits among manifests, where `govcloud plan` passes over it by these two.
pub const API_VERSION: &str = "govcloud.io/v1alpha1";
pub const KIND: &str = "AssessmentMapping";

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default, rename = "apiVersion")]
    pub api_version: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub rules: Vec<MappingRule>,
    #[serde(default)]
    pub offerings: OfferingSettings,
    /// Pool sizing when the platform has no pools.
    #[serde(default)]
    pub nodes: Option<NodeSettings>,
    /// Prefix of the proposed images (`<images><name>:assessed`); when absent, the first
    /// registry a platform policy allows, else `assessed.invalid/`, which no cluster
    /// pulls: the image is a placeholder until the migration builds one.
    #[serde(default)]
    pub images: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MappingRule {
    #[serde(rename = "match")]
    pub matches: Match,
    pub department: Option<String>,
    pub security_level: Option<u8>,
    pub system: Option<String>,
    pub application: Option<String>,
}

/// Globs (`*` any run, `?` one character), case-insensitive; every one given must match.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    pub name: Option<String>,
    pub folder: Option<String>,
    pub annotation: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OfferingSettings {
    /// Tenants per instance of a proposed offering.
    #[serde(default = "five")]
    pub tenants_per_instance: u32,
    /// Per system, overriding the default.
    #[serde(default)]
    pub systems: BTreeMap<String, SystemSettings>,
}

impl Default for OfferingSettings {
    fn default() -> Self {
        Self {
            tenants_per_instance: five(),
            systems: BTreeMap::new(),
        }
    }
}

fn five() -> u32 {
    5
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SystemSettings {
    pub tenants_per_instance: u32,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSettings {
    pub shape: ResourceAmounts,
    #[serde(default = "target")]
    pub target_utilisation: f64,
    /// What one node costs a year, in the report's currency.
    pub yearly_cost: Option<f64>,
    /// One node's average electrical draw, in watts.
    pub power_watts: Option<f64>,
}

fn target() -> f64 {
    0.8
}

impl OfferingSettings {
    pub fn tenants_per_instance(&self, system: &str) -> u32 {
        self.systems
            .get(system)
            .map_or(self.tenants_per_instance, |s| s.tenants_per_instance)
    }
}

/// The node shape of a valid mapping, parsed.
pub fn node_shape(nodes: &NodeSettings) -> Res {
    nodes.shape.parse().unwrap_or(Res::ZERO)
}

/// What the mapping assigns to a server, field by field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assigned {
    pub department: Option<String>,
    pub security_level: Option<u8>,
    pub system: Option<String>,
    pub application: Option<String>,
}

impl Mapping {
    /// Reads and checks a mapping file's text; every problem, each with its field.
    pub fn parse(text: &str) -> Result<Self, Vec<String>> {
        let mapping: Mapping = serde_saphyr::from_str(text).map_err(|e| vec![e.to_string()])?;
        let problems = mapping.problems();
        if problems.is_empty() {
            Ok(mapping)
        } else {
            Err(problems)
        }
    }

    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        for (field, value, wanted) in [
            ("apiVersion", &self.api_version, API_VERSION),
            ("kind", &self.kind, KIND),
        ] {
            if let Some(value) = value
                && value != wanted
            {
                p.push(format!(
                    "{field}: {} is not {wanted:?}",
                    crate::names::shown(value)
                ));
            }
        }
        if self.rules.len() > RULES_MAX {
            p.push(format!("rules: {} rules, at most {RULES_MAX}", self.rules.len()));
        }
        for (i, r) in self.rules.iter().enumerate() {
            let at = format!("rules[{i}]");
            let m = &r.matches;
            if m.name.is_none() && m.folder.is_none() && m.annotation.is_none() {
                p.push(format!(
                    "{at}.match: give at least one of name, folder or annotation (a rule matching everything is a default; write it as name: \"*\")"
                ));
            }
            for (field, pattern) in [
                ("name", &m.name),
                ("folder", &m.folder),
                ("annotation", &m.annotation),
            ] {
                if let Some(pattern) = pattern
                    && pattern.len() > PATTERN_MAX
                {
                    p.push(format!(
                        "{at}.match.{field}: {} characters, at most {PATTERN_MAX}",
                        pattern.len()
                    ));
                }
            }
            if r.department.is_none()
                && r.security_level.is_none()
                && r.system.is_none()
                && r.application.is_none()
            {
                p.push(format!(
                    "{at}: assigns nothing (give department, securityLevel, system or application)"
                ));
            }
            if let Some(d) = &r.department
                && let Err(e) = Rule::Dns1123Label.check(d)
            {
                p.push(format!("{at}.department: {e}"));
            }
            if let Some(level) = r.security_level
                && !(1..=4).contains(&level)
            {
                p.push(format!(
                    "{at}.securityLevel: {level} is not a security level (1–4)"
                ));
            }
            if let Some(s) = &r.system
                && let Err(e) = check_system(s)
            {
                p.push(format!("{at}.system: {e}"));
            }
        }
        if self.offerings.tenants_per_instance == 0 {
            p.push("offerings.tenantsPerInstance: 0; an instance serves at least one tenant".into());
        }
        for (system, s) in &self.offerings.systems {
            if let Err(e) = check_system(system) {
                p.push(format!("offerings.systems: {e}"));
            }
            if s.tenants_per_instance == 0 {
                p.push(format!(
                    "offerings.systems.{system}.tenantsPerInstance: 0; an instance serves at least one tenant"
                ));
            }
        }
        if let Some(n) = &self.nodes {
            match n.shape.parse() {
                Ok(shape) if shape.cpu_millis > 0 && shape.memory_bytes > 0 => {}
                Ok(_) => p.push("nodes.shape: CPU and memory must both be greater than zero".into()),
                Err(errors) => {
                    for (field, e) in errors {
                        p.push(format!("nodes.shape.{field}: {e}"));
                    }
                }
            }
            let t = n.target_utilisation;
            if !(t > 0.0 && t <= 1.0) {
                p.push(format!("nodes.targetUtilisation: {t} is not in (0, 1]"));
            }
            for (field, v) in [("yearlyCost", n.yearly_cost), ("powerWatts", n.power_watts)] {
                if let Some(v) = v
                    && !(v.is_finite() && (0.0..=1e12).contains(&v))
                {
                    p.push(format!("nodes.{field}: {v} is not an amount from 0 to 10^12"));
                }
            }
        }
        if let Some(images) = &self.images
            && (images.is_empty()
                || images.len() > 200
                || images.chars().any(|c| c.is_whitespace() || c == ':'))
        {
            p.push(format!(
                "images: {} is not an image prefix such as registry.gov.example/assessed/",
                crate::names::shown(images)
            ));
        }
        p
    }

    /// What the first matching rules assign to `server`, field by field.
    pub fn assign(&self, server: &Server) -> Assigned {
        let mut a = Assigned::default();
        for r in self.rules.iter().filter(|r| r.matches.matches(server)) {
            if a.department.is_none() {
                a.department.clone_from(&r.department);
            }
            if a.security_level.is_none() {
                a.security_level = r.security_level;
            }
            if a.system.is_none() {
                a.system.clone_from(&r.system);
            }
            if a.application.is_none() {
                a.application.clone_from(&r.application);
            }
        }
        a
    }
}

/// A system may become a ServiceOffering's name, which the planner holds to the
/// Service name rule with room for its instances' suffixes.
pub fn check_system(system: &str) -> Result<(), String> {
    Rule::Dns1035Label.check_within(system, OFFERING_NAME_MAX)
}

impl Match {
    fn matches(&self, server: &Server) -> bool {
        let one = |pattern: &Option<String>, text: Option<&str>| match pattern {
            None => true,
            Some(p) => text.is_some_and(|t| glob(p, t)),
        };
        one(&self.name, Some(&server.name))
            && one(&self.folder, server.folder.as_deref())
            && one(&self.annotation, server.annotation.as_deref())
    }
}

/// Whether `text` matches `pattern` (`*` any run, `?` one character), ignoring ASCII case.
/// The classic greedy walk with one backtrack point: O(pattern × text) at worst, never
/// exponential, whatever the pattern.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let t: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::inventory::Format;

    fn server(name: &str, folder: Option<&str>, annotation: Option<&str>) -> Server {
        Server {
            file: "vinfo.csv".into(),
            format: Format::RvTools,
            security_level: None,
            folder: folder.map(Into::into),
            annotation: annotation.map(Into::into),
            ..crate::assess::synthetic::server(name, None, 2, 4)
        }
    }

    #[test]
    fn globs_match_runs_single_characters_and_ignore_case() {
        assert!(glob("agr-*", "AGR-db-01"));
        assert!(glob("*System: hr*", "Owner: agriculture; system: HR; Level 2"));
        assert!(glob("env-??", "env-07"));
        assert!(!glob("env-??", "env-007"));
        assert!(!glob("fin-*", "hr-fin-01"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "a"));
        // A pathological pattern answers at once rather than after 2^n backtracks.
        let long = "a".repeat(200);
        assert!(!glob(&"*a".repeat(100), &format!("{long}b")));
    }

    #[test]
    fn the_first_rule_that_sets_a_field_wins_field_by_field() {
        let m = Mapping::parse(
            r#"
rules:
  - match: {folder: "/DC/vm/Agriculture/*"}
    department: agriculture
  - match: {annotation: "*System: hr*"}
    system: hr
    department: housing
  - match: {name: "*"}
    securityLevel: 2
"#,
        )
        .unwrap();
        let a = m.assign(&server(
            "agr-01",
            Some("/DC/vm/Agriculture/Prod"),
            Some("System: HR"),
        ));
        assert_eq!(
            a.department.as_deref(),
            Some("agriculture"),
            "the earlier rule wins"
        );
        assert_eq!(a.system.as_deref(), Some("hr"));
        assert_eq!(a.security_level, Some(2));
        let b = m.assign(&server("x", None, None));
        assert_eq!(
            b.department, None,
            "a folder rule does not match a VM without a folder"
        );
        assert_eq!(b.security_level, Some(2));
    }

    #[test]
    fn every_problem_in_a_mapping_is_named_by_its_field() {
        let errors = Mapping::parse(
            r#"
rules:
  - match: {}
    department: Finance
  - match: {name: "x*"}
    securityLevel: 7
    system: HR_system
offerings:
  tenantsPerInstance: 0
nodes:
  shape: {cpu: "0", memory: 64Gi}
  targetUtilisation: 1.5
images: "registry with space/"
"#,
        )
        .unwrap_err();
        let all = errors.join("\n");
        for needle in [
            "rules[0].match: give at least one",
            "rules[0].department: \"Finance\" is not",
            "rules[1].securityLevel: 7",
            "rules[1].system: \"HR_system\"",
            "offerings.tenantsPerInstance: 0",
            "nodes.shape: CPU and memory",
            "nodes.targetUtilisation: 1.5",
            "images:",
        ] {
            assert!(all.contains(needle), "{needle:?} missing from:\n{all}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_not_ignored() {
        let e = Mapping::parse("rules:\n  - match: {name: a}\n    departement: x\n").unwrap_err();
        assert!(e[0].contains("departement"), "{e:?}");
        let e = Mapping::parse("apiVersion: v1\nkind: ConfigMap\n").unwrap_err();
        assert_eq!(
            e,
            [
                "apiVersion: \"v1\" is not \"govcloud.io/v1alpha1\"",
                "kind: \"ConfigMap\" is not \"AssessmentMapping\""
            ]
        );
    }
}
