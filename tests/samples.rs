//! The sample estate in `config/samples/`: every document is valid against its CRD
//! (checked by the real `check-jsonschema`), and the estate has the shape the samples
//! promise — enough pools, departments, services and shared systems to be realistic,
//! room for all of it, and exactly the three refusals it was written to show.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use govcloud::api::{
    Availability, Department, DepartmentService, PlatformPolicy, ResourcePool, ServiceOffering,
};
use govcloud::crds;
use govcloud::quantity::{Res, parse_cpu, parse_memory};
use kube::ResourceExt;
use serde_json::{Value, json};
use support::CHECK_JSONSCHEMA;

/// One YAML document of a sample file, as text (what `kubectl apply` reads) and parsed.
#[derive(Debug)]
struct Doc {
    /// `file.yaml#n`, counting documents from 1, for messages.
    origin: String,
    text: String,
    value: Value,
}

impl Doc {
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }
}

fn samples_dir() -> PathBuf {
    support::repo_root().join("config/samples")
}

/// Splits a file on `---` lines and keeps the documents that hold more than comments.
fn split_documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            let doc = docs.last_mut().expect("never empty");
            doc.push_str(line);
            doc.push('\n');
        }
    }
    docs.retain(|doc| {
        doc.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    docs
}

fn load_samples() -> Vec<Doc> {
    let files = support::yaml_files(&samples_dir());
    assert!(
        !files.is_empty(),
        "no samples in {}",
        samples_dir().display()
    );
    let mut docs = Vec::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {file}: {e}"));
        // The YAML parser's own view of the stream must agree with the textual split,
        // which is what is handed to check-jsonschema.
        let parsed: Vec<Value> =
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let texts = split_documents(&text);
        assert_eq!(
            parsed.len(),
            texts.len(),
            "{file}: documents found by the parser and by `---`"
        );
        for (i, (text, value)) in texts.into_iter().zip(parsed).enumerate() {
            docs.push(Doc {
                origin: format!("{file}#{}", i + 1),
                text,
                value,
            });
        }
    }
    docs
}

/// The CRD's schema, made as strict as `kubectl apply` is against a real API server:
/// kubectl asks for strict field validation, so an unknown (e.g. misspelled) field is an
/// error there, while plain JSON Schema would let it through. Objects that declare their
/// properties therefore forbid others, and the envelope (`apiVersion`, `kind`,
/// `metadata.name`, and `metadata.namespace` for namespaced kinds) is required.
fn strict_schema(crd_schema: &Value, kind: &str, namespaced: bool) -> Value {
    let mut schema = crd_schema.clone();
    close_objects(&mut schema);
    // Kubernetes schemas are OpenAPI 3.0, whose keywords (e.g. a boolean
    // `exclusiveMinimum`) are draft 4's; check-jsonschema otherwise assumes 2020-12.
    schema["$schema"] = json!("http://json-schema.org/draft-04/schema#");
    let mut metadata_required = vec!["name"];
    if namespaced {
        metadata_required.push("namespace");
    }
    let properties = schema["properties"]
        .as_object_mut()
        .expect("a schema with properties");
    properties.insert(
        "apiVersion".into(),
        json!({"enum": ["govcloud.io/v1alpha1"]}),
    );
    properties.insert("kind".into(), json!({"enum": [kind]}));
    properties.insert(
        "metadata".into(),
        json!({
            "type": "object",
            "required": metadata_required,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }),
    );
    let required = schema["required"]
        .as_array_mut()
        .expect("the CRD requires spec");
    required.extend(["apiVersion", "kind", "metadata"].map(Value::from));
    schema
}

fn close_objects(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if obj.contains_key("properties")
        && !obj.contains_key("additionalProperties")
        && !obj.contains_key("x-kubernetes-preserve-unknown-fields")
    {
        obj.insert("additionalProperties".into(), Value::Bool(false));
    }
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        props.values_mut().for_each(close_objects);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub) = obj.get_mut(key) {
            close_objects(sub);
        }
    }
}

