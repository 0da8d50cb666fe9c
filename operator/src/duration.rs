//! Durations as people write them (`500ms`, `2s`, `10m`, `1h30m`): the operator config's
//! timings and the length of a maintenance window, read by one parser.
//!
//! Controller timings need zero and milliseconds (`debounce: 0s` turns debouncing off,
//! `retryPeriod: 500ms` is common); a window's length is whole seconds and never zero, as
//! the CRD's pattern (`h`, `m`, `s`) says ([`window_seconds`]).

use std::fmt;
use std::time::Duration;

/// Units in the order they must appear, each at most once: `1h30m`, not `30m1h` or `1m1m`.
const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

/// What a duration must look like, for error messages.
pub const EXPECTED: &str = "a duration such as 500ms, 2s, 10m or 1h30m";

/// `1h30m` → 90 minutes; `None` for anything that is not digits-and-unit groups.
pub fn parse(text: &str) -> Option<Duration> {
    let mut rest = text;
    let mut next_unit = 0;
    let mut millis = 0u64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let (number, after) = rest.split_at(digits);
        let letters = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(letters);
        let position = UNITS[next_unit..].iter().position(|(u, _)| *u == unit)? + next_unit;
        let scale = UNITS[position].1;
        millis = millis.checked_add(number.parse::<u64>().ok()?.checked_mul(scale)?)?;
        next_unit = position + 1;
        rest = after;
    }
    Some(Duration::from_millis(millis))
}

/// The shortest text `parse` reads back as `d` (to the millisecond): `5400s` → `1h30m`.
pub fn format(d: Duration) -> String {
    let mut millis = d.as_millis();
    if millis == 0 {
        return "0s".into();
    }
    let mut text = String::new();
    for (unit, scale) in UNITS {
        let scale = u128::from(scale);
        if millis >= scale {
            text.push_str(&format!("{}{unit}", millis / scale));
            millis %= scale;
        }
    }
    text
}

/// A maintenance window's length in seconds: hours, minutes and seconds only, not zero.
pub fn window_seconds(text: &str) -> Option<u64> {
    if text.ends_with("ms") {
        return None;
    }
    let d = parse(text)?;
    (!d.is_zero()).then_some(d.as_secs())
}

/// A displayable duration for messages: `15s`, not `Duration { secs: 15, nanos: 0 }`.
#[derive(Debug)]
pub struct Shown(pub Duration);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_unit_in_order() {
        assert_eq!(parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("90m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse("1s500ms"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("0s"), Some(Duration::ZERO));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for bad in [
            "",
            "5",
            "s",
            "1x",
            "30m1h",
            "1m1m",
            "1.5s",
            "-1s",
            "1 s",
            "1sms",
            "99999999999999999999h",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_back_to_the_same_duration() {
        for text in ["0s", "500ms", "2s", "10m", "1h30m", "1h0m1s", "1s1ms"] {
            let d = parse(text).unwrap();
            assert_eq!(parse(&format(d)), Some(d), "{text}");
        }
        assert_eq!(format(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format(Duration::from_millis(1500)), "1s500ms");
    }

    #[test]
    fn a_window_is_whole_seconds_and_never_zero() {
        assert_eq!(window_seconds("1h30m"), Some(5400));
        assert_eq!(window_seconds("90m"), Some(5400));
        assert_eq!(window_seconds("45s"), Some(45));
        for bad in [
            "", "0m", "0s", "30", "m", "1m1h", "1h1h", "500ms", "2000ms", "1s500ms",
        ] {
            assert_eq!(window_seconds(bad), None, "{bad}");
        }
    }
}
