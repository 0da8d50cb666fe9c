//! Any bytes as a manifest file: the loader never panics, and what it loads plans
//! without panicking and keeps the planner's promises.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use govcloud::load::load_paths;
use govcloud::plan::{Assignments, invariants, plan};
use libfuzzer_sys::fuzz_target;

/// One file per fuzzing process, rewritten for each input: the loader reads files.
fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("govcloud-fuzz-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        dir.join("input.yaml")
    })
}

fuzz_target!(|bytes: &[u8]| {
    let path = file();
    std::fs::write(path, bytes).expect("the input written");
    match load_paths(std::slice::from_ref(path)) {
        Ok(loaded) => {
            let p = plan(&loaded.snapshot, &Assignments::from_status(&loaded.snapshot));
            if let Err(broken) = invariants::check(&loaded.snapshot, &p) {
                panic!("{broken}");
            }
        }
        Err(errors) => assert!(!errors.to_string().is_empty(), "refused without saying why"),
    }
});