/// Writes each CRD's strict schema to `dir`, keyed by kind.
fn write_schemas(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut schemas = BTreeMap::new();
    for (_, crd) in crds::all() {
        let kind = crd.spec.names.kind.clone();
        let version = &crd.spec.versions[0];
        let schema = version
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .expect("a schema");
        let strict = strict_schema(
            &serde_json::to_value(schema).unwrap(),
            &kind,
            crd.spec.scope == "Namespaced",
        );
        let path = dir.join(format!("{kind}.schema.json"));
        fs::write(&path, serde_json::to_string_pretty(&strict).unwrap()).unwrap();
        schemas.insert(kind, path);
    }
    schemas
}

/// Runs check-jsonschema once per kind over that kind's documents, each in its own file
/// (named after its origin, so that a failure points at the sample to fix).
fn check_against_schemas(docs: &[&Doc]) -> Vec<std::process::Output> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let schemas = write_schemas(dir.path());
    let mut by_kind: BTreeMap<&str, Vec<OsString>> = BTreeMap::new();
    for doc in docs {
        let path = dir
            .path()
            .join(format!("{}.yaml", doc.origin.replace('#', "-doc")));
        fs::write(&path, &doc.text).unwrap();
        by_kind
            .entry(doc.kind())
            .or_default()
            .push(path.into_os_string());
    }
    by_kind
        .into_iter()
        .map(|(kind, files)| {
            let schema = schemas
                .get(kind)
                .unwrap_or_else(|| panic!("no CRD for kind {kind:?}"));
            let mut args = vec![OsString::from("--schemafile"), schema.into()];
            args.extend(files);
            CHECK_JSONSCHEMA.run(&args)
        })
        .collect()
}

#[test]
fn every_sample_validates_against_its_crd_schema() {
    let docs = load_samples();
    let kinds: BTreeSet<String> = crds::all()
        .into_iter()
        .map(|(_, crd)| crd.spec.names.kind)
        .collect();
    for doc in &docs {
        assert!(
            kinds.contains(doc.kind()),
            "{}: kind {:?} is not a govcloud kind",
            doc.origin,
            doc.kind()
        );
    }
    let outputs = check_against_schemas(&docs.iter().collect::<Vec<_>>());
    assert_eq!(outputs.len(), kinds.len(), "samples of every kind");
    for output in outputs {
        let printed = support::printed(&output);
        assert!(
            output.status.success(),
            "a sample violates its CRD schema:\n{printed}"
        );
        assert!(printed.contains("ok -- validation done"), "{printed}");
    }
}

#[test]
fn schema_check_rejects_broken_samples() {
    // Proves the check above can fail: an out-of-range level and a misspelled field.
    let broken = [
        (
            "level_5",
            "securityLevel: 5\n  offering:\n    name: shared-postgresql\n",
        ),
        (
            "typo",
            "securityLevel: 2\n  availabilty: High\n  offering:\n    name: shared-postgresql\n",
        ),
    ];
    for (name, spec) in broken {
        let text = format!(
            "apiVersion: govcloud.io/v1alpha1\nkind: DepartmentService\nmetadata:\n  name: {}\n  namespace: dept-x\nspec:\n  {spec}",
            name.replace('_', "-")
        );
        let value: Value = serde_saphyr::from_str(&text).unwrap();
        let doc = Doc {
            origin: name.into(),
            text,
            value,
        };
        let output = check_against_schemas(&[&doc]).remove(0);
        let printed = support::printed(&output);
        // A refusal of the document, not of the schema file (which also exits non-zero).
        let refused = printed.contains("Schema validation errors were encountered");
        assert!(
            !output.status.success() && refused,
            "{name} was not refused:\n{printed}"
        );
    }
}

