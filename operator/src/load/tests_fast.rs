//! The fast path (`fast.rs`) must read every document it answers for exactly as the full
//! deserializer does.

use std::path::Path;

use proptest::prelude::*;

use super::documents;

/// Checks every document of `text`; returns how many the fast path answered for.
fn agree(text: &str) -> usize {
    let mut answered = 0;
    for doc in documents::split(text) {
        let (fast, full) = doc.both_readings();
        if let Some(fast) = fast {
            answered += 1;
            assert_eq!(Ok(&fast), full.as_ref(), "document {} of:\n{text}", doc.number);
        }
    }
    answered
}

fn yaml_files(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn the_samples_and_crds_read_the_same() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut texts = Vec::new();
    for dir in ["config/samples", "crds"] {
        yaml_files(&root.join(dir), &mut texts);
    }
    assert!(texts.len() > 5);
    let answered: usize = texts.iter().map(|t| agree(t)).sum();
    assert!(answered > 5, "the fast path read only {answered} documents");
}

/// A small synthetic estate's objects as kubectl shows them, with a uid.
fn estate_values() -> Vec<serde_json::Value> {
    let estate = crate::synthetic::estate(
        7,
        crate::synthetic::EstateShape {
            services: 200,
            departments: 20,
            pools: 5,
            offerings: 10,
            ..crate::synthetic::EstateShape::BENCHMARK
        },
    );
    crate::synthetic::as_json(&estate)
        .into_iter()
        .map(|mut value| {
            let applied = value.to_string();
            let metadata = &mut value["metadata"];
            metadata["uid"] = "0d5c7e4e-8f9a-4b6f-9a0e-2b1c3d4e5f60".into();
            metadata["resourceVersion"] = "680071256".into();
            metadata["generation"] = 1.into();
            metadata["annotations"] =
                serde_json::json!({"kubectl.kubernetes.io/last-applied-configuration": applied});
            value
        })
        .collect()
}

/// The values as `---`-separated YAML documents.
fn documents(values: &[serde_json::Value]) -> String {
    values
        .iter()
        .map(|v| format!("---\n{}", serde_saphyr::to_string(v).unwrap()))
        .collect()
}

#[test]
fn a_serialised_estate_is_read_by_the_fast_path_and_the_same() {
    let values = estate_values();
    assert_eq!(agree(&documents(&values)), values.len());
}

#[test]
fn a_kubectl_list_is_read_by_the_fast_path_and_the_same() {
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": estate_values(),
    });
    assert_eq!(agree(&serde_saphyr::to_string(&list).unwrap()), 1);
}

/// Spellings where YAML's readings differ: numbers, booleans, nulls, and near misses.
const SCALARS: &[&str] = &[
    "0",
    "7",
    "-7",
    "+7",
    "007",
    "-0",
    "0.5",
    "-0.5",
    "1.",
    ".5",
    "1e3",
    "1E3",
    "1.5e-3",
    "0x1F",
    "0X1F",
    "0o17",
    "0O17",
    "0b101",
    "1_000",
    "12:30",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    ".inf",
    "-.inf",
    "+.inf",
    ".nan",
    "-.nan",
    ".NaN",
    "inf",
    "nan",
    "Infinity",
    "true",
    "True",
    "TRUE",
    "false",
    "yes",
    "Yes",
    "no",
    "NO",
    "on",
    "Off",
    "y",
    "n",
    "Y",
    "null",
    "Null",
    "NULL",
    "~",
    "",
    "500m",
    "64Gi",
    "100Ki",
    "4Ei",
    "1e",
    "e1",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "10.0.0.1",
    "v1.2",
    "a b",
    "1 2",
    "-",
    "--",
    "-a",
    "~a",
    "/usr/bin",
    "_x",
    "'quoted'",
    "\"7\"",
    "\"true\"",
    "'~'",
    "|\n  block\n",
    ">\n  folded\n",
    "<<",
    "1.0",
    "0.05",
    "3829185m",
    "1.7976931348623157e308",
    "1e999",
    "0.1000000000000000055511151231257827",
    "0d5c7e4e-8f9a-4b6f-9a0e-2b1c3d4e5f60",
    "0e5",
    "0e5c",
    "1a",
    "-a",
    "-inf",
    "+Infinity",
    "-0x1F",
    "1.2.3",
    "1-2",
    "9e9e9",
    "12e",
    "12e+",
    "0000000000000000053240248489032e",
    "1e+5",
    "1_0.5e-0_1",
    "0bf58a05-27e3-4d5a-a7f3-07cc72f0113e",
    "0x1g",
    "0b102",
    "0o19",
    "0b_1",
    "0x",
];

#[test]
fn tricky_scalars_read_the_same_as_values_keys_and_items() {
    for s in SCALARS {
        agree(&format!("a: {s}\n"));
        agree(&format!("- {s}\n"));
        agree(&format!("{{a: {s}, b: [{s}]}}\n"));
        if !s.contains('\n') {
            agree(&format!("{s}: v\nother: 1\n"));
        }
    }
}

#[test]
fn anchors_tags_merges_and_duplicates_are_left_to_the_full_deserializer() {
    for text in [
        "a: &x 1\nb: *x\n",
        "a: !!str 7\n",
        "base: &b {x: 1}\nderived:\n  <<: *b\n",
        "a: 1\na: 2\n",
        "? [complex]\n: key\n",
        "a: 1\n...\nb: 2\n",
    ] {
        let doc = &documents::split(text)[0];
        assert_eq!(doc.both_readings().0, None, "{text}");
    }
}

proptest! {
    #[test]
    fn random_plain_scalars_read_the_same(s in "[-+.0-9a-fA-FinxXoObB_:~ ]{0,12}") {
        agree(&format!("a: {s}\nb: [{s}]\n"));
    }

    /// One item the fast path gives up on sends a whole List to the full deserializer,
    /// so every uid must be plainly a string to it.
    #[test]
    fn uids_are_read_by_the_fast_path(
        uid in "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    ) {
        prop_assert_eq!(agree(&format!("metadata: {{uid: {uid}}}\n")), 1);
    }

    #[test]
    fn random_flat_documents_read_the_same(
        entries in proptest::collection::vec(("[a-z]{1,6}", "[-+.0-9a-fA-Fx_eEnN]{0,8}"), 0..8)
    ) {
        let text: String = entries.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
        agree(&text);
    }
}

#[test]
fn an_estate_plans_the_same_from_a_list_as_from_documents() {
    let values = estate_values();
    // kubectl's order: `kind` after `items`, so the items are staged before it is known.
    let list = format!(
        "apiVersion: v1\n{}kind: List\nmetadata: {{resourceVersion: ''}}\n",
        serde_saphyr::to_string(&serde_json::json!({ "items": values })).unwrap()
    );
    let planned = |text: &str| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("estate.yaml");
        std::fs::write(&path, text).unwrap();
        let loaded = super::load_paths(&[path]).unwrap();
        assert_eq!(loaded.snapshot.services.len(), 200);
        let assignments = crate::plan::Assignments::from_status(&loaded.snapshot);
        serde_json::to_string(&crate::plan::plan(&loaded.snapshot, &assignments)).unwrap()
    };
    assert_eq!(planned(&list), planned(&documents(&values)));
}
