//! The Helm chart `charts/govcloud`, rendered by real Helm (v4, from the PyPI package
//! `helm-python-sdk`, through `tests/chart/render.py`) with its default values and with
//! every `charts/govcloud/ci/*-values.yaml`, as `helm install` would:
//!
//! - `helm lint --strict` is clean; values that break `values.schema.json`, and
//!   combinations the templates refuse, fail with a message naming the value;
//! - every rendered object passes `kubernetes-validate --strict` (the Prometheus
//!   Operator's ServiceMonitor and PrometheusRule are custom resources, for which it has
//!   no schema and only warns); the rendered text passes `yamllint`;
//! - the config the chart renders is accepted by the operator's own loader, on the port
//!   the pod exposes and probes;
//! - the pod runs restricted, and the roles grant no wildcard, and departments write
//!   nothing but their DepartmentServices;
//! - the chart's copies of `crds/` and `config/monitoring/` are identical to them.
//!
//! The operator's own ClusterRole and Lease Role are compared with what the code needs in
//! `tests/rbac.rs`.

use crate::support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use govcloud::config::{ConfigOverrides, OperatorConfig, UsageSource};
use serde_json::{Value, json};
use support::chart::{
    self, CHART, NAMESPACE, RELEASE, TEMPLATE_KEY, YAMLLINT, find, kind, name, of_kind, permissions, strings,
};
use support::{KUBERNETES_VALIDATE, printed, repo_root};

/// The CI values files the issue asks for, one per deployment shape.
const CI_FILES: [&str; 5] = [
    "all-features-values.yaml",
    "default-values.yaml",
    "ha-values.yaml",
    "metrics-api-values.yaml",
    "prometheus-values.yaml",
];

const DEPARTMENT_ADMIN: &str = "govcloud-department-admin";
const CONFIG_PATH: &str = "/etc/govcloud/govcloud.yaml";

/// One way of installing the chart: its default values, or a CI values file on top.
#[derive(Debug)]
struct Scenario {
    label: String,
    values: Option<PathBuf>,
    objects: Vec<Value>,
}

impl Scenario {
    fn files(&self) -> Vec<&Path> {
        self.values.iter().map(PathBuf::as_path).collect()
    }

    fn deployment(&self) -> &Value {
        find(&self.objects, "Deployment", RELEASE)
    }
}

/// The default values and every CI values file, rendered once per test run.
fn scenarios() -> &'static [Scenario] {
    static SCENARIOS: OnceLock<Vec<Scenario>> = OnceLock::new();
    SCENARIOS.get_or_init(|| {
        let mut all = vec![Scenario {
            label: "default values".into(),
            values: None,
            objects: chart::template(&[]),
        }];
        for file in chart::ci_values_files() {
            all.push(Scenario {
                label: file.file_name().unwrap().to_string_lossy().into_owned(),
                objects: chart::template(&[&file]),
                values: Some(file),
            });
        }
        all
    })
}

fn scenario(file: &str) -> &'static Scenario {
    scenarios()
        .iter()
        .find(|s| s.label == file)
        .unwrap_or_else(|| panic!("no CI values file {file}"))
}

fn kinds(objects: &[Value]) -> BTreeSet<String> {
    objects.iter().map(|o| kind(o).to_string()).collect()
}

fn pod_spec(s: &Scenario) -> &Value {
    &s.deployment()["spec"]["template"]["spec"]
}

