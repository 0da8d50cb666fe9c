//! Any text as a server inventory (govcloud CSV, RVTools vInfo, Azure Migrate), then
//! assessed: never a panic; an accepted inventory has positive sizes and utilisation
//! ratios in [0, 1], and the assessment accounts for every server it read.
#![no_main]

use govcloud::assess::{Mapping, assess, inventory};
use govcloud::plan::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let servers = match inventory::parse("fuzz.csv", text) {
        Ok(servers) => servers,
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without saying why");
            return;
        }
    };
    for s in &servers {
        assert!(s.cpu_millis > 0 && s.memory_bytes > 0, "{}: {s:?}", s.name);
        for m in [s.cpu_utilisation, s.memory_utilisation].into_iter().flatten() {
            assert!((0.0..=1.0).contains(&m.ratio), "{}: utilisation {}", s.name, m.ratio);
        }
    }
    if let Ok((a, _)) = assess(&servers, &Mapping::default(), &Snapshot::default(), 0.3) {
        assert_eq!(a.servers.len(), servers.len(), "a row per server read");
        assert!(a.before.servers <= servers.len() as i64);
    }
});
