//! Kubernetes quantity strings as exact integers: CPU in millicores, memory in bytes.
//!
//! The planner compares and sums thousands of amounts; integers keep that exact and
//! deterministic, where floats would make the order of summation visible in the output.

use std::fmt;

/// Why a quantity string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("{0:?} is not a Kubernetes quantity (e.g. 500m, 2, 1.5Gi)")]
    Syntax(String),
    #[error("{0:?} is negative")]
    Negative(String),
    #[error("{0:?} is too large")]
    Overflow(String),
}

/// Parses `s` and returns its value × `scale`, rounded up (so `1m` of memory is 1 byte,
/// as the API server rounds requests up).
fn parse_scaled(s: &str, scale: i128) -> Result<i64, QuantityError> {
    let syntax = || QuantityError::Syntax(s.to_owned());
    let t = s.trim();
    if t.starts_with('-') {
        return Err(QuantityError::Negative(s.to_owned()));
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let num_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(num_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(syntax());
    }
    // (multiplier numerator, power of ten) for the suffix.
    let (binary, exp10): (i128, i32) = match suffix {
        "" => (1, 0),
        "n" => (1, -9),
        "u" => (1, -6),
        "m" => (1, -3),
        "k" => (1, 3),
        "M" => (1, 6),
        "G" => (1, 9),
        "T" => (1, 12),
        "P" => (1, 15),
        "E" => (1, 18),
        "Ki" => (1 << 10, 0),
        "Mi" => (1 << 20, 0),
        "Gi" => (1 << 30, 0),
        "Ti" => (1 << 40, 0),
        "Pi" => (1 << 50, 0),
        "Ei" => (1 << 60, 0),
        e if e.starts_with(['e', 'E']) => {
            let exp: i32 = e[1..].parse().map_err(|_| syntax())?;
            if !(-30..=30).contains(&exp) {
                return Err(QuantityError::Overflow(s.to_owned()));
            }
            (1, exp)
        }
        _ => return Err(syntax()),
    };
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.len() + frac_part.len() > 30 {
        return Err(QuantityError::Overflow(s.to_owned()));
    }
    let digits: i128 = format!("{int_part}{frac_part}").parse().map_err(|_| syntax())?;
    let exp = exp10 - frac_part.len() as i32;
    let overflow = || QuantityError::Overflow(s.to_owned());
    let numerator = digits
        .checked_mul(binary)
        .and_then(|v| v.checked_mul(scale))
        .ok_or_else(overflow)?;
    let value = if exp >= 0 {
        numerator
            .checked_mul(10i128.checked_pow(exp as u32).ok_or_else(overflow)?)
            .ok_or_else(overflow)?
    } else {
        let div = 10i128.checked_pow((-exp) as u32).ok_or_else(overflow)?;
        (numerator + div - 1) / div
    };
    i64::try_from(value).map_err(|_| overflow())
}

/// CPU quantity in millicores.
pub fn parse_cpu(s: &str) -> Result<i64, QuantityError> {
    parse_scaled(s, 1000)
}

/// Memory quantity in bytes.
pub fn parse_memory(s: &str) -> Result<i64, QuantityError> {
    parse_scaled(s, 1)
}

/// An exact CPU + memory amount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Res {
    pub cpu_millis: i64,
    pub memory_bytes: i64,
}

impl Res {
    pub const ZERO: Res = Res {
        cpu_millis: 0,
        memory_bytes: 0,
    };

    pub fn new(cpu_millis: i64, memory_bytes: i64) -> Self {
        Self {
            cpu_millis,
            memory_bytes,
        }
    }

    pub fn times(self, n: i64) -> Self {
        Self::new(
            self.cpu_millis.saturating_mul(n),
            self.memory_bytes.saturating_mul(n),
        )
    }

    /// Divides rounding up, so that shares of an instance never sum below the instance.
    pub fn div_ceil(self, n: i64) -> Self {
        let n = n.max(1);
        Self::new(
            (self.cpu_millis + n - 1).div_euclid(n),
            (self.memory_bytes + n - 1).div_euclid(n),
        )
    }

    /// Each dimension scaled by a factor, rounded down (an effective capacity never exceeds its factor).
    pub fn scale(self, cpu: f64, memory: f64) -> Self {
        Self::new(
            (self.cpu_millis as f64 * cpu).floor() as i64,
            (self.memory_bytes as f64 * memory).floor() as i64,
        )
    }

    pub fn fits_within(self, limit: Res) -> bool {
        self.cpu_millis <= limit.cpu_millis && self.memory_bytes <= limit.memory_bytes
    }

    pub fn cores(self) -> f64 {
        self.cpu_millis as f64 / 1000.0
    }

    pub fn gib(self) -> f64 {
        self.memory_bytes as f64 / (1u64 << 30) as f64
    }

    /// Canonical quantity strings (`1500m`, `2Gi`), as written into status and manifests.
    pub fn cpu_quantity(self) -> String {
        format_cpu(self.cpu_millis)
    }

    pub fn memory_quantity(self) -> String {
        format_memory(self.memory_bytes)
    }
}

impl std::ops::Add for Res {
    type Output = Res;
    fn add(self, o: Res) -> Res {
        Res::new(
            self.cpu_millis.saturating_add(o.cpu_millis),
            self.memory_bytes.saturating_add(o.memory_bytes),
        )
    }
}

impl std::ops::AddAssign for Res {
    fn add_assign(&mut self, o: Res) {
        *self = *self + o;
    }
}

impl std::ops::Sub for Res {
    type Output = Res;
    fn sub(self, o: Res) -> Res {
        Res::new(self.cpu_millis - o.cpu_millis, self.memory_bytes - o.memory_bytes)
    }
}

