//! Amounts as people read them: cores with up to two decimals, memory in Gi/Mi/Ki,
//! ratios as whole percentages.
//!
//! One implementation for `govcloud plan --output table` and for the auditors' report,
//! so that the two read the same figure the same way.

const KI: i64 = 1 << 10;
const MI: i64 = 1 << 20;
const GI: i64 = 1 << 30;

/// `value / unit` rounded half up to two decimals, trailing zeros dropped (`1.5`, `2`, `0.25`).
fn two_decimals(value: i64, unit: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let hundredths = (i128::from(value).abs() * 100 + i128::from(unit) / 2) / i128::from(unit);
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    match frac {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// Millicores as cores: `1.5`, `2`, `0.25`.
pub(crate) fn cores(millis: i64) -> String {
    two_decimals(millis, 1000)
}

/// Cores given as a float (quotas in the plan schema).
pub(crate) fn cores_f64(cores: f64) -> String {
    self::cores((cores * 1000.0).round() as i64)
}

/// Bytes in the largest binary unit below them: `64Gi`, `1.5Gi`, `512Mi`.
pub(crate) fn memory(bytes: i64) -> String {
    let unit = match bytes.abs() {
        0 => return "0".into(),
        b if b >= GI => (GI, "Gi"),
        b if b >= MI => (MI, "Mi"),
        b if b >= KI => (KI, "Ki"),
        _ => return bytes.to_string(),
    };
    format!("{}{}", two_decimals(bytes, unit.0), unit.1)
}

/// A ratio as a whole percentage: `63%`.
pub(crate) fn percent(ratio: f64) -> String {
    format!("{:.0}%", ratio * 100.0)
}

/// A character that would act instead of showing, as something that shows: C0 controls
/// and DEL as their Unicode control pictures (a newline reads `␊`, ESC `␛`), and C1
/// controls, line and paragraph separators and bidirectional overrides, which could
/// break a line or reorder what a reader sees, as U+FFFD.
pub fn visible(c: char) -> char {
    match c {
        '\0'..='\x1f' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\x7f' => '\u{2421}',
        '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            '\u{fffd}'
        }
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_have_up_to_two_decimals() {
        assert_eq!(cores(0), "0");
        assert_eq!(cores(2000), "2");
        assert_eq!(cores(1500), "1.5");
        assert_eq!(cores(250), "0.25");
        assert_eq!(cores(1005), "1.01", "half up");
        assert_eq!(cores(1004), "1");
        assert_eq!(cores(-1500), "-1.5");
        assert_eq!(cores_f64(12.5), "12.5");
    }

    #[test]
    fn memory_uses_the_largest_binary_unit_below_it() {
        assert_eq!(memory(0), "0");
        assert_eq!(memory(64 * GI), "64Gi");
        assert_eq!(memory(GI + GI / 2), "1.5Gi");
        assert_eq!(memory(512 * MI), "512Mi");
        assert_eq!(memory(100 * MI + MI / 3), "100.33Mi");
        assert_eq!(memory(3 * KI), "3Ki");
        assert_eq!(memory(512), "512");
    }

    #[test]
    fn ratios_are_whole_percentages() {
        assert_eq!(percent(0.6254), "63%");
        assert_eq!(percent(0.0), "0%");
    }
}