/// The sample estate, typed as the planner reads it.
#[derive(Debug, Default)]
struct Estate {
    pools: Vec<ResourcePool>,
    departments: Vec<Department>,
    services: Vec<DepartmentService>,
    offerings: Vec<ServiceOffering>,
    policies: Vec<PlatformPolicy>,
}

fn estate() -> Estate {
    fn typed<T: serde::de::DeserializeOwned>(doc: &Doc) -> T {
        serde_json::from_value(doc.value.clone()).unwrap_or_else(|e| panic!("{}: {e}", doc.origin))
    }
    let mut estate = Estate::default();
    for doc in load_samples() {
        match doc.kind() {
            "ResourcePool" => estate.pools.push(typed(&doc)),
            "Department" => estate.departments.push(typed(&doc)),
            "DepartmentService" => estate.services.push(typed(&doc)),
            "ServiceOffering" => estate.offerings.push(typed(&doc)),
            "PlatformPolicy" => estate.policies.push(typed(&doc)),
            other => panic!("{}: unexpected kind {other}", doc.origin),
        }
    }
    estate
}

#[test]
fn sample_estate_has_the_promised_shape() {
    let e = estate();

    assert!(
        e.pools.len() >= 4,
        "at least 4 pools, got {}",
        e.pools.len()
    );
    let levels: BTreeSet<u8> = e.pools.iter().map(|p| p.spec.security_level).collect();
    assert!(
        levels.contains(&2) && levels.contains(&3),
        "pools at levels 2 and 3, got {levels:?}"
    );
    assert_eq!(
        e.pools.iter().filter(|p| p.spec.cordoned).count(),
        1,
        "one cordoned pool"
    );
    for p in &e.pools {
        let s = &p.spec;
        let complete = s.capacity.is_some()
            && s.overcommit.is_some()
            && s.target_utilisation.is_some()
            && s.node_shape.is_some()
            && s.cost.is_some()
            && !s.node_selector.is_empty()
            && !s.maintenance_windows.is_empty();
        assert!(
            complete,
            "pool {} leaves out a field the samples should show",
            p.name_any()
        );
    }

    assert_eq!(e.departments.len(), 6, "six departments");
    for d in &e.departments {
        let s = &d.spec;
        let complete = s.code.is_some() && s.cost_centre.is_some() && !s.owners.is_empty();
        assert!(
            complete,
            "department {} needs code, costCentre and owners",
            d.name_any()
        );
    }
    assert!(
        e.departments.iter().any(|d| !d.spec.pools.is_empty()),
        "a pool allow-list"
    );
    assert!(
        e.departments
            .iter()
            .any(|d| !d.spec.maintenance_windows.is_empty()),
        "department windows"
    );

    assert!(
        e.services.len() >= 30,
        "at least 30 services, got {}",
        e.services.len()
    );
    let namespaces: BTreeSet<String> = e
        .departments
        .iter()
        .map(|d| format!("dept-{}", d.name_any()))
        .collect();
    for s in &e.services {
        let ns = s.namespace().unwrap_or_default();
        assert!(
            namespaces.contains(&ns),
            "service {} in {ns:?}, not a department namespace",
            s.name_any()
        );
    }
    for variant in [
        Availability::Basic,
        Availability::Standard,
        Availability::High,
    ] {
        assert!(
            e.services
                .iter()
                .any(|s| s.spec.workload.is_some() && s.spec.availability == variant)
        );
    }

    assert_eq!(e.offerings.len(), 2, "two offerings");
    for o in &e.offerings {
        let tenants: Vec<_> = e
            .services
            .iter()
            .filter(|s| {
                s.spec
                    .offering
                    .as_ref()
                    .is_some_and(|r| r.name == o.name_any())
            })
            .collect();
        let depts: BTreeSet<_> = tenants.iter().map(|s| s.namespace()).collect();
        let levels: BTreeSet<u8> = tenants.iter().map(|s| s.spec.security_level).collect();
        assert!(
            depts.len() >= 4,
            "offering {} used by many departments, got {}",
            o.name_any(),
            depts.len()
        );
        assert_eq!(
            levels,
            BTreeSet::from([2, 3]),
            "offering {} used at levels 2 and 3",
            o.name_any()
        );
    }

    assert_eq!(e.policies.len(), 1, "one platform policy");
    let p = &e.policies[0].spec;
    let complete = !p.allowed_registries.is_empty()
        && p.forbid_latest_tag
        && p.max_replicas.is_some()
        && p.max_replica_resources.is_some()
        && p.default_resources.is_some()
        && p.limit_ratio.is_some();
    assert!(complete, "the policy shows every standard");
}

