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
    #[error("{0:?} has more significant digits than an amount can hold exactly")]
    Precision(String),
}

/// Parses `s` and returns its value × `scale`, rounded up (so `1m` of memory is 1 byte,
/// as the API server rounds requests up).
///
/// Accepts exactly what the CRD schemas' `QUANTITY_PATTERN` accepts (the Kubernetes
/// quantity grammar without a minus sign, with a whole exponent as the API server
/// parses it): no surrounding whitespace, so that `plan` never takes what
/// `kubectl apply` refuses.
fn parse_scaled(s: &str, scale: i128) -> Result<i64, QuantityError> {
    let syntax = || QuantityError::Syntax(s.to_owned());
    let overflow = || QuantityError::Overflow(s.to_owned());
    if s.starts_with('-') {
        return Err(QuantityError::Negative(s.to_owned()));
    }
    let t = s.strip_prefix('+').unwrap_or(s);
    let num_end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, suffix) = t.split_at(num_end);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
        return Err(syntax());
    }
    // (multiplier numerator, power of ten) for the suffix.
    let (binary, exp10): (i128, i64) = match suffix {
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
        e if e.starts_with(['e', 'E']) => (1, exponent(&e[1..]).ok_or_else(syntax)?),
        _ => return Err(syntax()),
    };
    // Leading zeros of the whole part and trailing zeros of the fraction change nothing.
    let int_part = int_part.trim_start_matches('0');
    let frac_part = frac_part.trim_end_matches('0');
    let digits = format!("{int_part}{frac_part}");
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Ok(0);
    }
    let exp = exp10.saturating_sub(frac_part.len() as i64);
    // A whole number of more than 19 digits is beyond i64 whatever it is multiplied by.
    if (significant.len() as i64).saturating_add(exp) > 40 {
        return Err(overflow());
    }
    // Below one unit, the exact value needs the digits × suffix product in an i128;
    // one that does not fit there has more precision than an amount can hold.
    let too_precise = || {
        if exp >= 0 {
            overflow()
        } else {
            QuantityError::Precision(s.to_owned())
        }
    };
    let numerator = significant
        .parse::<i128>()
        .ok()
        .and_then(|d| d.checked_mul(binary))
        .and_then(|v| v.checked_mul(scale))
        .ok_or_else(too_precise)?;
    let value = if exp >= 0 {
        10i128
            .checked_pow(exp as u32)
            .and_then(|p| numerator.checked_mul(p))
            .ok_or_else(overflow)?
    } else if exp < -38 {
        // Smaller than the smallest unit: a positive amount rounds up to that unit.
        1
    } else {
        let div = 10i128.pow((-exp) as u32);
        numerator / div + i128::from(numerator % div != 0)
    };
    i64::try_from(value).map_err(|_| overflow())
}

/// A decimal exponent as the API server reads one: an optional sign and digits, nothing
/// else. A huge exponent is kept as a huge number (the value then overflows or rounds).
fn exponent(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits.trim_start_matches('0');
    let value = if magnitude.len() > 6 {
        1_000_000
    } else {
        magnitude.parse().unwrap_or(0)
    };
    Some(if negative { -value } else { value })
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

    /// Both dimensions × `n`, or `None` when either cannot be represented.
    pub fn checked_times(self, n: i64) -> Option<Self> {
        Some(Self::new(
            self.cpu_millis.checked_mul(n)?,
            self.memory_bytes.checked_mul(n)?,
        ))
    }

    pub fn checked_add(self, o: Res) -> Option<Self> {
        Some(Self::new(
            self.cpu_millis.checked_add(o.cpu_millis)?,
            self.memory_bytes.checked_add(o.memory_bytes)?,
        ))
    }

    pub fn checked_sub(self, o: Res) -> Option<Self> {
        Some(Self::new(
            self.cpu_millis.checked_sub(o.cpu_millis)?,
            self.memory_bytes.checked_sub(o.memory_bytes)?,
        ))
    }

    /// Divides rounding up, so that shares of an instance never sum below the instance;
    /// `None` for a divisor below 1.
    pub fn checked_div_ceil(self, n: i64) -> Option<Self> {
        let ceil = |v: i64| {
            let q = v.checked_div_euclid(n)?;
            q.checked_add(i64::from(v.checked_rem_euclid(n)? != 0))
        };
        if n < 1 {
            return None;
        }
        Some(Self::new(ceil(self.cpu_millis)?, ceil(self.memory_bytes)?))
    }

    /// Each dimension × a factor, rounded down (an effective capacity never exceeds its
    /// factor); `None` when a factor is not finite or a product is beyond i64.
    pub fn checked_scale_down(self, cpu: f64, memory: f64) -> Option<Self> {
        Some(Self::new(
            scaled(self.cpu_millis, cpu, f64::floor)?,
            scaled(self.memory_bytes, memory, f64::floor)?,
        ))
    }

    /// Each dimension × a factor, rounded up (limits from requests × a limit ratio).
    pub fn checked_scale_up(self, cpu: f64, memory: f64) -> Option<Self> {
        Some(Self::new(
            scaled(self.cpu_millis, cpu, f64::ceil)?,
            scaled(self.memory_bytes, memory, f64::ceil)?,
        ))
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

/// `v × factor` rounded by `round`, when it is an i64. `i64::MAX as f64` is 2^63, one
/// past the largest i64, so the bound is exclusive.
fn scaled(v: i64, factor: f64, round: fn(f64) -> f64) -> Option<i64> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    let x = round(v as f64 * factor);
    (x.is_finite() && (-LIMIT..LIMIT).contains(&x)).then_some(x as i64)
}

/// A sum of any number of amounts, exact: i128 holds 2^64 amounts of i64::MAX each.
/// For totals over the whole estate (a footprint, a ratio), which no single amount bounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Total {
    pub cpu_millis: i128,
    pub memory_bytes: i128,
}