fn operator_container(s: &Scenario) -> &Value {
    let containers = pod_spec(s)["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "{}: one container, the operator", s.label);
    &containers[0]
}

#[test]
fn the_ci_values_files_cover_every_deployment_shape() {
    let found: Vec<String> = chart::ci_values_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for file in CI_FILES {
        assert!(
            found.iter().any(|f| f == file),
            "charts/govcloud/ci/{file} is missing (found {found:?})"
        );
    }
}

#[test]
fn helm_lint_strict_is_clean_for_the_defaults_and_every_ci_values_file() {
    let mut failures = Vec::new();
    for s in scenarios() {
        match chart::lint(&s.files()) {
            Ok(report) => {
                // Infos (an icon is recommended) are advice, not findings: strict fails on
                // warnings and errors, and so does render.py.
                let findings: Vec<&Value> = report["messages"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|m| m["severity"].as_i64().unwrap_or(3) >= 2)
                    .collect();
                if !findings.is_empty() {
                    failures.push(format!("{}: {findings:?}", s.label));
                }
            }
            Err(refusal) => failures.push(format!("{}: {}", s.label, refusal.stderr)),
        }
    }
    assert!(
        failures.is_empty(),
        "helm lint --strict:\n{}",
        failures.join("\n")
    );
}

#[test]
fn what_each_shape_installs() {
    let always = [
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "Deployment",
        "Service",
        "ServiceAccount",
    ];
    let defaults = kinds(&scenarios()[0].objects);
    assert_eq!(
        defaults,
        always.iter().map(|k| k.to_string()).collect(),
        "default values"
    );
    let all = kinds(&scenario("all-features-values.yaml").objects);
    for k in always.iter().chain(&[
        "NetworkPolicy",
        "PodDisruptionBudget",
        "PrometheusRule",
        "Role",
        "RoleBinding",
        "ServiceMonitor",
    ]) {
        assert!(
            all.contains(*k),
            "all-features-values.yaml renders no {k}: {all:?}"
        );
    }
    for s in scenarios() {
        // The operator's role and the department-admin role, whatever the values.
        let roles: Vec<&str> = of_kind(&s.objects, "ClusterRole").into_iter().map(name).collect();
        assert_eq!(roles, [RELEASE, DEPARTMENT_ADMIN], "{}", s.label);
        for o in &s.objects {
            assert!(
                o[TEMPLATE_KEY]
                    .as_str()
                    .is_some_and(|t| t.starts_with("govcloud/templates/")),
                "{}: {} {} carries no template path",
                s.label,
                kind(o),
                name(o)
            );
        }
    }
}

#[test]
fn every_rendered_object_passes_kubernetes_validate_strict() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (i, s) in scenarios().iter().enumerate() {
        let file = dir.path().join(format!("{i}-{}.yaml", s.label.replace(' ', "-")));
        fs::write(&file, chart::template_yaml(&s.files())).unwrap();
        let output = KUBERNETES_VALIDATE.run_ok([
            "--strict".as_ref(),
            "-k".as_ref(),
            "1.33.0".as_ref(),
            file.as_os_str(),
        ]);
        let text = printed(&output);
        // The Prometheus Operator's kinds have no schema here: they may only warn, and
        // every other object must have been checked, not skipped.
        let custom: Vec<&Value> = s
            .objects
            .iter()
            .filter(|o| {
                o["apiVersion"]
                    .as_str()
                    .is_some_and(|v| v.starts_with("monitoring.coreos.com/"))
            })
            .collect();
        let warnings: Vec<&str> = text.lines().filter(|l| l.starts_with("WARN")).collect();
        for w in &warnings {
            assert!(
                w.contains("monitoring.coreos.com/v1"),
                "{}: kubernetes-validate warned about a built-in kind:\n{text}",
                s.label
            );
        }
        assert_eq!(warnings.len(), custom.len(), "{}:\n{text}", s.label);
        let passed = text
            .lines()
            .filter(|l| l.contains(" passed for resource "))
            .count();
        assert_eq!(
            passed,
            s.objects.len() - custom.len(),
            "{}: every built-in object validated:\n{text}",
            s.label
        );
    }
}

#[test]
fn rendered_yaml_passes_yamllint() {
    let config = repo_root().join("tests/chart/yamllint.yaml");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut failures = Vec::new();
    for (i, s) in scenarios().iter().enumerate() {
        let file = dir.path().join(format!("rendered-{i}.yaml"));
        fs::write(&file, chart::template_yaml(&s.files())).unwrap();
        let output = YAMLLINT.run([
            "--strict".as_ref(),
            "-f".as_ref(),
            "parsable".as_ref(),
            "-c".as_ref(),
            config.as_os_str(),
            file.as_os_str(),
        ]);
        if !output.status.success() {
            failures.push(format!("{}:\n{}", s.label, printed(&output)));
        }
    }
    assert!(
        failures.is_empty(),
        "yamllint on the rendered chart:\n{}",
        failures.join("\n")
    );
}

