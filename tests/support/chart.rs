//! Rendering and linting the Helm chart `charts/govcloud` with real Helm, through
//! `tests/chart/render.py` (Helm v4 embedded by the PyPI package `helm-python-sdk`).
//!
//! `template` returns the rendered objects as JSON, each with the key `"__template"`
//! added: the template it came from (`govcloud/templates/deployment.yaml`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use govcloud::rbac::Permission;
use serde_json::Value;

use super::{Tool, repo_root};

pub const CHART: &str = "charts/govcloud";
/// The release name and namespace of the README's install command.
pub const RELEASE: &str = "govcloud";
pub const NAMESPACE: &str = "govcloud-system";
/// The key render.py adds to every object: the template that produced it.
pub const TEMPLATE_KEY: &str = "__template";

pub const YAMLLINT: Tool = Tool {
    program: "yamllint",
    install: "pip install yamllint",
};

const INSTALL: &str =
    "pip install helm-python-sdk pyyaml (or run `.ci/run`, which installs every tool the tests need)";

/// What Helm refused, with everything it printed.
#[derive(Debug)]
pub struct Refusal {
    pub stderr: String,
}

fn render_py(args: &[&str]) -> Output {
    super::run_python("tests/chart/render.py", args, INSTALL)
}

fn values_args(values: &[&Path]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| ["--values".to_string(), v.display().to_string()])
        .collect()
}

fn run(command: &str, values: &[&Path], extra: &[&str]) -> Result<String, Refusal> {
    let mut args: Vec<String> = vec![command.into(), CHART.into()];
    args.extend(values_args(values));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = render_py(&args);
    if output.status.success() {
        Ok(String::from_utf8(output.stdout).expect("render.py prints UTF-8"))
    } else {
        Err(Refusal {
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }
}

/// `helm template` into the README's release and namespace: the rendered objects.
pub fn try_template(values: &[&Path]) -> Result<Vec<Value>, Refusal> {
    try_template_in(values, NAMESPACE)
}

/// `helm template` with the release installed into `namespace`.
pub fn try_template_in(values: &[&Path], namespace: &str) -> Result<Vec<Value>, Refusal> {
    let json = run("template", values, &["--name", RELEASE, "--namespace", namespace])?;
    Ok(serde_json::from_str(&json).expect("render.py prints a JSON array"))
}

/// The rendered objects; fails the test with Helm's message if the chart refuses.
pub fn template(values: &[&Path]) -> Vec<Value> {
    try_template(values).unwrap_or_else(|r| panic!("helm template {values:?} failed:\n{}", r.stderr))
}

/// `helm template` output as text, as Helm prints it (for yamllint).
pub fn template_yaml(values: &[&Path]) -> String {
    run(
        "template",
        values,
        &["--name", RELEASE, "--namespace", NAMESPACE, "--output", "yaml"],
    )
    .unwrap_or_else(|r| panic!("helm template {values:?} failed:\n{}", r.stderr))
}

/// Renders with `yaml` as an extra values file after `values`.
pub fn try_template_with(values: &[&Path], yaml: &str) -> Result<Vec<Value>, Refusal> {
    let file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("a temporary values file");
    std::fs::write(file.path(), yaml).expect("writing the values file");
    let mut all = values.to_vec();
    all.push(file.path());
    try_template(&all)
}

/// `helm lint --strict`: Ok with the report when nothing is a warning or an error.
pub fn lint(values: &[&Path]) -> Result<Value, Refusal> {
    let json = run("lint", values, &[])?;
    Ok(serde_json::from_str(&json).expect("render.py prints a JSON report"))
}

/// `charts/govcloud/ci/*-values.yaml`, sorted.
pub fn ci_values_files() -> Vec<PathBuf> {
    let dir = repo_root().join(CHART).join("ci");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with("-values.yaml"))
        })
        .collect();
    files.sort();
    files
}

pub fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or_default()
}

pub fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or_default()
}

/// The objects of `kind`.
pub fn of_kind<'a>(objects: &'a [Value], wanted: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| kind(o) == wanted).collect()
}

/// The one object of `kind` named `name`; fails the test if there is not exactly one.
pub fn find<'a>(objects: &'a [Value], wanted: &str, wanted_name: &str) -> &'a Value {
    let found: Vec<&Value> = objects
        .iter()
        .filter(|o| kind(o) == wanted && name(o) == wanted_name)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {wanted} {wanted_name}, found {}; rendered: {:?}",
        found.len(),
        objects
            .iter()
            .map(|o| format!("{} {}", kind(o), name(o)))
            .collect::<Vec<_>>()
    );
    found[0]
}

/// The rendered object without render.py's template key, as Kubernetes would see it.
pub fn strip(o: &Value) -> Value {
    let mut o = o.clone();
    if let Some(map) = o.as_object_mut() {
        map.remove(TEMPLATE_KEY);
    }
    o
}

/// The strings of a JSON array (empty when it is not one).
pub fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A Role's or ClusterRole's rules as single permissions: apiGroups × resources × verbs
/// × resourceNames. A verb outside the Kubernetes set (a wildcard among them) and a
/// non-resource URL are kept, under their own spelling, so that a comparison with what
/// is needed shows them as more.
pub fn permissions(role: &Value) -> BTreeSet<Permission> {
    const VERBS: [&str; 9] = [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
        "bind",
    ];
    let mut set = BTreeSet::new();
    for rule in role["rules"].as_array().into_iter().flatten() {
        for url in strings(&rule["nonResourceURLs"]) {
            set.insert(Permission {
                group: "(non-resource URL)".into(),
                resource: url.into(),
                verb: "any",
                name: None,
            });
        }
        let names: Vec<Option<String>> = match strings(&rule["resourceNames"]) {
            n if n.is_empty() => vec![None],
            n => n.into_iter().map(|n| Some(n.to_string())).collect(),
        };
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                for verb in strings(&rule["verbs"]) {
                    let verb = VERBS
                        .iter()
                        .find(|v| **v == verb)
                        .copied()
                        .unwrap_or("unknown verb");
                    for name in &names {
                        set.insert(Permission {
                            group: group.into(),
                            resource: resource.into(),
                            verb,
                            name: name.clone(),
                        });
                    }
                }
            }
        }
    }
    set
}
