//! Money in minor units and the decimal strings Shopify sends, so a test can
//! compare `"12.34"` with the ledger's `1234` exactly.

/// ISO 4217 minor-unit exponent: 0 for zero-decimal currencies (JPY, KRW, …),
/// 3 for the dinar family, 2 for everything else.
pub fn currency_exponent(currency: &str) -> u32 {
    match currency.to_ascii_uppercase().as_str() {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// Minor units as a decimal string in major units, always with the currency's
/// number of decimals: `1234` USD → `"12.34"`, `-5` → `"-0.05"`, `1200` JPY → `"1200"`.
pub fn format_decimal(minor: i64, currency: &str) -> String {
    let exponent = currency_exponent(currency);
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(exponent);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        abs / scale as u64,
        abs % scale as u64,
        width = exponent as usize
    )
}

/// The inverse of [`format_decimal`]; also accepts fewer decimals (`"25.0"`).
/// `None` for more decimals than the currency has, or for anything not a number.
pub fn parse_decimal(text: &str, currency: &str) -> Option<i64> {
    let exponent = currency_exponent(currency) as usize;
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || fraction.len() > exponent
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let padded = format!("{fraction:0<exponent$}");
    let value = whole.parse::<i64>().ok()? * 10i64.pow(exponent as u32)
        + if padded.is_empty() {
            0
        } else {
            padded.parse::<i64>().ok()?
        };
    Some(if negative { -value } else { value })
}

/// Converts a US-cent amount from the generators' price lists into a plausible
/// amount in `currency`'s minor units (a rough exchange rate for zero- and
/// three-decimal currencies; 1:1 otherwise, which keeps prices round).
pub(crate) fn scale(us_cents: i64, currency: &str) -> i64 {
    match currency_exponent(currency) {
        0 => (us_cents * 3 / 2 / 10).max(1) * 10,
        3 => us_cents * 10 / 3,
        _ => us_cents,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_currency_exponent() {
        assert_eq!(format_decimal(1234, "USD"), "12.34");
        assert_eq!(format_decimal(5, "eur"), "0.05");
        assert_eq!(format_decimal(-5, "USD"), "-0.05");
        assert_eq!(format_decimal(2500, "USD"), "25.00");
        assert_eq!(format_decimal(1200, "JPY"), "1200");
        assert_eq!(format_decimal(1234, "KWD"), "1.234");
        assert_eq!(parse_decimal("12.34", "USD"), Some(1234));
        assert_eq!(parse_decimal("25.0", "USD"), Some(2500));
        assert_eq!(parse_decimal("-0.05", "USD"), Some(-5));
        assert_eq!(parse_decimal("1200", "JPY"), Some(1200));
        assert_eq!(parse_decimal("12.345", "USD"), None);
        assert_eq!(parse_decimal("1.5", "JPY"), None);
        assert_eq!(parse_decimal("abc", "USD"), None);
        for minor in [0, 1, 99, 100, 123_456_789] {
            assert_eq!(
                parse_decimal(&format_decimal(minor, "USD"), "USD"),
                Some(minor)
            );
        }
    }
}