fn res(cpu: &str, memory: &str) -> Res {
    Res::new(parse_cpu(cpu).unwrap(), parse_memory(memory).unwrap())
}

/// Why the samples expect a service to be refused, by DESIGN.md's rules 2 and 3 alone.
fn expected_refusal(e: &Estate, s: &DepartmentService, so_far: (Res, u32)) -> Option<&'static str> {
    let dept = e
        .departments
        .iter()
        .find(|d| format!("dept-{}", d.name_any()) == s.namespace().unwrap())
        .unwrap();
    let policy = &e.policies[0].spec;
    if let Some(w) = &s.spec.workload {
        let registry_ok = policy
            .allowed_registries
            .iter()
            .any(|r| w.image.starts_with(r.as_str()));
        let tag = w
            .image
            .rsplit('/')
            .next()
            .unwrap()
            .split_once(':')
            .map(|(_, t)| t);
        let tag_ok = !policy.forbid_latest_tag || !matches!(tag, None | Some("latest"));
        let replicas_ok = w.replicas.unwrap_or(1) <= policy.max_replicas.unwrap_or(i32::MAX);
        let max = policy.max_replica_resources.clone().unwrap_or_default();
        let max = res(
            max.cpu.as_deref().unwrap_or("1k"),
            max.memory.as_deref().unwrap_or("1Ei"),
        );
        let size_ok = per_replica(e, s).fits_within(max);
        if !(registry_ok && tag_ok && replicas_ok && size_ok) {
            return Some("PolicyViolation");
        }
    }
    if s.spec.security_level > dept.spec.security_clearance {
        return Some("ClearanceInsufficient");
    }
    let quota = &dept.spec.quota;
    let (used, count) = so_far;
    if !(used + demand(e, s)).fits_within(res(&quota.cpu, &quota.memory)) || count >= quota.services
    {
        return Some("QuotaExceeded");
    }
    None
}

/// A workload's requests per replica, the policy's defaults filling what it leaves out.
fn per_replica(e: &Estate, s: &DepartmentService) -> Res {
    let defaults = e.policies[0]
        .spec
        .default_resources
        .clone()
        .unwrap_or_default();
    let r = s
        .spec
        .workload
        .as_ref()
        .and_then(|w| w.resources.clone())
        .unwrap_or_default();
    res(
        r.cpu.as_deref().or(defaults.cpu.as_deref()).unwrap(),
        r.memory.as_deref().or(defaults.memory.as_deref()).unwrap(),
    )
}

/// What a service is charged: its replicas' requests, or its share of a shared instance.
fn demand(e: &Estate, s: &DepartmentService) -> Res {
    if let Some(w) = &s.spec.workload {
        let min = if s.spec.availability == Availability::High {
            2
        } else {
            1
        };
        return per_replica(e, s).times(i64::from(w.replicas.unwrap_or(min).max(min)));
    }
    let o = offering_of(e, s);
    instance_demand(o).div_ceil(i64::from(o.spec.tenants_per_instance))
}

