//! Any string as a CPU and a memory quantity: never a panic, never a negative amount,
//! and what is accepted prints canonically and reads back to the same amount.
#![no_main]

use govcloud::quantity::{canonical_cpu, canonical_memory, parse_cpu, parse_memory};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(millis) = parse_cpu(text) {
        assert!(millis >= 0, "{text:?} read as {millis}m");
        assert_eq!(parse_cpu(&canonical_cpu(millis)), Ok(millis), "{text:?}");
    }
    if let Ok(bytes) = parse_memory(text) {
        assert!(bytes >= 0, "{text:?} read as {bytes} bytes");
        assert_eq!(parse_memory(&canonical_memory(bytes)), Ok(bytes), "{text:?}");
    }
});
