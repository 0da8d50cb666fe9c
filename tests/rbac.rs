//! Least privilege: the roles the Helm chart gives the operator grant exactly the access
//! the code needs ([`govcloud::rbac::operator_access`], derived from the kinds the
//! renderer writes, the kinds the controllers watch and the config), for the default
//! values, every `charts/govcloud/ci/*-values.yaml` and a Lease moved to its own
//! namespace. A grant the code does not use fails as "more", a request the chart would
//! deny as "less", each named rule by rule.
//!
//! That the running operator asks for nothing outside the derived access is checked by
//! auditing its requests to the API double (`operator_deletion`, `operator_leader`).

use crate::support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use govcloud::config::OperatorConfig;
use govcloud::rbac::{Access, Permission, operator_access};
use serde_json::Value;
use support::chart::{self, NAMESPACE, RELEASE, find, of_kind, permissions, strings};

/// The Role name the chart gives the Lease access.
fn lease_role() -> String {
    format!("{RELEASE}-leader-election")
}

/// A rendering of the chart, and the config its ConfigMap hands the operator.
struct Install {
    label: String,
    objects: Vec<Value>,
    config: OperatorConfig,
}

impl Install {
    fn of(label: String, objects: Vec<Value>) -> Self {
        let config_map = find(&objects, "ConfigMap", &format!("{RELEASE}-config"));
        let text = config_map["data"]["govcloud.yaml"]
            .as_str()
            .unwrap_or_else(|| panic!("{label}: the ConfigMap has no govcloud.yaml"));
        let config = OperatorConfig::from_str(text, Path::new("ConfigMap govcloud-config"))
            .unwrap_or_else(|e| panic!("{label}: the operator refuses the rendered config:\n{e}"));
        Install {
            label,
            objects,
            config,
        }
    }

    fn rendered(values: Option<PathBuf>) -> Self {
        let label = values.as_ref().map_or("default values".into(), |v| {
            v.file_name().unwrap().to_string_lossy().into_owned()
        });
        let files: Vec<&Path> = values.iter().map(PathBuf::as_path).collect();
        Install::of(label, chart::template(&files))
    }

    /// What the chart grants the operator: its ClusterRole, and its Role in the Lease's
    /// namespace (if rendered).
    fn granted(&self) -> Access {
        let cluster = permissions(find(&self.objects, "ClusterRole", RELEASE));
        let lease_namespace = of_kind(&self.objects, "Role")
            .into_iter()
            .find(|r| r["metadata"]["name"] == lease_role().as_str())
            .map(|role| {
                assert_eq!(
                    role["metadata"]["namespace"].as_str(),
                    Some(self.config.lease_namespace()),
                    "{}: the Lease Role must be where the operator takes the Lease",
                    self.label
                );
                permissions(role)
            })
            .unwrap_or_default();
        Access {
            cluster,
            lease_namespace,
        }
    }
}

/// Every install the chart tests render, plus leader election with the Lease in a
/// namespace of its own (no ci values file moves it).
fn installs() -> &'static [Install] {
    static INSTALLS: OnceLock<Vec<Install>> = OnceLock::new();
    INSTALLS.get_or_init(render_installs)
}

fn render_installs() -> Vec<Install> {
    let mut all = vec![Install::rendered(None)];
    all.extend(
        chart::ci_values_files()
            .into_iter()
            .map(|f| Install::rendered(Some(f))),
    );
    let moved = "replicas: 2\nconfig:\n  leaderElection:\n    enabled: true\n    \
                 leaseName: govcloud-lock\n    leaseNamespace: kube-leases\n";
    let objects = chart::try_template_with(&[], moved)
        .unwrap_or_else(|r| panic!("helm template with the Lease moved failed:\n{}", r.stderr));
    all.push(Install::of("the Lease in kube-leases".into(), objects));
    all
}

/// What `granted` has beyond `needed` and lacks of it, one line per permission; empty
/// when they are equal.
fn differences(scope: &str, granted: &BTreeSet<Permission>, needed: &BTreeSet<Permission>) -> String {
    let mut out = String::new();
    for p in granted.difference(needed) {
        writeln!(out, "  {scope} grants more than the operator uses: {p}").unwrap();
    }
    for p in needed.difference(granted) {
        writeln!(
            out,
            "  {scope} grants less than the operator uses: {p} is missing"
        )
        .unwrap();
    }
    out
}

fn compare(install: &Install, granted: &Access) -> String {
    let needed = operator_access(&install.config);
    let mut out = differences(
        &format!("ClusterRole {RELEASE}"),
        &granted.cluster,
        &needed.cluster,
    );
    out += &differences(
        &format!("Role {}", lease_role()),
        &granted.lease_namespace,
        &needed.lease_namespace,
    );
    out
}

