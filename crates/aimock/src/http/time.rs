//! Times as the APIs write them: Unix seconds, and RFC 3339 in UTC with the number of fraction
//! digits each API uses (none for Anthropic's rate-limit resets, milliseconds for recordings,
//! microseconds for Vertex, nanoseconds for Ollama).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time since the Unix epoch (zero if the clock is before it).
pub(crate) fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Unix time in seconds.
pub(crate) fn unix_now() -> i64 {
    since_epoch().as_secs() as i64
}

/// Days since 1970-01-01 as (year, month, day), proleptic Gregorian (Howard Hinnant's
/// days-to-civil algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SS[.f...]Z`, with `digits` (0, 3, 6 or 9)
/// fraction digits taken from `nanos`.
pub(crate) fn rfc3339(secs: i64, nanos: u32, digits: u8) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let (h, mi, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let mut out = format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    match digits {
        0 => {}
        3 => out.push_str(&format!(".{:03}", nanos / 1_000_000)),
        6 => out.push_str(&format!(".{:06}", nanos / 1_000)),
        _ => out.push_str(&format!(".{nanos:09}")),
    }
    out.push('Z');
    out
}

/// Now, as [`rfc3339`] with `digits` fraction digits.
pub(crate) fn rfc3339_now(digits: u8) -> String {
    let now = since_epoch();
    rfc3339(now.as_secs() as i64, now.subsec_nanos(), digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_in_utc() {
        assert_eq!(rfc3339(0, 0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000, 0, 0), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400, 0, 0), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1, 0, 0), "1969-12-31T23:59:59Z");
        assert_eq!(
            rfc3339(1_700_000_000, 123_456_789, 3),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            rfc3339(1_700_000_000, 123_456_789, 6),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(
            rfc3339(1_700_000_000, 123_456_789, 9),
            "2023-11-14T22:13:20.123456789Z"
        );
    }
}
