//! Calendar arithmetic on unix seconds (UTC), hand-written because the
//! generators need only civil dates, weekdays, month steps and ISO 8601.

pub(crate) const HOUR: i64 = 3600;
pub(crate) const DAY: i64 = 86_400;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month 1–12, day 1–31)` of a day number.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `(year, month, day)` of a timestamp.
pub(crate) fn date(unix: i64) -> (i64, u32, u32) {
    civil_from_days(unix.div_euclid(DAY))
}

/// 0 = Monday … 6 = Sunday.
pub(crate) fn weekday(unix: i64) -> u32 {
    // 1970-01-01 was a Thursday.
    (unix.div_euclid(DAY) + 3).rem_euclid(7) as u32
}

pub(crate) fn is_weekend(unix: i64) -> bool {
    weekday(unix) >= 5
}

pub(crate) fn hour_of_day(unix: i64) -> u32 {
    (unix.rem_euclid(DAY) / HOUR) as u32
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// `unix` moved by whole months, keeping the time of day and clamping the day
/// to the target month's length (Jan 31 + 1 month = Feb 28/29), which is how
/// Stripe computes billing periods from an anchor.
pub(crate) fn add_months(unix: i64, months: u32) -> i64 {
    let (year, month, day) = date(unix);
    let index = year * 12 + i64::from(month - 1) + i64::from(months);
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
    let day = day.min(days_in_month(year, month));
    days_from_civil(year, month, day) * DAY + unix.rem_euclid(DAY)
}

/// `2024-05-01T12:00:00Z`, the form both providers use.
pub(crate) fn format_iso(unix: i64) -> String {
    let (year, month, day) = date(unix);
    let secs = unix.rem_euclid(DAY);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DD`, optionally followed by `T` (or a space) and
/// `HH:MM[:SS[.fraction]]` and `Z` or `±HH[:]MM`; no zone means UTC (the
/// simulator treats shop-local dates as UTC). Fractions are truncated.
pub(crate) fn parse_iso(text: &str) -> Option<i64> {
    let text = text.trim();
    let bytes = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > i64::from(days_in_month(year, month as u32)) {
        return None;
    }
    let mut unix = days_from_civil(year, month as u32, day as u32) * DAY;
    let mut rest = &text[10..];
    if rest.is_empty() {
        return Some(unix);
    }
    rest = rest.strip_prefix(['T', 't', ' '])?;
    let hour: i64 = rest.get(0..2)?.parse().ok()?;
    if rest.as_bytes().get(2) != Some(&b':') {
        return None;
    }
    let minute: i64 = rest.get(3..5)?.parse().ok()?;
    rest = &rest[5..];
    let mut second = 0;
    if let Some(tail) = rest.strip_prefix(':') {
        second = tail.get(0..2)?.parse().ok()?;
        rest = &tail[2..];
        if let Some(tail) = rest.strip_prefix('.') {
            rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    unix += hour * HOUR + minute * 60 + second;
    match rest {
        "" | "Z" | "z" => Some(unix),
        zone => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let offset =
                digits[..2].parse::<i64>().ok()? * HOUR + digits[2..].parse::<i64>().ok()? * 60;
            Some(unix - sign * offset)
        }
    }
}

/// The day after US Thanksgiving (fourth Thursday of November), as a day number.
pub(crate) fn black_friday(year: i64) -> i64 {
    let first = days_from_civil(year, 11, 1);
    let first_weekday = (first + 3).rem_euclid(7);
    let first_thursday = first + (3 - first_weekday).rem_euclid(7);
    first_thursday + 21 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for days in [-800_000, -1, 0, 1, 10_957, 19_723, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
    }

    #[test]
    fn weekdays_and_months() {
        // 2024-01-01 was a Monday.
        let monday = days_from_civil(2024, 1, 1) * DAY;
        assert_eq!(weekday(monday), 0);
        assert_eq!(weekday(monday + 5 * DAY + 100), 5);
        assert!(is_weekend(monday + 6 * DAY));
        let jan31 = days_from_civil(2024, 1, 31) * DAY + 3723;
        assert_eq!(date(add_months(jan31, 1)), (2024, 2, 29));
        assert_eq!(date(add_months(jan31, 2)), (2024, 3, 31));
        assert_eq!(date(add_months(jan31, 13)), (2025, 2, 28));
        assert_eq!(add_months(jan31, 12).rem_euclid(DAY), 3723);
    }

    #[test]
    fn iso_formats_and_parses() {
        let t = days_from_civil(2024, 5, 1) * DAY + 12 * HOUR + 34 * 60 + 56;
        assert_eq!(format_iso(t), "2024-05-01T12:34:56Z");
        assert_eq!(parse_iso("2024-05-01T12:34:56Z"), Some(t));
        assert_eq!(parse_iso("2024-05-01T12:34:56.789Z"), Some(t));
        assert_eq!(parse_iso("2024-05-01 14:34:56+02:00"), Some(t));
        assert_eq!(parse_iso("2024-05-01T07:34:56-0500"), Some(t));
        assert_eq!(parse_iso("2024-05-01T12:34"), Some(t - 56));
        assert_eq!(parse_iso("2024-05-01"), Some(t - 12 * HOUR - 34 * 60 - 56));
        assert_eq!(parse_iso("2024-02-30"), None);
        assert_eq!(parse_iso("yesterday"), None);
        assert_eq!(parse_iso("2024-05-01T12:34:56X"), None);
    }

    #[test]
    fn black_friday_dates() {
        assert_eq!(civil_from_days(black_friday(2024)), (2024, 11, 29));
        assert_eq!(civil_from_days(black_friday(2025)), (2025, 11, 28));
    }
}