/// Refusal `stderr` must contain every one of `needles`.
fn assert_refused(values: &str, needles: &[&str]) {
    match chart::try_template_with(&[], values) {
        Ok(objects) => panic!(
            "values {values:?} were accepted, rendering {} objects",
            objects.len()
        ),
        Err(refusal) => {
            for needle in needles {
                assert!(
                    refusal.stderr.contains(needle),
                    "values {values:?} refused, but the message does not name {needle:?}:\n{}",
                    refusal.stderr
                );
            }
        }
    }
}

#[test]
fn values_that_break_the_schema_are_refused_naming_the_field() {
    let bad = repo_root().join("tests/chart/bad-values.yaml");
    let refusal = chart::try_template(&[&bad]).expect_err("bad-values.yaml must be refused");
    for needle in [
        "additional properties 'replica' not allowed",
        "/config/usage/source",
        "'metricsApi'",
    ] {
        assert!(
            refusal.stderr.contains(needle),
            "{needle:?} not in:\n{}",
            refusal.stderr
        );
    }
    let lint = chart::lint(&[&bad]).expect_err("helm lint must fail on bad-values.yaml");
    assert!(lint.stderr.contains("'replica'"), "{}", lint.stderr);

    // A misspelt key deep in the operator config, a wrong type and a malformed duration.
    assert_refused(
        "config:\n  leaderElection:\n    leaseDurration: 30s\n",
        &["/config/leaderElection", "'leaseDurration'"],
    );
    assert_refused("replicas: \"2\"\n", &["/replicas"]);
    assert_refused(
        "config:\n  controller:\n    resync: 10 minutes\n",
        &["/config/controller/resync"],
    );
    assert_refused("networkPolicy:\n  enable: true\n", &["'enable'"]);
    // Root is never an option, even where the uid is configurable.
    assert_refused(
        "podSecurityContext:\n  runAsUser: 0\n",
        &["/podSecurityContext/runAsUser"],
    );
}

/// OpenShift's restricted SCC assigns the uid from the namespace's range and refuses a
/// pod that asks for another: with the uid and gid left out the pod stays non-root.
#[test]
fn the_uid_can_be_left_to_the_platform() {
    let objects = chart::try_template_with(
        &[],
        "podSecurityContext:\n  runAsUser: null\n  runAsGroup: null\n",
    )
    .unwrap_or_else(|r| panic!("null uid and gid refused:\n{}", r.stderr));
    let sc = &find(&objects, "Deployment", RELEASE)["spec"]["template"]["spec"]["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert!(
        sc.get("runAsUser").is_none() && sc.get("runAsGroup").is_none(),
        "{sc}"
    );
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
}

#[test]
fn value_combinations_the_operator_cannot_run_with_are_refused() {
    assert_refused(
        "replicas: 2\n",
        &[
            "replicas is 2",
            "config.leaderElection.enabled",
            "every replica would write",
        ],
    );
    assert_refused(
        "config:\n  platformNamespace: elsewhere\n",
        &[
            "config.platformNamespace \"elsewhere\"",
            "release namespace \"govcloud-system\"",
        ],
    );
    assert_refused(
        "config:\n  http:\n    address: 0.0.0.0:0\n",
        &["config.http.address", "1-65535"],
    );
    assert_refused(
        "config:\n  http:\n    address: 127.0.0.1:8080\n",
        &["config.http.address", "loopback"],
    );
    assert_refused(
        "config:\n  usage:\n    source: prometheus\n",
        &["config.usage.prometheus.url is not set"],
    );
    // Two replicas with leader election are fine, and so is naming the release namespace.
    chart::try_template_with(
        &[],
        "replicas: 2\nconfig:\n  platformNamespace: govcloud-system\n  leaderElection:\n    enabled: true\n",
    )
    .unwrap_or_else(|r| panic!("{}", r.stderr));
}

