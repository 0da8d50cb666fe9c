//! The sample files split into documents, kept both as text (what `kubectl apply` and
//! check-jsonschema read) and parsed (what the tests reason about).

use std::fs;
use std::path::PathBuf;

use govcloud::plan::Snapshot;
use serde_json::Value;

use crate::support;

/// One YAML document of a sample file.
#[derive(Debug)]
pub struct Doc {
    /// `file.yaml#n`, counting documents from 1, for messages.
    pub origin: String,
    pub text: String,
    pub value: Value,
}

impl Doc {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }
}

pub fn samples_dir() -> PathBuf {
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
    let has_content = |doc: &String| {
        doc.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    };
    docs.retain(has_content);
    docs
}

/// Every document of every `config/samples/*.yaml`, in file order.
pub fn load_samples() -> Vec<Doc> {
    let files = support::yaml_files(&samples_dir());
    assert!(!files.is_empty(), "no samples in {}", samples_dir().display());
    let mut docs = Vec::new();
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {file}: {e}"));
        // The YAML parser's view of the stream must agree with the textual split that
        // is handed to check-jsonschema, or a document could go unchecked.
        let parsed: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let texts = split_documents(&text);
        let (found, split) = (parsed.len(), texts.len());
        assert_eq!(found, split, "{file}: documents found by the parser and by `---`");
        for (i, (text, value)) in texts.into_iter().zip(parsed).enumerate() {
            let origin = format!("{file}#{}", i + 1);
            docs.push(Doc { origin, text, value });
        }
    }
    docs
}

/// The samples typed as the planner reads them (the offline loader's job, done here
/// with plain serde so that this test depends only on the API types).
pub fn snapshot() -> Snapshot {
    fn typed<T: serde::de::DeserializeOwned>(doc: &Doc) -> T {
        serde_json::from_value(doc.value.clone()).unwrap_or_else(|e| panic!("{}: {e}", doc.origin))
    }
    let mut snapshot = Snapshot::default();
    for doc in load_samples() {
        match doc.kind() {
            "ResourcePool" => snapshot.pools.push(typed(&doc)),
            "Department" => snapshot.departments.push(typed(&doc)),
            "DepartmentService" => snapshot.services.push(typed(&doc)),
            "ServiceOffering" => snapshot.offerings.push(typed(&doc)),
            "PlatformPolicy" => snapshot.policies.push(typed(&doc)),
            other => panic!("{}: unexpected kind {other}", doc.origin),
        }
    }
    snapshot
}
