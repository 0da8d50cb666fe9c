//! The values of cells: numbers, amounts, percentages, names.
//!
//! Each function takes a cell as written (already trimmed) and returns the value or a
//! message that names the cell and says what was expected. Amounts are converted
//! exactly, from the decimal digits, never through a float, so that `0.1` cores are
//! 100 millicores and not 100.00000000000001 rounded up to 101.

/// How a file writes its decimal numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decimals {
    /// `1.5` only.
    Point,
    /// `1.5` or `1,5`: a file delimited by `;` is an Excel export from a locale whose
    /// decimal separator is the comma, and its numbers have one.
    PointOrComma,
}

/// A number as written: its significant digits (`head` then `tail`) × 10^`exponent`.
/// It borrows from the cell: a large inventory has millions of numbers, and copying
/// each into strings was most of the time spent reading one.
#[derive(Debug)]
struct Decimal<'a> {
    negative: bool,
    /// The significant digits without the decimal point, in two parts: leading zeros
    /// and the fraction's trailing zeros removed.
    head: &'a str,
    tail: &'a str,
    exponent: i64,
    /// The number as written without its sign, for its magnitude.
    unsigned: &'a str,
}

impl Decimal<'_> {
    fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    fn is_zero(&self) -> bool {
        self.len() == 0
    }

    fn digits(&self) -> impl Iterator<Item = u8> + '_ {
        self.head.bytes().chain(self.tail.bytes())
    }

    /// The magnitude as a float, when finite. `str::parse::<f64>` takes the forms
    /// [`decimal`] accepts (`5.`, `.5`, `1E+12`), with a point for a comma.
    fn magnitude(&self) -> Option<f64> {
        let value = if self.unsigned.contains(',') {
            self.unsigned.replace(',', ".").parse::<f64>()
        } else {
            self.unsigned.parse::<f64>()
        };
        value.ok().filter(|v| v.is_finite())
    }
}

/// Reads `[+-]digits[.digits][e[+-]digits]`, the form spreadsheets export (`1E+12` for
/// large numbers). Anything else, `inf` and `NaN` included, is not a number.
fn decimal(cell: &str, decimals: Decimals) -> Option<Decimal<'_>> {
    let (negative, unsigned) = match cell.as_bytes().first()? {
        b'-' => (true, &cell[1..]),
        b'+' => (false, &cell[1..]),
        _ => (false, cell),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let separators: &[char] = match decimals {
        Decimals::Point => &['.'],
        Decimals::PointOrComma => &['.', ','],
    };
    let (whole, fraction) = match mantissa.find(separators) {
        Some(at) => (&mantissa[..at], &mantissa[at + 1..]),
        None => (mantissa, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !all_digits(digits) {
                return None;
            }
            // Beyond any amount either way; only the sign and a large size matter.
            let magnitude = digits.trim_start_matches('0');
            let value: i64 = if magnitude.len() > 6 {
                1_000_000
            } else {
                magnitude.parse().unwrap_or(0)
            };
            if e.starts_with('-') { -value } else { value }
        }
    };
    let fraction_trimmed = fraction.trim_end_matches('0');
    let whole_trimmed = whole.trim_start_matches('0');
    // Leading zeros run on into the fraction when the whole part is zero (`0.05`).
    let (head, tail) = if whole_trimmed.is_empty() {
        ("", fraction_trimmed.trim_start_matches('0'))
    } else {
        (whole_trimmed, fraction_trimmed)
    };
    let fraction_len = i64::try_from(fraction_trimmed.len()).ok()?;
    Some(Decimal {
        negative: negative && !(head.is_empty() && tail.is_empty()),
        head,
        tail,
        exponent: exponent.checked_sub(fraction_len)?,
        unsigned,
    })
}