/// The files in `dir`, by name.
fn dir_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn assert_same_files(copy: &str, original: &str, refresh: &str) {
    let root = repo_root();
    let (copies, originals) = (dir_files(&root.join(copy)), dir_files(&root.join(original)));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&copies),
        names(&originals),
        "{copy} must hold exactly the files of {original}; {refresh}"
    );
    for ((name, a), (_, b)) in copies.iter().zip(&originals) {
        assert!(a == b, "{copy}/{name} differs from {original}/{name}; {refresh}");
    }
}

#[test]
fn the_chart_crds_are_identical_to_crds() {
    assert_same_files(
        "charts/govcloud/crds",
        "crds",
        "Helm cannot read files outside the chart: refresh with `cp crds/*.yaml charts/govcloud/crds/`",
    );
}

#[test]
fn the_chart_monitoring_files_are_identical_to_config_monitoring() {
    assert_same_files(
        "charts/govcloud/files",
        "config/monitoring",
        "Helm cannot read files outside the chart: refresh with `cp config/monitoring/* charts/govcloud/files/`",
    );
}

/// The operator config the scenario's ConfigMap holds, written to a file and loaded by
/// the function `govcloud run --config FILE` resolves its config with.
fn rendered_config(s: &Scenario, dir: &Path) -> OperatorConfig {
    let volumes = pod_spec(s)["volumes"].as_array().expect("volumes");
    let mount = operator_container(s)["volumeMounts"]
        .as_array()
        .expect("volumeMounts")
        .iter()
        .find(|m| Path::new(CONFIG_PATH).parent() == Some(Path::new(m["mountPath"].as_str().unwrap())))
        .unwrap_or_else(|| panic!("{}: nothing is mounted at the config's directory", s.label));
    let volume = volumes
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mounted volume");
    let config_map = find(
        &s.objects,
        "ConfigMap",
        volume["configMap"]["name"].as_str().expect("a ConfigMap volume"),
    );
    let key = Path::new(CONFIG_PATH).file_name().unwrap().to_str().unwrap();
    let text = config_map["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("{}: the ConfigMap has no {key}", s.label));
    let file = dir.join(format!("{}.yaml", s.label.replace(' ', "-")));
    fs::write(&file, text).unwrap();
    OperatorConfig::resolve(Some(&file), &ConfigOverrides::default()).unwrap_or_else(|e| {
        panic!(
            "{}: the operator refuses the rendered config:\n{e}\n{text}",
            s.label
        )
    })
}

#[test]
fn the_rendered_config_is_accepted_by_the_operator_and_agrees_with_the_pod() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for s in scenarios() {
        let config = rendered_config(s, dir.path());
        assert_eq!(
            config.platform_namespace, NAMESPACE,
            "{}: platformNamespace is the release namespace",
            s.label
        );
        let container = operator_container(s);
        assert_eq!(
            strings(&container["args"]),
            ["run", "--config", CONFIG_PATH, "--log-json"],
            "{}",
            s.label
        );
        let ports = container["ports"].as_array().expect("ports");
        let http = ports
            .iter()
            .find(|p| p["name"] == "http")
            .expect("a port named http");
        assert_eq!(
            http["containerPort"].as_u64(),
            Some(u64::from(config.http.address.port())),
            "{}: the container port is the one the operator binds",
            s.label
        );
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = &container[probe]["httpGet"];
            assert_eq!(get["path"], path, "{}: {probe}", s.label);
            assert!(
                get["port"] == "http" || get["port"].as_u64() == Some(u64::from(config.http.address.port())),
                "{}: {probe} probes {} rather than the operator's port",
                s.label,
                get["port"]
            );
        }
        let service = find(&s.objects, "Service", &format!("{RELEASE}-metrics"));
        let service_port = &service["spec"]["ports"][0];
        assert!(
            service_port["targetPort"] == "http"
                || service_port["targetPort"].as_u64() == Some(u64::from(config.http.address.port())),
            "{}: the metrics Service targets the operator's port",
            s.label
        );
        let replicas = s.deployment()["spec"]["replicas"].as_u64().unwrap();
        assert!(
            replicas == 1 || config.leader_election.enabled,
            "{}: {replicas} replicas without leader election",
            s.label
        );
    }

    // The chart's defaults are the operator's own, bar the namespace it is installed in.
    let defaults = rendered_config(&scenarios()[0], dir.path());
    let expected = OperatorConfig {
        platform_namespace: NAMESPACE.into(),
        ..OperatorConfig::default()
    };
    assert_eq!(
        defaults, expected,
        "values.yaml `config` has drifted from the operator's defaults"
    );
    assert_eq!(
        rendered_config(scenario("metrics-api-values.yaml"), dir.path())
            .usage
            .source,
        UsageSource::MetricsApi
    );
    let prometheus = rendered_config(scenario("prometheus-values.yaml"), dir.path());
    assert_eq!(prometheus.usage.source, UsageSource::Prometheus);
    assert_eq!(
        prometheus.usage.prometheus.url.as_deref(),
        Some("http://prometheus-operated.monitoring.svc:9090")
    );
}