fn offering_of<'a>(e: &'a Estate, s: &DepartmentService) -> &'a ServiceOffering {
    let name = &s.spec.offering.as_ref().unwrap().name;
    e.offerings
        .iter()
        .find(|o| &o.name_any() == name)
        .unwrap_or_else(|| panic!("no offering {name}"))
}

fn instance_demand(o: &ServiceOffering) -> Res {
    let i = &o.spec.instance;
    res(&i.resources.cpu, &i.resources.memory).times(i64::from(i.replicas))
}

/// The admitted services, after asserting that exactly the deliberate refusals happen.
fn admitted(e: &Estate) -> Vec<&DepartmentService> {
    let mut services: Vec<&DepartmentService> = e.services.iter().collect();
    // First come, first served: the samples carry no creation times, so namespace/name.
    services.sort_by_key(|s| (s.namespace(), s.name_any()));
    let mut used: BTreeMap<String, (Res, u32)> = BTreeMap::new();
    let mut refused = BTreeMap::new();
    let mut admitted = Vec::new();
    for s in services {
        let ns = s.namespace().unwrap();
        let so_far = used.get(&ns).copied().unwrap_or_default();
        match expected_refusal(e, s, so_far) {
            Some(reason) => {
                refused.insert(format!("{ns}/{}", s.name_any()), reason);
            }
            None => {
                used.insert(ns, (so_far.0 + demand(e, s), so_far.1 + 1));
                admitted.push(s);
            }
        }
    }
    let deliberate = BTreeMap::from([
        (
            "dept-civil-affairs/community-news".to_string(),
            "PolicyViolation",
        ),
        (
            "dept-education/exam-question-bank".to_string(),
            "ClearanceInsufficient",
        ),
        (
            "dept-transport/video-analytics".to_string(),
            "QuotaExceeded",
        ),
    ]);
    assert_eq!(
        refused, deliberate,
        "the samples refuse exactly the deliberate requests"
    );
    admitted
}

#[test]
fn sample_estate_refuses_exactly_the_deliberate_requests() {
    admitted(&estate());
}

#[test]
fn sample_estate_fits_its_pools_below_target_utilisation() {
    // The placement itself is the planner's job (and the golden plan's test); this only
    // keeps the samples honest: at every level, what must run at that level or above
    // fits in the open pools of that level or above, under their target utilisation,
    // so that no sample service is refused for capacity.
    let e = estate();
    let admitted = admitted(&e);
    let mut need_by_level: BTreeMap<u8, Res> = BTreeMap::new();
    let mut tenants: BTreeMap<(String, u8), u32> = BTreeMap::new();
    for s in &admitted {
        match &s.spec.offering {
            Some(r) => {
                *tenants
                    .entry((r.name.clone(), s.spec.security_level))
                    .or_default() += 1
            }
            None => *need_by_level.entry(s.spec.security_level).or_default() += demand(&e, s),
        }
    }
    for ((offering, level), count) in tenants {
        let o = e
            .offerings
            .iter()
            .find(|o| o.name_any() == offering)
            .unwrap();
        let instances = i64::from(count.div_ceil(o.spec.tenants_per_instance));
        *need_by_level.entry(level).or_default() += instance_demand(o).times(instances);
    }
    for level in 1..=4u8 {
        let need = need_by_level
            .range(level..)
            .fold(Res::ZERO, |acc, (_, r)| acc + *r);
        let room = e
            .pools
            .iter()
            .filter(|p| !p.spec.cordoned && p.spec.security_level >= level)
            .map(|p| {
                let cap = p.spec.capacity.as_ref().unwrap();
                let over = p.spec.overcommit.clone().unwrap_or_default();
                let target = p.spec.target_utilisation.unwrap_or(0.8);
                res(&cap.cpu, &cap.memory).scale(over.cpu * target, over.memory * target)
            })
            .fold(Res::ZERO, |acc, r| acc + r);
        assert!(
            need.fits_within(room),
            "level ≥ {level}: demand {need} exceeds room {room}"
        );
    }
}
