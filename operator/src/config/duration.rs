//! Durations as operators write them (`500ms`, `2s`, `10m`, `1h30m`), in and out of YAML.
//!
//! `plan::parse_duration_seconds` reads maintenance-window lengths, where zero and
//! sub-second values are meaningless; controller timings need both (`debounce: 0s`
//! turns debouncing off, `retryPeriod: 500ms` is common), so this accepts `ms` and zero.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};

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

/// `#[serde(with = "duration")]` for `std::time::Duration` fields.
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    format(*d).serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_str(DurationVisitor)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
        parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
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
}
