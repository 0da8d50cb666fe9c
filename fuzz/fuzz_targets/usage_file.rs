//! Any text as a usage file (govcloud JSON, PodMetricsList or CSV): never a panic, and
//! an accepted sample has no negative usage and each pod once.
#![no_main]

use govcloud::report::parse_usage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match parse_usage(text) {
        Ok(sample) => {
            for p in &sample.pods {
                assert!(
                    p.used.cpu_millis >= 0 && p.used.memory_bytes >= 0,
                    "{}/{} uses {:?}",
                    p.namespace,
                    p.pod,
                    p.used
                );
            }
            let mut keys: Vec<_> = sample.pods.iter().map(|p| (&p.namespace, &p.pod)).collect();
            let n = keys.len();
            keys.dedup();
            assert_eq!(keys.len(), n, "a pod listed twice in the sample");
        }
        Err(errors) => assert!(!errors.is_empty(), "refused without saying why"),
    }
});
