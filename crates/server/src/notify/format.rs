//! Numbers written for people, in mail and alert messages: money in its currency's
//! minor units, counts with separators, rates. The web UI formats its own with
//! `Intl`; these follow the same conventions (en-US grouping).

use pulseboard_connectors::MetricUnit;

/// `1234567` → `"1,234,567"`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount in minor units: `(123456, "USD")` → `"$1,234.56"`, `(1200, "JPY")` → `"¥1,200"`.
pub fn money(minor: i64, currency: &str) -> String {
    let code = currency.to_uppercase();
    let parsed = iso_currency::Currency::from_code(&code);
    let exponent = parsed.and_then(|c| c.exponent()).unwrap_or(2) as u32;
    let symbol = match code.as_str() {
        "USD" | "CAD" | "AUD" | "NZD" | "SGD" | "HKD" | "MXN" => "$".to_owned(),
        "EUR" => "€".to_owned(),
        "GBP" => "£".to_owned(),
        "JPY" | "CNY" => "¥".to_owned(),
        _ => format!("{code} "),
    };
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(exponent);
    let whole = grouped(abs / scale);
    if exponent == 0 {
        format!("{sign}{symbol}{whole}")
    } else {
        let fraction = abs % scale;
        format!(
            "{sign}{symbol}{whole}.{fraction:0width$}",
            width = exponent as usize
        )
    }
}

/// A metric value in its unit.
pub fn value(unit: MetricUnit, currency: Option<&str>, v: i64) -> String {
    match unit {
        MetricUnit::CurrencyMinor => money(v, currency.unwrap_or("USD")),
        MetricUnit::Count => {
            let sign = if v < 0 { "-" } else { "" };
            format!("{sign}{}", grouped(v.unsigned_abs()))
        }
        MetricUnit::Percent => format!("{v}%"),
        MetricUnit::BasisPoints => format!("{:.2}%", v as f64 / 100.0),
    }
}

/// A threshold typed in the metric's unit, which may carry a fraction for rates.
pub fn threshold(unit: MetricUnit, currency: Option<&str>, v: f64) -> String {
    match unit {
        MetricUnit::BasisPoints => format!("{:.2}%", v / 100.0),
        _ => value(unit, currency, v.round() as i64),
    }
}

/// A signed relative change: `12.345` → `"+12.3%"`.
pub fn change(pct: f64) -> String {
    format!("{pct:+.1}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_uses_the_currency_exponent_and_groups_thousands() {
        assert_eq!(money(123456, "usd"), "$1,234.56");
        assert_eq!(money(-5, "EUR"), "-€0.05");
        assert_eq!(money(1200, "JPY"), "¥1,200");
        assert_eq!(money(1234, "KWD"), "KWD 1.234");
        assert_eq!(money(100, "SEK"), "SEK 1.00");
    }

    #[test]
    fn units_read_as_people_expect() {
        assert_eq!(value(MetricUnit::Count, None, 1234567), "1,234,567");
        assert_eq!(value(MetricUnit::BasisPoints, None, 235), "2.35%");
        assert_eq!(value(MetricUnit::Percent, None, 12), "12%");
        assert_eq!(threshold(MetricUnit::BasisPoints, None, 250.0), "2.50%");
        assert_eq!(change(12.345), "+12.3%");
        assert_eq!(change(-3.0), "-3.0%");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// Every ISO 4217 currency, found by asking for every three-letter code.
    fn iso_currencies() -> Vec<(String, u32)> {
        let letters = b'A'..=b'Z';
        let mut found = Vec::new();
        for a in letters.clone() {
            for b in letters.clone() {
                for c in letters.clone() {
                    let code = String::from_utf8(vec![a, b, c]).unwrap();
                    if let Some(currency) = iso_currency::Currency::from_code(&code) {
                        found.push((code, currency.exponent().unwrap_or(2).into()));
                    }
                }
            }
        }
        found
    }

    /// Reads a formatted amount back into minor units: the sign, then the digits of
    /// the whole part (its commas every three digits from the right) and exactly
    /// `exponent` fraction digits.
    fn read_back(text: &str, exponent: u32) -> i128 {
        let negative = text.starts_with('-');
        let number: String = text.chars().skip_while(|c| !c.is_ascii_digit()).collect();
        let (whole, fraction) = match number.split_once('.') {
            Some((w, f)) => (w.to_owned(), f.to_owned()),
            None => (number.clone(), String::new()),
        };
        assert_eq!(fraction.len() as u32, exponent, "{text}");
        for (i, group) in whole.split(',').enumerate() {
            assert!(
                (i == 0 && (1..=3).contains(&group.len())) || group.len() == 3,
                "{text}: grouping"
            );
        }
        let digits = format!("{}{fraction}", whole.replace(',', ""));
        let value: i128 = digits.parse().unwrap();
        if negative {
            -value
        } else {
            value
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_amount_in_any_currency_reads_back_exactly(
            minor in prop_oneof![any::<i64>(), -10_000_000i64..10_000_000],
            pick in any::<prop::sample::Index>(),
        ) {
            let currencies = iso_currencies();
            let (code, exponent) = &currencies[pick.index(currencies.len())];
            let text = money(minor, code);
            prop_assert_eq!(read_back(&text, *exponent), i128::from(minor), "{}", text);
            // The lower-case code is the same currency.
            prop_assert_eq!(money(minor, &code.to_lowercase()), text);
        }

        #[test]
        fn unknown_or_odd_codes_never_panic(minor in any::<i64>(), code in "\\PC{0,8}") {
            let text = money(minor, &code);
            prop_assert!(!text.is_empty());
        }
    }

    #[test]
    fn every_iso_exponent_is_covered() {
        let currencies = iso_currencies();
        assert!(currencies.len() > 150, "{}", currencies.len());
        let exponents: std::collections::BTreeSet<u32> =
            currencies.iter().map(|(_, e)| *e).collect();
        // JPY 0, USD 2, BHD 3, CLF 4.
        assert!(exponents.is_superset(&[0, 2, 3, 4].into()), "{exponents:?}");
        for (code, exponent) in &currencies {
            for minor in [0, 1, -1, 999, 1_000, i64::MAX, i64::MIN] {
                let text = money(minor, code);
                assert_eq!(
                    read_back(&text, *exponent),
                    i128::from(minor),
                    "{code}: {text}"
                );
            }
        }
    }
}