/// `number` × `unit`, rounded up to a whole unit; `None` beyond `i64`.
fn scaled(number: &Decimal<'_>, unit: i64) -> Option<i64> {
    if number.is_zero() {
        return Some(0);
    }
    let length = i64::try_from(number.len()).ok()?;
    // At least 10^(length + exponent - 1) × unit: beyond i64 (< 10^19) from 20 digits
    // before the point on. Digits that far past the point count only as "not zero".
    if length.checked_add(number.exponent)? > 19 {
        return None;
    }
    // 28 digits times a unit up to 2^32 stay within i128.
    let kept = number.len().min(28);
    let dropped = i64::try_from(number.len() - kept).ok()?;
    let rest_nonzero = number.digits().skip(kept).any(|b| b != b'0');
    let numerator = number
        .digits()
        .take(kept)
        .fold(0i128, |n, b| n * 10 + i128::from(b - b'0'))
        .checked_mul(i128::from(unit))?;
    let exponent = number.exponent.checked_add(dropped)?;
    let value = if exponent >= 0 {
        numerator.checked_mul(10i128.checked_pow(u32::try_from(exponent).ok()?)?)?
    } else if exponent < -38 {
        // Smaller than a unit: a positive amount rounds up to one.
        1
    } else {
        let divisor = 10i128.pow(u32::try_from(-exponent).ok()?);
        numerator / divisor + i128::from(numerator % divisor != 0 || rest_nonzero)
    };
    i64::try_from(value).ok()
}

fn not_a_number(cell: &str, expected: &str) -> String {
    format!("{cell:?} is not a number; expected {expected}")
}

/// An amount > 0 in `unit`s of the result (1000 for cores in millicores, 2^30 for GiB
/// in bytes), which may have a fraction when `whole` is false.
pub(super) fn amount(
    cell: &str,
    decimals: Decimals,
    whole: bool,
    unit: i64,
    expected: &str,
) -> Result<i64, String> {
    let number = decimal(cell, decimals).ok_or_else(|| not_a_number(cell, expected))?;
    if whole && number.exponent < 0 {
        return Err(format!("{cell:?} is not a whole number; expected {expected}"));
    }
    if number.negative {
        return Err(format!("{cell:?} is negative; expected {expected}"));
    }
    if number.is_zero() {
        return Err(format!("{cell:?} is zero; expected {expected}"));
    }
    scaled(&number, unit).ok_or_else(|| format!("{cell:?} is too large; expected {expected}"))
}

/// A finite number ≥ 0 (a cost, a power draw).
pub(super) fn non_negative(cell: &str, decimals: Decimals, expected: &str) -> Result<f64, String> {
    let number = decimal(cell, decimals).ok_or_else(|| not_a_number(cell, expected))?;
    if number.negative {
        return Err(format!("{cell:?} is negative; expected {expected}"));
    }
    number
        .magnitude()
        .ok_or_else(|| format!("{cell:?} is too large; expected {expected}"))
}