impl Total {
    pub fn add(&mut self, r: Res) {
        self.cpu_millis += i128::from(r.cpu_millis);
        self.memory_bytes += i128::from(r.memory_bytes);
    }

    pub fn add_total(&mut self, t: Total) {
        self.cpu_millis += t.cpu_millis;
        self.memory_bytes += t.memory_bytes;
    }

    /// Adds `r × n` (whole instances of an offering).
    pub fn add_times(&mut self, r: Res, n: u32) {
        self.cpu_millis += i128::from(r.cpu_millis) * i128::from(n);
        self.memory_bytes += i128::from(r.memory_bytes) * i128::from(n);
    }

    /// The total as an amount, when it is one.
    pub fn res(self) -> Option<Res> {
        Some(Res::new(
            i64::try_from(self.cpu_millis).ok()?,
            i64::try_from(self.memory_bytes).ok()?,
        ))
    }
}

impl From<Res> for Total {
    fn from(r: Res) -> Self {
        Self {
            cpu_millis: r.cpu_millis.into(),
            memory_bytes: r.memory_bytes.into(),
        }
    }
}

/// For fixed sums in tests only: it panics past i64. Every amount derived from input is
/// added with `checked_add` (a charge, a quota, a pool's room) or summed in a `Total`.
impl std::ops::AddAssign for Res {
    fn add_assign(&mut self, o: Res) {
        *self = self
            .checked_add(o)
            .expect("a sum beyond i64: amounts from input use checked_add");
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

    /// Exactly what the CRD schemas' `QUANTITY_PATTERN` (`^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)
    /// ([eE][-+]?[0-9]+|[numkMGTPE]|[KMGTPE]i)?$`) accepts: what the API server takes.
    #[test]
    fn the_grammar_is_the_crd_patterns() {
        for (s, millis) in [
            ("1", 1000),
            ("+1", 1000),
            ("1.", 1000),
            (".5", 500),
            ("0.5", 500),
            ("1e3", 1_000_000),
            ("1E3", 1_000_000),
            ("1e+3", 1_000_000),
            ("1500e-3", 1500),
            ("1k", 1_000_000),
            ("1Ki", 1_024_000),
            ("001.500", 1500),
            ("0", 0),
            ("0.0", 0),
            ("1e-40", 1),
            ("1e-9999999999", 1),
            ("0e9999999999", 0),
        ] {
            assert_eq!(parse_cpu(s), Ok(millis), "{s:?}");
        }
        assert_eq!(parse_memory("1E"), Ok(1_000_000_000_000_000_000), "E is exa");
        for s in [
            " 1", "1 ", " 1 ", "100Ki ", "\t1", "1\n", "", "+", ".", "1..2", "1.2.3", "1e", "1e+", "1e1.5",
            "1K", "1ki", "1Gb", "1 Gi", "++1", "+-1", "1e 3", "0x10", "１",
        ] {
            assert_eq!(parse_cpu(s), Err(QuantityError::Syntax(s.into())), "{s:?}");
        }
        assert_eq!(parse_cpu("-1"), Err(QuantityError::Negative("-1".into())));
        assert_eq!(
            parse_cpu("1e9999999999"),
            Err(QuantityError::Overflow("1e9999999999".into()))
        );
        assert_eq!(parse_memory("8Ei"), Err(QuantityError::Overflow("8Ei".into())));
        assert_eq!(parse_memory("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(
            parse_memory("9223372036854775808"),
            Err(QuantityError::Overflow("9223372036854775808".into()))
        );
        assert_eq!(
            parse_memory("7.999999999999999999Ei"),
            Ok(9_223_372_036_854_775_807)
        );
        let precise = "0.12345678901234567890123Ei";
        assert_eq!(
            parse_memory(precise),
            Err(QuantityError::Precision(precise.into()))
        );
    }

    #[test]
    fn checked_arithmetic_refuses_what_i64_cannot_hold() {
        let max = Res::new(i64::MAX, i64::MAX);
        let one = Res::new(1, 1);
        assert_eq!(max.checked_add(one), None);
        assert_eq!(
            Res::ZERO
                .checked_sub(max)
                .and_then(|r| r.checked_sub(Res::new(2, 2))),
            None
        );
        assert_eq!(Res::new(1, 1 << 60).checked_times(8), None);
        assert_eq!(Res::new(1, 1 << 60).checked_times(7), Some(Res::new(7, 7 << 60)));
        assert_eq!(max.checked_div_ceil(2), Some(Res::new(1 << 62, 1 << 62)));
        assert_eq!(one.checked_div_ceil(0), None);
        assert_eq!(Res::new(1, 1 << 62).checked_scale_down(1.0, 2.0), None);
        assert_eq!(Res::new(3, 3).checked_scale_up(1.5, f64::NAN), None);
        assert_eq!(Res::new(3, 3).checked_scale_up(1.5, 1.0), Some(Res::new(5, 3)));
        let mut total = Total::default();
        total.add(max);
        total.add(max);
        assert_eq!(total.res(), None);
        assert_eq!(Total::from(one).res(), Some(one));
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
        let share = whole.checked_div_ceil(3).unwrap();
        let back = share.checked_times(3).unwrap();
        assert!(back.cpu_millis >= whole.cpu_millis);
        assert!(back.memory_bytes >= whole.memory_bytes);
    }
}