#[test]
fn the_chart_grants_the_operator_exactly_what_the_code_needs() {
    let mut failures = String::new();
    let mut checked = Vec::new();
    for install in installs() {
        let granted = install.granted();
        let found = compare(install, &granted);
        if !found.is_empty() {
            writeln!(failures, "{}:\n{found}", install.label).unwrap();
        }
        checked.push(format!(
            "{}: {} cluster-wide, {} on the Lease",
            install.label,
            granted.cluster.len(),
            granted.lease_namespace.len()
        ));
    }
    assert!(
        failures.is_empty(),
        "the chart's roles (charts/govcloud/templates/clusterrole.yaml, \
         leader-election-rbac.yaml) and operator/src/rbac.rs disagree:\n{failures}"
    );
    println!("{}", checked.join("\n"));
}

#[test]
fn the_lease_role_exists_only_with_leader_election_and_names_the_configured_lease() {
    for install in installs() {
        let granted = install.granted();
        let enabled = install.config.leader_election.enabled;
        assert_eq!(
            !granted.lease_namespace.is_empty(),
            enabled,
            "{}: a Lease Role must be rendered exactly when leader election is on",
            install.label
        );
        let lease = &install.config.leader_election.lease_name;
        for p in granted.lease_namespace.iter().filter(|p| p.verb != "create") {
            assert_eq!(p.name.as_ref(), Some(lease), "{}: {p}", install.label);
        }
    }
}

#[test]
fn the_operator_roles_are_bound_to_the_pods_service_account_only() {
    for install in installs() {
        let account =
            find(&install.objects, "Deployment", RELEASE)["spec"]["template"]["spec"]["serviceAccountName"]
                .as_str()
                .expect("the Deployment names its ServiceAccount");
        let mut bindings = vec![(
            "ClusterRole",
            find(&install.objects, "ClusterRoleBinding", RELEASE),
            RELEASE.to_string(),
        )];
        if install.config.leader_election.enabled {
            bindings.push((
                "Role",
                find(&install.objects, "RoleBinding", &lease_role()),
                lease_role(),
            ));
        }
        for (kind, binding, role) in bindings {
            assert_eq!(binding["roleRef"]["kind"], kind, "{}", install.label);
            assert_eq!(binding["roleRef"]["name"], role.as_str(), "{}", install.label);
            let subjects = binding["subjects"].as_array().expect("subjects");
            assert_eq!(subjects.len(), 1, "{}: {subjects:?}", install.label);
            assert_eq!(subjects[0]["kind"], "ServiceAccount", "{}", install.label);
            assert_eq!(subjects[0]["name"], account, "{}", install.label);
            assert_eq!(subjects[0]["namespace"], NAMESPACE, "{}", install.label);
        }
    }
}

/// The comparison above is only worth something if it notices a change either way:
/// a verb taken from the chart, a verb added to it, a widened resourceNames.
#[test]
fn a_grant_removed_from_or_added_to_the_chart_is_reported() {
    let install = Install::rendered(None);
    let role = find(&install.objects, "ClusterRole", RELEASE);
    let with_rules = |edit: &dyn Fn(&mut Vec<Value>)| {
        let mut role = role.clone();
        edit(role["rules"].as_array_mut().unwrap());
        Access {
            cluster: permissions(&role),
            lease_namespace: Default::default(),
        }
    };
    let find_rule = |rules: &mut Vec<Value>, resource: &str| -> usize {
        rules
            .iter()
            .position(|r| strings(&r["resources"]).contains(&resource))
            .unwrap_or_else(|| panic!("no rule for {resource}"))
    };

    let fewer = with_rules(&|rules| {
        let i = find_rule(rules, "deployments");
        rules[i]["verbs"] = serde_json::json!(["list", "watch", "create", "patch"]);
    });
    let found = compare(&install, &fewer);
    assert!(
        found.contains("less") && found.contains("delete apps/deployments is missing"),
        "{found}"
    );

    let more = with_rules(&|rules| {
        let i = find_rule(rules, "nodes");
        rules[i]["verbs"] = serde_json::json!(["list", "watch", "get"]);
    });
    let found = compare(&install, &more);
    assert!(
        found.contains("grants more than the operator uses: get core/nodes"),
        "{found}"
    );

    let unnamed = with_rules(&|rules| {
        let i = find_rule(rules, "clusterroles");
        rules[i].as_object_mut().unwrap().remove("resourceNames");
    });
    let found = compare(&install, &unnamed);
    assert!(
        found.contains("more than the operator uses: bind rbac.authorization.k8s.io/clusterroles\n"),
        "binding any ClusterRole must show as more than binding the department-admin one:\n{found}"
    );

    let wildcard = with_rules(&|rules| {
        rules.push(serde_json::json!({
            "apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]
        }))
    });
    assert!(compare(&install, &wildcard).contains("unknown verb *"));
}