/// A percentage from 0 to 100, with or without `%`, as a ratio from 0 to 1.
pub(super) fn percentage(cell: &str, decimals: Decimals) -> Result<f64, String> {
    const EXPECTED: &str = "a percentage from 0 to 100, such as 12.5 or 12.5%";
    let written = cell.strip_suffix('%').map_or(cell, str::trim_end);
    let number = decimal(written, decimals).ok_or_else(|| not_a_number(cell, EXPECTED))?;
    if number.negative {
        return Err(format!("{cell:?} is negative; expected {EXPECTED}"));
    }
    match number.magnitude() {
        Some(percent) if percent <= 100.0 => Ok(percent / 100.0),
        _ => Err(format!("{cell:?} is over 100; expected {EXPECTED}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: i64 = 1 << 30;

    fn cores(cell: &str) -> Result<i64, String> {
        amount(cell, Decimals::Point, false, 1000, "cores")
    }

    #[test]
    fn amounts_are_exact_and_round_up() {
        assert_eq!(cores("0.1"), Ok(100));
        assert_eq!(cores("0.3"), Ok(300));
        assert_eq!(cores("2"), Ok(2000));
        assert_eq!(cores("+2.50"), Ok(2500));
        assert_eq!(cores(".5"), Ok(500));
        assert_eq!(cores("0.0001"), Ok(1));
        assert_eq!(cores("1e-40"), Ok(1));
        assert_eq!(cores("1.5E+3"), Ok(1_500_000));
        assert_eq!(cores("000000000000000000000000000000000000000001"), Ok(1000));
        assert_eq!(cores("1.0000000000000000000000000000000000000001"), Ok(1001));
        assert_eq!(amount("1.5", Decimals::Point, false, GIB, "GiB"), Ok(3 << 29));
        assert_eq!(
            amount("1,5", Decimals::PointOrComma, false, GIB, "GiB"),
            Ok(3 << 29)
        );
    }

    #[test]
    fn amounts_beyond_i64_are_refused_not_wrapped() {
        assert_eq!(cores("9223372036854775.807"), Ok(i64::MAX));
        assert!(cores("9223372036854775.808").unwrap_err().contains("too large"));
        assert!(cores("1e300").unwrap_err().contains("too large"));
        assert!(cores("99999999999999999999999999999999999999999").is_err());
        assert!(amount("8589934592", Decimals::Point, false, GIB, "GiB").is_err());
    }

    #[test]
    fn what_is_not_an_amount_says_why() {
        assert_eq!(
            cores("abc"),
            Err("\"abc\" is not a number; expected cores".into())
        );
        for cell in [
            "", ".", "1.2.3", "1,5", "inf", "NaN", "1e", "1 000", "0x10", "--1",
        ] {
            assert!(cores(cell).unwrap_err().contains("not a number"), "{cell:?}");
        }
        assert_eq!(cores("-1"), Err("\"-1\" is negative; expected cores".into()));
        assert_eq!(cores("0.000"), Err("\"0.000\" is zero; expected cores".into()));
        assert_eq!(cores("-0"), Err("\"-0\" is zero; expected cores".into()));
        let whole = |c| amount(c, Decimals::Point, true, 1, "MiB");
        assert_eq!(whole("4096"), Ok(4096));
        assert!(whole("1.5").unwrap_err().contains("not a whole number"));
        assert!(whole("1.5e-1").unwrap_err().contains("not a whole number"));
        assert_eq!(whole("4096.0"), Ok(4096));
    }

    #[test]
    fn percentages_are_ratios_from_0_to_1() {
        assert_eq!(percentage("12.5", Decimals::Point), Ok(0.125));
        assert_eq!(percentage("12.5%", Decimals::Point), Ok(0.125));
        assert_eq!(percentage("12,5 %", Decimals::PointOrComma), Ok(0.125));
        assert_eq!(percentage("100", Decimals::Point), Ok(1.0));
        assert_eq!(percentage("0", Decimals::Point), Ok(0.0));
        assert!(
            percentage("100.01", Decimals::Point)
                .unwrap_err()
                .contains("over 100")
        );
        assert!(
            percentage("-1%", Decimals::Point)
                .unwrap_err()
                .contains("negative")
        );
        assert!(
            percentage("%", Decimals::Point)
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            percentage("1e400", Decimals::Point)
                .unwrap_err()
                .contains("over 100")
        );
        assert!(
            percentage("12.5%%", Decimals::Point)
                .unwrap_err()
                .contains("not a number")
        );
    }

    #[test]
    fn costs_are_finite_and_not_negative() {
        assert_eq!(non_negative("1200.50", Decimals::Point, "a cost"), Ok(1200.5));
        assert_eq!(non_negative("1E+3", Decimals::Point, "a cost"), Ok(1000.0));
        assert_eq!(non_negative("0", Decimals::Point, "a cost"), Ok(0.0));
        assert!(
            non_negative("-5", Decimals::Point, "a cost")
                .unwrap_err()
                .contains("negative")
        );
        assert!(
            non_negative("1e999", Decimals::Point, "a cost")
                .unwrap_err()
                .contains("too large")
        );
    }
}