#[test]
fn a_config_change_rolls_the_pods_and_nothing_else_does() {
    let checksum = |values: &str| {
        let objects = chart::try_template_with(&[], values).unwrap_or_else(|r| panic!("{}", r.stderr));
        find(&objects, "Deployment", RELEASE)["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
            .as_str()
            .expect("a checksum/config annotation")
            .to_string()
    };
    let base = checksum("{}\n");
    assert_ne!(
        base,
        checksum("config:\n  controller:\n    concurrency: 8\n"),
        "a config change"
    );
    assert_eq!(
        base,
        checksum("podLabels:\n  team: platform\n"),
        "a change outside the config"
    );
}

#[test]
fn the_operator_pod_runs_restricted() {
    let chart_yaml: Value =
        serde_saphyr::from_str(&fs::read_to_string(repo_root().join(CHART).join("Chart.yaml")).unwrap())
            .expect("Chart.yaml");
    let app_version = chart_yaml["appVersion"].as_str().expect("appVersion");
    for s in scenarios() {
        let pod = pod_spec(s);
        let label = &s.label;
        let sc = &pod["securityContext"];
        assert_eq!(sc["runAsNonRoot"], true, "{label}");
        assert_eq!(sc["runAsUser"], 65532, "{label}: the image's nonroot user");
        assert_eq!(sc["runAsGroup"], 65532, "{label}");
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{label}");
        for key in ["hostNetwork", "hostPID", "hostIPC"] {
            assert!(pod[key].is_null() || pod[key] == false, "{label}: {key}");
        }
        for volume in pod["volumes"].as_array().into_iter().flatten() {
            assert!(volume["hostPath"].is_null(), "{label}: a hostPath volume");
        }
        assert_eq!(
            pod["automountServiceAccountToken"], true,
            "{label}: the operator needs its token"
        );
        let grace = pod["terminationGracePeriodSeconds"]
            .as_u64()
            .expect("a grace period");
        assert!(
            grace >= 30,
            "{label}: {grace}s is too short for the leader to finish its pass and step down"
        );

        let c = operator_container(s);
        let csc = &c["securityContext"];
        assert_eq!(csc["allowPrivilegeEscalation"], false, "{label}");
        assert_eq!(csc["readOnlyRootFilesystem"], true, "{label}");
        assert!(
            csc["privileged"].is_null() || csc["privileged"] == false,
            "{label}"
        );
        assert_eq!(strings(&csc["capabilities"]["drop"]), ["ALL"], "{label}");
        assert!(
            csc["capabilities"]["add"].is_null(),
            "{label}: capabilities added"
        );
        assert!(
            c["command"].is_null(),
            "{label}: the image's entrypoint is the binary; only args are passed"
        );
        for section in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    !c["resources"][section][resource].is_null(),
                    "{label}: resources.{section}.{resource}"
                );
            }
        }
        let env = c["env"].as_array().expect("env");
        let pod_name = env
            .iter()
            .find(|e| e["name"] == "POD_NAME")
            .expect("POD_NAME is set");
        assert_eq!(
            pod_name["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name",
            "{label}"
        );
        let image = c["image"].as_str().unwrap();
        if s.values.is_none() {
            assert_eq!(image, format!("ghcr.io/govcloud/govcloud:{app_version}"));
        }
        assert!(image.starts_with("ghcr.io/govcloud/govcloud"), "{label}: {image}");
    }
    let pinned = operator_container(scenario("all-features-values.yaml"))["image"]
        .as_str()
        .unwrap();
    assert!(
        pinned.starts_with("ghcr.io/govcloud/govcloud@sha256:"),
        "a digest wins over the tag: {pinned}"
    );
}

