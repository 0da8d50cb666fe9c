//! Loader throughput on large exports: a `kubectl get -o yaml`-like `kind: List` of the
//! synthetic estate, and the same objects as `---`-separated documents.
//!
//! Target (release): ≥ 20 MB/s with peak memory ≤ 3× the input (the memory part is
//! measured on the binary, see `GOVCLOUD_LOAD_BENCH_DUMP` below and the loader's docs).
//!
//! `GOVCLOUD_LOAD_BENCH_MB` sets the size of each input (default 10).
//! `GOVCLOUD_LOAD_BENCH_DUMP=DIR` writes both inputs and exits without benchmarking: the
//! documents in files of 5 MB to DIR/documents, the List to DIR/list. They are the input of
//! the peak-memory measurement (`/usr/bin/time -v govcloud plan DIR/documents`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput};
use govcloud::load::load_paths;
use govcloud::synthetic::{self, EstateShape, Rng, estate};
use serde_json::{Value, json};

const SEED: u64 = 20_261_127;

/// The estate's objects as kubectl prints them: with uid, resourceVersion and the
/// last-applied annotation (a JSON copy of the object, often half of an export's bytes).
fn objects(services: usize) -> Vec<Value> {
    let shape = EstateShape {
        services,
        departments: services.div_ceil(20).max(1),
        ..EstateShape::BENCHMARK
    };
    let s = estate(SEED, shape);
    let mut rng = Rng::new(SEED);
    let mut all: Vec<Value> = Vec::new();
    for mut value in synthetic::as_json(&s) {
        let applied = value.to_string();
        let metadata = value["metadata"].as_object_mut().expect("objects have metadata");
        let (a, b) = (rng.next_u64(), rng.next_u64());
        let uid = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        );
        metadata.insert("uid".into(), json!(uid));
        metadata.insert("resourceVersion".into(), json!(rng.below(1 << 30).to_string()));
        metadata.insert("generation".into(), json!(1));
        metadata.insert(
            "annotations".into(),
            json!({"kubectl.kubernetes.io/last-applied-configuration": applied}),
        );
        all.push(value);
    }
    all
}

/// `---`-separated documents, about `bytes` of them, cut into files of at most `per_file`.
fn documents(bytes: usize, per_file: usize) -> Vec<String> {
    let mut services = 1_000;
    loop {
        let mut files = vec![String::new()];
        let mut total = 0;
        for object in objects(services) {
            let doc = format!(
                "---\n{}",
                serde_saphyr::to_string(&object).expect("JSON values serialise")
            );
            if files
                .last()
                .is_some_and(|f| !f.is_empty() && f.len() + doc.len() > per_file)
            {
                files.push(String::new());
            }
            files.last_mut().expect("never empty").push_str(&doc);
            total += doc.len();
            if total >= bytes {
                return files;
            }
        }
        services *= 2;
    }
}

/// One `kind: List` of at least `bytes`, as `kubectl get … -o yaml` prints it.
fn list(bytes: usize) -> String {
    let mut services = 1_000;
    loop {
        let items = objects(services);
        let text = serde_saphyr::to_string(&json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {"resourceVersion": ""},
            "items": items,
        }))
        .expect("JSON values serialise");
        if text.len() >= bytes {
            return text;
        }
        services *= 2;
    }
}

fn write_all(dir: &Path, texts: &[String]) -> Vec<PathBuf> {
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.join(format!("estate-{i:04}.yaml"));
            std::fs::write(&path, text).expect("writing the bench input");
            path
        })
        .collect()
}

fn megabytes() -> usize {
    std::env::var("GOVCLOUD_LOAD_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

fn bench(c: &mut Criterion, name: &str, paths: &[PathBuf], bytes: usize) {
    let loaded = load_paths(paths).expect("the bench estate loads");
    assert!(!loaded.snapshot.services.is_empty());
    let mut group = c.benchmark_group("load");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function(name, |b| b.iter(|| load_paths(paths).expect("loads")));
    group.finish();
}

fn main() {
    let bytes = megabytes() << 20;
    if let Some(dir) = std::env::var_os("GOVCLOUD_LOAD_BENCH_DUMP") {
        let dir = PathBuf::from(dir);
        let files = write_all(&subdir(&dir, "documents"), &documents(bytes, 5 << 20));
        write_all(&subdir(&dir, "list"), &[list(bytes)]);
        let dir = dir.display();
        println!(
            "wrote {} files to {dir}/documents, one to {dir}/list",
            files.len()
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut c = Criterion::default().configure_from_args();

    let docs = documents(bytes, usize::MAX);
    let docs_bytes = docs.iter().map(String::len).sum();
    let docs_paths = write_all(&subdir(dir.path(), "docs"), &docs);
    bench(&mut c, "documents", &docs_paths, docs_bytes);

    let list = list(bytes);
    let list_paths = write_all(&subdir(dir.path(), "list"), std::slice::from_ref(&list));
    bench(&mut c, "kubectl_list", &list_paths, list.len());

    c.final_summary();
}

fn subdir(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).expect("creating a bench directory");
    path
}
