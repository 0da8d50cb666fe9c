//! Money as the plan table prints it; the other amounts are `crate::units`, shared with
//! the report.

/// Two decimals and no thousands separators, as the plan's JSON has the figure
/// (`3709.86`), so that the table and the JSON can be compared by eye or by diff; the
/// report, read rather than diffed, groups thousands (`report::text::money`).
pub(super) fn money(amount: f64) -> String {
    format!("{amount:.2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_has_two_decimals_and_no_separators() {
        assert_eq!(money(1234.5), "1234.50");
        assert_eq!(money(0.0), "0.00");
    }
}
