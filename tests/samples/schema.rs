//! Validation of sample documents against the CRD schemas with the real check-jsonschema.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use govcloud::crds;
use serde_json::{Value, json};

use super::documents::Doc;
use crate::support::CHECK_JSONSCHEMA;

/// The CRD's schema, made as strict as `kubectl apply` is against a real API server.
///
/// kubectl asks for strict field validation, so an unknown (e.g. misspelled) field is an
/// error there, while plain JSON Schema lets it through: objects that declare their
/// properties therefore forbid others. The envelope the CRD schema leaves to the API
/// server (`apiVersion`, `kind`, `metadata.name`, and `metadata.namespace` for
/// namespaced kinds, which samples must state) is required too.
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
    let dns_label = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    let envelope = json!({
        "apiVersion": {"enum": ["govcloud.io/v1alpha1"]},
        "kind": {"enum": [kind]},
        "metadata": {
            "type": "object",
            "required": metadata_required,
            "properties": {
                "name": {"type": "string", "pattern": dns_label, "maxLength": 63},
                "namespace": {"type": "string", "pattern": dns_label, "maxLength": 63},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    });
    let properties = schema["properties"]
        .as_object_mut()
        .expect("a schema with properties");
    properties.extend(envelope.as_object().unwrap().clone());
    let required = schema["required"].as_array_mut().expect("the CRD requires spec");
    required.extend(["apiVersion", "kind", "metadata"].map(Value::from));
    schema
}

fn close_objects(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let open =
        obj.contains_key("additionalProperties") || obj.contains_key("x-kubernetes-preserve-unknown-fields");
    if obj.contains_key("properties") && !open {
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

/// Writes each CRD's `spec.versions[0].schema.openAPIV3Schema`, made strict, to `dir`.
fn write_schemas(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut schemas = BTreeMap::new();
    for (_, crd) in crds::all() {
        let kind = crd.spec.names.kind.clone();
        let version = &crd.spec.versions[0];
        let schema = version
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref());
        let schema = serde_json::to_value(schema.expect("a schema")).unwrap();
        let strict = strict_schema(&schema, &kind, crd.spec.scope == "Namespaced");
        let path = dir.join(format!("{kind}.schema.json"));
        fs::write(&path, serde_json::to_string_pretty(&strict).unwrap()).unwrap();
        schemas.insert(kind, path);
    }
    schemas
}

/// Runs check-jsonschema once per kind over that kind's documents, each in its own file
/// named after its origin, so that a failure points at the sample to fix.
pub fn check_against_schemas(docs: &[&Doc]) -> Vec<Output> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let schemas = write_schemas(dir.path());
    let mut by_kind: BTreeMap<&str, Vec<OsString>> = BTreeMap::new();
    for doc in docs {
        let path = dir
            .path()
            .join(format!("{}.yaml", doc.origin.replace('#', "-doc")));
        fs::write(&path, &doc.text).unwrap();
        by_kind.entry(doc.kind()).or_default().push(path.into_os_string());
    }
    let run = |(kind, files): (&str, Vec<OsString>)| {
        let schema = schemas
            .get(kind)
            .unwrap_or_else(|| panic!("no CRD for kind {kind:?}"));
        let mut args = vec![OsString::from("--schemafile"), schema.into()];
        args.extend(files);
        CHECK_JSONSCHEMA.run(&args)
    };
    by_kind.into_iter().map(run).collect()
}