#[test]
fn one_replica_is_replaced_before_another_starts_and_two_roll_under_a_budget() {
    let single = &scenarios()[0];
    assert_eq!(
        single.deployment()["spec"]["strategy"]["type"],
        "Recreate",
        "without leader election two pods must never run at once"
    );
    assert!(of_kind(&single.objects, "PodDisruptionBudget").is_empty());
    assert!(
        of_kind(&single.objects, "Role").is_empty(),
        "no Lease access without leader election"
    );

    let ha = scenario("ha-values.yaml");
    let deployment = ha.deployment();
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(deployment["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(
        deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        0
    );
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    let pdb = find(&ha.objects, "PodDisruptionBudget", RELEASE);
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    for (k, v) in pdb["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(&pod_labels[k], v, "the budget selects the operator's pods");
    }
    let anti = &ha.deployment()["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
    assert!(!anti.is_null(), "two replicas prefer different nodes");

    // The Lease's Role, where the Lease is and granting only it: tests/rbac.rs.
}

fn rules_of(o: &Value) -> Vec<&Value> {
    o["rules"]
        .as_array()
        .map(|r| r.iter().collect())
        .unwrap_or_default()
}

/// (group, resource, verb) of every grant of a role that names no object.
fn grants(role: &Value) -> BTreeSet<(String, String, String)> {
    permissions(role)
        .into_iter()
        .map(|p| {
            assert_eq!(p.name, None, "{}: {p} is limited to one object", name(role));
            (p.group, p.resource, p.verb.to_string())
        })
        .collect()
}

#[test]
fn departments_write_their_departmentservices_and_only_read_the_rest() {
    for s in scenarios() {
        let role = find(&s.objects, "ClusterRole", DEPARTMENT_ADMIN);
        let mut expected = BTreeSet::new();
        let mut add = |group: &str, resources: &[&str], verbs: &[&str]| {
            for r in resources {
                for v in verbs {
                    expected.insert((group.to_string(), r.to_string(), v.to_string()));
                }
            }
        };
        let read = ["get", "list", "watch"];
        add(
            "govcloud.io",
            &["departmentservices"],
            &["get", "list", "watch", "create", "update", "patch", "delete"],
        );
        add("govcloud.io", &["departmentservices/status"], &["get"]);
        add(
            "",
            &[
                "configmaps",
                "limitranges",
                "resourcequotas",
                "services",
                "pods",
                "events",
            ],
            &read,
        );
        add("", &["pods/log"], &["get"]);
        add("apps", &["deployments"], &read);
        add("policy", &["poddisruptionbudgets"], &read);
        add("networking.k8s.io", &["networkpolicies"], &read);
        add("rbac.authorization.k8s.io", &["rolebindings"], &read);
        add("events.k8s.io", &["events"], &read);
        assert_eq!(grants(role), expected, "{}: the department-admin role", s.label);
        for (group, resource, verb) in grants(role) {
            if !read.contains(&verb.as_str()) {
                assert_eq!(
                    (group.as_str(), resource.as_str()),
                    ("govcloud.io", "departmentservices"),
                    "{}: departments may {verb} {resource}",
                    s.label
                );
            }
        }
    }
}

#[test]
fn no_rule_anywhere_in_the_chart_uses_a_wildcard() {
    for s in scenarios() {
        for role in s
            .objects
            .iter()
            .filter(|o| matches!(kind(o), "ClusterRole" | "Role"))
        {
            assert!(
                role["aggregationRule"].is_null(),
                "{}: {} aggregates other roles",
                s.label,
                name(role)
            );
            for rule in rules_of(role) {
                assert!(
                    rule["nonResourceURLs"].is_null(),
                    "{}: {}: {rule}",
                    s.label,
                    name(role)
                );
                for field in ["apiGroups", "resources", "verbs", "resourceNames"] {
                    assert!(
                        !strings(&rule[field]).iter().any(|v| v.contains('*')),
                        "{}: {} grants {field} with a wildcard: {rule}",
                        s.label,
                        name(role)
                    );
                }
            }
        }
        for binding in s.objects.iter().filter(|o| kind(o).ends_with("Binding")) {
            let role = binding["roleRef"]["name"].as_str().unwrap();
            assert!(
                !matches!(role, "cluster-admin" | "admin" | "edit"),
                "{}: {} binds the built-in {role}",
                s.label,
                name(binding)
            );
        }
    }
}

#[test]
fn no_chart_object_is_labelled_as_one_the_operator_sweeps() {
    // The operator deletes objects labelled managed-by=govcloud that its plan does not
    // render: the chart's own ConfigMap or Service must never look like one.
    for s in scenarios() {
        for o in &s.objects {
            for labels in [
                &o["metadata"]["labels"],
                &o["spec"]["template"]["metadata"]["labels"],
            ] {
                assert_ne!(
                    labels["app.kubernetes.io/managed-by"],
                    "govcloud",
                    "{}: {} {} would be swept by the operator",
                    s.label,
                    kind(o),
                    name(o)
                );
            }
            assert!(
                !o["metadata"]["labels"]["helm.sh/chart"].is_null(),
                "{}: {} {}",
                s.label,
                kind(o),
                name(o)
            );
        }
    }
}

#[test]
fn the_monitoring_objects_carry_the_repository_files_and_find_the_operator() {
    let s = scenario("all-features-values.yaml");
    let root = repo_root();
    let rules: Value = serde_saphyr::from_str(
        &fs::read_to_string(root.join("config/monitoring/govcloud-rules.yaml")).unwrap(),
    )
    .unwrap();
    let rule = find(&s.objects, "PrometheusRule", RELEASE);
    assert_eq!(
        rule["spec"]["groups"], rules["groups"],
        "the PrometheusRule holds the alert rules as written"
    );
    assert!(
        rule.to_string().contains("{{ $labels.pool }}"),
        "the rules' own templates survive Helm"
    );

    let dashboard: Value = serde_json::from_str(
        &fs::read_to_string(root.join("config/monitoring/govcloud-dashboard.json")).unwrap(),
    )
    .unwrap();
    let cm = find(&s.objects, "ConfigMap", &format!("{RELEASE}-dashboard"));
    assert_eq!(
        cm["metadata"]["labels"]["grafana_dashboard"], "1",
        "the Grafana sidecar's default label"
    );
    assert_eq!(cm["metadata"]["namespace"], "monitoring");
    assert_eq!(cm["metadata"]["annotations"]["grafana_folder"], "govcloud");
    let embedded: Value = serde_json::from_str(cm["data"]["govcloud.json"].as_str().unwrap()).unwrap();
    assert_eq!(embedded, dashboard);
    let relabelled = chart::try_template_with(
        &[],
        "grafanaDashboard:\n  enabled: true\n  label: dashboards\n  labelValue: govcloud\n",
    )
    .unwrap_or_else(|r| panic!("{}", r.stderr));
    let labels = &find(&relabelled, "ConfigMap", &format!("{RELEASE}-dashboard"))["metadata"]["labels"];
    assert_eq!(labels["dashboards"], "govcloud");
    assert!(
        labels["grafana_dashboard"].is_null(),
        "the sidecar label is replaced, not added to"
    );

    // The ServiceMonitor finds the metrics Service, which finds the operator's pods.
    let monitor = find(&s.objects, "ServiceMonitor", RELEASE);
    assert_eq!(monitor["metadata"]["labels"]["release"], "kube-prometheus-stack");
    let service = find(&s.objects, "Service", &format!("{RELEASE}-metrics"));
    for (k, v) in monitor["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(
            &service["metadata"]["labels"][k], v,
            "ServiceMonitor selector {k}"
        );
    }
    assert_eq!(
        strings(&monitor["spec"]["namespaceSelector"]["matchNames"]),
        [NAMESPACE]
    );
    let endpoint = &monitor["spec"]["endpoints"][0];
    assert_eq!(endpoint["path"], "/metrics");
    assert_eq!(endpoint["port"], service["spec"]["ports"][0]["name"]);
    let pod_labels = &s.deployment()["spec"]["template"]["metadata"]["labels"];
    for (k, v) in service["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&pod_labels[k], v, "Service selector {k}");
    }
    assert_eq!(
        service["spec"]["ports"][0]["port"], 9100,
        "the port of config.http.address"
    );
}

fn egress_ports(policy: &Value) -> Vec<BTreeSet<(u64, String)>> {
    policy["spec"]["egress"]
        .as_array()
        .expect("egress rules")
        .iter()
        .map(|rule| {
            rule["ports"]
                .as_array()
                .expect("every egress rule names its ports")
                .iter()
                .map(|p| {
                    (
                        p["port"].as_u64().expect("numeric port"),
                        p["protocol"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .collect()
}

fn tcp(ports: &[u64]) -> BTreeSet<(u64, String)> {
    ports.iter().map(|p| (*p, "TCP".to_string())).collect()
}

#[test]
fn the_network_policy_admits_only_the_listed_sources_and_reaches_only_dns_the_api_and_prometheus() {
    let dns: BTreeSet<(u64, String)> = [(53, "UDP".to_string()), (53, "TCP".to_string())].into();

    // No sources listed: no ingress rule at all (an empty `from` would admit everyone).
    let plain = scenario("prometheus-values.yaml");
    let policy = find(&plain.objects, "NetworkPolicy", RELEASE);
    assert_eq!(strings(&policy["spec"]["policyTypes"]), ["Ingress", "Egress"]);
    assert_eq!(policy["spec"]["ingress"], json!([]));
    assert_eq!(
        egress_ports(policy),
        [dns.clone(), tcp(&[443, 6443]), tcp(&[9090])]
    );
    let pod_labels = &plain.deployment()["spec"]["template"]["metadata"]["labels"];
    for (k, v) in policy["spec"]["podSelector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(&pod_labels[k], v, "the policy selects the operator's pods");
    }

    let all = scenario("all-features-values.yaml");
    let policy = find(&all.objects, "NetworkPolicy", RELEASE);
    let ingress = policy["spec"]["ingress"].as_array().unwrap();
    assert_eq!(ingress.len(), 1);
    assert_eq!(
        ingress[0]["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "monitoring"
    );
    assert_eq!(ingress[0]["ports"], json!([{"port": "http", "protocol": "TCP"}]));
    // https on 9091 in the URL; the API narrowed to one CIDR and port.
    assert_eq!(egress_ports(policy), [dns, tcp(&[6443]), tcp(&[9091])]);
    assert_eq!(
        policy["spec"]["egress"][1]["to"],
        json!([{"ipBlock": {"cidr": "10.0.0.0/24"}}])
    );

    // The metrics API is reached through the API server: no Prometheus rule.
    let metrics_api = chart::try_template_with(
        &[&repo_root().join(CHART).join("ci/metrics-api-values.yaml")],
        "networkPolicy:\n  enabled: true\n",
    )
    .unwrap_or_else(|r| panic!("{}", r.stderr));
    assert_eq!(
        egress_ports(find(&metrics_api, "NetworkPolicy", RELEASE)).len(),
        2
    );
    // A URL without a port: the scheme's.
    let https = chart::try_template_with(
        &[],
        "networkPolicy:\n  enabled: true\nconfig:\n  usage:\n    source: prometheus\n    prometheus:\n      url: https://prometheus.example.org/prometheus\n",
    )
    .unwrap_or_else(|r| panic!("{}", r.stderr));
    assert_eq!(
        egress_ports(find(&https, "NetworkPolicy", RELEASE))[2],
        tcp(&[443])
    );
}