impl std::ops::SubAssign for Res {
    fn sub_assign(&mut self, o: Res) {
        *self = *self - o;
    }
}

impl fmt::Display for Res {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cpu {}, memory {}",
            self.cpu_quantity(),
            self.memory_quantity()
        )
    }
}

pub fn format_cpu(millis: i64) -> String {
    if millis % 1000 == 0 {
        format!("{}", millis / 1000)
    } else {
        format!("{millis}m")
    }
}

pub fn format_memory(bytes: i64) -> String {
    for (suffix, shift) in [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ] {
        let unit = 1i64 << shift;
        if bytes != 0 && bytes % unit == 0 {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

/// CPU as the API server writes a Quantity of a built-in kind back (its canonical form):
/// whole cores in decimal SI ("2", "100k"), else millicores ("1500m"). Rendered objects
/// use it: a string the live object never holds would be re-applied on every pass.
pub fn canonical_cpu(millis: i64) -> String {
    if millis % 1000 == 0 {
        decimal_si(millis / 1000)
    } else {
        format!("{millis}m")
    }
}

/// Memory as the API server writes it back: the largest binary suffix that keeps the
/// number whole ("1536Mi"), else decimal SI ("129M", "1500").
pub fn canonical_memory(bytes: i64) -> String {
    let binary = format_memory(bytes);
    if binary.ends_with('i') {
        binary
    } else {
        decimal_si(bytes)
    }
}

/// A whole number as the API server writes it back: trailing thousands become a
/// decimal SI suffix (1000 -> "1k", 1500 -> "1500").
pub fn decimal_si(n: i64) -> String {
    const SUFFIXES: [&str; 7] = ["", "k", "M", "G", "T", "P", "E"];
    let (mut n, mut i) = (n, 0);
    while n != 0 && n % 1000 == 0 && i + 1 < SUFFIXES.len() {
        n /= 1000;
        i += 1;
    }
    format!("{n}{}", SUFFIXES[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_forms() {
        assert_eq!(parse_cpu("500m"), Ok(500));
        assert_eq!(parse_cpu("2"), Ok(2000));
        assert_eq!(parse_cpu("1.5"), Ok(1500));
        assert_eq!(parse_cpu("0.1"), Ok(100));
        assert_eq!(parse_cpu("1e3"), Ok(1_000_000));
        assert_eq!(parse_cpu("250000u"), Ok(250));
        assert_eq!(parse_cpu("1n"), Ok(1), "rounded up like the API server");
    }

    #[test]
    fn memory_forms() {
        assert_eq!(parse_memory("2Gi"), Ok(2 << 30));
        assert_eq!(parse_memory("512Mi"), Ok(512 << 20));
        assert_eq!(parse_memory("1G"), Ok(1_000_000_000));
        assert_eq!(parse_memory("1.5Gi"), Ok(3 << 29));
        assert_eq!(parse_memory("128974848"), Ok(128_974_848));
        assert_eq!(parse_memory("129e6"), Ok(129_000_000));
    }

    #[test]
    fn refusals_name_the_input() {
        assert_eq!(parse_cpu("two"), Err(QuantityError::Syntax("two".into())));
        assert_eq!(parse_memory("2GB"), Err(QuantityError::Syntax("2GB".into())));
        assert_eq!(parse_memory("-1Gi"), Err(QuantityError::Negative("-1Gi".into())));
        assert_eq!(parse_memory(""), Err(QuantityError::Syntax("".into())));
        assert_eq!(parse_memory("9Ei"), Err(QuantityError::Overflow("9Ei".into())));
        assert!(parse_cpu("1.2.3").is_err());
        assert!(parse_cpu(".").is_err());
    }

    #[test]
    fn canonical_formatting_round_trips() {
        for (s, cpu) in [("1500m", 1500), ("2", 2000), ("0", 0)] {
            assert_eq!(format_cpu(cpu), s);
            assert_eq!(parse_cpu(s), Ok(cpu));
        }
        for (s, mem) in [("2Gi", 2i64 << 30), ("1536Mi", 1536 << 20), ("1000", 1000)] {
            assert_eq!(format_memory(mem), s);
            assert_eq!(parse_memory(s), Ok(mem));
        }
    }

    /// What kube-apiserver v1.35 returned for these values written as plain numbers (or
    /// with the suffix shown).
    #[test]
    fn canonical_forms_are_the_api_servers() {
        for (cores, s) in [
            (100_000, "100k"),
            (1000, "1k"),
            (1500, "1500"),
            (2_000_000, "2M"),
            (12, "12"),
        ] {
            assert_eq!(canonical_cpu(cores * 1000), s);
            assert_eq!(parse_cpu(s), Ok(cores * 1000));
        }
        assert_eq!(canonical_cpu(1500), "1500m");
        for (mem, s) in [
            (129_000_000, "129M"),
            (1_000_000_000, "1G"),
            (1_500_000, "1500k"),
            (1000, "1k"),
            (1536, "1536"),
            (1025, "1025"),
            (512, "512"),
            (0, "0"),
            (2_147_483_648, "2Gi"),
            (1_048_576_000, "1000Mi"),
        ] {
            assert_eq!(canonical_memory(mem), s);
            assert_eq!(parse_memory(s), Ok(mem));
        }
        for (n, s) in [(1_000_000, "1M"), (120_000, "120k"), (0, "0"), (1024, "1024")] {
            assert_eq!(decimal_si(n), s);
        }
    }

    #[test]
    fn shares_never_sum_below_the_whole() {
        let whole = Res::new(1000, 1 << 30);
        let share = whole.div_ceil(3);
        assert!(share.times(3).cpu_millis >= whole.cpu_millis);
        assert!(share.times(3).memory_bytes >= whole.memory_bytes);
    }
}
